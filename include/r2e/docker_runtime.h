// DockerRuntime: each sandbox is a container of the task's image, driven
// through the Docker Engine REST API over its Unix socket (no docker CLI).
//
// Commands run through ShellSession over one persistent shell per sandbox (a
// step costs no container exec), or, as an option, one exec per command (for
// comparison, and for images without bash). The session's bytes pass through
// two named pipes in a host directory bind-mounted read-only into the
// container when the daemon runs on this machine, and through the daemon's
// hijacked exec connection otherwise.
//
// Every container carries its own death: labels r2e.managed=1, the owner
// (host, pid, process start time), the task id and an expiry time, and a main
// process that ends after max_lifetime with AutoRemove, so even a client
// killed with SIGKILL leaks nothing for longer than that. CleanupSandboxes()
// (`r2e cleanup`) removes expired or orphaned ones earlier.
//
// Contracts: as Runtime (runtime.h). start() either leaves a running,
// reachable container or nothing at all.
#ifndef R2E_DOCKER_RUNTIME_H_
#define R2E_DOCKER_RUNTIME_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "r2e/cleanup_report.h"
#include "r2e/runtime.h"
#include "r2e/session.h"

namespace r2e {

namespace docker {
class DockerClient;
}

struct DockerRuntimeOptions {
  // Daemon socket; empty: $DOCKER_HOST (unix://PATH), else /var/run/docker.sock.
  std::string socket_path;
  // Image to use instead of the spec's.
  std::string image;

  enum class Pull { kIfMissing, kAlways, kNever };
  // Pull only when the image is not local (never re-pull a local image unless kAlways).
  Pull pull = Pull::kIfMissing;
  // Base64 X-Registry-Auth value for pulls; empty for anonymous.
  std::string registry_auth;

  std::string workdir = "/testbed";
  std::vector<std::pair<std::string, std::string>> env;
  std::int64_t memory_bytes = 0;   // 0: no limit
  std::int64_t nano_cpus = 0;      // 1e9 per CPU; 0: no limit
  std::int64_t pids_limit = 4096;  // contains fork bombs; 0: no limit
  std::string network_mode;        // "" (daemon default), "none", "host", ...
  std::vector<std::pair<std::string, std::string>> labels;  // extra labels
  std::string user;                // "" : the image's user

  // The container removes itself after this long whatever happens to us.
  std::chrono::seconds max_lifetime{std::chrono::hours(4)};

  enum class ExecMode { kSession, kPerCommand };
  ExecMode exec_mode = ExecMode::kSession;

  // How session bytes travel. kAuto: named pipes shared through a host
  // directory (no daemon relay: about 0.3 ms less per step), falling back to
  // the hijacked exec when the container cannot see them (a remote or
  // rootless daemon); kPipes: pipes or fail; kExec: always the hijacked exec.
  enum class SessionTransport { kAuto, kPipes, kExec };
  SessionTransport session_transport = SessionTransport::kAuto;
  // Host directory holding one subdirectory per container for the pipes;
  // empty: $XDG_RUNTIME_DIR/r2e-sessions, else /tmp/r2e-sessions-<uid>.
  std::string session_dir;

  ShellSessionOptions session;
};

class DockerRuntime final : public Runtime {
 public:
  explicit DockerRuntime(DockerRuntimeOptions options = {});
  ~DockerRuntime() override;

  std::string_view name() const override { return "docker"; }
  // Finds the image (pulling it as options.pull allows), creates and starts
  // the container, copies spec.copy_in into it and opens the session.
  Status start(const SandboxSpec& spec) override;
  // Removes the container and its pipe directory.
  Status stop() override;
  bool alive() override;
  // In the session, or one Engine exec per command (options.exec_mode).
  Result<ExecResult> exec(std::string_view command, const ExecOptions& options = {}) override;
  // Files move as tar archives through the Engine's archive endpoint.
  Status upload(const std::filesystem::path& host_path, const std::string& sandbox_path) override;
  Status download(const std::string& sandbox_path, const std::filesystem::path& host_path) override;
  Result<std::string> read_file(const std::string& sandbox_path) override;
  Status write_file(const std::string& sandbox_path, std::string_view content, int mode = 0644) override;
  std::string command_shell() const override { return options_.session.command_shell; }
  std::string session_path() const override { return options_.session.path; }
  bool keeps_state() const override { return options_.session.keep_state; }
  // The container's session pipe directory (DockerRuntimeOptions::
  // session_dir), while the session runs over pipes in it.
  PipeDirectory pipe_directory() const override;
  // "docker" and the image override.
  std::string sandbox_key() const override { return "docker " + options_.image; }
  // Kills the container through the daemon (its main process dies, a
  // running exec() ends, the container removes itself); stop() removes what
  // is left. Nothing happens before start() has made a container.
  void kill() override;
  // Checkpoints are images, committed from the running container and named
  // r2e-checkpoint:<container name>-<n>; a reverted container is made from
  // one (holding it by a name of its own while it runs). stop() removes the
  // names, and `r2e cleanup` those of a process that is gone.
  Result<std::string> checkpoint() override;
  Status revert(const std::string& checkpoint, const std::vector<std::string>& keep) override;
  Status release_checkpoint(const std::string& checkpoint) override;

  // The running container's id and name (empty when none).
  std::string container_id() const;
  std::string container_name() const;
  // The resource limits of the options (memory_bytes, nano_cpus,
  // pids_limit) that the daemon did not apply to the running container, as
  // "PidsLimit=4096": a rootless daemon without cgroup delegation accepts
  // limits and applies none. Empty when all apply. The sandbox runs anyway;
  // the first such start of the process logs a warning.
  std::vector<std::string> unenforced_limits() const;

  // Of `images`, those the daemon does not have (under options.image when
  // set: it replaces every spec's image). Unavailable when no daemon answers
  // at options.socket_path.
  static Result<std::vector<std::string>> MissingImages(const std::vector<std::string>& images,
                                                        const DockerRuntimeOptions& options = {});
  // Pulls `image` (authenticated by options.registry_auth).
  static Status PullImage(const std::string& image, const DockerRuntimeOptions& options = {});
  // Gives the image `source` the further name `target` ("repo" or
  // "repo:tag"), as `docker tag` does: copies of one image under distinct
  // names, e.g. for tasks that must look distinct to a scheduler. NotFound
  // when `source` is absent.
  static Status TagImage(const std::string& source, const std::string& target,
                         const DockerRuntimeOptions& options = {});
  // Removes the name `image`, as `docker rmi` of one of several names does:
  // the image goes only with its last name. OK when the name is absent; an
  // error when it is the last name of an image a container still uses.
  static Status UntagImage(const std::string& image, const DockerRuntimeOptions& options = {});
  // Ids of the containers, in any state, that carry r2e's label and name
  // this process as their owner: what a leak check counts after closing
  // every environment.
  static Result<std::vector<std::string>> OwnContainers(const DockerRuntimeOptions& options = {});

 private:
  Status connect();
  Result<ExecResult> exec_per_command(std::string_view command, const ExecOptions& options);
  Status put_file_tar(const std::string& dir, const std::string& tar);
  // Removes the container and its pipe directory, and forgets them even when
  // removing fails (the lifetime guard and the reaper still remove it).
  Status remove_container();
  // Creates and starts a container from `image` for `spec` (env_ set), named
  // after the image `named_after`, with `before_start` run once it is
  // created; removes it on failure.
  Status start_container(const std::string& image, const std::string& named_after,
                         const SandboxSpec& spec,
                         const std::function<Status(const std::string& name)>& before_start);
  Status read_unenforced_limits(const std::string& id);
  // Removes the names of every checkpoint this runtime made or runs from.
  void release_checkpoints();

  // options_.session.unset_env is this list plus, against Podman, the
  // variables Podman adds (set again at every start()).
  DockerRuntimeOptions options_;
  const std::vector<std::string> requested_unset_env_;
  std::shared_ptr<docker::DockerClient> client_;
  mutable std::mutex state_mu_;
  std::mutex lifecycle_mu_;
  std::string id_;
  std::string name_;
  std::vector<std::string> unenforced_limits_;
  std::vector<std::pair<std::string, std::string>> env_;
  SessionSlot session_;
  std::filesystem::path fifo_dir_;  // this container's pipe directory, if any
  std::shared_ptr<std::atomic<bool>> session_pipes_;  // whether the session still uses it
  SandboxSpec spec_;                      // the last start()'s, without copy_in: a revert's
  std::vector<std::string> checkpoints_;  // names of the checkpoints made and not released
  std::string running_from_;              // the checkpoint name the container holds, if any
  int checkpoint_count_ = 0;
};

struct CleanupOptions {
  std::string socket_path;  // as DockerRuntimeOptions::socket_path
  bool all = false;         // every container with our label, not only expired/orphaned ones
  bool dry_run = false;     // report, remove nothing
};

// Removes containers labelled r2e.managed=1 whose expiry passed or whose
// owner process (on this host) is gone; never touches other containers. Also
// removes session pipe directories (DockerRuntimeOptions::session_dir, default
// location) left by containers that no longer exist, and the names of
// checkpoint images (r2e-checkpoint:<container>-<n>) by the same rules (they
// carry their container's labels).
Result<CleanupReport> CleanupSandboxes(const CleanupOptions& options = {});

}  // namespace r2e

#endif  // R2E_DOCKER_RUNTIME_H_
