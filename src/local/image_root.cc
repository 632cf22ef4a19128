#include "local/image_root.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <system_error>

#include "core/spawn.h"
#include "core/text.h"

namespace r2e::internal {

namespace fs = std::filesystem;

namespace {

// `cp -a`: modes, times, ownership (as root), symlinks and hard links kept,
// as the image has them.
Status CopyPreserving(const fs::path& from, const fs::path& to) {
  SpawnOptions spawn;
  spawn.argv = {"cp", "-a", "--reflink=auto", "--", from.string(), to.string()};
  spawn.env = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
  spawn.stdin_dev_null = true;
  const pid_t pid = SpawnProcess(spawn);
  if (pid < 0) return Status::Unavailable("cannot run cp: " + ErrnoText(-pid));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::Internal("waiting for cp: " + ErrnoText(errno));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Internal("copying the image's " + from.string() + " into the sandbox failed");
  }
  return Status::OK();
}

Status WriteText(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::remove(path, ec);  // the image's may be a symlink (e.g. into /run)
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) return Status::Internal("cannot write " + path.string());
  return Status::OK();
}


// The sandbox's /etc/hostname, /etc/hosts and /etc/resolv.conf in `etc`.
Status WriteNetworkFiles(const fs::path& etc, bool network) {
  std::error_code ec;
  fs::create_directories(etc, ec);
  R2E_RETURN_IF_ERROR(WriteText(etc / "hostname", "r2e-sandbox\n"));
  R2E_RETURN_IF_ERROR(WriteText(etc / "hosts",
                                "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                                "127.0.1.1\tr2e-sandbox\n"));
  std::string resolv;
  if (network) {
    std::ifstream in("/etc/resolv.conf", std::ios::binary);  // follows the host's symlink
    resolv.assign(std::istreambuf_iterator<char>(in), {});
  }
  return WriteText(etc / "resolv.conf", resolv);
}

// Runs argv (absolute paths) and waits: its exit status, or -1.
int RunQuietly(const std::vector<std::string>& argv) {
  SpawnOptions spawn;
  spawn.argv = argv;
  spawn.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  spawn.stdin_dev_null = true;
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null_fd >= 0) spawn.fds = {{null_fd, 1}, {null_fd, 2}};
  const pid_t pid = SpawnProcess(spawn);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// unshare's arguments for a private mount namespace (and, when not root, a
// user namespace in which this user is root, so that it may mount).
std::vector<std::string> UnshareArgs() {
  std::vector<std::string> a = {"/usr/bin/unshare", "--mount", "--propagation", "private"};
  if (::geteuid() != 0) a.insert(a.end(), {"--user", "--map-root-user"});
  return a;
}

// Mounts the overlay at $4 (lower $1, upper $2, work $3), then execs the rest.
constexpr char kMountThenExec[] =
    "mount -t overlay overlay -o \"lowerdir=$1,upperdir=$2,workdir=$3\" \"$4\" || exit 125; shift 4; exec \"$@\"";

}  // namespace

bool OverlayAvailable() {
  static const bool available = [] {
    char tmpl[] = "/tmp/r2e-overlay-probe-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return false;
    const fs::path dir = tmpl;
    std::error_code ec;
    for (const char* sub : {"lower", "upper", "work", "merged"}) fs::create_directories(dir / sub, ec);
    std::vector<std::string> argv = UnshareArgs();
    argv.insert(argv.end(), {"--", "/bin/sh", "-c", kMountThenExec, "sh", (dir / "lower").string(),
                             (dir / "upper").string(), (dir / "work").string(), (dir / "merged").string(), "true"});
    const bool ok = RunQuietly(argv) == 0;
    fs::remove_all(dir, ec);
    return ok;
  }();
  return available;
}

Status PrepareOverlay(const fs::path& workdir, bool network) {
  std::error_code ec;
  for (const char* sub : {"upper", "work", "merged"}) {
    fs::create_directories(workdir / sub, ec);
    if (ec) return Status::Unavailable("cannot create " + (workdir / sub).string() + ": " + ec.message());
  }
  return WriteNetworkFiles(workdir / "upper" / "etc", network);
}

std::vector<std::string> OverlayLauncher(const fs::path& rootfs, const fs::path& workdir,
                                         const std::vector<std::string>& argv) {
  std::vector<std::string> a = UnshareArgs();
  a.insert(a.end(), {"--", "/bin/sh", "-c", kMountThenExec, "sh", rootfs.string(), (workdir / "upper").string(),
                     (workdir / "work").string(), (workdir / "merged").string()});
  a.insert(a.end(), argv.begin(), argv.end());
  return a;
}

std::vector<std::string> OverlayRootArgs(const fs::path& workdir) {
  return {"--bind", (workdir / "merged").string(), "/", "--proc", "/proc", "--dev", "/dev"};
}

Status SeedImageSandbox(const fs::path& rootfs, const fs::path& workdir, bool network) {
  std::error_code ec;
  for (const WritablePath& path : kImageWritablePaths) {
    const fs::path from = rootfs / path.sandbox;
    const fs::path to = workdir / path.backing;
    if (fs::is_directory(fs::symlink_status(from, ec))) {
      R2E_RETURN_IF_ERROR(CopyPreserving(from, to));
    } else {
      fs::create_directories(to, ec);
      if (path.sandbox == "tmp" || path.sandbox == "var/tmp") {
        fs::permissions(to, fs::perms::all | fs::perms::sticky_bit, ec);
      }
    }
  }
  return WriteNetworkFiles(workdir / "etc", network);
}

std::vector<std::string> ImageRootArgs(const fs::path& rootfs, const fs::path& workdir) {
  std::vector<std::string> a;
  std::error_code ec;
  // Each top-level entry of the image, read-only; the sandbox's own
  // directories (new /proc and /dev, the writable paths) over them.
  for (const auto& entry : fs::directory_iterator(rootfs, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "proc" || name == "dev") continue;
    bool writable = false;
    for (const WritablePath& path : kImageWritablePaths) writable |= path.sandbox == name;
    if (writable) continue;
    const auto status = fs::symlink_status(entry.path(), ec);
    if (fs::is_symlink(status)) {
      a.insert(a.end(), {"--symlink", fs::read_symlink(entry.path(), ec).string(), "/" + name});
    } else {
      a.insert(a.end(), {"--ro-bind", entry.path().string(), "/" + name});
    }
  }
  a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev"});
  for (const WritablePath& path : kImageWritablePaths) {
    if (path.sandbox == "var/tmp" && !fs::is_directory(rootfs / "var/tmp", ec)) continue;
    a.insert(a.end(), {"--bind", (workdir / path.backing).string(), "/" + std::string(path.sandbox)});
  }
  return a;
}

std::vector<std::string> ImageProcessEnv(const ImageInfo& image) {
  std::vector<std::string> env;
  bool has_path = false, has_home = false;
  for (const auto& [k, v] : image.env) {
    has_path |= k == "PATH";
    has_home |= k == "HOME";
    env.push_back(k + "=" + v);
  }
  if (!has_path) env.emplace_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (!has_home) env.emplace_back("HOME=/root");
  env.emplace_back("HOSTNAME=r2e-sandbox");
  return env;
}

Status CheckImageUser(const ImageInfo& image) {
  const std::string& user = image.user;
  if (user.empty() || user == "root" || user == "0" || user == "0:0" || user == "root:root") return Status::OK();
  return Status::InvalidArgument("image " + image.id.substr(0, 19) + " runs as user \"" + user +
                                 "\"; the local runtime runs images as root only (use --runtime docker)");
}

}  // namespace r2e::internal
