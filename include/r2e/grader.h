// Grader: runs a task's hidden tests in a sandbox and grades the log the way
// the task's benchmark grades it. Graders only talk to Runtime.
//
// Thread-safety: a Grader holds no per-call state; one instance may grade
// many sandboxes concurrently.
#ifndef R2E_GRADER_H_
#define R2E_GRADER_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/log_parsers.h"
#include "r2e/runtime.h"
#include "r2e/status.h"
#include "r2e/swebench.h"
#include "r2e/task.h"

namespace r2e {

struct GradeOptions {
  // Bound on running the hidden tests.
  std::chrono::seconds timeout{300};
};

struct GradeResult {
  double reward = 0.0;    // 1 when resolved, else 0
  bool resolved = false;
  bool timed_out = false;
  std::string log;        // the test run's output
  StatusMap status_map;   // what the benchmark's parser read from the log
  nlohmann::json report;  // the benchmark's per-instance report shape
  std::chrono::milliseconds duration{0};
  // Things the caller should show the user, e.g. a SWE-smith repository
  // without a profile graded with the default command.
  std::vector<std::string> warnings;
};

class Grader {
 public:
  virtual ~Grader() = default;
  virtual std::string_view name() const = 0;

  // Runs the hidden tests in `runtime` (a started sandbox holding the
  // agent's work) and grades them. Failing tests are a grade of 0, not an
  // error; errors are for a sandbox that could not run the tests.
  virtual Result<GradeResult> grade(Runtime& runtime, const Task& task, const GradeOptions& options) = 0;

  // Grades a saved log without a sandbox.
  virtual Result<GradeResult> grade_log(const Task& task, std::string_view log) const = 0;
};

// R2E-Gym: runs /root/run_tests.sh with the hidden tests linked into
// /testbed only for the run, and requires the parsed status map to equal
// the task's expected_output_json exactly.
std::unique_ptr<Grader> MakeR2EGrader();

// SWE-bench (shared/spec/grading.md): runs the task's eval script
// (SweBenchEvalScriptFor in r2e/swebench.h: a 5.x row's own eval_script under
// v5, else the harness's script from the specs), which resets the test files,
// applies the test patch and runs the test command between the markers;
// parses the log with the repository's (or the instance's `log_parser`)
// parser and grades FAIL_TO_PASS / PASS_TO_PASS. `rules`: nullopt chooses
// per task (SweBenchRulesFor: v5 for 5.x-shaped rows, else classic). The
// report is the harness's per-instance report.json (v5: the 5.x shape).
// After the run the files the test patch touches are put back (checked out,
// or removed when it creates them), so no hidden test stays in the sandbox.
std::unique_ptr<Grader> MakeSweBenchGrader(std::optional<GradingRules> rules = std::nullopt);
// The same with options for the scripts it makes (e.g. a guarded conda
// activation for images without conda; see SweBenchEvalScriptOptions).
std::unique_ptr<Grader> MakeSweBenchGrader(std::optional<GradingRules> rules,
                                           const SweBenchEvalScriptOptions& script_options);

// SWE-smith: restores the FAIL_TO_PASS / PASS_TO_PASS test files to
// base_commit, runs the repository profile's test command between the
// markers (r2e/swesmith_profiles.h; bounded by the profile's timeout as well
// as GradeOptions::timeout), and grades with exact names and explicit
// passes. A repository without a profile runs the default command (pytest
// over the FAIL_TO_PASS files, or `go test` when /testbed has a go.mod) and
// the result carries a warning, also in the report.
std::unique_ptr<Grader> MakeSweSmithGrader();

// The grader for a task's kind.
// `rules` as for MakeSweBenchGrader (the other kinds have one set of rules).
Result<std::unique_ptr<Grader>> MakeGrader(TaskKind kind,
                                           std::optional<GradingRules> rules = std::nullopt);

}  // namespace r2e

#endif  // R2E_GRADER_H_
