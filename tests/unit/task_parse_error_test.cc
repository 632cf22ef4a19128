// Tasks that do not parse: rows of the wrong shape or with fields of the
// wrong type, each error naming its source and field, and a row's local
// repository and tests paths (resolved, checked to exist).
#include "r2e/task.h"

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "task_test_util.h"

namespace r2e {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using task_test_util::ExpectError;
using task_test_util::R2eRow;
using task_test_util::SweBenchRow;
using task_test_util::TempDirTest;
using task_test_util::WithSource;
namespace fs = std::filesystem;

// --- bad rows ---

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

}  // namespace
}  // namespace r2e
