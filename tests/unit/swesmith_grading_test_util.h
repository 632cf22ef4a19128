// Test helpers for the SWE-smith grader tests (swesmith_grading_test.cc and
// swesmith_grader_sandbox_test.cc): a task with given lists, the report's
// lists, a log as the run script writes it, and a small task with a log on
// which all its tests pass.
#ifndef R2E_TESTS_UNIT_SWESMITH_GRADING_TEST_UTIL_H_
#define R2E_TESTS_UNIT_SWESMITH_GRADING_TEST_UTIL_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/grader.h"
#include "r2e/task.h"

namespace r2e::swesmith_test_util {

using Names = std::vector<std::string>;

inline Names Strings(const nlohmann::json& j) {
  Names out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

inline Task MakeTask(Names f2p, Names p2p, std::string id = "owner__repo.abc12345.pr_1") {
  Task task;
  task.instance_id = std::move(id);
  task.kind = TaskKind::kSweSmith;
  task.base_commit = "0123456789abcdef0123456789abcdef01234567";
  task.fail_to_pass = std::move(f2p);
  task.pass_to_pass = std::move(p2p);
  task.row = nlohmann::json::object();
  return task;
}

inline const nlohmann::json& Report(const GradeResult& r, const Task& task) {
  return r.report.at(task.instance_id);
}

inline Names Group(const GradeResult& r, const Task& task, const char* group, const char* list) {
  return Strings(Report(r, task)["tests_status"][group][list]);
}

// A log as our run script produces it (xtrace lines, markers, pytest -v).
inline std::string PytestLog(std::string_view body, std::string_view files = "tests/test_x.py") {
  std::string log =
      "+ cd /testbed\n"
      "+ : '>>>>> Start Test Output'\n"
      "+ pytest --disable-warnings --color=no --tb=no --verbose ";
  log += files;
  log +=
      "\n============================= test session starts ==============================\n"
      "collecting ... collected some items\n\n";
  log += body;
  log += "\n============================== done ==============================\n";
  log += "+ : '>>>>> End Test Output'\n";
  return log;
}

inline const Task kXTask =
    MakeTask({"tests/test_x.py::test_a", "tests/test_x.py::TestK::test_b[1]"},
             {"tests/test_x.py::test_c"});
inline constexpr std::string_view kAllPass =
    "tests/test_x.py::test_a PASSED                                          [ 33%]\n"
    "tests/test_x.py::TestK::test_b[1] PASSED                                [ 66%]\n"
    "tests/test_x.py::test_c PASSED                                          [100%]";

}  // namespace r2e::swesmith_test_util

#endif  // R2E_TESTS_UNIT_SWESMITH_GRADING_TEST_UTIL_H_
