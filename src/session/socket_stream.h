// SocketStream: the ByteStream over file descriptors that every fd-based
// transport shares (local: one end of a socket pair to the shell; Docker: the
// hijacked exec connection, or a pair of named pipes shared with the
// container). Non-blocking I/O with poll() and an eventfd, so close() from
// another thread wakes a blocked read or write.
#ifndef R2E_SESSION_SOCKET_STREAM_H_
#define R2E_SESSION_SOCKET_STREAM_H_

#include <atomic>
#include <memory>

#include "r2e/session.h"

namespace r2e::internal {

class SocketStream : public ByteStream {
 public:
  // Takes ownership of `fd` (made non-blocking). Internal on eventfd failure.
  static Result<std::unique_ptr<SocketStream>> Adopt(int fd);
  // Takes ownership of two pipe ends: reads from `read_fd`, writes to
  // `write_fd`. The caller keeps a reader on the write side's pipe (e.g. a
  // fifo opened O_RDWR), so a write never raises SIGPIPE.
  static Result<std::unique_ptr<SocketStream>> AdoptPipes(int read_fd, int write_fd);
  ~SocketStream() override;

  Status write(std::string_view data, Clock::time_point deadline) override;
  // A reset connection reads as end of stream.
  Result<std::size_t> read_some(char* buf, std::size_t size, Clock::time_point deadline) override;
  void close_write() override;
  // Shuts the socket down and wakes waiters; then on_close() (once).
  void close() override;

 protected:
  SocketStream(int fd, int wake_fd) : SocketStream(fd, fd, wake_fd) {}
  SocketStream(int read_fd, int write_fd, int wake_fd);
  // What else closing means for a subclass (e.g. killing the peer process).
  // Subclass destructors must call close() themselves.
  virtual void on_close() {}

 private:
  Status wait_ready(int fd, short events, Clock::time_point deadline);

  bool socket() const { return read_fd_ == write_fd_; }

  int read_fd_;
  int write_fd_;  // -1 after close_write() on pipes
  bool write_to_socket_ = false;  // sent with MSG_NOSIGNAL: a dead peer is an error, not SIGPIPE
  int wake_fd_;
  std::atomic<bool> closed_{false};
};

// Creates the eventfd a SocketStream needs; -1 with errno on failure.
int MakeWakeFd();

}  // namespace r2e::internal

#endif  // R2E_SESSION_SOCKET_STREAM_H_
