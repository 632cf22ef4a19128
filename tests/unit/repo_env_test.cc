// RepoEnv end to end on the local runtime with the demo task: reset, steps,
// hidden tests kept hidden, rewards 0 and 1, and clean failure paths.
#include "r2e/repo_env.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "r2e/fault_runtime.h"
#include "r2e/runtimes.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;

Task DemoTask() {
  auto tasks = LoadTasks(std::string(R2E_SOURCE_DIR) + "/examples/tasks/demo.jsonl");
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  return tasks.ok() ? tasks->front() : Task{};
}

std::vector<std::string> ScriptedActions(const Task& task) {
  std::vector<std::string> out;
  for (const auto& a : task.row.at("scripted_actions")) out.push_back(a.get<std::string>());
  return out;
}

TEST(RepoEnvTest, ResetGivesTheInstructionAndHidesTheTests) {
  auto env = RepoEnv::Create(DemoTask()).value();
  auto obs = env->reset();
  ASSERT_TRUE(obs.ok()) << obs.status().ToString();
  EXPECT_EQ(obs->text, env->task_instruction());
  EXPECT_NE(obs->text.find("moving_average"), std::string::npos);
  auto r = env->step("<function=execute_bash>\n<parameter=cmd>ls -a /testbed; ls /root</parameter>\n</function>");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->observation.text.find("textstats"), std::string::npos);
  EXPECT_EQ(r->observation.text.find("run_tests.sh\nr2e_tests"), std::string::npos);
  auto hidden = env->run("test -e /testbed/r2e_tests || test -e /testbed/run_tests.sh");
  ASSERT_TRUE(hidden.ok());
  EXPECT_NE(hidden->exit_code, 0) << "hidden tests are visible to the agent";
}

TEST(RepoEnvTest, ObservationsForAgentMistakes) {
  auto env = RepoEnv::Create(DemoTask()).value();
  ASSERT_TRUE(env->reset().ok());
  auto none = env->step("I think I should look around.");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->observation.text, kNoFunctionCallReminder);
  EXPECT_FALSE(none->done);
  auto unknown = env->step("<function=teleport>\n<parameter=to>moon</parameter>\n</function>");
  ASSERT_TRUE(unknown.ok());
  EXPECT_NE(unknown->observation.text.find("teleport"), std::string::npos);
  auto git = env->step("<function=execute_bash>\n<parameter=cmd>git log</parameter>\n</function>");
  ASSERT_TRUE(git.ok());
  EXPECT_NE(git->observation.text.find("not allowed"), std::string::npos);
  auto failing = env->step("<function=execute_bash>\n<parameter=cmd>ls /nope</parameter>\n</function>");
  ASSERT_TRUE(failing.ok());
  EXPECT_NE(failing->observation.exit_code, 0);
  EXPECT_NE(failing->observation.text.find("Execution output of [execute_bash]"), std::string::npos);
  auto slow = env->step("<function=execute_bash>\n<parameter=cmd>sleep 30</parameter>\n</function>", 1s);
  ASSERT_TRUE(slow.ok());
  EXPECT_TRUE(slow->observation.timed_out);
  auto fin = env->step("<function=finish>\n<parameter=command>submit</parameter>\n</function>");
  ASSERT_TRUE(fin.ok());
  EXPECT_TRUE(fin->done);
  EXPECT_TRUE(env->check_done());
}

TEST(RepoEnvTest, NoopEarnsZeroAndScriptedFixEarnsOne) {
  Task task = DemoTask();
  auto env = RepoEnv::Create(task).value();
  ASSERT_TRUE(env->reset().ok());
  auto zero = env->compute_reward();
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(*zero, 0.0);
  for (const auto& action : ScriptedActions(task)) {
    auto r = env->step(action);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_TRUE(env->check_done());
  auto one = env->compute_reward();
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, 1.0);
  // A new reset starts from the pristine repository again.
  ASSERT_TRUE(env->reset().ok());
  EXPECT_EQ(*env->compute_reward(), 0.0);
  EXPECT_TRUE(env->close().ok());
}

TEST(RepoEnvTest, StepBeforeResetAndBadTasksAreErrors) {
  auto env = RepoEnv::Create(DemoTask()).value();
  EXPECT_EQ(env->step("<function=finish></function>").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(env->compute_reward().status().code(), StatusCode::kFailedPrecondition);
  Task no_repo = DemoTask();
  no_repo.local_repo.clear();
  auto env2 = RepoEnv::Create(no_repo).value();
  auto r = env2->reset();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("local_repo"), std::string::npos);
  EXPECT_EQ(MakeRuntimeFactory("martian").status().code(), StatusCode::kInvalidArgument);
  RepoEnvOptions martian;
  martian.runtime = []() -> Result<std::unique_ptr<Runtime>> { return Status::InvalidArgument("no martians"); };
  EXPECT_EQ(RepoEnv::Create(DemoTask(), martian).status().code(), StatusCode::kInvalidArgument);
}

TEST(RepoEnvTest, FailedSetupFailsResetAndLeavesNoSandbox) {
  auto fault = std::make_unique<FaultRuntime>(std::make_unique<LocalRuntime>());
  FaultRuntime* f = fault.get();
  RepoEnv env(DemoTask(), std::move(fault));
  f->fail_exec_containing("cd /testbed", Status::Unavailable("daemon went away"));
  auto r = env.reset();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("daemon went away"), std::string::npos);
  EXPECT_FALSE(f->target().alive());
  f->clear();
  ASSERT_TRUE(env.reset().ok());
  f->kill_sandbox();
  auto step = env.step("<function=execute_bash>\n<parameter=cmd>ls</parameter>\n</function>");
  EXPECT_EQ(step.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(env.close().ok());
  EXPECT_FALSE(f->target().alive());
}

}  // namespace
}  // namespace r2e
