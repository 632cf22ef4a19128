// LocalRuntime on an image, both writable layers (overlay and copy): the
// image r2e-test/imgenv (the demo task with ENV on top), written once as a
// `docker save` archive (Docker's only part here) and unpacked by an
// ImageStore; and r2e-test/imguser (USER agent) for the switch to an
// image's user. Skips without Docker, the image or bubblewrap.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "r2e/image_store.h"
#include "r2e/local_runtime.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Layer = LocalRuntimeOptions::ImageLayer;

constexpr const char* kImage = "r2e-test/imgenv:latest";
constexpr const char* kUserImage = "r2e-test/imguser:latest";  // USER agent (uid 1234)

class LocalImageRuntimeTest : public ::testing::TestWithParam<Layer> {
 protected:
  static void SetUpTestSuite() {
    if (!LocalRuntime::BubblewrapAvailable()) {
      skip_ = "bubblewrap is not usable here";
      return;
    }
    char tmpl[] = "/tmp/r2e-local-image-runtime-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      skip_ = "no temporary directory";
      return;
    }
    dir_ = new fs::path(tmpl);
    const std::string archive = (*dir_ / "image.tar").string();
    if (std::system(("docker save -o " + archive + " " + kImage + " >/dev/null 2>&1").c_str()) != 0) {
      skip_ = std::string("cannot `docker save` ") + kImage + " (no daemon, or scripts/build-test-images.sh not run)";
      return;
    }
    reference_ = new std::string("docker-archive:" + archive);
  }
  // The user image's archive, written by the first test that needs it
  // (ctest runs each test in a process of its own).
  static bool SaveUserImage() {
    if (user_reference_ != nullptr) return true;
    const std::string user_archive = (*dir_ / "user-image.tar").string();
    if (std::system(("docker save -o " + user_archive + " " + kUserImage + " >/dev/null 2>&1").c_str()) != 0) {
      return false;
    }
    user_reference_ = new std::string("docker-archive:" + user_archive);
    return true;
  }
  static void TearDownTestSuite() {
    if (dir_ != nullptr) {
      ImageStoreOptions o;
      o.cache_dir = *dir_ / "cache";
      (void)ImageStore(o).Prune(0);
      o.cache_dir = *dir_ / "user-cache";
      (void)ImageStore(o).Prune(0);
      std::error_code ec;
      fs::remove_all(*dir_, ec);
    }
    delete dir_;
    delete reference_;
    delete user_reference_;
    dir_ = nullptr;
    reference_ = nullptr;
    user_reference_ = nullptr;
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }

  LocalRuntimeOptions Options() const {
    LocalRuntimeOptions o;
    o.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
    o.image = *reference_;
    o.image_layer = GetParam();
    o.image_store.cache_dir = *dir_ / "cache";
    o.work_root = *dir_ / "sandboxes";
    return o;
  }

  std::unique_ptr<LocalRuntime> Start() {
    auto rt = std::make_unique<LocalRuntime>(Options());
    SandboxSpec spec;
    spec.task_id = "local-image-test";
    Status s = rt->start(spec);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rt;
  }

  static ExecResult Run(LocalRuntime& rt, std::string_view command) {
    ExecOptions o;
    o.timeout = 30s;
    auto r = rt.exec(command, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ExecResult{};
  }

  static fs::path Rootfs() {
    ImageStoreOptions o;
    o.cache_dir = *dir_ / "cache";
    auto info = ImageStore(o).Pull(*reference_);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? info->rootfs : fs::path();
  }

  static std::string skip_;
  static fs::path* dir_;
  static std::string* reference_;
  static std::string* user_reference_;  // null: not saved (yet)
};

std::string LocalImageRuntimeTest::skip_;
fs::path* LocalImageRuntimeTest::dir_ = nullptr;
std::string* LocalImageRuntimeTest::reference_ = nullptr;
std::string* LocalImageRuntimeTest::user_reference_ = nullptr;

TEST_P(LocalImageRuntimeTest, TheRootIsTheImageWithItsEnvironmentAndNoHostPath) {
  auto rt = Start();
  ASSERT_TRUE(rt->alive());
  EXPECT_TRUE(rt->uses_image());
  EXPECT_EQ(Run(*rt, "pwd").output, "/testbed\n");
  EXPECT_EQ(Run(*rt, "echo \"$FOO|$VIRTUAL_ENV|$HOME\"").output, "from the image|/opt/imgvenv|/root\n");
  EXPECT_EQ(Run(*rt, "test -d /opt/imgbin && git -C /testbed rev-parse --is-inside-work-tree").output, "true\n");
  EXPECT_EQ(Run(*rt, "hostname; cat /etc/hostname").output, "r2e-sandbox\nr2e-sandbox\n");
  // This checkout, the cache and the sandbox directories are not there.
  const std::string here = fs::current_path().string();
  EXPECT_NE(Run(*rt, "test -e '" + here + "'").exit_code, 0);
  EXPECT_NE(Run(*rt, "test -e '" + dir_->string() + "'").exit_code, 0);
  std::ifstream release(Rootfs() / "etc" / "os-release");
  EXPECT_EQ(Run(*rt, "cat /etc/os-release").output, std::string(std::istreambuf_iterator<char>(release), {}));
}

TEST_P(LocalImageRuntimeTest, WritesArePrivateToTheSandboxAndNeverReachTheImage) {
  auto a = Start();
  auto b = Start();
  EXPECT_EQ(Run(*a, "echo mine > /testbed/NEW && echo changed >> /testbed/README.md && rm -f /testbed/conftest.py")
                .exit_code,
            0);
  EXPECT_EQ(Run(*b, "cat /testbed/NEW").exit_code, 1);
  EXPECT_EQ(Run(*b, "test -f /testbed/conftest.py && tail -c 8 /testbed/README.md | grep -c changed").output, "0\n");
  EXPECT_FALSE(fs::exists(Rootfs() / "testbed" / "NEW"));
  EXPECT_TRUE(fs::exists(Rootfs() / "testbed" / "conftest.py"));
  const ExecResult usr = Run(*a, "echo x > /usr/local/bin/added && cat /usr/local/bin/added");
  if (GetParam() == Layer::kCopy) {
    EXPECT_NE(usr.exit_code, 0) << "the copy layer leaves /usr read-only";
  } else {
    EXPECT_EQ(usr.output, "x\n");  // the overlay: the whole root is writable
    EXPECT_EQ(Run(*b, "test -e /usr/local/bin/added").exit_code, 1);
  }
  EXPECT_FALSE(fs::exists(Rootfs() / "usr" / "local" / "bin" / "added"));
}

TEST_P(LocalImageRuntimeTest, HostSideFileOperationsSeeTheSandboxesFiles) {
  auto rt = Start();
  ASSERT_TRUE(rt->write_file("/testbed/from_host.txt", "hello\n").ok());
  EXPECT_EQ(Run(*rt, "cat /testbed/from_host.txt").output, "hello\n");
  Run(*rt, "printf inside > /testbed/from_sandbox.txt");
  auto read = rt->read_file("/testbed/from_sandbox.txt");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "inside");
  // A file only the image has (not yet written by the sandbox).
  auto readme = rt->read_file("/testbed/README.md");
  ASSERT_TRUE(readme.ok()) << readme.status().ToString();
  EXPECT_FALSE(readme->empty());
  const fs::path local = *dir_ / ("download-" + std::to_string(static_cast<int>(GetParam())));
  ASSERT_TRUE(rt->download("/testbed/from_sandbox.txt", local).ok());
  std::ifstream in(local);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "inside");
  ASSERT_TRUE(rt->upload(local, "/tmp/uploaded.txt").ok());
  EXPECT_EQ(Run(*rt, "cat /tmp/uploaded.txt").output, "inside");
  // A symlink planted by the agent does not lead host-side writes out.
  Run(*rt, "ln -s " + dir_->string() + " /testbed/escape");
  EXPECT_FALSE(rt->write_file("/testbed/escape/planted", "x").ok());
  EXPECT_FALSE(fs::exists(*dir_ / "planted"));
}

TEST_P(LocalImageRuntimeTest, CopiedInFilesAreThereAtStart) {
  const fs::path host = *dir_ / ("copy-in-" + std::to_string(static_cast<int>(GetParam())));
  fs::create_directories(host / "sub");
  std::ofstream(host / "sub" / "f.txt") << "copied\n";
  LocalRuntime rt(Options());
  SandboxSpec spec;
  spec.copy_in = {{host, "/testbed/extra"}};
  ASSERT_TRUE(rt.start(spec).ok());
  EXPECT_EQ(Run(rt, "cat /testbed/extra/sub/f.txt && test -f /testbed/README.md && echo image").output,
            "copied\nimage\n");
}

TEST_P(LocalImageRuntimeTest, AKilledSessionRestartsOnTheSameFiles) {
  auto rt = Start();
  Run(*rt, "echo kept > /testbed/state.txt");
  ExecOptions o;
  o.timeout = 10s;
  (void)rt->exec("kill -9 -1", o);  // everything in the sandbox, the session's shell too
  EXPECT_EQ(Run(*rt, "cat /testbed/state.txt").output, "kept\n");
}

// Whole-sandbox checkpoints: every writable path (with the overlay the whole
// root, with the copy layer its private directories) comes back, deletions
// of the image's files included; kept paths keep their current contents; a
// second sandbox of the image reverts to the first one's checkpoint (a fork).
TEST_P(LocalImageRuntimeTest, ACheckpointBringsBackEveryWritablePath) {
  auto rt = Start();
  const bool overlay = GetParam() != Layer::kCopy;
  const std::string usr = overlay ? " && echo tool > /usr/local/bin/added" : "";
  Run(*rt,
      "echo one > /testbed/NEW && rm /testbed/conftest.py && mkdir -p /var/tmp/store && echo s1 > "
      "/var/tmp/store/f && echo r > /root/r" +
          usr);
  const std::string state =
      "cat /testbed/NEW /root/r 2>&1; test -e /testbed/conftest.py && echo conftest; cat "
      "/usr/local/bin/added "
      "2>/dev/null; ls /tmp";
  const std::string before = Run(*rt, state).output;
  auto cp = rt->checkpoint();
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  Run(*rt,
      "echo two > /testbed/NEW && touch /testbed/conftest.py /tmp/later && rm /root/r && echo s2 > "
      "/var/tmp/store/f && (sleep 1000 >/dev/null 2>&1 &)" +
          std::string(overlay ? " && rm /usr/local/bin/added" : ""));
  ASSERT_NE(Run(*rt, state).output, before);
  ASSERT_TRUE(rt->revert(*cp, {"/var/tmp/store"}).ok());
  EXPECT_EQ(Run(*rt, state).output, before);
  EXPECT_EQ(Run(*rt, "cat /var/tmp/store/f").output, "s2\n") << "a kept path keeps what it has now";
  EXPECT_EQ(Run(*rt, "pgrep -x sleep | wc -l").output, "0\n");

  auto other = Start();
  ASSERT_TRUE(other->revert(*cp, {}).ok());
  EXPECT_EQ(Run(*other, state).output, before);
  EXPECT_EQ(Run(*other, "cat /var/tmp/store/f").output, "s1\n");
  ASSERT_TRUE(rt->release_checkpoint(*cp).ok());
  EXPECT_EQ(rt->release_checkpoint(*cp).code(), StatusCode::kNotFound);
  EXPECT_EQ(other->revert(*cp, {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(other->revert(dir_->string(), {}).code(), StatusCode::kNotFound)
      << "only checkpoints are reverted to";

  if (!overlay) return;
  // The agent makes /var/tmp a link to a host directory: keeping a path
  // below it must not move the host's files.
  const fs::path host_dir = *dir_ / "outside-var-tmp";
  fs::create_directories(host_dir / "store");
  auto again = rt->checkpoint();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  Run(*rt, "rm -rf /var/tmp && ln -s " + host_dir.string() + " /var/tmp");
  const Status refused = rt->revert(*again, {"/var/tmp/store"});
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_TRUE(fs::is_directory(host_dir / "store"));
  EXPECT_EQ(Run(*rt, "readlink /var/tmp").output, host_dir.string() + "\n")
      << "nothing was reverted";
  ASSERT_TRUE(rt->revert(*again, {}).ok());
  EXPECT_EQ(Run(*rt, "cat /var/tmp/store/f").output, "s2\n");
  EXPECT_TRUE(fs::is_directory(host_dir / "store"));
}

TEST_P(LocalImageRuntimeTest, StopRemovesTheSandboxAndReleasesTheImage) {
  auto rt = Start();
  const fs::path workdir = rt->workdir();
  ASSERT_TRUE(fs::exists(workdir));
  ImageStoreOptions o;
  o.cache_dir = *dir_ / "cache";
  auto listed = ImageStore(o).List();
  ASSERT_TRUE(listed.ok() && listed->size() == 1);
  EXPECT_TRUE((*listed)[0].in_use);
  ASSERT_TRUE(rt->stop().ok());
  EXPECT_FALSE(fs::exists(workdir));
  listed = ImageStore(o).List();
  ASSERT_TRUE(listed.ok() && listed->size() == 1);
  EXPECT_FALSE((*listed)[0].in_use);
}

TEST_P(LocalImageRuntimeTest, RunsAsTheImagesUserWithNoWayBackToRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "switching to the image's user needs this process to be root";
  if (!SaveUserImage()) GTEST_SKIP() << "cannot `docker save` " << kUserImage << " (scripts/build-test-images.sh)";
  LocalRuntimeOptions o = Options();
  o.image = *user_reference_;
  o.image_store.cache_dir = *dir_ / "user-cache";
  const fs::path host = *dir_ / ("user-copy-in-" + std::to_string(static_cast<int>(GetParam())));
  fs::create_directories(host);
  std::ofstream(host / "f.txt") << "copied\n";
  LocalRuntime rt(o);
  SandboxSpec spec;
  spec.copy_in = {{host, "/testbed/extra"}};
  Status started = rt.start(spec);
  ASSERT_TRUE(started.ok()) << started.ToString();
  EXPECT_EQ(Run(rt, "id -u; id -g; id -G | tr ' ' '\\n' | sort -n | tr '\\n' ' '").output, "1234\n1234\n100 1234 ");
  EXPECT_EQ(Run(rt, "whoami; echo \"$HOME|$FOO\"; pwd").output, "agent\n/home/agent|\n/testbed\n");
  // No capability, none to regain (bubblewrap's no_new_privs: a setuid
  // program gives nothing), and the helper's descriptor is not left open.
  EXPECT_EQ(Run(rt, "grep -E '^Cap(Prm|Eff|Amb)' /proc/self/status | cut -f2 | sort -u").output, "0000000000000000\n");
  EXPECT_EQ(Run(rt, "grep NoNewPrivs /proc/self/status | cut -f2").output, "1\n");
  // ($$ is the session's loop, which may hold a descriptor for an instant
  // while it reports on this command: one that is gone by the time ls looks
  // is not a leak.)
  EXPECT_EQ(Run(rt, "ls -l /proc/$$/fd /proc/self/fd 2>/dev/null | grep -c memfd").output, "0\n");
  // The image's permissions hold: the user's /testbed yes, root's files no.
  EXPECT_EQ(Run(rt, "echo hi > /testbed/mine.txt && stat -c %u:%g /testbed/mine.txt").output, "1234:1234\n");
  EXPECT_NE(Run(rt, "echo x >> /etc/passwd").exit_code, 0);
  EXPECT_NE(Run(rt, "ls /root").exit_code, 0);
  // What r2e itself puts there is the user's.
  ASSERT_TRUE(rt.write_file("/testbed/made/by_r2e.txt", "x").ok());
  EXPECT_EQ(Run(rt, "stat -c %u:%g /testbed/made /testbed/made/by_r2e.txt /testbed/extra /testbed/extra/f.txt").output,
            "1234:1234\n1234:1234\n1234:1234\n1234:1234\n");
  // A killed session comes back as the same user.
  ExecOptions quick;
  quick.timeout = 10s;
  (void)rt.exec("kill -9 -1", quick);
  EXPECT_EQ(Run(rt, "id -u; cat /testbed/mine.txt").output, "1234\nhi\n");
}

INSTANTIATE_TEST_SUITE_P(Layers, LocalImageRuntimeTest, ::testing::Values(Layer::kOverlay, Layer::kCopy),
                         [](const auto& layer) { return layer.param == Layer::kOverlay ? "Overlay" : "Copy"; });

}  // namespace
}  // namespace r2e
