#include "docker/fifo_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>

#include "core/named_pipe.h"
#include "core/text.h"
#include "docker/docker_client.h"
#include "session/socket_stream.h"

namespace r2e::docker {
namespace fs = std::filesystem;

fs::path DefaultFifoRoot() {
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg == '/') return fs::path(xdg) / "r2e-sessions";
  return fs::path("/tmp") / ("r2e-sessions-" + std::to_string(::getuid()));
}

Status MakeFifoDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);
  // The parent may be shared with other users' tools: it must be ours.
  struct stat st {};
  if (::lstat(dir.parent_path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid()) {
    return Status::FailedPrecondition("session directory " + dir.parent_path().string() +
                                      " is missing or not owned by this user");
  }
  ::chmod(dir.parent_path().c_str(), 0711);
  if (::mkdir(dir.c_str(), 0711) != 0) {
    return Status::Internal("creating session directory " + dir.string() + ": " + internal::ErrnoText(errno));
  }
  return Status::OK();
}

long PipeOwner(const DockerClient& client) {
  // A rootless daemon maps the sandbox's root to the user who runs it, the
  // owner of its socket. When that is another user (root driving someone's
  // rootless Podman), the pipes are given to that user.
  struct stat sock {};
  if (::geteuid() == 0 && ::stat(client.socket_path().c_str(), &sock) == 0 && sock.st_uid != 0)
    return sock.st_uid;
  return -1;
}

namespace {

// Closes the descriptors and removes the names unless released.
struct PipePair {
  fs::path in_path, out_path;
  int in_fd = -1, out_fd = -1;
  ~PipePair() {
    if (in_fd >= 0) ::close(in_fd);
    if (out_fd >= 0) ::close(out_fd);
    std::error_code ec;
    fs::remove(in_path, ec);
    fs::remove(out_path, ec);
  }
};

}  // namespace

Result<std::unique_ptr<ByteStream>> OpenFifoSession(DockerClient& client, const std::string& container,
                                                    const fs::path& host_dir, const std::vector<std::string>& argv,
                                                    const std::vector<std::string>& env, const std::string& workdir,
                                                    bool world_accessible, std::chrono::milliseconds timeout) {
  static std::atomic<unsigned> counter{0};
  const std::string tag = std::to_string(counter++) + "-" + internal::RandomHex(4);
  PipePair pipes;
  pipes.in_path = host_dir / ("in." + tag);
  pipes.out_path = host_dir / ("out." + tag);
  const long owner = PipeOwner(client);
  for (const fs::path& p : {pipes.in_path, pipes.out_path}) {
    R2E_RETURN_IF_ERROR(internal::MakeNamedPipe(p, world_accessible ? 0666 : 0600, owner));
  }
  // Neither open blocks: O_RDWR on the input keeps a reader of our own (so a
  // write never raises SIGPIPE), and a non-blocking reader of the output
  // polls as not ready until the shell opens it and writes.
  pipes.out_fd = ::open(pipes.out_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  pipes.in_fd = ::open(pipes.in_path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (pipes.out_fd < 0 || pipes.in_fd < 0) {
    return Status::Internal("opening the session pipes: " + internal::ErrnoText(errno));
  }
  const std::string sandbox_dir = kFifoSandboxDir;
  std::vector<std::string> wrapped = {
      "/bin/sh", "-c", "exec <\"$1\" >\"$2\" || exit 97; shift 2; exec \"$@\"", "r2e-fifo",
      sandbox_dir + "/in." + tag, sandbox_dir + "/out." + tag};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  R2E_ASSIGN_OR_RETURN(std::string exec_id, client.exec_create(container, wrapped, env, workdir, false));
  R2E_ASSIGN_OR_RETURN(HttpResult started,
                       client.request("POST", "/exec/" + exec_id + "/start", R"({"Detach":true,"Tty":false})"));
  if (started.status != 200 && started.status != 204) {
    return Status::Unavailable("starting the session exec: HTTP " + std::to_string(started.status) + " " +
                               started.body);
  }
  // Ready when the shell's first output arrives; failed when it exits first.
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    pollfd pfd{pipes.out_fd, POLLIN, 0};
    int n = ::poll(&pfd, 1, 20);
    if (n > 0 && (pfd.revents & POLLIN)) break;
    if (n < 0 && errno != EINTR) return Status::Internal("poll: " + internal::ErrnoText(errno));
    R2E_ASSIGN_OR_RETURN(nlohmann::json info, client.exec_inspect(exec_id));
    bool running = info.value("Running", false);
    // Podman (4.3) keeps saying Running for a detached exec that has ended:
    // its process (a host pid, Podman running here) is asked instead.
    if (running && client.is_podman()) {
      const long pid = info.value("Pid", 0L);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) running = false;
    }
    if (!running && !(n > 0 && (pfd.revents & POLLIN))) {
      // It may have written and exited between the poll and the inspect.
      pollfd again{pipes.out_fd, POLLIN, 0};
      if (::poll(&again, 1, 0) > 0 && (again.revents & POLLIN)) break;
      return Status::Unavailable("the session shell could not use the pipes (exit code " +
                                 info.value("/ExitCode"_json_pointer, nlohmann::json(nullptr)).dump() + ")");
    }
    if (Clock::now() >= deadline) return Status::Timeout("the session shell did not start in time");
  }
  int in_fd = pipes.in_fd, out_fd = pipes.out_fd;
  pipes.in_fd = pipes.out_fd = -1;  // the stream owns them now; the names go
  R2E_ASSIGN_OR_RETURN(auto stream, internal::SocketStream::AdoptPipes(out_fd, in_fd));
  return std::unique_ptr<ByteStream>(std::move(stream));
}

}  // namespace r2e::docker
