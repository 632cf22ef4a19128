// Whole-sandbox snapshots (SnapshotScope::kSandbox) with the demo task, on
// the runtime named by the test parameter ("local" here, under bubblewrap;
// tests/docker/sandbox_snapshot_docker_test.cc includes this file for
// "docker"): every writable path comes back, the processes end, the
// repository snapshots taken since stay valid, forks start in the state, and
// drop and close release the checkpoints.
#include <gtest/gtest.h>

#include <string>

#include "demo_task.h"
#include "r2e/docker_runtime.h"
#include "r2e/local_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"

#ifndef R2E_SANDBOX_SNAPSHOT_RUNTIMES
#define R2E_SANDBOX_SNAPSHOT_RUNTIMES "local"
#endif

namespace r2e {
namespace {

// A state outside /testbed as well as in it: files in /root, /tmp and
// /var/tmp with modes, and the repository.
constexpr const char* kWholeState =
    "{ cd /testbed && git status --porcelain && cat textstats/stats.py | sha256sum; "
    "for f in /root/note /tmp/cache/data /var/tmp/kept; do stat -c '%n %a %s' $f 2>&1; cat $f "
    "2>&1; done; "
    "ls /root /tmp; } 2>&1";

constexpr const char* kFirstChanges =
    "echo note > /root/note && chmod 600 /root/note && mkdir -p /tmp/cache && echo data > "
    "/tmp/cache/data && "
    "echo kept > /var/tmp/kept && echo 'x = 1' >> /testbed/textstats/stats.py";

constexpr const char* kLaterChanges =
    "rm -f /root/note && echo other > /tmp/cache/data && echo later > /root/later && rm -f "
    "/var/tmp/kept && "
    "cd /testbed && git checkout -q . && echo new > new.txt";

class SandboxSnapshotTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "local" && !LocalRuntime::BubblewrapAvailable())
      GTEST_SKIP() << "no bubblewrap here";
    if (GetParam() != "docker") return;
    auto missing = DockerRuntime::MissingImages({test_util::DemoTask().image});
    if (!missing.ok()) GTEST_SKIP() << "no Docker daemon: " << missing.status().ToString();
    if (!missing->empty())
      GTEST_SKIP() << missing->front() << " is missing (scripts/build-test-images.sh)";
  }

  RepoEnvOptions Options() const {
    RepoEnvOptions o;
    if (GetParam() == "docker") {
      o.runtime = DockerRuntimeFactory();
    } else {
      LocalRuntimeOptions local;
      local.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
      o.runtime = LocalRuntimeFactory(local);
    }
    return o;
  }

  std::unique_ptr<RepoEnv> Started() const {
    auto env = RepoEnv::Create(test_util::DemoTask(), Options());
    EXPECT_TRUE(env.ok()) << env.status().ToString();
    if (!env.ok()) return nullptr;
    auto r = (*env)->reset();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(env).value();
  }

  static std::string Run(RepoEnv& env, const std::string& cmd) {
    auto r = env.run(cmd);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r.ok() ? r->exit_code : -1, 0) << cmd << "\n" << (r.ok() ? r->output : "");
    return r.ok() ? r->output : "";
  }
};

TEST_P(SandboxSnapshotTest, RestoreBringsBackEveryWritablePathAndEndsTheProcesses) {
  auto env = Started();
  ASSERT_NE(env, nullptr);
  Run(*env, kFirstChanges);
  ASSERT_TRUE(
      env->step("<function=execute_bash>\n<parameter=cmd>ls</parameter>\n</function>").ok());
  const std::string before = Run(*env, kWholeState);
  auto id = env->snapshot(SnapshotScope::kSandbox);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_EQ(env->snapshots().size(), 1u);
  EXPECT_EQ(env->snapshots()[0].scope, SnapshotScope::kSandbox);
  EXPECT_EQ(env->snapshots()[0].step, 1);
  EXPECT_EQ(Run(*env, kWholeState), before) << "taking the snapshot changed the sandbox";

  Run(*env, kLaterChanges);
  Run(*env, "(exec -a r2e-marker-sleep sleep 1000) >/dev/null 2>&1 &");
  // A repository snapshot taken after the whole-sandbox one stays valid
  // across its restore.
  auto later = env->snapshot();
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  const std::string later_tree = Run(*env, "cd /testbed && git status --porcelain");
  ASSERT_TRUE(
      env->step("<function=execute_bash>\n<parameter=cmd>pwd</parameter>\n</function>").ok());
  ASSERT_NE(Run(*env, kWholeState), before);

  Status restored = env->restore(*id);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(Run(*env, kWholeState), before);
  EXPECT_EQ(env->steps(), 1);
  EXPECT_EQ(Run(*env, "pgrep -f r2e-marker-sleep | wc -l"), "0\n")
      << "the episode's process survived";
  // Steps work (the tool server starts again), also after a second restore.
  auto step = env->step(
      "<function=execute_bash>\n<parameter=cmd>echo after-restore</parameter>\n</function>");
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_NE(step->observation.text.find("after-restore"), std::string::npos)
      << step->observation.text;

  ASSERT_TRUE(env->restore(*later).ok());
  EXPECT_EQ(Run(*env, "cd /testbed && git status --porcelain"), later_tree);
  ASSERT_TRUE(env->restore(*id).ok());
  EXPECT_EQ(Run(*env, kWholeState), before);
  // The next episode starts clean, whatever the restores replaced.
  ASSERT_TRUE(env->reset().ok());
  EXPECT_EQ(Run(*env, "cd /testbed && git status --porcelain"), "");
  auto next = env->step(
      "<function=execute_bash>\n<parameter=cmd>echo next-episode</parameter>\n</function>");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_NE(next->observation.text.find("next-episode"), std::string::npos);
}

TEST_P(SandboxSnapshotTest, AForkStartsInTheStateAndDropReleases) {
  auto env = Started();
  ASSERT_NE(env, nullptr);
  Run(*env, kFirstChanges);
  const std::string before = Run(*env, kWholeState);
  auto id = env->snapshot(SnapshotScope::kSandbox);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  Run(*env, kLaterChanges);

  auto child = env->fork(*id);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ(Run(**child, kWholeState), before);
  EXPECT_TRUE((*child)->snapshots().empty());
  auto step = (*child)->step(
      "<function=execute_bash>\n<parameter=cmd>echo in-child</parameter>\n</function>");
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_NE(step->observation.text.find("in-child"), std::string::npos);
  // The child's own snapshots work, and the original is untouched.
  auto own = (*child)->snapshot(SnapshotScope::kSandbox);
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_NE(Run(*env, kWholeState), before);

  // Dropped in the original while the child runs from it.
  ASSERT_TRUE(env->drop(*id).ok());
  EXPECT_EQ(env->restore(*id).code(), StatusCode::kNotFound);
  EXPECT_EQ(env->fork(*id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Run(**child, kWholeState), before);
  ASSERT_TRUE((*child)->restore(*own).ok());
  EXPECT_EQ(Run(**child, kWholeState), before);
  EXPECT_TRUE((*child)->close().ok());
  EXPECT_TRUE(env->close().ok());
}

TEST_P(SandboxSnapshotTest, AFastResetReleasesTheEpisodesCheckpoints) {
  auto env = Started();
  ASSERT_NE(env, nullptr);
  auto id = env->snapshot(SnapshotScope::kSandbox);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(env->reset().ok());
  EXPECT_EQ(env->restore(*id).code(), StatusCode::kNotFound);
  auto again = env->snapshot(SnapshotScope::kSandbox);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 1);
  ASSERT_TRUE(env->restore(*again).ok());
}

INSTANTIATE_TEST_SUITE_P(Runtimes, SandboxSnapshotTest,
                         ::testing::Values(R2E_SANDBOX_SNAPSHOT_RUNTIMES));

}  // namespace
}  // namespace r2e
