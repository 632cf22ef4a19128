// Kubeconfig and in-cluster loading (r2e/kube_config.h): the variants kubectl
// reads, and clear errors for bad input that never show a secret.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/text.h"
#include "r2e/kube_config.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;

constexpr char kSecretToken[] = "tok-SECRET-4242-never-print";
// base64("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
constexpr char kPemB64[] = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFBQUEKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";
constexpr char kPem[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

class KubeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("r2e-kubeconfig-" + internal::RandomHex(6));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Write(const std::string& rel, const std::string& text) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  // Loads with an empty environment except what the test sets.
  KubeConfigLoadOptions Opts() {
    KubeConfigLoadOptions o;
    o.env_kubeconfig = "";
    o.env_home = "";
    o.env_service_host = "";
    o.env_service_port = "";
    return o;
  }
  fs::path dir_;
};

std::string TokenConfig(const std::string& extra_cluster = "", const std::string& user = "") {
  return std::string("apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443/\n"
                     "    certificate-authority-data: ") +
         kPemB64 + "\n" + extra_cluster +
         "- name: c2\n  cluster:\n    server: https://kube.example:443\n    insecure-skip-tls-verify: true\n"
         "    tls-server-name: api.internal\n"
         "users:\n- name: u1\n  user:\n    token: " +
         kSecretToken + "\n" + user +
         "contexts:\n- name: ctx1\n  context:\n    cluster: c1\n    user: u1\n    namespace: team\n"
         "- name: ctx2\n  context:\n    cluster: c2\n    user: u1\ncurrent-context: ctx1\n";
}

TEST_F(KubeConfigTest, TokenAndCaDataFromCurrentContext) {
  auto o = Opts();
  o.kubeconfig = Write("config", TokenConfig());
  auto c = LoadKubeConfig(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(c->ca_pem, kPem);
  EXPECT_EQ(c->token, kSecretToken);
  EXPECT_EQ(c->namespace_name, "team");
  EXPECT_EQ(c->context, "ctx1");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_FALSE(c->in_cluster);
}

TEST_F(KubeConfigTest, NamedContextAndNamespaceOverride) {
  auto o = Opts();
  o.kubeconfig = Write("config", TokenConfig());
  o.context = "ctx2";
  auto c = LoadKubeConfig(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://kube.example:443");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->tls_server_name, "api.internal");
  EXPECT_EQ(c->namespace_name, "default");  // ctx2 sets none
  o.namespace_name = "other";
  c = LoadKubeConfig(o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->namespace_name, "other");
}

TEST_F(KubeConfigTest, UnknownContextListsTheKnownOnes) {
  auto o = Opts();
  o.kubeconfig = Write("config", TokenConfig());
  o.context = "nope";
  auto c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("`nope`"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("ctx1, ctx2"), std::string::npos) << c.status().message();
}

TEST_F(KubeConfigTest, MissingAndMalformedFiles) {
  auto o = Opts();
  o.kubeconfig = (dir_ / "absent").string();
  auto c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("absent"), std::string::npos);

  o.kubeconfig = Write("bad", "clusters: [unclosed\n  - x: {");
  c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("not valid YAML"), std::string::npos) << c.status().message();

  o.kubeconfig = Write("list", "- a\n- b\n");
  c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);

  o.kubeconfig = Write("wrongtype", "clusters: 5\ncurrent-context: x\n");
  c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);

  o.kubeconfig = Write("nocontext", "clusters: []\n");
  c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("current-context"), std::string::npos);
}

TEST_F(KubeConfigTest, BadBase64IsNamedButNotShown) {
  const std::string bad = "not$base64-" + std::string(kSecretToken);
  auto o = Opts();
  o.kubeconfig = Write("config", "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
                                 "users:\n- name: u\n  user:\n    client-certificate-data: " + std::string(kPemB64) +
                                 "\n    client-key-data: " + bad +
                                 "\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n");
  auto c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("client-key-data"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("base64"), std::string::npos);
  EXPECT_EQ(c.status().message().find(kSecretToken), std::string::npos) << c.status().message();

  // Valid base64 that is not PEM.
  o.kubeconfig = Write("config2", "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
                                  "    certificate-authority-data: aGVsbG8=\n"
                                  "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n");
  c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("PEM"), std::string::npos) << c.status().message();
}

TEST_F(KubeConfigTest, CertificateWithoutKeyIsRejected) {
  auto o = Opts();
  o.kubeconfig = Write("config", "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
                                 "users:\n- name: u\n  user:\n    client-certificate-data: " + std::string(kPemB64) +
                                 "\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n");
  auto c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("without its key"), std::string::npos) << c.status().message();
}

TEST_F(KubeConfigTest, MissingClusterUserAndPlainHttp) {
  auto o = Opts();
  o.kubeconfig = Write("a", "contexts:\n- name: x\n  context: {cluster: gone, user: u}\ncurrent-context: x\n");
  auto c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("cluster `gone`"), std::string::npos) << c.status().message();

  o.kubeconfig = Write("b", "clusters:\n- name: c\n  cluster: {server: 'https://h:1'}\n"
                            "contexts:\n- name: x\n  context: {cluster: c, user: ghost}\ncurrent-context: x\n");
  c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("user `ghost`"), std::string::npos) << c.status().message();

  o.kubeconfig = Write("d", "clusters:\n- name: c\n  cluster: {server: 'http://h:1'}\n"
                            "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n");
  c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("https://"), std::string::npos) << c.status().message();
}

TEST_F(KubeConfigTest, RelativePathsAreRelativeToTheirFile) {
  Write("sub/ca.pem", kPem);
  Write("sub/client.crt", kPem);
  Write("sub/client.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  Write("sub/token", "  from-file\n");
  auto o = Opts();
  o.kubeconfig = Write("sub/config",
                       "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n    certificate-authority: ca.pem\n"
                       "users:\n- name: u\n  user:\n    client-certificate: client.crt\n    client-key: client.key\n"
                       "    tokenFile: token\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                       "      command: ./plugin.sh\n      args: [a, b]\n      env: [{name: K, value: V}]\n"
                       "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n");
  // Run from elsewhere: the paths must not depend on the working directory.
  auto c = LoadKubeConfig(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ca_pem, kPem);
  EXPECT_EQ(c->client_cert_pem, kPem);
  EXPECT_NE(c->client_key_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(c->token_file, (dir_ / "sub" / "token").string());
  ASSERT_TRUE(c->exec.has_value());
  EXPECT_EQ(c->exec->command, (dir_ / "sub" / "plugin.sh").string());
  EXPECT_EQ(c->exec->args, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(c->exec->env.size(), 1u);
  EXPECT_EQ(c->exec->env[0].first, "K");

  // An unreadable CA file is named.
  o.kubeconfig = Write("sub/config2", "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
                                      "    certificate-authority: missing.pem\n"
                                      "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n");
  c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("missing.pem"), std::string::npos) << c.status().message();
}

TEST_F(KubeConfigTest, KubeconfigListMergesFirstWins) {
  const std::string a = Write("a/config",
                              "clusters:\n- name: shared\n  cluster:\n    server: https://first:1\n"
                              "    certificate-authority: ca.pem\n"
                              "contexts:\n- name: one\n  context: {cluster: shared}\ncurrent-context: one\n");
  Write("a/ca.pem", kPem);
  const std::string b = Write("b/config",
                              "clusters:\n- name: shared\n  cluster: {server: 'https://second:2'}\n"
                              "- name: only-b\n  cluster: {server: 'https://b:3'}\n"
                              "users:\n- name: ub\n  user: {token: tb}\n"
                              "contexts:\n- name: two\n  context: {cluster: only-b, user: ub, namespace: nb}\n"
                              "current-context: two\n");
  auto o = Opts();
  o.env_kubeconfig = a + ":" + (dir_ / "does-not-exist").string() + ":" + b;
  auto c = LoadKubeConfig(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://first:1");  // first file's current-context and cluster
  EXPECT_EQ(c->ca_pem, kPem);                // relative to a/
  o.context = "two";
  c = LoadKubeConfig(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://b:3");
  EXPECT_EQ(c->token, "tb");
  EXPECT_EQ(c->namespace_name, "nb");

  o.env_kubeconfig = (dir_ / "x").string() + ":" + (dir_ / "y").string();
  c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
}

TEST_F(KubeConfigTest, HomeConfigThenInClusterThenNothing) {
  auto o = Opts();
  Write("home/.kube/config", TokenConfig());
  o.env_home = (dir_ / "home").string();
  auto c = LoadKubeConfig(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->context, "ctx1");

  o.env_home = (dir_ / "nohome").string();
  auto none = LoadKubeConfig(o);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("--kubeconfig"), std::string::npos);

  Write("sa/token", std::string(kSecretToken) + "\n");
  Write("sa/ca.crt", kPem);
  Write("sa/namespace", "ns-from-file\n");
  o.env_service_host = "10.0.0.1";
  o.env_service_port = "443";
  o.in_cluster_dir = (dir_ / "sa").string();
  c = LoadKubeConfig(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->in_cluster);
  EXPECT_EQ(c->server, "https://10.0.0.1:443");
  EXPECT_EQ(c->token_file, (dir_ / "sa" / "token").string());
  EXPECT_TRUE(c->token.empty());  // read when used, so rotation is seen
  EXPECT_EQ(c->ca_pem, kPem);
  EXPECT_EQ(c->namespace_name, "ns-from-file");

  o.env_service_host = "fd00::1";
  c = LoadKubeConfig(o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server, "https://[fd00::1]:443");

  fs::remove(dir_ / "sa" / "token");
  c = LoadKubeConfig(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("token"), std::string::npos);
}

TEST_F(KubeConfigTest, ConfigsArePerValueNotGlobal) {
  auto o = Opts();
  o.kubeconfig = Write("config", TokenConfig());
  auto a = LoadKubeConfig(o);
  o.context = "ctx2";
  auto b = LoadKubeConfig(o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->server, b->server);
  EXPECT_EQ(a->server, "https://127.0.0.1:6443");  // loading b changed nothing of a
}

}  // namespace
}  // namespace r2e
