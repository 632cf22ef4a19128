// WarmPool on the local runtime (real sandboxes, wrapped in FaultRuntime
// where a test kills one): filling, the size limit, handing out and retiring,
// dead and expired idle sandboxes, failing preparations, shutdown with
// preparations in flight, and RepoEnv taking its sandboxes from a pool.
#include "r2e/warm_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "r2e/fault_runtime.h"
#include "r2e/local_runtime.h"
#include "r2e/repo_env.h"
#include "demo_task.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using test_util::DemoTask;

// Remembers every sandbox the pool makes (by its host directory) and the
// FaultRuntime wrapping it, so tests can kill one and check none is left.
struct Tracker {
  std::mutex mu;
  std::vector<fs::path> workdirs;
  std::vector<FaultRuntime*> runtimes;  // valid only while the pool holds them idle
  std::atomic<int> made{0};

  RuntimeFactory factory() {
    return [this]() -> Result<std::unique_ptr<Runtime>> {
      ++made;
      auto rt = std::make_unique<FaultRuntime>(std::make_unique<LocalRuntime>());
      std::lock_guard<std::mutex> lock(mu);
      runtimes.push_back(rt.get());
      return std::unique_ptr<Runtime>(std::move(rt));
    };
  }
  // Records the directory and writes a marker file, as a setup would.
  SandboxPreparer preparer(std::string extra_command = "") {
    return [this, extra_command](WarmSandbox& sb) -> Status {
      Runtime& rt = *sb.runtime;
      auto& local = static_cast<LocalRuntime&>(static_cast<FaultRuntime&>(rt).target());
      {
        std::lock_guard<std::mutex> lock(mu);
        workdirs.push_back(local.workdir());
      }
      auto r = rt.exec("echo prepared > /tmp/prepared" + extra_command);
      if (!r.ok()) return r.status();
      if (!r->success()) return Status::Internal("prepare failed: " + r->output);
      return Status::OK();
    };
  }
  int existing_workdirs() {
    std::lock_guard<std::mutex> lock(mu);
    int n = 0;
    for (const auto& d : workdirs) n += fs::exists(d) ? 1 : 0;
    return n;
  }
};

// Polls `pred` for up to `limit`.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

TEST(WarmPoolTest, FillsToItsSizeAndNeverHoldsMore) {
  Tracker t;
  WarmPoolOptions o;
  o.size = 3;
  o.refill_concurrency = 2;
  auto pool = WarmPool::Create({}, t.factory(), t.preparer(), o).value();
  // Sample while it fills: ready + preparing never exceeds the size.
  for (int i = 0; i < 200; ++i) {
    auto s = pool->stats();
    ASSERT_LE(s.ready + s.preparing, 3);
    if (s.ready == 3) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(pool->wait_ready(3, 30s).ok());
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(t.made.load(), 3) << "the pool made more sandboxes than its size";

  // A taken sandbox is prepared, and its place is refilled.
  auto sb = pool->acquire(10s);
  ASSERT_TRUE(sb.ok()) << sb.status().ToString();
  auto r = sb->runtime->exec("cat /tmp/prepared");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, "prepared\n");
  ASSERT_TRUE(pool->wait_ready(3, 30s).ok());
  EXPECT_EQ(t.made.load(), 4);
  EXPECT_EQ(pool->stats().handed_out, 1);

  // Retired: deleted in the background, never handed out again.
  const fs::path dir = static_cast<LocalRuntime&>(static_cast<FaultRuntime&>(*sb->runtime).target()).workdir();
  ASSERT_TRUE(fs::exists(dir));
  pool->retire(std::move(sb->runtime));
  EXPECT_TRUE(Eventually([&] { return !fs::exists(dir); })) << "a retired sandbox was not deleted";
  pool->shutdown();
  EXPECT_EQ(t.existing_workdirs(), 0) << "shutdown left sandboxes behind";
  EXPECT_EQ(pool->acquire(1s).status().code(), StatusCode::kCancelled);
}

// A hold keeps the refill (and deletions) from starting until it is
// released; an acquire() that has to wait for a sandbox lifts it.
TEST(WarmPoolTest, AHoldDefersTheRefillButNotAWaitingAcquire) {
  Tracker t;
  WarmPoolOptions o;
  o.size = 1;
  auto pool = WarmPool::Create({}, t.factory(), t.preparer(), o).value();
  ASSERT_TRUE(pool->wait_ready(1, 30s).ok());
  ASSERT_EQ(t.made.load(), 1);
  {
    auto hold = pool->hold_background(1h);
    auto taken = pool->acquire(10s);
    ASSERT_TRUE(taken.ok()) << taken.status().ToString();
    const fs::path dir =
        static_cast<LocalRuntime&>(static_cast<FaultRuntime&>(*taken->runtime).target()).workdir();
    pool->retire(std::move(taken->runtime));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(t.made.load(), 1) << "the refill started while held";
    EXPECT_TRUE(fs::exists(dir)) << "the deletion started while held";
    // The pool is empty: this call waits, and the pool prepares for it.
    auto waited = pool->acquire(60s);
    ASSERT_TRUE(waited.ok()) << waited.status().ToString();
    EXPECT_EQ(t.made.load(), 2);
    pool->retire(std::move(waited->runtime));
  }
  // Released: the pool refills and deletes what was retired.
  ASSERT_TRUE(pool->wait_ready(1, 30s).ok());
  EXPECT_EQ(t.made.load(), 3);
  pool->shutdown();
  EXPECT_EQ(t.existing_workdirs(), 0) << "shutdown left sandboxes behind";
}

TEST(WarmPoolTest, ReplacesASandboxKilledWhileIdle) {
  Tracker t;
  WarmPoolOptions o;
  o.size = 2;
  o.health_interval = 100ms;
  auto pool = WarmPool::Create({}, t.factory(), t.preparer(), o).value();
  ASSERT_TRUE(pool->wait_ready(2, 30s).ok());
  {
    std::lock_guard<std::mutex> lock(t.mu);
    t.runtimes[0]->kill_sandbox();
  }
  EXPECT_TRUE(Eventually([&] { return pool->stats().replaced_dead >= 1 && pool->stats().ready == 2; }));
  EXPECT_EQ(t.made.load(), 3);
  // Both sandboxes handed out now work.
  for (int i = 0; i < 2; ++i) {
    auto sb = pool->acquire(10s);
    ASSERT_TRUE(sb.ok()) << sb.status().ToString();
    EXPECT_TRUE(sb->runtime->exec("true")->success());
    pool->retire(std::move(sb->runtime));
  }
  pool.reset();
  EXPECT_EQ(t.existing_workdirs(), 0);
}

TEST(WarmPoolTest, AcquireProbesAndSkipsADeadSandbox) {
  Tracker t;
  WarmPoolOptions o;
  o.size = 2;
  o.refill_concurrency = 1;
  o.health_interval = std::chrono::hours(1);  // only acquire's probe can notice
  auto pool = WarmPool::Create({}, t.factory(), t.preparer(), o).value();
  ASSERT_TRUE(pool->wait_ready(2, 30s).ok());
  {
    std::lock_guard<std::mutex> lock(t.mu);
    // The oldest is handed out first: kill it.
    t.runtimes[0]->kill_sandbox();
  }
  auto sb = pool->acquire(10s);
  ASSERT_TRUE(sb.ok()) << sb.status().ToString();
  EXPECT_TRUE(sb->runtime->alive());
  EXPECT_TRUE(sb->runtime->exec("true")->success());
  EXPECT_EQ(pool->stats().replaced_dead, 1);
  pool->retire(std::move(sb->runtime));
  pool->shutdown();
  EXPECT_EQ(t.existing_workdirs(), 0);
}

TEST(WarmPoolTest, ReplacesSandboxesIdleTooLong) {
  Tracker t;
  WarmPoolOptions o;
  o.size = 1;
  o.max_idle = 1s;
  o.health_interval = 100ms;
  auto pool = WarmPool::Create({}, t.factory(), t.preparer(), o).value();
  ASSERT_TRUE(pool->wait_ready(1, 30s).ok());
  EXPECT_TRUE(Eventually([&] { return pool->stats().replaced_idle >= 1 && pool->stats().ready == 1; }, 10s));
  EXPECT_GE(t.made.load(), 2);
  pool->shutdown();
  EXPECT_EQ(t.existing_workdirs(), 0);
}

TEST(WarmPoolTest, FailingPreparationIsReportedNotWaitedOut) {
  Tracker t;
  WarmPoolOptions o;
  o.size = 2;
  auto pool = WarmPool::Create({}, t.factory(), t.preparer("; exit 3"), o).value();
  const auto start = std::chrono::steady_clock::now();
  auto sb = pool->acquire(60s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  ASSERT_FALSE(sb.ok());
  EXPECT_NE(sb.status().message().find("prepare failed"), std::string::npos) << sb.status().ToString();
  EXPECT_GE(pool->stats().failed, 1);
  EXPECT_NE(pool->stats().last_error.find("prepare failed"), std::string::npos);
  pool->shutdown();
  EXPECT_EQ(t.existing_workdirs(), 0) << "a failed preparation left its sandbox";
}

TEST(WarmPoolTest, ShutdownWithPreparationsInFlightLeavesNothing) {
  Tracker t;
  WarmPoolOptions o;
  o.size = 2;
  o.refill_concurrency = 2;
  auto pool = WarmPool::Create({}, t.factory(), t.preparer("; sleep 60"), o).value();
  ASSERT_TRUE(Eventually([&] { return t.existing_workdirs() == 2; }, 20s));
  const auto start = std::chrono::steady_clock::now();
  pool->shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s) << "shutdown waited for the preparations";
  EXPECT_EQ(t.existing_workdirs(), 0);
  EXPECT_EQ(pool->stats().ready + pool->stats().preparing + pool->stats().retiring, 0);
}

TEST(WarmPoolTest, BadOptions) {
  Tracker t;
  WarmPoolOptions o;
  o.size = 0;
  EXPECT_EQ(WarmPool::Create({}, t.factory(), t.preparer(), o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WarmPool::Create({}, nullptr, t.preparer(), {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WarmPool::Create({}, t.factory(), nullptr, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.made.load(), 0);
}

// reset(task): one environment moves to another task (here the demo task
// under another id and issue text): its sandbox is new, the instruction and
// grade follow the task, and a warm pool is used only when made for it.
TEST(WarmPoolTest, RepoEnvMovesToAnotherTask) {
  Task first = DemoTask();
  Task second = first;
  second.instance_id = "r2e-demo__textstats-renamed";
  second.problem_statement = "Fix moving_average for a window as long as the values.";
  RepoEnvOptions options;
  auto env = RepoEnv::Create(first, options).value();
  ASSERT_TRUE(env->reset().ok());
  ASSERT_TRUE(env->run("echo left > /testbed/left-by-first").ok());
  const auto first_dir = static_cast<LocalRuntime&>(env->runtime()).workdir();

  auto obs = env->reset(second);
  ASSERT_TRUE(obs.ok()) << obs.status().ToString();
  EXPECT_EQ(env->task().instance_id, second.instance_id);
  EXPECT_EQ(obs->text, env->task_instruction());
  EXPECT_NE(obs->text.find("as long as the values"), std::string::npos);
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kCold);
  // Where the cold reset's time went: its phases, within the whole.
  const ResetTimings cold = env->last_reset_timings();
  EXPECT_GT(cold.start_ms, 0.0);
  EXPECT_GT(cold.setup_ms, 0.0);
  EXPECT_GT(cold.tools_ms, 0.0);
  EXPECT_EQ(cold.restore_ms, 0.0);
  EXPECT_LE(cold.start_ms + cold.setup_ms + cold.tools_ms, cold.total_ms);
  EXPECT_FALSE(std::filesystem::exists(first_dir)) << "the first task's sandbox is left behind";
  auto left = env->run("test -e /testbed/left-by-first");
  ASSERT_TRUE(left.ok());
  EXPECT_NE(left->exit_code, 0) << "a file of the first task's episode is in the second's sandbox";
  EXPECT_EQ(*env->compute_reward(), 0.0);

  // A pool of the first task is refused for the second; one of its own is used.
  WarmPoolOptions po;
  po.size = 1;
  auto first_pool = RepoEnv::MakeWarmPool(first, options, po).value();
  auto refused = env->reset(second, first_pool);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << refused.status().ToString();
  auto second_pool = RepoEnv::MakeWarmPool(second, options, po).value();
  ASSERT_TRUE(second_pool->wait_ready(1, 60s).ok());
  ASSERT_TRUE(env->reset(second, second_pool).ok());
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kWarm);
  const ResetTimings warm = env->last_reset_timings();
  EXPECT_EQ(warm.setup_ms, 0.0) << "a warm sandbox was set up by its pool";
  EXPECT_LE(warm.start_ms + warm.tools_ms, warm.total_ms);
  EXPECT_EQ(env->task().instance_id, second.instance_id);
  // And back to the first task, with no pool: cold.
  ASSERT_TRUE(env->reset(first).ok());
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kCold);
  EXPECT_EQ(env->task().instance_id, first.instance_id);
  ASSERT_TRUE(env->close().ok());
}

// RepoEnv with a task pool: reset() takes a prepared sandbox, the previous
// one is deleted in the background, and the episode behaves as a cold one.
TEST(WarmPoolTest, RepoEnvResetTakesAWarmSandbox) {
  Task task = DemoTask();
  RepoEnvOptions options;
  WarmPoolOptions po;
  po.size = 1;
  auto pool = RepoEnv::MakeWarmPool(task, options, po);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  options.warm_pool = *pool;
  auto env = RepoEnv::Create(task, options).value();
  ASSERT_TRUE((*pool)->wait_ready(1, 60s).ok());
  auto obs = env->reset();
  ASSERT_TRUE(obs.ok()) << obs.status().ToString();
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kWarm);
  EXPECT_EQ(obs->text, env->task_instruction());
  auto first_dir = static_cast<LocalRuntime&>(env->runtime()).workdir();
  // Set up as a cold reset would: tests hidden, tools installed.
  auto hidden = env->run("test -e /testbed/r2e_tests || test -e /testbed/run_tests.sh");
  ASSERT_TRUE(hidden.ok());
  EXPECT_NE(hidden->exit_code, 0);
  auto r = env->step("<function=execute_bash>\n<parameter=cmd>echo hi > /testbed/x; cat /testbed/x</parameter>\n</function>");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->observation.text.find("hi"), std::string::npos);
  EXPECT_EQ(*env->compute_reward(), 0.0);

  ASSERT_TRUE((*pool)->wait_ready(1, 60s).ok());
  ASSERT_TRUE(env->reset().ok());
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kWarm);
  EXPECT_NE(static_cast<LocalRuntime&>(env->runtime()).workdir(), first_dir);
  EXPECT_NE(env->run("test -e /testbed/x")->exit_code, 0) << "a dirty sandbox was reused";
  EXPECT_TRUE(Eventually([&] { return !fs::exists(first_dir); })) << "the previous sandbox was not deleted";
  env.reset();
  (*pool)->shutdown();
}

TEST(WarmPoolTest, RepoEnvFallsBackToColdAndRefusesAForeignPool) {
  Task task = DemoTask();
  RepoEnvOptions options;
  WarmPoolOptions po;
  po.size = 1;
  RepoEnvOptions broken = options;
  broken.extra_setup = {"exit 7"};
  auto pool = RepoEnv::MakeWarmPool(task, broken, po).value();
  // A pool made for other options is refused.
  options.warm_pool = pool;
  auto env = RepoEnv::Create(task, options).value();
  EXPECT_EQ(env->reset().status().code(), StatusCode::kInvalidArgument);
  // Its own pool, failing every preparation: reset() starts a sandbox itself
  // (and then fails the same way, since the setup itself fails).
  broken.warm_pool = pool;
  auto env2 = RepoEnv::Create(task, broken).value();
  auto r = env2->reset();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exit code 7"), std::string::npos) << r.status().ToString();
  // A working setup with an empty pool that cannot refill in time: cold start.
  WarmPoolOptions slow;
  slow.size = 1;
  RepoEnvOptions slow_options;
  slow_options.extra_setup = {"sleep 2"};
  auto slow_pool = RepoEnv::MakeWarmPool(task, slow_options, slow).value();
  slow_options.warm_pool = slow_pool;
  slow_options.warm_pool_timeout = 100ms;
  slow_options.extra_setup = {"sleep 2"};
  auto env3 = RepoEnv::Create(task, slow_options).value();
  ASSERT_TRUE(env3->reset().ok());
  EXPECT_EQ(env3->last_reset_kind(), ResetKind::kCold);
  pool->shutdown();
  slow_pool->shutdown();
}

}  // namespace
}  // namespace r2e
