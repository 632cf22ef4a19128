// Inside KubeClient: what its translation units share. The retry, watch and
// exec logic is kube_client.cc (no Beast); the HTTPS wire (TLS, keep-alive
// connections, one request, one watch) is kube_transport.cc; the exec
// websocket is exec_websocket.cc. Only those two compile Beast.
#ifndef R2E_KUBE_CLIENT_IMPL_H_
#define R2E_KUBE_CLIENT_IMPL_H_

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/guarded.h"
#include "kube/api_status.h"
#include "kube/credentials.h"
#include "kube/kube_client.h"

namespace boost::asio::ssl {
class context;
}

namespace r2e::kube {

// Every exception becomes a Status: nothing may throw out of the client.
inline constexpr internal::Guard Guarded{"kube", "API server"};

// Where to connect and what name the certificate must carry.
struct Endpoint {
  std::string host;
  std::string port;
  std::string base_path;
  std::string server_name;  // tls-server-name or host
  std::string url;          // for messages
  std::string ca_origin;
  bool verify = true;
};

using TlsContext = std::shared_ptr<boost::asio::ssl::context>;

// The client's TLS context: the configuration's CA (else the system's) and
// client certificate. (kube_transport.cc)
Result<TlsContext> MakeTlsContext(const KubeConfig& c, const std::string& cert_pem, const std::string& key_pem);

// Whether `method` is an HTTP method (GET, POST, ...). (kube_transport.cc)
bool KnownMethod(const std::string& method);

// Opens an exec websocket to `target`, offering `protocols`, bounded by
// `deadline`. (exec_websocket.cc)
Result<std::unique_ptr<ExecStream>> OpenExecStream(const TlsContext& tls, const Endpoint& ep, const std::string& target,
                                                   const std::string& token, const std::vector<std::string>& protocols,
                                                   Clock::time_point deadline, const std::string& what);

// How one watch request ended: done (with `error` OK or not), ended by the
// server (resume), expired (list again), or failed in transport (retry).
enum class WatchEnd { kDone, kEnded, kExpired, kTransport };

// A keep-alive HTTPS connection. (kube_transport.cc)
struct HttpsConnection;

struct KubeClient::Impl {
  using Ms = std::chrono::milliseconds;

  Impl();
  ~Impl();

  ClientOptions options;
  Endpoint endpoint;
  std::unique_ptr<Credentials> creds;
  TlsContext tls;
  std::mutex pool_mu;
  std::vector<std::unique_ptr<HttpsConnection>> idle;
  mutable std::mutex stats_mu;
  Stats stats;
  std::mutex rng_mu;
  std::mt19937_64 rng{std::random_device{}()};

  void count(int Stats::*field) {
    std::lock_guard<std::mutex> lock(stats_mu);
    ++(stats.*field);
  }

  double random01() {
    std::lock_guard<std::mutex> lock(rng_mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }

  void sleep_backoff(int attempt, std::optional<Ms> retry_after = std::nullopt,
                     Clock::time_point limit = Clock::time_point::max()) {
    Ms d = retry_after ? std::min(*retry_after, options.retry.max_retry_after)
                       : Backoff(attempt, options.retry.initial_backoff, options.retry.max_backoff, random01());
    auto until = Clock::now() + d;
    if (until > limit) until = limit;
    std::this_thread::sleep_until(until);
  }

  // The rest is kube_transport.cc.

  std::unique_ptr<HttpsConnection> take_idle();
  void give_back(std::unique_ptr<HttpsConnection> c);
  Result<std::unique_ptr<HttpsConnection>> open(Clock::time_point deadline, const std::string& what);

  // One exchange; a reused connection the server had closed is replaced
  // once. `sent` tells whether the request may have reached the server.
  Result<HttpResult> roundtrip(const std::string& method, const std::string& target, const std::string& body,
                               const std::string& token, const std::string& what, bool& sent);

  // One watch request from resourceVersion `rv` (advanced as events come),
  // handing objects to `on_object` until it returns true or the deadline.
  WatchEnd watch_once(const std::string& collection, const std::string& query, std::string& rv,
                      Clock::time_point deadline, const ObjectFn& on_object, Status& error);
};

}  // namespace r2e::kube

#endif  // R2E_KUBE_CLIENT_IMPL_H_
