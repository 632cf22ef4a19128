// What the parts of RunEvaluation share: the runner (evaluator.cc) spreads
// instances over worker threads, each worker evaluates one instance at a time
// (instance_run.cc), and the progress output (progress.cc) counts them.
#ifndef R2E_EVAL_EVAL_INTERNAL_H_
#define R2E_EVAL_EVAL_INTERNAL_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

#include "r2e/evaluation.h"
#include "r2e/runtime.h"
#include "r2e/status.h"

namespace r2e::internal {

using EvalClock = std::chrono::steady_clock;

// Seconds since `t`.
double SecondsSince(EvalClock::time_point t);
// `v` with `digits` decimals.
std::string Fixed(double v, int digits);
// The last `n` lines of `text`.
std::string LastLines(std::string_view text, int n);
// Writes `content` to `path` through a temporary file and a rename, so a
// reader (or a resumed run) never sees half a file.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content);

// The logs of an instance's earlier attempts (a retry after an
// infrastructure error replaces its directory): TakeAttemptLog returns
// `earlier` plus attempt `attempt`'s run_instance.log under a heading;
// PrependAttemptLogs puts them before attempt `attempt`'s own log.
std::string TakeAttemptLog(const std::filesystem::path& dir, int attempt, const std::string& earlier);
void PrependAttemptLogs(const std::filesystem::path& dir, const std::string& earlier, int attempt);

// What the runner knows about one running instance, so that it can kill its
// sandbox when the deadline passes or the run is stopped.
struct EvalSlot {
  enum Cancel : int { kNone = 0, kDeadline = 1, kStop = 2 };
  std::mutex mu;
  Runtime* runtime = nullptr;  // guarded by mu; valid while registered
  bool active = false;         // guarded by mu
  EvalClock::time_point deadline;  // guarded by mu
  std::atomic<int> cancel{kNone};
};

// Evaluates one instance in a sandbox of a runtime from `make_runtime`
// (`runtime_name` names it in the log) and writes its directory:
// patch.diff, eval.sh, test_output.txt, report.json, run_instance.log. The
// runtime is registered in `slot` while the sandbox may be running.
InstanceResult RunInstance(const Task& task, const Prediction& prediction, const EvalOptions& options,
                           const EvalRuntimeFactory& make_runtime, std::string_view runtime_name, EvalSlot& slot);

// Counts and progress output, shared by the workers and the runner thread.
class EvalProgress {
 public:
  EvalProgress(const EvalOptions& options, std::size_t total);

  // One line per instance (errors only, above the bar, with progress_bar).
  void Finished(const InstanceResult& r);
  void Redraw();
  void Message(const std::string& text);
  void End();

 private:
  void DrawLocked();

  std::mutex mu_;
  std::ostream* out_;
  bool bar_;
  std::size_t total_;
  EvalClock::time_point t0_;
  std::size_t done_ = 0, resolved_ = 0, unresolved_ = 0, errors_ = 0;
  bool drawn_ = false;
};

}  // namespace r2e::internal

#endif  // R2E_EVAL_EVAL_INTERNAL_H_
