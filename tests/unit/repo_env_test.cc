// RepoEnv end to end on the local runtime with the demo task: reset, steps,
// hidden tests kept hidden, rewards 0 and 1, and clean failure paths.
#include "r2e/repo_env.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/fault_runtime.h"
#include "r2e/runtimes.h"
#include "demo_task.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;

using test_util::DemoTask;

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
  EXPECT_NE(failing->info.exit_code, 0);
  EXPECT_NE(failing->observation.text.find("Execution output of [execute_bash]"), std::string::npos);
  auto slow = env->step("<function=execute_bash>\n<parameter=cmd>sleep 30</parameter>\n</function>", 1s);
  ASSERT_TRUE(slow.ok());
  EXPECT_TRUE(slow->info.timed_out);
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

TEST(RuntimeRegistryTest, OnlyDockerWithAPidsLimitContainsForkBombs) {
  RuntimeOptions options;
  options.docker.pids_limit = 64;
  EXPECT_TRUE(LimitsProcesses("docker", options));
  EXPECT_FALSE(LimitsProcesses("local", options));
  EXPECT_FALSE(LimitsProcesses("kube", options));
  options.docker.pids_limit = 0;
  EXPECT_FALSE(LimitsProcesses("docker", options));
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

std::string Bash(const std::string& cmd) {
  return "<function=execute_bash>\n<parameter=cmd>" + cmd + "</parameter>\n</function>";
}

std::set<std::string> Keys(const nlohmann::json& j) {
  std::set<std::string> out;
  for (const auto& [key, value] : j.items()) out.insert(key);
  return out;
}

TEST(RepoEnvInfoTest, CommandStepsReportWhatRan) {
  auto env = RepoEnv::Create(DemoTask()).value();
  ASSERT_TRUE(env->reset().ok());
  auto ok = env->step(Bash("echo hi"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->info.step, 1);
  EXPECT_EQ(ok->info.tool, "execute_bash");
  EXPECT_EQ(ok->info.exit_code, 0);
  EXPECT_FALSE(ok->info.timed_out);
  EXPECT_EQ(ok->info.truncated_bytes, 0u);
  ASSERT_TRUE(ok->info.tool_path.has_value());
  EXPECT_NE(*ok->info.tool_path, ToolPath::kUnknown);
  EXPECT_GT(ok->info.total_time.count(), 0.0);
  EXPECT_LE(ok->info.duration, ok->info.total_time);
  EXPECT_FALSE(ok->info.result.has_value());
  // The local sandbox sees the host's python3, which runs the tools.
  EXPECT_EQ(ok->info.tool_python, ToolPython::kSandbox);
  EXPECT_EQ(Keys(ToJson(ok->info)), (std::set<std::string>{"total_time", "exit_code", "timed_out", "tool", "step",
                                                           "tool_path", "tool_python"}));
  EXPECT_EQ(ToJson(ok->info)["tool_path"], ToolPathName(*ok->info.tool_path));
  EXPECT_EQ(ToJson(ok->info)["tool_python"], "sandbox");

  // The real exit code (the text shows the scaffold's "Error: Exit code 3").
  auto failing = env->step(Bash("exit 3"));
  ASSERT_TRUE(failing.ok());
  EXPECT_EQ(failing->info.step, 2);
  EXPECT_EQ(failing->info.exit_code, 3);
  EXPECT_NE(failing->observation.text.find("Error: Exit code 3"), std::string::npos);

  // 300 KB of output: the session keeps its head and tail and counts the rest.
  auto big = env->step(Bash("head -c 300000 /dev/zero | tr '\\0' a"));
  ASSERT_TRUE(big.ok());
  EXPECT_GT(big->info.truncated_bytes, 100000u);
  EXPECT_NE(big->observation.text.find("omitted"), std::string::npos);

  auto slow = env->step(Bash("sleep 30"), 1s);
  ASSERT_TRUE(slow.ok());
  EXPECT_TRUE(slow->info.timed_out);
  EXPECT_EQ(slow->info.exit_code, 137);
  EXPECT_GE(slow->info.duration, 900ms);
  EXPECT_EQ(ToJson(slow->info)["timed_out"], true);
}

TEST(RepoEnvInfoTest, StepsThatRunNothingHaveNoToolPath) {
  auto env = RepoEnv::Create(DemoTask()).value();
  ASSERT_TRUE(env->reset().ok());
  auto none = env->step("no call here");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->info.tool, "");
  EXPECT_EQ(none->info.exit_code, 0);
  EXPECT_FALSE(none->info.tool_path.has_value());
  EXPECT_FALSE(none->info.tool_python.has_value());
  EXPECT_EQ(none->info.duration, 0ms);
  EXPECT_EQ(Keys(ToJson(none->info)), (std::set<std::string>{"total_time", "exit_code", "timed_out", "tool", "step"}));
  auto unknown = env->step("<function=teleport>\n<parameter=to>moon</parameter>\n</function>");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->info.tool, "teleport");
  EXPECT_EQ(unknown->info.exit_code, -1);
  EXPECT_FALSE(unknown->info.tool_path.has_value());
  // An invalid name is reported as valid UTF-8.
  Action bad;
  bad.function_name = "bad\xff";
  auto odd = env->step(bad);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->info.tool, "bad\xef\xbf\xbd");
  auto fin = env->step("<function=finish>\n<parameter=command>submit</parameter>\n"
                       "<parameter=result>all done</parameter>\n</function>");
  ASSERT_TRUE(fin.ok());
  EXPECT_EQ(fin->info.step, 4);
  EXPECT_EQ(fin->info.result, "all done");
  EXPECT_EQ(ToJson(fin->info)["result"], "all done");
  EXPECT_FALSE(fin->info.tool_path.has_value());
}

TEST(RepoEnvDoneTest, DoneIsTheFinishingStepsAndCheckDoneLastsTheEpisode) {
  auto env = RepoEnv::Create(DemoTask()).value();
  ASSERT_TRUE(env->reset().ok());
  EXPECT_FALSE(env->check_done());
  auto look = env->step(Bash("true"));
  ASSERT_TRUE(look.ok());
  EXPECT_FALSE(look->done);
  EXPECT_FALSE(env->check_done());
  // Any name holding finish/submit ends the episode, also one that is no tool.
  auto fin = env->step("<function=my_submit_tool></function>");
  ASSERT_TRUE(fin.ok());
  EXPECT_TRUE(fin->done);
  EXPECT_TRUE(env->check_done());
  // A later step still runs; it is not itself final, the episode stays over.
  auto after = env->step(Bash("echo still here"));
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->done);
  EXPECT_NE(after->observation.text.find("still here"), std::string::npos);
  EXPECT_TRUE(env->check_done());
  EXPECT_EQ(env->steps(), 3);
  ASSERT_TRUE(env->reset().ok());
  EXPECT_FALSE(env->check_done());
  EXPECT_EQ(env->steps(), 0);
}

TEST(RepoEnvTimeoutTest, NoTimeoutMeansStepTimeoutForStepAndRun) {
  RepoEnvOptions o;
  o.step_timeout = 1s;
  auto env = RepoEnv::Create(DemoTask(), o).value();
  ASSERT_TRUE(env->reset().ok());

  auto step = env->step(Bash("sleep 30"));
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_TRUE(step->info.timed_out);
  EXPECT_NE(step->observation.text.find("(>1s)"), std::string::npos) << step->observation.text;

  // run() took 120 s when given no timeout; now it is step_timeout's.
  const auto t0 = std::chrono::steady_clock::now();
  auto run = env->run("sleep 30");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_TRUE(run->timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);

  // A given timeout wins over step_timeout.
  auto longer = env->step(Bash("sleep 1.5; echo woke"), 5s);
  ASSERT_TRUE(longer.ok());
  EXPECT_FALSE(longer->info.timed_out);
  EXPECT_NE(longer->observation.text.find("woke"), std::string::npos);
  auto ran = env->run("sleep 1.5; echo woke", 5s);
  ASSERT_TRUE(ran.ok());
  EXPECT_FALSE(ran->timed_out);
  EXPECT_EQ(ran->output, "woke\n");
}

TEST(RepoEnvTimeoutTest, NonPositiveTimeoutsAreRefusedAndRunNothing) {
  auto env = RepoEnv::Create(DemoTask()).value();
  ASSERT_TRUE(env->reset().ok());
  // seconds(0) used to mean "the default": now it is an error, not a silent
  // zero timeout.
  auto zero = env->step(Bash("touch /testbed/ran"), 0s);
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("std::nullopt"), std::string::npos);
  EXPECT_EQ(env->steps(), 0);
  EXPECT_EQ(env->run("touch /testbed/ran", -5s).status().code(), StatusCode::kInvalidArgument);
  auto ran = env->run("test -e /testbed/ran");
  ASSERT_TRUE(ran.ok());
  EXPECT_NE(ran->exit_code, 0);
}

TEST(RepoEnvResetKindTest, KindsAndNames) {
  auto env = RepoEnv::Create(DemoTask()).value();
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kNone);
  ASSERT_TRUE(env->reset().ok());
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kCold);
  EXPECT_EQ(ResetKindName(ResetKind::kNone), "none");
  EXPECT_EQ(ResetKindName(ResetKind::kCold), "cold");
  EXPECT_EQ(ResetKindName(ResetKind::kWarm), "warm");
  EXPECT_EQ(ResetKindName(ResetKind::kFast), "fast");
}

// Where the demo's runner (/testbed/run_tests.sh) and tests (/root/r2e_tests
// on the local runtime) are after reset() in each mode, and whether R2E's
// grader (which looks under /root) finds them.
TEST(RepoEnvHiddenTestsTest, EachModePlacesTheTestsAndGradingWorks) {
  struct Case {
    HiddenTestMode mode;
    bool in_testbed, under_root, grades;
  };
  for (const Case& c : {Case{HiddenTestMode::kLeaveInPlace, true, true, false},
                        Case{HiddenTestMode::kMoveUnderRoot, false, true, true},
                        Case{HiddenTestMode::kRemoveFromSandbox, false, false, true}}) {
    SCOPED_TRACE(std::string(HiddenTestModeName(c.mode)));
    RepoEnvOptions o;
    o.hidden_tests = c.mode;
    auto env = RepoEnv::Create(DemoTask(), o).value();
    ASSERT_TRUE(env->reset().ok());
    auto testbed = env->run("test -e /testbed/run_tests.sh");
    auto root = env->run("test -e /root/run_tests.sh || test -e /root/r2e_tests");
    ASSERT_TRUE(testbed.ok() && root.ok());
    EXPECT_EQ(testbed->exit_code == 0, c.in_testbed);
    EXPECT_EQ(root->exit_code == 0, c.under_root);
    auto reward = env->compute_reward();
    EXPECT_EQ(reward.ok(), c.grades) << reward.status().ToString();
    if (reward.ok()) {
      EXPECT_EQ(*reward, 0.0);
    }
  }
  EXPECT_EQ(RepoEnvOptions{}.hidden_tests, HiddenTestMode::kRemoveFromSandbox);
}

TEST(RepoEnvRewardFnTest, NoneGivesZeroPerStep) {
  auto env = RepoEnv::Create(DemoTask()).value();
  ASSERT_TRUE(env->reset().ok());
  for (const std::string& a : {Bash("true"), Bash("exit 1"), std::string("<function=finish></function>")}) {
    auto r = env->step(a);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->reward, 0.0);
  }
}

TEST(RepoEnvRewardFnTest, CalledAfterEachStepWithTheResult) {
  Task task = DemoTask();
  struct Call {
    int step;
    std::string function;
    int exit_code;
    bool done;
    std::string text;
  };
  std::vector<Call> calls;
  RepoEnvOptions o;
  // -0.1 a step, -1 for a failing command, +1 when the agent finishes with
  // the visible tests passing (which the hook may run itself).
  o.reward_fn = [&](RepoEnv& env, const Action& action, const StepResult& r) {
    EXPECT_EQ(r.reward, 0.0);
    EXPECT_EQ(env.steps(), r.info.step);
    calls.push_back({r.info.step, action.function_name, r.info.exit_code, r.done, r.observation.text});
    if (r.info.exit_code != 0) return -1.0;
    if (!r.done) return -0.1;
    auto tests = env.run("cd /testbed && python3 -m pytest -q tests >/dev/null 2>&1");
    return tests.ok() && tests->exit_code == 0 ? 1.0 : 0.0;
  };
  auto env = RepoEnv::Create(task, o).value();
  ASSERT_TRUE(env->reset().ok());
  auto look = env->step(Bash("echo looking"));
  ASSERT_TRUE(look.ok());
  EXPECT_DOUBLE_EQ(look->reward, -0.1);
  auto bad = env->step(Bash("ls /nope"));
  ASSERT_TRUE(bad.ok());
  EXPECT_DOUBLE_EQ(bad->reward, -1.0);
  auto none = env->step("just thinking");
  ASSERT_TRUE(none.ok());
  EXPECT_DOUBLE_EQ(none->reward, -0.1);
  std::vector<std::string> actions = ScriptedActions(task);
  StepResult last;
  for (const auto& a : actions) {
    auto r = env->step(a);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    last = *r;
  }
  ASSERT_TRUE(last.done);
  EXPECT_DOUBLE_EQ(last.reward, 1.0);
  ASSERT_EQ(calls.size(), 3 + actions.size());
  EXPECT_EQ(calls[0].step, 1);
  EXPECT_EQ(calls[0].function, "execute_bash");
  EXPECT_NE(calls[0].text.find("looking"), std::string::npos);
  EXPECT_NE(calls[1].exit_code, 0);
  EXPECT_EQ(calls[2].function, "");
  EXPECT_TRUE(calls.back().done);
  // The true reward is still compute_reward()'s.
  EXPECT_EQ(*env->compute_reward(), 1.0);
}

TEST(RepoEnvRewardFnTest, AThrowingHookFailsTheStep) {
  RepoEnvOptions o;
  o.reward_fn = [](RepoEnv&, const Action&, const StepResult&) -> double { throw std::runtime_error("boom"); };
  auto env = RepoEnv::Create(DemoTask(), o).value();
  ASSERT_TRUE(env->reset().ok());
  auto r = env->step(Bash("true"));
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("boom"), std::string::npos);
}

}  // namespace
}  // namespace r2e
