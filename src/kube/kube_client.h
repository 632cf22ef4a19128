// KubeClient: the Kubernetes API over HTTPS (Boost.Beast/Asio + OpenSSL),
// internal to r2e; KubeRuntime is the public face. The client's logic is
// kube_client.cc; all Beast/Asio code of the Kubernetes transport lives in
// kube_transport.cc (HTTPS) and exec_websocket.cc (exec).
//
// - TLS verification is on unless the kubeconfig says
//   insecure-skip-tls-verify: the server's certificate must chain to the
//   configured CA (else the system store) and name the host (or
//   tls-server-name), which is also sent as SNI. A mismatch fails closed.
// - Requests reuse idle keep-alive connections; each request is bounded by
//   request_timeout. 429 (honouring Retry-After), 5xx and connection errors
//   are retried with exponential backoff and jitter, up to
//   retry.max_attempts, for requests marked retryable (reads, deletes);
//   creates are retried by their caller, who can check whether the object
//   exists. A 401 first refreshes the credential (token file, exec plugin)
//   and tries once more.
// - Errors are Status values built from the server's Status bodies
//   (api_status.h). No token or key is ever part of a message.
//
// Thread-safety: a client may be used from many threads at once; every
// request, watch and exec has its own connection while it runs.
#ifndef R2E_KUBE_KUBE_CLIENT_H_
#define R2E_KUBE_KUBE_CLIENT_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/watch.h"
#include "r2e/kube_config.h"
#include "r2e/session.h"
#include "r2e/status.h"

namespace r2e::kube {

struct RetryPolicy {
  int max_attempts = 5;  // including the first
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
  // A server's Retry-After is honoured up to this long.
  std::chrono::milliseconds max_retry_after{std::chrono::seconds(60)};
};

struct ClientOptions {
  KubeConfig config;
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  RetryPolicy retry;
  // Exec subprotocols offered, in order of preference.
  std::vector<std::string> exec_protocols = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
  // Bound on running an exec credential plugin.
  std::chrono::milliseconds exec_plugin_timeout{std::chrono::seconds(30)};
};

struct HttpResult {
  int status = 0;
  std::string body;
  std::string retry_after;  // the header, if any
};

// One frame of an exec websocket: channel 1 stdout, 2 stderr, 3 status.
struct ExecFrame {
  int channel = -1;  // -1: end of stream
  std::string data;
};

// An exec websocket. As a ByteStream, writes go to stdin and reads return
// stdout and stderr merged; the status channel is recorded (exit_status()).
// close_write() sends the v5 stdin close and is a no-op on v4, which has no
// half-close (ShellSession does not use it). A dropped connection reads as
// end of stream.
class ExecStream : public ByteStream {
 public:
  // The subprotocol the server chose.
  virtual const std::string& protocol() const = 0;
  // The next frame (empty messages skipped); Timeout at the deadline, after
  // which the stream is still usable.
  virtual Result<ExecFrame> read_frame(Clock::time_point deadline) = 0;
  // After the status frame: the exit code or the exec's error; nullopt before.
  virtual std::optional<Result<int>> exit_status() const = 0;
};

// Outcome of a one-shot exec with separate output streams.
struct ExecRun {
  int exit_code = -1;
  std::string stdout_data;
  std::string stderr_data;
  bool timed_out = false;
  std::uint64_t dropped_bytes = 0;  // output beyond max_output, not kept
};

class KubeClient {
 public:
  // Builds the TLS context and the credential source; contacts nothing
  // except an exec credential plugin that supplies a client certificate.
  static Result<std::shared_ptr<KubeClient>> Create(ClientOptions options);
  ~KubeClient();

  const KubeConfig& config() const;

  // One request to `target` (path and query, below the server URL).
  // `retry`: retry 429/5xx/connection errors per the policy. The answer is
  // returned whatever its HTTP status.
  Result<HttpResult> request(const std::string& method, const std::string& target, const std::string& body = {},
                             bool retry = true);

  // request() whose success statuses are 2xx, with the answer's JSON;
  // other statuses become ApiStatus(...).
  Result<nlohmann::json> call(const std::string& method, const std::string& target, const std::string& what,
                              const std::string& body = {}, bool retry = true);

  // Follows the objects of a collection (`collection` is its path, `query`
  // a selector such as "fieldSelector=metadata.name%3Dx") until `on_object`
  // returns true or an error, or `deadline` passes (Timeout). It lists first
  // (on_object(obj, false) for each item, on_object(null, true) when there
  // are none), then watches from the list's resourceVersion, with bookmarks;
  // a watch that the server ends is resumed from the last resourceVersion,
  // one that fails with 410 Expired lists again, dropped connections are
  // retried with backoff. DELETED events call on_object(obj, true).
  using ObjectFn = std::function<Result<bool>(const nlohmann::json& object, bool deleted)>;
  Status follow(const std::string& collection, const std::string& query, Clock::time_point deadline,
                const ObjectFn& on_object);

  // Counters for tests and diagnostics.
  struct Stats {
    int connections_opened = 0;
    int retries = 0;
    int watch_reconnects = 0;
    int relists = 0;
  };
  Stats stats() const;

  // Opens an exec websocket to `argv` in the pod's container (stdin, stdout
  // and stderr attached, no tty). Non-101 answers are reported with the
  // server's message; a chosen subprotocol we did not offer is an error.
  Result<std::unique_ptr<ExecStream>> exec(const std::string& ns, const std::string& pod,
                                           const std::string& container, const std::vector<std::string>& argv,
                                           std::chrono::milliseconds timeout);

  // Runs argv with `input` on stdin (then stdin closed where the protocol
  // can; callers that need EOF on v4 must frame input themselves), returning
  // its output (each stream bounded by max_output bytes, the rest counted;
  // or, with `sink`, every chunk handed to it in arrival order instead) and
  // exit code. On `timeout`: timed_out, the connection dropped.
  using OutputSink = std::function<void(int channel, std::string_view data)>;
  Result<ExecRun> exec_run(const std::string& ns, const std::string& pod, const std::string& container,
                           const std::vector<std::string>& argv, const std::string& input,
                           std::chrono::milliseconds timeout, std::size_t max_output = std::size_t(1) << 30,
                           const OutputSink& sink = {});

 private:
  struct Impl;
  explicit KubeClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace r2e::kube

#endif  // R2E_KUBE_KUBE_CLIENT_H_
