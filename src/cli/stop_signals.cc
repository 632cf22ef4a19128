#include "cli/stop_signals.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "r2e/runtime_wrapper.h"

namespace r2e::cli {

struct OnStop::Entry {
  std::mutex mu;  // held while `cancel` runs
  std::function<void()> cancel;
  bool live = true;
};

namespace {

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};
// The command's time to return after the callbacks ran.
constexpr auto kBackstop = std::chrono::seconds(60);
// A repeat of the first signal from its sender within this is the same request.
constexpr std::int64_t kRepeatNs = 1'000'000'000;
constexpr unsigned char kQuit = 0;  // to the watcher: the command returned

// Written by the handler, hence lock-free atomics only.
static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<std::int64_t>::is_always_lock_free &&
              std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);
std::atomic<bool> g_stop{false};
// The first signal (high 32 bits) and its sender's pid (low 32 bits; 0 when
// the kernel sent it, e.g. Ctrl-C), in one word so that a handler running on
// another thread at the same time reads both or neither.
std::atomic<std::uint64_t> g_first{0};
std::atomic<std::int64_t> g_first_ns{0};  // when it came; 0 until recorded
std::atomic<int> g_pipe_write{-1};

std::int64_t NowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

extern "C" void OnStopSignal(int sig, siginfo_t* info, void*) {
  const int saved_errno = errno;
  const bool from_process = info != nullptr && (info->si_code == SI_USER || info->si_code == SI_QUEUE);
  const std::uint32_t sender = from_process ? static_cast<std::uint32_t>(info->si_pid) : 0;
  const std::uint64_t me = (std::uint64_t{static_cast<std::uint32_t>(sig)} << 32) | sender;
  std::uint64_t first = 0;
  if (g_first.compare_exchange_strong(first, me)) {
    g_first_ns.store(NowNs());
    g_stop.store(true);
    const unsigned char byte = static_cast<unsigned char>(sig);
    [[maybe_unused]] const ssize_t n = ::write(g_pipe_write.load(), &byte, 1);
  } else {
    const std::int64_t at = g_first_ns.load();
    const bool repeat = first == me && sender != 0 && (at == 0 || NowNs() - at < kRepeatNs);
    if (!repeat) {
      // A second request: end at once by this signal, which stays blocked
      // until the handler returns.
      ::signal(sig, SIG_DFL);
      ::raise(sig);
    }
  }
  errno = saved_errno;
}

const char* SignalName(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "signal";
  }
}

struct Registry {
  std::mutex mu;
  bool fired = false;
  std::vector<std::shared_ptr<OnStop::Entry>> entries;
};

Registry& TheRegistry() {
  static Registry registry;
  return registry;
}

void RunOnce(OnStop::Entry& e) {
  std::lock_guard<std::mutex> lock(e.mu);
  if (!e.live) return;
  e.live = false;
  e.cancel();
}

void FireAll() {
  Registry& r = TheRegistry();
  std::vector<std::shared_ptr<OnStop::Entry>> entries;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    r.fired = true;
    entries = r.entries;
  }
  for (const auto& e : entries) RunOnce(*e);
}

// One byte from `fd`; false when none came within `timeout` (negative: none).
bool ReadByte(int fd, unsigned char& byte, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int wait_ms = -1;
    if (timeout.count() >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t n = ::read(fd, &byte, 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n != 1) return false;
    return true;
  }
}

void Watch(const std::string& command, int fd) {
  unsigned char byte = kQuit;
  if (!ReadByte(fd, byte, std::chrono::milliseconds(-1)) || byte == kQuit) return;
  const int sig = byte;
  std::fprintf(stderr, "\n%s: %s: stopping; removing the sandboxes (send it again to quit at once)\n",
               command.c_str(), SignalName(sig));
  FireAll();
  if (ReadByte(fd, byte, kBackstop)) return;
  std::fprintf(stderr, "%s: still stopping %lld s after %s; exiting (the sandboxes are killed; `r2e cleanup` "
               "removes what is left)\n", command.c_str(), static_cast<long long>(kBackstop.count()), SignalName(sig));
  std::fflush(stderr);
  ::_exit(128 + sig);
}

struct Installed {
  int pipe_read = -1, pipe_write = -1;
  std::thread watcher;
  bool installed = false;  // the handler and the watcher
  struct sigaction previous[std::size(kStopSignals)] {};
};
Installed* g_installed = nullptr;

class StoppableRuntime final : public RuntimeWrapper {
 public:
  explicit StoppableRuntime(std::unique_ptr<Runtime> runtime)
      : RuntimeWrapper(std::move(runtime)), on_stop_([this] { target().kill(); }) {}

  Status start(const SandboxSpec& spec) override {
    if (StopRequested()) return Stopped();
    Status s = RuntimeWrapper::start(spec);
    if (!StopRequested()) return s;
    // The signal came during start(): its kill may have found no sandbox yet.
    if (s.ok()) (void)RuntimeWrapper::stop();
    return Stopped();
  }

 private:
  static Status Stopped() { return Status::Cancelled("stopped by a signal; not starting a sandbox"); }

  OnStop on_stop_;  // destroyed before the target: no kill() then runs on it
};

}  // namespace

StopSignals::StopSignals(std::string command) {
  auto* in = new Installed;
  g_installed = in;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "%s: cannot watch for SIGINT/SIGTERM/SIGHUP (pipe: %s); they end it at once\n",
                 command.c_str(), std::strerror(errno));
    return;
  }
  in->pipe_read = fds[0];
  in->pipe_write = fds[1];
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);  // the handler never blocks
  g_stop.store(false);
  g_first.store(0);
  g_first_ns.store(0);
  g_pipe_write.store(in->pipe_write);
  {
    Registry& r = TheRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.fired = false;
  }
  in->watcher = std::thread([command = std::move(command), fd = in->pipe_read] { Watch(command, fd); });
  struct sigaction sa {};
  sa.sa_sigaction = OnStopSignal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : kStopSignals) sigaddset(&sa.sa_mask, sig);
  for (std::size_t i = 0; i < std::size(kStopSignals); ++i) ::sigaction(kStopSignals[i], &sa, &in->previous[i]);
  in->installed = true;
}

StopSignals::~StopSignals() {
  std::unique_ptr<Installed> in(std::exchange(g_installed, nullptr));
  if (!in->installed) return;
  for (std::size_t i = 0; i < std::size(kStopSignals); ++i) ::sigaction(kStopSignals[i], &in->previous[i], nullptr);
  const unsigned char quit = kQuit;
  [[maybe_unused]] const ssize_t n = ::write(in->pipe_write, &quit, 1);
  in->watcher.join();
  g_pipe_write.store(-1);
  ::close(in->pipe_read);
  ::close(in->pipe_write);
}

bool StopRequested() { return g_stop.load(); }

const std::atomic<bool>& StopFlag() { return g_stop; }

int StopSignal() { return static_cast<int>(g_first.load() >> 32); }

int ExitStatus(int rc) {
  const int sig = StopSignal();
  return sig != 0 ? 128 + sig : rc;
}

OnStop::OnStop(std::function<void()> cancel) : entry_(std::make_shared<Entry>()) {
  entry_->cancel = std::move(cancel);
  Registry& r = TheRegistry();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    if (!r.fired) {
      r.entries.push_back(entry_);
      return;
    }
  }
  RunOnce(*entry_);  // the watcher's round is over: cancel here and now
}

OnStop::~OnStop() {
  Registry& r = TheRegistry();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    std::erase(r.entries, entry_);
  }
  std::lock_guard<std::mutex> lock(entry_->mu);  // waits for a cancel in progress
  entry_->live = false;
}

std::unique_ptr<Runtime> Stoppable(std::unique_ptr<Runtime> runtime) {
  if (!runtime) return runtime;
  return std::make_unique<StoppableRuntime>(std::move(runtime));
}

RuntimeFactory Stoppable(RuntimeFactory factory) {
  return [factory = std::move(factory)]() -> Result<std::unique_ptr<Runtime>> {
    R2E_ASSIGN_OR_RETURN(auto runtime, factory());
    return Stoppable(std::move(runtime));
  };
}

}  // namespace r2e::cli
