// Security promises on docker (docs/reliability.md), asserted from inside
// the sandbox: the hidden R2E tests and the SWE-bench runner and test patch
// are not in the container while the agent works, a spoofed runner earns
// nothing, the real fix still earns 1, and a registry password never shows
// in an error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "docker/docker_client.h"
#include "env/hidden_tests.h"
#include "r2e/docker_runtime.h"
#include "r2e/local_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/session.h"
#include "r2e/shell_quote.h"
#include "r2e/warm_pool.h"
#include "../unit/demo_task.h"

namespace r2e {
namespace {

constexpr const char* kDemo = "r2e-demo/textstats:latest";

bool HaveImage(const std::string& image) {
  auto c = docker::DockerClient::Connect();
  return c.ok() && (*c)->inspect_image(image).ok();
}

using test_util::DemoTask;

std::string Bash(const std::string& cmd) {
  return "<function=execute_bash>\n<parameter=cmd>" + cmd + "</parameter>\n</function>";
}

// Grading in the agent's sandbox: these tests check that the hidden tests
// come back for the grade and leave again (with GradeIn::kFreshSandbox they
// never enter the agent's sandbox; reward_hacking_e2e_test.cc covers that).
RepoEnvOptions OfflineDockerOptions() {
  RepoEnvOptions o;
  o.grade_in = GradeIn::kAgentSandbox;
  DockerRuntimeOptions docker;
  docker.network_mode = "none";
  o.runtime = DockerRuntimeFactory(docker);
  return o;
}

// One episode: the tests are out of reach, a spoofed runner earns 0, the fix earns 1.
void HiddenTestsEpisode(RepoEnv& env, const Task& task, ResetKind reset_kind) {
  auto reset = env.reset();
  ASSERT_TRUE(reset.ok()) << reset.status().ToString();
  EXPECT_EQ(env.last_reset_kind(), reset_kind);
  auto look = env.step(Bash(
      "cat /root/run_tests.sh /root/r2e_tests/*.py /r2e_tests/*.py /testbed/r2e_tests/*.py 2>&1; "
      "find / -xdev -path '*r2e_tests*' -name '*.py' 2>/dev/null | head"));
  ASSERT_TRUE(look.ok()) << look.status().ToString();
  EXPECT_EQ(look->observation.text.find("def test_"), std::string::npos) << look->observation.text;
  EXPECT_EQ(look->observation.text.find("r2e_tests/test_"), std::string::npos) << look->observation.text;

  // A runner that prints the expected summary without running anything.
  std::string runner = "#!/bin/bash\necho '=== short test summary info ==='\n";
  const nlohmann::json expected = nlohmann::json::parse(task.expected_output_json);
  for (auto& [name, status] : expected.items()) {
    std::string path = "r2e_tests/test_1.py::" + name;
    for (std::size_t p; (p = path.find('.', path.find("::"))) != std::string::npos;) path.replace(p, 1, "::");
    runner += "echo " + ShellQuote(status.get<std::string>() + " " + path) + "\n";
  }
  ASSERT_TRUE(env.step(Bash("cat > /root/run_tests.sh <<'EOF'\n" + runner + "EOF\nchmod +x /root/run_tests.sh")).ok());
  auto spoofed = env.compute_reward();
  ASSERT_TRUE(spoofed.ok()) << spoofed.status().ToString();
  EXPECT_EQ(*spoofed, 0.0) << "a spoofed runner earned the reward";
  auto after = env.run("test -e /root/r2e_tests || test -e /root/run_tests.sh");
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->exit_code, 0) << "the hidden tests stayed in the sandbox after grading";

  for (const auto& a : task.row.at("scripted_actions")) ASSERT_TRUE(env.step(a.get<std::string>()).ok());
  auto one = env.compute_reward();
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, 1.0);
}

TEST(DockerSecurityTest, HiddenTestsAbsentSpoofedRunnerEarnsNothingFixEarnsOne) {
  if (!HaveImage(kDemo)) GTEST_SKIP() << "no daemon or " << kDemo;
  Task task = DemoTask();
  RepoEnvOptions o = OfflineDockerOptions();
  auto env = RepoEnv::Create(task, o).value();
  HiddenTestsEpisode(*env, task, ResetKind::kCold);
  EXPECT_TRUE(env->close().ok());
}

// The pool copies the tests out while preparing; each warm sandbox must come
// with its own copy, and nothing of the previous episode's.
TEST(DockerSecurityTest, HiddenTestsAbsentAndGradedFromAWarmPool) {
  if (!HaveImage(kDemo)) GTEST_SKIP() << "no daemon or " << kDemo;
  Task task = DemoTask();
  RepoEnvOptions o = OfflineDockerOptions();
  WarmPoolOptions po;
  po.size = 1;
  po.refill_concurrency = 1;
  auto pool = RepoEnv::MakeWarmPool(task, o, po);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  ASSERT_TRUE((*pool)->wait_ready(1, std::chrono::seconds(120)).ok());
  o.warm_pool = *pool;
  auto env = RepoEnv::Create(task, o).value();
  for (int episode = 0; episode < 2; ++episode) {
    SCOPED_TRACE("episode " + std::to_string(episode));
    HiddenTestsEpisode(*env, task, ResetKind::kWarm);
  }
  EXPECT_TRUE(env->close().ok());
  (*pool)->shutdown();
}

constexpr const char* kSweBenchDemo = "r2e-demo/textstats-swebench:latest";

Task SweBenchDemoTask() {
  auto tasks = LoadTasks(std::string(R2E_SOURCE_DIR) + "/examples/tasks/demo-swebench.jsonl");
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  return tasks.ok() ? tasks->front() : Task{};
}

// Files anywhere on the sandbox's own filesystem that hold the runner's test
// directive or a test the test patch adds.
constexpr const char* kFindHidden =
    "find / -xdev -type f -size -4M -print0 2>/dev/null | "
    "xargs -0 grep -lI -e 'tests/hidden' -e 'def test_moving_average_window_equals_length' "
    "2>/dev/null | head -n 20; echo END-OF-LIST";

std::string Observed(RepoEnv& env, const std::string& cmd) {
  auto r = env.step(Bash(cmd));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->observation.text : std::string();
}

TEST(DockerSecurityTest, SweBenchRunnerAndTestPatchAbsentGoldStillResolves) {
  if (!HaveImage(kSweBenchDemo)) GTEST_SKIP() << "no daemon or " << kSweBenchDemo;
  Task task = SweBenchDemoTask();
  ASSERT_EQ(task.kind, TaskKind::kSweBench);
  ASSERT_NE(task.test_patch.find("def test_moving_average_window_equals_length"), std::string::npos);

  // Left in place (R2E-Gym's behaviour) the search finds the runner: the
  // check below can fail.
  {
    RepoEnvOptions keep = OfflineDockerOptions();
    keep.hidden_tests = HiddenTestMode::kMoveUnderRoot;
    auto env = RepoEnv::Create(task, keep).value();
    ASSERT_TRUE(env->reset().ok());
    EXPECT_NE(Observed(*env, kFindHidden).find("/run_tests.sh\n"), std::string::npos);
    EXPECT_TRUE(env->close().ok());
  }

  auto env = RepoEnv::Create(task, OfflineDockerOptions()).value();
  auto reset = env->reset();
  ASSERT_TRUE(reset.ok()) << reset.status().ToString();
  const std::string found = Observed(*env, kFindHidden);
  EXPECT_NE(found.find("END-OF-LIST"), std::string::npos) << found;
  EXPECT_EQ(found.find('/'), std::string::npos) << "hidden test material readable by the agent:\n" << found;
  EXPECT_NE(Observed(*env, "test -e /run_tests.sh && echo PRESENT || echo ABSENT").find("ABSENT"),
            std::string::npos);

  // The buggy code earns 0, the gold patch 1; between and after, the runner stays out.
  auto zero = env->compute_reward();
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(*zero, 0.0);
  ASSERT_TRUE(env->runtime().write_file("/tmp/gold.diff", task.patch, 0644).ok());
  auto applied = env->run("cd /testbed && git apply /tmp/gold.diff && rm /tmp/gold.diff");
  ASSERT_TRUE(applied.ok() && applied->success()) << (applied.ok() ? applied->output : applied.status().ToString());
  auto one = env->compute_reward();
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, 1.0);
  // pytest's cache of the grading run keeps the hidden tests' node ids (names,
  // not code), as under the harness; everything else must be gone.
  const std::string after = Observed(
      *env, "find / -xdev -type f -size -4M -not -path '/testbed/.pytest_cache/*' -print0 2>/dev/null | "
            "xargs -0 grep -lI -e 'tests/hidden' -e 'def test_moving_average_window_equals_length' "
            "2>/dev/null | head -n 20; echo END-OF-LIST");
  EXPECT_NE(after.find("END-OF-LIST"), std::string::npos) << after;
  EXPECT_EQ(after.find('/'), std::string::npos) << "left in the sandbox after grading:\n" << after;
  EXPECT_TRUE(env->close().ok());
}

// What comes back for grading is the original, byte for byte, mode included.
TEST(DockerSecurityTest, SweBenchRunnerComesBackUnchanged) {
  if (!HaveImage(kSweBenchDemo)) GTEST_SKIP() << "no daemon or " << kSweBenchDemo;
  Task task = SweBenchDemoTask();
  RepoEnvOptions keep = OfflineDockerOptions();
  keep.hidden_tests = HiddenTestMode::kMoveUnderRoot;
  keep.tool_set.clear();
  auto env = RepoEnv::Create(task, keep).value();
  ASSERT_TRUE(env->reset().ok());
  const std::string fingerprint = "sha256sum /run_tests.sh && stat -c %a /run_tests.sh";
  auto before = env->run(fingerprint);
  ASSERT_TRUE(before.ok() && before->success()) << (before.ok() ? before->output : "");

  auto held = internal::HiddenTests::TakeOut(env->runtime(), task);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  ASSERT_TRUE(*held);
  EXPECT_EQ((*held)->paths(), std::vector<std::string>{"/run_tests.sh"});
  auto gone = env->run("test -e /run_tests.sh");
  ASSERT_TRUE(gone.ok());
  EXPECT_NE(gone->exit_code, 0);

  // Whatever the agent leaves there is replaced.
  ASSERT_TRUE(env->run("echo 'echo PASSED' > /run_tests.sh && echo fake > /eval.sh").ok());
  ASSERT_TRUE((*held)->PutBack(env->runtime()).ok());
  auto restored = env->run(fingerprint);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->output, before->output);
  auto eval_sh = env->run("test -e /eval.sh");
  ASSERT_TRUE(eval_sh.ok());
  EXPECT_NE(eval_sh->exit_code, 0) << "an agent's /eval.sh survived the restore";
  EXPECT_TRUE(env->close().ok());
}

TEST(DockerSecurityTest, ALocalSandboxCannotFindARunningContainersFiles) {
  // What made the local SecurityTest flaky: a Docker sandbox running at the
  // same time had its files under the host's /var/lib/docker, which the
  // local sandbox showed. The local sandbox no longer has /var at all.
  if (!HaveImage(kDemo)) GTEST_SKIP() << "no daemon or " << kDemo;
  if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
  DockerRuntime container;
  SandboxSpec spec;
  spec.image = kDemo;
  ASSERT_TRUE(container.start(spec).ok());
  const std::string marker = "r2e-container-marker-" + std::to_string(::getpid());
  ASSERT_TRUE(container.write_file("/testbed/" + marker, "secret\n").ok());
  LocalRuntimeOptions lo;
  lo.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
  LocalRuntime local(lo);
  ASSERT_TRUE(local.start({}).ok());
  ExecOptions slow;
  slow.timeout = std::chrono::seconds(120);
  auto found = local.exec("find / -name '" + marker + "' 2>/dev/null; echo done", slow);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->output, "done\n");
  EXPECT_TRUE(container.stop().ok());
}

TEST(DockerSecurityTest, RegistryPasswordNeverInErrors) {
  if (!docker::DockerClient::Connect().ok()) GTEST_SKIP() << "no daemon";
  // X-Registry-Auth for {"username":"u","password":"hunter2-secret"}.
  const std::string auth = "eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6Imh1bnRlcjItc2VjcmV0In0=";
  DockerRuntimeOptions o;
  o.registry_auth = auth;
  o.pull = DockerRuntimeOptions::Pull::kAlways;
  DockerRuntime rt(o);
  SandboxSpec spec;
  spec.image = "127.0.0.1:1/r2e-no-such/image:latest";  // refused at once, no network needed
  Status s = rt.start(spec);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString().find(auth), std::string::npos) << s.ToString();
  EXPECT_EQ(s.ToString().find("hunter2"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace r2e
