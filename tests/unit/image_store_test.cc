// ImageStore on OCI image layouts built here from layers written with
// libarchive: whiteouts, links, hostile members, digests, limits, platforms,
// leases, removal and pruning; concurrent pulls unpack once.
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

namespace r2e {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// One member of a layer.
struct Member {
  std::string name;
  mode_t type = AE_IFREG;
  std::string content;  // regular files
  std::string link;     // symlink target or hard link target
  bool hardlink = false;
  int mode = 0644;
};

Member File(std::string name, std::string content, int mode = 0644) {
  return {std::move(name), AE_IFREG, std::move(content), "", false, mode};
}
Member Dir(std::string name, int mode = 0755) { return {std::move(name), AE_IFDIR, "", "", false, mode}; }
Member Symlink(std::string name, std::string target) { return {std::move(name), AE_IFLNK, "", std::move(target), false, 0777}; }
Member Hardlink(std::string name, std::string target) { return {std::move(name), AE_IFREG, "", std::move(target), true, 0644}; }

la_ssize_t Append(struct archive*, void* out, const void* data, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), n);
  return static_cast<la_ssize_t>(n);
}

std::string Layer(const std::vector<Member>& members, bool gzip = false) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, Append, nullptr);
  for (const Member& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_filetype(e, m.type);
    archive_entry_set_perm(e, static_cast<mode_t>(m.mode));
    archive_entry_set_mtime(e, 1700000000, 0);
    if (m.type == AE_IFLNK) archive_entry_set_symlink(e, m.link.c_str());
    if (m.hardlink) archive_entry_set_hardlink(e, m.link.c_str());
    if (m.type == AE_IFCHR) archive_entry_set_rdev(e, makedev(1, 3));
    archive_entry_set_size(e, m.type == AE_IFREG && !m.hardlink ? static_cast<la_int64_t>(m.content.size()) : 0);
    archive_write_header(a, e);
    if (!m.content.empty()) archive_write_data(a, m.content.data(), m.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

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

  std::string WriteBlob(const fs::path& layout, const std::string& data) {
    const std::string digest = image::DigestOf(data);
    fs::create_directories(layout / "blobs" / "sha256");
    std::ofstream(layout / "blobs" / "sha256" / std::string(image::DigestHex(digest)), std::ios::binary) << data;
    return digest;
  }

  // An OCI layout at dir_/name holding one image of `layers` tagged "v1";
  // `claimed` replaces a layer's digest in the manifest when non-empty.
  std::string Layout(const std::string& name, const std::vector<std::string>& layers,
                     const std::string& arch = image::HostArchitecture(), const std::string& claimed = "") {
    const fs::path layout = dir_ / name;
    fs::create_directories(layout);
    Json diff_ids = Json::array(), layer_descriptors = Json::array();
    for (const std::string& layer : layers) {
      const std::string digest = WriteBlob(layout, layer);
      diff_ids.push_back(digest);  // (the test layers' diff IDs are not checked by the OCI source)
      layer_descriptors.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                                   {"digest", claimed.empty() ? digest : claimed},
                                   {"size", layer.size()}});
    }
    const Json config = {{"architecture", arch},
                         {"os", "linux"},
                         {"config", {{"Env", {"PATH=/usr/bin:/bin", "GREETING=hello=world"}}, {"WorkingDir", "/testbed"}}},
                         {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
    const std::string config_text = config.dump();
    const Json manifest = {{"schemaVersion", 2},
                           {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                           {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                       {"digest", WriteBlob(layout, config_text)},
                                       {"size", config_text.size()}}},
                           {"layers", layer_descriptors}};
    const std::string manifest_text = manifest.dump();
    const Json index = {{"schemaVersion", 2},
                        {"manifests", {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                        {"digest", WriteBlob(layout, manifest_text)},
                                        {"size", manifest_text.size()},
                                        {"annotations", {{"org.opencontainers.image.ref.name", "v1"}}}}}}};
    std::ofstream(layout / "index.json") << index.dump();
    std::ofstream(layout / "oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
    return "oci:" + layout.string() + ":v1";
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
  auto registry = store.Pull("example.com/repo:tag");
  EXPECT_EQ(registry.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(registry.status().message().find("docker-archive:PATH"), std::string::npos);
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
