#include "r2e/task.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace r2e {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
namespace fs = std::filesystem;

TaskParseOptions WithSource(std::string source) {
  TaskParseOptions options;
  options.source = std::move(source);
  return options;
}

json SweBenchRow() {
  return json{
      {"instance_id", "astropy__astropy-12907"},
      {"repo", "astropy/astropy"},
      {"base_commit", "d16bfe05a744909de4b27f5875fe0d4ed41ce607"},
      {"version", "4.3"},
      {"patch", "diff --git a/x b/x\n"},
      {"test_patch", "diff --git a/t b/t\n"},
      {"problem_statement", "Modeling's separability_matrix is wrong"},
      {"FAIL_TO_PASS", json::array({"test_a", "test_b"})},
      {"PASS_TO_PASS", json::array({"test_c"})},
      {"docker_image", "swebench/sweb.eval.x86_64.astropy_1776_astropy-12907:latest"},
      {"log_parser", "pytest"},
  };
}

json R2eRow() {
  return json{
      {"instance_id", "r2e-1"},
      {"repo_name", "pallets/flask"},
      {"docker_image", "namanjain12/flask_final:abc123"},
      {"problem_statement", "[ISSUE]\nFix it\n[/ISSUE]"},
      {"expected_output_json", R"({"test_x": "PASSED"})"},
  };
}

// A fresh directory per test so parallel or repeated runs do not collide.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("r2e_task_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
            "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path Write(const std::string& name, const std::string& content) {
    fs::path path = dir_ / name;
    std::ofstream out(path, std::ios::binary);
    out << content;
    return path;
  }

  fs::path dir_;
};

// --- kinds ---

TEST(TaskKindTest, Names) {
  EXPECT_EQ(TaskKindName(TaskKind::kSweBench), "swebench");
  EXPECT_EQ(TaskKindName(TaskKind::kSweSmith), "swesmith");
  EXPECT_EQ(TaskKindName(TaskKind::kR2E), "r2e");
}

TEST(TaskKindTest, ParsesAliasesCaseInsensitively) {
  for (const char* name : {"swebench", "SWE-bench", "swe_bench"}) {
    Result<TaskKind> kind = ParseTaskKind(name);
    ASSERT_TRUE(kind.ok()) << name;
    EXPECT_EQ(*kind, TaskKind::kSweBench) << name;
  }
  for (const char* name : {"swesmith", "SWE-Smith", "swe_smith"}) {
    Result<TaskKind> kind = ParseTaskKind(name);
    ASSERT_TRUE(kind.ok()) << name;
    EXPECT_EQ(*kind, TaskKind::kSweSmith) << name;
  }
  for (const char* name : {"r2e", "R2E-Gym", "r2egym"}) {
    Result<TaskKind> kind = ParseTaskKind(name);
    ASSERT_TRUE(kind.ok()) << name;
    EXPECT_EQ(*kind, TaskKind::kR2E) << name;
  }
}

TEST(TaskKindTest, RoundTripsNames) {
  for (TaskKind kind : {TaskKind::kSweBench, TaskKind::kSweSmith, TaskKind::kR2E}) {
    Result<TaskKind> parsed = ParseTaskKind(TaskKindName(kind));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
}

TEST(TaskKindTest, UnknownNameListsValidOnes) {
  Result<TaskKind> kind = ParseTaskKind("swe-gym");
  ASSERT_FALSE(kind.ok());
  EXPECT_EQ(kind.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(kind.status().message(), HasSubstr("swe-gym"));
  EXPECT_THAT(kind.status().message(), HasSubstr("swebench"));
  EXPECT_THAT(kind.status().message(), HasSubstr("swesmith"));
  EXPECT_THAT(kind.status().message(), HasSubstr("r2e"));
}

// --- good rows ---

TEST(TaskParseTest, SweBenchRow) {
  Result<Task> task = ParseTask(SweBenchRow());
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->instance_id, "astropy__astropy-12907");
  EXPECT_EQ(task->kind, TaskKind::kSweBench);
  EXPECT_EQ(task->image, "swebench/sweb.eval.x86_64.astropy_1776_astropy-12907:latest");
  EXPECT_EQ(task->repo, "astropy/astropy");
  EXPECT_EQ(task->base_commit, "d16bfe05a744909de4b27f5875fe0d4ed41ce607");
  EXPECT_EQ(task->version, "4.3");
  EXPECT_EQ(task->patch, "diff --git a/x b/x\n");
  EXPECT_EQ(task->test_patch, "diff --git a/t b/t\n");
  EXPECT_EQ(task->problem_statement, "Modeling's separability_matrix is wrong");
  EXPECT_THAT(task->fail_to_pass, ElementsAre("test_a", "test_b"));
  EXPECT_THAT(task->pass_to_pass, ElementsAre("test_c"));
  EXPECT_EQ(task->log_parser, "pytest");
  EXPECT_EQ(task->expected_output_json, "");
  EXPECT_TRUE(task->local_repo.empty());
  EXPECT_EQ(task->row, SweBenchRow());
}

TEST(TaskParseTest, SweSmithRowAsPublishedMapsItsImage) {
  json row = {{"instance_id", "pallets__flask.bc098406.combine_file__abc"},
              {"repo", "swesmith/pallets__flask.bc098406"},
              {"FAIL_TO_PASS", json::array({"tests/test_a.py::test_x"})},
              {"image_name", "swesmith.x86_64.pallets__flask.bc098406"}};
  Result<Task> task = ParseTask(row);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->kind, TaskKind::kSweSmith);
  // The map is on by default: the name the images are published under.
  EXPECT_EQ(task->image, "jyangballin/swesmith.x86_64.pallets_1776_flask.bc098406:latest");
  EXPECT_EQ(task->repo, "swesmith/pallets__flask.bc098406");

  TaskParseOptions off;
  off.swesmith_image_map = false;
  task = ParseTask(row, off);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->image, "swesmith.x86_64.pallets__flask.bc098406");
}

TEST(TaskParseTest, SweSmithMapLeavesOtherNamesAlone) {
  // A registry path or a tag: not SWE-smith's local form, so not mapped.
  for (const char* image : {"jyangballin/swesmith.x86_64.pallets_1776_flask.bc098406:latest",
                            "r2e-demo/textstats-swesmith:latest", "swesmith.x86_64.a__b.12345678:v2"}) {
    json row = {{"instance_id", "i1"}, {"kind", "swesmith"}, {"image_name", image}};
    Result<Task> task = ParseTask(row);
    ASSERT_TRUE(task.ok()) << task.status().ToString();
    EXPECT_EQ(task->image, image);
  }
  // An override is used as given.
  TaskParseOptions options;
  options.image_override = "swesmith.x86_64.pallets__flask.bc098406";
  json row = {{"instance_id", "i1"}, {"kind", "swesmith"}};
  Result<Task> task = ParseTask(row, options);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->image, "swesmith.x86_64.pallets__flask.bc098406");
}

TEST(TaskParseTest, SweSmithMapLeavesOtherKindsAlone) {
  json row = {{"instance_id", "i1"}, {"kind", "swebench"}, {"image_name", "swesmith.x86_64.a__b.12345678"}};
  Result<Task> task = ParseTask(row);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->image, "swesmith.x86_64.a__b.12345678");
}

TEST(TaskParseTest, SwesmithWinsOverSwebenchInImageName) {
  json row = {{"instance_id", "i1"}, {"docker_image", "swebench-mirror/swesmith.foo__bar"}};
  Result<Task> task = ParseTask(row);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->kind, TaskKind::kSweSmith);
}

TEST(TaskParseTest, R2eRow) {
  Result<Task> task = ParseTask(R2eRow());
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->kind, TaskKind::kR2E);
  EXPECT_EQ(task->image, "namanjain12/flask_final:abc123");
  EXPECT_EQ(task->repo, "pallets/flask");
  EXPECT_EQ(task->expected_output_json, R"({"test_x": "PASSED"})");
  EXPECT_THAT(task->fail_to_pass, IsEmpty());
  EXPECT_THAT(task->pass_to_pass, IsEmpty());
}

TEST(TaskParseTest, DockerImagePreferredOverImageName) {
  json row = R2eRow();
  row["image_name"] = "other/image:tag";
  Result<Task> task = ParseTask(row);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->image, "namanjain12/flask_final:abc123");
}

TEST(TaskParseTest, ImageOverrideWins) {
  TaskParseOptions options;
  options.image_override = "my/image:dev";
  Result<Task> task = ParseTask(SweBenchRow(), options);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->image, "my/image:dev");
  // The row's fields decide the kind, not the image.
  EXPECT_EQ(task->kind, TaskKind::kSweBench);
}

TEST(TaskParseTest, ImageOverrideSuppliesMissingImage) {
  json row = {{"instance_id", "i1"}, {"kind", "r2e"}};
  TaskParseOptions options;
  options.image_override = "my/image:dev";
  Result<Task> task = ParseTask(row, options);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->image, "my/image:dev");
}

TEST(TaskParseTest, ExplicitKindOption) {
  TaskParseOptions options;
  options.kind = TaskKind::kSweSmith;
  Result<Task> task = ParseTask(R2eRow(), options);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->kind, TaskKind::kSweSmith);
}

TEST(TaskParseTest, ExplicitKindField) {
  json row = R2eRow();
  row["kind"] = "SWE-bench";
  Result<Task> task = ParseTask(row);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->kind, TaskKind::kSweBench);
  // The option beats the row field.
  TaskParseOptions options;
  options.kind = TaskKind::kR2E;
  task = ParseTask(row, options);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->kind, TaskKind::kR2E);
}

TEST(TaskParseTest, RepoFieldFallsBackToTheOtherName) {
  json row = {{"instance_id", "i1"}, {"docker_image", "x/y"}, {"repo", "a/b"}, {"parsed_commit", "{}"}};
  Result<Task> task = ParseTask(row);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->kind, TaskKind::kR2E);
  EXPECT_EQ(task->repo, "a/b");

  json swe = SweBenchRow();
  swe.erase("repo");
  swe["repo_name"] = "c/d";
  task = ParseTask(swe);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->repo, "c/d");
}

TEST(TaskParseTest, RepoPrefersTheKindsOwnField) {
  json r2e = R2eRow();
  r2e["repo"] = "wrong/one";
  Result<Task> task = ParseTask(r2e);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->repo, "pallets/flask");

  json swe = SweBenchRow();
  swe["repo_name"] = "wrong/one";
  task = ParseTask(swe);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->repo, "astropy/astropy");
}

TEST(TaskParseTest, ListsAsJsonEncodedStrings) {
  json row = SweBenchRow();
  row["FAIL_TO_PASS"] = R"(["tests/test_a.py::test_one", "tests/test_a.py::test_two"])";
  row["PASS_TO_PASS"] = "[]";
  Result<Task> task = ParseTask(row);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_THAT(task->fail_to_pass,
              ElementsAre("tests/test_a.py::test_one", "tests/test_a.py::test_two"));
  EXPECT_THAT(task->pass_to_pass, IsEmpty());
}

TEST(TaskParseTest, VersionAsNumberKeepsJsonText) {
  json row = SweBenchRow();
  row["version"] = json::parse("3.0");
  Result<Task> task = ParseTask(row);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->version, "3.0");

  row["version"] = 2;
  task = ParseTask(row);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->version, "2");
}

TEST(TaskParseTest, ExpectedOutputAsObjectIsDumped) {
  json row = R2eRow();
  row["expected_output_json"] = {{"test_a", "PASSED"}, {"test_b", "FAILED"}};
  Result<Task> task = ParseTask(row);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(json::parse(task->expected_output_json),
            (json{{"test_a", "PASSED"}, {"test_b", "FAILED"}}));
}

TEST(TaskParseTest, NullFieldsCountAsMissing) {
  json row = SweBenchRow();
  row["patch"] = nullptr;
  row["FAIL_TO_PASS"] = nullptr;
  row["version"] = nullptr;
  Result<Task> task = ParseTask(row);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->patch, "");
  EXPECT_EQ(task->version, "");
  EXPECT_THAT(task->fail_to_pass, IsEmpty());
}

TEST(TaskParseTest, RowKeepsUnnamedFields) {
  json row = R2eRow();
  row["relevant_files"] = json::array({"src/flask/app.py"});
  Result<Task> task = ParseTask(row);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->row.at("relevant_files"), json::array({"src/flask/app.py"}));
}

// --- bad rows ---

// Asserts the code and that the message starts with the source and names `field`.
void ExpectError(const Result<Task>& task, StatusCode code, const std::string& source,
                 const std::string& field) {
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().code(), code) << task.status().ToString();
  EXPECT_THAT(task.status().message(), StartsWith(source + ": "));
  EXPECT_THAT(task.status().message(), HasSubstr("`" + field + "`"));
}

TEST(TaskParseErrorTest, NotAnObject) {
  Result<Task> task = ParseTask(json::array({1, 2}), WithSource("f.jsonl:1"));
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(task.status().message(), StartsWith("f.jsonl:1: "));
  EXPECT_THAT(task.status().message(), HasSubstr("not a JSON object"));
}

TEST(TaskParseErrorTest, MissingInstanceId) {
  json row = SweBenchRow();
  row.erase("instance_id");
  ExpectError(ParseTask(row, WithSource("t.jsonl:2")), StatusCode::kInvalidArgument, "t.jsonl:2",
              "instance_id");
  row["instance_id"] = "";
  ExpectError(ParseTask(row, WithSource("t.jsonl:2")), StatusCode::kInvalidArgument, "t.jsonl:2",
              "instance_id");
  row["instance_id"] = 12;
  ExpectError(ParseTask(row, WithSource("t.jsonl:2")), StatusCode::kInvalidArgument, "t.jsonl:2",
              "instance_id");
}

TEST(TaskParseErrorTest, NoImageAndNoLocalRepo) {
  json row = {{"instance_id", "i1"}, {"repo", "a/b"}, {"expected_output_json", "{}"}};
  Result<Task> task = ParseTask(row, WithSource("t.jsonl:4"));
  ExpectError(task, StatusCode::kInvalidArgument, "t.jsonl:4", "docker_image");
  EXPECT_THAT(task.status().message(), HasSubstr("`image_name`"));
  EXPECT_THAT(task.status().message(), HasSubstr("override"));
  EXPECT_THAT(task.status().message(), HasSubstr("`local_repo`"));
}

TEST(TaskParseErrorTest, WrongFieldTypes) {
  for (const char* field : {"patch", "test_patch", "base_commit", "problem_statement",
                            "log_parser", "repo", "repo_name", "docker_image", "image_name"}) {
    SCOPED_TRACE(field);
    json row = SweBenchRow();
    row[field] = 5;
    ExpectError(ParseTask(row, WithSource("t.jsonl:3")), StatusCode::kInvalidArgument,
                "t.jsonl:3", field);
  }
}

TEST(TaskParseErrorTest, VersionOfWrongType) {
  json row = SweBenchRow();
  row["version"] = json::array({3});
  ExpectError(ParseTask(row, WithSource("t.jsonl:3")), StatusCode::kInvalidArgument, "t.jsonl:3",
              "version");
}

TEST(TaskParseErrorTest, ExpectedOutputOfWrongType) {
  json row = R2eRow();
  row["expected_output_json"] = json::array({"a"});
  ExpectError(ParseTask(row, WithSource("t.jsonl:3")), StatusCode::kInvalidArgument, "t.jsonl:3",
              "expected_output_json");
}

TEST(TaskParseErrorTest, BadLists) {
  const json bad_values[] = {
      5,                                 // a number
      json::array({"ok", 3}),            // a list with a non-string
      "not json",                        // a string that is not JSON
      R"({"a": 1})",                     // a string holding an object
      R"(["ok", 1])",                    // a string holding a list with a non-string
      json::object({{"a", "b"}}),        // an object
  };
  for (const char* field : {"FAIL_TO_PASS", "PASS_TO_PASS"}) {
    for (const json& value : bad_values) {
      SCOPED_TRACE(std::string(field) + " = " + value.dump());
      json row = SweBenchRow();
      row[field] = value;
      ExpectError(ParseTask(row, WithSource("tasks.jsonl:3")), StatusCode::kInvalidArgument,
                  "tasks.jsonl:3", field);
    }
  }
}

TEST(TaskParseErrorTest, ListErrorMessageFormat) {
  json row = SweBenchRow();
  row["FAIL_TO_PASS"] = 5;
  Result<Task> task = ParseTask(row, WithSource("tasks.jsonl:3"));
  ASSERT_FALSE(task.ok());
  EXPECT_THAT(task.status().message(), StartsWith("tasks.jsonl:3: field `FAIL_TO_PASS`: "));
}

TEST(TaskParseErrorTest, UnknownKindField) {
  json row = R2eRow();
  row["kind"] = "swe-gym";
  Result<Task> task = ParseTask(row, WithSource("t.jsonl:9"));
  ExpectError(task, StatusCode::kInvalidArgument, "t.jsonl:9", "kind");
  EXPECT_THAT(task.status().message(), HasSubstr("swe-gym"));
  row["kind"] = 1;
  ExpectError(ParseTask(row, WithSource("t.jsonl:9")), StatusCode::kInvalidArgument, "t.jsonl:9",
              "kind");
}

TEST(TaskParseErrorTest, NoSourceMeansNoPrefix) {
  json row = SweBenchRow();
  row["patch"] = 5;
  Result<Task> task = ParseTask(row);
  ASSERT_FALSE(task.ok());
  EXPECT_THAT(task.status().message(), StartsWith("field `patch`: "));
}

// --- local paths ---

using TaskLocalPathTest = TempDirTest;

TEST_F(TaskLocalPathTest, LocalRepoWithoutImageIsValid) {
  fs::create_directories(dir_ / "repo");
  fs::create_directories(dir_ / "tests");
  json row = {{"instance_id", "local-1"}, {"local_repo", "repo"}, {"local_tests", "tests"}};
  TaskParseOptions options;
  options.base_dir = dir_;
  Result<Task> task = ParseTask(row, options);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->image, "");
  EXPECT_EQ(task->kind, TaskKind::kR2E);
  EXPECT_EQ(task->local_repo, dir_ / "repo");
  EXPECT_EQ(task->local_tests, dir_ / "tests");
}

TEST_F(TaskLocalPathTest, AbsoluteLocalRepoIgnoresBaseDir) {
  fs::create_directories(dir_ / "repo");
  json row = {{"instance_id", "local-1"}, {"local_repo", (dir_ / "repo").string()}};
  TaskParseOptions options;
  options.base_dir = "/nonexistent-base";
  Result<Task> task = ParseTask(row, options);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->local_repo, dir_ / "repo");
}

TEST_F(TaskLocalPathTest, MissingLocalRepoIsNotFound) {
  json row = {{"instance_id", "local-1"}, {"local_repo", "nope"}};
  TaskParseOptions options;
  options.base_dir = dir_;
  options.source = "tasks.jsonl:1";
  Result<Task> task = ParseTask(row, options);
  ExpectError(task, StatusCode::kNotFound, "tasks.jsonl:1", "local_repo");
  EXPECT_THAT(task.status().message(), HasSubstr((dir_ / "nope").string()));
}

TEST_F(TaskLocalPathTest, LocalRepoThatIsAFileIsNotFound) {
  Write("file.txt", "x");
  json row = {{"instance_id", "local-1"}, {"local_repo", "file.txt"}};
  TaskParseOptions options;
  options.base_dir = dir_;
  options.source = "tasks.jsonl:1";
  Result<Task> task = ParseTask(row, options);
  ExpectError(task, StatusCode::kNotFound, "tasks.jsonl:1", "local_repo");
  EXPECT_THAT(task.status().message(), HasSubstr("not a directory"));
}

TEST_F(TaskLocalPathTest, MissingLocalTestsIsNotFound) {
  fs::create_directories(dir_ / "repo");
  json row = {{"instance_id", "local-1"}, {"local_repo", "repo"}, {"local_tests", "gone"}};
  TaskParseOptions options;
  options.base_dir = dir_;
  options.source = "tasks.jsonl:1";
  Result<Task> task = ParseTask(row, options);
  ExpectError(task, StatusCode::kNotFound, "tasks.jsonl:1", "local_tests");
  EXPECT_THAT(task.status().message(), HasSubstr((dir_ / "gone").string()));
}

TEST_F(TaskLocalPathTest, LocalRepoOfWrongType) {
  json row = {{"instance_id", "local-1"}, {"local_repo", true}};
  ExpectError(ParseTask(row, WithSource("t.jsonl:1")), StatusCode::kInvalidArgument, "t.jsonl:1",
              "local_repo");
}

// --- Instruction ---

TEST(TaskInstructionTest, ExtractsIssueBlock) {
  Task task;
  task.problem_statement = "Title\n[ISSUE]\n  Fix the bug\n in x.py \n[/ISSUE]\ntrailer";
  EXPECT_EQ(task.Instruction(), "Fix the bug\n in x.py");
}

TEST(TaskInstructionTest, UsesFirstIssueBlock) {
  Task task;
  task.problem_statement = "[ISSUE]one[/ISSUE] [ISSUE]two[/ISSUE]";
  EXPECT_EQ(task.Instruction(), "one");
}

TEST(TaskInstructionTest, WholeStatementWithoutMarkers) {
  Task task;
  task.problem_statement = "  plain statement\n";
  EXPECT_EQ(task.Instruction(), "  plain statement\n");
}

TEST(TaskInstructionTest, WholeStatementWhenCloseMarkerMissing) {
  Task task;
  task.problem_statement = "[ISSUE] unterminated";
  EXPECT_EQ(task.Instruction(), "[ISSUE] unterminated");
  task.problem_statement = "[/ISSUE] before [ISSUE]";
  EXPECT_EQ(task.Instruction(), "[/ISSUE] before [ISSUE]");
}

// --- LoadTasks ---

using LoadTasksTest = TempDirTest;

std::string Line(const json& row) { return row.dump() + "\n"; }

TEST_F(LoadTasksTest, JsonlFile) {
  fs::path file = Write("tasks.jsonl", Line(SweBenchRow()) + "\n   \n" + Line(R2eRow()));
  Result<std::vector<Task>> tasks = LoadTasks(file);
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  ASSERT_EQ(tasks->size(), 2u);
  EXPECT_EQ((*tasks)[0].instance_id, "astropy__astropy-12907");
  EXPECT_EQ((*tasks)[0].kind, TaskKind::kSweBench);
  EXPECT_EQ((*tasks)[1].instance_id, "r2e-1");
  EXPECT_EQ((*tasks)[1].kind, TaskKind::kR2E);
}

TEST_F(LoadTasksTest, JsonlWithCrLf) {
  fs::path file = Write("tasks.jsonl", SweBenchRow().dump() + "\r\n" + R2eRow().dump() + "\r\n");
  Result<std::vector<Task>> tasks = LoadTasks(file);
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  EXPECT_EQ(tasks->size(), 2u);
}

TEST_F(LoadTasksTest, JsonArrayFile) {
  json rows = json::array({SweBenchRow(), R2eRow()});
  fs::path file = Write("tasks.json", "\n  " + rows.dump(2));
  Result<std::vector<Task>> tasks = LoadTasks(file);
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  ASSERT_EQ(tasks->size(), 2u);
  EXPECT_EQ((*tasks)[0].repo, "astropy/astropy");
  EXPECT_EQ((*tasks)[1].repo, "pallets/flask");
}

TEST_F(LoadTasksTest, OptionsApplyToEveryRow) {
  fs::path file = Write("tasks.jsonl", Line(SweBenchRow()) + Line(R2eRow()));
  TaskParseOptions options;
  options.image_override = "mine:1";
  Result<std::vector<Task>> tasks = LoadTasks(file, options);
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  ASSERT_EQ(tasks->size(), 2u);
  EXPECT_EQ((*tasks)[0].image, "mine:1");
  EXPECT_EQ((*tasks)[1].image, "mine:1");
}

TEST_F(LoadTasksTest, ArrayElementErrorNamesElement) {
  json bad = R2eRow();
  bad["FAIL_TO_PASS"] = 5;
  json rows = json::array({SweBenchRow(), bad});
  fs::path file = Write("tasks.json", rows.dump());
  Result<std::vector<Task>> tasks = LoadTasks(file);
  ASSERT_FALSE(tasks.ok());
  EXPECT_EQ(tasks.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(tasks.status().message(),
              StartsWith(file.string() + ": element 1: field `FAIL_TO_PASS`: "));
}

TEST_F(LoadTasksTest, MalformedArrayNamesLine) {
  fs::path file = Write("tasks.json", "[\n  {\"instance_id\": \"a\"},\n  {\"instance_id\": }\n]\n");
  Result<std::vector<Task>> tasks = LoadTasks(file);
  ASSERT_FALSE(tasks.ok());
  EXPECT_EQ(tasks.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(tasks.status().message(), StartsWith(file.string() + ":3: "));
}

TEST_F(LoadTasksTest, MalformedLineNamesFileAndLine) {
  fs::path file = Write("tasks.jsonl", Line(SweBenchRow()) + "\n{\"instance_id\": oops}\n");
  Result<std::vector<Task>> tasks = LoadTasks(file);
  ASSERT_FALSE(tasks.ok());
  EXPECT_EQ(tasks.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(tasks.status().message(), StartsWith(file.string() + ":3: "));
  EXPECT_THAT(tasks.status().message(), HasSubstr("not valid JSON"));
}

TEST_F(LoadTasksTest, RowErrorNamesFileLineAndField) {
  json bad = R2eRow();
  bad["patch"] = 5;
  fs::path file = Write("tasks.jsonl", Line(SweBenchRow()) + Line(bad));
  Result<std::vector<Task>> tasks = LoadTasks(file);
  ASSERT_FALSE(tasks.ok());
  EXPECT_EQ(tasks.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(tasks.status().message(), StartsWith(file.string() + ":2: field `patch`: "));
}

TEST_F(LoadTasksTest, MissingFileIsNotFound) {
  fs::path file = dir_ / "absent.jsonl";
  Result<std::vector<Task>> tasks = LoadTasks(file);
  ASSERT_FALSE(tasks.ok());
  EXPECT_EQ(tasks.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(tasks.status().message(), HasSubstr(file.string()));
}

TEST_F(LoadTasksTest, EmptyFileHasNoTasks) {
  for (const char* content : {"", "\n  \n", "[]"}) {
    SCOPED_TRACE(content);
    fs::path file = Write("empty.jsonl", content);
    Result<std::vector<Task>> tasks = LoadTasks(file);
    ASSERT_FALSE(tasks.ok());
    EXPECT_EQ(tasks.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(tasks.status().message(), "no tasks in " + file.string());
  }
}

TEST_F(LoadTasksTest, DuplicateInstanceIdNamesBothLines) {
  fs::path file = Write("tasks.jsonl", Line(SweBenchRow()) + Line(R2eRow()) + Line(SweBenchRow()));
  Result<std::vector<Task>> tasks = LoadTasks(file);
  ASSERT_FALSE(tasks.ok());
  EXPECT_EQ(tasks.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(tasks.status().message(), StartsWith(file.string() + ":3: "));
  EXPECT_THAT(tasks.status().message(), HasSubstr(file.string() + ":1"));
  EXPECT_THAT(tasks.status().message(), HasSubstr("astropy__astropy-12907"));
}

TEST_F(LoadTasksTest, DuplicateInArrayNamesBothElements) {
  json rows = json::array({R2eRow(), SweBenchRow(), R2eRow()});
  fs::path file = Write("tasks.json", rows.dump());
  Result<std::vector<Task>> tasks = LoadTasks(file);
  ASSERT_FALSE(tasks.ok());
  EXPECT_THAT(tasks.status().message(), StartsWith(file.string() + ": element 2: "));
  EXPECT_THAT(tasks.status().message(), HasSubstr("element 0"));
}

TEST_F(LoadTasksTest, RelativeLocalRepoResolvesAgainstFileDirectory) {
  fs::create_directories(dir_ / "data" / "repo");
  fs::create_directories(dir_ / "data" / "hidden_tests");
  json row = {{"instance_id", "local-1"},
              {"local_repo", "repo"},
              {"local_tests", "./hidden_tests"}};
  fs::path file = dir_ / "data" / "tasks.jsonl";
  std::ofstream(file) << row.dump() << "\n";
  Result<std::vector<Task>> tasks = LoadTasks(file);
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].local_repo, dir_ / "data" / "repo");
  EXPECT_EQ((*tasks)[0].local_tests, dir_ / "data" / "hidden_tests");
  EXPECT_TRUE(fs::is_directory((*tasks)[0].local_repo));
}

TEST_F(LoadTasksTest, MissingRelativeLocalRepoNamesResolvedPath) {
  fs::create_directories(dir_ / "data");
  json row = {{"instance_id", "local-1"}, {"local_repo", "repo"}};
  fs::path file = dir_ / "data" / "tasks.jsonl";
  std::ofstream(file) << row.dump() << "\n";
  Result<std::vector<Task>> tasks = LoadTasks(file);
  ASSERT_FALSE(tasks.ok());
  EXPECT_EQ(tasks.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(tasks.status().message(), StartsWith(file.string() + ":1: "));
  EXPECT_THAT(tasks.status().message(), HasSubstr((dir_ / "data" / "repo").string()));
}

TEST_F(LoadTasksTest, ExplicitBaseDirWins) {
  fs::create_directories(dir_ / "elsewhere" / "repo");
  json row = {{"instance_id", "local-1"}, {"local_repo", "repo"}};
  fs::path file = Write("tasks.jsonl", Line(row));
  TaskParseOptions options;
  options.base_dir = dir_ / "elsewhere";
  Result<std::vector<Task>> tasks = LoadTasks(file, options);
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  EXPECT_EQ((*tasks)[0].local_repo, dir_ / "elsewhere" / "repo");
}

}  // namespace
}  // namespace r2e
