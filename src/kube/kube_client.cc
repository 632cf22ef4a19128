// KubeClient: the Kubernetes API over HTTPS and exec websockets. All
// Beast/Asio/SSL code of the Kubernetes transport is in this file (they are
// slow to compile). Every connection owns a private io_context driven by the
// calling thread: a synchronous facade over async operations, so each step
// obeys a deadline (HTTP: beast::tcp_stream expiry; websockets: running the
// io_context until the deadline, which leaves a read in flight usable).
#include <utility>  // before Asio: GCC 12 otherwise fails inside Asio headers

#include "kube/kube_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <random>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "core/guarded.h"
#include "session/pending_output.h"
#include "core/text.h"
#include "kube/api_status.h"
#include "kube/exec_credential.h"
#include "kube/kube_text.h"

namespace r2e::kube {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using Tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using ErrorCode = boost::system::error_code;
using Json = nlohmann::json;
using Ms = std::chrono::milliseconds;

constexpr std::size_t kMaxIdle = 8;
constexpr std::size_t kStdinChunk = 32 * 1024;

std::string PrettyMs(Ms d) { return std::to_string(d.count()) + " ms"; }

// Every exception becomes a Status: nothing may throw out of the client.
template <typename F>
auto Guarded(const std::string& what, F&& f) -> decltype(f()) {
  return internal::Guarded("kube", "API server", what, std::forward<F>(f));
}

// Runs `ioc` until `done` or the deadline; a deadline already passed polls
// what is ready without blocking. True when done.
bool Drive(asio::io_context& ioc, const bool& done, Clock::time_point deadline) {
  while (!done) {
    if (ioc.stopped()) ioc.restart();
    if (Clock::now() >= deadline) {
      ioc.poll();
      return done;
    }
    if (ioc.run_one_until(deadline) == 0 && !done && ioc.stopped() && Clock::now() < deadline) {
      return false;  // no work left and not done: nothing will complete it
    }
  }
  return true;
}

bool IsIpLiteral(const std::string& host) {
  ErrorCode ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

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

// The bearer token source: fixed, a (rotating) file, or an exec plugin.
class Credentials {
 public:
  Credentials(const KubeConfig& c, Ms plugin_timeout) : config_(c), plugin_timeout_(plugin_timeout) {}

  bool refreshable() const { return config_.token.empty() && (!config_.token_file.empty() || config_.exec); }

  // The token for the Authorization header ("" for none). `force` re-reads
  // the file or re-runs the plugin now (after a 401).
  Result<std::string> token(bool force) {
    if (!config_.token.empty()) return config_.token;
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = Clock::now();
    if (!config_.token_file.empty()) {
      // Re-read a minute after the last read at the latest: the file rotates.
      if (force || !loaded_ || now - loaded_at_ > std::chrono::seconds(60)) {
        std::FILE* f = std::fopen(config_.token_file.c_str(), "rb");
        if (!f) return Status::FailedPrecondition("cannot read the token file " + config_.token_file);
        std::string t;
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) t.append(buf, n);
        std::fclose(f);
        cached_ = std::string(internal::Trim(t));
        loaded_ = true;
        loaded_at_ = now;
      }
      return cached_;
    }
    if (config_.exec) {
      const bool expired = expiry_ && std::chrono::system_clock::now() + std::chrono::seconds(10) >= *expiry_;
      if (force || !loaded_ || expired) {
        R2E_ASSIGN_OR_RETURN(ExecCredential c, RunExecPlugin(*config_.exec, config_.server, plugin_timeout_));
        cached_ = c.token;
        expiry_ = c.expiry;
        loaded_ = true;
        loaded_at_ = now;
      }
      return cached_;
    }
    return std::string();
  }

  // The first plugin run, which may supply a client certificate.
  Result<ExecCredential> first_exec() {
    R2E_ASSIGN_OR_RETURN(ExecCredential c, RunExecPlugin(*config_.exec, config_.server, plugin_timeout_));
    std::lock_guard<std::mutex> lock(mu_);
    cached_ = c.token;
    expiry_ = c.expiry;
    loaded_ = true;
    loaded_at_ = Clock::now();
    return c;
  }

 private:
  const KubeConfig& config_;
  Ms plugin_timeout_;
  std::mutex mu_;
  bool loaded_ = false;
  std::string cached_;
  Clock::time_point loaded_at_;
  std::optional<std::chrono::system_clock::time_point> expiry_;
};

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

Result<std::shared_ptr<ssl::context>> MakeTlsContext(const KubeConfig& c, const std::string& cert_pem,
                                                     const std::string& key_pem) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ErrorCode ec;
  if (c.insecure_skip_tls_verify) {
    ctx->set_verify_mode(ssl::verify_none);
  } else {
    ctx->set_verify_mode(ssl::verify_peer);
    if (!c.ca_pem.empty()) {
      ctx->add_certificate_authority(asio::buffer(c.ca_pem), ec);
      if (ec) {
        return Status::InvalidArgument("the certificate authority of " + c.ca_origin +
                                       " is not a valid PEM certificate: " + ec.message());
      }
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) return Status::Internal("cannot load the system's certificate authorities: " + ec.message());
    }
  }
  if (!cert_pem.empty()) {
    ctx->use_certificate_chain(asio::buffer(cert_pem), ec);
    if (ec) return Status::InvalidArgument("the client certificate is not a valid PEM certificate");
    ctx->use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
    if (ec) return Status::InvalidArgument("the client key is not a valid PEM private key or does not match the certificate");
    ERR_clear_error();
  }
  return ctx;
}

// Resolves, connects and runs the TLS handshake (SNI, host name check) on
// `stream`, bounded by `deadline`.
Status ConnectTls(asio::io_context& ioc, TlsStream& stream, const Endpoint& ep, Clock::time_point deadline,
                  const std::string& what) {
  // Resolve (async, so the deadline holds even for a hanging resolver).
  Tcp::resolver resolver(ioc);
  bool resolved = false;
  ErrorCode rec;
  Tcp::resolver::results_type results;
  resolver.async_resolve(ep.host, ep.port, [&](ErrorCode e, Tcp::resolver::results_type r) {
    rec = e;
    results = std::move(r);
    resolved = true;
  });
  if (!Drive(ioc, resolved, deadline)) {
    resolver.cancel();
    Drive(ioc, resolved, Clock::now() + std::chrono::seconds(5));
    return Status::Unavailable("kube " + what + ": resolving " + ep.host + " timed out");
  }
  if (rec) return Status::Unavailable("kube " + what + ": cannot resolve " + ep.host + ": " + rec.message());

  auto& tcp = beast::get_lowest_layer(stream);
  tcp.expires_at(deadline);
  bool connected = false;
  ErrorCode cec;
  tcp.async_connect(results, [&](ErrorCode e, const Tcp::endpoint&) {
    cec = e;
    connected = true;
  });
  Drive(ioc, connected, Clock::time_point::max());
  if (cec) {
    return Status::Unavailable("kube " + what + ": cannot connect to the API server at " + ep.url + ": " +
                               (cec == beast::error::timeout ? std::string("timed out") : cec.message()));
  }
  ErrorCode nd;
  tcp.socket().set_option(Tcp::no_delay(true), nd);

  SSL* ssl_handle = stream.native_handle();
  if (!IsIpLiteral(ep.server_name)) SSL_set_tlsext_host_name(ssl_handle, ep.server_name.c_str());
  if (ep.verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = IsIpLiteral(ep.server_name) ? X509_VERIFY_PARAM_set1_ip_asc(param, ep.server_name.c_str())
                                         : X509_VERIFY_PARAM_set1_host(param, ep.server_name.c_str(), 0);
    if (ok != 1) return Status::InvalidArgument("kube " + what + ": bad TLS server name " + ep.server_name);
  }
  bool shaken = false;
  ErrorCode hec;
  stream.async_handshake(ssl::stream_base::client, [&](ErrorCode e) {
    hec = e;
    shaken = true;
  });
  Drive(ioc, shaken, Clock::time_point::max());
  if (hec) {
    const long verify = SSL_get_verify_result(ssl_handle);
    OpenSslErrors();  // clear the queue
    if (ep.verify && verify != X509_V_OK) {
      // Verification failed: fail closed, with what to check.
      return Status::FailedPrecondition(
          "kube " + what + ": the API server at " + ep.url + " failed TLS verification (" +
          X509_verify_cert_error_string(verify) + "); its certificate must chain to the certificate authority of " +
          ep.ca_origin + " and name " + ep.server_name);
    }
    return Status::Unavailable("kube " + what + ": TLS handshake with " + ep.url + " failed: " +
                               (hec == beast::error::timeout ? std::string("timed out") : hec.message()));
  }
  return Status::OK();
}

// One keep-alive HTTPS connection; used by one thread at a time.
struct Connection {
  Connection(std::shared_ptr<ssl::context> c) : ctx(std::move(c)), stream(ioc, *ctx) {}

  template <typename Start>
  ErrorCode run(Clock::time_point deadline, Start&& start) {
    beast::get_lowest_layer(stream).expires_at(deadline);
    bool done = false;
    ErrorCode result;
    start([&](ErrorCode e, std::size_t) {
      result = e;
      done = true;
    });
    Drive(ioc, done, Clock::time_point::max());  // the stream's expiry ends it by the deadline
    return result;
  }

  asio::io_context ioc;
  std::shared_ptr<ssl::context> ctx;
  TlsStream stream;
  beast::flat_buffer buffer;
};

// An exec websocket (see ExecStream in the header).
class WsExecStream final : public ExecStream {
 public:
  explicit WsExecStream(std::shared_ptr<ssl::context> ctx) : ctx_(std::move(ctx)), ws_(ioc_, *ctx_) {}

  ~WsExecStream() override {
    ErrorCode ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

  Status open(const Endpoint& ep, const std::string& target, const std::string& token,
              const std::vector<std::string>& protocols, Clock::time_point deadline, const std::string& what) {
    R2E_RETURN_IF_ERROR(ConnectTls(ioc_, ws_.next_layer(), ep, deadline, what));
    std::string offer;
    for (const auto& p : protocols) offer += (offer.empty() ? "" : ", ") + p;
    ws_.set_option(websocket::stream_base::decorator([offer, token](websocket::request_type& req) {
      req.set(http::field::user_agent, "r2e");
      req.set(http::field::sec_websocket_protocol, offer);
      if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    }));
    websocket::stream_base::timeout t{};
    t.handshake_timeout = websocket::stream_base::none();
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.binary(true);
    ws_.read_message_max(64u << 20);
    beast::get_lowest_layer(ws_).expires_at(deadline);
    websocket::response_type res;
    bool done = false;
    ErrorCode ec;
    const std::string host = ep.host.find(':') != std::string::npos ? "[" + ep.host + "]:" + ep.port
                                                                     : ep.host + ":" + ep.port;
    ws_.async_handshake(res, host, target, [&](ErrorCode e) {
      ec = e;
      done = true;
    });
    Drive(ioc_, done, Clock::time_point::max());
    beast::get_lowest_layer(ws_).expires_never();
    if (ec) {
      if (ec == websocket::error::upgrade_declined) {
        // The server's Status body says why (pod not found, not running, forbidden, ...).
        const int code = static_cast<int>(res.result_int());
        Status s = ApiStatus(code, res.body(), what);
        if (!s.ok()) return s;
        return Status::Unavailable("kube " + what + ": the API server answered HTTP " + std::to_string(code) +
                                   " instead of upgrading to a websocket");
      }
      return Status::Unavailable("kube " + what + ": websocket handshake failed: " +
                                 (ec == beast::error::timeout ? std::string("timed out") : ec.message()));
    }
    // Beast does not check the chosen subprotocol: do it here.
    protocol_ = std::string(res[http::field::sec_websocket_protocol]);
    if (std::find(protocols.begin(), protocols.end(), protocol_) == protocols.end()) {
      return Status::Unimplemented("kube " + what + ": the API server chose exec subprotocol `" + protocol_ +
                                   "`, which r2e did not offer (offered: " + offer + ")");
    }
    return Status::OK();
  }

  const std::string& protocol() const override { return protocol_; }

  std::optional<Result<int>> exit_status() const override { return exit_; }

  Result<ExecFrame> read_frame(Clock::time_point deadline) override {
    for (;;) {
      if (closed_) return Status::Cancelled("kube exec stream was closed");
      if (eof_) return ExecFrame{};
      if (!read_pending_) {
        rbuf_.clear();
        read_done_ = false;
        read_pending_ = true;
        ws_.async_read(rbuf_, [this](ErrorCode e, std::size_t) {
          read_ec_ = e;
          read_done_ = true;
        });
      }
      if (!Drive(ioc_, read_done_, deadline)) {
        if (closed_) return Status::Cancelled("kube exec stream was closed");
        return Status::Timeout("kube exec: no output before the deadline");
      }
      read_pending_ = false;
      if (read_ec_) {
        // A close frame, a TLS truncation after the status message, or a
        // dropped connection: all end the stream.
        eof_ = true;
        error_ = read_ec_.message();
        if (closed_) return Status::Cancelled("kube exec stream was closed");
        return ExecFrame{};
      }
      std::string msg = beast::buffers_to_string(rbuf_.data());
      rbuf_.consume(rbuf_.size());
      if (msg.empty()) continue;  // servers may send an empty message first
      ExecFrame f;
      f.channel = static_cast<unsigned char>(msg[0]);
      f.data = msg.substr(1);
      if (f.channel == 3) exit_ = ParseExecStatus(f.data);
      return f;
    }
  }

  Status write(std::string_view data, Clock::time_point deadline) override {
    for (std::size_t off = 0; off < data.size() || (data.empty() && off == 0); off += kStdinChunk) {
      std::string msg(1, '\0');
      msg.append(data.substr(off, kStdinChunk));
      R2E_RETURN_IF_ERROR(send(msg, deadline));
      if (data.empty()) break;
    }
    return Status::OK();
  }

  Result<std::size_t> read_some(char* buf, std::size_t size, Clock::time_point deadline) override {
    if (size == 0) return std::size_t{0};
    for (;;) {
      if (!out_.empty()) return out_.take(buf, size);
      R2E_ASSIGN_OR_RETURN(ExecFrame f, read_frame(deadline));
      if (f.channel < 0) return std::size_t{0};
      if (f.channel == 1 || f.channel == 2) out_.buffer() = std::move(f.data);
    }
  }

  void close_write() override {
    // v5 closes stdin with a message on channel 255; v4 has no half-close.
    if (protocol_ == "v5.channel.k8s.io" && !eof_ && !closed_) {
      send(std::string("\xff\x00", 2), Clock::now() + std::chrono::seconds(10));
    }
  }

  void close() override {
    if (closed_.exchange(true)) return;
    // May run on another thread than the one driving the io_context: the
    // socket is closed on the io_context, which wakes a blocked read.
    asio::post(ioc_, [this] {
      ErrorCode ec;
      beast::get_lowest_layer(ws_).socket().close(ec);
    });
  }

 private:
  Status send(const std::string& msg, Clock::time_point deadline) {
    if (closed_) return Status::Cancelled("kube exec stream was closed");
    if (eof_) return Status::Unavailable("kube exec stream has ended" + (error_.empty() ? "" : ": " + error_));
    bool done = false;
    ErrorCode ec;
    ws_.async_write(asio::buffer(msg), [&](ErrorCode e, std::size_t) {
      ec = e;
      done = true;
    });
    if (!Drive(ioc_, done, deadline)) {
      ErrorCode ignored;
      beast::get_lowest_layer(ws_).socket().close(ignored);
      Drive(ioc_, done, Clock::time_point::max());  // the handler refers to locals
      eof_ = true;
      return Status::Timeout("kube exec: writing to stdin timed out");
    }
    if (ec) {
      if (closed_) return Status::Cancelled("kube exec stream was closed");
      return Status::Unavailable("kube exec: writing to stdin failed: " + ec.message());
    }
    return Status::OK();
  }

  asio::io_context ioc_;
  std::shared_ptr<ssl::context> ctx_;
  websocket::stream<TlsStream> ws_;
  beast::flat_buffer rbuf_;
  bool read_pending_ = false;
  bool read_done_ = false;
  ErrorCode read_ec_;
  bool eof_ = false;
  std::string error_;
  internal::PendingOutput out_;  // a message's payload not yet returned
  std::optional<Result<int>> exit_;
  std::string protocol_;
  std::atomic<bool> closed_{false};
};

enum class WatchEnd { kDone, kEnded, kExpired, kTransport };

}  // namespace

struct KubeClient::Impl {
  ClientOptions options;
  Endpoint endpoint;
  std::unique_ptr<Credentials> creds;
  std::shared_ptr<ssl::context> tls;
  std::mutex pool_mu;
  std::vector<std::unique_ptr<Connection>> idle;
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

  std::unique_ptr<Connection> take_idle() {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (idle.empty()) return nullptr;
    auto c = std::move(idle.back());
    idle.pop_back();
    return c;
  }

  void give_back(std::unique_ptr<Connection> c) {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (idle.size() < kMaxIdle) idle.push_back(std::move(c));
  }

  Result<std::unique_ptr<Connection>> open(Clock::time_point deadline, const std::string& what) {
    auto c = std::make_unique<Connection>(tls);
    R2E_RETURN_IF_ERROR(ConnectTls(c->ioc, c->stream, endpoint, deadline, what));
    count(&Stats::connections_opened);
    return c;
  }

  http::request<http::string_body> make_request(http::verb method, const std::string& target,
                                                const std::string& body, const std::string& token) const {
    http::request<http::string_body> req{method, endpoint.base_path + target, 11};
    req.set(http::field::host, endpoint.host.find(':') != std::string::npos
                                   ? "[" + endpoint.host + "]:" + endpoint.port
                                   : endpoint.host + ":" + endpoint.port);
    req.set(http::field::user_agent, "r2e");
    req.set(http::field::accept, "application/json");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    return req;
  }

  // One exchange; a reused connection the server had closed is replaced
  // once. `sent` tells whether the request may have reached the server.
  Result<HttpResult> roundtrip(http::verb method, const std::string& target, const std::string& body,
                               const std::string& token, const std::string& what, bool& sent) {
    const auto deadline = Clock::now() + options.request_timeout;
    sent = false;
    for (int fresh = 0; fresh < 2; ++fresh) {
      std::unique_ptr<Connection> conn = fresh == 0 ? take_idle() : nullptr;
      const bool reused = conn != nullptr;
      if (!conn) {
        R2E_ASSIGN_OR_RETURN(conn, open(deadline, what));
      }
      auto req = make_request(method, target, body, token);
      ErrorCode wec = conn->run(deadline, [&](auto h) { http::async_write(conn->stream, req, std::move(h)); });
      http::response_parser<http::string_body> parser;
      parser.body_limit(256u << 20);
      ErrorCode rec;
      if (!wec || wec != beast::error::timeout) {
        rec = conn->run(deadline, [&](auto h) { http::async_read(conn->stream, conn->buffer, parser, std::move(h)); });
      }
      if (!rec && parser.is_done()) {
        sent = true;
        auto& res = parser.get();
        HttpResult r{static_cast<int>(res.result_int()), std::move(res.body()), ""};
        if (auto it = res.find(http::field::retry_after); it != res.end()) r.retry_after = std::string(it->value());
        if (res.keep_alive()) give_back(std::move(conn));
        return r;
      }
      const ErrorCode ec = rec ? rec : wec;
      if (reused && !parser.got_some() && ec != beast::error::timeout) continue;  // stale keep-alive connection
      sent = true;
      if (ec == beast::error::timeout) {
        return Status::Unavailable("kube " + what + ": no answer from the API server at " + endpoint.url +
                                   " within " + PrettyMs(options.request_timeout));
      }
      return Status::Unavailable("kube " + what + ": connection to the API server at " + endpoint.url +
                                 " failed: " + ec.message());
    }
    return Status::Unavailable("kube " + what + ": the API server keeps closing connections");
  }

  WatchEnd watch_once(const std::string& collection, const std::string& query, std::string& rv,
                      Clock::time_point deadline, const ObjectFn& on_object, Status& error) {
    const auto now = Clock::now();
    const long long left_s =
        std::chrono::duration_cast<std::chrono::seconds>(deadline - now).count() + 1;
    const long long window = std::clamp<long long>(left_s, 1, 300);
    // The server ends the watch after `window`; a silent server is given a
    // little longer before the connection counts as dead.
    const auto conn_deadline = std::min(deadline, now + std::chrono::seconds(window + 30));
    std::string target = collection + "?" + query + (query.empty() ? "" : "&") +
                         "watch=true&allowWatchBookmarks=true&timeoutSeconds=" + std::to_string(window);
    if (!rv.empty()) target += "&resourceVersion=" + QueryEscape(rv);
    const std::string what = "watch " + collection;
    auto token = creds->token(false);
    if (!token.ok()) {
      error = token.status();
      return WatchEnd::kDone;
    }
    auto conn = open(std::min(conn_deadline, now + options.request_timeout), what);
    if (!conn.ok()) {
      error = conn.status();
      return error.code() == StatusCode::kUnavailable ? WatchEnd::kTransport : WatchEnd::kDone;
    }
    Connection& c = **conn;
    auto req = make_request(http::verb::get, target, {}, *token);
    if (ErrorCode ec = c.run(conn_deadline, [&](auto h) { http::async_write(c.stream, req, std::move(h)); })) {
      error = Status::Unavailable("kube " + what + ": " + ec.message());
      return WatchEnd::kTransport;
    }
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    if (ErrorCode ec = c.run(conn_deadline, [&](auto h) { http::async_read_header(c.stream, c.buffer, parser, std::move(h)); })) {
      if (Clock::now() >= deadline) {
        error = Status::Timeout("kube " + what + ": deadline passed");
        return WatchEnd::kDone;
      }
      error = Status::Unavailable("kube " + what + ": " + ec.message());
      return WatchEnd::kTransport;
    }
    const int status = static_cast<int>(parser.get().result_int());
    std::vector<char> buf(64 * 1024);
    std::string text;
    LineSplitter lines;
    std::vector<std::string> got;
    while (!parser.is_done()) {
      parser.get().body().data = buf.data();
      parser.get().body().size = buf.size();
      // read_some: an event must be handled when it arrives, not when the
      // buffer is full.
      ErrorCode ec =
          c.run(conn_deadline, [&](auto h) { http::async_read_some(c.stream, c.buffer, parser, std::move(h)); });
      if (ec == http::error::need_buffer) ec = {};
      const std::size_t n = buf.size() - parser.get().body().size;
      if (status != 200) {
        text.append(buf.data(), n);
        if (ec || text.size() > (1u << 20)) break;
        continue;
      }
      if (n > 0) {
        got.clear();
        if (Status s = lines.feed(std::string_view(buf.data(), n), got); !s.ok()) {
          error = s.WithContext("kube " + what);
          return WatchEnd::kDone;
        }
        for (const std::string& line : got) {
          auto ev = ParseWatchEvent(line);
          if (!ev.ok()) {
            error = ev.status().WithContext("kube " + what);
            return WatchEnd::kDone;
          }
          if (ev->type == "ERROR") {
            if (ev->error_code == 410) return WatchEnd::kExpired;
            error = ApiStatus(ev->error_code ? ev->error_code : 500, ev->object.dump(), what);
            if (Retryable(ev->error_code)) return WatchEnd::kTransport;
            return WatchEnd::kDone;
          }
          if (!ev->resource_version.empty()) rv = ev->resource_version;
          if (ev->type == "BOOKMARK") continue;
          auto r = on_object(ev->object, ev->type == "DELETED");
          if (!r.ok()) {
            error = r.status();
            return WatchEnd::kDone;
          }
          if (*r) {
            error = Status::OK();
            return WatchEnd::kDone;
          }
        }
      }
      if (ec) {
        if (Clock::now() >= deadline) {
          error = Status::Timeout("kube " + what + ": deadline passed");
          return WatchEnd::kDone;
        }
        // The server ended or dropped the stream: resume from rv.
        return ec == beast::error::timeout || ec == http::error::end_of_stream || ec == asio::error::eof ||
                       ec == ssl::error::stream_truncated
                   ? WatchEnd::kEnded
                   : WatchEnd::kTransport;
      }
    }
    if (status == 410) return WatchEnd::kExpired;
    if (status != 200) {
      error = ApiStatus(status, text, what);
      return Retryable(status) ? WatchEnd::kTransport : WatchEnd::kDone;
    }
    return WatchEnd::kEnded;
  }
};

KubeClient::KubeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KubeClient::~KubeClient() = default;

const KubeConfig& KubeClient::config() const { return impl_->options.config; }

KubeClient::Stats KubeClient::stats() const {
  std::lock_guard<std::mutex> lock(impl_->stats_mu);
  return impl_->stats;
}

Result<std::shared_ptr<KubeClient>> KubeClient::Create(ClientOptions options) {
  return Guarded("client", [&]() -> Result<std::shared_ptr<KubeClient>> {
    auto impl = std::make_unique<Impl>();
    impl->options = std::move(options);
    const KubeConfig& c = impl->options.config;
    R2E_ASSIGN_OR_RETURN(ServerUrl url, ParseServerUrl(c.server));
    impl->endpoint.host = url.host;
    impl->endpoint.port = url.port;
    impl->endpoint.base_path = url.base_path;
    impl->endpoint.server_name = c.tls_server_name.empty() ? url.host : c.tls_server_name;
    impl->endpoint.url = c.server;
    impl->endpoint.ca_origin = c.ca_origin.empty() ? "the system's trust store" : c.ca_origin;
    impl->endpoint.verify = !c.insecure_skip_tls_verify;
    if (impl->options.request_timeout.count() <= 0) impl->options.request_timeout = std::chrono::seconds(30);
    if (impl->options.retry.max_attempts < 1) impl->options.retry.max_attempts = 1;
    impl->creds = std::make_unique<Credentials>(impl->options.config, impl->options.exec_plugin_timeout);
    std::string cert = c.client_cert_pem;
    std::string key = c.client_key_pem;
    if (c.exec && c.token.empty() && c.token_file.empty()) {
      // Run the plugin now: it may supply the client certificate the TLS
      // context needs.
      R2E_ASSIGN_OR_RETURN(ExecCredential first, impl->creds->first_exec());
      if (!first.client_cert_pem.empty()) {
        cert = first.client_cert_pem;
        key = first.client_key_pem;
      }
    }
    R2E_ASSIGN_OR_RETURN(impl->tls, MakeTlsContext(c, cert, key));
    return std::shared_ptr<KubeClient>(new KubeClient(std::move(impl)));
  });
}

Result<HttpResult> KubeClient::request(const std::string& method, const std::string& target,
                                       const std::string& body, bool retry) {
  const std::string what = method + " " + target;
  return Guarded(what, [&]() -> Result<HttpResult> {
    http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) return Status::InvalidArgument("kube request: unknown method " + method);
    bool refreshed = false;
    for (int attempt = 0;; ++attempt) {
      const bool last = attempt + 1 >= impl_->options.retry.max_attempts;
      R2E_ASSIGN_OR_RETURN(std::string token, impl_->creds->token(refreshed));
      bool sent = false;
      auto r = impl_->roundtrip(verb, target, body, token, what, sent);
      if (!r.ok()) {
        // Without `retry`, only a request that never left may go again.
        if (!last && r.status().code() == StatusCode::kUnavailable && (retry || !sent)) {
          impl_->count(&Stats::retries);
          impl_->sleep_backoff(attempt);
          continue;
        }
        return r.status();
      }
      if (r->status == 401 && !refreshed && impl_->creds->refreshable()) {
        refreshed = true;  // a rotated token file or an expired plugin token
        continue;
      }
      // 429 means the server did not act on the request: safe to repeat.
      if (!last && (r->status == 429 || (retry && Retryable(r->status)))) {
        impl_->count(&Stats::retries);
        impl_->sleep_backoff(attempt, ParseRetryAfter(r->retry_after));
        continue;
      }
      return r;
    }
  });
}

Result<nlohmann::json> KubeClient::call(const std::string& method, const std::string& target,
                                        const std::string& what, const std::string& body, bool retry) {
  R2E_ASSIGN_OR_RETURN(HttpResult r, request(method, target, body, retry));
  if (r.status < 200 || r.status >= 300) {
    Status s = ApiStatus(r.status, r.body, what);
    if (r.status == 429) {
      return Status::ResourceExhausted(s.message() + " (still throttled after " +
                                       std::to_string(impl_->options.retry.max_attempts) + " attempts)");
    }
    return s;
  }
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded()) {
    return Status::Internal("kube " + what + ": the API server's answer is not JSON: " + r.body.substr(0, 200));
  }
  return j;
}

Status KubeClient::follow(const std::string& collection, const std::string& query, Clock::time_point deadline,
                          const ObjectFn& on_object) {
  const std::string what = "watch " + collection;
  return Guarded(what, [&]() -> Status {
    int transport_failures = 0;
    for (;;) {
      // List: the current state, and the resourceVersion to watch from.
      if (Clock::now() >= deadline) return Status::Timeout("kube " + what + ": deadline passed");
      auto list = call("GET", collection + (query.empty() ? "" : "?" + query), "list " + collection);
      if (!list.ok()) {
        if (list.status().code() == StatusCode::kUnavailable && ++transport_failures < impl_->options.retry.max_attempts * 4) {
          impl_->sleep_backoff(transport_failures, std::nullopt, deadline);
          continue;
        }
        return list.status();
      }
      const Json items = list->value("items", Json::array());
      bool any = false;
      if (items.is_array()) {
        for (const Json& item : items) {
          any = true;
          R2E_ASSIGN_OR_RETURN(bool done, on_object(item, false));
          if (done) return Status::OK();
        }
      }
      if (!any) {
        R2E_ASSIGN_OR_RETURN(bool done, on_object(Json(), true));
        if (done) return Status::OK();
      }
      std::string rv;
      if (auto md = list->find("metadata"); md != list->end() && md->is_object()) {
        if (auto v = md->find("resourceVersion"); v != md->end() && v->is_string()) rv = v->get<std::string>();
      }
      bool relist = false;
      while (!relist) {
        if (Clock::now() >= deadline) return Status::Timeout("kube " + what + ": deadline passed");
        Status error;
        switch (impl_->watch_once(collection, query, rv, deadline, on_object, error)) {
          case WatchEnd::kDone:
            return error;
          case WatchEnd::kEnded:
            impl_->count(&Stats::watch_reconnects);
            transport_failures = 0;
            break;
          case WatchEnd::kExpired:
            impl_->count(&Stats::relists);
            relist = true;
            break;
          case WatchEnd::kTransport:
            impl_->count(&Stats::watch_reconnects);
            if (++transport_failures >= impl_->options.retry.max_attempts * 4) {
              return error.ok() ? Status::Unavailable("kube " + what + ": the watch keeps failing") : error;
            }
            impl_->sleep_backoff(std::min(transport_failures, 6), std::nullopt, deadline);
            break;
        }
      }
    }
  });
}

Result<std::unique_ptr<ExecStream>> KubeClient::exec(const std::string& ns, const std::string& pod,
                                                     const std::string& container,
                                                     const std::vector<std::string>& argv, Ms timeout) {
  const std::string what = "exec in pod " + ns + "/" + pod;
  return Guarded(what, [&]() -> Result<std::unique_ptr<ExecStream>> {
    if (argv.empty()) return Status::InvalidArgument("kube " + what + ": empty command");
    std::string target = "/api/v1/namespaces/" + QueryEscape(ns) + "/pods/" + QueryEscape(pod) + "/exec?";
    for (const auto& a : argv) target += "command=" + QueryEscape(a) + "&";
    if (!container.empty()) target += "container=" + QueryEscape(container) + "&";
    target += "stdin=true&stdout=true&stderr=true&tty=false";
    target = impl_->endpoint.base_path + target;
    bool refreshed = false;
    for (int attempt = 0;; ++attempt) {
      const bool last = attempt + 1 >= impl_->options.retry.max_attempts;
      R2E_ASSIGN_OR_RETURN(std::string token, impl_->creds->token(refreshed));
      auto stream = std::make_unique<WsExecStream>(impl_->tls);
      const auto deadline = Clock::now() + std::min(timeout, impl_->options.request_timeout);
      Status s = stream->open(impl_->endpoint, target, token, impl_->options.exec_protocols, deadline, what);
      if (s.ok()) {
        impl_->count(&Stats::connections_opened);
        return std::unique_ptr<ExecStream>(std::move(stream));
      }
      if (s.code() == StatusCode::kFailedPrecondition && !refreshed && impl_->creds->refreshable() &&
          s.message().find("refused the credentials") != std::string::npos) {
        refreshed = true;
        continue;
      }
      // Nothing ran yet: throttling and unreachable servers are retried.
      if (!last && (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kResourceExhausted)) {
        impl_->count(&Stats::retries);
        impl_->sleep_backoff(attempt);
        continue;
      }
      return s;
    }
  });
}

Result<ExecRun> KubeClient::exec_run(const std::string& ns, const std::string& pod, const std::string& container,
                                     const std::vector<std::string>& argv, const std::string& input, Ms timeout,
                                     std::size_t max_output, const OutputSink& sink) {
  const std::string what = "exec in pod " + ns + "/" + pod;
  return Guarded(what, [&]() -> Result<ExecRun> {
    const auto deadline = Clock::now() + timeout;
    R2E_ASSIGN_OR_RETURN(std::unique_ptr<ExecStream> stream, exec(ns, pod, container, argv, timeout));
    ExecRun run;
    auto keep = [&](int channel, std::string_view data) {
      if (sink) return sink(channel, data);
      std::string& into = channel == 1 ? run.stdout_data : run.stderr_data;
      std::size_t room = into.size() < max_output ? max_output - into.size() : 0;
      into.append(data.substr(0, std::min(room, data.size())));
      run.dropped_bytes += data.size() - std::min(room, data.size());
    };
    if (!input.empty()) {
      Status s = stream->write(input, deadline);
      if (s.code() == StatusCode::kTimeout) {
        run.timed_out = true;
        return run;
      }
      R2E_RETURN_IF_ERROR(s);
    }
    stream->close_write();
    for (;;) {
      auto f = stream->read_frame(deadline);
      if (!f.ok()) {
        if (f.status().code() == StatusCode::kTimeout) {
          run.timed_out = true;
          return run;
        }
        return f.status();
      }
      if (f->channel < 0) break;
      if (f->channel == 1 || f->channel == 2) keep(f->channel, f->data);
    }
    auto exit = stream->exit_status();
    if (!exit) return Status::Unavailable("kube " + what + ": the exec stream ended without an exit status");
    if (!exit->ok()) return exit->status();
    run.exit_code = **exit;
    return run;
  });
}

}  // namespace r2e::kube
