// RolloutScheduler on the local runtime with copies of the demo task:
// submission order, the live cap, infrastructure failures and retries (with
// FaultRuntime), cancellation, shutdown, and its stats. Every test counts the
// sandboxes left in its own work root.
#include "r2e/rollout_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "r2e/fault_runtime.h"
#include "r2e/local_runtime.h"
#include "r2e/runtimes.h"
#include "demo_task.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The demo task under another id (its own instruction), as a batch's task.
Task DemoVariant(int i) {
  Task t = test_util::DemoTask();
  t.instance_id = "r2e-demo__textstats-v" + std::to_string(i);
  t.problem_statement = "Variant " + std::to_string(i) + ": fix moving_average.";
  return t;
}

class RolloutSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("r2e-rollout-test-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  RolloutSchedulerOptions Options(int max_live, int starts) {
    LocalRuntimeOptions local;
    local.work_root = root_;
    RolloutSchedulerOptions o;
    o.env.runtime = LocalRuntimeFactory(local);
    o.max_live = max_live;
    o.max_concurrent_starts = starts;
    o.retry_backoff = 10ms;
    return o;
  }
  // Sandboxes whose working directories are still there.
  int SandboxesLeft() const {
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(root_)) ++n;
    return n;
  }
  fs::path root_;
};

TEST_F(RolloutSchedulerTest, HandsOutRolloutsInSubmissionOrder) {
  auto scheduler = RolloutScheduler::Create(Options(4, 2)).value();
  auto first = scheduler->submit({{DemoVariant(0), 2}, {DemoVariant(1), 1}});
  auto second = scheduler->submit({{DemoVariant(2), 2}});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, 1);
  EXPECT_EQ(*second, 2);
  const std::vector<std::tuple<long long, int, int, std::string>> expected = {
      {1, 0, 0, "v0"}, {1, 0, 1, "v0"}, {1, 1, 0, "v1"}, {2, 0, 0, "v2"}, {2, 0, 1, "v2"}};
  for (const auto& [batch, task_index, member, id] : expected) {
    auto r = scheduler->acquire(120s);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->batch, batch);
    EXPECT_EQ(r->task_index, task_index);
    EXPECT_EQ(r->member, member);
    ASSERT_EQ(r->outcome, RolloutOutcome::kOk) << r->status.ToString();
    ASSERT_NE(r->env, nullptr);
    EXPECT_NE(r->env->task().instance_id.find(id), std::string::npos);
    EXPECT_EQ(r->initial.text, r->env->task_instruction());
    // A real, set-up sandbox: the agent's tools run, a noop earns 0.
    auto step = r->env->step("<function=execute_bash>\n<parameter=cmd>ls /testbed</parameter>\n</function>");
    ASSERT_TRUE(step.ok()) << step.status().ToString();
    EXPECT_EQ(OutcomeOf(step), RolloutOutcome::kOk);
    EXPECT_NE(step->observation.text.find("textstats"), std::string::npos);
    EXPECT_EQ(OutcomeOf(r->env->step("<function=execute_bash>\n<parameter=cmd>ls /nope</parameter>\n</function>")),
              RolloutOutcome::kAgentError);
    if (batch == 2 && member == 1) {
      // The last one is graded, then its sandbox dies under a step.
      auto reward = r->env->compute_reward();
      ASSERT_TRUE(reward.ok()) << reward.status().ToString();
      EXPECT_EQ(OutcomeOf(reward), RolloutOutcome::kOk);
      r->env->cancel();
      EXPECT_EQ(OutcomeOf(r->env->step("<function=execute_bash>\n<parameter=cmd>ls</parameter>\n</function>")),
                RolloutOutcome::kInfraError);
      EXPECT_EQ(OutcomeOf(r->env->compute_reward()), RolloutOutcome::kInfraError);
    }
    scheduler->release(std::move(r->env));
  }
  auto none = scheduler->acquire(1s);
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound) << none.status().ToString();
  scheduler->shutdown();
  const RolloutStats s = scheduler->stats();
  EXPECT_EQ(s.submitted, 5);
  EXPECT_EQ(s.prepared, 5);
  EXPECT_EQ(s.released, 5);
  EXPECT_EQ(s.reset.count, 5);
  EXPECT_EQ(s.acquire_wait.count, 5);
  EXPECT_GT(s.reset.p50_ms, 0.0);
  // The phases are parts of the reset.
  EXPECT_EQ(s.start.count, 5);
  EXPECT_GT(s.start.p50_ms, 0.0);
  EXPECT_GT(s.setup.p50_ms, 0.0);
  EXPECT_GT(s.tools.p50_ms, 0.0);
  EXPECT_EQ(s.live, 0);
  EXPECT_EQ(SandboxesLeft(), 0);
  // The released episodes: two steps each (one ok, one the agent's error),
  // and the last one's grade, dead step and failed grade.
  EXPECT_EQ(s.steps.ok, 5);
  EXPECT_EQ(s.steps.agent_error, 5);
  EXPECT_EQ(s.steps.infra_error, 1);
  EXPECT_EQ(s.grades.ok, 1);
  EXPECT_EQ(s.grades.infra_error, 1);
  EXPECT_EQ(s.step.count, 11);
  EXPECT_EQ(s.first_step.count, 5);
  EXPECT_EQ(s.grade.count, 1);
  EXPECT_GT(s.grade.p50_ms, s.first_step.p50_ms);  // a grade runs the tests in a new sandbox
  EXPECT_GT(s.step.sum_ms, 0.0);
  const nlohmann::json j = ToJson(s);
  EXPECT_EQ(j["prepared"], 5);
  EXPECT_EQ(j["reset"]["count"], 5);
  EXPECT_EQ(j["steps"]["agent_error"], 5);
  EXPECT_EQ(j["grade"]["count"], 1);
  const std::string text = PrometheusText(s);
  EXPECT_NE(text.find("\nr2e_rollout_steps_total{outcome=\"agent_error\"} 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nr2e_rollout_prepared_total 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nr2e_rollout_phase_seconds_count{phase=\"step\"} 11\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE r2e_rollout_phase_seconds summary\n"), std::string::npos) << text;
}

TEST_F(RolloutSchedulerTest, LiveCapHoldsWhenTheTrainerKeepsItsEnvironments) {
  auto scheduler = RolloutScheduler::Create(Options(2, 2)).value();
  ASSERT_TRUE(scheduler->submit({{DemoVariant(0), 5}}).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> most_live{0};
  std::thread watcher([&] {
    while (!stop) {
      const RolloutStats s = scheduler->stats();
      most_live = std::max(most_live.load(), s.live);
      std::this_thread::sleep_for(2ms);
    }
  });
  auto a = scheduler->acquire(120s);
  auto b = scheduler->acquire(120s);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a->env && b->env);
  // Two held: nothing more is prepared, so the third is not ready.
  auto c = scheduler->acquire(1500ms);
  EXPECT_EQ(c.status().code(), StatusCode::kTimeout) << c.status().ToString();
  EXPECT_EQ(scheduler->stats().preparing, 0);
  EXPECT_EQ(SandboxesLeft(), 2);
  // Giving one back lets the next be prepared.
  scheduler->release(std::move(a->env));
  c = scheduler->acquire(120s);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->member, 2);
  stop = true;
  watcher.join();
  EXPECT_LE(most_live.load(), 2);
  scheduler->release(std::move(b->env));
  scheduler->release(std::move(c->env));
  scheduler->shutdown();
  EXPECT_EQ(SandboxesLeft(), 0);
}

TEST_F(RolloutSchedulerTest, InfraFailuresAreRetriedThenReportedNotRewarded) {
  RolloutSchedulerOptions o = Options(4, 1);
  // Every sandbox's first start fails; the first rollout also sees its retry
  // fail (a shared countdown), the second succeeds on its first retry.
  auto starts_to_fail = std::make_shared<std::atomic<int>>(3);
  RuntimeFactory local = o.env.runtime;
  o.env.runtime = [local, starts_to_fail]() -> Result<std::unique_ptr<Runtime>> {
    R2E_ASSIGN_OR_RETURN(auto inner, local());
    auto faulty = std::make_unique<FaultRuntime>(std::move(inner));
    if (starts_to_fail->fetch_sub(1) > 0) faulty->fail_next(FaultRuntime::Op::kStart, Status::Unavailable("daemon down"));
    return std::unique_ptr<Runtime>(std::move(faulty));
  };
  o.reset_retries = 1;
  auto scheduler = RolloutScheduler::Create(o).value();
  Task missing = DemoVariant(9);
  missing.local_repo = "/nonexistent/repo";
  ASSERT_TRUE(scheduler->submit({{DemoVariant(0), 1}, {DemoVariant(1), 1}, {missing, 1}, {DemoVariant(2), 1}}).ok());

  auto failed = scheduler->acquire(120s);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->outcome, RolloutOutcome::kInfraError);
  EXPECT_EQ(failed->env, nullptr);
  EXPECT_EQ(failed->attempts, 2);
  EXPECT_NE(failed->status.message().find("daemon down"), std::string::npos) << failed->status.ToString();

  auto retried = scheduler->acquire(120s);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->outcome, RolloutOutcome::kOk) << retried->status.ToString();
  EXPECT_EQ(retried->attempts, 2);

  auto bad_task = scheduler->acquire(120s);
  ASSERT_TRUE(bad_task.ok());
  EXPECT_EQ(bad_task->outcome, RolloutOutcome::kInfraError);
  EXPECT_EQ(bad_task->task_index, 2);

  auto fine = scheduler->acquire(120s);
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->outcome, RolloutOutcome::kOk) << fine->status.ToString();
  EXPECT_EQ(fine->attempts, 1);
  scheduler->release(std::move(retried->env));
  scheduler->release(std::move(fine->env));
  scheduler->shutdown();
  const RolloutStats s = scheduler->stats();
  EXPECT_EQ(s.infra_errors, 2);
  EXPECT_GE(s.retried, 2);
  EXPECT_EQ(s.prepared, 2);
  EXPECT_EQ(SandboxesLeft(), 0);
}

TEST_F(RolloutSchedulerTest, CancelDropsABatchAndShutdownLeavesNothing) {
  auto scheduler = RolloutScheduler::Create(Options(3, 2)).value();
  auto first = scheduler->submit({{DemoVariant(0), 3}}).value();
  auto second = scheduler->submit({{DemoVariant(1), 2}}).value();
  EXPECT_EQ(scheduler->cancel(99).code(), StatusCode::kNotFound);
  // Let the first batch's sandboxes be prepared, then drop it.
  for (int i = 0; i < 600 && scheduler->stats().ready < 3; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(scheduler->cancel(first).ok());
  auto r = scheduler->acquire(120s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->batch, second);
  EXPECT_EQ(scheduler->stats().cancelled, 3);
  // Shut down with one handed out, one ready or being prepared, one pending.
  ASSERT_TRUE(scheduler->submit({{DemoVariant(2), 3}}).ok());
  scheduler->shutdown();
  EXPECT_EQ(scheduler->acquire(1s).status().code(), StatusCode::kCancelled);
  EXPECT_EQ(scheduler->submit({{DemoVariant(3), 1}}).status().code(), StatusCode::kCancelled);
  EXPECT_EQ(SandboxesLeft(), 1) << "only the handed-out sandbox may remain";
  scheduler->release(std::move(r->env));  // closed on this thread after shutdown
  EXPECT_EQ(SandboxesLeft(), 0);
}

TEST_F(RolloutSchedulerTest, ImagesAreFetchedOnceEachUnderThePullCap) {
  RolloutSchedulerOptions o = Options(8, 4);
  o.max_concurrent_pulls = 2;
  o.reset_retries = 1;
  std::mutex mu;
  std::map<std::string, int> fetches;
  std::atomic<int> in_flight{0}, most{0};
  o.fetch_image = [&](const Task& task) -> Status {
    const int now = ++in_flight;
    most = std::max(most.load(), now);
    std::this_thread::sleep_for(100ms);
    --in_flight;
    std::lock_guard<std::mutex> lock(mu);
    ++fetches[task.image];
    if (task.image == "registry.invalid/missing:1") return Status::NotFound("manifest unknown");
    return Status::OK();
  };
  auto scheduler = RolloutScheduler::Create(o).value();
  std::vector<RolloutRequest> batch;
  for (int i = 0; i < 4; ++i) {
    Task t = DemoVariant(i);
    t.image = "r2e-demo/textstats:copy" + std::to_string(i);  // four distinct images, two rollouts each
    batch.push_back({t, 2});
  }
  Task missing = DemoVariant(4);
  missing.image = "registry.invalid/missing:1";
  batch.push_back({missing, 1});
  ASSERT_TRUE(scheduler->submit(std::move(batch)).ok());
  for (int i = 0; i < 8; ++i) {
    auto r = scheduler->acquire(120s);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->outcome, RolloutOutcome::kOk) << r->status.ToString();
    scheduler->release(std::move(r->env));
  }
  auto failed = scheduler->acquire(120s);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->outcome, RolloutOutcome::kInfraError);
  EXPECT_NE(failed->status.message().find("manifest unknown"), std::string::npos) << failed->status.ToString();
  scheduler->shutdown();
  EXPECT_LE(most.load(), 2);
  std::lock_guard<std::mutex> lock(mu);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(fetches["r2e-demo/textstats:copy" + std::to_string(i)], 1);
  EXPECT_EQ(fetches["registry.invalid/missing:1"], 2) << "fetched again on the retry";
  EXPECT_EQ(scheduler->stats().pull.count, 4);
  EXPECT_EQ(SandboxesLeft(), 0);
}

TEST_F(RolloutSchedulerTest, ReusesAReleasedSandboxForTheNextRolloutOfItsTask) {
  RolloutSchedulerOptions o = Options(1, 1);
  o.reuse_sandboxes = true;
  auto scheduler = RolloutScheduler::Create(o).value();
  ASSERT_TRUE(scheduler->submit({{DemoVariant(0), 2}, {DemoVariant(1), 1}}).ok());
  auto first = scheduler->acquire(120s);
  ASSERT_TRUE(first.ok() && first->env);
  const auto dir = static_cast<LocalRuntime&>(first->env->runtime()).workdir();
  ASSERT_TRUE(first->env->run("echo edit >> /testbed/README.md; touch /testbed/new.txt /tmp/kept.txt").ok());
  scheduler->release(std::move(first->env));
  auto second = scheduler->acquire(120s);
  ASSERT_TRUE(second.ok() && second->env) << second.status().ToString();
  EXPECT_EQ(second->member, 1);
  EXPECT_EQ(second->env->last_reset_kind(), ResetKind::kFast);
  EXPECT_EQ(static_cast<LocalRuntime&>(second->env->runtime()).workdir(), dir) << "not the same sandbox";
  // /testbed as after setup; what is outside it stays (the documented trade-off).
  auto tree = second->env->run("git -C /testbed status --porcelain; test -e /testbed/new.txt || echo gone; "
                               "test -e /tmp/kept.txt && echo kept");
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(tree->output, "gone\nkept\n");
  EXPECT_EQ(scheduler->stats().reused, 1);
  // The next task's rollout cannot reuse it: a new sandbox once it is closed.
  scheduler->release(std::move(second->env));
  auto third = scheduler->acquire(120s);
  ASSERT_TRUE(third.ok() && third->env) << third.status().ToString();
  EXPECT_EQ(third->task_index, 1);
  EXPECT_EQ(third->env->last_reset_kind(), ResetKind::kCold);
  EXPECT_EQ(SandboxesLeft(), 1);
  scheduler->release(std::move(third->env));
  scheduler->shutdown();
  EXPECT_EQ(scheduler->stats().reused, 1);
  EXPECT_EQ(SandboxesLeft(), 0);
}

// A sandbox kept for reuse goes when its batch is cancelled, without a
// shutdown; two shutdowns at once both return with nothing left.
TEST_F(RolloutSchedulerTest, CancelClosesKeptSandboxesAndShutdownsMayRace) {
  RolloutSchedulerOptions o = Options(2, 2);
  o.reuse_sandboxes = true;
  auto scheduler = RolloutScheduler::Create(o).value();
  const long long batch = scheduler->submit({{DemoVariant(0), 4}}).value();
  auto first = scheduler->acquire(120s);
  ASSERT_TRUE(first.ok() && first->env) << first.status().ToString();
  scheduler->release(std::move(first->env));
  ASSERT_TRUE(scheduler->cancel(batch).ok());
  for (int i = 0; i < 600 && (SandboxesLeft() > 0 || scheduler->stats().live > 0); ++i) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(scheduler->stats().live, 0);
  EXPECT_EQ(SandboxesLeft(), 0);

  ASSERT_TRUE(scheduler->submit({{DemoVariant(1), 4}}).ok());
  std::this_thread::sleep_for(300ms);  // resets under way
  std::thread other([&] { scheduler->shutdown(); });
  scheduler->shutdown();
  other.join();
  EXPECT_EQ(SandboxesLeft(), 0);
}

TEST_F(RolloutSchedulerTest, BadArguments) {
  RolloutSchedulerOptions o = Options(0, 1);
  EXPECT_EQ(RolloutScheduler::Create(o).status().code(), StatusCode::kInvalidArgument);
  o = Options(1, 0);
  EXPECT_EQ(RolloutScheduler::Create(o).status().code(), StatusCode::kInvalidArgument);
  auto scheduler = RolloutScheduler::Create(Options(1, 1)).value();
  EXPECT_EQ(scheduler->submit({{DemoVariant(0), 0}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(scheduler->acquire(10ms).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(scheduler->stats().submitted, 0);
  EXPECT_EQ(RolloutOutcomeName(RolloutOutcome::kInfraError), "infra_error");
  EXPECT_EQ(OutcomeOf(Result<double>(Status::Unavailable("gone"))), RolloutOutcome::kInfraError);
  EXPECT_EQ(OutcomeOf(Result<double>(1.0)), RolloutOutcome::kOk);
}

}  // namespace
}  // namespace r2e
