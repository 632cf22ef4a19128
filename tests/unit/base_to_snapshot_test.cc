// A fork's checkout without git (src/env/base_to_snapshot.h), end to end on
// two local sandboxes made from one repository (so their primed bases are
// the same): the original takes a snapshot after changes of every kind, packs
// it thin with what changed since the base, and the new sandbox's checkout,
// written by the host, leaves /testbed byte for byte as the original's, with
// its store able to restore the snapshot again. Changes it cannot write, or
// cut short, are refused, so that the fork restores with git instead.
#include "env/base_to_snapshot.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>

#include "core/text.h"
#include "env/snapshot_scripts.h"
#include "r2e/local_runtime.h"

namespace r2e::internal {
namespace {

namespace fs = std::filesystem;

// Every entry's type, bits, path and symlink target, every file's content
// (.git's too), HEAD, the index and the refs, as one hash.
constexpr const char* kCheckoutStateHash =
    "cd /testbed && { find . -mindepth 1 -printf '%y %m %P -> %l\\n' | LC_ALL=C sort; "
    "find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; "
    "export GIT_OPTIONAL_LOCKS=0; git rev-parse HEAD; git ls-files -s; git for-each-ref; } 2>&1 | "
    "sha256sum";

// The base: files of every kind a repository holds, committed.
constexpr const char* kCheckoutBase =
    "git init -q . && echo a > a.txt && mkdir -p dir/sub && echo b > dir/sub/b.txt && printf "
    "'#!/bin/sh\\n' > "
    "run.sh && chmod 755 run.sh && echo secret > private.txt && chmod 600 private.txt && ln -s "
    "a.txt link && "
    "mkdir becomes_file && echo x > becomes_file/x && echo y > becomes_dir && mkdir empty && "
    "echo z > 'odd name '\\''q'\\''' && echo gone > gone.txt && echo t > to_link && "
    "git add -A && git -c user.name=a -c user.email=a@b commit -qm base";

// Changes of every kind the checkout must write.
constexpr const char* kCheckoutChanges =
    "cp run.sh copy_of_base_blob && echo more >> a.txt && printf 'bin\\0\\001\\377%%\\\\x' > "
    "dir/sub/b.txt && chmod 700 private.txt && "
    "echo v2 >> private.txt && chmod 644 run.sh && ln -sfn dir/sub link && rm -rf becomes_file && "
    "echo now-a-file > becomes_file && rm becomes_dir && mkdir -p becomes_dir/deep && echo in > "
    "becomes_dir/deep/f "
    "&& rmdir empty && mkdir -m 711 new_empty && echo n > -dash && printf 'line\\nbreak' > "
    "\"$(printf 'nl\\nname')\" "
    "&& echo q2 >> 'odd name '\\''q'\\''' && rm gone.txt && rm to_link && ln -s a.txt to_link && "
    "git add a.txt && git -c user.name=a -c user.email=a@b commit -qm work && "
    "git branch side && echo staged > staged.txt && git add staged.txt && echo 755 > x755 && chmod "
    "755 x755";

class BaseToSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("git --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no git on the host";
    repo_ = fs::temp_directory_path() / ("r2e-b2s-" + RandomHex(6));
    fs::create_directories(repo_);
    ASSERT_EQ(std::system(("cd '" + repo_.string() + "' && " + kCheckoutBase).c_str()), 0);
    for (auto* rt : {&original_, &fork_}) {
      *rt = std::make_unique<LocalRuntime>();
      SandboxSpec spec;
      spec.copy_in = {{repo_, "/testbed"}};
      ASSERT_TRUE((*rt)->start(spec).ok());
    }
  }
  void TearDown() override {
    for (auto* rt : {&original_, &fork_}) {
      if (*rt) (void)(*rt)->stop();
    }
    std::error_code ec;
    fs::remove_all(repo_, ec);
  }
  static std::string Run(Runtime& rt, const std::string& command) {
    ExecOptions o;
    o.timeout = std::chrono::seconds(60);
    auto r = rt.exec(command, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << command << "\n" << r->output;
    return r->output;
  }
  // Primes both stores (their bases are the same: one repository).
  void Prime() {
    auto base = PrimeSnapshotStore(*original_, 1 << 30);
    ASSERT_TRUE(base.ok());
    ASSERT_FALSE(base->empty());
    auto fork_base = PrimeSnapshotStore(*fork_, 1 << 30);
    ASSERT_TRUE(fork_base.ok());
    ASSERT_EQ(*base, *fork_base) << "two copies of one repository prime alike";
    std::istringstream words(*base);
    for (std::string w; words >> w;) base_.push_back(w);
  }
  // The original's snapshot 1 after kCheckoutChanges, packed thin as a
  // fork packs it, with the base's listing.
  PackedSnapshot PackedChanges(std::string& state,
                               ListingPart listing = ListingPart::kBaseListing) {
    Run(*original_, std::string("cd /testbed && ") + kCheckoutChanges);
    state = Run(*original_, kCheckoutStateHash);
    EXPECT_TRUE(
        CheckSnapshotScript(*original_->exec(SnapshotScript(*original_, 1, 1 << 30)), "snapshot")
            .ok());
    auto packed = original_->exec(PackScript(*original_, 1, true, listing));
    EXPECT_TRUE(packed.ok());
    auto parsed = ParsePacked(*packed);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    if (!parsed.ok()) return {};
    TakeLooseObjects(*parsed);
    EXPECT_FALSE(parsed->changes_printed.empty())
        << "the original said what changed since the base";
    parsed->changes = ParseBaseChanges(parsed->changes_printed, base_, parsed->trees);
    EXPECT_TRUE(parsed->changes.has_value());
    if (parsed->changes && parsed->changes->base_listing)
      base_listing_ = *parsed->changes->base_listing;
    return *parsed;
  }
  // `packed` with PrepareForkCheckout's parts, as a fork makes them.
  PackedSnapshot Prepared(PackedSnapshot packed, std::optional<std::string_view> listing) const {
    PrepareForkCheckout(packed, 1, listing, base_);
    return packed;
  }
  std::vector<std::string> base_;
  std::string base_listing_;
  fs::path repo_;
  std::unique_ptr<Runtime> original_, fork_;
};

TEST_F(BaseToSnapshotTest, TheNewSandboxEndsByteForByteAsTheOriginal) {
  Prime();
  if (HasFatalFailure()) return;
  std::string state;
  const PackedSnapshot packed = PackedChanges(state);
  ASSERT_TRUE(packed.loose.has_value());
  ASSERT_TRUE(packed.changes.has_value());
  ASSERT_FALSE(base_listing_.empty()) << "asked for, the base's listing came along";
  EXPECT_FALSE(ForkCheckoutScript(*fork_, Prepared(packed, std::nullopt)).has_value())
      << "the listing changed: without the base's, no checkout";
  ASSERT_NE(Run(*fork_, kCheckoutStateHash), state);

  const auto script = ForkCheckoutScript(*fork_, Prepared(packed, base_listing_));
  ASSERT_TRUE(script.has_value());
  EXPECT_EQ(script->find("read-tree"), std::string::npos) << "no git for the checkout";
  auto r = fork_->exec(*script);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->output.find("R2E-SNAPSHOT ok"), std::string::npos) << r->output;
  EXPECT_EQ(r->output.find(kForkCheckoutSlow), std::string::npos) << r->output;
  EXPECT_EQ(Run(*fork_, kCheckoutStateHash), state);
  EXPECT_EQ(
      Run(*fork_,
          "cd /testbed && stat -c '%a' private.txt run.sh new_empty x755 && readlink link to_link"),
      "700\n644\n711\n755\ndir/sub\na.txt\n");

  // The new store holds the snapshot: it restores it from any state.
  Run(*fork_, "cd /testbed && rm -rf -- * .git && echo junk > junk");
  auto restored = fork_->exec(RestoreSnapshotScript(*fork_, 1, RandomHex(8), false, ""));
  ASSERT_TRUE(restored.ok());
  ASSERT_TRUE(CheckSnapshotScript(*restored, "restore").ok()) << restored->output;
  EXPECT_EQ(Run(*fork_, kCheckoutStateHash), state);
}

// A base whose listing is too large to print: the original prints the
// listings' difference instead, and the checkout needs no base listing.
TEST_F(BaseToSnapshotTest, TheListingsDifferenceDoesForTheBasesListing) {
  Prime();
  if (HasFatalFailure()) return;
  std::string state;
  const PackedSnapshot packed = PackedChanges(state, ListingPart::kListingDiff);
  ASSERT_TRUE(packed.changes.has_value());
  ASSERT_TRUE(packed.changes->listing_diff.has_value());
  EXPECT_TRUE(base_listing_.empty());
  const auto script = ForkCheckoutScript(*fork_, Prepared(packed, std::nullopt));
  ASSERT_TRUE(script.has_value());
  auto r = fork_->exec(*script);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output.find(kForkCheckoutSlow), std::string::npos) << r->output;
  EXPECT_EQ(Run(*fork_, kCheckoutStateHash), state);
}

// A checkout that fails part way says so (the fork then restores with git,
// from whatever state it left): here /testbed has become a file.
TEST_F(BaseToSnapshotTest, AFailedCheckoutSaysSoAndGitFinishesIt) {
  Prime();
  if (HasFatalFailure()) return;
  std::string state;
  const PackedSnapshot packed = PackedChanges(state);
  const auto script = ForkCheckoutScript(*fork_, Prepared(packed, base_listing_));
  ASSERT_TRUE(script.has_value());
  Run(*fork_, "cd /testbed && rm -rf dir && echo in-the-way > dir");
  auto r = fork_->exec(*script);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->output.find(kForkCheckoutSlow), std::string::npos) << r->output;
  auto restored = fork_->exec(RestoreSnapshotScript(*fork_, 1, RandomHex(8), false, ""));
  ASSERT_TRUE(restored.ok());
  ASSERT_TRUE(CheckSnapshotScript(*restored, "restore").ok()) << restored->output;
  EXPECT_EQ(Run(*fork_, kCheckoutStateHash), state);
}

TEST(BaseToSnapshotPartTest, RefusesWhatItCannotWriteOrWhatWasCutShort) {
  const std::string id(40, 'a');
  const std::vector<std::string> base = {std::string(40, '1'), std::string(40, '2'),
                                         std::string(40, '3')};
  const std::vector<std::string> snapshot = {std::string(40, '4'), std::string(40, '5'),
                                             std::string(40, '3')};
  const std::string nul(1, '\0');
  const std::string entry = ":100644 100644 " + std::string(40, '0') + " " + id + " M";
  auto printed = [&](const std::string& e) {
    return base[0] + " " + snapshot[0] + "\n" + e + nul + "f.txt" + nul + base[1] + " " +
           snapshot[1] + "\n" + std::string(kChangesEndMark);
  };
  auto part = [&](const std::string& text) -> std::optional<std::string> {
    auto changes = ParseBaseChanges(text, base, snapshot);
    if (!changes) return std::nullopt;
    return BaseToSnapshotPart(*changes, std::nullopt, base, snapshot, {});
  };
  // A blob not among the objects comes from the store.
  auto ok = part(printed(entry));
  ASSERT_TRUE(ok.has_value());
  EXPECT_NE(ok->find("cat-file blob " + id + " > 'f.txt'"), std::string::npos) << *ok;
  // .git's part after its pair's line, even when /testbed's line is left out.
  auto git = ParseBaseChanges(base[1] + " " + snapshot[1] + "\n" + entry + nul + "HEAD" + nul +
                                  std::string(kChangesEndMark),
                              base, snapshot);
  ASSERT_TRUE(git.has_value());
  ASSERT_EQ(git->files.size(), 1u);
  EXPECT_EQ(git->files[0].path, ".git/HEAD");
  const std::string whole = printed(entry);
  EXPECT_FALSE(part(whole.substr(0, whole.size() - 1)).has_value()) << "cut short";
  EXPECT_FALSE(part(whole.substr(0, whole.size() - kChangesEndMark.size())).has_value());
  EXPECT_FALSE(part(entry + nul + "f.txt" + nul + std::string(kChangesEndMark)).has_value())
      << "no pair's line";
  EXPECT_FALSE(
      part("1 2\n" + entry + nul + "f.txt" + nul + std::string(kChangesEndMark)).has_value())
      << "another pair";
  std::string submodule = entry;
  submodule.replace(8, 6, "160000");
  EXPECT_FALSE(part(printed(submodule)).has_value());
  std::string renamed = entry;
  renamed.back() = 'R';
  EXPECT_FALSE(part(printed(renamed)).has_value());
  std::string bad_id = entry;
  bad_id[60] = ';';
  EXPECT_FALSE(part(printed(bad_id)).has_value());
  EXPECT_FALSE(part("").has_value());
  // A listing that changed needs the base's.
  auto changes = ParseBaseChanges(printed(entry), base, snapshot);
  ASSERT_TRUE(changes.has_value());
  std::vector<std::string> relisted = snapshot;
  relisted[2] = std::string(40, '6');
  EXPECT_FALSE(BaseToSnapshotPart(*changes, std::nullopt, base, relisted, {}).has_value());
}

}  // namespace
}  // namespace r2e::internal
