// Tar archives: TarPath/TarFile round trips, cross-checks with the system
// `tar`, and Untar refusing archives that would write outside the target.
#include "archive/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>
#include "test_files.h"

namespace r2e::archive {
namespace {

namespace fs = std::filesystem;

// One member of a hand-built archive.
struct Spec {
  std::string name;
  mode_t type = AE_IFREG;
  std::string content;
  std::string symlink;   // for AE_IFLNK
  std::string hardlink;  // non-empty: a hard link entry
  int perm = 0644;
};

Spec File(std::string name, std::string content) {
  Spec s;
  s.name = std::move(name);
  s.content = std::move(content);
  return s;
}
Spec Dir(std::string name) {
  Spec s;
  s.name = std::move(name);
  s.type = AE_IFDIR;
  return s;
}
Spec Link(std::string name, std::string target) {
  Spec s;
  s.name = std::move(name);
  s.type = AE_IFLNK;
  s.symlink = std::move(target);
  return s;
}
Spec Hard(std::string name, std::string target) {
  Spec s;
  s.name = std::move(name);
  s.hardlink = std::move(target);
  return s;
}
Spec Node(std::string name, mode_t type) {
  Spec s;
  s.name = std::move(name);
  s.type = type;
  return s;
}

// Builds an archive with libarchive directly, with no checks at all.
std::string BuildTar(const std::vector<Spec>& specs) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_none(a);
  auto append = [](struct archive*, void* client, const void* buf, size_t n) -> la_ssize_t {
    static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  EXPECT_EQ(archive_write_open2(a, &out, nullptr, append, nullptr, nullptr), ARCHIVE_OK);
  for (const Spec& s : specs) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, s.name.c_str());
    archive_entry_set_filetype(e, s.hardlink.empty() ? s.type : AE_IFREG);
    archive_entry_set_perm(e, static_cast<mode_t>(s.perm));
    archive_entry_set_mtime(e, std::time(nullptr), 0);
    if (!s.hardlink.empty()) archive_entry_set_hardlink(e, s.hardlink.c_str());
    if (s.type == AE_IFLNK) archive_entry_set_symlink(e, s.symlink.c_str());
    const bool data = s.type == AE_IFREG && s.hardlink.empty();
    archive_entry_set_size(e, data ? static_cast<la_int64_t>(s.content.size()) : 0);
    EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << s.name << ": " << archive_error_string(a);
    if (data && !s.content.empty()) archive_write_data(a, s.content.data(), s.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

using test_util::ReadFile;

void WriteFile(const fs::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
}

// Every path under `root`, relative, without following symlinks.
std::set<std::string> Tree(const fs::path& root) {
  std::set<std::string> out;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(root, ec))) return out;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    out.insert(it->path().lexically_relative(root).string());  // relative() follows links
  }
  return out;
}

std::string Shell(const std::string& cmd) {
  const fs::path out =
      fs::temp_directory_path() / ("r2e-tar-test-out-" + std::to_string(::getpid()));
  const int rc = std::system((cmd + " > " + out.string() + " 2>&1").c_str());
  std::string text = ReadFile(out);
  fs::remove(out);
  EXPECT_EQ(rc, 0) << cmd << "\n" << text;
  return text;
}

class TarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("r2e-tar-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A source tree: a file, an executable, an empty dir, a symlink inside.
  fs::path MakeTree() {
    const fs::path src = root_ / "src";
    fs::create_directories(src / "sub");
    fs::create_directories(src / "empty");
    WriteFile(src / "a.txt", "alpha\n");
    WriteFile(src / "sub" / "run.sh", "#!/bin/sh\necho hi\n");
    fs::permissions(src / "sub" / "run.sh", static_cast<fs::perms>(0755));
    fs::create_symlink("../a.txt", src / "sub" / "link");
    return src;
  }

  fs::path root_;
};

TEST_F(TarTest, TarPathRoundTripsATree) {
  const fs::path src = MakeTree();
  auto tar = TarPath(src, "testbed");
  ASSERT_TRUE(tar.ok()) << tar.status().ToString();
  const fs::path dst = root_ / "dst";
  ASSERT_TRUE(Untar(*tar, dst).ok());
  EXPECT_EQ(Tree(dst),
            (std::set<std::string>{"testbed", "testbed/a.txt", "testbed/empty", "testbed/sub",
                                   "testbed/sub/run.sh", "testbed/sub/link"}));
  EXPECT_EQ(ReadFile(dst / "testbed/a.txt"), "alpha\n");
  EXPECT_EQ(ReadFile(dst / "testbed/sub/run.sh"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(fs::status(dst / "testbed/sub/run.sh").permissions() & fs::perms::all,
            static_cast<fs::perms>(0755));
  EXPECT_EQ(fs::status(dst / "testbed/a.txt").permissions() & fs::perms::owner_exec,
            fs::perms::none);
  EXPECT_TRUE(fs::is_directory(dst / "testbed/empty"));
  EXPECT_TRUE(fs::is_empty(dst / "testbed/empty"));
  ASSERT_TRUE(fs::is_symlink(dst / "testbed/sub/link"));
  EXPECT_EQ(fs::read_symlink(dst / "testbed/sub/link"), "../a.txt");
  EXPECT_EQ(ReadFile(dst / "testbed/sub/link"), "alpha\n");
}

TEST_F(TarTest, TarPathOfOneFileAndOfASymlink) {
  const fs::path src = MakeTree();
  auto tar = TarPath(src / "a.txt", "file.txt");
  ASSERT_TRUE(tar.ok()) << tar.status().ToString();
  auto content = FirstFileContent(*tar);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "alpha\n");
  ASSERT_TRUE(Untar(*tar, root_ / "dst").ok());
  EXPECT_EQ(Tree(root_ / "dst"), (std::set<std::string>{"file.txt"}));

  // A symlink is stored as a link, not followed.
  auto link = TarPath(src / "sub" / "link", "l");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(FirstFileContent(*link).status().code(), StatusCode::kNotFound);
}

TEST_F(TarTest, TarPathErrors) {
  EXPECT_EQ(TarPath(root_ / "missing", "x").status().code(), StatusCode::kNotFound);
  const fs::path src = MakeTree();
  EXPECT_EQ(TarPath(src, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TarPath(src, "/abs").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TarPath(src, "a/../..").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TarTest, TarPathListsWithSystemTar) {
  const fs::path src = MakeTree();
  const std::string long_name(150, 'n');  // beyond ustar's 100-byte name field
  WriteFile(src / long_name, "long\n");
  auto tar = TarPath(src, "testbed");
  ASSERT_TRUE(tar.ok());
  WriteFile(root_ / "t.tar", *tar);
  const std::string listing = Shell("tar -tvf " + (root_ / "t.tar").string());
  EXPECT_NE(listing.find("testbed/sub/link -> ../a.txt"), std::string::npos) << listing;
  EXPECT_NE(listing.find("testbed/empty/"), std::string::npos) << listing;
  EXPECT_NE(listing.find("-rwxr-xr-x"), std::string::npos) << listing;
  EXPECT_NE(listing.find("testbed/" + long_name), std::string::npos) << listing;

  // And system tar extracts it to the same tree.
  fs::create_directories(root_ / "x");
  Shell("tar -xf " + (root_ / "t.tar").string() + " -C " + (root_ / "x").string());
  EXPECT_EQ(ReadFile(root_ / "x/testbed" / long_name), "long\n");
  EXPECT_EQ(fs::read_symlink(root_ / "x/testbed/sub/link"), "../a.txt");
}

TEST_F(TarTest, TarFileAndFirstFileContent) {
  auto tar = TarFile("dir/hello.py", "print('hi')\n", 0755);
  ASSERT_TRUE(tar.ok());
  auto content = FirstFileContent(*tar);
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  EXPECT_EQ(*content, "print('hi')\n");
  ASSERT_TRUE(Untar(*tar, root_ / "dst").ok());
  EXPECT_EQ(fs::status(root_ / "dst/dir/hello.py").permissions() & fs::perms::all,
            static_cast<fs::perms>(0755));

  auto empty = TarFile("empty", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(FirstFileContent(*empty).value_or("x"), "");

  // The first regular file, after directories and links.
  const std::string mixed =
      BuildTar({Dir("d"), Link("d/l", "f"), File("d/f", "first"), File("d/g", "second")});
  EXPECT_EQ(FirstFileContent(mixed).value_or(""), "first");
  EXPECT_EQ(FirstFileContent(BuildTar({Dir("d")})).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(FirstFileContent("not a tar at all, just some bytes").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(TarFile("", "x").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TarTest, UntarExtractsSystemTar) {
  const fs::path src = MakeTree();
  Shell("tar -cf " + (root_ / "sys.tar").string() + " -C " + src.string() + " .");
  const std::string tar = ReadFile(root_ / "sys.tar");
  const fs::path dst = root_ / "dst";
  const Status st = Untar(tar, dst);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Tree(dst), (std::set<std::string>{"a.txt", "empty", "sub", "sub/run.sh", "sub/link"}));
  EXPECT_EQ(ReadFile(dst / "sub/link"), "alpha\n");
  EXPECT_EQ(fs::status(dst / "sub/run.sh").permissions() & fs::perms::all,
            static_cast<fs::perms>(0755));

  // GNU format with a hard link and a long name, too.
  WriteFile(src / std::string(120, 'q'), "q\n");
  fs::create_hard_link(src / "a.txt", src / "hard");
  Shell("tar --format=gnu -cf " + (root_ / "gnu.tar").string() + " -C " + src.string() + " .");
  const fs::path dst2 = root_ / "dst2";
  ASSERT_TRUE(Untar(ReadFile(root_ / "gnu.tar"), dst2).ok());
  EXPECT_EQ(ReadFile(dst2 / "hard"), "alpha\n");
  EXPECT_EQ(ReadFile(dst2 / std::string(120, 'q')), "q\n");
}

TEST_F(TarTest, UntarAcceptsLinksThatStayInside) {
  const std::string tar =
      BuildTar({File("./a", "A"), Dir("sub"), Link("sub/up", "../a"), Link("sub/self", "."),
                Link("dangling", "nothere"), Hard("h", "a")});
  const fs::path dst = root_ / "dst";
  const Status st = Untar(tar, dst);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(ReadFile(dst / "sub/up"), "A");
  EXPECT_EQ(ReadFile(dst / "h"), "A");
  EXPECT_EQ(fs::hard_link_count(dst / "a"), 2u);
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dst / "dangling")));
  // Extracting again over the same tree works (links are replaced).
  EXPECT_TRUE(Untar(tar, dst).ok());
}

// Untar into root_/box/dest: everything must be refused with nothing created,
// either in dest (which does not exist yet) or anywhere else under root_.
class UntarRefusalTest : public TarTest {
 protected:
  // `needle`: what the message must mention (the offending entry).
  void ExpectRefused(const std::string& tar, const std::string& what,
                     const std::string& needle = "") {
    fs::create_directories(root_ / "box");
    fs::create_directories(root_ / "outside");
    const auto before = Tree(root_);
    const Status st = Untar(tar, root_ / "box" / "dest");
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << what << ": " << st.ToString();
    EXPECT_NE(st.message().find(needle), std::string::npos) << what << ": " << st.ToString();
    EXPECT_EQ(Tree(root_), before) << what;
    // And the same into an existing, empty directory.
    fs::create_directories(root_ / "box" / "dest2");
    const Status st2 = Untar(tar, root_ / "box" / "dest2");
    EXPECT_EQ(st2.code(), StatusCode::kInvalidArgument) << what << ": " << st2.ToString();
    EXPECT_TRUE(fs::is_empty(root_ / "box" / "dest2")) << what;
    fs::remove_all(root_ / "box" / "dest2");
    EXPECT_EQ(Tree(root_), before) << what;
  }
};

TEST_F(UntarRefusalTest, DotDot) {
  ExpectRefused(BuildTar({File("good.txt", "ok"), File("../evil", "evil")}), "../evil",
                "\"../evil\"");
  ExpectRefused(BuildTar({File("good.txt", "ok"), File("a/../../../outside/evil", "evil")}),
                "a/../../../outside/evil");
}

TEST_F(UntarRefusalTest, AbsolutePath) {
  const fs::path abs = root_ / "outside" / "abs";
  ExpectRefused(BuildTar({File("good.txt", "ok"), File(abs.string(), "evil")}), abs.string());
  EXPECT_FALSE(fs::exists(abs));
}

TEST_F(UntarRefusalTest, SymlinkToAbsoluteDirThenFileThroughIt) {
  // The /etc case: the probe name stays harmless even if the check failed.
  const std::string probe = "r2e-untar-probe-" + std::to_string(::getpid());
  ExpectRefused(BuildTar({Link("link", "/etc"), File("link/" + probe, "evil")}), "link -> /etc",
                "\"link\"");
  EXPECT_FALSE(fs::exists("/etc/" + probe));
  // The same with an observable target: link/passwd must not land in outside/.
  ExpectRefused(BuildTar({Link("link", (root_ / "outside").string()), File("link/passwd", "evil")}),
                "link -> outside");
  EXPECT_FALSE(fs::exists(root_ / "outside" / "passwd"));
}

TEST_F(UntarRefusalTest, RelativeSymlinkEscapes) {
  ExpectRefused(BuildTar({File("good.txt", "ok"), Link("a", "../../x")}), "a -> ../../x", "\"a\"");
  ExpectRefused(BuildTar({Link("d/e/a", "../../../x")}), "d/e/a -> ../../../x", "\"d/e/a\"");
  // Lexically inside but physically outside: up -> .., x -> up/.. .
  ExpectRefused(BuildTar({Dir("sub"), Link("sub/up", ".."), Link("sub/x", "up/..")}),
                "symlink chain", "\"sub/x\"");
  ExpectRefused(BuildTar({Link("loop", "loop/a")}), "loop", "\"loop\"");
  // A file written through an in-archive symlink (even one pointing inside).
  ExpectRefused(BuildTar({Dir("d"), Link("l", "d"), File("l/f", "x")}), "through symlink",
                "\"l/f\"");
}

TEST_F(UntarRefusalTest, HardLinks) {
  ExpectRefused(BuildTar({File("good.txt", "ok"), Hard("h", "/etc/passwd")}),
                "hardlink to /etc/passwd", "\"h\"");
  WriteFile(root_ / "outside" / "secret", "s");
  ExpectRefused(BuildTar({Hard("h", "../../outside/secret")}), "hardlink to ../../outside/secret");
  ExpectRefused(BuildTar({Hard("h", "missing")}), "hardlink to missing", "\"h\"");
  EXPECT_EQ(fs::hard_link_count(root_ / "outside" / "secret"), 1u);
}

TEST_F(UntarRefusalTest, SpecialFiles) {
  ExpectRefused(BuildTar({File("good.txt", "ok"), Node("fifo", AE_IFIFO)}), "fifo", "\"fifo\"");
  ExpectRefused(BuildTar({Node("null", AE_IFCHR)}), "char device", "\"null\"");
  ExpectRefused(BuildTar({Node("sda", AE_IFBLK)}), "block device", "\"sda\"");
}

TEST_F(UntarRefusalTest, TruncatedAndGarbage) {
  std::string big(100 * 1024, 'z');
  const std::string tar = BuildTar({File("first.txt", "ok"), File("big.bin", big)});
  ExpectRefused(tar.substr(0, tar.size() / 2), "truncated at half", "unreadable");
  ExpectRefused(tar.substr(0, 700), "truncated in the second header");
  ExpectRefused("this is not a tar archive, only some garbage bytes", "garbage", "unreadable");
  std::string noise(4096, '\0');
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>(i * 7919 % 256);
  ExpectRefused(noise, "noise");
}

TEST_F(UntarRefusalTest, ExistingSymlinkInDestination) {
  // A link left by an earlier extraction must not be written through.
  const fs::path dest = root_ / "box" / "dest";
  fs::create_directories(dest);
  fs::create_directories(root_ / "outside");
  fs::create_directory_symlink(root_ / "outside", dest / "out");
  const Status st = Untar(BuildTar({File("out/f", "evil")}), dest);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_TRUE(fs::is_empty(root_ / "outside"));
}

}  // namespace
}  // namespace r2e::archive
