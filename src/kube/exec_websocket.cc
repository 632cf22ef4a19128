// The Kubernetes exec websocket (channel.k8s.io v5/v4) over TLS on
// Boost.Beast, as an ExecStream. The stream owns a private io_context that
// the calling thread runs up to each deadline, which leaves a read in flight
// usable after a timeout.
#include "kube/tls_stream.h"

#include <algorithm>
#include <atomic>

#include <boost/asio/post.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "session/pending_output.h"

namespace r2e::kube {

namespace {

namespace http = beast::http;
namespace websocket = beast::websocket;

constexpr std::size_t kStdinChunk = 32 * 1024;

// An exec websocket (see ExecStream in the header).
class WsExecStream final : public ExecStream {
 public:
  explicit WsExecStream(TlsContext ctx) : ctx_(std::move(ctx)), ws_(ioc_, *ctx_) {}

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
  TlsContext ctx_;
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

}  // namespace

Result<std::unique_ptr<ExecStream>> OpenExecStream(const TlsContext& tls, const Endpoint& ep, const std::string& target,
                                                   const std::string& token, const std::vector<std::string>& protocols,
                                                   Clock::time_point deadline, const std::string& what) {
  auto stream = std::make_unique<WsExecStream>(tls);
  R2E_RETURN_IF_ERROR(stream->open(ep, target, token, protocols, deadline, what));
  return std::unique_ptr<ExecStream>(std::move(stream));
}

}  // namespace r2e::kube
