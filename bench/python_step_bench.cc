#include "python_step_bench.h"

#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/spawn.h"

extern char** environ;

namespace r2e::bench {

Status RunPythonStepBench(const StepBenchOptions& o, std::ostream& out) {
#ifndef R2E_PYTHON_EXECUTABLE
  (void)o;
  (void)out;
  return Status::FailedPrecondition(
      "bench step --python: this r2e was built without the Python module (R2E_BUILD_PYTHON=ON, "
      "pybind11-dev)");
#else
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    return Status::Internal(std::string("pipe: ") + std::strerror(errno));
  internal::SpawnOptions spawn;
  spawn.argv = {R2E_PYTHON_EXECUTABLE,
                R2E_PYTHON_STEP_BENCH,
                "--runtime",
                o.runtime,
                "--tasks",
                R2E_SOAK_DEFAULT_TASKS,
                "--n",
                std::to_string(o.n),
                "--warmup",
                std::to_string(o.warmup)};
  std::string pythonpath = "PYTHONPATH=" R2E_PYTHON_PACKAGE_DIR;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "PYTHONPATH=", 11) == 0) {
      pythonpath += ":" + std::string(*e + 11);
    } else {
      spawn.env.emplace_back(*e);
    }
  }
  spawn.env.push_back(pythonpath);
  spawn.fds = {{pipe_fds[1], 1}, {2, 2}};
  spawn.stdin_dev_null = true;
  const pid_t pid = internal::SpawnProcess(spawn);
  ::close(pipe_fds[1]);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    return Status::Internal(std::string("starting ") + R2E_PYTHON_EXECUTABLE + ": " +
                            std::strerror(-pid));
  }
  char buf[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.write(buf, n);
    out.flush();
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::OK();
  return Status::Internal("bench step --python: " + std::string(R2E_PYTHON_STEP_BENCH) +
                          " failed (its errors are above)");
#endif
}

}  // namespace r2e::bench
