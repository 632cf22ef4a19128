#include "local/pipe_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "core/text.h"

namespace r2e::internal {

Result<std::unique_ptr<PipeStream>> PipeStream::Spawn(const std::vector<std::string>& argv,
                                                      const std::vector<std::string>& env,
                                                      const std::string& cwd) {
  if (argv.empty()) return Status::InvalidArgument("no program to start");
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Status::Internal("socketpair: " + ErrnoText(errno));
  }
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    int err = errno;
    ::close(sv[0]);
    ::close(sv[1]);
    return Status::Internal("eventfd: " + ErrnoText(err));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, sv[1], 0);
  posix_spawn_file_actions_adddup2(&actions, sv[1], 1);
  posix_spawn_file_actions_adddup2(&actions, sv[1], 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigfillset(&defaults);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, cargv[0], &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(sv[1]);
  if (rc != 0) {
    ::close(sv[0]);
    ::close(wake);
    return Status::Unavailable("cannot start " + argv[0] + ": " + ErrnoText(rc));
  }
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<PipeStream>(new PipeStream(pid, sv[0], wake));
}

PipeStream::~PipeStream() {
  close();
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(fd_);
  ::close(wake_fd_);
}

Status PipeStream::wait_ready(short events, Clock::time_point deadline) {
  for (;;) {
    if (closed_) return Status::Cancelled("stream closed");
    auto now = Clock::now();
    int timeout_ms = 0;
    if (deadline > now) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
      timeout_ms = ms > 1000000 ? 1000000 : static_cast<int>(ms);
    }
    pollfd fds[2] = {{fd_, events, 0}, {wake_fd_, POLLIN, 0}};
    int n = poll(fds, 2, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Internal("poll: " + ErrnoText(errno));
    }
    if (fds[1].revents != 0 || closed_) return Status::Cancelled("stream closed");
    if (fds[0].revents != 0) return Status::OK();
    if (Clock::now() >= deadline) return Status::Timeout("deadline passed");
  }
}

Status PipeStream::write(std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Status::Unavailable("sandbox shell input closed: " + ErrnoText(errno));
    }
    R2E_RETURN_IF_ERROR(wait_ready(POLLOUT, deadline));
  }
  return Status::OK();
}

Result<std::size_t> PipeStream::read_some(char* buf, std::size_t size, Clock::time_point deadline) {
  for (;;) {
    if (closed_) return Status::Cancelled("stream closed");
    ssize_t n = ::recv(fd_, buf, size, 0);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      if (errno == ECONNRESET) return std::size_t{0};
      return Status::Unavailable("reading from the sandbox shell: " + ErrnoText(errno));
    }
    R2E_RETURN_IF_ERROR(wait_ready(POLLIN, deadline));
  }
}

void PipeStream::close_write() { ::shutdown(fd_, SHUT_WR); }

void PipeStream::close() {
  if (closed_.exchange(true)) return;
  // The child leads its own session: killing the group takes its helpers
  // too (with bubblewrap, the PID namespace dies with it).
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
}

}  // namespace r2e::internal
