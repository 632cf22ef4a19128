// The whole-sandbox snapshot tests (tests/unit/sandbox_snapshot_test.cc) on
// the Docker runtime, where a checkpoint is a committed image.
#define R2E_SANDBOX_SNAPSHOT_RUNTIMES "docker"
#include "../unit/sandbox_snapshot_test.cc"

#include <algorithm>
#include <cstdio>

#include "r2e/cleanup_report.h"

namespace r2e {
namespace {

// Lines `docker images` prints for r2e's checkpoint names containing `part`.
int CheckpointNames(const std::string& part) {
  FILE* p =
      ::popen(("docker images --format '{{.Repository}}:{{.Tag}}' r2e-checkpoint | grep -c -- '" +
               part + "'")
                  .c_str(),
              "r");
  if (p == nullptr) return -1;
  int n = -1;
  if (std::fscanf(p, "%d", &n) != 1) n = -1;
  ::pclose(p);
  return n;
}

// DockerRuntime's checkpoints directly, on the demo image.
class DockerCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto missing = DockerRuntime::MissingImages({test_util::DemoTask().image});
    if (!missing.ok() || !missing->empty()) GTEST_SKIP() << "no Docker daemon or demo image";
  }
  static SandboxSpec DemoSpec() {
    SandboxSpec spec;
    spec.image = test_util::DemoTask().image;
    return spec;
  }
};

// stop() removes every name a runtime made; a process that died without
// stop() leaves names that `r2e cleanup` removes; a live process's stay.
TEST_F(DockerCheckpointTest, NamesGoWithStopOrCleanup) {
  DockerRuntime rt;
  const SandboxSpec spec = DemoSpec();
  ASSERT_TRUE(rt.start(spec).ok());
  const std::string name = rt.container_name();
  auto first = rt.checkpoint();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(rt.exec("echo changed > /root/f").ok());
  ASSERT_TRUE(rt.revert(*first, {}).ok());
  const std::string reverted = rt.container_name();
  EXPECT_NE(reverted, name);
  auto r = rt.exec("cat /root/f 2>&1 || true");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->output.find("No such file"), std::string::npos) << r->output;
  EXPECT_EQ(CheckpointNames(name), 1);
  EXPECT_EQ(CheckpointNames(reverted), 1) << "the reverted container holds its image";
  EXPECT_EQ(rt.revert("r2e-checkpoint:no-such", {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(rt.revert(spec.image, {}).code(), StatusCode::kNotFound)
      << "only checkpoint names are reverted to";
  ASSERT_TRUE(rt.stop().ok());
  EXPECT_EQ(CheckpointNames(name), 0);
  EXPECT_EQ(CheckpointNames(reverted), 0);

  // A checkpoint of a process that ended without stop(): labelled as owned
  // by a process start that is not this one's (its pid is reused). Any
  // reaper on this host may remove it from here on (a test running beside
  // this one, `r2e cleanup`, PrepareSandboxes): only that it is gone after
  // this test's cleanup is asserted, not who removed it.
  DockerRuntime leaked;
  SandboxSpec orphan = spec;
  orphan.labels = {{"r2e.owner.start", "1"}};
  ASSERT_TRUE(leaked.start(orphan).ok());
  const std::string leaked_name = leaked.container_name();
  ASSERT_TRUE(leaked.checkpoint().ok());
  // And one of a live process (this one): kept. No reaper removes it but
  // one with `all`, so the dry run is checked on it.
  DockerRuntime live;
  ASSERT_TRUE(live.start(spec).ok());
  const std::string live_name = live.container_name();
  ASSERT_TRUE(live.checkpoint().ok());
  CleanupOptions dry;
  dry.dry_run = true;
  dry.all = true;
  auto report = CleanupSandboxes(dry);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_NE(std::find(report->removed.begin(), report->removed.end(),
                      "r2e-checkpoint:" + live_name + "-1"),
            report->removed.end());
  EXPECT_EQ(CheckpointNames(live_name), 1) << "a dry run removes nothing";
  ASSERT_TRUE(CleanupSandboxes().ok());
  EXPECT_EQ(CheckpointNames(leaked_name), 0);
  EXPECT_EQ(CheckpointNames(live_name), 1);
  (void)leaked.stop();
  ASSERT_TRUE(live.stop().ok());
  EXPECT_EQ(CheckpointNames(live_name), 0);
}

// A checkpoint removed behind the runtime's back (`docker rmi -f`): revert is
// NotFound, and the sandbox runs on untouched.
TEST_F(DockerCheckpointTest, ACheckpointRemovedBehindItsBackIsNotFound) {
  DockerRuntime rt;
  const SandboxSpec spec = DemoSpec();
  ASSERT_TRUE(rt.start(spec).ok());
  const std::string name = rt.container_name();
  auto cp = rt.checkpoint();
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  ASSERT_TRUE(rt.exec("echo after > /root/f").ok());
  ASSERT_EQ(std::system(("docker rmi -f " + *cp + " >/dev/null").c_str()), 0);
  const Status gone = rt.revert(*cp, {});
  EXPECT_EQ(gone.code(), StatusCode::kNotFound) << gone.ToString();
  EXPECT_EQ(rt.container_name(), name);
  auto r = rt.exec("cat /root/f");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output, "after\n");
  EXPECT_TRUE(rt.stop().ok());
}

}  // namespace
}  // namespace r2e
