// The Docker client's wire: HTTP/1.1 over the daemon's Unix socket on
// Boost.Beast, and the calls that stream (pulls, hijacked and one-shot
// execs). All Beast/Asio code of the Docker transport lives in this one file:
// they are slow to compile. Each request opens its own connection and drives
// a private io_context in the calling thread (a synchronous facade over async
// operations, so every step obeys a deadline through beast::basic_stream).
#include <utility>  // before Asio: GCC 12 otherwise fails inside Asio headers

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "docker/client_impl.h"
#include "docker/docker_text.h"
#include "session/socket_stream.h"

namespace r2e::docker {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Proto = asio::local::stream_protocol;
using ErrorCode = boost::system::error_code;
using Json = nlohmann::json;
using Ms = std::chrono::milliseconds;

// One HTTP connection to the daemon, used synchronously: each call starts an
// async operation under the deadline and runs the private io_context until it
// completes. beast::basic_stream closes the socket when the deadline passes,
// so the operation then ends with beast::error::timeout.
class Connection {
 public:
  explicit Connection(std::string socket_path) : path_(std::move(socket_path)), stream_(ioc_) {}

  ErrorCode connect(Clock::time_point deadline) {
    // Our own socket: close-on-exec, so processes spawned meanwhile do not
    // inherit (and keep open) daemon connections.
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ErrorCode(errno, boost::system::system_category());
    ErrorCode ec;
    stream_.socket().assign(Proto(), fd, ec);
    if (ec) {
      ::close(fd);
      return ec;
    }
    stream_.expires_at(deadline);
    ErrorCode result = asio::error::would_block;
    stream_.async_connect(Proto::endpoint(path_), [&result](ErrorCode e) { result = e; });
    drive();
    return result;
  }

  ErrorCode write(http::request<http::string_body>& req, Clock::time_point deadline) {
    return run(deadline,
               [&](auto handler) { http::async_write(stream_, req, std::move(handler)); });
  }

  template <typename Parser>
  ErrorCode read_header(Parser& parser, Clock::time_point deadline) {
    return run(deadline, [&](auto handler) {
      http::async_read_header(stream_, buffer_, parser, std::move(handler));
    });
  }

  template <typename Parser>
  ErrorCode read(Parser& parser, Clock::time_point deadline) {
    return run(deadline, [&](auto handler) {
      http::async_read(stream_, buffer_, parser, std::move(handler));
    });
  }

  // Raw bytes after the header block (hijacked streams); call take_leftover first.
  ErrorCode read_some(char* buf, std::size_t size, std::size_t& n, Clock::time_point deadline) {
    return run(
        deadline,
        [&](auto handler) { stream_.async_read_some(asio::buffer(buf, size), std::move(handler)); },
        &n);
  }

  // Bytes the HTTP reader took from the socket past what it parsed.
  std::string take_leftover() {
    std::string out = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    return out;
  }

  // Hands the socket over to the caller (who closes it).
  int release_fd(ErrorCode& ec) { return stream_.socket().release(ec); }

 private:
  template <typename Start>
  ErrorCode run(Clock::time_point deadline, Start&& start, std::size_t* bytes = nullptr) {
    stream_.expires_at(deadline);
    ErrorCode result = asio::error::would_block;
    std::size_t n = 0;
    start([&result, &n](ErrorCode e, std::size_t k) {
      result = e;
      n = k;
    });
    drive();
    if (bytes != nullptr) *bytes = n;
    return result;
  }

  void drive() {
    ioc_.restart();
    ioc_.run();
  }

  std::string path_;
  asio::io_context ioc_;
  beast::basic_stream<Proto> stream_;
  beast::flat_buffer buffer_;
};

http::request<http::string_body> MakeRequest(const Request& r) {
  http::request<http::string_body> req{http::string_to_verb(r.method), r.target, 11};
  req.set(http::field::host, "docker");  // the daemon rejects the socket path as Host
  req.set(http::field::user_agent, "r2e");
  for (const auto& [k, v] : r.headers) req.set(k, v);
  if (!r.body.empty()) {
    req.set(http::field::content_type, r.content_type);
    req.body() = r.body;
  }
  req.prepare_payload();
  return req;
}

Status ConnectError(const std::string& socket_path, const ErrorCode& ec, const std::string& what) {
  if (ec == beast::error::timeout) {
    return Status::Unavailable("docker " + what + ": " + UnavailableText(socket_path, "connection timed out"));
  }
  return Status::Unavailable("docker " + what + ": " + UnavailableText(socket_path, ec.message()));
}

Status IoError(const std::string& socket_path, const ErrorCode& ec, const std::string& what, Ms budget) {
  if (ec == beast::error::timeout) {
    return Status::Timeout("docker " + what + ": no answer from the daemon within " + Pretty(budget));
  }
  return Status::Unavailable("docker " + what + ": connection to the daemon at " + socket_path +
                             " failed: " + ec.message());
}

// POST /exec/{id}/start (`target`) with the Upgrade headers, up to the end
// of the response header. The connection then carries the raw multiplexed
// stream; `leftover` receives the stream bytes already read with the header.
Result<std::unique_ptr<Connection>> StartExec(const std::string& socket_path, const std::string& target,
                                              const std::string& what, Clock::time_point deadline, Ms budget,
                                              std::string& leftover) {
  auto conn = std::make_unique<Connection>(socket_path);
  if (ErrorCode ec = conn->connect(deadline)) return ConnectError(socket_path, ec, what);
  Request r;
  r.method = "POST";
  r.target = target;
  r.body = R"({"Detach":false,"Tty":false})";
  // Without Upgrade the daemon answers 200 with an unframed body; with it, 101.
  r.headers = {{"Connection", "Upgrade"}, {"Upgrade", "tcp"}};
  auto req = MakeRequest(r);
  if (ErrorCode ec = conn->write(req, deadline)) return IoError(socket_path, ec, what, budget);
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);  // only error bodies are read through it
  if (ErrorCode ec = conn->read_header(parser, deadline)) return IoError(socket_path, ec, what, budget);
  int status = static_cast<int>(parser.get().result_int());
  if (status == 101 || status == 200) {
    leftover = conn->take_leftover();
    return conn;
  }
  if (ErrorCode ec = conn->read(parser, deadline)) {
    return ToStatus(status, "", what);  // the status alone still says what failed
  }
  return ToStatus(status, parser.get().body(), what);
}

}  // namespace

bool KnownMethod(const std::string& method) { return http::string_to_verb(method) != http::verb::unknown; }

Result<HttpResult> DockerClient::Impl::roundtrip(const Request& r, const std::string& what, Ms timeout,
                                                 std::string* api_version_header) const {
  Ms budget = timeout.count() > 0 ? timeout : options.request_timeout;
  auto deadline = Clock::now() + budget;
  Connection conn(socket_path);
  if (ErrorCode ec = conn.connect(deadline)) return ConnectError(socket_path, ec, what);
  auto req = MakeRequest(r);
  ErrorCode write_ec = conn.write(req, deadline);
  if (write_ec == beast::error::timeout) return IoError(socket_path, write_ec, what, budget);
  // On a write error read on anyway: the daemon may have answered early and
  // closed (an upload to a missing directory gets its 404 that way).
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);  // archives and listings can be large
  if (ErrorCode ec = conn.read(parser, deadline)) return IoError(socket_path, write_ec ? write_ec : ec, what, budget);
  auto& res = parser.get();
  if (api_version_header != nullptr) {
    auto it = res.find("API-Version");
    if (it != res.end()) *api_version_header = std::string(it->value());
  }
  return HttpResult{static_cast<int>(res.result_int()), std::move(res.body())};
}

Status DockerClient::pull_image(const std::string& image,
                                const std::function<void(const std::string&)>& progress) {
  std::string what = "pull " + image;
  return Guarded(what, [&]() -> Status {
    if (image.empty()) return Status::InvalidArgument("docker " + what + ": empty image name");
    auto [name, tag] = SplitImage(image);
    Request r;
    r.method = "POST";
    r.target = impl_->versioned("/images/create?fromImage=" + QueryValue(name) +
                                "&tag=" + QueryValue(tag));
    if (!impl_->options.registry_auth.empty())
      r.headers.emplace_back("X-Registry-Auth", impl_->options.registry_auth);

    // A pull takes as long as it takes; it fails when the daemon stays
    // silent for a whole request timeout.
    Ms idle = impl_->options.request_timeout;
    Connection conn(impl_->socket_path);
    if (ErrorCode ec = conn.connect(Clock::now() + idle)) return ConnectError(impl_->socket_path, ec, what);
    auto req = MakeRequest(r);
    if (ErrorCode ec = conn.write(req, Clock::now() + idle)) return IoError(impl_->socket_path, ec, what, idle);
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    if (ErrorCode ec = conn.read_header(parser, Clock::now() + idle))
      return IoError(impl_->socket_path, ec, what, idle);
    int status = static_cast<int>(parser.get().result_int());

    std::vector<char> buf(16 * 1024);
    std::string text;  // unprocessed line bytes, or the error body
    while (!parser.is_done()) {
      parser.get().body().data = buf.data();
      parser.get().body().size = buf.size();
      ErrorCode ec = conn.read(parser, Clock::now() + idle);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return IoError(impl_->socket_path, ec, what, idle);
      text.append(buf.data(), buf.size() - parser.get().body().size);
      if (status != 200) {
        if (text.size() > (1 << 20)) break;  // enough to report
        continue;
      }
      std::size_t start = 0;
      for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
        R2E_RETURN_IF_ERROR(
            PullLine(std::string_view(text).substr(start, nl - start), image, progress));
      }
      text.erase(0, start);
    }
    // A registry that cannot be reached is a 500: say Unavailable, not Internal.
    if (status >= 500) return PullError(image, ErrorMessage(status, text));
    if (status != 200) return ToStatus(status, text, what);
    return PullLine(text, image, progress);
  });
}

Result<std::unique_ptr<ByteStream>> DockerClient::exec_attach(const std::string& exec_id) {
  std::string what = "exec start " + exec_id;
  return Guarded(what, [&]() -> Result<std::unique_ptr<ByteStream>> {
    Ms budget = impl_->options.request_timeout;
    std::string leftover;
    R2E_ASSIGN_OR_RETURN(auto conn,
                         StartExec(impl_->socket_path, impl_->versioned("/exec/" + PathPart(exec_id) + "/start"), what,
                                   Clock::now() + budget, budget, leftover));
    ErrorCode ec;
    int fd = conn->release_fd(ec);
    if (ec || fd < 0) {
      return Status::Internal("docker " + what + ": cannot take over the socket: " + ec.message());
    }
    auto socket = internal::SocketStream::Adopt(fd);
    if (!socket.ok()) return socket.status().WithContext("docker " + what);
    return MakeHijackedStream(std::move(socket).value(), std::move(leftover));
  });
}

Result<ExecRun> DockerClient::exec_run(const std::string& container,
                                       const std::vector<std::string>& argv,
                                       const std::vector<std::string>& env,
                                       const std::string& workdir,
                                       std::chrono::milliseconds timeout, const std::string& user) {
  std::string what = "exec in " + container;
  return Guarded(what, [&]() -> Result<ExecRun> {
    Ms budget = timeout.count() > 0 ? timeout : impl_->options.request_timeout;
    auto deadline = Clock::now() + budget;
    R2E_ASSIGN_OR_RETURN(std::string id,
                         impl_->exec_create(container, argv, env, workdir, false, budget, user));
    ExecRun run;
    std::string leftover;
    auto conn = StartExec(impl_->socket_path, impl_->versioned("/exec/" + PathPart(id) + "/start"),
                          "exec start " + id, deadline, budget, leftover);
    if (!conn.ok()) {
      if (conn.status().code() == StatusCode::kTimeout) {
        run.timed_out = true;
        return run;
      }
      return conn.status();
    }
    FrameDemuxer demux;
    auto feed = [&](std::string_view chunk) -> Status {
      Status s = SplitFeed(demux, chunk, run.stdout_data, run.stderr_data);
      if (!s.ok()) return Status::Internal("docker " + what + ": " + s.message());
      return s;
    };
    R2E_RETURN_IF_ERROR(feed(leftover));
    std::vector<char> buf(64 * 1024);
    for (;;) {
      std::size_t n = 0;
      ErrorCode ec = (*conn)->read_some(buf.data(), buf.size(), n, deadline);
      if (n > 0) R2E_RETURN_IF_ERROR(feed(std::string_view(buf.data(), n)));
      if (!ec) continue;
      if (ec == asio::error::eof || ec == asio::error::connection_reset) break;
      if (ec == beast::error::timeout) {
        // The connection is dropped with `conn`; the process is not killed
        // (Docker has no exec kill), which the caller's `timeout` wrapper handles.
        run.timed_out = true;
        return run;
      }
      return IoError(impl_->socket_path, ec, what, budget);
    }
    conn->reset();

    // The stream can end a moment before the daemon records the exit code.
    auto inspect_deadline = Clock::now() + impl_->options.request_timeout;
    for (;;) {
      R2E_ASSIGN_OR_RETURN(Json j, exec_inspect(id));
      bool running = j.contains("Running") && j["Running"].is_boolean() && j["Running"].get<bool>();
      if (!running && j.contains("ExitCode") && j["ExitCode"].is_number_integer()) {
        run.exit_code = j["ExitCode"].get<int>();
        return run;
      }
      if (Clock::now() >= inspect_deadline) {
        return Status::Timeout("docker " + what +
                               ": the exec's output ended but no exit code came within " +
                               Pretty(impl_->options.request_timeout));
      }
      std::this_thread::sleep_for(Ms(5));
    }
  });
}

// --- files

}  // namespace r2e::docker
