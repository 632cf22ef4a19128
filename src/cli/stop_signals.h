// How every r2e command that holds sandboxes ends on SIGINT, SIGTERM and
// SIGHUP: it removes its sandboxes, then exits 128 + the signal's number.
//
// While a StopSignals lives, the first of those signals sets the stop flag
// and wakes a watcher thread, which says so on stderr and runs every OnStop
// callback registered at that time (killing the sandboxes: the calls in
// progress on them then fail soon). The command sees the flag or its failing
// calls and returns; the destructors of its environments, pools and runtimes
// remove what is left; main() then exits with ExitStatus(). A second signal
// ends the process at once by that signal, leaving the sandboxes to their
// lifetime guard and `r2e cleanup` (local working directories stay under
// $TMPDIR). A repeat of the first signal from the same sender within a
// second is the same request, not a second one: `timeout` and other
// supervisors signal the process and then its process group.
// If the command has not returned a minute after the callbacks ran (a call
// nothing interrupts, e.g. a model request), the watcher exits the process
// with the same status: its sandboxes are killed already.
//
// Async-signal-safety: the handler only updates atomics and writes one byte
// to a pipe; everything else runs on the watcher thread.
// Process-wide: at most one StopSignals lives at a time. The functions below
// may be called from any thread, also when no StopSignals lives (nothing is
// then ever requested).
#ifndef R2E_CLI_STOP_SIGNALS_H_
#define R2E_CLI_STOP_SIGNALS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "r2e/runtime.h"

namespace r2e::cli {

class StopSignals {
 public:
  // Installs the handler of SIGINT, SIGTERM and SIGHUP and starts the
  // watcher; `command` ("r2e run") prefixes its messages.
  explicit StopSignals(std::string command);
  // Stops the watcher and restores the previous handlers.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
};

// Whether a stop signal came.
bool StopRequested();
// The flag itself, for APIs that poll one (EvalOptions::stop).
const std::atomic<bool>& StopFlag();
// The number of the first stop signal, 0 when none came.
int StopSignal();
// 128 + StopSignal() when a stop signal came, else `rc`.
int ExitStatus(int rc);

// Runs `cancel` once when a stop signal comes: on the watcher thread, or on
// the calling thread at once when one came already. `cancel` must be
// callable from any thread (RepoEnv::cancel, Runtime::kill, EnvPool::close,
// WarmPool::shutdown are). After the destructor, `cancel` is not running
// and never runs.
class OnStop {
 public:
  explicit OnStop(std::function<void()> cancel);
  ~OnStop();
  OnStop(const OnStop&) = delete;
  OnStop& operator=(const OnStop&) = delete;

  struct Entry;

 private:
  std::shared_ptr<Entry> entry_;
};

// `runtime` killed (Runtime::kill) on a stop signal; its start() after one
// fails with Cancelled and removes any sandbox it made meanwhile.
std::unique_ptr<Runtime> Stoppable(std::unique_ptr<Runtime> runtime);
// The runtimes of `factory`, each Stoppable.
RuntimeFactory Stoppable(RuntimeFactory factory);

}  // namespace r2e::cli

#endif  // R2E_CLI_STOP_SIGNALS_H_
