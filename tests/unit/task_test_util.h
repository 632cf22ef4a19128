// Test helpers for the task tests (task_test.cc, task_parse_error_test.cc,
// task_load_test.cc): sample SWE-bench and R2E-Gym rows, parse options
// naming a source, the error check, and a fixture with a fresh directory.
#ifndef R2E_TESTS_UNIT_TASK_TEST_UTIL_H_
#define R2E_TESTS_UNIT_TASK_TEST_UTIL_H_

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "r2e/task.h"

namespace r2e::task_test_util {

inline TaskParseOptions WithSource(std::string source) {
  TaskParseOptions options;
  options.source = std::move(source);
  return options;
}

inline nlohmann::json SweBenchRow() {
  using json = nlohmann::json;
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

inline nlohmann::json R2eRow() {
  return nlohmann::json{
      {"instance_id", "r2e-1"},
      {"repo_name", "pallets/flask"},
      {"docker_image", "namanjain12/flask_final:abc123"},
      {"problem_statement", "[ISSUE]\nFix it\n[/ISSUE]"},
      {"expected_output_json", R"({"test_x": "PASSED"})"},
  };
}

// Asserts the code and that the message starts with the source and names `field`.
inline void ExpectError(const Result<Task>& task, StatusCode code, const std::string& source,
                        const std::string& field) {
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().code(), code) << task.status().ToString();
  EXPECT_THAT(task.status().message(), ::testing::StartsWith(source + ": "));
  EXPECT_THAT(task.status().message(), ::testing::HasSubstr("`" + field + "`"));
}

// A fresh directory per test so parallel or repeated runs do not collide.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("r2e_task_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
            "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::filesystem::path Write(const std::string& name, const std::string& content) {
    std::filesystem::path path = dir_ / name;
    std::ofstream out(path, std::ios::binary);
    out << content;
    return path;
  }

  std::filesystem::path dir_;
};

}  // namespace r2e::task_test_util

#endif  // R2E_TESTS_UNIT_TASK_TEST_UTIL_H_
