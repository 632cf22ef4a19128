#include "core/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace r2e::internal {
namespace {

// One thread, started on first use and never ended (it is detached, so that
// no exit-time destructor ends it before the process does), that runs spawns
// handed to it. Its own signals are blocked: they are the process's to take.
class SpawnThread {
 public:
  static SpawnThread& Get() {
    static SpawnThread* const instance = new SpawnThread;  // never freed
    return *instance;
  }

  pid_t Run(std::function<pid_t()> spawn) {
    std::packaged_task<pid_t()> task(std::move(spawn));
    std::future<pid_t> result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return result.get();
  }

 private:
  SpawnThread() {
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);  // inherited by the thread
    std::thread([this] { Loop(); }).detach();
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }

  void Loop() {
    for (;;) {
      std::packaged_task<pid_t()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !queue_.empty(); });
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<pid_t()>> queue_;
};

pid_t SpawnHere(const SpawnOptions& options, const sigset_t* child_mask);

}  // namespace

pid_t SpawnProcess(const SpawnOptions& options) {
  if (options.argv.empty()) return -EINVAL;
  if (!options.outlive_thread) return SpawnHere(options, nullptr);
  sigset_t mine;
  pthread_sigmask(SIG_SETMASK, nullptr, &mine);
  return SpawnThread::Get().Run([&options, &mine] { return SpawnHere(options, &mine); });
}

namespace {

// `child_mask`: the child's signal mask when not the calling thread's (and
// not emptied by new_session).
pid_t SpawnHere(const SpawnOptions& options, const sigset_t* child_mask) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.stdin_dev_null) posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  for (const auto& [from, to] : options.fds) posix_spawn_file_actions_adddup2(&actions, from, to);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (options.new_session) {
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t defaults;
    sigfillset(&defaults);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  } else {
    short flags = POSIX_SPAWN_SETPGROUP;
    if (child_mask != nullptr) {
      posix_spawnattr_setsigmask(&attr, child_mask);
      flags |= POSIX_SPAWN_SETSIGMASK;
    }
    posix_spawnattr_setflags(&attr, flags);
    posix_spawnattr_setpgroup(&attr, 0);
  }

  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> env;
  for (const auto& e : options.env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -rc;
}

}  // namespace
}  // namespace r2e::internal
