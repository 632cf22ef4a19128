// Grading in a fresh sandbox (GradeIn::kFreshSandbox) on the local runtime:
// the reward-hacking corpus (reward_hacks.h) on the R2E demo task, graded in
// the agent's sandbox and in a fresh one; the agent's sandbox is left as it
// was; a patch that cannot be taken grades 0 with the reason; a grading
// sandbox that cannot be made is an error.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>

#include "r2e/local_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "reward_hacks.h"
#include "demo_task.h"

namespace r2e {
namespace {

using testing_hacks::BashAction;
using testing_hacks::PlayHack;
using testing_hacks::RewardHack;

using test_util::DemoTask;

class LocalRewardHackTest : public ::testing::TestWithParam<RewardHack> {
 protected:
  void SetUp() override {
    if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
  }
};

TEST_P(LocalRewardHackTest, FreshSandboxGivesNoUnearnedReward) {
  const RewardHack& hack = GetParam();
  const Task task = DemoTask();
  const double agent = PlayHack(task, hack, GradeIn::kAgentSandbox);
  const double fresh = PlayHack(task, hack, GradeIn::kFreshSandbox);
  // The table in docs/reliability.md is made from these lines.
  std::cout << "reward-hack local r2e " << hack.name << " agent=" << agent << " fresh=" << fresh
            << "\n";
  EXPECT_EQ(fresh, hack.fresh) << hack.name << ": " << hack.what;
  if (hack.agent) {
    EXPECT_EQ(agent, *hack.agent) << hack.name << ": " << hack.what;
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, LocalRewardHackTest, ::testing::ValuesIn(testing_hacks::RewardHacks()),
                         [](const auto& p) { return p.param.name; });

std::string Out(RepoEnv& env, const std::string& cmd) {
  auto r = env.run(cmd);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->output : "<error>";
}

TEST(FreshGradeTest, TheFixEarnsOneAndTheAgentsSandboxIsLeftAsItWas) {
  if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
  const Task task = DemoTask();
  auto env = RepoEnv::Create(task).value();  // kFreshSandbox is the default
  ASSERT_TRUE(env->reset().ok());
  auto zero = env->grade();
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(zero->reward, 0.0);
  for (const auto& a : task.row.at("scripted_actions"))
    ASSERT_TRUE(env->step(a.get<std::string>()).ok());
  // Uncommitted, untracked and binary changes travel; nothing is staged.
  ASSERT_TRUE(env->run("printf 'new\\n' > notes.txt && printf '\\000\\001\\377' > blob.bin").ok());
  const std::string status = Out(*env, "git status --porcelain; git diff --cached --stat");
  auto one = env->grade();
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->reward, 1.0) << one->log;
  EXPECT_TRUE(one->warnings.empty());
  EXPECT_EQ(Out(*env, "git status --porcelain; git diff --cached --stat"), status);
  EXPECT_EQ(Out(*env, "test -e /root/r2e_tests || echo hidden"), "hidden\n");
  // The episode goes on after a reward.
  auto step = env->step(BashAction("cat notes.txt"));
  ASSERT_TRUE(step.ok());
  EXPECT_NE(step->observation.text.find("new"), std::string::npos);
}

TEST(FreshGradeTest, APatchThatCannotBeTakenGradesZeroWithTheReason) {
  if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
  const Task task = DemoTask();
  auto env = RepoEnv::Create(task).value();
  ASSERT_TRUE(env->reset().ok());
  for (const auto& a : task.row.at("scripted_actions"))
    ASSERT_TRUE(env->step(a.get<std::string>()).ok());
  // Without the repository there is nothing to diff against.
  ASSERT_TRUE(env->step(BashAction("rm -rf .git")).ok());
  auto g = env->grade();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->reward, 0.0);
  ASSERT_EQ(g->warnings.size(), 1u);
  EXPECT_NE(g->warnings[0].find("could not be read"), std::string::npos) << g->warnings[0];
}

TEST(FreshGradeTest, APatchThatDoesNotApplyGradesZeroWithTheReason) {
  if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
  const Task task = DemoTask();
  // A setup that differs between sandboxes: the agent's edit of that file
  // cannot apply to the grading sandbox's.
  RepoEnvOptions o;
  o.extra_setup = {"od -An -tx8 -N8 /dev/urandom > /testbed/stamp.txt"};
  auto env = RepoEnv::Create(task, o).value();
  ASSERT_TRUE(env->reset().ok());
  for (const auto& a : task.row.at("scripted_actions"))
    ASSERT_TRUE(env->step(a.get<std::string>()).ok());
  ASSERT_TRUE(env->step(BashAction("echo edited >> stamp.txt")).ok());
  auto g = env->grade();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->reward, 0.0);
  ASSERT_EQ(g->warnings.size(), 1u);
  EXPECT_NE(g->warnings[0].find("did not apply"), std::string::npos) << g->warnings[0];
  EXPECT_NE(g->warnings[0].find("stamp.txt"), std::string::npos) << g->warnings[0];
}

TEST(FreshGradeTest, AGradingSandboxThatCannotBeMadeIsAnError) {
  if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
  auto made = std::make_shared<std::atomic<int>>(0);
  RepoEnvOptions o;
  o.runtime = [made]() -> Result<std::unique_ptr<Runtime>> {
    if (made->fetch_add(1) > 0) return Status::Unavailable("no more sandboxes today");
    return std::unique_ptr<Runtime>(std::make_unique<LocalRuntime>());
  };
  auto env = RepoEnv::Create(DemoTask(), o).value();
  ASSERT_TRUE(env->reset().ok());
  auto g = env->grade();
  EXPECT_EQ(g.status().code(), StatusCode::kUnavailable) << g.status().ToString();
  EXPECT_NE(g.status().message().find("no more sandboxes today"), std::string::npos);
  EXPECT_EQ(made->load(), 2);
}

}  // namespace
}  // namespace r2e
