// Registry pulls against tests/registry/fake_registry.py on loopback (the
// faults a real registry cannot be made to show: 429, 503, bearer tokens,
// corrupt and truncated blobs, another platform only, redirects to storage),
// and reference parsing. The real registry (Debian's docker-registry, TLS and
// basic auth) is exercised by tests/cli/registry_test.py.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/spawn.h"
#include "image/registry_source.h"
#include "oci_layout.h"
#include "r2e/config.h"
#include "r2e/image_store.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using testing_oci::File;
using testing_oci::Layer;

TEST(RegistryReferenceTest, ReadsReferencesAsDockerDoes) {
  struct Case {
    const char* in;
    const char* canonical;
  };
  const Case cases[] = {
      {"ubuntu", "registry-1.docker.io/library/ubuntu:latest"},
      {"ubuntu:22.04", "registry-1.docker.io/library/ubuntu:22.04"},
      {"docker.io/library/python:3.11", "registry-1.docker.io/library/python:3.11"},
      {"swebench/sweb.eval.x86_64.django__django-11099:latest",
       "registry-1.docker.io/swebench/sweb.eval.x86_64.django__django-11099:latest"},
      {"127.0.0.1:5000/r2e-demo/textstats", "127.0.0.1:5000/r2e-demo/textstats:latest"},
      {"localhost/a/b:v1", "localhost/a/b:v1"},
      {"ghcr.io/org/img@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "ghcr.io/org/img@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
  };
  for (const Case& c : cases) {
    auto ref = image::ParseRegistryReference(c.in);
    ASSERT_TRUE(ref.ok()) << c.in << ": " << ref.status().ToString();
    EXPECT_EQ(ref->Canonical(), c.canonical) << c.in;
  }
  for (const char* bad : {"", "UPPER/case", "a//b", "host:5000/", "name@sha256:short", "name:", "with space"}) {
    auto ref = image::ParseRegistryReference(bad);
    EXPECT_EQ(ref.status().code(), StatusCode::kInvalidArgument) << "\"" << bad << "\" was accepted";
  }
}

class FakeRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path script = fs::path(R2E_SOURCE_DIR) / "tests" / "registry" / "fake_registry.py";
    if (!fs::exists(script)) {
      skip_ = script.string() + " is missing";
      return;
    }
    char tmpl[] = "/tmp/r2e-registry-test-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      skip_ = "no temporary directory";
      return;
    }
    dir_ = new fs::path(tmpl);
    // Two layers, the second gzipped, so several blobs and both encodings pass.
    std::vector<testing_oci::Member> many;
    for (int i = 0; i < 50; ++i) many.push_back(File("data/f" + std::to_string(i), std::string(3000, 'a' + i % 26)));
    testing_oci::WriteLayout(*dir_ / "layout", {Layer(many), Layer({File("top.txt", "top\n")}, /*gzip=*/true)});
    const fs::path port_file = *dir_ / "port";
    internal::SpawnOptions spawn;
    spawn.argv = {"python3", script.string(), "--port", "0", "--port-file", port_file.string(), "--blobs-from",
                  (*dir_ / "layout").string()};
    spawn.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
    spawn.stdin_dev_null = true;
    pid_ = internal::SpawnProcess(spawn);
    if (pid_ < 0) {
      skip_ = "cannot start python3";
      return;
    }
    for (int i = 0; i < 100 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(port_file);
    int port = 0;
    in >> port;
    if (port <= 0) {
      skip_ = "the fake registry did not start";
      return;
    }
    host_ = new std::string("127.0.0.1:" + std::to_string(port));
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (dir_ != nullptr) {
      ImageStoreOptions o;
      o.cache_dir = *dir_ / "cache";
      (void)ImageStore(o).Prune(0);
      std::error_code ec;
      fs::remove_all(*dir_, ec);
    }
    delete dir_;
    delete host_;
    dir_ = nullptr;
    host_ = nullptr;
  }
  void SetUp() override {
    if (!R2E_WITH_REGISTRY) GTEST_SKIP() << "built without R2E_WITH_REGISTRY";
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    options_.cache_dir = *dir_ / ("cache-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    options_.registry.initial_backoff = std::chrono::milliseconds(50);
    options_.registry.max_attempts = 4;
  }
  void TearDown() override {
    if (dir_ != nullptr) (void)ImageStore(options_).Prune(0);
  }
  Result<ImageInfo> Pull(const std::string& repository, const std::string& tag = ":latest") {
    return ImageStore(options_).Pull(*host_ + "/" + repository + tag);
  }
  void ExpectNothingUnpacked() {
    EXPECT_TRUE(fs::is_empty(options_.cache_dir / "images"));
    EXPECT_TRUE(fs::is_empty(options_.cache_dir / "tmp"));
  }

  static std::string skip_;
  static fs::path* dir_;
  static std::string* host_;
  static pid_t pid_;
  ImageStoreOptions options_;
};

std::string FakeRegistryTest::skip_;
fs::path* FakeRegistryTest::dir_ = nullptr;
std::string* FakeRegistryTest::host_ = nullptr;
pid_t FakeRegistryTest::pid_ = -1;

TEST_F(FakeRegistryTest, PullsOverPlainHttpOnLoopback) {
  auto info = Pull("fake/image");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(fs::exists(info->rootfs / "data" / "f49"));
  std::ifstream top(info->rootfs / "top.txt");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(top), {}), "top\n");
  // By digest, the same image.
  std::ifstream index(*dir_ / "layout" / "index.json");
  const auto manifest = nlohmann::json::parse(index)["manifests"][0]["digest"].get<std::string>();
  auto by_digest = Pull("fake/image", "@" + manifest);
  ASSERT_TRUE(by_digest.ok()) << by_digest.status().ToString();
  EXPECT_EQ(by_digest->id, info->id);
}

TEST_F(FakeRegistryTest, BearerTokensNeedTheCredentials) {
  auto anonymous = Pull("bearer/image");
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.status().code(), StatusCode::kFailedPrecondition) << anonymous.status().ToString();
  options_.registry.username = "r2e";
  options_.registry.password = "wrong";
  EXPECT_EQ(Pull("bearer/image").status().code(), StatusCode::kFailedPrecondition);
  options_.registry.password = "r2e-secret";
  auto with_options = Pull("bearer/image");
  ASSERT_TRUE(with_options.ok()) << with_options.status().ToString();
  // The same credentials from a Docker config file.
  ImageStore(options_).Prune(0).ok();
  options_.registry.username.clear();
  options_.registry.password.clear();
  const fs::path config = *dir_ / "docker-config.json";
  std::ofstream(config) << R"({"auths": {")" << *host_ << R"(": {"auth": "cjJlOnIyZS1zZWNyZXQ="}}})";
  options_.registry.docker_config = config;
  auto with_config = Pull("bearer/image");
  ASSERT_TRUE(with_config.ok()) << with_config.status().ToString();
}

TEST_F(FakeRegistryTest, RetriesRateLimitsAndServerErrors) {
  const auto t0 = std::chrono::steady_clock::now();
  auto limited = Pull("ratelimited/image");
  ASSERT_TRUE(limited.ok()) << limited.status().ToString();
  // Retry-After: 1 was honoured (twice for the first request at least).
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  auto flaky = Pull("flaky/image");
  ASSERT_TRUE(flaky.ok()) << flaky.status().ToString();
}

TEST_F(FakeRegistryTest, CorruptTruncatedAndMissingAreClearErrorsAndLeaveNothing) {
  auto corrupt = Pull("corrupt/image");
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), StatusCode::kInvalidArgument) << corrupt.status().ToString();
  ExpectNothingUnpacked();
  options_.registry.max_attempts = 2;
  auto truncated = Pull("truncated/image");
  ASSERT_FALSE(truncated.ok());
  ExpectNothingUnpacked();
  auto missing = Pull("missing/image");
  ASSERT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("MANIFEST_UNKNOWN"), std::string::npos) << missing.status().ToString();
  auto arm = Pull("armonly/image");
  ASSERT_EQ(arm.status().code(), StatusCode::kNotFound) << arm.status().ToString();
  EXPECT_NE(arm.status().message().find("linux/arm64"), std::string::npos) << arm.status().ToString();
  ExpectNothingUnpacked();
}

TEST_F(FakeRegistryTest, RedirectsToStorageAreFollowed) {
  auto info = Pull("redirect/image");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(fs::exists(info->rootfs / "top.txt"));
}

}  // namespace
}  // namespace r2e
