// Loose objects read on the host (src/env/loose_objects.h), checked against
// objects the host's git wrote: a stored zlib stream inflates to git's own
// content, a compressed one is refused, and the objects a snapshot's trees
// reach are told apart from those of another snapshot and from the base's.
#include "env/loose_objects.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/text.h"

namespace r2e::internal {
namespace {

namespace fs = std::filesystem;

// Runs `cmd` in `dir`; its stdout, with the last newline dropped.
std::string LooseSh(const fs::path& dir, const std::string& cmd) {
  const std::string full = "cd '" + dir.string() + "' && { " + cmd + "; } 2>&1";
  FILE* p = popen(full.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = p != nullptr ? pclose(p) : -1;
  EXPECT_EQ(rc, 0) << cmd << "\n" << out;
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string LooseRead(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class LooseObjectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("git --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no git on the host";
    dir_ = fs::temp_directory_path() / ("r2e-loose-" + RandomHex(6));
    fs::create_directories(dir_);
    // A store as the snapshots keep it: objects written uncompressed.
    LooseSh(dir_, "git init -q . && git config core.looseCompression 0");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // The tree of the work tree as it is now (every file added).
  std::string Tree() { return LooseSh(dir_, "git add -A && git write-tree"); }
  // Every loose object of the store, as a tar of objects/ would list it.
  std::vector<LooseObject> Objects() {
    std::vector<LooseObject> all;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / ".git/objects")) {
      const std::string rel = fs::relative(e.path(), dir_ / ".git/objects").string();
      if (e.is_regular_file() && IsLooseObjectPath(rel)) all.emplace_back(rel, LooseRead(e.path()));
    }
    return all;
  }
  static std::vector<std::string> Ids(const std::vector<LooseObject>& objects) {
    std::vector<std::string> ids;
    for (const auto& [path, bytes] : objects) ids.push_back(path.substr(0, 2) + path.substr(3));
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  fs::path dir_;
};

TEST_F(LooseObjectsTest, StoredStreamsInflateToGitsOwnContent) {
  LooseSh(dir_,
          "printf 'hello\\0world\\n' > a && head -c 70000 /dev/urandom > big");  // big: two stored
                                                                                 // blocks
  for (const char* file : {"a", "big"}) {
    const std::string id = LooseSh(dir_, std::string("git hash-object -w ") + file);
    const std::string z = LooseRead(dir_ / ".git/objects" / id.substr(0, 2) / id.substr(2));
    const auto body = InflateStored(z);
    ASSERT_TRUE(body.has_value()) << file;
    const std::string content = LooseRead(dir_ / file);
    EXPECT_EQ(*body, "blob " + std::to_string(content.size()) + std::string(1, '\0') + content)
        << file;
    // The same stream cut short, or with a byte after its checksum, is refused.
    EXPECT_FALSE(InflateStored(z.substr(0, z.size() - 1)).has_value());
    EXPECT_FALSE(InflateStored(z + "x").has_value());
  }
  // A compressed object (git's default level) is not read.
  LooseSh(dir_, "git config core.looseCompression 9 && seq 1 2000 > c");
  const std::string id = LooseSh(dir_, "git hash-object -w c");
  EXPECT_FALSE(
      InflateStored(LooseRead(dir_ / ".git/objects" / id.substr(0, 2) / id.substr(2))).has_value());
  EXPECT_FALSE(InflateStored("").has_value());
}

TEST_F(LooseObjectsTest, OnlyWhatTheSnapshotReachesBeyondTheBase) {
  LooseSh(dir_, "mkdir -p pkg/sub && echo one > pkg/sub/a && echo two > pkg/b && echo top > c");
  const std::string base = Tree();
  // The base's objects are the receiver's already: set them aside.
  const auto base_objects = Ids(Objects());
  LooseSh(dir_, "echo changed > pkg/sub/a && ln -s c link");
  const std::string first = Tree();
  LooseSh(dir_, "echo later > d");
  const std::string second = Tree();
  std::vector<LooseObject> written;
  for (auto& o : Objects()) {
    const auto ids = Ids({o});
    if (!std::binary_search(base_objects.begin(), base_objects.end(), ids[0])) written.push_back(o);
  }
  // What `first` needs that the base lacks: its root tree, pkg, pkg/sub, the
  // new a, and the symlink's blob.
  const std::string want = LooseSh(dir_, "git rev-list --objects " + first + " --not " + base +
                                             " | cut -d' ' -f1 | sort | tr '\\n' ' '");
  std::string got;
  for (const auto& id : Ids(ReachableLooseObjects(written, {first}))) got += id + " ";
  EXPECT_EQ(got, want);
  ASSERT_EQ(written.size(), 7u);
  EXPECT_EQ(Ids(ReachableLooseObjects(written, {first})).size(), 5u)
      << "not the second root, nor d";
  EXPECT_EQ(Ids(ReachableLooseObjects(written, {second})).size(), 6u) << "all but the first root";
  EXPECT_EQ(Ids(ReachableLooseObjects(written, {first, second})).size(),
            Ids(ReachableLooseObjects(written, {first})).size() + 2);
  // An object it cannot read: everything goes (more is always correct).
  auto damaged = written;
  for (auto& [path, bytes] : damaged) bytes = "not zlib";
  EXPECT_EQ(ReachableLooseObjects(damaged, {first}).size(), written.size());
}

// The pack and index built on the host from loose objects are what git
// reads: in a repository without those objects, git checks the pack
// (verify-pack: checksums, CRCs, offsets) and reads every object back as the
// loose one was, including a blob over one stored block (65535 bytes).
TEST_F(LooseObjectsTest, APackOfLooseObjectsIsOneGitReads) {
  LooseSh(dir_,
          "mkdir -p pkg && printf 'one\\0two\\n' > pkg/a && : > empty && "
          "head -c 70000 /dev/urandom > big && ln -s pkg/a link");
  const std::string tree = Tree();
  const auto objects = Objects();
  ASSERT_EQ(objects.size(), 6u);  // a, empty, big, link's blob, pkg, the root
  const auto files = PackLooseObjects(objects);
  ASSERT_TRUE(files.has_value());
  const fs::path other = dir_ / "other";
  fs::create_directories(other);
  LooseSh(other, "git init -q .");
  const fs::path pack_dir = other / ".git/objects/pack";
  for (const auto& [suffix, bytes] :
       {std::pair<std::string, std::string>{".pack", files->pack}, {".idx", files->idx}}) {
    std::ofstream(pack_dir / (files->name + suffix), std::ios::binary) << bytes;
  }
  LooseSh(other, "git verify-pack .git/objects/pack/" + files->name + ".idx");
  const std::string name = LooseSh(other, "git index-pack --stdin < .git/objects/pack/" +
                                              files->name + ".pack | sed 's/^pack\\t//'");
  EXPECT_EQ("pack-" + name, files->name) << "named after its checksum, as git names it";
  for (const auto& id : Ids(objects)) {
    EXPECT_EQ(LooseSh(other, "git cat-file -t " + id + " && git cat-file " + "$(git cat-file -t " +
                                 id + ") " + id + " | sha1sum"),
              LooseSh(dir_, "git cat-file -t " + id + " && git cat-file " + "$(git cat-file -t " +
                                id + ") " + id + " | sha1sum"))
        << id;
  }
  EXPECT_EQ(LooseSh(other, "git ls-tree -r " + tree + " | wc -l"), "4");
  // Not SHA-1, or not readable: no pack (the caller writes loose objects).
  EXPECT_FALSE(PackLooseObjects({{"ab/" + std::string(62, '0'), objects[0].second}}).has_value());
  EXPECT_FALSE(PackLooseObjects({{objects[0].first, "not zlib"}}).has_value());
  EXPECT_FALSE(PackLooseObjects({objects[0], objects[0]}).has_value()) << "one object twice";
}

TEST_F(LooseObjectsTest, LoosePathsAreTwoHexDigitsThenTheRest) {
  const std::string sha1(38, 'a');
  EXPECT_TRUE(IsLooseObjectPath("ab/" + sha1));
  EXPECT_TRUE(IsLooseObjectPath("./ab/" + sha1));
  EXPECT_TRUE(IsLooseObjectPath("ab/" + std::string(62, '0')));
  EXPECT_FALSE(IsLooseObjectPath("pack/pack-" + sha1 + ".pack"));
  EXPECT_FALSE(IsLooseObjectPath("ab/" + sha1.substr(1)));
  EXPECT_FALSE(IsLooseObjectPath("AB/" + sha1));
  EXPECT_FALSE(IsLooseObjectPath("a/b" + sha1));
  EXPECT_FALSE(IsLooseObjectPath("ab/../" + sha1.substr(3)));
}

}  // namespace
}  // namespace r2e::internal
