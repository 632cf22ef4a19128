// The Kubernetes client's HTTPS wire on Boost.Beast/Asio + OpenSSL: the TLS
// context and handshake, keep-alive connections, one request, one watch.
// Every connection owns a private io_context driven by the calling thread: a
// synchronous facade over async operations, so each step obeys a deadline
// (beast::tcp_stream expiry). The exec websocket is exec_websocket.cc.
#include "kube/tls_stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include "kube/kube_text.h"
#include "kube/watch.h"

namespace r2e::kube {

namespace {

namespace http = beast::http;
using Tcp = asio::ip::tcp;
using Ms = std::chrono::milliseconds;

constexpr std::size_t kMaxIdle = 8;

std::string PrettyMs(Ms d) { return std::to_string(d.count()) + " ms"; }

bool IsIpLiteral(const std::string& host) {
  ErrorCode ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

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

http::request<http::string_body> MakeRequest(const Endpoint& endpoint, http::verb method, const std::string& target,
                                             const std::string& body, const std::string& token) {
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

}  // namespace

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

Result<TlsContext> MakeTlsContext(const KubeConfig& c, const std::string& cert_pem, const std::string& key_pem) {
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
struct HttpsConnection {
  explicit HttpsConnection(TlsContext c) : ctx(std::move(c)), stream(ioc, *ctx) {}

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
  TlsContext ctx;
  TlsStream stream;
  beast::flat_buffer buffer;
};

bool KnownMethod(const std::string& method) { return http::string_to_verb(method) != http::verb::unknown; }

KubeClient::Impl::Impl() = default;
KubeClient::Impl::~Impl() = default;

std::unique_ptr<HttpsConnection> KubeClient::Impl::take_idle() {
  std::lock_guard<std::mutex> lock(pool_mu);
  if (idle.empty()) return nullptr;
  auto c = std::move(idle.back());
  idle.pop_back();
  return c;
}

void KubeClient::Impl::give_back(std::unique_ptr<HttpsConnection> c) {
  std::lock_guard<std::mutex> lock(pool_mu);
  if (idle.size() < kMaxIdle) idle.push_back(std::move(c));
}

Result<std::unique_ptr<HttpsConnection>> KubeClient::Impl::open(Clock::time_point deadline, const std::string& what) {
  auto c = std::make_unique<HttpsConnection>(tls);
  R2E_RETURN_IF_ERROR(ConnectTls(c->ioc, c->stream, endpoint, deadline, what));
  count(&Stats::connections_opened);
  return c;
}

// One exchange; a reused connection the server had closed is replaced
// once. `sent` tells whether the request may have reached the server.
Result<HttpResult> KubeClient::Impl::roundtrip(const std::string& method, const std::string& target,
                                               const std::string& body, const std::string& token,
                                               const std::string& what, bool& sent) {
  const auto deadline = Clock::now() + options.request_timeout;
  sent = false;
  for (int fresh = 0; fresh < 2; ++fresh) {
    std::unique_ptr<HttpsConnection> conn = fresh == 0 ? take_idle() : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) {
      R2E_ASSIGN_OR_RETURN(conn, open(deadline, what));
    }
    auto req = MakeRequest(endpoint, http::string_to_verb(method), target, body, token);
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

WatchEnd KubeClient::Impl::watch_once(const std::string& collection, const std::string& query, std::string& rv,
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
  HttpsConnection& c = **conn;
  auto req = MakeRequest(endpoint, http::verb::get, target, {}, *token);
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

}  // namespace r2e::kube
