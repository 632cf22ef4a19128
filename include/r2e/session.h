// ShellSession: the one command protocol every runtime uses.
//
// A session is a long-lived shell inside the sandbox running r2e's session
// loop, connected over a byte stream (Local: pipes; Docker: a hijacked exec
// connection; Kubernetes: exec websocket channels). Each command is sent as a
// header line plus exactly its bytes, read by the loop without parsing and
// run in a fresh child (a forked subshell in its own process group, stdin
// from /dev/null, stderr merged into stdout, the text run as `bash -c` would;
// `$$` in it is the session shell's pid). After the child exits the loop prints
// "\n<nonce> <exit code> <timed out>\n" with a fresh random nonce, so
// command output cannot forge the end of a command.
//
// - Timeouts kill the child's whole process group from inside the sandbox;
//   a client-side deadline shortly after is the backstop (the session is then
//   restarted). Partial output is kept.
// - Output is bounded while it streams: the first head_bytes and the last
//   tail_bytes are kept and the rest counted in ExecResult::truncated_bytes.
// - A session whose shell died (the agent ran `kill -9 -1`) is restarted on
//   the next command; the command that killed it returns exit code -1.
// - Output that background children write after their command ended belongs
//   to no command and is dropped.
//
// Thread-safety: one command at a time (exec() serializes callers);
// interrupt() may be called from any thread and makes a running exec()
// return Cancelled.
#ifndef R2E_SESSION_H_
#define R2E_SESSION_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r2e/exec.h"
#include "r2e/status.h"

namespace r2e {

using Clock = std::chrono::steady_clock;

// A bidirectional byte stream to a shell process in the sandbox. Implemented
// by each runtime's transport. Used by one thread at a time, except close(),
// which may be called from any thread and makes pending calls return.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Writes all of `data` before `deadline`.
  virtual Status write(std::string_view data, Clock::time_point deadline) = 0;
  // Reads at least one byte into `buf` (up to `size`). Returns 0 at end of
  // stream, Timeout when `deadline` passes first.
  virtual Result<std::size_t> read_some(char* buf, std::size_t size, Clock::time_point deadline) = 0;
  // Closes stdin of the remote shell; reading goes on.
  virtual void close_write() = 0;
  // Ends the remote process if still running and releases the stream.
  virtual void close() = 0;
};

// Opens a byte stream to a new process in the sandbox running `argv`.
using StreamOpener = std::function<Result<std::unique_ptr<ByteStream>>(const std::vector<std::string>& argv)>;

// The scaffold's PATH (R2E-Gym's DOCKER_PATH), which it sets for every command.
inline constexpr std::string_view kScaffoldPath =
    "/root/.venv/bin:/root/.local/bin:/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The environment of a command, by default: the image's (the variables its
// ENV sets plus the runtime's, as `docker exec` and a pod's exec see them; for
// the local runtime, LocalRuntimeOptions::env), with PATH set to `path`
// followed by the entries of the image's PATH that `path` lacks, then `env`,
// then ExecOptions::env. Later settings win.
struct ShellSessionOptions {
  // The shell that runs each command: "bash" (default) or "/bin/sh" for strict
  // fidelity with the scaffold, which ran commands under `sh -c`.
  std::string command_shell = "bash";
  // The shell that runs the session loop; must be bash-compatible. Found on
  // the PATH below. The loop is started by /bin/sh, which every image has.
  std::string loop_shell = "bash";
  // Keep cwd and exported variables from one command to the next, as an
  // interactive shell would. Off: every command starts fresh, exactly like
  // one exec per command.
  bool keep_state = false;
  // Directory used when ExecOptions::workdir is empty.
  std::string default_workdir = "/testbed";

  // PATH of every command (default: the scaffold's). Empty: the image's PATH,
  // unchanged.
  std::string path = std::string(kScaffoldPath);
  // Append the entries of the image's PATH that `path` lacks, in their order
  // (empty entries dropped), so toolchains the image installs stay reachable
  // while `path` comes first (an image PATH that is unusable cannot hide bash
  // or coreutils). Off: `path` alone, as the scaffold does.
  bool append_image_path = true;
  // Keep the variables the image sets (VIRTUAL_ENV, JAVA_HOME, LANG, ...), as
  // the scaffold and the harnesses do. Off: commands see only PATH, `env` and
  // ExecOptions::env (`env -i`), whatever the image sets.
  bool keep_image_env = true;
  // Variables removed from the image's environment before commands run
  // (names that are not shell identifiers are ignored). None by default; the
  // Docker runtime adds, against Podman, the variables Podman puts into every
  // container (TERM, container) that neither the image nor the sandbox's
  // variables set, so that commands see what they would see under Docker.
  std::vector<std::string> unset_env;
  // Variables set for every command, over the image's. None by default;
  // StableEnv() is r2e's earlier fixed set.
  std::vector<std::pair<std::string, std::string>> env;

  // Output kept from the start and end of a command's output.
  std::size_t head_bytes = 64 * 1024;
  std::size_t tail_bytes = 64 * 1024;
  // How long after the command's timeout the client gives up waiting for the
  // sandbox and restarts the session.
  std::chrono::milliseconds backstop{700};
  // Bound on starting the loop and seeing its ready line.
  std::chrono::milliseconds start_timeout{std::chrono::seconds(30)};
  // Says whether a failed start of the loop (its error, which quotes what the
  // sandbox printed) is worth another try, on the first start and on every
  // restart after the session died. Up to 4 more tries are made, 50, 100, 200
  // and 400 ms apart. Empty (default): none. The local runtime retries
  // bubblewrap's transient mount failures.
  std::function<bool(const Status&)> retry_start;

  // r2e's earlier fixed command environment, for output that does not depend
  // on the image: HOME=/root, LANG and LC_ALL C.UTF-8, TERM=dumb, NO_COLOR=1,
  // PYTHONDONTWRITEBYTECODE=1, PAGER and GIT_PAGER cat.
  static std::vector<std::pair<std::string, std::string>> StableEnv();
  // The preset for r2e's behaviour before the image's environment was kept:
  // the image's variables dropped, PATH the scaffold's alone, StableEnv()
  // set. Other fields as default.
  static ShellSessionOptions Isolated();
};

namespace internal {
// argv that runs `argv` in the sandbox under `options`' environment rules:
// /bin/sh removes ShellSessionOptions::unset_env, sets PATH (see
// ShellSessionOptions::path), clears the environment when keep_image_env is
// off, enters `workdir` (exit 1 when it cannot;
// empty: stays), then execs argv. Used to start the session loop and by the
// runtimes' one-exec-per-command modes.
std::vector<std::string> SandboxArgv(const ShellSessionOptions& options, const std::string& workdir,
                                     const std::vector<std::string>& argv);
// The main process of a container sandbox, its PID 1 (no init in front):
// a shell that lives `seconds`, then exits (ending the container), reaping
// orphaned processes meanwhile. Nothing inside the sandbox can end it
// sooner: `kill -9 -1`, `kill -9 1` and `pkill -9 -f .` only kill the sleep
// it waits on, which it starts again for the time left. `sleep` is found on
// the system directories before the image's PATH (which may be unusable).
std::vector<std::string> SandboxMainArgv(std::chrono::seconds seconds);
}  // namespace internal

class ShellSession {
 public:
  ShellSession(StreamOpener opener, ShellSessionOptions options = {});
  ~ShellSession();
  ShellSession(const ShellSession&) = delete;
  ShellSession& operator=(const ShellSession&) = delete;

  // Starts the loop now (otherwise the first exec() does). Idempotent.
  Status start();

  // Runs one command. Errors are only for a session that cannot be
  // (re)started or was interrupted; see the header comment for the rest.
  Result<ExecResult> exec(std::string_view command, const ExecOptions& options = {});

  // Makes a running exec() return Cancelled and closes the stream.
  void interrupt();

  // Ends the loop and closes the stream.
  void close();

  // Sessions started so far, including restarts.
  int starts() const { return starts_; }

  // The session loop's shell source, run (by the launcher of SandboxArgv) as
  // `bash --norc -c <script> r2e-session <ready nonce> [KEY=VALUE...]`.
  static std::string_view LoopScript();

 private:
  Status open_locked();  // with ShellSessionOptions::retry_start's tries
  Status open_once_locked();
  Result<ExecResult> exec_locked(std::string_view command, const ExecOptions& options);
  std::string prelude(const ExecOptions& options) const;

  StreamOpener opener_;
  ShellSessionOptions options_;
  std::mutex exec_mu_;
  std::mutex stream_mu_;  // guards stream_ pointer swaps against interrupt()
  std::shared_ptr<ByteStream> stream_;
  std::atomic<bool> interrupted_{false};
  bool closed_ = false;  // after close(), no new shell is started
  int starts_ = 0;
  std::string pending_;  // bytes read past the last marker (dropped on next command)
};

// A runtime's current shell session: started by the runtime's start(), used
// by exec() on any thread, ended by stop(). One sequence for every runtime,
// so that a stop() racing with exec() behaves the same on all of them.
// Thread-safe.
class SessionSlot {
 public:
  // Starts a session over `opener`; on success it becomes the current one
  // (replacing none: call Take() first). On failure the slot stays empty.
  Status Open(StreamOpener opener, ShellSessionOptions options);

  // The current session, or null before Open() and after Take(). A copy
  // stays usable after Take(): its exec() then returns Cancelled.
  std::shared_ptr<ShellSession> Get() const;

  // Empties the slot and interrupts the session's running exec() without
  // waiting for it, so that stopping is never delayed by a command. Returns
  // the session (null if the slot was empty) for Close().
  std::shared_ptr<ShellSession> Take();

  // Closes `taken` (from Take()) and any session opened since, by a start()
  // that was running when Take() was called. A runtime's stop() calls
  // Take(), then its lifecycle lock (which start() holds), then Close().
  void Close(std::shared_ptr<ShellSession> taken);

 private:
  mutable std::mutex mu_;
  std::shared_ptr<ShellSession> session_;
};

}  // namespace r2e

#endif  // R2E_SESSION_H_
