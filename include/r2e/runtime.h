// Runtime: the one abstraction every sandbox backend implements (local
// processes, Docker containers, Kubernetes pods), in the manner of LevelDB's
// Env. RepoEnv and the graders talk only to this interface.
//
// Lifecycle: construct, start(spec), any number of exec/file calls, stop().
// A Runtime holds at most one sandbox; start() after stop() makes a new one.
// The destructor calls stop(); it never throws and never leaks the sandbox.
//
// Thread-safety: a Runtime is used by one thread at a time (calls are
// serialized internally, so concurrent calls are safe but wait for each
// other), except stop(), kill() and alive(), which may be called from any
// thread at any time; stop() aborts a running exec(), which then returns
// Cancelled.
//
// Timeouts: exec() bounds the whole command by ExecOptions::timeout and
// returns within that timeout plus about one second even when the sandbox
// does not cooperate. start() and stop() are bounded by the backend's
// options.
//
// Backends are made through a RuntimeFactory; runtimes.h has the factories
// of the three built-in ones and names them for the command line.
// RuntimeWrapper (runtime_wrapper.h) is the base for runtimes that wrap
// another one.
#ifndef R2E_RUNTIME_H_
#define R2E_RUNTIME_H_

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r2e/exec.h"
#include "r2e/status.h"

namespace r2e {

// What a sandbox is made from. Backends use the parts that apply to them.
struct SandboxSpec {
  // Container image (docker, kube). Ignored by the local runtime.
  std::string image;
  // Identifies the task in labels and logs.
  std::string task_id;
  // Host files or directories copied into the sandbox before it starts:
  // {host path, sandbox path}. The local runtime needs the repository here as
  // {repo, "/testbed"}; container runtimes copy them in after start.
  std::vector<std::pair<std::filesystem::path, std::string>> copy_in;
  // Environment for every command, over the image's and the session's (see
  // ShellSessionOptions).
  std::vector<std::pair<std::string, std::string>> env;
  // Labels on the sandbox, over the runtime's own (Docker containers,
  // Kubernetes pods; the local runtime has none).
  std::vector<std::pair<std::string, std::string>> labels;
};

// A directory that this process and a sandbox both see, where named pipes
// made here can be opened inside the sandbox (only pipes: the sandbox may
// see it read-only, and may remove or replace what is in it). Calls that
// skip the shell session use it: r2e's tool server takes tool calls through
// it (see CallTool in tools.h).
struct PipeDirectory {
  std::filesystem::path host_path;  // empty: the runtime has none
  std::string sandbox_path;         // where the sandbox sees it
  // Mode of the pipes made in it: 0600, or 0666 when the sandbox's commands
  // may run as another user than this process.
  unsigned pipe_mode = 0600;
  // The user to give the pipes to (a rootless daemon's, when this process is
  // root), or -1.
  long pipe_owner = -1;
  // The session's output bounds (ShellSessionOptions::head_bytes and
  // tail_bytes), which output read through the pipes keeps too.
  std::size_t head_bytes = 64 * 1024;
  std::size_t tail_bytes = 64 * 1024;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // "local", "docker", "kube", or a test double's name.
  virtual std::string_view name() const = 0;

  // Creates and starts the sandbox. On failure nothing is left running and
  // the Status says why (missing image, daemon down, bad path, ...).
  virtual Status start(const SandboxSpec& spec) = 0;

  // Removes the sandbox and everything it started. Idempotent.
  virtual Status stop() = 0;

  // True while the sandbox exists and can run commands.
  virtual bool alive() = 0;

  // Runs `command` (shell text, run by bash) in the sandbox. A command that
  // fails, prints garbage or times out is not an error: see ExecResult. An
  // error Status means the sandbox could not run it (not started, dead,
  // unreachable); a dead session is restarted on the next call.
  virtual Result<ExecResult> exec(std::string_view command, const ExecOptions& options = {}) = 0;

  // Copies a host file or directory to `sandbox_path` (created or replaced),
  // and back.
  virtual Status upload(const std::filesystem::path& host_path, const std::string& sandbox_path) = 0;
  virtual Status download(const std::string& sandbox_path, const std::filesystem::path& host_path) = 0;

  // Reads or writes a whole file. write_file creates parent directories.
  virtual Result<std::string> read_file(const std::string& sandbox_path) = 0;
  virtual Status write_file(const std::string& sandbox_path, std::string_view content, int mode = 0644) = 0;

  // The path by which commands reach `sandbox_path`: the path itself, except
  // in a sandbox without a filesystem view of its own (LocalRuntime without
  // bubblewrap), where it is the host path that backs it.
  virtual std::string command_path(const std::string& sandbox_path) const { return sandbox_path; }

  // The shell that runs each exec() command: "bash" unless the runtime's
  // ShellSessionOptions::command_shell says otherwise.
  virtual std::string command_shell() const { return "bash"; }

  // The PATH each command starts with (ShellSessionOptions::path); empty
  // when the runtime leaves the image's PATH as it is. A caller that sets
  // PATH for a command (ExecOptions::env) builds on this.
  virtual std::string session_path() const { return ""; }

  // True when the session keeps state (working directory, exported
  // variables) from one command to the next (ShellSessionOptions::keep_state),
  // so that a command's effects outlive it outside the filesystem.
  virtual bool keeps_state() const { return false; }

  // The running sandbox's pipe directory; an empty host_path (the default)
  // when it has none, e.g. a Docker daemon on another machine. Calls through
  // it are not serialized with exec(): the caller keeps to one at a time.
  virtual PipeDirectory pipe_directory() const { return {}; }

  // True when sandboxes run SandboxSpec::image (containers); false when the
  // sandbox is built from host directories alone (SandboxSpec::copy_in, as
  // LocalRuntime's is), so a task needs its repository on this machine.
  virtual bool uses_image() const { return true; }

  // True when commands cannot reach this machine's files and processes
  // outside the sandbox (containers; LocalRuntime only under bubblewrap).
  virtual bool isolated() const { return true; }

  // Tells apart runtimes whose sandboxes differ for the same SandboxSpec:
  // the backend and the options that choose where and from what a sandbox
  // is made (an image override, a cluster and namespace). Warm pools use it
  // so that their sandboxes go only to environments that would make the same.
  virtual std::string sandbox_key() const { return std::string(name()); }

  // Ends the sandbox abruptly, from any thread, without waiting for a call
  // in progress: that call returns an error soon, and so do later ones
  // until stop() (which then removes what is left) or start(). The default
  // calls stop(); DockerRuntime kills the container through the daemon, so
  // that the caller's thread meets a dead container rather than a runtime
  // halfway through stopping.
  virtual void kill() { (void)stop(); }

  // Whole-sandbox checkpoints (RepoEnv's SnapshotScope::kSandbox): every
  // path the running sandbox can write, saved while it runs (a file being
  // written meanwhile may be caught halfway); never its processes.
  //
  // checkpoint() saves and returns a reference to the saved state, valid
  // until release_checkpoint() or stop(), which releases every checkpoint
  // this runtime made. revert() brings the sandbox to a checkpoint of this
  // runtime or of another runtime of the same backend and options still
  // holding it (a fork): every process in the sandbox ends and its session
  // starts again; the sandbox paths in `keep` keep their current contents
  // (the content of one is whole, not merged). After a failed revert the
  // sandbox may be gone: stop() and start() make a new one.
  //
  // The default is Unimplemented: where a backend cannot, it says so.
  virtual Result<std::string> checkpoint();
  virtual Status revert(const std::string& checkpoint, const std::vector<std::string>& keep);
  virtual Status release_checkpoint(const std::string& checkpoint);

 protected:
  Runtime() = default;
};

// Makes a new, unstarted runtime. runtimes.h has those of the built-in
// backends; tests and embedders pass their own.
using RuntimeFactory = std::function<Result<std::unique_ptr<Runtime>>()>;

}  // namespace r2e

#endif  // R2E_RUNTIME_H_
