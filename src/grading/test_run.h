// How the graders run a task's tests in the sandbox. The output goes to the
// session, which keeps only its head and tail, and through tee to a log file
// in the sandbox, which is read back when the session's copy was cut.
#ifndef R2E_GRADING_TEST_RUN_H_
#define R2E_GRADING_TEST_RUN_H_

#include <cstdint>
#include <functional>
#include <string>

#include "r2e/runtime.h"

namespace r2e::internal {

// Largest log a grader reads back.
constexpr std::uint64_t kMaxLogFileBytes = 64ull << 20;

struct TestRun {
  // The script in the sandbox, run as `bash <script> 2>&1 | tee <log_file>`.
  std::string script;
  // Where tee keeps the whole output; a fresh name per run.
  std::string log_file;
  // The run's timeout and working directory.
  ExecOptions run;
  // For the commands around the run (reading the log back, cleaning up).
  ExecOptions housekeeping;
  // Which end of a log longer than kMaxLogFileBytes is read back: the last
  // bytes (the summary ends the log) or the first (a start marker opens it).
  enum class Keep { kLast, kFirst } keep = Keep::kLast;
  // Whether the log of a run that timed out is read back too.
  bool reread_timed_out = true;
  // Called right after the run whatever happened to it, before the log is
  // read (the R2E grader takes its hidden tests away here).
  std::function<void()> after_run;
  // Run last whatever happened: removes log_file and whatever else the run
  // leaves behind. Empty means `rm -f <log_file>`.
  std::string cleanup;
};

// Runs the tests as `test` says. The result is the run's, except that its
// output is the log file's content (capped as `keep` says) when the session
// cut the output (truncated_bytes > 0). Runtime errors (of the run, or of
// reading the log back) are returned as they are; the grader adds context.
Result<ExecResult> RunTests(Runtime& runtime, const TestRun& test);

}  // namespace r2e::internal

#endif  // R2E_GRADING_TEST_RUN_H_
