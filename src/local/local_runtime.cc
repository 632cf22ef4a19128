#include "r2e/local_runtime.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <system_error>
#include <thread>

#include "core/text.h"
#include "local/image_root.h"
#include "local/pipe_stream.h"
#include "local/run_as.h"
#include "r2e/shell_quote.h"

namespace r2e {
namespace fs = std::filesystem;

namespace {

// The sandbox paths backed by the private working directory.
constexpr std::string_view kPrivateRoots[] = {"testbed", "root", "tmp"};
// /var/tmp is the sandbox's own too (the scaffold's file editor keeps its undo
// history there), backed by this directory of the working directory.
constexpr std::string_view kVarTmp = "var-tmp";
// The pipe directory (see pipe_directory()): its backing directory and where
// the sandbox sees it.
constexpr std::string_view kPipeDir = "pipes";
constexpr std::string_view kPipeSandboxDir = "/run/r2e-session";

Status CopyTree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (fs::is_directory(from, ec)) {
    fs::create_directories(to, ec);
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks |
                           fs::copy_options::overwrite_existing, ec);
  } else {
    fs::copy(from, to, fs::copy_options::copy_symlinks | fs::copy_options::overwrite_existing, ec);
  }
  if (ec) return Status::Internal("copying " + from.string() + " to " + to.string() + ": " + ec.message());
  return Status::OK();
}

// The host's system directories, shown read-only at the same place (merged-
// /usr symlinks are recreated as symlinks).
constexpr std::string_view kSystemDirs[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"};

// What commands read of /etc: users and groups, name resolution, the dynamic
// linker, certificates, alternatives (e.g. /usr/bin/awk), time zone and
// locale, the OS release, terminal and MIME data, git's and Python's system
// configuration. A trailing '*' matches a prefix (python3.11, ...).
constexpr std::string_view kSharedEtcEntries[] = {
    "passwd", "group", "nsswitch.conf", "host.conf", "hosts", "resolv.conf", "gai.conf", "protocols",
    "services", "networks", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "ssl", "ca-certificates",
    "ca-certificates.conf", "pki", "alternatives", "localtime", "timezone", "locale.alias", "locale.conf",
    "os-release", "debian_version", "lsb-release", "mime.types", "magic", "magic.mime", "terminfo",
    "inputrc", "shells", "login.defs", "mtab", "gitconfig", "python3*", "perl"};

bool EtcEntryIsShared(std::string_view name) {
  for (std::string_view shared : kSharedEtcEntries) {
    if (shared.ends_with('*') ? name.starts_with(shared.substr(0, shared.size() - 1)) : name == shared) return true;
  }
  return false;
}

// Shows the host's `path` at the same place, read-only. A symlink into /usr
// or /proc (which the sandbox has) is recreated as it is; one that points
// elsewhere (e.g. /etc/resolv.conf into /run) is replaced by what it points
// at, so the sandbox sees the content without the rest of that directory.
void BindHostEntry(const fs::path& path, std::vector<std::string>& argv) {
  std::error_code ec;
  const auto status = fs::symlink_status(path, ec);
  if (ec || !fs::exists(status)) return;
  if (fs::is_symlink(status)) {
    const fs::path target = fs::canonical(path, ec);
    if (ec) return;  // dangling: leave it out
    const std::string resolved = target.string();
    if (resolved.starts_with("/usr/") || resolved.starts_with("/proc/")) {
      argv.insert(argv.end(), {"--symlink", fs::read_symlink(path, ec).string(), path.string()});
      return;
    }
    argv.insert(argv.end(), {"--ro-bind", resolved, path.string()});
    return;
  }
  argv.insert(argv.end(), {"--ro-bind", path.string(), path.string()});
}

// bwrap's absolute path on this host (the overlay launcher's shell would look
// it up on the image's PATH).
std::string BubblewrapPath() {
  static const std::string path = [] {
    const char* env_path = std::getenv("PATH");
    std::string dirs = env_path != nullptr ? env_path : "/usr/bin:/bin";
    for (std::size_t start = 0; start <= dirs.size();) {
      const std::size_t colon = std::min(dirs.find(':', start), dirs.size());
      const fs::path candidate = fs::path(dirs.substr(start, colon - start)) / "bwrap";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
      start = colon + 1;
    }
    return std::string("/usr/bin/bwrap");
  }();
  return path;
}

// The descriptor a non-root image's sandbox runs r2e-run-as from.
constexpr int kRunAsChildFd = 3;

// r2e-run-as as a sealed memfd, made once per process and reopened read-only
// (an executable open for writing cannot be run): the descriptor, or -1.
int RunAsHelperFd() {
  static const int fd = [] {
    const std::string_view helper = internal::RunAsHelper();
    if (helper.empty()) return -1;
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux 6.3: asked for where vm.memfd_noexec would seal it
#endif
    int writable = ::memfd_create("r2e-run-as", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (writable < 0 && errno == EINVAL) writable = ::memfd_create("r2e-run-as", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (writable < 0) return -1;
    bool ok = ::fchmod(writable, 0555) == 0;
    for (std::size_t done = 0; ok && done < helper.size();) {
      const ssize_t n = ::write(writable, helper.data() + done, helper.size() - done);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) done += static_cast<std::size_t>(n);
    }
    ok = ok && ::fcntl(writable, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0;
    const int readable =
        ok ? ::open(("/proc/self/fd/" + std::to_string(writable)).c_str(), O_RDONLY | O_CLOEXEC) : -1;
    ::close(writable);
    // Above the standard streams, which a spawn rewires before it moves
    // this descriptor to kRunAsChildFd.
    const int high = readable >= 0 ? ::fcntl(readable, F_DUPFD_CLOEXEC, 10) : -1;
    if (readable >= 0) ::close(readable);
    return high;
  }();
  return fd;
}

// Gives what r2e copied from `source` to `dest` (a path below `root`) to
// the sandbox's user: `dest` and, for a directory, the entries that `source`
// has, nothing else. Every path is resolved inside `root` and no final
// symlink is followed, so a link the agent or the image planted (or swaps
// in meanwhile) cannot make r2e give away a host file.
void GiveToUser(const fs::path& root, const fs::path& dest, const fs::path& source, uid_t uid, gid_t gid) {
  const int root_fd = ::open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (root_fd < 0) return;
  const fs::path rel = dest.lexically_relative(root);
  auto give = [&](const fs::path& path) {
    if (path.empty() || *path.begin() == "..") return;
    const int parent = internal::OpenInRoot(root_fd, path.parent_path(), O_PATH | O_DIRECTORY, 0);
    if (parent < 0) return;
    (void)::fchownat(parent, path.filename().c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
    ::close(parent);
  };
  give(rel);
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(source, ec))) {
    for (auto it = fs::recursive_directory_iterator(source, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      give(rel / it->path().lexically_relative(source));
    }
  }
  ::close(root_fd);
}

}  // namespace


LocalRuntime::LocalRuntime(LocalRuntimeOptions options) : options_(std::move(options)) {}

LocalRuntime::~LocalRuntime() { stop(); }

bool LocalRuntime::BubblewrapAvailable() {
  static const bool available = [] {
    // Namespaces may be forbidden (nested containers, sysctls): try once.
    int rc = std::system("bwrap --ro-bind / / --unshare-pid --die-with-parent true >/dev/null 2>&1");
    return rc == 0;
  }();
  return available;
}

PipeDirectory LocalRuntime::pipe_directory() const {
  // Sandboxes on an image have no place for it yet (their /run is the
  // image's, read-only).
  if (!has_sandbox_ || on_image()) return {};
  PipeDirectory d;
  d.host_path = workdir_ / kPipeDir;
  d.sandbox_path = use_bwrap_ ? std::string(kPipeSandboxDir) : d.host_path.string();
  d.pipe_mode = run_as_.empty() ? 0600 : 0666;
  d.head_bytes = options_.session.head_bytes;
  d.tail_bytes = options_.session.tail_bytes;
  return d;
}

std::vector<std::string> LocalRuntime::sandbox_argv(const std::vector<std::string>& argv) const {
  if (!use_bwrap_) return argv;
  std::vector<std::string> a = {"bwrap", "--die-with-parent", "--unshare-pid", "--unshare-ipc",
                                "--unshare-uts", "--hostname", "r2e-sandbox"};
  if (!options_.network) a.push_back("--unshare-net");
  if (image_.held()) {
    const std::vector<std::string> root =
        overlay_ ? internal::OverlayRootArgs(workdir_) : internal::ImageRootArgs(image_.image().rootfs, workdir_);
    a.insert(a.end(), root.begin(), root.end());
    // A non-root User: r2e-run-as (inherited as a descriptor) gets the two
    // capabilities it needs to become that user, which it then loses.
    if (!run_as_.empty()) a.insert(a.end(), {"--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"});
    a.insert(a.end(), {"--chdir", "/testbed", "--"});
    a.insert(a.end(), run_as_.begin(), run_as_.end());
    a.insert(a.end(), argv.begin(), argv.end());
    if (!overlay_) return a;
    a.front() = BubblewrapPath();  // found on the host's PATH, not the image's
    return internal::OverlayLauncher(image_.image().rootfs, workdir_, a);
  }
  // A new, empty root: only what commands need of the host, read-only (the
  // system's programs and libraries, part of /etc), then the sandbox's own
  // directories. The rest of the host (/home, /var, /opt, /srv, checkouts,
  // container engines' storage with other sandboxes' files) does not exist.
  std::error_code ec;
  for (std::string_view dir : kSystemDirs) BindHostEntry(fs::path("/") / dir, a);
  a.insert(a.end(), {"--dir", "/etc"});
  for (const auto& entry : fs::directory_iterator("/etc", ec)) {
    if (EtcEntryIsShared(entry.path().filename().string())) BindHostEntry(entry.path(), a);
  }
  for (const auto& extra : options_.read_only_binds) {
    a.insert(a.end(), {"--ro-bind", extra.string(), extra.string()});
  }
  a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/run"});
  a.insert(a.end(), {"--ro-bind", (workdir_ / kPipeDir).string(), std::string(kPipeSandboxDir)});
  for (std::string_view root : kPrivateRoots) {
    a.insert(a.end(), {"--bind", (workdir_ / root).string(), "/" + std::string(root)});
  }
  a.insert(a.end(), {"--bind", (workdir_ / kVarTmp).string(), "/var/tmp"});
  a.insert(a.end(), {"--chdir", "/testbed", "--"});
  a.insert(a.end(), argv.begin(), argv.end());
  return a;
}

Status LocalRuntime::start(const SandboxSpec& spec) {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  if (session_.Get()) return Status::FailedPrecondition("local sandbox already started; call stop() first");

  switch (options_.isolation) {
    case LocalRuntimeOptions::Isolation::kAuto: use_bwrap_ = BubblewrapAvailable(); break;
    case LocalRuntimeOptions::Isolation::kBubblewrap:
      if (!BubblewrapAvailable()) {
        return Status::Unavailable(
            "bubblewrap isolation was required but `bwrap` is missing or cannot create namespaces; "
            "install the bubblewrap package or use Isolation::kNone");
      }
      use_bwrap_ = true;
      break;
    case LocalRuntimeOptions::Isolation::kNone: use_bwrap_ = false; break;
  }

  for (const auto& extra : options_.read_only_binds) {
    std::error_code bec;
    if (!extra.is_absolute()) {
      return Status::InvalidArgument("LocalRuntimeOptions::read_only_binds: '" + extra.string() +
                                     "' is not an absolute path");
    }
    if (!fs::exists(extra, bec)) {
      return Status::NotFound("LocalRuntimeOptions::read_only_binds: " + extra.string() +
                              " does not exist on this host");
    }
  }

  fs::path root = options_.work_root;
  if (root.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    root = (tmp && *tmp) ? tmp : "/tmp";
  }
  std::error_code ec;
  fs::create_directories(root, ec);
  std::string tmpl = (root / "r2e-local-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return Status::Unavailable("cannot create a working directory under " + root.string() + ": " +
                               internal::ErrnoText(errno));
  }
  workdir_ = tmpl;
  has_sandbox_ = true;
  run_as_.clear();
  user_uid_ = 0;
  user_gid_ = 0;
  auto fail = [this](Status s) {
    std::error_code rec;
    if (!options_.keep_workdir) fs::remove_all(workdir_, rec);
    has_sandbox_ = false;
    workdir_.clear();
    image_.Release();
    return s.WithContext("starting local sandbox");
  };
  std::vector<std::string> process_env;
  if (on_image()) {
    if (Status s = start_on_image(spec, process_env); !s.ok()) return fail(s);
  } else {
    for (std::string_view r : kPrivateRoots) fs::create_directories(workdir_ / r, ec);
    fs::create_directories(workdir_ / kPipeDir, ec);
    fs::create_directories(workdir_ / kVarTmp, ec);
    fs::permissions(workdir_ / "tmp", fs::perms::all | fs::perms::sticky_bit, ec);
    fs::permissions(workdir_ / kVarTmp, fs::perms::all | fs::perms::sticky_bit, ec);
  }

  for (const auto& [host, target] : spec.copy_in) {
    if (!fs::exists(host, ec)) {
      return fail(Status::NotFound(host.string() + " does not exist (to be copied to " + target +
                                   "); check the task's local paths"));
    }
    // The overlay is not mounted yet: what is copied in goes to its upper
    // layer, under directories that keep the image's owners and modes.
    const fs::path in_upper = fs::path(target).lexically_normal().relative_path();
    if (image_.held() && overlay_) {
      if (Status s = internal::MakeUpperDirs(image_.image().rootfs, workdir_, in_upper.parent_path()); !s.ok()) {
        return fail(s);
      }
    }
    auto dest = image_.held() && overlay_ ? Result<fs::path>(workdir_ / "upper" / in_upper) : host_path(target);
    if (!dest.ok()) return fail(dest.status());
    if (Status s = CopyTree(host, *dest); !s.ok()) return fail(s);
    if (!run_as_.empty()) GiveToUser(overlay_ ? workdir_ / "upper" : files_root(), *dest, host, user_uid_, user_gid_);
  }

  // The sandbox's own environment (the local stand-in for an image's ENV).
  bool has_home = on_image(), has_tmpdir = on_image();
  for (const auto& [k, v] : on_image() ? decltype(options_.env){} : options_.env) {
    if (k.empty() || k.find('=') != std::string::npos) {
      return fail(Status::InvalidArgument("LocalRuntimeOptions::env has an invalid variable name '" + k +
                                          "': names are non-empty and have no '='"));
    }
    has_home |= k == "HOME";
    has_tmpdir |= k == "TMPDIR";
    process_env.push_back(k + "=" + v);
  }
  if (!has_home) process_env.push_back("HOME=" + (use_bwrap_ ? std::string("/root") : (workdir_ / "root").string()));
  if (!has_tmpdir) {
    process_env.push_back("TMPDIR=" + (use_bwrap_ ? std::string("/tmp") : (workdir_ / "tmp").string()));
  }

  ShellSessionOptions session_options = options_.session;
  for (const auto& kv : spec.env) session_options.env.push_back(kv);
  if (!use_bwrap_) {
    // Without a mount namespace the sandbox paths do not exist: commands run
    // in the working directory and HOME points at its private root.
    session_options.default_workdir = (workdir_ / "testbed").string();
    for (auto& [k, v] : session_options.env) {
      if (k == "HOME") v = (workdir_ / "root").string();
    }
    if (!has_tmpdir) session_options.env.emplace_back("TMPDIR", (workdir_ / "tmp").string());
  }

  const std::string cwd = (on_image() ? workdir_ : workdir_ / "testbed").string();
  auto opener = [this, process_env, cwd](const std::vector<std::string>& argv)
      -> Result<std::unique_ptr<ByteStream>> {
    std::vector<std::pair<int, int>> fds;
    if (!run_as_.empty()) fds.emplace_back(RunAsHelperFd(), kRunAsChildFd);
    auto stream = internal::PipeStream::Spawn(sandbox_argv(argv), process_env, cwd, fds);
    if (!stream.ok()) return stream.status();
    sandbox_pid_ = (*stream)->pid();
    return std::unique_ptr<ByteStream>(std::move(stream).value());
  };
  // bwrap's read-only binds are recursive: it remounts every mount below
  // /usr, /etc/... and fails ("Can't bind mount ... Invalid argument") when
  // one appears or goes meanwhile, e.g. a Docker container starting or
  // stopping on this host. That is transient: the session tries again, also
  // when it restarts after the agent killed it.
  if (use_bwrap_) {
    session_options.retry_start = [](const Status& failed) {
      return failed.message().find("bwrap: Can't bind mount") != std::string::npos;
    };
  }
  session_opener_ = opener;
  session_options_ = session_options;
  checkpoint_count_ = 0;
  Status started = session_.Open(opener, session_options);
  return started.ok() ? Status::OK() : fail(started);
}

Status LocalRuntime::stop() {
  // Interrupt first, without waiting: a running exec() must not delay stop().
  std::shared_ptr<ShellSession> session = session_.Take();
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  session_.Close(std::move(session));
  // workdir_ stays as it is: exec(), upload() and download() may be reading
  // it on another thread (they fail once the directory is gone).
  if (has_sandbox_.exchange(false) && !options_.keep_workdir) {
    // A sandbox process that is still exiting can create a file while the
    // walk runs (ENOTEMPTY): try again briefly before giving up.
    std::error_code ec;
    for (int attempt = 0; attempt < 5; ++attempt) {
      ec.clear();
      fs::remove_all(workdir_, ec);
      if (!ec) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20 << attempt));
    }
    if (ec) {
      image_.Release();
      return Status::Internal("removing the local sandbox directory " + workdir_.string() + ": " + ec.message());
    }
  }
  image_.Release();
  return Status::OK();
}

std::string LocalRuntime::sandbox_key() const {
  if (!options_.image.empty()) return "local image " + options_.image;
  return options_.use_task_image ? "local task-image" : "local";
}

fs::path LocalRuntime::files_root() const {
  if (!image_.held() || !overlay_) return workdir_;
  // The merged view exists only in the sandbox's mount namespace.
  return fs::path("/proc") / std::to_string(sandbox_pid_.load()) / "root" / workdir_.relative_path() / "merged";
}

Status LocalRuntime::start_on_image(const SandboxSpec& spec, std::vector<std::string>& process_env) {
  if (!use_bwrap_) {
    return Status::FailedPrecondition(
        "the local runtime runs an image only under bubblewrap, which is missing or cannot create namespaces "
        "here; install the bubblewrap package");
  }
  const std::string reference = !options_.image.empty() ? options_.image : spec.image;
  if (reference.empty()) {
    return Status::InvalidArgument("task " + spec.task_id + " names no image (docker_image) for use_task_image");
  }
  switch (options_.image_layer) {
    case LocalRuntimeOptions::ImageLayer::kAuto: overlay_ = internal::OverlayAvailable(); break;
    case LocalRuntimeOptions::ImageLayer::kOverlay:
      if (!internal::OverlayAvailable()) {
        return Status::Unavailable("the overlay image layer was required, but this process cannot mount an "
                                   "overlayfs in a new mount namespace here; use ImageLayer::kCopy");
      }
      overlay_ = true;
      break;
    case LocalRuntimeOptions::ImageLayer::kCopy: overlay_ = false; break;
  }
  R2E_ASSIGN_OR_RETURN(image_, ImageStore(options_.image_store).Acquire(reference));
  R2E_ASSIGN_OR_RETURN(internal::ImageUser user,
                       internal::ResolveImageUser(image_.image().rootfs, image_.image().user));
  R2E_RETURN_IF_ERROR(run_as(user));
  if (overlay_) {
    R2E_RETURN_IF_ERROR(internal::PrepareOverlay(image_.image().rootfs, workdir_, options_.network));
  } else {
    R2E_RETURN_IF_ERROR(internal::SeedImageSandbox(image_.image().rootfs, workdir_, options_.network));
  }
  process_env = internal::ImageProcessEnv(image_.image(), user);
  return Status::OK();
}

Status LocalRuntime::run_as(const internal::ImageUser& user) {
  user_uid_ = user.uid;
  user_gid_ = user.gid;
  run_as_.clear();
  if (user.uid == 0 && user.gid == 0) return Status::OK();
  const std::string who = "image " + image_.image().id.substr(0, 19) + " runs as user \"" + image_.image().user + "\"";
  if (::geteuid() != 0) {
    return Status::FailedPrecondition(who + ": the local runtime switches to another user only when this process "
                                      "runs as root (bubblewrap maps no other user here); use --runtime docker");
  }
  if (internal::RunAsHelper().empty()) {
    return Status::Unavailable(who + ", but this library was built without r2e-run-as (it needs a static libc: "
                               "apt install libc6-dev, then rebuild); use --runtime docker");
  }
  if (RunAsHelperFd() < 0) {
    return Status::Unavailable(who + ", but r2e-run-as could not be made executable here (memfd_create or its "
                               "seals failed); use --runtime docker");
  }
  std::string groups;
  for (gid_t g : user.groups) groups += (groups.empty() ? "" : ",") + std::to_string(g);
  run_as_ = {"/proc/self/fd/" + std::to_string(kRunAsChildFd), std::to_string(kRunAsChildFd),
             std::to_string(user.uid), std::to_string(user.gid), groups.empty() ? "-" : groups};
  return Status::OK();
}

bool LocalRuntime::alive() { return session_.Get() != nullptr; }

Result<ExecResult> LocalRuntime::exec(std::string_view command, const ExecOptions& options) {
  auto s = session_.Get();
  if (!s) return Status::FailedPrecondition("local sandbox is not started; call start() first");
  ExecOptions mapped = options;
  if (!use_bwrap_ && !options.workdir.empty()) {
    auto host = host_path(options.workdir);
    if (host.ok()) mapped.workdir = host->string();
  }
  return s->exec(command, mapped);
}

std::string LocalRuntime::command_path(const std::string& sandbox_path) const {
  if (use_bwrap_) return sandbox_path;
  auto host = host_path(sandbox_path);
  return host.ok() ? host->string() : sandbox_path;
}

Result<fs::path> LocalRuntime::host_path(const std::string& sandbox_path) const {
  if (!has_sandbox_) return Status::FailedPrecondition("local sandbox is not started");
  fs::path p = fs::path(sandbox_path).lexically_normal();
  if (!p.is_absolute()) p = fs::path("/testbed") / p;
  p = p.lexically_normal();
  if (image_.held() && overlay_) return files_root() / p.relative_path();
  if (const fs::path var_tmp = p.lexically_relative("/var/tmp");
      !var_tmp.empty() && *var_tmp.begin() != "..") {
    return (workdir_ / kVarTmp / var_tmp).lexically_normal();
  }
  auto it = p.begin();
  ++it;  // "/"
  if (it != p.end()) {
    for (std::string_view root : kPrivateRoots) {
      if (it->string() == root || (image_.held() && (*it == "run" || *it == "etc"))) {
        fs::path out = workdir_;
        for (; it != p.end(); ++it) out /= *it;
        return out;
      }
    }
  }
  return Status::InvalidArgument("the local runtime keeps files only under /testbed, /root, /tmp and /var/tmp "
                                 "(on an image also /run and /etc); " +
                                 sandbox_path + " is outside them");
}

std::vector<std::string> LocalRuntime::layer_dirs() const {
  if (image_.held() && overlay_) return {"upper"};
  std::vector<std::string> dirs(std::begin(kPrivateRoots), std::end(kPrivateRoots));
  dirs.emplace_back(kVarTmp);
  if (image_.held()) dirs.insert(dirs.end(), {"run", "etc"});
  return dirs;
}

std::string LocalRuntime::layer_layout() const {
  if (!image_.held()) return "directories";
  return std::string(overlay_ ? "overlay " : "copy ") + image_.image().id;
}

Result<fs::path> LocalRuntime::layer_path(const std::string& sandbox_path) const {
  if (!(image_.held() && overlay_)) return host_path(sandbox_path);
  const fs::path p = fs::path(sandbox_path).lexically_normal();
  if (!p.is_absolute() || p.relative_path().empty()) {
    return Status::InvalidArgument(sandbox_path + " is not an absolute path below /");
  }
  return workdir_ / "upper" / p.relative_path();
}

Result<std::string> LocalRuntime::read_file(const std::string& sandbox_path) {
  auto host = host_path(sandbox_path);
  if (!host.ok()) {
    if (host.status().code() != StatusCode::kInvalidArgument) return host.status();
    // Elsewhere the sandbox sees the host's own read-only files.
    auto r = exec("cat -- " + ShellQuote(sandbox_path));
    if (!r.ok()) return r.status();
    if (r->exit_code != 0) return Status::NotFound("cannot read " + sandbox_path + ": " + r->output);
    if (r->truncated_bytes > 0) return Status::ResourceExhausted(sandbox_path + " is too large to read whole");
    return std::move(r->output);
  }
  const fs::path root = files_root();
  fs::path rel = host->lexically_relative(root);
  int root_fd = ::open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (root_fd < 0) return Status::Unavailable("local sandbox directory is gone");
  int fd = internal::OpenInRoot(root_fd, rel, O_RDONLY, 0);
  int err = errno;
  ::close(root_fd);
  if (fd < 0) {
    if (err == ENOENT) return Status::NotFound(sandbox_path + " does not exist in the sandbox");
    return Status::Internal("opening " + sandbox_path + ": " + internal::ErrnoText(err));
  }
  std::string content;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      ::close(fd);
      return Status::Internal("reading " + sandbox_path + ": " + internal::ErrnoText(err));
    }
    if (n == 0) break;
    content.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return content;
}

Status LocalRuntime::write_file(const std::string& sandbox_path, std::string_view content, int mode) {
  R2E_ASSIGN_OR_RETURN(fs::path host, host_path(sandbox_path));
  const fs::path root = files_root();
  fs::path rel = host.lexically_relative(root);
  int root_fd = ::open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (root_fd < 0) return Status::Unavailable("local sandbox directory is gone");
  // Parent directories, created one component at a time inside the root:
  // each in its parent opened inside the root, so that no symlink on the
  // way leads the mkdir (or the chown) out to the host.
  fs::path dir;
  for (auto it = rel.begin(); it != rel.end() && std::next(it) != rel.end(); ++it) {
    dir /= *it;
    int dfd = internal::OpenInRoot(root_fd, dir, O_DIRECTORY | O_RDONLY, 0);
    if (dfd >= 0) {
      ::close(dfd);
      continue;
    }
    const int parent = internal::OpenInRoot(root_fd, dir.parent_path(), O_PATH | O_DIRECTORY, 0);
    const int made = parent < 0 ? -1 : ::mkdirat(parent, dir.filename().c_str(), 0755);
    const int err = errno;
    // What r2e creates for a sandbox of a non-root image is that user's.
    if (made == 0 && !run_as_.empty()) {
      ::fchownat(parent, dir.filename().c_str(), user_uid_, user_gid_, AT_SYMLINK_NOFOLLOW);
    }
    if (parent >= 0) ::close(parent);
    if (made != 0 && err != EEXIST) {
      ::close(root_fd);
      return Status::Internal("creating " + dir.string() + ": " + internal::ErrnoText(err));
    }
  }
  bool created = false;
  if (!run_as_.empty()) {
    const int existing = internal::OpenInRoot(root_fd, rel, O_PATH, 0);
    created = existing < 0;
    if (existing >= 0) ::close(existing);
  }
  int fd = internal::OpenInRoot(root_fd, rel, O_WRONLY | O_CREAT | O_TRUNC, static_cast<mode_t>(mode));
  int err = errno;
  ::close(root_fd);
  if (fd < 0) return Status::Internal("opening " + sandbox_path + " for writing: " + internal::ErrnoText(err));
  fchmod(fd, static_cast<mode_t>(mode));
  if (created) ::fchown(fd, user_uid_, user_gid_);
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      ::close(fd);
      return Status::Internal("writing " + sandbox_path + ": " + internal::ErrnoText(err));
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  ::close(fd);
  return Status::OK();
}

Status LocalRuntime::upload(const fs::path& host_file, const std::string& sandbox_path) {
  R2E_ASSIGN_OR_RETURN(fs::path dest, host_path(sandbox_path));
  std::error_code ec;
  if (!fs::exists(host_file, ec)) return Status::NotFound(host_file.string() + " does not exist");
  // Refuse to copy through a symlink the agent may have planted.
  const fs::path root = files_root();
  for (fs::path p = dest; p != root && p.has_parent_path(); p = p.parent_path()) {
    if (fs::is_symlink(p, ec)) {
      return Status::InvalidArgument("refusing to copy to " + sandbox_path + ": it goes through a symlink");
    }
  }
  R2E_RETURN_IF_ERROR(CopyTree(host_file, dest));
  if (!run_as_.empty()) GiveToUser(root, dest, host_file, user_uid_, user_gid_);
  return Status::OK();
}

Status LocalRuntime::download(const std::string& sandbox_path, const fs::path& host_file) {
  R2E_ASSIGN_OR_RETURN(fs::path src, host_path(sandbox_path));
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(src, ec))) {
    return Status::NotFound(sandbox_path + " does not exist in the sandbox");
  }
  // Copy symlinks as links: following them could read host files.
  return CopyTree(src, host_file);
}

}  // namespace r2e
