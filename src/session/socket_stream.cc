#include "session/socket_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "core/text.h"

namespace r2e::internal {

int MakeWakeFd() { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

Result<std::unique_ptr<SocketStream>> SocketStream::Adopt(int fd) {
  int wake = MakeWakeFd();
  if (wake < 0) {
    int err = errno;
    ::close(fd);
    return Status::Internal("eventfd: " + ErrnoText(err));
  }
  return std::unique_ptr<SocketStream>(new SocketStream(fd, wake));
}

Result<std::unique_ptr<SocketStream>> SocketStream::AdoptPipes(int read_fd, int write_fd) {
  int wake = MakeWakeFd();
  if (wake < 0) {
    int err = errno;
    ::close(read_fd);
    ::close(write_fd);
    return Status::Internal("eventfd: " + ErrnoText(err));
  }
  return std::unique_ptr<SocketStream>(new SocketStream(read_fd, write_fd, wake));
}

SocketStream::SocketStream(int read_fd, int write_fd, int wake_fd)
    : read_fd_(read_fd), write_fd_(write_fd), wake_fd_(wake_fd) {
  struct stat st {};
  write_to_socket_ = fstat(write_fd_, &st) == 0 && S_ISSOCK(st.st_mode);
  fcntl(read_fd_, F_SETFL, fcntl(read_fd_, F_GETFL) | O_NONBLOCK);
  if (!socket()) fcntl(write_fd_, F_SETFL, fcntl(write_fd_, F_GETFL) | O_NONBLOCK);
}

SocketStream::~SocketStream() {
  close();
  ::close(read_fd_);
  if (!socket() && write_fd_ >= 0) ::close(write_fd_);
  ::close(wake_fd_);
}

Status SocketStream::wait_ready(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    if (closed_) return Status::Cancelled("stream closed");
    auto now = Clock::now();
    int timeout_ms = 0;
    if (deadline > now) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
      timeout_ms = ms > 1000000 ? 1000000 : static_cast<int>(ms);
    }
    pollfd fds[2] = {{fd, events, 0}, {wake_fd_, POLLIN, 0}};
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

Status SocketStream::write(std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    if (closed_) return Status::Cancelled("stream closed");
    if (write_fd_ < 0) return Status::Unavailable("sandbox shell input was closed");
    ssize_t n = write_to_socket_ ? ::send(write_fd_, data.data(), data.size(), MSG_NOSIGNAL)
                         : ::write(write_fd_, data.data(), data.size());
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Status::Unavailable("sandbox shell input closed: " + ErrnoText(errno));
    }
    R2E_RETURN_IF_ERROR(wait_ready(write_fd_, POLLOUT, deadline));
  }
  return Status::OK();
}

Result<std::size_t> SocketStream::read_some(char* buf, std::size_t size, Clock::time_point deadline) {
  for (;;) {
    if (closed_) return Status::Cancelled("stream closed");
    ssize_t n = socket() ? ::recv(read_fd_, buf, size, 0) : ::read(read_fd_, buf, size);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return std::size_t{0};
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Status::Unavailable("reading from the sandbox shell: " + ErrnoText(errno));
    }
    R2E_RETURN_IF_ERROR(wait_ready(read_fd_, POLLIN, deadline));
  }
}

void SocketStream::close_write() {
  if (socket()) {
    ::shutdown(write_fd_, SHUT_WR);
  } else if (write_fd_ >= 0) {
    // The last writer gone: the shell reads end of input.
    ::close(write_fd_);
    write_fd_ = -1;
  }
}

void SocketStream::close() {
  if (closed_.exchange(true)) return;
  // Pipes are closed by the destructor, once no thread can be polling them.
  if (socket()) ::shutdown(read_fd_, SHUT_RDWR);
  on_close();
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
}

}  // namespace r2e::internal
