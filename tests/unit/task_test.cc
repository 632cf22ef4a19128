// Tasks: the kind names, parsing good SWE-bench, SWE-smith and R2E-Gym rows
// (images, kinds, repositories, lists and field forms), and the instruction
// taken from the problem statement. Bad rows and local paths:
// task_parse_error_test.cc; task files: task_load_test.cc.
#include "r2e/task.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "task_test_util.h"

namespace r2e {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using task_test_util::R2eRow;
using task_test_util::SweBenchRow;

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

}  // namespace
}  // namespace r2e
