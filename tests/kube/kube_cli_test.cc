// `r2e run --runtime kube` on the demo task through the test API server:
// reward 1 with the scripted fix, 0 with the noop agent; and
// `r2e cleanup --runtime kube` on an empty namespace. Runs the r2e program
// as a child process (skipped when it is not built).
#include <sys/wait.h>

#include <cstdio>

#include "kube_test_util.h"

namespace r2e::kubetest {
namespace {

struct CliRun {
  int rc = -1;
  std::string out;
};

CliRun RunCli(const std::string& args) {
  CliRun r;
  const std::string cmd = std::string(R2E_CLI_PATH) + " " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class KubeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(KubeDir() / "kubeconfig")) GTEST_SKIP() << "no test API server at " << KubeDir();
    if (!fs::exists(R2E_CLI_PATH)) GTEST_SKIP() << "the r2e program is not built";
    ns_ = TestNamespace();
    common_ = " --runtime kube --kubeconfig " + (KubeDir() / "kubeconfig").string() + " --namespace " + ns_;
  }
  void TearDown() override {
    if (ns_.empty()) return;
    Server s;
    EXPECT_TRUE(s.Pods(ns_).empty()) << "pods leaked in " << ns_;
  }
  std::string ns_;
  std::string common_;
};

TEST_F(KubeCliTest, DemoEpisodeRewards) {
  const std::string tasks = std::string(R2E_SOURCE_DIR) + "/examples/tasks/demo.jsonl";
  for (const auto& [agent, reward] : {std::pair<std::string, double>{"scripted", 1.0}, {"noop", 0.0}}) {
    CliRun r = RunCli("run --tasks " + tasks + " --agent " + agent + common_);
    ASSERT_EQ(r.rc, 0) << agent << ": " << r.out;
    Json j = Json::parse(r.out.substr(0, r.out.find('\n')), nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.out;
    EXPECT_EQ(j["reward"].get<double>(), reward) << agent << ": " << r.out;
    EXPECT_EQ(j["runtime"], "kube");
    EXPECT_FALSE(j.contains("error")) << r.out;
  }
}

TEST_F(KubeCliTest, CleanupAndBadConfig) {
  CliRun r = RunCli("cleanup --dry-run" + common_);
  ASSERT_EQ(r.rc, 0) << r.out;
  Json j = Json::parse(r.out, nullptr, false);
  EXPECT_EQ(j["removed"], Json::array());
  EXPECT_EQ(j["kept"], 0);
  r = RunCli("cleanup --runtime kube --kubeconfig /nonexistent/kubeconfig");
  EXPECT_EQ(r.rc, 2);
  r = RunCli("cleanup --runtime kube --context no-such-context --kubeconfig " + (KubeDir() / "kubeconfig").string());
  EXPECT_EQ(r.rc, 2);
}

}  // namespace
}  // namespace r2e::kubetest
