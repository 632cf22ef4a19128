// LocalRuntime: the embedded default runtime. No daemon: the sandbox is a
// private working directory on this machine, presented at /testbed (and a
// private /root, /tmp and /var/tmp) through bubblewrap when it is installed,
// in its own PID, IPC and UTS namespaces, dying with its parent. The
// sandbox's root is new and empty but for the host's system directories
// (/usr, /bin, /sbin, /lib*) and what commands read of /etc (users, name
// resolution, the dynamic linker, certificates, alternatives, time zone,
// locale, Python's and git's configuration), all read-only, plus the paths
// LocalRuntimeOptions::read_only_binds names: /home, /var, /opt, /srv, /mnt,
// checkouts, container engines' storage (other sandboxes' files) and the
// rest of the host do not exist there. Without bwrap it falls back to plain
// child processes in the working directory (no isolation: commands see the
// host; documented, not hidden).
//
// On an image (LocalRuntimeOptions::image or use_task_image) the sandbox's
// root is instead the image's root filesystem from an ImageStore (no Docker
// daemon involved), read-only and shared by every sandbox of the image, with
// private copies of its /testbed, /root, /tmp, /run, /var/tmp and /etc that
// the sandbox may write (elsewhere, e.g. /usr, writes fail; ImageLayer), the
// image's Env applied, and its processes run as the image's User as Docker
// runs them (a user other than root needs this process to be root). Files
// r2e itself creates there (copy_in, write_file, upload) belong to that user.
// Needs bubblewrap.
//
// Contracts: as Runtime. The working directory is removed by stop() and by
// the destructor.
#ifndef R2E_LOCAL_RUNTIME_H_
#define R2E_LOCAL_RUNTIME_H_

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "r2e/image_store.h"
#include "r2e/runtime.h"
#include "r2e/session.h"

namespace r2e {
namespace internal {
struct ImageUser;
}  // namespace internal

struct LocalRuntimeOptions {
  enum class Isolation {
    kAuto,        // bubblewrap when `bwrap` works, else none
    kBubblewrap,  // require bubblewrap; start() fails without it
    kNone,        // plain processes in the working directory
  };
  Isolation isolation = Isolation::kAuto;

  // Where private working directories are made; empty: $TMPDIR or /tmp.
  std::filesystem::path work_root;

  // Share the host's network (bubblewrap only). Off gives an empty network
  // namespace.
  bool network = true;

  // Host paths the sandbox also shows, read-only, at the same place (bubblewrap
  // only), e.g. a toolchain under /opt or a virtualenv the commands use.
  // Absolute paths of existing files or directories: start() fails with
  // InvalidArgument or NotFound otherwise.
  std::vector<std::filesystem::path> read_only_binds;

  // Keep the working directory after stop(), for debugging.
  bool keep_workdir = false;

  // The sandbox's own environment: what an image's ENV is to the container
  // runtimes (the host's environment never reaches the sandbox). HOME and
  // TMPDIR are the sandbox's private /root and /tmp unless set here.
  // ShellSessionOptions applies to it as to an image's: commands keep these
  // variables, and their PATH is the session's followed by this PATH's
  // entries.
  std::vector<std::pair<std::string, std::string>> env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"LANG", "C.UTF-8"},
  };

  ShellSessionOptions session;

  // Run sandboxes on this image instead of the host's system directories:
  // "docker-archive:PATH[:REPO:TAG]", "oci:PATH[:TAG]" or a registry
  // reference (ImageStore). It replaces every task's image. Empty: no image,
  // unless use_task_image.
  std::string image;
  // Run each task's own image (SandboxSpec::image, a row's docker_image),
  // unless `image` is set.
  bool use_task_image = false;
  // Where images are cached and how (used only on an image).
  ImageStoreOptions image_store;
  // What a sandbox of an image may write (docs/local-images.md):
  enum class ImageLayer {
    kAuto,     // kOverlay where this process can mount it, else kCopy
    kOverlay,  // an overlayfs over the image's root: the whole root writable,
               // only what the sandbox writes stored (root, or a kernel that
               // allows overlayfs in a user namespace)
    kCopy,     // private copies of /testbed, /root, /tmp, /run, /var/tmp and
               // /etc made at start; the rest of the root read-only
  };
  ImageLayer image_layer = ImageLayer::kAuto;
};

class LocalRuntime final : public Runtime {
 public:
  explicit LocalRuntime(LocalRuntimeOptions options = {});
  ~LocalRuntime() override;

  std::string_view name() const override { return "local"; }
  // Makes a fresh work directory, copies spec.copy_in into it and starts the
  // session's shell (under bubblewrap when options.isolation asks for it or
  // finds it).
  Status start(const SandboxSpec& spec) override;
  // Ends the session's shell and the processes of its process group.
  Status stop() override;
  bool alive() override;
  Result<ExecResult> exec(std::string_view command, const ExecOptions& options = {}) override;
  // Plain file copies on this machine; refused through a symlink the agent
  // may have planted.
  Status upload(const std::filesystem::path& host_path, const std::string& sandbox_path) override;
  Status download(const std::string& sandbox_path, const std::filesystem::path& host_path) override;
  Result<std::string> read_file(const std::string& sandbox_path) override;
  Status write_file(const std::string& sandbox_path, std::string_view content, int mode = 0644) override;
  std::string command_path(const std::string& sandbox_path) const override;
  std::string command_shell() const override { return options_.session.command_shell; }
  std::string session_path() const override { return options_.session.path; }
  bool keeps_state() const override { return options_.session.keep_state; }
  // A directory of the sandbox's working directory, seen inside as
  // /run/r2e-session (under bubblewrap); none for sandboxes on an image.
  PipeDirectory pipe_directory() const override;
  // False unless options.image or use_task_image: the sandbox is then made
  // from SandboxSpec::copy_in and the task's image is ignored.
  bool uses_image() const override { return on_image(); }
  std::string sandbox_key() const override;
  // Checkpoints are copies of the sandbox's writable layer (with the
  // overlay its upper directory, else the directories that back /testbed,
  // /root, /tmp and /var/tmp, and on an image /run and /etc) in the working
  // directory, taken while it runs; a revert copies one back between two
  // sessions. Only under bubblewrap, whose sandbox's processes all end with
  // its session.
  Result<std::string> checkpoint() override;
  Status revert(const std::string& checkpoint, const std::vector<std::string>& keep) override;
  Status release_checkpoint(const std::string& checkpoint) override;
  // On an image, after start(): whether the overlay layer is in use (else
  // the copy layer).
  bool overlay_layer() const { return overlay_; }
  // True when this runtime isolates with bubblewrap (after start()).
  bool isolated() const override { return use_bwrap_; }
  // The host directory that backs the sandbox: empty before start(); after
  // stop() it still names the (removed) directory until the next start(), so
  // that stop() from another thread never changes it under a reader.
  const std::filesystem::path& workdir() const { return workdir_; }
  // The host path that backs a sandbox path under /testbed, /root, /tmp or
  // /var/tmp (on an image with the copy layer also /run and /etc; with the
  // overlay every path, through /proc/PID/root of the sandbox, valid while
  // its session runs); InvalidArgument for others.
  Result<std::filesystem::path> host_path(const std::string& sandbox_path) const;

  // Whether bubblewrap is installed and can create namespaces here.
  static bool BubblewrapAvailable();

 private:
  std::vector<std::string> sandbox_argv(const std::vector<std::string>& argv) const;
  bool on_image() const { return !options_.image.empty() || options_.use_task_image; }
  Status start_on_image(const SandboxSpec& spec, std::vector<std::string>& process_env);
  // Sets up the switch to `user` when it is not root (run_as_).
  Status run_as(const internal::ImageUser& user);
  // The directory host-side file operations resolve sandbox paths in.
  std::filesystem::path files_root() const;
  // The directories of the working directory that hold what the sandbox
  // wrote, and a text that tells sandboxes with the same layout of them.
  std::vector<std::string> layer_dirs() const;
  std::string layer_layout() const;
  // Where in the writable layer a sandbox path's own content is.
  Result<std::filesystem::path> layer_path(const std::string& sandbox_path) const;

  LocalRuntimeOptions options_;
  std::mutex lifecycle_mu_;  // serializes start() and stop()
  std::filesystem::path workdir_;  // written by start() only
  std::atomic<bool> has_sandbox_{false};  // between a successful start() and stop()
  bool use_bwrap_ = false;
  ImageLease image_;     // on an image: held from start() to stop()
  bool overlay_ = false;  // on an image: the overlay layer (else copy)
  std::atomic<pid_t> sandbox_pid_{0};  // the overlay's namespace holder
  // On an image whose User is not root: that user, and r2e-run-as's
  // arguments before the program (empty: the sandbox runs as root).
  uid_t user_uid_ = 0;
  gid_t user_gid_ = 0;
  std::vector<std::string> run_as_;
  SessionSlot session_;
  // What start() opened the session with: a revert opens it again.
  StreamOpener session_opener_;
  ShellSessionOptions session_options_;
  int checkpoint_count_ = 0;
};

}  // namespace r2e

#endif  // R2E_LOCAL_RUNTIME_H_
