// The API client against the test API server: auth variants, TLS that fails
// closed, 401s, 429 storms and 5xx retries, watches that the server drops or
// expires.
#include <sys/stat.h>

#include "kube/pod.h"
#include "kube_test_util.h"

namespace r2e::kubetest {
namespace {

class KubeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(KubeDir() / "kubeconfig")) GTEST_SKIP() << "no test API server at " << KubeDir();
    ns_ = TestNamespace();
    tmp_ = fs::temp_directory_path() / ("r2e-kubeclient-" + internal::RandomHex(5));
    fs::create_directories(tmp_);
  }
  void TearDown() override {
    if (!ns_.empty() && fs::exists(KubeDir() / "kubeconfig")) server().ClearFaults(ns_);
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  Server& server() {
    if (!server_) server_ = std::make_unique<Server>();
    return *server_;
  }
  std::string ListPath() { return "/api/v1/namespaces/" + ns_ + "/pods"; }
  // A kubeconfig with the test server and CA, and `user` as the user entry body.
  std::string Kubeconfig(const std::string& user_yaml, const std::string& cluster_extra = "") {
    KubeConfig base = LoadTestConfig();
    std::string ca = ReadText(KubeDir() / "ca.crt");
    std::ofstream(tmp_ / "ca.crt") << ca;
    std::string text = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + base.server +
                       "\n    certificate-authority: ca.crt\n" + cluster_extra +
                       "users:\n- name: u\n  user:\n" + user_yaml +
                       "contexts:\n- name: x\n  context: {cluster: c, user: u, namespace: " + ns_ +
                       "}\ncurrent-context: x\n";
    const fs::path p = tmp_ / ("kubeconfig-" + internal::RandomHex(3));
    std::ofstream(p) << text;
    return p.string();
  }
  KubeConfig Load(const std::string& file) {
    KubeConfigLoadOptions o;
    o.kubeconfig = file;
    auto c = LoadKubeConfig(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : KubeConfig{};
  }
  std::string Token() { return std::string(internal::Trim(ReadText(KubeDir() / "token"))); }

  std::string ns_;
  fs::path tmp_;
  std::unique_ptr<Server> server_;
};

TEST_F(KubeClientTest, TokenAndClientCertificateAuth) {
  for (const char* file : {"kubeconfig", "kubeconfig-cert"}) {
    auto client = Client(LoadTestConfig(file, ns_));
    ASSERT_TRUE(client);
    auto list = client->call("GET", ListPath(), "list");
    ASSERT_TRUE(list.ok()) << file << ": " << list.status().ToString();
    EXPECT_EQ((*list)["kind"], "PodList");
    // Keep-alive: a second request reuses the connection.
    ASSERT_TRUE(client->call("GET", ListPath(), "list").ok());
    EXPECT_EQ(client->stats().connections_opened, 1) << file;
  }
}

TEST_F(KubeClientTest, ExecPluginAuth) {
  const fs::path plugin = tmp_ / "plugin.sh";
  std::ofstream(plugin) << "#!/bin/sh\nprintf '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                           "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}' \"$(cat \"$TOKEN_FILE\")\"\n";
  ::chmod(plugin.c_str(), 0755);
  std::string user = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./plugin.sh\n"
                     "      env: [{name: TOKEN_FILE, value: '" + (KubeDir() / "token").string() + "'}]\n";
  auto client = Client(Load(Kubeconfig(user)));
  ASSERT_TRUE(client);
  auto list = client->call("GET", ListPath(), "list");
  EXPECT_TRUE(list.ok()) << list.status().ToString();

  // A plugin that fails, or prints garbage, fails Create with a clear Status.
  std::ofstream(tmp_ / "fail.sh") << "#!/bin/sh\necho 'credentials expired, run login' >&2\nexit 1\n";
  std::ofstream(tmp_ / "garbage.sh") << "#!/bin/sh\necho 'SECRETISH-OUTPUT not json'\n";
  ::chmod((tmp_ / "fail.sh").c_str(), 0755);
  ::chmod((tmp_ / "garbage.sh").c_str(), 0755);
  kube::ClientOptions o;
  o.config = Load(Kubeconfig("    exec: {apiVersion: client.authentication.k8s.io/v1, command: ./fail.sh}\n"));
  auto failed = kube::KubeClient::Create(o);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("credentials expired"), std::string::npos) << failed.status().message();
  o.config = Load(Kubeconfig("    exec: {apiVersion: client.authentication.k8s.io/v1, command: ./garbage.sh}\n"));
  auto garbage = kube::KubeClient::Create(o);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().message().find("SECRETISH"), std::string::npos) << garbage.status().message();
}

TEST_F(KubeClientTest, RejectedTokenSaysSoWithoutTheToken) {
  const std::string bad = "expired-SECRET-token-0123";
  auto client = Client(Load(Kubeconfig("    token: " + bad + "\n")));
  ASSERT_TRUE(client);
  auto list = client->call("GET", ListPath(), "list");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(list.status().message().find("refused the credentials"), std::string::npos) << list.status().message();
  EXPECT_EQ(list.status().message().find(bad), std::string::npos);
  EXPECT_EQ(list.status().message().find(Token()), std::string::npos);
}

TEST_F(KubeClientTest, TokenFileIsReadAgainAfter401) {
  const fs::path token = tmp_ / "token";
  std::ofstream(token) << "stale-token\n";
  auto client = Client(Load(Kubeconfig("    tokenFile: token\n")));
  ASSERT_TRUE(client);
  auto first = client->call("GET", ListPath(), "list");
  EXPECT_FALSE(first.ok());
  std::ofstream(token, std::ios::trunc) << Token() << "\n";  // rotated
  auto second = client->call("GET", ListPath(), "list");
  EXPECT_TRUE(second.ok()) << second.status().ToString();
}

TEST_F(KubeClientTest, TlsFailsClosed) {
  // A CA that did not sign the server's certificate (the client certificate
  // is no CA at all).
  std::string client_crt = ReadText(KubeDir() / "client.crt");
  KubeConfig c = LoadTestConfig("kubeconfig", ns_);
  c.ca_pem = client_crt;
  c.ca_origin = "test CA";
  auto wrong_ca = Client(c, 1);
  ASSERT_TRUE(wrong_ca);
  auto r = wrong_ca->call("GET", ListPath(), "list");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("TLS verification"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find(Token()), std::string::npos);

  // The right CA, but a name the certificate does not carry.
  KubeConfig other = LoadTestConfig("kubeconfig", ns_);
  other.tls_server_name = "not-the-server.example";
  auto wrong_name = Client(other, 1);
  r = wrong_name->call("GET", ListPath(), "list");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("TLS verification"), std::string::npos) << r.status().message();

  // tls-server-name that the certificate does carry (localhost) works.
  KubeConfig named = LoadTestConfig("kubeconfig", ns_);
  named.tls_server_name = "localhost";
  EXPECT_TRUE(Client(named)->call("GET", ListPath(), "list").ok());

  // insecure-skip-tls-verify is the only way past a wrong CA.
  c.insecure_skip_tls_verify = true;
  EXPECT_TRUE(Client(c)->call("GET", ListPath(), "list").ok());

  // No CA at all: the system store does not know the test CA.
  KubeConfig none = LoadTestConfig("kubeconfig", ns_);
  none.ca_pem.clear();
  r = Client(none, 1)->call("GET", ListPath(), "list");
  EXPECT_FALSE(r.ok());
}

TEST_F(KubeClientTest, RetriesThrottlingAndServerErrors) {
  server().SetFaults({{"http_429", {{"count", 3}, {"retry_after", 0}, {"namespace", ns_}}},
                      {"http_500", {{"count", 2}, {"namespace", ns_}}}});
  auto client = Client(LoadTestConfig("kubeconfig", ns_), 8);
  auto r = client->call("GET", ListPath(), "list");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(client->stats().retries, 5);
}

TEST_F(KubeClientTest, A429StormEndsWithABoundedClearError) {
  server().SetFaults({{"http_429", {{"count", 1000}, {"retry_after", 1}, {"namespace", ns_}}}});
  auto client = Client(LoadTestConfig("kubeconfig", ns_), 3);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = client->call("GET", ListPath(), "list");
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("3 attempts"), std::string::npos) << r.status().message();
  EXPECT_EQ(client->stats().retries, 2);
  // Retry-After: 1 was honoured twice, and nothing more.
  EXPECT_GE(took, std::chrono::milliseconds(1900));
  EXPECT_LT(took, std::chrono::seconds(15));
}

TEST_F(KubeClientTest, WatchSurvivesDropsAndExpiry) {
  auto client = Client(LoadTestConfig("kubeconfig", ns_));
  ASSERT_TRUE(client);
  kube::PodIdentity id{"watched-" + internal::RandomHex(3), "u1", "t", "h", "1", "1", 0};
  KubeRuntimeOptions o;
  o.max_lifetime = std::chrono::seconds(300);
  o.workdir = "/";
  // Faults first: the first watches are dropped or expire (in-stream ERROR
  // 410 and HTTP 410), so the client must resume and list again.
  server().SetFaults({{"drop_watch", {{"count", 2}, {"namespace", ns_}}},
                      {"watch_410", {{"count", 2}, {"namespace", ns_}}}});
  auto created = client->call("POST", ListPath(), "create",
                              kube::BuildPodManifest(o, "r2e-test/base:bookworm", id, {}).dump(), false);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Status s = client->follow(ListPath(), "fieldSelector=metadata.name%3D" + id.name,
                            std::chrono::steady_clock::now() + std::chrono::seconds(90),
                            [](const Json& pod, bool deleted) -> Result<bool> {
                              auto c = kube::CheckPodStart(pod, deleted);
                              if (c.state == kube::PodCheck::kFailed) return c.error;
                              return c.state == kube::PodCheck::kRunning;
                            });
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto stats = client->stats();
  EXPECT_GE(stats.relists + stats.watch_reconnects, 1) << "relists " << stats.relists << " reconnects "
                                                       << stats.watch_reconnects;
  auto del = client->request("DELETE", ListPath() + "/" + id.name,
                             R"({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0})");
  ASSERT_TRUE(del.ok());
  // The watch sees it go.
  s = client->follow(ListPath(), "fieldSelector=metadata.name%3D" + id.name,
                     std::chrono::steady_clock::now() + std::chrono::seconds(60),
                     [](const Json&, bool deleted) -> Result<bool> { return deleted; });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(server().Pods(ns_).empty());
}

TEST_F(KubeClientTest, WatchDeadlineIsATimeout) {
  auto client = Client(LoadTestConfig("kubeconfig", ns_));
  const auto t0 = std::chrono::steady_clock::now();
  Status s = client->follow(ListPath(), "fieldSelector=metadata.name%3Dnever-there",
                            t0 + std::chrono::seconds(2), [](const Json&, bool) -> Result<bool> { return false; });
  EXPECT_EQ(s.code(), StatusCode::kTimeout) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

TEST_F(KubeClientTest, ExecOnMissingPodReportsTheServersMessage) {
  auto client = Client(LoadTestConfig("kubeconfig", ns_), 1);
  auto s = client->exec(ns_, "no-such-pod", "", {"true"}, std::chrono::seconds(10));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound) << s.status().ToString();
  EXPECT_NE(s.status().message().find("no-such-pod"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace r2e::kubetest
