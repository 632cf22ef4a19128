// What the container runtimes (Docker, Kubernetes) share about running a
// sandbox, written once: stopping it, running a command in its shell session
// and telling a dead sandbox from a failed command, the command line of the
// one-exec-per-command mode, and the reaper's decision.
#ifndef R2E_CONTAINER_CONTAINER_SANDBOX_H_
#define R2E_CONTAINER_CONTAINER_SANDBOX_H_

#include <chrono>
#include <ctime>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r2e/exec.h"
#include "r2e/session.h"
#include "r2e/status.h"

namespace r2e::container {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// A started sandbox as exec() reports on it.
struct SandboxRef {
  std::string_view backend;     // "docker", "kube"
  std::string name;             // "container 0123456789ab", "pod ns/name"
  std::function<bool()> alive;  // asks the backend whether it still runs
};

// The stop() of a container runtime: interrupts the session's running
// exec() without waiting for it, takes `lifecycle` (which start() holds),
// closes the session, then runs `remove`, which removes the sandbox if there
// is one and forgets it even when removing fails (the lifetime guard and the
// reaper still remove it, and a later start() must not be blocked by it).
Status StopSandbox(SessionSlot& session, std::mutex& lifecycle, const std::function<Status()>& remove);

// exec() in session mode. Cancelled while stop() runs (a stopped session
// stays Cancelled). When the session fails, or the shell died under the
// command (exit code -1), and the sandbox no longer runs, Unavailable naming
// it; otherwise the session's answer (a shell that died in a live sandbox is
// restarted by the next command).
Result<ExecResult> ExecInSession(const SessionSlot& session, const SandboxRef& sandbox, std::string_view command,
                                 const ExecOptions& options);

// The options of a sandbox's shell session: `base` with the sandbox's
// working directory as the default and its environment (`env`, over the
// session's own variables).
ShellSessionOptions SessionOptions(const ShellSessionOptions& base, const std::string& workdir, const EnvList& env);

// The command line of the one-exec-per-command mode, to be wrapped by
// internal::SandboxArgv: `env` sets the session's variables, the runtime's
// (`env`) and the command's, then `timeout -s KILL` bounds the whole
// command, run by the session's command shell. InvalidArgument when the
// timeout is not positive.
Result<std::vector<std::string>> PerCommandArgv(const ShellSessionOptions& session, const EnvList& env,
                                                std::string_view command, const ExecOptions& options);

// The outcome of such a command (output left to the caller): a run the
// client's deadline ended (`deadline_passed`) is a KILL timeout (137), and
// so is a 137 that came once the timeout had passed.
ExecResult PerCommandResult(int exit_code, bool deadline_passed, Clock::time_point started,
                            std::chrono::milliseconds timeout);

// The reaper's decision for one sandbox carrying r2e's labels (`label(key)`
// is "" when absent): remove it when `all`, when its r2e.expires time
// (seconds since the epoch) is before `now`, or when it belongs to this host
// and its owner process is gone or its pid now names another process.
// `encode` turns a value into the form the backend's labels hold it in
// (Kubernetes restricts label values; null keeps values as they are).
using LabelFn = std::function<std::string(const char* key)>;
using EncodeFn = std::function<std::string(const std::string& value)>;
bool ShouldReap(const LabelFn& label, bool all, std::time_t now, const EncodeFn& encode = {});

}  // namespace r2e::container

#endif  // R2E_CONTAINER_CONTAINER_SANDBOX_H_
