// Test helpers for the SWE-bench grading tests (swebench_grading_test.cc,
// swebench_report_test.cc, swebench_grader_test.cc): the test-output
// markers, a log with a body between them, a task with given lists, and
// short names for the two rule sets.
#ifndef R2E_TESTS_UNIT_SWEBENCH_GRADING_TEST_UTIL_H_
#define R2E_TESTS_UNIT_SWEBENCH_GRADING_TEST_UTIL_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r2e/swebench.h"
#include "r2e/task.h"

namespace r2e::swebench_grading_test_util {

using Names = std::vector<std::string>;

inline constexpr char kStart[] = "+ : '>>>>> Start Test Output'\n";
inline constexpr char kEnd[] = "+ : '>>>>> End Test Output'\n";

inline std::string Marked(std::string_view body) {
  return std::string("+ git apply -v -\n") + kStart + std::string(body) + kEnd;
}

inline Task MakeTask(Names f2p, Names p2p, std::string repo = "pallets/flask") {
  Task task;
  task.instance_id = "owner__repo-1";
  task.kind = TaskKind::kSweBench;
  task.repo = std::move(repo);
  task.fail_to_pass = std::move(f2p);
  task.pass_to_pass = std::move(p2p);
  return task;
}

inline constexpr auto kClassic = GradingRules::kClassic;
inline constexpr auto kV5 = GradingRules::kV5;

}  // namespace r2e::swebench_grading_test_util

#endif  // R2E_TESTS_UNIT_SWEBENCH_GRADING_TEST_UTIL_H_
