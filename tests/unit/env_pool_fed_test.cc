// EnvPool slots fed from a RolloutScheduler (local runtime, copies of the demo
// task): a slot's reset takes the next rollout in submission order and says
// which; an auto reset after the final step hands the environment back and
// takes the next; a rollout the scheduler gave up on leaves the slot empty
// with the reset's error; closing and destroying the pool leave no sandbox.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <utility>

#include "demo_task.h"
#include "r2e/env_pool.h"
#include "r2e/local_runtime.h"
#include "r2e/rollout_scheduler.h"
#include "r2e/runtimes.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Task FedVariant(int i) {
  Task t = test_util::DemoTask();
  t.instance_id = "r2e-demo__textstats-fed" + std::to_string(i);
  return t;
}

Action FedFinish() {
  return ParseAction("<function=finish>\n<parameter=command>submit</parameter>\n</function>");
}

class EnvPoolFedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("r2e-pool-fed-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    LocalRuntimeOptions local;
    local.work_root = root_;
    RolloutSchedulerOptions o;
    o.env.runtime = LocalRuntimeFactory(local);
    // A shell finish tool: the episodes here do not need python's tools.
    o.env.tool_set = "";
    o.env.extra_tools = {{"finish.sh", "# Ends the episode.\nfinish() { :; }\n"}};
    o.max_live = 3;
    o.max_concurrent_starts = 2;
    o.reset_retries = 0;
    scheduler_ = RolloutScheduler::Create(o).value();
  }
  void TearDown() override {
    scheduler_.reset();
    fs::remove_all(root_);
  }
  int SandboxesLeft() const {
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(root_)) ++n;
    return n;
  }
  fs::path root_;
  std::unique_ptr<RolloutScheduler> scheduler_;
};

TEST_F(EnvPoolFedTest, ResetsTakeRolloutsInOrderAndAnInfraErrorEmptiesTheSlot) {
  Task missing = FedVariant(9);
  missing.local_repo = "/nonexistent/repo";
  ASSERT_TRUE(scheduler_->submit({{FedVariant(0), 2}, {missing, 1}, {FedVariant(1), 1}}).ok());
  EnvPoolOptions o;
  o.auto_reset = true;
  o.reward_on_done = true;
  auto pool = EnvPool::Create(*scheduler_, 1, o).value();
  EXPECT_FALSE(pool->has_env(0));
  EXPECT_THROW(pool->env(0), std::logic_error);

  auto first = pool->reset({0});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const EnvResult& r0 = (*first)[0];
  ASSERT_TRUE(r0.status.ok()) << r0.status.ToString();
  ASSERT_TRUE(r0.rollout.has_value());
  EXPECT_EQ(r0.rollout->batch, 1);
  EXPECT_EQ(r0.rollout->task_index, 0);
  EXPECT_EQ(r0.rollout->member, 0);
  ASSERT_TRUE(r0.observation.has_value());
  EXPECT_EQ(r0.observation->text, pool->env(0).task_instruction());
  EXPECT_EQ(pool->env(0).task().instance_id, "r2e-demo__textstats-fed0");

  // The final step is graded, then the slot moves on to the group's next member.
  auto done = pool->step({FedFinish()}, {0});
  ASSERT_TRUE(done.ok());
  const EnvResult& r1 = (*done)[0];
  ASSERT_TRUE(r1.status.ok()) << r1.status.ToString();
  EXPECT_TRUE(r1.step.done);
  EXPECT_EQ(r1.step.reward, 0.0);  // the demo's bug is not fixed
  ASSERT_TRUE(r1.reset_status.ok()) << r1.reset_status.ToString();
  ASSERT_TRUE(r1.rollout.has_value());
  EXPECT_EQ(r1.rollout->member, 1);
  EXPECT_EQ(pool->env(0).steps(), 0);

  // Next comes the task that cannot start: the auto reset's error, an empty slot.
  done = pool->step({FedFinish()}, {0});
  ASSERT_TRUE(done.ok());
  const EnvResult& r2 = (*done)[0];
  EXPECT_TRUE(r2.status.ok()) << "the step itself worked";
  EXPECT_FALSE(r2.reset_status.ok());
  ASSERT_TRUE(r2.rollout.has_value());
  EXPECT_EQ(r2.rollout->outcome, RolloutOutcome::kInfraError);
  EXPECT_EQ(r2.rollout->task_index, 1);
  EXPECT_FALSE(pool->has_env(0));
  auto on_empty = pool->step({FedFinish()}, {0});
  ASSERT_TRUE(on_empty.ok());
  EXPECT_EQ((*on_empty)[0].status.code(), StatusCode::kFailedPrecondition)
      << (*on_empty)[0].status.ToString();

  // A reset recovers the slot with the batch's last rollout; then none is left.
  auto last = pool->reset({0});
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE((*last)[0].status.ok()) << (*last)[0].status.ToString();
  EXPECT_EQ((*last)[0].rollout->task_index, 2);
  auto none = pool->reset({0});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ((*none)[0].status.code(), StatusCode::kNotFound) << (*none)[0].status.ToString();

  pool.reset();
  scheduler_->shutdown();
  EXPECT_EQ(SandboxesLeft(), 0);
  const RolloutStats s = scheduler_->stats();
  EXPECT_EQ(s.infra_errors, 1);
  EXPECT_EQ(s.prepared, 3);
}

TEST_F(EnvPoolFedTest, SlotsShareAGroupAndTheirEnvironmentsGoBackToTheScheduler) {
  ASSERT_TRUE(scheduler_->submit({{FedVariant(0), 2}, {FedVariant(1), 2}}).ok());
  auto pool = EnvPool::Create(*scheduler_, 2).value();
  auto reset = pool->reset();
  ASSERT_TRUE(reset.ok()) << reset.status().ToString();
  std::set<std::pair<int, int>> seen;
  for (const EnvResult& r : *reset) {
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    seen.insert({r.rollout->task_index, r.rollout->member});
  }
  EXPECT_EQ(seen, (std::set<std::pair<int, int>>{{0, 0}, {0, 1}}));
  // Reset slot 0 and drop the pool while it may still wait: nothing is lost
  // track of.
  ASSERT_TRUE(pool->send_reset({0}).ok());
  pool.reset();
  scheduler_->shutdown();
  EXPECT_EQ(SandboxesLeft(), 0);
}

TEST_F(EnvPoolFedTest, BadArguments) {
  EXPECT_EQ(EnvPool::Create(*scheduler_, 0).status().code(), StatusCode::kInvalidArgument);
  EnvPoolOptions o;
  o.acquire_timeout = 0ms;
  EXPECT_EQ(EnvPool::Create(*scheduler_, 1, o).status().code(), StatusCode::kInvalidArgument);
  o = {};
  o.batch_size = 3;
  EXPECT_EQ(EnvPool::Create(*scheduler_, 2, o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace r2e
