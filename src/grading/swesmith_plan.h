// How the SWE-smith grader runs one task's tests: the command between the
// markers, the parser, the test files restored before the run and the tests
// that are graded, from the task's profile (r2e/swesmith_profiles.h) or, for
// a repository without one, from the default that predates the table.
#ifndef R2E_GRADING_SWESMITH_PLAN_H_
#define R2E_GRADING_SWESMITH_PLAN_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "r2e/status.h"
#include "r2e/swesmith_profiles.h"
#include "r2e/task.h"

namespace r2e::internal {

struct SweSmithPlan {
  std::string command;  // the line between the markers
  std::string parser;   // a ParseLog name
  bool go = false;      // Go tests: restore every changed *_test.go
  // nullptr: no profile (the row's test_cmd or the default command runs).
  const SweSmithProfile* profile = nullptr;
  // Non-empty: only tests whose names start with one of these are graded,
  // as the harness filters when its command ran only some test files.
  std::vector<std::string> graded_prefixes;
  // The default command's filter compares the file part (before "::")
  // exactly instead.
  bool graded_exact_files = false;
  // mypy's -k runs the FAIL_TO_PASS cases only: a PASS_TO_PASS test is
  // graded only when the log shows it ran.
  bool p2p_only_when_seen = false;
  // Test files restored to base_commit before the run (safe relative paths).
  std::vector<std::string> restore_files;
  // The profile's bound on the run; zero when there is no profile.
  std::chrono::seconds timeout{0};
  // Set when the task has no profile: what the report and logs say.
  std::string warning;
};

// True when PlanSweSmithTests needs to know whether /testbed has a go.mod
// (no row test_cmd and no profile).
bool SweSmithNeedsGoProbe(const Task& task);

// The plan for `task`; `go_repo` says whether /testbed has a go.mod (only
// read when SweSmithNeedsGoProbe). InvalidArgument when a profile needs
// FAIL_TO_PASS names it cannot use (e.g. mypy's -k with none).
Result<SweSmithPlan> PlanSweSmithTests(const Task& task, bool go_repo);

// For a saved log: when the traced command in `slice` (the text between the
// markers) is the plan's test_cmd followed by test files, only tests in those
// files are graded. This is how a log from SWE-smith's older harness (which
// ran only the FAIL_TO_PASS files) or from `--f2p_only` grades as the harness
// graded it.
void NarrowToLoggedFiles(std::string_view slice, SweSmithPlan& plan);

// Profile test-file mapping, exposed for tests: the files holding `names`,
// unique and sorted.
std::vector<std::string> SweSmithTestFiles(SweSmithProfile::TestFiles rule,
                                           const std::vector<std::string>& names);

}  // namespace r2e::internal

#endif  // R2E_GRADING_SWESMITH_PLAN_H_
