// DockerClient: the Docker Engine REST API over the daemon's Unix socket.
// All Beast/Asio code of the Docker transport lives in this one file: they are
// slow to compile. Each request opens its own connection and drives a private
// io_context in the calling thread (a synchronous facade over async
// operations, so every step obeys a deadline through beast::basic_stream).
#include <utility>  // before Asio: GCC 12 otherwise fails inside Asio headers

#include "docker/docker_client.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <thread>
#include <type_traits>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/guarded.h"
#include "session/pending_output.h"
#include "core/text.h"
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

// The newest API version we speak: Debian's docker.io 20.10 speaks it and it
// has all we use; newer daemons still accept it.
constexpr std::string_view kMaxApiVersion = "1.41";
constexpr std::size_t kMaxMessage = 1000;
constexpr std::string_view kDefaultSocket = "/var/run/docker.sock";

std::string Truncate(std::string s) {
  if (s.size() > kMaxMessage) {
    s.resize(kMaxMessage);
    s += "...";
  }
  return s;
}

// Whether the daemon's message says `needle` (lower case), in any case.
bool Contains(std::string_view message, std::string_view needle) {
  return internal::Contains(internal::ToLower(message), needle);
}

std::string QueryValue(std::string_view s) { return internal::PercentEncode(s); }
// Image names carry '/', ':' and '@'; the daemon's router takes them raw.
std::string PathPart(std::string_view s) { return internal::PercentEncode(s, "/:@"); }

// "1.41" -> {1, 41}; garbage -> {0, 0}.
std::pair<int, int> ParseVersion(std::string_view v) {
  int major = 0;
  int minor = 0;
  std::size_t i = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])))
    major = major * 10 + (v[i++] - '0');
  if (i < v.size() && v[i] == '.') ++i;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])))
    minor = minor * 10 + (v[i++] - '0');
  return {major, minor};
}

std::string Pretty(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

std::string UnavailableText(const std::string& socket, const std::string& error) {
  return "cannot reach the Docker daemon at " + socket + ": " + error +
         "; start it (scripts/start-dockerd.sh) or set DOCKER_HOST";
}

Result<std::string> ResolveSocket(const std::string& option) {
  std::string_view unix_prefix = "unix://";
  if (!option.empty()) {
    if (option.starts_with(unix_prefix)) return option.substr(unix_prefix.size());
    return option;
  }
  const char* host = std::getenv("DOCKER_HOST");
  if (host != nullptr && *host != '\0') {
    std::string_view h(host);
    if (h.starts_with(unix_prefix)) return std::string(h.substr(unix_prefix.size()));
    // Talking to some other daemon than the one named would be worse than failing.
    return Status::InvalidArgument(
        "DOCKER_HOST=" + std::string(h) +
        " is not a unix:// socket; r2e reaches the Docker daemon over its "
        "Unix socket only (set DOCKER_HOST=unix:///path or the socket path "
        "option)");
  }
  return std::string(kDefaultSocket);
}

// Every exception becomes a Status: nothing may throw out of the client.
template <typename F>
auto Guarded(const std::string& what, F&& f) -> decltype(f()) {
  return internal::Guarded("docker", "daemon", what, std::forward<F>(f));
}

Result<Json> ParseJson(const std::string& body, const std::string& what) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    return Status::Internal("docker " + what +
                            ": the daemon's answer is not JSON: " + Truncate(body));
  }
  return j;
}

Result<std::string> StringField(const Json& j, const char* key, const std::string& what) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) {
    return Status::Internal("docker " + what + ": answer lacks \"" + key +
                            "\": " + Truncate(j.dump()));
  }
  return j[key].get<std::string>();
}

// Feeds `chunk` to the demuxer with stdout and stderr kept apart. The demuxer
// appends both streams to one string (stderr also to a second), so a chunk
// that mixes streams is fed again in halves from a saved demuxer state.
static_assert(std::is_copy_constructible_v<FrameDemuxer>, "SplitFeed restores demuxer state");
Status SplitFeed(FrameDemuxer& demux, std::string_view chunk, std::string& out, std::string& err) {
  if (chunk.empty()) return Status::OK();
  FrameDemuxer saved = demux;
  std::string all;
  std::string errs;
  R2E_RETURN_IF_ERROR(demux.feed(chunk, all, &errs));
  if (errs.empty()) {
    out += all;
    return Status::OK();
  }
  if (errs.size() == all.size()) {
    err += errs;
    return Status::OK();
  }
  demux = saved;
  std::size_t half = chunk.size() / 2;  // >= 1: a 1-byte chunk yields at most one byte
  R2E_RETURN_IF_ERROR(SplitFeed(demux, chunk.substr(0, half), out, err));
  return SplitFeed(demux, chunk.substr(half), out, err);
}

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

struct Request {
  http::verb method = http::verb::get;
  std::string target;  // complete, with the version prefix when wanted
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

http::request<http::string_body> MakeRequest(const Request& r) {
  http::request<http::string_body> req{r.method, r.target, 11};
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

// A ByteStream over a hijacked exec connection: the shared SocketStream with
// Docker's frames demultiplexed on the way in, so reads return the process's
// stdout and stderr merged. Closing drops the connection: Docker has no exec
// kill, so the process sees its stdin close (a shell reading commands ends)
// but is not signalled.
class HijackedStream final : public ByteStream {
 public:
  HijackedStream(std::unique_ptr<internal::SocketStream> socket, std::string leftover)
      : socket_(std::move(socket)), raw_(64 * 1024), pending_raw_(std::move(leftover)) {}

  Status write(std::string_view data, Clock::time_point deadline) override {
    return socket_->write(data, deadline);
  }

  Result<std::size_t> read_some(char* buf, std::size_t size, Clock::time_point deadline) override {
    if (size == 0) return std::size_t{0};
    for (;;) {
      if (!out_.empty()) return out_.take(buf, size);
      if (!pending_raw_.empty()) {
        std::string raw = std::move(pending_raw_);
        pending_raw_.clear();
        R2E_RETURN_IF_ERROR(demux(raw));
        continue;
      }
      R2E_ASSIGN_OR_RETURN(std::size_t n, socket_->read_some(raw_.data(), raw_.size(), deadline));
      if (n == 0) return std::size_t{0};
      // Header-only reads leave out_ empty: the loop reads on.
      R2E_RETURN_IF_ERROR(demux(std::string_view(raw_.data(), n)));
    }
  }

  // Docker closes the process's stdin when the client half-closes.
  void close_write() override { socket_->close_write(); }
  void close() override { socket_->close(); }

 private:
  Status demux(std::string_view raw) {
    Status s = demuxer_.feed(raw, out_.buffer());
    if (!s.ok()) return Status::Internal("docker exec stream: " + s.message());
    return Status::OK();
  }

  std::unique_ptr<internal::SocketStream> socket_;
  FrameDemuxer demuxer_;
  std::vector<char> raw_;
  std::string pending_raw_;  // stream bytes read along with the HTTP header
  internal::PendingOutput out_;  // demultiplexed bytes not yet returned
};

// The daemon's {"message"} of an error body, else the body text.
std::string ErrorMessage(int http_status, const std::string& body) {
  std::string message;
  try {
    Json j = Json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("message") && j["message"].is_string()) {
      message = j["message"].get<std::string>();
    }
  } catch (const std::exception&) {
    // fall back to the body text
  }
  if (message.empty()) message = std::string(internal::Trim(body));
  if (message.empty()) message = "HTTP " + std::to_string(http_status);
  return message;
}

// Turns a pull's in-stream error into a Status.
Status PullError(const std::string& image, const std::string& message) {
  std::string text = "docker pull " + image + ": " + Truncate(message);
  if (Contains(message, "not found") || Contains(message, "does not exist") ||
      Contains(message, "manifest unknown")) {
    return Status::NotFound(text);
  }
  if (Contains(message, "invalid reference") || Contains(message, "invalid tag")) {
    return Status::InvalidArgument(text);
  }
  return Status::Unavailable(text);
}

// Handles one JSON line of a pull's progress stream.
Status PullLine(std::string_view line, const std::string& image,
                const std::function<void(const std::string&)>& progress) {
  line = internal::Trim(line);
  if (line.empty()) return Status::OK();
  Json j = Json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    if (progress) progress(std::string(line));
    return Status::OK();
  }
  if (j.contains("error") || j.contains("errorDetail")) {
    std::string message;
    if (j.contains("error") && j["error"].is_string()) {
      message = j["error"].get<std::string>();
    } else if (j["errorDetail"].is_object() && j["errorDetail"].contains("message") &&
               j["errorDetail"]["message"].is_string()) {
      message = j["errorDetail"]["message"].get<std::string>();
    } else {
      message = std::string(line);
    }
    return PullError(image, message);
  }
  if (progress) {
    std::string text;
    if (j.contains("id") && j["id"].is_string()) text += j["id"].get<std::string>() + ": ";
    if (j.contains("status") && j["status"].is_string()) text += j["status"].get<std::string>();
    if (j.contains("progress") && j["progress"].is_string())
      text += " " + j["progress"].get<std::string>();
    progress(text.empty() ? std::string(line) : text);
  }
  return Status::OK();
}

// image[:tag|@digest] -> {name, tag or digest}; "latest" when neither (an
// empty tag would pull every tag).
std::pair<std::string, std::string> SplitImage(const std::string& image) {
  auto at = image.find('@');
  if (at != std::string::npos) return {image.substr(0, at), image.substr(at + 1)};
  auto colon = image.rfind(':');
  auto slash = image.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    return {image.substr(0, colon), image.substr(colon + 1)};
  }
  return {image, "latest"};
}

}  // namespace

Status ToStatus(int http_status, const std::string& body, const std::string& what) {
  if (http_status >= 200 && http_status < 400) return Status::OK();
  std::string message = ErrorMessage(http_status, body);
  std::string text = "docker " + what + ": " + Truncate(std::string(internal::Trim(message)));
  switch (http_status) {
    case 404:
      return Status::NotFound(std::move(text));
    case 409:
      // 409 covers both a taken name and an object in the wrong state.
      if (Contains(message, "already in use") || Contains(message, "already exists")) {
        return Status::AlreadyExists(std::move(text));
      }
      return Status::FailedPrecondition(std::move(text));
    case 401:
    case 403:
      return Status::FailedPrecondition(std::move(text));
    case 500:
      return Status::Internal(std::move(text));
    default:
      break;
  }
  if (http_status >= 500) return Status::Unavailable(std::move(text));
  return Status::InvalidArgument(std::move(text));
}

struct DockerClient::Impl {
  ClientOptions options;
  std::string socket_path;
  std::string api_version;

  std::string versioned(const std::string& target) const { return "/v" + api_version + target; }

  Clock::time_point deadline_in(Ms timeout) const {
    return Clock::now() + (timeout.count() > 0 ? timeout : options.request_timeout);
  }

  Status connect_error(const ErrorCode& ec, const std::string& what) const {
    if (ec == beast::error::timeout) {
      return Status::Unavailable("docker " + what + ": " +
                                 UnavailableText(socket_path, "connection timed out"));
    }
    return Status::Unavailable("docker " + what + ": " +
                               UnavailableText(socket_path, ec.message()));
  }

  Status io_error(const ErrorCode& ec, const std::string& what, Ms budget) const {
    if (ec == beast::error::timeout) {
      return Status::Timeout("docker " + what + ": no answer from the daemon within " +
                             Pretty(budget));
    }
    return Status::Unavailable("docker " + what + ": connection to the daemon at " + socket_path +
                               " failed: " + ec.message());
  }

  // One request on its own connection; the whole exchange is bounded by
  // `timeout` (0: the request timeout). `api_version_header` receives the
  // daemon's API-Version header when non-null.
  Result<HttpResult> roundtrip(const Request& r, const std::string& what, Ms timeout = Ms(0),
                               std::string* api_version_header = nullptr) const {
    Ms budget = timeout.count() > 0 ? timeout : options.request_timeout;
    auto deadline = Clock::now() + budget;
    Connection conn(socket_path);
    if (ErrorCode ec = conn.connect(deadline)) return connect_error(ec, what);
    auto req = MakeRequest(r);
    ErrorCode write_ec = conn.write(req, deadline);
    if (write_ec == beast::error::timeout) return io_error(write_ec, what, budget);
    // On a write error read on anyway: the daemon may have answered early and
    // closed (an upload to a missing directory gets its 404 that way).
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);  // archives and listings can be large
    if (ErrorCode ec = conn.read(parser, deadline))
      return io_error(write_ec ? write_ec : ec, what, budget);
    auto& res = parser.get();
    if (api_version_header != nullptr) {
      auto it = res.find("API-Version");
      if (it != res.end()) *api_version_header = std::string(it->value());
    }
    return HttpResult{static_cast<int>(res.result_int()), std::move(res.body())};
  }

  // A versioned request whose success statuses are `ok`; other statuses
  // become a Status through ToStatus.
  Result<HttpResult> call(http::verb method, const std::string& target, const std::string& what,
                          std::initializer_list<int> ok, std::string body = {},
                          Ms timeout = Ms(0)) const {
    Request r;
    r.method = method;
    r.target = versioned(target);
    r.body = std::move(body);
    R2E_ASSIGN_OR_RETURN(auto res, roundtrip(r, what, timeout));
    if (std::find(ok.begin(), ok.end(), res.status) == ok.end())
      return ToStatus(res.status, res.body, what);
    return res;
  }

  Result<Json> call_json(http::verb method, const std::string& target, const std::string& what,
                         std::initializer_list<int> ok, std::string body = {}) const {
    R2E_ASSIGN_OR_RETURN(auto res, call(method, target, what, ok, std::move(body)));
    return ParseJson(res.body, what);
  }

  Result<std::string> exec_create(const std::string& container,
                                  const std::vector<std::string>& argv,
                                  const std::vector<std::string>& env, const std::string& workdir,
                                  bool attach_stdin, Ms timeout) const {
    std::string what = "exec in " + container;
    if (argv.empty()) return Status::InvalidArgument("docker " + what + ": empty command");
    Json config = {{"AttachStdin", attach_stdin},
                   {"AttachStdout", true},
                   {"AttachStderr", true},
                   {"Tty", false},
                   {"Cmd", argv}};
    if (!env.empty()) config["Env"] = env;
    if (!workdir.empty()) config["WorkingDir"] = workdir;
    R2E_ASSIGN_OR_RETURN(
        auto res, call(http::verb::post, "/containers/" + PathPart(container) + "/exec", what,
                       {201}, config.dump(), timeout));
    R2E_ASSIGN_OR_RETURN(Json j, ParseJson(res.body, what));
    return StringField(j, "Id", what);
  }

  // POST /exec/{id}/start with the Upgrade headers, up to the end of the
  // response header. The connection then carries the raw multiplexed stream;
  // `leftover` receives the stream bytes already read with the header.
  Result<std::unique_ptr<Connection>> start_exec(const std::string& exec_id,
                                                 Clock::time_point deadline, Ms budget,
                                                 std::string& leftover) const {
    std::string what = "exec start " + exec_id;
    auto conn = std::make_unique<Connection>(socket_path);
    if (ErrorCode ec = conn->connect(deadline)) return connect_error(ec, what);
    Request r;
    r.method = http::verb::post;
    r.target = versioned("/exec/" + PathPart(exec_id) + "/start");
    r.body = R"({"Detach":false,"Tty":false})";
    // Without Upgrade the daemon answers 200 with an unframed body; with it, 101.
    r.headers = {{"Connection", "Upgrade"}, {"Upgrade", "tcp"}};
    auto req = MakeRequest(r);
    if (ErrorCode ec = conn->write(req, deadline)) return io_error(ec, what, budget);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);  // only error bodies are read through it
    if (ErrorCode ec = conn->read_header(parser, deadline)) return io_error(ec, what, budget);
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
};

DockerClient::DockerClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DockerClient::~DockerClient() = default;

Result<std::unique_ptr<DockerClient>> DockerClient::Connect(ClientOptions options) {
  return Guarded("connect", [&]() -> Result<std::unique_ptr<DockerClient>> {
    auto impl = std::make_unique<Impl>();
    R2E_ASSIGN_OR_RETURN(impl->socket_path, ResolveSocket(options.socket_path));
    impl->options = std::move(options);
    if (impl->options.request_timeout.count() <= 0)
      impl->options.request_timeout = std::chrono::seconds(60);

    Request ping;
    ping.target = "/_ping";  // unversioned: it tells us the version
    std::string daemon_version;
    auto res = impl->roundtrip(ping, "ping", Ms(0), &daemon_version);
    if (!res.ok()) {
      if (res.status().code() == StatusCode::kUnavailable) {
        // Drop the "docker ping: " prefix: this is the first contact.
        const std::string m = res.status().message();
        auto pos = m.find("cannot reach");
        if (pos != std::string::npos) return Status::Unavailable(m.substr(pos));
      }
      if (res.status().code() == StatusCode::kTimeout) {
        return Status::Unavailable(
            UnavailableText(impl->socket_path,
                            "no answer to /_ping within " + Pretty(impl->options.request_timeout)));
      }
      return res.status();
    }
    if (res->status != 200) {
      return Status::Unavailable(UnavailableText(
          impl->socket_path,
          "/_ping answered HTTP " + std::to_string(res->status) + " " + Truncate(res->body)));
    }

    if (!impl->options.api_version.empty()) {
      impl->api_version = impl->options.api_version;
    } else if (!daemon_version.empty() &&
               ParseVersion(daemon_version) <= ParseVersion(kMaxApiVersion)) {
      impl->api_version = daemon_version;
    } else {
      impl->api_version = std::string(kMaxApiVersion);
      if (!daemon_version.empty()) {
        // A newer daemon may refuse old versions (Docker 29.0-29.2 wanted
        // 1.44+): then use its minimum.
        Request version;
        version.target = "/version";
        auto v = impl->roundtrip(version, "version");
        if (v.ok() && v->status == 200) {
          Json j = Json::parse(v->body, nullptr, false);
          if (j.is_object() && j.contains("MinAPIVersion") && j["MinAPIVersion"].is_string()) {
            std::string min = j["MinAPIVersion"].get<std::string>();
            if (ParseVersion(min) > ParseVersion(kMaxApiVersion)) impl->api_version = min;
          }
        }
      }
    }
    return std::unique_ptr<DockerClient>(new DockerClient(std::move(impl)));
  });
}

const std::string& DockerClient::api_version() const { return impl_->api_version; }
const std::string& DockerClient::socket_path() const { return impl_->socket_path; }

Result<HttpResult> DockerClient::request(const std::string& method, const std::string& target,
                                         const std::string& body,
                                         std::chrono::milliseconds timeout) {
  std::string what = method + " " + target;
  return Guarded(what, [&]() -> Result<HttpResult> {
    http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown)
      return Status::InvalidArgument("docker request: unknown method " + method);
    if (target.empty() || target[0] != '/') {
      return Status::InvalidArgument("docker request: target must start with '/': " + target);
    }
    Request r;
    r.method = verb;
    r.target = impl_->versioned(target);
    r.body = body;
    return impl_->roundtrip(r, what, timeout);
  });
}

// --- images

Result<nlohmann::json> DockerClient::inspect_image(const std::string& image) {
  std::string what = "inspect image " + image;
  return Guarded(what, [&]() -> Result<Json> {
    if (image.empty()) return Status::InvalidArgument("docker " + what + ": empty image name");
    return impl_->call_json(http::verb::get, "/images/" + PathPart(image) + "/json", what, {200});
  });
}

Status DockerClient::pull_image(const std::string& image,
                                const std::function<void(const std::string&)>& progress) {
  std::string what = "pull " + image;
  return Guarded(what, [&]() -> Status {
    if (image.empty()) return Status::InvalidArgument("docker " + what + ": empty image name");
    auto [name, tag] = SplitImage(image);
    Request r;
    r.method = http::verb::post;
    r.target = impl_->versioned("/images/create?fromImage=" + QueryValue(name) +
                                "&tag=" + QueryValue(tag));
    if (!impl_->options.registry_auth.empty())
      r.headers.emplace_back("X-Registry-Auth", impl_->options.registry_auth);

    // A pull takes as long as it takes; it fails when the daemon stays
    // silent for a whole request timeout.
    Ms idle = impl_->options.request_timeout;
    Connection conn(impl_->socket_path);
    if (ErrorCode ec = conn.connect(Clock::now() + idle)) return impl_->connect_error(ec, what);
    auto req = MakeRequest(r);
    if (ErrorCode ec = conn.write(req, Clock::now() + idle)) return impl_->io_error(ec, what, idle);
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    if (ErrorCode ec = conn.read_header(parser, Clock::now() + idle))
      return impl_->io_error(ec, what, idle);
    int status = static_cast<int>(parser.get().result_int());

    std::vector<char> buf(16 * 1024);
    std::string text;  // unprocessed line bytes, or the error body
    while (!parser.is_done()) {
      parser.get().body().data = buf.data();
      parser.get().body().size = buf.size();
      ErrorCode ec = conn.read(parser, Clock::now() + idle);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return impl_->io_error(ec, what, idle);
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

Result<std::string> DockerClient::commit(const std::string& container, const std::string& repo,
                                         const std::string& tag) {
  std::string what = "commit " + container + " as " + repo + ":" + tag;
  return Guarded(what, [&]() -> Result<std::string> {
    std::string target = "/commit?container=" + QueryValue(container) + "&repo=" + QueryValue(repo);
    if (!tag.empty()) target += "&tag=" + QueryValue(tag);
    R2E_ASSIGN_OR_RETURN(Json j,
                         impl_->call_json(http::verb::post, target, what, {200, 201}, "{}"));
    return StringField(j, "Id", what);
  });
}

// --- containers

Result<std::string> DockerClient::create_container(const nlohmann::json& config,
                                                   const std::string& name) {
  std::string what = "create container" + (name.empty() ? std::string() : " " + name);
  return Guarded(what, [&]() -> Result<std::string> {
    std::string target = "/containers/create";
    if (!name.empty()) target += "?name=" + QueryValue(name);
    R2E_ASSIGN_OR_RETURN(
        Json j, impl_->call_json(http::verb::post, target, what, {200, 201}, config.dump()));
    return StringField(j, "Id", what);
  });
}

Status DockerClient::start_container(const std::string& id) {
  std::string what = "start container " + id;
  return Guarded(what, [&]() -> Status {
    return impl_
        ->call(http::verb::post, "/containers/" + PathPart(id) + "/start", what, {200, 204, 304})
        .status();
  });
}

Status DockerClient::stop_container(const std::string& id, int timeout_s) {
  std::string what = "stop container " + id;
  return Guarded(what, [&]() -> Status {
    int t = std::max(timeout_s, 0);
    // The daemon answers only after its grace period (and the kill) ran.
    Ms budget = impl_->options.request_timeout + std::chrono::seconds(t);
    return impl_
        ->call(http::verb::post, "/containers/" + PathPart(id) + "/stop?t=" + std::to_string(t),
               what, {200, 204, 304}, {}, budget)
        .status();
  });
}

Status DockerClient::kill_container(const std::string& id, const std::string& signal) {
  std::string what = "kill container " + id;
  return Guarded(what, [&]() -> Status {
    std::string target = "/containers/" + PathPart(id) + "/kill";
    if (!signal.empty()) target += "?signal=" + QueryValue(signal);
    return impl_->call(http::verb::post, target, what, {200, 204}).status();
  });
}

Status DockerClient::remove_container(const std::string& id, bool force) {
  std::string what = "remove container " + id;
  return Guarded(what, [&]() -> Status {
    std::string target = "/containers/" + PathPart(id) + (force ? "?force=1&v=1" : "?v=1");
    R2E_ASSIGN_OR_RETURN(auto res,
                         impl_->call(http::verb::delete_, target, what, {200, 204, 404, 409}));
    if (res.status == 409) {
      // An AutoRemove container may already be on its way out: as good as gone.
      Status s = ToStatus(res.status, res.body, what);
      if (Contains(s.message(), "already in progress")) return Status::OK();
      return s;
    }
    return Status::OK();
  });
}

Result<nlohmann::json> DockerClient::inspect_container(const std::string& id) {
  std::string what = "inspect container " + id;
  return Guarded(what, [&]() -> Result<Json> {
    if (id.empty()) return Status::InvalidArgument("docker inspect container: empty id");
    return impl_->call_json(http::verb::get, "/containers/" + PathPart(id) + "/json", what, {200});
  });
}

Result<std::vector<nlohmann::json>> DockerClient::list_containers(
    const std::vector<std::string>& label_filters) {
  std::string what = "list containers";
  return Guarded(what, [&]() -> Result<std::vector<Json>> {
    std::string target = "/containers/json?all=1";
    if (!label_filters.empty()) {
      Json filters = {{"label", label_filters}};
      target += "&filters=" + QueryValue(filters.dump());
    }
    R2E_ASSIGN_OR_RETURN(Json j, impl_->call_json(http::verb::get, target, what, {200}));
    if (!j.is_array())
      return Status::Internal("docker " + what + ": answer is not a list: " + Truncate(j.dump()));
    return j.get<std::vector<Json>>();
  });
}

// --- exec

Result<std::string> DockerClient::exec_create(const std::string& container,
                                              const std::vector<std::string>& argv,
                                              const std::vector<std::string>& env,
                                              const std::string& workdir, bool attach_stdin) {
  return Guarded("exec in " + container, [&]() -> Result<std::string> {
    return impl_->exec_create(container, argv, env, workdir, attach_stdin, Ms(0));
  });
}

Result<std::unique_ptr<ByteStream>> DockerClient::exec_attach(const std::string& exec_id) {
  std::string what = "exec start " + exec_id;
  return Guarded(what, [&]() -> Result<std::unique_ptr<ByteStream>> {
    Ms budget = impl_->options.request_timeout;
    std::string leftover;
    R2E_ASSIGN_OR_RETURN(auto conn,
                         impl_->start_exec(exec_id, Clock::now() + budget, budget, leftover));
    ErrorCode ec;
    int fd = conn->release_fd(ec);
    if (ec || fd < 0) {
      return Status::Internal("docker " + what + ": cannot take over the socket: " + ec.message());
    }
    auto socket = internal::SocketStream::Adopt(fd);
    if (!socket.ok()) return socket.status().WithContext("docker " + what);
    return std::unique_ptr<ByteStream>(new HijackedStream(std::move(socket).value(), std::move(leftover)));
  });
}

Result<nlohmann::json> DockerClient::exec_inspect(const std::string& exec_id) {
  std::string what = "exec inspect " + exec_id;
  return Guarded(what, [&]() -> Result<Json> {
    return impl_->call_json(http::verb::get, "/exec/" + PathPart(exec_id) + "/json", what, {200});
  });
}

Result<ExecRun> DockerClient::exec_run(const std::string& container,
                                       const std::vector<std::string>& argv,
                                       const std::vector<std::string>& env,
                                       const std::string& workdir,
                                       std::chrono::milliseconds timeout) {
  std::string what = "exec in " + container;
  return Guarded(what, [&]() -> Result<ExecRun> {
    Ms budget = timeout.count() > 0 ? timeout : impl_->options.request_timeout;
    auto deadline = Clock::now() + budget;
    R2E_ASSIGN_OR_RETURN(std::string id,
                         impl_->exec_create(container, argv, env, workdir, false, budget));
    ExecRun run;
    std::string leftover;
    auto conn = impl_->start_exec(id, deadline, budget, leftover);
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
      return impl_->io_error(ec, what, budget);
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

Status DockerClient::put_archive(const std::string& container, const std::string& dir,
                                 const std::string& tar) {
  std::string what = "copy into " + container + ":" + dir;
  return Guarded(what, [&]() -> Status {
    Request r;
    r.method = http::verb::put;
    r.target =
        impl_->versioned("/containers/" + PathPart(container) + "/archive?path=" + QueryValue(dir));
    r.body = tar;
    r.content_type = "application/x-tar";
    R2E_ASSIGN_OR_RETURN(auto res, impl_->roundtrip(r, what));
    if (res.status != 200) return ToStatus(res.status, res.body, what);
    return Status::OK();
  });
}

Result<std::string> DockerClient::get_archive(const std::string& container,
                                              const std::string& path) {
  std::string what = "copy from " + container + ":" + path;
  return Guarded(what, [&]() -> Result<std::string> {
    R2E_ASSIGN_OR_RETURN(auto res, impl_->call(http::verb::get,
                                               "/containers/" + PathPart(container) +
                                                   "/archive?path=" + QueryValue(path),
                                               what, {200}));
    return std::move(res.body);
  });
}

}  // namespace r2e::docker
