// The CLI's stop mechanism (src/cli/stop_signals.h) in-process: the watcher
// runs the OnStop callbacks, late registrations are cancelled at once, and a
// Stoppable runtime signalled during start() removes what it started. The
// whole commands are checked by tests/cli/signals_test.py.
#include "cli/stop_signals.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "r2e/local_runtime.h"
#include "r2e/runtime_wrapper.h"

namespace r2e::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Polls `done` for up to 10 s (the watcher is another thread).
template <typename Done>
bool Eventually(Done done) {
  const auto end = Clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

TEST(StopSignalsTest, FirstSignalRunsTheCallbacksAndSetsTheExitStatus) {
  StopSignals signals("test");
  EXPECT_FALSE(StopRequested());
  EXPECT_EQ(ExitStatus(3), 3);
  std::atomic<int> early{0}, gone{0};
  OnStop on_stop([&] { ++early; });
  { OnStop unregistered([&] { ++gone; }); }
  ASSERT_EQ(std::raise(SIGHUP), 0);
  ASSERT_TRUE(Eventually([&] { return early.load() == 1; }));
  EXPECT_TRUE(StopRequested());
  EXPECT_TRUE(StopFlag().load());
  EXPECT_EQ(StopSignal(), SIGHUP);
  EXPECT_EQ(ExitStatus(0), 128 + SIGHUP);
  EXPECT_EQ(gone.load(), 0);
  // Registered after the watcher's round: cancelled here and now.
  std::atomic<int> late{0};
  OnStop after([&] { ++late; });
  EXPECT_EQ(late.load(), 1);
  EXPECT_EQ(early.load(), 1);
}

// Raises SIGTERM inside start(), and goes on only once the watcher has
// killed it (finding no sandbox yet): the signal's worst moment.
class SignalledDuringStart final : public RuntimeWrapper {
 public:
  using RuntimeWrapper::RuntimeWrapper;
  Status start(const SandboxSpec& spec) override {
    std::raise(SIGTERM);
    if (!Eventually([&] { return kills.load() > 0; })) return Status::Internal("never killed");
    return RuntimeWrapper::start(spec);
  }
  void kill() override {
    ++kills;
    RuntimeWrapper::kill();
  }
  std::atomic<int> kills{0};
};

TEST(StopSignalsTest, StoppableRuntimeRemovesWhatItStartedDuringTheSignalAndStartsNoMore) {
  const fs::path root = fs::temp_directory_path() / ("r2e-stop-signals-" + std::to_string(::getpid()));
  fs::remove_all(root);
  LocalRuntimeOptions o;
  o.isolation = LocalRuntimeOptions::Isolation::kNone;
  o.work_root = root;
  StopSignals signals("test");
  auto inner = std::make_unique<SignalledDuringStart>(std::make_unique<LocalRuntime>(o));
  SignalledDuringStart& probe = *inner;
  auto rt = Stoppable(std::move(inner));
  Status s = rt->start({});
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.ToString();
  EXPECT_EQ(probe.kills.load(), 1);
  EXPECT_EQ(StopSignal(), SIGTERM);
  EXPECT_FALSE(rt->alive());
  EXPECT_TRUE(fs::is_empty(root));  // the working directory is gone
  EXPECT_EQ(rt->start({}).code(), StatusCode::kCancelled);
  EXPECT_TRUE(fs::is_empty(root));
  fs::remove_all(root);
}

TEST(StopSignalsTest, NothingIsRequestedWithoutASignal) {
  StopSignals signals("test");
  std::atomic<int> n{0};
  { OnStop on_stop([&] { ++n; }); }
  EXPECT_FALSE(StopRequested());
  EXPECT_EQ(StopSignal(), 0);
  EXPECT_EQ(ExitStatus(1), 1);
  EXPECT_EQ(n.load(), 0);
}

}  // namespace
}  // namespace r2e::cli
