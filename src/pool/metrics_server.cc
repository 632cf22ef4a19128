#include "r2e/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <system_error>
#include <thread>

#include "core/text.h"

namespace r2e {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kRequestDeadline = std::chrono::seconds(5);
constexpr std::size_t kMaxRequestHead = 16 * 1024;

int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits for `fd` to be ready for `events`, or the wake fd, or the deadline.
// True when fd is ready.
bool WaitFor(int fd, short events, int wake_fd, Clock::time_point deadline) {
  for (;;) {
    pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    const int n = ::poll(fds, 2, MillisLeft(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || (fds[1].revents & POLLIN)) return false;
    return (fds[0].revents & (events | POLLHUP | POLLERR)) != 0;
  }
}

std::string Response(int code, const char* reason, const std::string& content_type, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(code) + " " + reason + "\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

struct MetricsServer::State {
  int listen_fd = -1;
  int wake_fd = -1;
  std::function<std::string()> render;
  std::atomic<long long> served{0};
  std::thread thread;

  ~State() {
    if (listen_fd >= 0) ::close(listen_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void run() {
    for (;;) {
      if (!WaitFor(listen_fd, POLLIN, wake_fd, Clock::now() + std::chrono::hours(1))) {
        pollfd wake{wake_fd, POLLIN, 0};
        if (::poll(&wake, 1, 0) > 0) return;  // stopping
        continue;
      }
      const int conn = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (conn < 0) continue;  // the client went away, or out of descriptors for now
      serve(conn);
      ::close(conn);
    }
  }

  // Reads the request head and answers it, all within the deadline.
  void serve(int conn) {
    const auto deadline = Clock::now() + kRequestDeadline;
    std::string head;
    while (head.find("\r\n\r\n") == std::string::npos && head.find("\n\n") == std::string::npos) {
      if (head.size() > kMaxRequestHead || !WaitFor(conn, POLLIN, wake_fd, deadline)) return;
      char buf[4096];
      const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return;
      head.append(buf, static_cast<std::size_t>(n));
    }
    const std::string line = head.substr(0, head.find_first_of("\r\n"));
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 == std::string::npos ? sp1 : sp1 + 1);
    const std::string method = line.substr(0, sp1);
    const std::string target = sp1 == std::string::npos ? "" : line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string path = target.substr(0, target.find('?'));
    std::string response;
    if (method != "GET" && method != "HEAD") {
      response = Response(405, "Method Not Allowed", "text/plain", "only GET\n");
    } else if (path != "/metrics" && path != "/") {
      response = Response(404, "Not Found", "text/plain", "the metrics are at /metrics\n");
    } else {
      std::string body;
      try {
        body = render();
      } catch (const std::exception& e) {
        response = Response(500, "Internal Server Error", "text/plain", std::string("render: ") + e.what() + "\n");
      }
      if (response.empty()) {
        response = Response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
        if (method == "HEAD") response.resize(response.size() - body.size());
      }
    }
    std::size_t sent = 0;
    while (sent < response.size()) {
      if (!WaitFor(conn, POLLOUT, wake_fd, deadline)) return;
      const ssize_t n = ::send(conn, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
    ++served;
  }
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(int port, std::function<std::string()> render) {
  if (port < 0 || port > 65535) {
    return Status::InvalidArgument("metrics port " + std::to_string(port) + " is not in 0..65535");
  }
  if (!render) return Status::InvalidArgument("MetricsServer: no render function");
  auto state = std::make_unique<State>();
  state->render = std::move(render);
  state->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  state->listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (state->wake_fd < 0 || state->listen_fd < 0) {
    return Status::Internal("metrics server: " + internal::ErrnoText(errno));
  }
  const int one = 1;
  ::setsockopt(state->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(state->listen_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(state->listen_fd, 16) != 0) {
    return Status::Unavailable("metrics server: cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                               internal::ErrnoText(errno) + " (pick another port, or 0 for a free one)");
  }
  socklen_t len = sizeof addr;
  ::getsockname(state->listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int bound = ntohs(addr.sin_port);
  State* raw = state.get();
  try {
    state->thread = std::thread([raw] { raw->run(); });
  } catch (const std::system_error& e) {
    return Status::ResourceExhausted(std::string("metrics server: cannot start its thread: ") + e.what());
  }
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(state), bound));
}

MetricsServer::MetricsServer(std::unique_ptr<State> state, int port) : state_(std::move(state)), port_(port) {}

MetricsServer::~MetricsServer() {
  const std::uint64_t one = 1;
  (void)!::write(state_->wake_fd, &one, sizeof one);
  if (state_->thread.joinable()) state_->thread.join();
}

long long MetricsServer::served() const { return state_->served.load(); }

}  // namespace r2e
