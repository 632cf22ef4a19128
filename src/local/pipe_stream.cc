#include "local/pipe_stream.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "core/spawn.h"
#include "core/text.h"

namespace r2e::internal {

Result<std::unique_ptr<PipeStream>> PipeStream::Spawn(const std::vector<std::string>& argv,
                                                      const std::vector<std::string>& env, const std::string& cwd,
                                                      const std::vector<std::pair<int, int>>& extra_fds) {
  if (argv.empty()) return Status::InvalidArgument("no program to start");
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Status::Internal("socketpair: " + ErrnoText(errno));
  }
  // The child's output is a pipe, not the socket: a pipe can be reopened
  // through /proc/<pid>/fd/1, which r2e's tool server does.
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(sv[0]);
    ::close(sv[1]);
    return Status::Internal("pipe: " + ErrnoText(err));
  }
  int wake = MakeWakeFd();
  if (wake < 0) {
    int err = errno;
    for (int fd : {sv[0], sv[1], out[0], out[1]}) ::close(fd);
    return Status::Internal("eventfd: " + ErrnoText(err));
  }

  SpawnOptions spawn;
  spawn.argv = argv;
  spawn.env = env;
  spawn.fds = {{sv[1], 0}, {out[1], 1}, {out[1], 2}};
  spawn.fds.insert(spawn.fds.end(), extra_fds.begin(), extra_fds.end());
  spawn.cwd = cwd;
  spawn.new_session = true;
  spawn.outlive_thread = true;  // a sandbox outlives the thread that started it
  const pid_t pid = SpawnProcess(spawn);
  ::close(sv[1]);
  ::close(out[1]);
  if (pid < 0) {
    ::close(sv[0]);
    ::close(out[0]);
    ::close(wake);
    return Status::Unavailable("cannot start " + argv[0] + ": " + ErrnoText(-pid));
  }
  return std::unique_ptr<PipeStream>(new PipeStream(pid, out[0], sv[0], wake));
}

PipeStream::~PipeStream() {
  close();
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

void PipeStream::on_close() {
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
}

}  // namespace r2e::internal
