// SpawnProcess(): the one place r2e starts a child process (posix_spawn), for
// the local runtime's shell and kubeconfig exec credential plugins.
#ifndef R2E_CORE_SPAWN_H_
#define R2E_CORE_SPAWN_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace r2e::internal {

struct SpawnOptions {
  // The program (looked up on PATH when it has no '/') and its arguments.
  std::vector<std::string> argv;
  // The whole environment, "KEY=value" each.
  std::vector<std::string> env;
  // (parent fd, child fd) pairs duplicated into the child, in order.
  std::vector<std::pair<int, int>> fds;
  // The child reads /dev/null as its standard input (before `fds`).
  bool stdin_dev_null = false;
  // The child's working directory; empty: the caller's.
  std::string cwd;
  // The child leads a new session (and process group) with default signal
  // dispositions and no blocked signals; otherwise a new process group only.
  // Either way a kill of the group reaches every process it starts.
  bool new_session = false;
  // Start the child from a thread that lives as long as the process rather
  // than from the caller's: a child that asks to die with its parent
  // (bubblewrap's --die-with-parent, PR_SET_PDEATHSIG) dies when the thread
  // that started it exits, which would take a sandbox down with a worker
  // thread. The child gets the caller's signal mask all the same.
  bool outlive_thread = false;
};

// Starts the child: its pid, or the errno value posix_spawn failed with
// (negated, so a result < 0 is a failure; ErrnoText(-result) says why).
pid_t SpawnProcess(const SpawnOptions& options);

}  // namespace r2e::internal

#endif  // R2E_CORE_SPAWN_H_
