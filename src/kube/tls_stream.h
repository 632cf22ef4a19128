// The TLS connection both Beast translation units of the Kubernetes client
// use (kube_transport.cc for HTTPS, exec_websocket.cc for exec), and the
// loop that drives a private io_context up to a deadline. Includes Beast:
// for those two files only.
#ifndef R2E_KUBE_TLS_STREAM_H_
#define R2E_KUBE_TLS_STREAM_H_

#include <utility>  // before Asio: GCC 12 otherwise fails inside Asio headers

#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include "kube/client_impl.h"

namespace r2e::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using ErrorCode = boost::system::error_code;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Runs `ioc` until `done` or the deadline; a deadline already passed polls
// what is ready without blocking. True when done.
bool Drive(asio::io_context& ioc, const bool& done, Clock::time_point deadline);

// Resolves, connects and runs the TLS handshake (SNI, host name check) on
// `stream`, bounded by `deadline`.
Status ConnectTls(asio::io_context& ioc, TlsStream& stream, const Endpoint& ep, Clock::time_point deadline,
                  const std::string& what);

}  // namespace r2e::kube

#endif  // R2E_KUBE_TLS_STREAM_H_
