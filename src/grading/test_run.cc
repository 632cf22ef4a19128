#include "grading/test_run.h"

#include <utility>

namespace r2e::internal {
namespace {

// The log file, cut first to kMaxLogFileBytes so that a runaway test cannot
// make the grader read gigabytes.
Result<std::string> ReadCappedLog(Runtime& runtime, const TestRun& test) {
  const std::string cap = std::to_string(kMaxLogFileBytes);
  const std::string& log = test.log_file;
  const std::string cmd =
      test.keep == TestRun::Keep::kLast
          ? "f=" + log + "; if [ \"$(wc -c < \"$f\")\" -gt " + cap + " ]; then tail -c " + cap +
                " \"$f\" > \"$f.tail\" && mv \"$f.tail\" \"$f\"; fi"
          : "head -c " + cap + " " + log + " > " + log + ".head && mv " + log + ".head " + log;
  auto trimmed = runtime.exec(cmd, test.housekeeping);
  if (!trimmed.ok()) return trimmed.status();
  return runtime.read_file(log);
}

}  // namespace

Result<ExecResult> RunTests(Runtime& runtime, const TestRun& test) {
  const std::string cleanup = test.cleanup.empty() ? "rm -f " + test.log_file : test.cleanup;
  auto ran = runtime.exec("bash " + test.script + " 2>&1 | tee " + test.log_file, test.run);
  if (test.after_run) test.after_run();
  if (ran.ok() && ran->truncated_bytes > 0 && (test.reread_timed_out || !ran->timed_out)) {
    auto full = ReadCappedLog(runtime, test);
    if (!full.ok()) {
      (void)runtime.exec(cleanup, test.housekeeping);
      return full.status();
    }
    ran->output = std::move(full).value();
  }
  (void)runtime.exec(cleanup, test.housekeeping);
  return ran;
}

}  // namespace r2e::internal
