// A ByteStream to a child process on this machine: the child's stdin and
// stdout/stderr are one end of a Unix socket pair.
#ifndef R2E_LOCAL_PIPE_STREAM_H_
#define R2E_LOCAL_PIPE_STREAM_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "r2e/session.h"

namespace r2e::internal {

class PipeStream final : public ByteStream {
 public:
  // Starts `argv` (looked up in PATH) in a new session (so close() can kill
  // its whole process group) with exactly `env` as its environment.
  static Result<std::unique_ptr<PipeStream>> Spawn(const std::vector<std::string>& argv,
                                                   const std::vector<std::string>& env,
                                                   const std::string& cwd);
  ~PipeStream() override;

  Status write(std::string_view data, Clock::time_point deadline) override;
  Result<std::size_t> read_some(char* buf, std::size_t size, Clock::time_point deadline) override;
  void close_write() override;
  void close() override;

  pid_t pid() const { return pid_; }

 private:
  PipeStream(pid_t pid, int fd, int wake_fd) : pid_(pid), fd_(fd), wake_fd_(wake_fd) {}
  // Waits until fd_ is ready for `events` or the deadline/close comes.
  Status wait_ready(short events, Clock::time_point deadline);

  pid_t pid_;
  int fd_;
  int wake_fd_;  // eventfd: close() from another thread wakes a blocked poll
  std::atomic<bool> closed_{false};
};

}  // namespace r2e::internal

#endif  // R2E_LOCAL_PIPE_STREAM_H_
