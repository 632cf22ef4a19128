// Exec credential plugins: real scripts that print an ExecCredential, fail,
// hang or print garbage; the output (which may hold secrets) is never shown.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/text.h"
#include "kube/exec_credential.h"

namespace r2e::kube {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class ExecPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("r2e-execplugin-" + internal::RandomHex(6));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  KubeExecPlugin Script(const std::string& body) {
    fs::path p = dir_ / ("plugin-" + internal::RandomHex(3) + ".sh");
    std::ofstream(p) << "#!/bin/sh\n" << body;
    ::chmod(p.c_str(), 0755);
    KubeExecPlugin plugin;
    plugin.api_version = "client.authentication.k8s.io/v1";
    plugin.command = p.string();
    return plugin;
  }
  fs::path dir_;
};

TEST(ExecCredentialParse, TokenCertExpiryAndGarbage) {
  auto c = ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"abc","expirationTimestamp":"2030-01-02T03:04:05Z"}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->token, "abc");
  ASSERT_TRUE(c->expiry.has_value());
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*c->expiry), 1893553445);
  c = ParseExecCredential(
      R"({"kind":"ExecCredential","status":{"clientCertificateData":"-----BEGIN CERTIFICATE-----","clientKeyData":"-----BEGIN KEY-----"}})");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->token.empty());
  EXPECT_FALSE(ParseExecCredential(R"({"kind":"ExecCredential","status":{"clientKeyData":"k"}})").ok());
  EXPECT_FALSE(ParseExecCredential(R"({"kind":"ExecCredential","status":{}})").ok());
  EXPECT_FALSE(ParseExecCredential(R"({"kind":"ExecCredential"})").ok());
  EXPECT_FALSE(ParseExecCredential(R"({"kind":"Other","status":{"token":"t"}})").ok());
  EXPECT_FALSE(ParseExecCredential(R"({"kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"soon"}})").ok());
  auto garbage = ParseExecCredential("token=SECRET-VALUE");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().message().find("SECRET-VALUE"), std::string::npos);
}

TEST(ExecCredentialParse, Rfc3339) {
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*ParseRfc3339("1970-01-01T00:01:00Z")), 60);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*ParseRfc3339("1970-01-01T01:00:00.123+01:00")), 0);
  EXPECT_FALSE(ParseRfc3339("1970-01-01 00:00:00"));
  EXPECT_FALSE(ParseRfc3339("1970-13-01T00:00:00Z"));
}

// Found by the exec_credential fuzzer: system_clock's nanoseconds overflowed
// (UBSan) for years past 2261. Such times are clamped.
TEST(ExecCredentialParse, Rfc3339OutsideTheClocksRangeIsClamped) {
  using Clock = std::chrono::system_clock;
  EXPECT_EQ(*ParseRfc3339("4054-11-26T12:00:00Z"), Clock::time_point::max());
  EXPECT_EQ(*ParseRfc3339("9999-12-31T23:59:60-23:59"), Clock::time_point::max());
  EXPECT_EQ(*ParseRfc3339("0000-01-01T00:00:00+23:59"), Clock::time_point::min());
  EXPECT_EQ(Clock::to_time_t(*ParseRfc3339("2261-01-01T00:00:00Z")), 9183110400);
  auto far = ParseExecCredential(
      R"({"kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"4054-11-26T12:00:00.5Z"}})");
  ASSERT_TRUE(far.ok()) << far.status().ToString();
  EXPECT_EQ(far->expiry, Clock::time_point::max());
}

TEST_F(ExecPluginTest, PrintsACredential) {
  // The plugin sees its env and KUBERNETES_EXEC_INFO.
  KubeExecPlugin p = Script(
      "case \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) ;; *) exit 9;; esac\n"
      "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
      "\"status\":{\"token\":\"%s-%s\"}}' \"$PREFIX\" \"$1\"\n");
  p.args = {"arg1"};
  p.env = {{"PREFIX", "tok"}};
  auto c = RunExecPlugin(p, "https://h:1", milliseconds(10000));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->token, "tok-arg1");
}

TEST_F(ExecPluginTest, FailingPluginShowsItsStderr) {
  KubeExecPlugin p = Script("echo 'login required: run sso-login' >&2\nexit 3\n");
  auto c = RunExecPlugin(p, "https://h:1", milliseconds(10000));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("exited with 3"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("login required"), std::string::npos);
}

TEST_F(ExecPluginTest, GarbageIsRejectedWithoutShowingIt) {
  KubeExecPlugin p = Script("echo 'SECRET-TOKEN-abc not json'\n");
  auto c = RunExecPlugin(p, "https://h:1", milliseconds(10000));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().find("SECRET-TOKEN"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find(p.command), std::string::npos);
}

TEST_F(ExecPluginTest, MissingCommandAndHang) {
  KubeExecPlugin p;
  p.command = (dir_ / "no-such-plugin").string();
  p.install_hint = "install it from the vendor";
  auto c = RunExecPlugin(p, "https://h:1", milliseconds(10000));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("install it from the vendor"), std::string::npos) << c.status().message();

  KubeExecPlugin slow = Script("sleep 30 & wait\n");
  const auto t0 = std::chrono::steady_clock::now();
  c = RunExecPlugin(slow, "https://h:1", milliseconds(300));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("did not finish"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

}  // namespace
}  // namespace r2e::kube
