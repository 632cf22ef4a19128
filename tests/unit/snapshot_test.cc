// RepoEnv's snapshots with the demo task, on the runtime named by the test
// parameter ("local" here; tests/docker/snapshot_docker_test.cc includes this
// file for "docker", tests/kube/snapshot_kube_test.cc for "kube", defining
// R2E_SNAPSHOT_KUBE_OPTIONS() and R2E_SNAPSHOT_KUBE_SKIP()): a restore gives back /testbed byte for byte with its git
// state, kills the episode's processes, survives what the agent can do to its
// own repository, forks earn the reward the original would, many snapshots
// work and drop frees them, and the errors say what to do.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "r2e/docker_runtime.h"
#include "r2e/local_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "demo_task.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSnapFix = "sed -i 's/if window >= len(values):/if window > len(values):/' textstats/stats.py";

// Everything a snapshot promises, as one hash: every entry's type,
// permission bits, path and symlink target, every file's contents (.git's
// included), then HEAD, the index, the refs and the status. The listing and
// contents come first: the git commands after them may refresh the index.
constexpr const char* kSnapStateHash =
    "cd /testbed && { find . -mindepth 1 -printf '%y %m %P -> %l\\n' | LC_ALL=C sort; "
    "find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; "
    "export GIT_OPTIONAL_LOCKS=0; git rev-parse HEAD; git ls-files -s; git for-each-ref; "
    "git status --porcelain --ignored; } 2>&1 | sha256sum";

// The same without .git: what grading may add there (objects of the
// agent's patch) does not count.
constexpr const char* kSnapWorkTreeHash =
    "cd /testbed && { find . -mindepth 1 -path ./.git -prune -o -printf '%y %m %P -> %l\\n' | LC_ALL=C sort; "
    "find . -path ./.git -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; } 2>&1 | sha256sum";

std::string SnapRun(RepoEnv& env, const std::string& cmd) {
  auto r = env.run(cmd);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.ok() ? r->exit_code : -1, 0) << cmd << "\n" << (r.ok() ? r->output : "");
  return r.ok() ? r->output : "";
}

std::string SnapBash(const std::string& cmd) {
  return "<function=execute_bash>\n<parameter=cmd>" + cmd + "</parameter>\n</function>";
}

class SnapshotTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
#ifdef R2E_SNAPSHOT_KUBE_SKIP
    if (GetParam() == "kube") {
      R2E_SNAPSHOT_KUBE_SKIP();
      return;
    }
#endif
    if (GetParam() != "docker") return;
    auto missing = DockerRuntime::MissingImages({test_util::DemoTask().image});
    if (!missing.ok()) GTEST_SKIP() << "no Docker daemon: " << missing.status().ToString();
    if (!missing->empty()) GTEST_SKIP() << missing->front() << " is missing (scripts/build-test-images.sh)";
  }
  // Options for an environment on the parameter's runtime.
  RepoEnvOptions Options() const {
    RepoEnvOptions o;
    o.runtime = GetParam() == "docker" ? DockerRuntimeFactory() : LocalRuntimeFactory();
#ifdef R2E_SNAPSHOT_KUBE_OPTIONS
    if (GetParam() == "kube") o.runtime = KubeRuntimeFactory(R2E_SNAPSHOT_KUBE_OPTIONS());
#endif
    return o;
  }
  std::unique_ptr<RepoEnv> SnapStarted() const { return SnapStartedWith(Options()); }
  static std::unique_ptr<RepoEnv> SnapStartedWith(const RepoEnvOptions& o);
};

std::unique_ptr<RepoEnv> SnapshotTest::SnapStartedWith(const RepoEnvOptions& o) {
  auto env = RepoEnv::Create(test_util::DemoTask(), o);
  EXPECT_TRUE(env.ok()) << env.status().ToString();
  if (!env.ok()) return nullptr;
  auto r = (*env)->reset();
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(env).value();
}

// Changes of every kind a snapshot must capture.
constexpr const char* kSnapChanges =
    "cd /testbed && echo 'x = 1' >> textstats/stats.py && echo new > untracked.txt && "
    "mkdir -p build/empty && echo cache > build/out.o && printf 'build/\\n' >> .git/info/exclude && "
    "chmod 600 untracked.txt && chmod 711 build && ln -s textstats/stats.py link && "
    "git -c user.name=a -c user.email=a@b add -A && git -c user.name=a -c user.email=a@b commit -qm work && "
    "git branch side && echo staged > staged.txt && git add staged.txt && printf 'crlf\\r\\n' > dos.txt";

// More changes after the snapshot, which the restore must undo.
constexpr const char* kSnapMoreChanges =
    "cd /testbed && rm -f untracked.txt link && rm -rf build textstats/__init__.py && echo other > new.txt && "
    "chmod 755 dos.txt && mkdir -p junk/deeper && mkfifo junk/fifo && "
    "git -c user.name=a -c user.email=a@b commit -qam more && git branch -D side && git checkout -qb other && "
    "git tag t1";

TEST_P(SnapshotTest, RestoreGivesBackTheTreeAndGitStateByteForByte) {
  auto env = SnapStarted();
  ASSERT_NE(env, nullptr);
  SnapRun(*env, kSnapChanges);
  ASSERT_TRUE(env->step(SnapBash("ls")).ok());
  const std::string before = SnapRun(*env, kSnapStateHash);
  const std::string branch = SnapRun(*env, "cd /testbed && git rev-parse --abbrev-ref HEAD");
  auto id = env->snapshot();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, 1);
  ASSERT_EQ(env->snapshots().size(), 1u);
  EXPECT_EQ(env->snapshots()[0].step, 1);
  EXPECT_GT(env->snapshots()[0].bytes, 0u);
  EXPECT_EQ(SnapRun(*env, kSnapStateHash), before) << "taking a snapshot changed the repository";

  SnapRun(*env, kSnapMoreChanges);
  ASSERT_TRUE(env->step(SnapBash("ls")).ok());
  ASSERT_NE(SnapRun(*env, kSnapStateHash), before);
  ASSERT_TRUE(env->restore(*id).ok());
  EXPECT_EQ(SnapRun(*env, kSnapStateHash), before);
  EXPECT_EQ(env->steps(), 1);
  EXPECT_EQ(SnapRun(*env, "cd /testbed && git rev-parse --abbrev-ref HEAD && stat -c %a untracked.txt build && "
                         "readlink link && ls build/empty | wc -l"),
            branch + "600\n711\ntextstats/stats.py\n0\n");

  // Again, from the restored state: ids stay valid (a tree, not a stack).
  auto second = env->snapshot();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  SnapRun(*env, kSnapMoreChanges);
  ASSERT_TRUE(env->restore(*id).ok());
  EXPECT_EQ(SnapRun(*env, kSnapStateHash), before);
  ASSERT_TRUE(env->restore(*second).ok());
  EXPECT_EQ(SnapRun(*env, kSnapStateHash), before);
  // The agent's tools still run after a restore.
  auto step = env->step(SnapBash("cat untracked.txt"));
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_NE(step->observation.text.find("new"), std::string::npos) << step->observation.text;
}

TEST_P(SnapshotTest, RestoreKillsTheEpisodesProcesses) {
  auto env = SnapStarted();
  ASSERT_NE(env, nullptr);
  auto id = env->snapshot();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  // A background writer that would undo the restore if it lived on.
  ASSERT_TRUE(env->step(SnapBash("(setsid bash -c 'while :; do echo again > /testbed/writer.txt; sleep 0.05; done' "
                             ">/dev/null 2>&1 &) ; sleep 0.3; cat /testbed/writer.txt"))
                  .ok());
  ASSERT_TRUE(env->restore(*id).ok());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(SnapRun(*env, "test -e /testbed/writer.txt && echo alive || echo gone"), "gone\n");
  EXPECT_EQ(SnapRun(*env, "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q 'echo agai[n]' && "
                       "echo running; done; echo none"), "none\n");
}

TEST_P(SnapshotTest, SurvivesWhatTheAgentDoesToItsRepository) {
  auto env = SnapStarted();
  ASSERT_NE(env, nullptr);
  SnapRun(*env, kSnapChanges);
  const std::string before = SnapRun(*env, kSnapStateHash);
  auto id = env->snapshot();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  SnapRun(*env, "cd /testbed && git reflog expire --expire=now --all && git gc -q --prune=now && "
           "git update-ref -d refs/heads/side && rm -rf .git");
  ASSERT_TRUE(env->restore(*id).ok());
  EXPECT_EQ(SnapRun(*env, kSnapStateHash), before);
  EXPECT_EQ(SnapRun(*env, "cd /testbed && git fsck --no-dangling >/dev/null 2>&1 && echo fsck-ok"), "fsck-ok\n");
}

TEST_P(SnapshotTest, AForkEarnsWhatTheOriginalWould) {
  auto env = SnapStarted();
  ASSERT_NE(env, nullptr);
  auto unfixed = env->snapshot();
  ASSERT_TRUE(unfixed.ok()) << unfixed.status().ToString();
  ASSERT_TRUE(env->step(SnapBash(std::string("cd /testbed && ") + kSnapFix)).ok());
  SnapRun(*env, "echo note > /testbed/notes.txt && chmod 640 /testbed/notes.txt");
  const std::string fixed_state = SnapRun(*env, kSnapStateHash);
  const std::string fixed_tree = SnapRun(*env, kSnapWorkTreeHash);
  auto fixed = env->snapshot();
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();

  auto fork = env->fork(*fixed);
  ASSERT_TRUE(fork.ok()) << fork.status().ToString();
  RepoEnv& child = **fork;
  EXPECT_EQ(SnapRun(child, kSnapStateHash), fixed_state);
  EXPECT_EQ(child.steps(), 1);
  ASSERT_EQ(child.snapshots().size(), 1u);
  EXPECT_EQ(child.snapshots()[0].id, 1);
  auto child_reward = child.compute_reward();
  auto reward = env->compute_reward();
  ASSERT_TRUE(child_reward.ok() && reward.ok()) << child_reward.status().ToString() << reward.status().ToString();
  EXPECT_EQ(*reward, 1.0);
  EXPECT_EQ(*child_reward, *reward);

  // The original goes back to before the fix: 0, and the fork is untouched.
  ASSERT_TRUE(env->restore(*unfixed).ok());
  auto back = env->compute_reward();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, 0.0);
  EXPECT_EQ(SnapRun(child, kSnapWorkTreeHash), fixed_tree);
  EXPECT_TRUE(child.close().ok());
}

// A primed store (options.prime_snapshots) forks thin: the new sandbox,
// primed with the same base, gets only the objects the snapshot reaches (as
// one pack and its index, built on the host) and the snapshot's changes
// since the base written by the host, and can restore and fork that
// snapshot on its own.
TEST_P(SnapshotTest, APrimedForkShipsOnlyTheSnapshotsOwnObjects) {
  RepoEnvOptions o = Options();
  o.prime_snapshots = true;
  auto env = SnapStartedWith(o);
  ASSERT_NE(env, nullptr);
  const std::string store = "/var/tmp/.r2e-snapshots";
  SnapRun(*env, "test -f " + store + "/objects/info/alternates && test -f " + store +
                    "/refs/snapshots/base-wt");
  const std::string count_loose = "find " + store + "/objects/?? -type f | wc -l";
  SnapRun(*env, kSnapChanges);
  const std::string state = SnapRun(*env, kSnapStateHash);
  auto first = env->snapshot();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  SnapRun(*env, kSnapMoreChanges);
  ASSERT_TRUE(env->snapshot().ok());
  const int original_objects = std::stoi(SnapRun(*env, count_loose));

  for (int round = 0; round < 2; ++round) {  // the second reuses the first's pack
    auto fork = env->fork(*first);
    ASSERT_TRUE(fork.ok()) << fork.status().ToString();
    RepoEnv& child = **fork;
    EXPECT_EQ(SnapRun(child, kSnapStateHash), state) << "round " << round;
    // Sandboxes of one task prime alike: those of an image, and those of a
    // directory task, whose repository each sandbox makes anew with the
    // same dated commit.
    const std::string bases =
        "cat " + store + "/refs/snapshots/base-wt " + store + "/refs/snapshots/base-git";
    const bool same_base = SnapRun(*env, bases) == SnapRun(child, bases);
    EXPECT_TRUE(same_base);
    const std::string packs = SnapRun(child, "ls -A " + store + "/objects/pack | wc -l");
    if (same_base) {
      // A restore with git leaves its listings in the store; the host's
      // checkout of a new sandbox of the same base needs none.
      EXPECT_EQ(SnapRun(child, "test -e " + store + "/meta.now && echo git || echo host"),
                "host\n");
      EXPECT_EQ(packs, "2\n") << "thin: the objects as one pack and its index";
      const int shipped =
          std::stoi(SnapRun(child, "git show-index < " + store + "/objects/pack/*.idx | wc -l"));
      EXPECT_GT(shipped, 2);
      EXPECT_LT(shipped, original_objects) << "only the first snapshot's objects, not the second's";
    } else {
      EXPECT_EQ(packs, "2\n") << "the whole snapshot, as a pack and its index";
    }
    if (round == 0) {
      // The child's tool server (started by the checkout's exec) serves its
      // tools, and no process of the sandbox has the snapshot scripts'
      // environment (GIT_DIR names the store there): the server started
      // outside the checkout's subshell.
      StepResult r;
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      do {
        auto step = child.step(SnapBash("echo \"[${GIT_DIR-}]\""));
        ASSERT_TRUE(step.ok()) << step.status().ToString();
        r = *step;
      } while (r.info.tool_path != ToolPath::kServed &&
               std::chrono::steady_clock::now() < deadline);
      EXPECT_EQ(r.info.tool_path, ToolPath::kServed);
      EXPECT_NE(r.observation.text.find("[]"), std::string::npos) << r.observation.text;
      EXPECT_EQ(SnapRun(child, "for e in /proc/[0-9]*/environ; do tr '\\0' '\\n' < \"$e\" 2>/dev/null | "
                               "grep -q '^GIT_DIR=.*r2e-snapshots' && echo \"$e\"; done; true"),
                "");
    }
    if (round == 1) {
      // Everything snapshot 1 needs is the child's own now.
      SnapRun(child, "cd /testbed && rm -rf * .git && echo gone > x");
      ASSERT_TRUE(child.restore(1).ok());
      EXPECT_EQ(SnapRun(child, kSnapStateHash), state);
      SnapRun(child, "echo grandchild >> /testbed/textstats/stats.py");
      const std::string child_state = SnapRun(child, kSnapStateHash);
      auto mine = child.snapshot();
      ASSERT_TRUE(mine.ok()) << mine.status().ToString();
      auto grandchild = child.fork(*mine);
      ASSERT_TRUE(grandchild.ok()) << grandchild.status().ToString();
      EXPECT_EQ(SnapRun(**grandchild, kSnapStateHash), child_state);
      EXPECT_TRUE((*grandchild)->close().ok());
    }
    EXPECT_TRUE(child.close().ok());
  }
  ASSERT_TRUE(env->drop(*first).ok());
  EXPECT_EQ(env->fork(*first).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(env->close().ok());
}

// A thin pack over the inline bound goes as a tar through the runtime's file
// transfer and is unpacked by tar in the new sandbox.
TEST_P(SnapshotTest, APrimedForkOfALargeStateTravelsAsAFile) {
  RepoEnvOptions o = Options();
  o.prime_snapshots = true;
  auto env = SnapStartedWith(o);
  ASSERT_NE(env, nullptr);
  SnapRun(*env, "head -c 4500000 /dev/urandom > /testbed/blob.bin");
  const std::string state = SnapRun(*env, kSnapStateHash);
  auto big = env->snapshot();
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  auto fork = env->fork(*big);
  ASSERT_TRUE(fork.ok()) << fork.status().ToString();
  EXPECT_EQ(SnapRun(**fork, kSnapStateHash), state);
  EXPECT_EQ(SnapRun(**fork, "wc -c < /var/tmp/.r2e-snapshots/fork.pack"), "0\n")
      << "the file is emptied";
  if (GetParam() == "docker") {
    EXPECT_EQ(SnapRun(**fork, "ls -A /var/tmp/.r2e-snapshots/objects/pack | wc -l"), "0\n")
        << "thin: a tar";
  }
  EXPECT_TRUE((*fork)->close().ok());
  EXPECT_TRUE(env->close().ok());
}

// A fast reset keeps a primed store's base: the next episode's forks are
// thin too.
TEST_P(SnapshotTest, AFastResetKeepsThePrimedBase) {
  RepoEnvOptions o = Options();
  o.prime_snapshots = true;
  o.fast_reset = true;
  auto env = SnapStartedWith(o);
  ASSERT_NE(env, nullptr);
  SnapRun(*env, kSnapChanges);
  ASSERT_TRUE(env->snapshot().ok());
  auto again = env->reset();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(env->last_reset_kind(), ResetKind::kFast) << env->last_fast_reset_error().ToString();
  EXPECT_TRUE(env->snapshots().empty());
  SnapRun(*env,
          "test -f /var/tmp/.r2e-snapshots/objects/info/alternates && "
          "! test -e /var/tmp/.r2e-snapshots/refs/snapshots/1-wt");
  SnapRun(*env, "echo next > /testbed/next.txt");
  const std::string state = SnapRun(*env, kSnapStateHash);
  auto snap = env->snapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  auto fork = env->fork(*snap);
  ASSERT_TRUE(fork.ok()) << fork.status().ToString();
  EXPECT_EQ(SnapRun(**fork, kSnapStateHash), state);
  if (GetParam() == "docker") {
    // Thin: the pack holds the new file's objects, far fewer than the base.
    const std::string store = "/var/tmp/.r2e-snapshots";
    const int shipped =
        std::stoi(SnapRun(**fork, "git show-index < " + store + "/objects/pack/*.idx | wc -l"));
    const int base = std::stoi(SnapRun(**fork, "find " + store + "/base-objects -type f | wc -l"));
    EXPECT_GT(shipped, 0);
    EXPECT_LT(shipped, base / 2) << "thin";
  }
  EXPECT_TRUE((*fork)->close().ok());
  EXPECT_TRUE(env->close().ok());
}

TEST_P(SnapshotTest, AForkOfALargeStateTravelsAsAFileAndAForgedStoreIsRefused) {
  // A pack over the inline bound (4 MiB) goes through the runtime's file
  // transfer; the state arrives whole either way.
  auto env = SnapStarted();
  ASSERT_NE(env, nullptr);
  SnapRun(*env, "head -c 4500000 /dev/urandom > /testbed/blob.bin && mkdir -p /testbed/empty/dir");
  const std::string state = SnapRun(*env, kSnapStateHash);
  auto big = env->snapshot();
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  auto fork = env->fork(*big);
  ASSERT_TRUE(fork.ok()) << fork.status().ToString();
  EXPECT_EQ(SnapRun(**fork, kSnapStateHash), state);
  EXPECT_EQ(SnapRun(**fork, "wc -c < /var/tmp/.r2e-snapshots/fork.pack"), "0\n") << "the pack is emptied";
  EXPECT_TRUE((*fork)->close().ok());

  // The agent rewrites a snapshot's ref to what git takes but is no object
  // id: the fork refuses it (ids go into the new sandbox's script).
  SnapRun(*env, "r=/var/tmp/.r2e-snapshots/refs/snapshots/" + std::to_string(*big) +
                    "-wt; echo \"$(cat $r)^{tree}\" > $r");
  auto forged = env->fork(*big);
  EXPECT_EQ(forged.status().code(), StatusCode::kFailedPrecondition) << forged.status().ToString();
  EXPECT_NE(forged.status().message().find("no object ids"), std::string::npos) << forged.status().ToString();
}

TEST_P(SnapshotTest, AHundredSnapshotsAndDropFreesThem) {
  auto env = SnapStarted();
  ASSERT_NE(env, nullptr);
  const std::string store_size = "du -sk /var/tmp/.r2e-snapshots | cut -f1";
  std::vector<SnapshotId> ids;
  for (int i = 0; i < 100; ++i) {
    // A new 64 KiB file each time: what only that snapshot holds.
    SnapRun(*env, "head -c 65536 /dev/urandom > /testbed/blob.bin && echo " + std::to_string(i) + " > /testbed/n.txt");
    auto id = env->snapshot();
    ASSERT_TRUE(id.ok()) << i << ": " << id.status().ToString();
    ids.push_back(*id);
  }
  EXPECT_EQ(ids.back(), 100);
  ASSERT_TRUE(env->restore(ids[49]).ok());
  EXPECT_EQ(SnapRun(*env, "cat /testbed/n.txt"), "49\n");
  const long full = std::stol(SnapRun(*env, store_size));
  for (int i = 0; i < 99; ++i) ASSERT_TRUE(env->drop(ids[i]).ok()) << i;
  const long after = std::stol(SnapRun(*env, store_size));
  EXPECT_LT(after, full / 4) << "dropping 99 of 100 snapshots freed too little: " << full << " KiB -> " << after;
  EXPECT_EQ(env->restore(ids[0]).code(), StatusCode::kNotFound);
  EXPECT_EQ(env->drop(ids[0]).code(), StatusCode::kNotFound);
  ASSERT_TRUE(env->restore(ids[99]).ok());
  EXPECT_EQ(SnapRun(*env, "cat /testbed/n.txt"), "99\n");
  EXPECT_EQ(env->snapshots().size(), 1u);
}

TEST_P(SnapshotTest, ErrorsSayWhatToDo) {
  auto made = RepoEnv::Create(test_util::DemoTask(), Options());
  ASSERT_TRUE(made.ok());
  RepoEnv& env = **made;
  EXPECT_EQ(env.snapshot().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(env.restore(1).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(env.fork(1).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(env.reset().ok());
  EXPECT_EQ(env.restore(7).code(), StatusCode::kNotFound);
  if (GetParam() == "kube") {
    // Pods cannot be checkpointed through the API server.
    auto whole = env.snapshot(SnapshotScope::kSandbox);
    EXPECT_EQ(whole.status().code(), StatusCode::kUnimplemented);
    EXPECT_NE(whole.status().message().find("SnapshotScope::kRepository works"), std::string::npos)
        << whole.status().ToString();
  }

  // The agent deletes the store: a clear error, and reset() still works.
  auto id = env.snapshot();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  SnapRun(env, "rm -rf /var/tmp/.r2e-snapshots");
  Status lost = env.restore(*id);
  EXPECT_EQ(lost.code(), StatusCode::kFailedPrecondition) << lost.ToString();
  EXPECT_NE(lost.message().find("gone"), std::string::npos) << lost.ToString();

  // A store git cannot write to (its objects directory is a file): the
  // snapshot names the part that failed and leaves no process running (its
  // parts run side by side).
  ASSERT_TRUE(env.snapshot().ok()) << "a snapshot makes a new store";
  SnapRun(env,
          "rm -rf /var/tmp/.r2e-snapshots/objects && echo x > /var/tmp/.r2e-snapshots/objects && "
          "echo new > /testbed/new_file");
  auto broken = env.snapshot();
  EXPECT_EQ(broken.status().code(), StatusCode::kFailedPrecondition) << broken.status().ToString();
  EXPECT_NE(broken.status().message().find("/testbed"), std::string::npos) << broken.status().ToString();
  EXPECT_EQ(SnapRun(env, "for p in /proc/[0-9]*; do cat $p/comm; done 2>/dev/null | grep -c -x git; true"), "0\n");

  ASSERT_TRUE(env.reset().ok());
  EXPECT_TRUE(env.snapshots().empty());
  EXPECT_EQ(env.restore(*id).code(), StatusCode::kNotFound);

  // Over the budget: refused, nothing written.
  RepoEnvOptions small = Options();
  small.snapshot_budget_bytes = 1000;
  auto tight = SnapStartedWith(small);
  ASSERT_NE(tight, nullptr);
  auto refused = tight->snapshot();
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("snapshot_budget_bytes"), std::string::npos);
  EXPECT_TRUE(tight->snapshots().empty());
  EXPECT_EQ(SnapRun(*tight, "git --git-dir=/var/tmp/.r2e-snapshots for-each-ref 2>/dev/null | wc -l"), "0\n");

  EXPECT_TRUE(env.close().ok());
  EXPECT_EQ(env.snapshot().status().code(), StatusCode::kFailedPrecondition);
}

#ifndef R2E_SNAPSHOT_TEST_RUNTIMES
#define R2E_SNAPSHOT_TEST_RUNTIMES "local"
#endif
INSTANTIATE_TEST_SUITE_P(Runtimes, SnapshotTest, ::testing::Values(R2E_SNAPSHOT_TEST_RUNTIMES));

}  // namespace
}  // namespace r2e
