// Shared helpers of the kube tests: where the test API server is, its fault
// switches and stats, a namespace per test so faults and leak checks of
// tests running in parallel do not mix.
#ifndef R2E_TESTS_KUBE_KUBE_TEST_UTIL_H_
#define R2E_TESTS_KUBE_KUBE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "kube/kube_client.h"
#include "r2e/kube_config.h"
#include "r2e/kube_runtime.h"

namespace r2e::kubetest {

namespace fs = std::filesystem;
using Json = nlohmann::json;

inline fs::path KubeDir() {
  const char* env = std::getenv("R2E_KUBE_DIR");
  return env && *env ? fs::path(env) : fs::path(R2E_KUBE_DIR);
}

inline std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

#define R2E_REQUIRE_KUBE()                                                                                 \
  do {                                                                                                     \
    if (!std::filesystem::exists(::r2e::kubetest::KubeDir() / "kubeconfig")) {                            \
      GTEST_SKIP() << "no test API server (" << ::r2e::kubetest::KubeDir()                                 \
                   << "/kubeconfig missing; scripts/test-apiserver.sh start DIR and set R2E_KUBE_DIR=DIR)"; \
    }                                                                                                      \
  } while (0)

// A fresh namespace name per test.
inline std::string TestNamespace() { return "t-" + internal::RandomHex(5); }

inline KubeConfig LoadTestConfig(const std::string& file = "kubeconfig", const std::string& ns = "") {
  KubeConfigLoadOptions o;
  o.kubeconfig = (KubeDir() / file).string();
  o.namespace_name = ns;
  auto c = LoadKubeConfig(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : KubeConfig{};
}

inline std::shared_ptr<kube::KubeClient> Client(const KubeConfig& c, int attempts = 5) {
  kube::ClientOptions o;
  o.config = c;
  o.retry.max_attempts = attempts;
  o.retry.initial_backoff = std::chrono::milliseconds(50);
  o.retry.max_backoff = std::chrono::milliseconds(500);
  o.request_timeout = std::chrono::seconds(20);
  auto client = kube::KubeClient::Create(o);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? *client : nullptr;
}

// Admin access to the server (its own endpoints under /r2e-test/).
class Server {
 public:
  Server() : client_(Client(LoadTestConfig(), 1)) {}
  void SetFaults(const Json& faults) {
    auto r = client_->request("POST", "/r2e-test/faults", faults.dump(), false);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_LT(r->status, 300) << r->body;
  }
  // Clears the faults of one namespace only (others' tests run meanwhile).
  void ClearFaults(const std::string& ns) { client_->request("DELETE", "/r2e-test/faults?namespace=" + ns, "", false); }
  Json Stats() {
    auto r = client_->call("GET", "/r2e-test/stats", "stats");
    return r.ok() ? *r : Json();
  }
  // Pods in `ns` (names).
  std::vector<std::string> Pods(const std::string& ns) {
    std::vector<std::string> names;
    auto r = client_->call("GET", "/api/v1/namespaces/" + ns + "/pods", "list");
    if (!r.ok()) return {"<list failed: " + r.status().ToString() + ">"};
    for (const Json& p : r->value("items", Json::array())) names.push_back(p["metadata"]["name"].get<std::string>());
    return names;
  }
  std::shared_ptr<kube::KubeClient> client() { return client_; }

 private:
  std::shared_ptr<kube::KubeClient> client_;
};

// Runtime options for tests: the test server, a namespace, short bounds.
inline KubeRuntimeOptions TestRuntimeOptions(const std::string& ns, const std::string& file = "kubeconfig") {
  KubeRuntimeOptions o;
  o.load.kubeconfig = (KubeDir() / file).string();
  o.namespace_name = ns;
  o.initial_backoff = std::chrono::milliseconds(50);
  o.max_backoff = std::chrono::milliseconds(1000);
  o.start_timeout = std::chrono::seconds(120);
  o.delete_timeout = std::chrono::seconds(30);
  o.max_lifetime = std::chrono::seconds(900);
  o.workdir = "/";
  return o;
}

inline SandboxSpec BaseSpec() {
  SandboxSpec s;
  s.image = "r2e-test/base:bookworm";
  s.task_id = "kube-test";
  return s;
}

}  // namespace r2e::kubetest

#endif  // R2E_TESTS_KUBE_KUBE_TEST_UTIL_H_
