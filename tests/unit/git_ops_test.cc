// Git helpers for real: the demo task in a LocalRuntime sandbox (set up by
// RepoEnv::reset(), which git-inits the plain demo directory), with and
// without bubblewrap.
#include "r2e/git_ops.h"

#include <gtest/gtest.h>

#include <string>

#include "r2e/repo_env.h"
#include "r2e/runtimes.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;
using Isolation = LocalRuntimeOptions::Isolation;

constexpr std::string_view kStats = "textstats/stats.py";
constexpr std::string_view kFixCommand =
    "sed -i 's/if window >= len(values):/if window > len(values):/' textstats/stats.py";

// Bubblewrap: RepoEnv::reset() sets the sandbox up. Plain (no bubblewrap:
// sandbox paths are mapped onto the working directory): RepoEnv's setup needs
// the /testbed path, so the test git-inits the copy the way setup does.
class GitOpsTest : public ::testing::TestWithParam<Isolation> {
 protected:
  void SetUp() override {
    if (GetParam() == Isolation::kBubblewrap && !LocalRuntime::BubblewrapAvailable()) {
      GTEST_SKIP() << "bubblewrap is not usable here";
    }
    auto tasks = LoadTasks(std::string(R2E_SOURCE_DIR) + "/examples/tasks/demo.jsonl");
    ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
    task_ = tasks->front();
    LocalRuntimeOptions local;
    local.isolation = GetParam();
    if (GetParam() == Isolation::kBubblewrap) {
      RepoEnvOptions o;
      o.runtime = LocalRuntimeFactory(local);
      auto env = RepoEnv::Create(task_, o);
      ASSERT_TRUE(env.ok()) << env.status().ToString();
      env_ = std::move(env).value();
      auto first = env_->reset();
      ASSERT_TRUE(first.ok()) << first.status().ToString();
      rt_ = &env_->runtime();
    } else {
      plain_ = std::make_unique<LocalRuntime>(local);
      SandboxSpec spec;
      spec.copy_in = {{task_.local_repo, "/testbed"}};
      ASSERT_TRUE(plain_->start(spec).ok());
      rt_ = plain_.get();
      ASSERT_EQ(Run("mv run_tests.sh ../root/ && git init -q && git add -A && git -c "
                    "user.name=r2e -c user.email=r2e@localhost commit -q -m 'r2e: task base'")
                    .exit_code,
                0);
    }
    auto base = PatchBase(rt(), task_.base_commit);
    ASSERT_TRUE(base.ok()) << base.status().ToString();
    base_ = *base;
  }

  Runtime& rt() { return *rt_; }

  ExecResult Run(std::string_view cmd) {
    ExecOptions o;
    o.timeout = 30s;
    auto r = rt_->exec(cmd, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ExecResult{};
  }

  std::string Read(const std::string& path) {
    auto r = rt().read_file("/testbed/" + path);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::string();
  }
  std::string Patch(std::string_view base) {
    auto p = GetPatch(rt(), base);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : std::string("<error>");
  }
  std::string Head() {
    auto h = HeadCommit(rt());
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : std::string();
  }
  std::string GoldPatch() const { return task_.row.at("patch").get<std::string>(); }

  Task task_;
  std::unique_ptr<RepoEnv> env_;
  std::unique_ptr<LocalRuntime> plain_;
  Runtime* rt_ = nullptr;
  std::string base_;
};

TEST_P(GitOpsTest, PatchBaseIsHeadAtSetup) {
  EXPECT_EQ(base_.size(), 40u);
  EXPECT_EQ(base_, Head());
  EXPECT_EQ(*PatchBase(rt(), "HEAD"), base_);
  EXPECT_EQ(*PatchBase(rt(), base_.substr(0, 10)), base_);
  auto missing = PatchBase(rt(), "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  EXPECT_EQ(PatchBase(rt(), "HEAD; ls").status().code(), StatusCode::kInvalidArgument);
}

TEST_P(GitOpsTest, GetPatchAfterAnEditIsTheExpectedDiff) {
  EXPECT_EQ(Patch(base_), "");  // untouched repository
  ASSERT_EQ(Run(kFixCommand).exit_code, 0);
  // The same fix as the row's gold patch, byte for byte (blob ids included).
  EXPECT_EQ(Patch(base_), GoldPatch());
  EXPECT_EQ(Patch("HEAD"), GoldPatch());
}

TEST_P(GitOpsTest, GetPatchHasNewAndDeletedFilesAndIsNotTruncated) {
  ASSERT_EQ(Run("rm README.md && printf 'x = 1\\n' > new_module.py").exit_code, 0);
  // Bigger than the session's output bound (64 KiB head + 64 KiB tail).
  ASSERT_EQ(Run("for i in $(seq 1 30000); do echo \"line $i\"; done > big.txt").exit_code, 0);
  std::string patch = Patch(base_);
  EXPECT_NE(patch.find("diff --git a/README.md b/README.md\ndeleted file mode"), std::string::npos);
  EXPECT_NE(patch.find("diff --git a/new_module.py b/new_module.py\nnew file mode"),
            std::string::npos);
  EXPECT_NE(patch.find("+line 15000\n"), std::string::npos);
  EXPECT_NE(patch.find("+line 30000\n"), std::string::npos);
  EXPECT_GT(patch.size(), 300000u);
  // Nothing of r2e's scratch files ends up in the diff.
  EXPECT_EQ(patch.find("r2e-"), std::string::npos);
}

TEST_P(GitOpsTest, ApplyAndReverseRoundTrip) {
  const std::string original = Read(std::string(kStats));
  ASSERT_TRUE(ApplyPatch(rt(), GoldPatch()).ok());
  EXPECT_NE(Read(std::string(kStats)), original);
  EXPECT_NE(Read(std::string(kStats)).find("if window > len(values):"), std::string::npos);
  EXPECT_EQ(Patch(base_), GoldPatch());
  // Applying twice does not apply: a clear error, nothing changed.
  Status again = ApplyPatch(rt(), GoldPatch());
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition) << again.ToString();
  Status reversed = ReversePatch(rt(), GoldPatch());
  ASSERT_TRUE(reversed.ok()) << reversed.ToString();
  EXPECT_EQ(Read(std::string(kStats)), original);
  EXPECT_EQ(Patch(base_), "");
  // A patch without its final newline is accepted.
  std::string no_newline = GoldPatch();
  no_newline.pop_back();
  EXPECT_TRUE(ApplyPatch(rt(), no_newline).ok());
  EXPECT_EQ(Patch(base_), GoldPatch());
  // The scratch file is gone.
  EXPECT_NE(Run("test -e .git/r2e-apply.patch").exit_code, 0);
}

TEST_P(GitOpsTest, PatchThatDoesNotApplyGivesGitsMessage) {
  const std::string original = Read(std::string(kStats));
  const std::string wrong =
      "diff --git a/textstats/stats.py b/textstats/stats.py\n"
      "--- a/textstats/stats.py\n"
      "+++ b/textstats/stats.py\n"
      "@@ -28,3 +28,3 @@ def moving_average(values, window):\n"
      "     this line is not in the file\n"
      "-    neither is this one\n"
      "+    nor this\n"
      "     end\n";
  Status s = ApplyPatch(rt(), wrong);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("textstats/stats.py"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("does not apply"), std::string::npos) << s.ToString();
  EXPECT_EQ(Read(std::string(kStats)), original);

  Status garbage = ApplyPatch(rt(), "this is not a patch\n");
  EXPECT_EQ(garbage.code(), StatusCode::kInvalidArgument) << garbage.ToString();
  EXPECT_NE(garbage.message().find("git apply"), std::string::npos);
  Status empty = ApplyPatch(rt(), " \n");
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  Status reverse_unapplied = ReversePatch(rt(), GoldPatch());
  EXPECT_EQ(reverse_unapplied.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Patch(base_), "");
}

TEST_P(GitOpsTest, CommitStepUndoLastCommitAndSoftReset) {
  // Step 1: the fix, committed.
  ASSERT_EQ(Run(kFixCommand).exit_code, 0);
  auto c1 = CommitStep(rt(), "step 1");
  ASSERT_TRUE(c1.ok()) << c1.status().ToString();
  EXPECT_EQ(c1->size(), 40u);
  EXPECT_EQ(Head(), *c1);
  EXPECT_EQ(Run("git status --porcelain").output, "");
  // The patch against the saved base still holds the committed step.
  EXPECT_EQ(Patch(base_), GoldPatch());
  EXPECT_EQ(Patch("HEAD"), "");

  // Step 2: a new file; a step without changes is still one commit.
  ASSERT_EQ(Run("echo extra > notes.txt").exit_code, 0);
  auto c2 = CommitStep(rt(), "step 2");
  ASSERT_TRUE(c2.ok()) << c2.status().ToString();
  auto c3 = CommitStep(rt(), "");
  ASSERT_TRUE(c3.ok()) << c3.status().ToString();
  EXPECT_NE(*c3, *c2);
  EXPECT_EQ(Run("git rev-parse HEAD~1").output, *c2 + "\n");

  // Undo the empty step, then step 2 (its file and uncommitted edits go too).
  ASSERT_TRUE(UndoLastCommit(rt()).ok());
  EXPECT_EQ(Head(), *c2);
  ASSERT_EQ(Run("echo scratch > scratch.txt && echo more >> notes.txt").exit_code, 0);
  ASSERT_TRUE(UndoLastCommit(rt()).ok());
  EXPECT_EQ(Head(), *c1);
  EXPECT_NE(Run("test -e notes.txt").exit_code, 0);
  // As with git, the untracked file stays.
  EXPECT_EQ(Run("test -e scratch.txt && rm scratch.txt").exit_code, 0);
  EXPECT_EQ(Patch(base_), GoldPatch());

  // Soft reset to the base: HEAD moves, the fix stays as a staged change.
  ASSERT_TRUE(SoftReset(rt(), base_).ok());
  EXPECT_EQ(Head(), base_);
  EXPECT_NE(Read(std::string(kStats)).find("if window > len(values):"), std::string::npos);
  EXPECT_EQ(Patch("HEAD"), GoldPatch());
}

TEST_P(GitOpsTest, CommitMessagesAreData) {
  const std::string message = "it's $(touch pwned) `touch pwned2`; \"q\" \\ \n second line";
  auto c = CommitStep(rt(), message);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(Run("git cat-file commit HEAD | sed '1,/^$/d'").output, message + "\n");
  EXPECT_NE(Run("test -e pwned || test -e pwned2").exit_code, 0);
  EXPECT_EQ(CommitStep(rt(), std::string("a\0b", 3)).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(GitOpsTest, UndoLastCommitWithoutAParentFails) {
  // The demo repository has a single (setup) commit.
  Status s = UndoLastCommit(rt());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("no parent"), std::string::npos) << s.ToString();
  EXPECT_EQ(Head(), base_);
}

TEST_P(GitOpsTest, Checkout) {
  ASSERT_EQ(Run(kFixCommand).exit_code, 0);
  auto c1 = CommitStep(rt(), "fix");
  ASSERT_TRUE(c1.ok());
  ASSERT_TRUE(Checkout(rt(), base_).ok());
  EXPECT_EQ(Head(), base_);
  EXPECT_NE(Read(std::string(kStats)).find("if window >= len(values):"), std::string::npos);
  ASSERT_TRUE(Checkout(rt(), *c1).ok());
  EXPECT_NE(Read(std::string(kStats)).find("if window > len(values):"), std::string::npos);
  Status unknown = Checkout(rt(), "deadbeefdeadbeef");
  EXPECT_EQ(unknown.code(), StatusCode::kFailedPrecondition) << unknown.ToString();
  EXPECT_NE(unknown.message().find("deadbeefdeadbeef"), std::string::npos) << unknown.ToString();
}

TEST_P(GitOpsTest, BadCommitIdsAreRejectedBeforeAnythingRuns) {
  const std::string bad[] = {"",
                             "; touch pwned",
                             "HEAD; touch pwned",
                             "$(touch pwned)",
                             "`touch pwned`",
                             "-f",
                             "--hard",
                             "a b",
                             "main..dev",
                             "/etc/passwd",
                             "HEAD@{1}",
                             "x\ny",
                             "refs/heads/x.lock",
                             "HEAD~x"};
  for (const std::string& id : bad) {
    EXPECT_EQ(Checkout(rt(), id).code(), StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(SoftReset(rt(), id).code(), StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(GetPatch(rt(), id).status().code(), StatusCode::kInvalidArgument) << id;
  }
  EXPECT_NE(Run("test -e pwned").exit_code, 0);
  EXPECT_EQ(Head(), base_);
}

TEST_P(GitOpsTest, RepositoryOption) {
  GitOptions o;
  o.repo = "testbed";  // not absolute
  EXPECT_EQ(HeadCommit(rt(), o).status().code(), StatusCode::kInvalidArgument);
  o.repo = "/testbed/";
  auto h = HeadCommit(rt(), o);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(*h, base_);
  ASSERT_EQ(Run(kFixCommand).exit_code, 0);
  auto p = GetPatch(rt(), base_, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, GoldPatch());
}

INSTANTIATE_TEST_SUITE_P(LocalRuntime, GitOpsTest,
                         ::testing::Values(Isolation::kBubblewrap, Isolation::kNone),
                         [](const auto& param_info) {
                           return param_info.param == Isolation::kNone ? "Plain" : "Bubblewrap";
                         });

TEST(IsValidRevisionTest, AcceptsHashesAndRefs) {
  for (std::string_view ok :
       {"HEAD", "HEAD~1", "HEAD^", "HEAD^2~3", "main", "origin/main", "v1.0", "release-2.x",
        "feature/a_b", "abcd", "0123456789abcdef0123456789abcdef01234567"}) {
    EXPECT_TRUE(IsValidRevision(ok)) << ok;
  }
  for (std::string_view bad :
       {"",       "-x",  "/abs", ".hidden", "a/",  "a.",    "a..b", "a//b",   "a/.b",
        "x.lock", "a b", "a;b",  "a|b",     "a&b", "a$b",   "a`b",  "a'b",    "a\"b",
        "a\\b",   "a*b", "a?b",  "a[b",     "a:b", "@{-1}", "~1",   "HEAD~x", "HEAD^{tree}"}) {
    EXPECT_FALSE(IsValidRevision(bad)) << bad;
  }
  EXPECT_FALSE(IsValidRevision(std::string(300, 'a')));
}

}  // namespace
}  // namespace r2e
