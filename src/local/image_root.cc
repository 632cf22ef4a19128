#include "local/image_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <fstream>
#include <system_error>

#include "core/spawn.h"
#include "core/text.h"

namespace r2e::internal {

namespace fs = std::filesystem;

Status CopyPreserving(const fs::path& from, const fs::path& to) {
  SpawnOptions spawn;
  spawn.argv = {"cp", "-a", "--reflink=auto", "--", from.string(), to.string()};
  spawn.env = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
  spawn.stdin_dev_null = true;
  // What cp says goes into the error, not to this process's stderr.
  const int errors = ::memfd_create("r2e-cp-errors", MFD_CLOEXEC);
  if (errors >= 0) spawn.fds = {{errors, 2}};
  const pid_t pid = SpawnProcess(spawn);
  if (pid < 0) {
    if (errors >= 0) ::close(errors);
    return Status::Unavailable("cannot run cp: " + ErrnoText(-pid));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      if (errors >= 0) ::close(errors);
      return Status::Internal("waiting for cp: " + ErrnoText(errno));
    }
  }
  std::string said;
  if (errors >= 0) {
    char buf[512];
    const ssize_t n = ::pread(errors, buf, sizeof buf, 0);
    if (n > 0) said.assign(buf, static_cast<std::size_t>(n));
    ::close(errors);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Internal("copying " + from.string() + " to " + to.string() + " failed" +
                            (said.empty() ? "" : ": " + std::string(Trim(said))));
  }
  return Status::OK();
}

namespace {

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

Status PrepareOverlay(const fs::path& rootfs, const fs::path& workdir, bool network) {
  std::error_code ec;
  for (const char* sub : {"upper", "work", "merged"}) {
    fs::create_directories(workdir / sub, ec);
    if (ec) return Status::Unavailable("cannot create " + (workdir / sub).string() + ": " + ec.message());
  }
  R2E_RETURN_IF_ERROR(MakeUpperDirs(rootfs, workdir, "etc"));
  return WriteNetworkFiles(workdir / "upper" / "etc", network);
}

Status MakeUpperDirs(const fs::path& rootfs, const fs::path& workdir, const fs::path& rel) {
  const int image_fd = ::open(rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  fs::path upper = workdir / "upper", in_image;
  for (const fs::path& part : rel.lexically_normal()) {
    if (part.empty() || part == "." || part == "..") continue;
    upper /= part;
    in_image /= part;
    struct stat existing {};
    if (::lstat(upper.c_str(), &existing) == 0) continue;
    if (::mkdir(upper.c_str(), 0755) != 0 && errno != EEXIST) {
      const int err = errno;
      if (image_fd >= 0) ::close(image_fd);
      return Status::Internal("creating " + upper.string() + ": " + ErrnoText(err));
    }
    // The image's own directory, found inside the image (its links resolve
    // there, never to the host's).
    const int dir = image_fd < 0 ? -1 : OpenInRoot(image_fd, in_image, O_PATH | O_NOFOLLOW, 0);
    struct stat st {};
    if (dir >= 0 && ::fstat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
      (void)::lchown(upper.c_str(), st.st_uid, st.st_gid);
      ::chmod(upper.c_str(), st.st_mode & 07777);
    }
    if (dir >= 0) ::close(dir);
  }
  if (image_fd >= 0) ::close(image_fd);
  return Status::OK();
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
      R2E_RETURN_IF_ERROR(internal::CopyPreserving(from, to));
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

int OpenInRoot(int root_fd, const fs::path& rel, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how));
}

namespace {

std::vector<std::string_view> SplitOn(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// The lines of the image's /etc/<name>, split at ':' ("" when it has none).
std::vector<std::vector<std::string>> ReadColonFile(const fs::path& rootfs, const char* name) {
  std::vector<std::vector<std::string>> rows;
  const int root_fd = ::open(rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (root_fd < 0) return rows;
  const int fd = OpenInRoot(root_fd, fs::path("etc") / name, O_RDONLY, 0);
  ::close(root_fd);
  if (fd < 0) return rows;
  std::string text;
  char buf[8192];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0 && text.size() < (1u << 24);) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  for (std::string_view line : SplitOn(text, '\n')) {
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> fields;
    for (std::string_view field : SplitOn(line, ':')) fields.emplace_back(field);
    rows.push_back(std::move(fields));
  }
  return rows;
}

// A decimal id, or -1.
long long ParseId(std::string_view text) {
  if (text.empty() || text.size() > 10) return -1;
  long long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value < 4294967295LL ? value : -1;
}

}  // namespace

Result<ImageUser> ResolveImageUser(const fs::path& rootfs, const std::string& user_spec) {
  ImageUser user;
  if (user_spec.empty()) return user;
  const std::size_t colon = user_spec.find(':');
  const std::string name = user_spec.substr(0, colon);
  const std::string group = colon == std::string::npos ? "" : user_spec.substr(colon + 1);
  if (name.empty() || (colon != std::string::npos && group.empty())) {
    return Status::InvalidArgument("the image's User \"" + user_spec + "\" is not of the form USER[:GROUP]");
  }
  const long long uid = ParseId(name);
  std::string matched_name;
  bool found = false;
  for (const auto& f : ReadColonFile(rootfs, "passwd")) {
    if (f.size() < 7) continue;
    const long long entry_uid = ParseId(f[2]), entry_gid = ParseId(f[3]);
    if (entry_uid < 0 || entry_gid < 0 || (f[0] != name && entry_uid != uid)) continue;
    user.uid = static_cast<uid_t>(entry_uid);
    user.gid = static_cast<gid_t>(entry_gid);
    user.home = f[5];
    matched_name = f[0];
    found = true;
    break;
  }
  if (!found) {
    if (uid < 0) {
      return Status::InvalidArgument("the image's User \"" + user_spec + "\": unable to find user " + name +
                                     ": no matching entries in the image's /etc/passwd");
    }
    user.uid = static_cast<uid_t>(uid);
    user.home = "/";
  }
  const auto groups = ReadColonFile(rootfs, "group");
  if (!group.empty()) {
    const long long gid = ParseId(group);
    bool group_found = gid >= 0;
    if (gid >= 0) user.gid = static_cast<gid_t>(gid);
    for (const auto& f : groups) {
      if (gid < 0 && f.size() >= 3 && f[0] == group && ParseId(f[2]) >= 0) {
        user.gid = static_cast<gid_t>(ParseId(f[2]));
        group_found = true;
        break;
      }
    }
    if (!group_found) {
      return Status::InvalidArgument("the image's User \"" + user_spec + "\": unable to find group " + group +
                                     ": no matching entries in the image's /etc/group");
    }
  }
  // As Docker: the primary group first; the groups that list the user only
  // when User names no group (runc's implicit form).
  user.groups = {user.gid};
  if (!matched_name.empty() && group.empty()) {
    for (const auto& f : groups) {
      if (f.size() < 4 || ParseId(f[2]) < 0) continue;
      for (std::string_view member : SplitOn(f[3], ',')) {
        const auto gid = static_cast<gid_t>(ParseId(f[2]));
        if (member == matched_name && std::find(user.groups.begin(), user.groups.end(), gid) == user.groups.end()) {
          user.groups.push_back(gid);
        }
      }
    }
  }
  return user;
}

std::vector<std::string> ImageProcessEnv(const ImageInfo& image, const ImageUser& user) {
  std::vector<std::string> env;
  bool has_path = false, has_home = false;
  for (const auto& [k, v] : image.env) {
    has_path |= k == "PATH";
    has_home |= k == "HOME";
    env.push_back(k + "=" + v);
  }
  if (!has_path) env.emplace_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (!has_home) env.emplace_back("HOME=" + user.home);
  env.emplace_back("HOSTNAME=r2e-sandbox");
  return env;
}

}  // namespace r2e::internal
