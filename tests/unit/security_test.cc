// Promises to a trainer facing an adversarial policy (docs/reliability.md),
// checked from inside the sandbox on the local runtime: the hidden tests
// cannot be read or edited by the agent, a spoofed test runner earns
// nothing, and tool arguments never reach a shell as shell syntax.
// tests/docker/security_e2e_test.cc checks the same on docker.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "r2e/repo_env.h"
#include "r2e/shell_quote.h"
#include "demo_task.h"

namespace r2e {
namespace {

using test_util::DemoTask;

std::string Bash(const std::string& cmd) {
  return "<function=execute_bash>\n<parameter=cmd>" + cmd + "</parameter>\n</function>";
}

// A test runner that prints the R2E summary the task expects, without
// running anything: what an agent would write to steal the reward.
std::string SpoofedRunner(const Task& task) {
  std::string script = "#!/bin/bash\necho '=== short test summary info ==='\n";
  const nlohmann::json expected = nlohmann::json::parse(task.expected_output_json);
  for (auto& [name, status] : expected.items()) {
    std::string path = "r2e_tests/test_1.py::" + name;
    for (std::size_t p; (p = path.find('.', path.find("::"))) != std::string::npos;) path.replace(p, 1, "::");
    script += "echo " + ShellQuote(status.get<std::string>() + " " + path) + "\n";
  }
  return script;
}

TEST(SecurityTest, HiddenTestsAreNotInTheSandboxUntilGrading) {
  Task task = DemoTask();
  auto env = RepoEnv::Create(task).value();
  ASSERT_TRUE(env->reset().ok());
  auto look = env->step(Bash(
      "ls -a /root /testbed; cat /root/run_tests.sh /root/r2e_tests/*.py /r2e_tests/*.py "
      "/testbed/r2e_tests/*.py; find / -name 'test_1.py' -path '*r2e_tests*' 2>/dev/null"));
  ASSERT_TRUE(look.ok()) << look.status().ToString();
  EXPECT_EQ(look->observation.text.find("def test_"), std::string::npos) << look->observation.text;
  EXPECT_EQ(look->observation.text.find("r2e_tests/test_1.py"), std::string::npos) << look->observation.text;
  auto gone = env->run("test -e /root/r2e_tests || test -e /root/run_tests.sh");
  ASSERT_TRUE(gone.ok());
  EXPECT_NE(gone->exit_code, 0);

  // Grading still runs the real tests (the bug is unfixed: 0), and they
  // leave the sandbox again afterwards.
  auto zero = env->compute_reward();
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(*zero, 0.0);
  auto after = env->run("test -e /root/r2e_tests || test -e /root/run_tests.sh");
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->exit_code, 0);
}

TEST(SecurityTest, SpoofedRunnerAndFakeTestsEarnNothingButTheFixStillDoes) {
  Task task = DemoTask();
  auto env = RepoEnv::Create(task).value();
  ASSERT_TRUE(env->reset().ok());
  auto spoof = env->step(Bash("mkdir -p /root/r2e_tests /testbed/r2e_tests && cat > /root/run_tests.sh <<'EOF'\n" +
                              SpoofedRunner(task) +
                              "EOF\nprintf 'def test_ok():\\n    pass\\n' | tee /root/r2e_tests/test_1.py "
                              "> /testbed/r2e_tests/test_1.py; bash /root/run_tests.sh | tail -2"));
  ASSERT_TRUE(spoof.ok()) << spoof.status().ToString();
  ASSERT_NE(spoof->observation.text.find("PASSED"), std::string::npos) << spoof->observation.text;
  auto reward = env->compute_reward();
  ASSERT_TRUE(reward.ok()) << reward.status().ToString();
  EXPECT_EQ(*reward, 0.0) << "a spoofed runner earned the reward";
  // The agent's own files are not graded, and the real fix still earns 1.
  for (const auto& a : task.row.at("scripted_actions")) ASSERT_TRUE(env->step(a.get<std::string>()).ok());
  auto one = env->compute_reward();
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, 1.0);
}

TEST(SecurityTest, ShellSyntaxInToolArgumentsStaysData) {
  auto env = RepoEnv::Create(DemoTask()).value();
  ASSERT_TRUE(env->reset().ok());
  const std::string canary = "/tmp/r2e_injected";
  const std::vector<std::string> payloads = {
      "x'; touch " + canary + "; echo '", "$(touch " + canary + ")", "`touch " + canary + "`",
      "a\n touch " + canary, "\"; touch " + canary + "; \"", "--help; touch " + canary};
  for (const std::string& p : payloads) {
    Action view;
    view.function_name = "file_editor";
    view.set_parameter("command", "view");
    view.set_parameter("path", "/testbed/" + p);
    auto r = env->step(view);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    // The tool saw the whole value as one path argument.
    EXPECT_NE(r->observation.text.find("/testbed/"), std::string::npos) << r->observation.text;
    Action search;
    search.function_name = "search";
    search.set_parameter("search_term", p);
    ASSERT_TRUE(env->step(search).ok());
    auto check = env->run("test -e " + canary);
    ASSERT_TRUE(check.ok());
    EXPECT_NE(check->exit_code, 0) << "injected through: " << p;
  }
}

}  // namespace
}  // namespace r2e
