// A ByteStream to a child process on this machine: the child's stdin is one
// end of a Unix socket pair, its stdout/stderr a pipe (a SocketStream over both).
#ifndef R2E_LOCAL_PIPE_STREAM_H_
#define R2E_LOCAL_PIPE_STREAM_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "session/socket_stream.h"

namespace r2e::internal {

class PipeStream final : public SocketStream {
 public:
  // Starts `argv` (looked up in PATH) in a new session (so close() can kill
  // its whole process group) with exactly `env` as its environment and the
  // (parent fd, child fd) pairs of `extra_fds` besides its standard streams.
  static Result<std::unique_ptr<PipeStream>> Spawn(const std::vector<std::string>& argv,
                                                   const std::vector<std::string>& env, const std::string& cwd,
                                                   const std::vector<std::pair<int, int>>& extra_fds = {});
  ~PipeStream() override;

  pid_t pid() const { return pid_; }

 protected:
  // The child leads its own session: killing the group takes its helpers too
  // (with bubblewrap, the PID namespace dies with it).
  void on_close() override;

 private:
  PipeStream(pid_t pid, int read_fd, int write_fd, int wake_fd)
      : SocketStream(read_fd, write_fd, wake_fd), pid_(pid) {}

  pid_t pid_;
};

}  // namespace r2e::internal

#endif  // R2E_LOCAL_PIPE_STREAM_H_
