// MetricsServer over real loopback sockets: the page, the errors a client
// can cause, a silent client, a taken port; and PrometheusText read by the
// Prometheus project's own parser (python3-prometheus-client) when present.
#include "r2e/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "r2e/rollout_stats.h"

namespace r2e {
namespace {

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Sends `request` and reads the whole response (the server closes).
std::string Exchange(int port, const std::string& request) {
  const int fd = Connect(port);
  if (fd < 0) return "connect failed";
  (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return response;
}

TEST(MetricsServerTest, ServesTheTextAndRefusesWhatIsNotAScrape) {
  std::atomic<int> renders{0};
  auto server = MetricsServer::Start(0, [&] {
    ++renders;
    return std::string("r2e_test_value 42\n");
  });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int port = (*server)->port();
  ASSERT_GT(port, 0);

  const std::string ok = Exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << ok;
  EXPECT_NE(ok.find("Content-Length: 18\r\n"), std::string::npos) << ok;
  EXPECT_TRUE(ok.ends_with("\r\n\r\nr2e_test_value 42\n")) << ok;
  EXPECT_EQ(renders, 1);

  EXPECT_EQ(Exchange(port, "GET /other HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(Exchange(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(Exchange(port, "garbage\n\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(renders, 1);  // none of those rendered

  // A client that connects and says nothing, then goes: the next is served.
  const int silent = Connect(port);
  ASSERT_GE(silent, 0);
  ::close(silent);
  EXPECT_EQ(Exchange(port, "GET / HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200 OK", 0), 0u);
  EXPECT_EQ((*server)->served(), 5);

  // The port is taken while the server lives, free after.
  auto second = MetricsServer::Start(port, [] { return std::string(); });
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
  EXPECT_NE(second.status().message().find(std::to_string(port)), std::string::npos);
  server->reset();
  EXPECT_EQ(Connect(port), -1);
}

TEST(MetricsServerTest, BadArguments) {
  EXPECT_EQ(MetricsServer::Start(-1, [] { return std::string(); }).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsServer::Start(70000, [] { return std::string(); }).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsServer::Start(0, nullptr).status().code(), StatusCode::kInvalidArgument);
}

TEST(MetricsServerTest, RenderThrowingIsA500AndTheServerGoesOn) {
  bool fail = true;
  auto server = MetricsServer::Start(0, [&]() -> std::string {
    if (fail) throw std::runtime_error("no stats yet");
    return "up 1\n";
  });
  ASSERT_TRUE(server.ok());
  const std::string error = Exchange((*server)->port(), "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(error.rfind("HTTP/1.1 500", 0), 0u) << error;
  EXPECT_NE(error.find("no stats yet"), std::string::npos);
  fail = false;
  EXPECT_TRUE(Exchange((*server)->port(), "GET /metrics HTTP/1.1\r\n\r\n").ends_with("up 1\n"));
}

// The exposition is what Prometheus reads: the Prometheus project's own
// parser (Debian's python3-prometheus-client) takes it, with every family
// typed and every value where we put it.
TEST(PrometheusTextTest, PrometheusClientParsesIt) {
  // Debian's python3 (where its packages live), not one earlier on PATH.
  const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  if (std::system((python + " -c 'import prometheus_client.parser' 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << "python3-prometheus-client is not installed (scripts/install-deps.sh installs it)";
  }
  RolloutStats s;
  s.live = 3;
  s.submitted = 128;
  s.steps = {10, 2, 1};
  s.reset = {4, 4000, 900, 1000, 1100, 1100};
  const std::string text = PrometheusText(s);
  const auto path = std::filesystem::temp_directory_path() / ("r2e-prom-" + std::to_string(::getpid()) + ".txt");
  std::ofstream(path) << text;
  const std::string script =
      "import sys, prometheus_client.parser as p\n"
      "fams = {f.name: f for f in p.text_string_to_metric_families(open(sys.argv[1]).read())}\n"
      "v = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in fams.values() for s in f.samples}\n"
      "assert fams['r2e_rollout_live'].type == 'gauge'\n"
      "assert fams['r2e_rollout_submitted'].type == 'counter'\n"
      "assert fams['r2e_rollout_phase_seconds'].type == 'summary'\n"
      "assert v[('r2e_rollout_live', ())] == 3\n"
      "assert v[('r2e_rollout_submitted_total', ())] == 128\n"
      "assert v[('r2e_rollout_steps_total', (('outcome', 'agent_error'),))] == 2\n"
      "assert v[('r2e_rollout_phase_seconds', (('phase', 'reset'), ('quantile', '0.5')))] == 0.9\n"
      "assert v[('r2e_rollout_phase_seconds_sum', (('phase', 'reset'),))] == 4.0\n"
      "assert v[('r2e_rollout_phase_seconds_count', (('phase', 'reset'),))] == 4\n"
      "print('parsed', len(fams))\n";
  const auto script_path = path.string() + ".py";
  std::ofstream(script_path) << script;
  const std::string cmd = python + " " + script_path + " " + path.string() + " 2>&1";
  std::string output;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) output += buf;
    EXPECT_EQ(::pclose(p), 0) << output << "\n" << text;
  }
  EXPECT_NE(output.find("parsed"), std::string::npos) << output;
  std::filesystem::remove(path);
  std::filesystem::remove(script_path);
}

}  // namespace
}  // namespace r2e
