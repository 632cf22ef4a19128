#include "local/pipe_stream.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, sv[1], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
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
  ::close(out[1]);
  if (rc != 0) {
    ::close(sv[0]);
    ::close(out[0]);
    ::close(wake);
    return Status::Unavailable("cannot start " + argv[0] + ": " + ErrnoText(rc));
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
