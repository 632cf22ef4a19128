// LoadTasks: task files as JSON Lines or a JSON array, options applied to
// every row, errors naming the file, line or element, duplicate instance ids,
// and local paths resolved against the file's directory.
#include "r2e/task.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "task_test_util.h"

namespace r2e {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using task_test_util::R2eRow;
using task_test_util::SweBenchRow;
using task_test_util::TempDirTest;
namespace fs = std::filesystem;

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
