// ImageStore on OCI image layouts built here from layers written with
// libarchive: whiteouts, links, hostile members, digests, limits, platforms,
// leases, removal and pruning, files shared between images; concurrent
// pulls unpack once.
#include "r2e/image_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "image/digest.h"
#include "image/image_source.h"
#include "oci_layout.h"

namespace r2e {
namespace {

using testing_oci::Dir;
using testing_oci::File;
using testing_oci::Hardlink;
using testing_oci::Layer;
using testing_oci::Member;
using testing_oci::Symlink;

namespace fs = std::filesystem;
using Json = nlohmann::json;

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/r2e-image-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    options_.cache_dir = dir_ / "cache";
  }
  void TearDown() override {
    // Images' directories may be read-only: the store removes them.
    ImageStore(options_).Prune(0).ok();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Layout(const std::string& name, const std::vector<std::string>& layers,
                     const std::string& arch = image::HostArchitecture(), const std::string& claimed = "") {
    return testing_oci::WriteLayout(dir_ / name, layers, arch, claimed);
  }

  // Nothing of a failed pull is left: no image, nothing under tmp/.
  void ExpectNothingUnpacked() {
    EXPECT_TRUE(fs::is_empty(options_.cache_dir / "images"));
    EXPECT_TRUE(fs::is_empty(options_.cache_dir / "tmp"));
  }

  fs::path dir_;
  ImageStoreOptions options_;
};

TEST_F(ImageStoreTest, AppliesLayersWithWhiteoutsOpaqueDirectoriesAndLinks) {
  const std::string lower = Layer({Dir("a"), File("a/gone", "x"), File("a/kept", "kept"), Dir("b"),
                                   File("b/old1", "1"), Dir("b/sub"), File("b/sub/old2", "2"), File("c", "c"),
                                   Symlink("lib", "usr/lib"), Dir("usr"), Dir("usr/lib"), File("bin-tool", "#!", 0755)},
                                  /*gzip=*/true);
  const std::string upper = Layer({File("a/.wh.gone", ""), Dir("b"), File("b/.wh..wh..opq", ""), File("b/new", "n"),
                                   File("c", "replaced"), File("lib/libx.so", "so"), Hardlink("tool-link", "bin-tool"),
                                   {"dev-null", AE_IFCHR, "", "", false, 0666}});
  ImageStore store(options_);
  auto info = store.Pull(Layout("img", {lower, upper}));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const fs::path root = info->rootfs;
  EXPECT_FALSE(fs::exists(root / "a/gone"));
  EXPECT_TRUE(fs::exists(root / "a/kept"));
  EXPECT_FALSE(fs::exists(root / "b/old1"));  // the opaque directory hides the lower layer's
  EXPECT_FALSE(fs::exists(root / "b/sub"));
  EXPECT_TRUE(fs::exists(root / "b/new"));
  EXPECT_FALSE(fs::exists(root / "b/.wh..wh..opq"));
  std::ifstream c(root / "c");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(c), {}), "replaced");
  // Written through the image's own symlink, inside the root.
  EXPECT_TRUE(fs::is_symlink(root / "lib"));
  EXPECT_TRUE(fs::exists(root / "usr/lib/libx.so"));
  struct stat a {}, b {};
  ASSERT_EQ(stat((root / "bin-tool").c_str(), &a), 0);
  ASSERT_EQ(stat((root / "tool-link").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_mode & 0777, 0755u);
  EXPECT_FALSE(fs::exists(fs::symlink_status(root / "dev-null")));  // device nodes are skipped
  EXPECT_EQ(info->working_dir, "/testbed");
  ASSERT_EQ(info->env.size(), 2u);
  EXPECT_EQ(info->env[1], (std::pair<std::string, std::string>("GREETING", "hello=world")));
}

TEST_F(ImageStoreTest, SymlinksFromTheImageNeverLeadOutOfTheRoot) {
  const fs::path outside = dir_ / "outside";
  fs::create_directories(outside);
  // Absolute and climbing symlinks to this test's "host" directory, then
  // members written through them.
  // The image has the same path inside it.
  std::vector<Member> lower = {Symlink("abs", outside.string()),
                               Symlink("up", "../../../../../../" + outside.relative_path().string())};
  std::string path;
  for (const auto& part : outside.relative_path()) lower.push_back(Dir(path += (path.empty() ? "" : "/") + part.string()));
  const std::string upper = Layer({File("abs/planted", "x"), File("up/planted2", "y")});
  ImageStore store(options_);
  auto info = store.Pull(Layout("img", {Layer(lower), upper}));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(fs::is_empty(outside));
  // They landed where the sandbox will see them: inside its root.
  EXPECT_TRUE(fs::exists(info->rootfs / outside.relative_path() / "planted"));
  EXPECT_TRUE(fs::exists(info->rootfs / outside.relative_path() / "planted2"));
  // Through a symlink to what the image lacks: refused, nothing written outside.
  auto dangling = store.Pull(Layout("dangling", {Layer({Symlink("abs", outside.string())}),
                                                 Layer({File("abs/planted", "x")})}));
  ASSERT_FALSE(dangling.ok());
  EXPECT_EQ(dangling.status().code(), StatusCode::kInvalidArgument) << dangling.status().ToString();
  EXPECT_TRUE(fs::is_empty(outside));
}

TEST_F(ImageStoreTest, RefusesHostileMembersAndLeavesNothing) {
  const std::vector<std::pair<std::vector<Member>, std::string>> cases = {
      {{File("../escape", "x")}, "\"..\""},
      {{File("a/../../escape", "x")}, "\"..\""},
      {{File("/etc/abs", "x")}, "absolute path"},
      {{File("f", "x"), Hardlink("h", "/etc/passwd")}, "absolute path"},
      {{File("f", "x"), Hardlink("h", "../f")}, "outside the image"},
      {{Hardlink("h", "not-there")}, "does not have"},
  };
  ImageStore store(options_);
  int n = 0;
  for (const auto& [members, why] : cases) {
    auto info = store.Pull(Layout("bad" + std::to_string(n++), {Layer(members)}));
    ASSERT_FALSE(info.ok()) << why;
    EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument) << info.status().ToString();
    EXPECT_NE(info.status().message().find(why), std::string::npos) << info.status().ToString();
    ExpectNothingUnpacked();
  }
}

TEST_F(ImageStoreTest, DigestMismatchTruncationAndCorruptionAreRefused) {
  ImageStore store(options_);
  const std::string layer = Layer({File("f", std::string(100000, 'x'))}, /*gzip=*/true);
  // The manifest claims another digest.
  auto mismatch = store.Pull(Layout("m", {layer}, image::HostArchitecture(), image::DigestOf("other")));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("lacks layer"), std::string::npos) << mismatch.status().ToString();
  // The blob on disk differs from what the manifest names.
  const std::string reference = Layout("t", {layer});
  const fs::path blob = dir_ / "t" / "blobs" / "sha256" / std::string(image::DigestHex(image::DigestOf(layer)));
  fs::resize_file(blob, layer.size() / 2);
  auto truncated = store.Pull(reference);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument) << truncated.status().ToString();
  {
    std::ofstream(blob, std::ios::binary) << std::string(layer.size(), 'z');
  }
  auto corrupt = store.Pull(reference);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), StatusCode::kInvalidArgument) << corrupt.status().ToString();
  // Bytes appended after a valid tar: the tar reads, the digest does not match.
  {
    std::ofstream(blob, std::ios::binary) << layer << "trailing";
  }
  auto appended = store.Pull(reference);
  ASSERT_FALSE(appended.ok());
  EXPECT_NE(appended.status().message().find("does not match its digest"), std::string::npos)
      << appended.status().ToString();
  ExpectNothingUnpacked();
}

TEST_F(ImageStoreTest, LayerBombsHitTheLimits) {
  std::vector<Member> many;
  for (int i = 0; i < 50; ++i) many.push_back(File("f" + std::to_string(i), "x"));
  ImageStoreOptions limited = options_;
  limited.max_unpacked_files = 20;
  auto files = ImageStore(limited).Pull(Layout("files", {Layer(many)}));
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kResourceExhausted) << files.status().ToString();
  limited = options_;
  limited.max_unpacked_bytes = 1 << 20;
  auto bytes = ImageStore(limited).Pull(Layout("bytes", {Layer({File("big", std::string(2 << 20, '\0'))}, true)}));
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), StatusCode::kResourceExhausted) << bytes.status().ToString();
  ExpectNothingUnpacked();
}

TEST_F(ImageStoreTest, AnotherPlatformOnlyIsRefused) {
  const std::string other = image::HostArchitecture() == "amd64" ? "arm64" : "amd64";
  auto info = ImageStore(options_).Pull(Layout("arch", {Layer({File("f", "x")})}, other));
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("is for " + other), std::string::npos) << info.status().ToString();
}

TEST_F(ImageStoreTest, BadReferencesSayWhatToDo) {
  ImageStore store(options_);
  EXPECT_EQ(store.Pull("oci:").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Pull("docker-archive:/nonexistent.tar").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.Pull("oci:/nonexistent").status().code(), StatusCode::kNotFound);
  auto malformed = store.Pull("example.com/Repo:tag");
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(malformed.status().message().find("lowercase"), std::string::npos) << malformed.status().ToString();
  // Nobody listens on port 1: Unavailable after the retries.
  ImageStoreOptions quick = options_;
  quick.registry.max_attempts = 2;
  quick.registry.initial_backoff = std::chrono::milliseconds(10);
  auto unreachable = ImageStore(quick).Pull("127.0.0.1:1/repo:tag");
  EXPECT_EQ(unreachable.status().code(), StatusCode::kUnavailable) << unreachable.status().ToString();
  EXPECT_NE(unreachable.status().message().find("failed 2 times"), std::string::npos) << unreachable.status().ToString();
  const std::string reference = Layout("tagged", {Layer({File("f", "x")})});
  auto wrong_tag = store.Pull(reference.substr(0, reference.size() - 2) + "v2");
  ASSERT_EQ(wrong_tag.status().code(), StatusCode::kNotFound);
  EXPECT_NE(wrong_tag.status().message().find("it has: v1"), std::string::npos) << wrong_tag.status().ToString();
}

TEST_F(ImageStoreTest, LeasesKeepImagesFromRemovalAndPruning) {
  ImageStore store(options_);
  const std::string reference = Layout("img", {Layer({File("f", "x")})});
  auto lease = store.Acquire(reference);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_TRUE(fs::exists(lease->image().rootfs / "f"));
  // Pulling or acquiring an image in use does not wait for its users.
  auto again = store.Pull(reference);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->id, lease->image().id);
  ASSERT_TRUE(store.Acquire(reference).ok());
  auto listed = store.List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE((*listed)[0].in_use);
  EXPECT_EQ((*listed)[0].references, std::vector<std::string>{reference});
  EXPECT_EQ(store.Remove(reference).code(), StatusCode::kFailedPrecondition);
  auto pruned = store.Prune(0);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->images_removed, 0u);
  lease->Release();
  // By a prefix of its ID, once released.
  EXPECT_TRUE(store.Remove(std::string(image::DigestHex((*listed)[0].id)).substr(0, 12)).ok());
  EXPECT_TRUE(store.List()->empty());
  EXPECT_EQ(store.Remove(reference).code(), StatusCode::kNotFound);
}

TEST_F(ImageStoreTest, PruneEvictsLeastRecentlyUsedAndLeftovers) {
  ImageStore store(options_);
  const std::string older = Layout("older", {Layer({File("f", std::string(1000, 'a'))})});
  const std::string newer = Layout("newer", {Layer({File("g", std::string(1000, 'b'))})});
  ASSERT_TRUE(store.Acquire(older).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(store.Acquire(newer).ok());
  // What a killed pull leaves: a directory under tmp/ whose lock nobody holds.
  fs::create_directories(options_.cache_dir / "tmp" / (std::string(64, 'e') + ".dead00") / "rootfs");
  auto report = store.Prune(1500);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->images_removed, 1u);
  EXPECT_EQ(report->leftovers_removed, 1u);
  auto left = store.List();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].references, std::vector<std::string>{newer});
}

// Regular files under the cache's shared files (one per distinct content
// and metadata).
std::size_t SharedFileCount(const fs::path& cache) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(cache / "files", ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    n += it->is_regular_file() ? 1 : 0;
  }
  return n;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(ImageStoreTest, ImagesThatShareALayerShareItsFilesOnDisk) {
  const std::string big(100000, 'b');
  const std::string base = Layer({Dir("usr"), File("usr/big", big), File("usr/conf", "one"),
                                  File("usr/gone", "gone"), File("usr/tool", "same", 0755),
                                  File("usr/conf-copy", "one")});
  // The base with a layer on top that replaces one of its files, removes
  // another and adds one; and another image with the same file in a layer
  // of its own (same content and metadata: shared too).
  const std::string top = Layer({File("usr/conf", "two"), File("usr/.wh.gone", ""), File("extra", "e")});
  const std::string other = Layer({Dir("usr"), File("usr/big", big), File("usr/tool", "same", 0700)});
  ImageStore store(options_);
  auto a = store.Pull(Layout("a", {base}));
  auto b = store.Pull(Layout("b", {base, top}));
  auto c = store.Pull(Layout("c", {other}));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.status().ToString() << b.status().ToString() << c.status().ToString();
  struct stat in_a {}, in_b {}, in_c {};
  ASSERT_EQ(::stat((a->rootfs / "usr/big").c_str(), &in_a), 0);
  ASSERT_EQ(::stat((b->rootfs / "usr/big").c_str(), &in_b), 0);
  ASSERT_EQ(::stat((c->rootfs / "usr/big").c_str(), &in_c), 0);
  EXPECT_EQ(in_a.st_ino, in_b.st_ino);
  EXPECT_EQ(in_a.st_ino, in_c.st_ino);
  // Two paths of one image are never one file (a write to one would change
  // the other), though their content and metadata are the same.
  struct stat conf {}, copy {};
  ASSERT_EQ(::stat((a->rootfs / "usr/conf").c_str(), &conf), 0);
  ASSERT_EQ(::stat((a->rootfs / "usr/conf-copy").c_str(), &copy), 0);
  EXPECT_NE(conf.st_ino, copy.st_ino);
  // A file's metadata is part of what is shared: a different mode, another file.
  ASSERT_EQ(::stat((a->rootfs / "usr/tool").c_str(), &in_a), 0);
  ASSERT_EQ(::stat((c->rootfs / "usr/tool").c_str(), &in_c), 0);
  EXPECT_NE(in_a.st_ino, in_c.st_ino);
  EXPECT_EQ(in_c.st_mode & 0777, 0700u);
  // What the top layer replaced and removed changed b only.
  EXPECT_EQ(ReadAll(a->rootfs / "usr/conf"), "one");
  EXPECT_EQ(ReadAll(b->rootfs / "usr/conf"), "two");
  EXPECT_TRUE(fs::exists(a->rootfs / "usr/gone"));
  EXPECT_FALSE(fs::exists(b->rootfs / "usr/gone"));
  // big, one, gone, same (0755), two, e, same (0700): each stored once.
  EXPECT_EQ(SharedFileCount(options_.cache_dir), 7u);
  // Removing images frees only what no remaining image links to.
  ASSERT_TRUE(store.Remove(b->id).ok());
  EXPECT_EQ(SharedFileCount(options_.cache_dir), 5u);  // two and e went
  ASSERT_TRUE(store.Remove(a->id).ok());
  EXPECT_EQ(ReadAll(c->rootfs / "usr/big"), big);
  EXPECT_EQ(SharedFileCount(options_.cache_dir), 2u);
  auto pruned = store.Prune(0);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->images_removed, 1u);
  EXPECT_GE(pruned->bytes_freed, big.size());
  EXPECT_EQ(SharedFileCount(options_.cache_dir), 0u);
  // Not sharing: the image's files are its own.
  ImageStoreOptions own = options_;
  own.share_files = false;
  auto d = ImageStore(own).Pull(Layout("d", {base}));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(ReadAll(d->rootfs / "usr/big"), big);
  EXPECT_EQ(fs::hard_link_count(d->rootfs / "usr/big"), 1u);
  EXPECT_EQ(SharedFileCount(options_.cache_dir), 0u);
}

TEST_F(ImageStoreTest, ConcurrentPullsUnpackOnce) {
  std::vector<Member> members;
  for (int i = 0; i < 300; ++i) members.push_back(File("d/f" + std::to_string(i), std::string(2000, 'x')));
  const std::string reference = Layout("img", {Layer(members, true), Layer({File("top", "t")})});
  std::atomic<int> layers_unpacked{0};
  ImageStoreOptions counting = options_;
  counting.progress = [&](const ImagePullProgress& p) {
    if (p.layer > 0) ++layers_unpacked;
  };
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      ImageStore store(counting);  // a store each, as separate processes would have
      if (store.Acquire(reference).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(layers_unpacked.load(), 2);  // one unpack of two layers
}

}  // namespace
}  // namespace r2e
