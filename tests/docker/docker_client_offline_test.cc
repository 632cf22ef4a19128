// DockerClient without a daemon: HTTP status to Status mapping, connecting
// to an absent socket and the DOCKER_HOST choice, and a stand-in daemon on a
// Unix socket for version negotiation and streamed pulls.
#include "docker/docker_client.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/text.h"

namespace r2e::docker {
namespace {

using namespace std::chrono_literals;

// Restores an environment variable when the test ends.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    if (old != nullptr) old_ = old;
    had_ = old != nullptr;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(DockerToStatusTest, MapsCodesAndMessages) {
  Status s = ToStatus(404, R"({"message":"No such image: x:y"})", "inspect image x:y");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "docker inspect image x:y: No such image: x:y");

  s = ToStatus(
      409,
      R"({"message":"Conflict. The container name \"/a\" is already in use by container \"0123\"."})",
      "create container a");
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  s = ToStatus(409, R"({"message":"Container 0123 is not running"})", "exec in 0123");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ToStatus(400, R"({"message":"bad"})", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ToStatus(500, R"({"message":"boom"})", "x").code(), StatusCode::kInternal);
  // Podman's compatible API: 500s whose libpod wording says what Docker's 409 and 400 say.
  EXPECT_EQ(ToStatus(500, R"({"message":"can only kill running containers. 0123 is in state exited: container state improper"})", "kill").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ToStatus(500, R"({"message":"creating container storage: the container name \"n\" is already in use by 0123. You have to remove that container to be able to reuse that name: that name is already in use"})", "create").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(ToStatus(500, R"({"message":"running container create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument"})", "create").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ToStatus(503, "", "x").code(), StatusCode::kUnavailable);
  EXPECT_TRUE(ToStatus(304, "", "x").ok());
  EXPECT_TRUE(ToStatus(204, "", "x").ok());

  // Not JSON: the body text; empty: the HTTP status; long: truncated.
  EXPECT_EQ(ToStatus(400, "plain words\n", "x").message(), "docker x: plain words");
  EXPECT_EQ(ToStatus(404, "", "x").message(), "docker x: HTTP 404");
  EXPECT_LT(ToStatus(500, std::string(5000, 'a'), "x").message().size(), 1100u);
}

TEST(DockerConnectTest, AbsentSocketIsUnavailableWithAHint) {
  ClientOptions o;
  o.socket_path = "/nonexistent.sock";
  auto c = DockerClient::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("cannot reach the Docker daemon at /nonexistent.sock"),
            std::string::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find("No such file or directory"), std::string::npos);
  EXPECT_NE(c.status().message().find("DOCKER_HOST"), std::string::npos);
}

TEST(DockerConnectTest, DockerHostChoosesTheSocket) {
  {
    ScopedEnv env("DOCKER_HOST", "unix:///nonexistent-host.sock");
    auto c = DockerClient::Connect();
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(c.status().message().find("/nonexistent-host.sock"), std::string::npos);
  }
  {
    ScopedEnv env("DOCKER_HOST", "tcp://127.0.0.1:2375");
    auto c = DockerClient::Connect();
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("tcp://127.0.0.1:2375"), std::string::npos);
  }
}

// A stand-in daemon on a Unix socket for what the real one cannot show
// offline: a newer daemon's version negotiation and streamed pulls.
class FakeDaemon {
 public:
  FakeDaemon() {
    path_ = "/tmp/r2e-fake-docker-" + internal::RandomHex(6) + ".sock";
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeDaemon() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  static std::string Chunked(const std::vector<std::string>& pieces) {
    std::string out =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    for (const auto& p : pieces) {
      char len[16];
      std::snprintf(len, sizeof len, "%zx", p.size());
      out += std::string(len) + "\r\n" + p + "\r\n";
    }
    return out + "0\r\n\r\n";
  }
  static std::string Plain(int code, const std::string& body, const std::string& extra = {}) {
    return "HTTP/1.1 " + std::to_string(code) +
           " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
           "Connection: close\r\n\r\n" + body;
  }

  std::string answer(const std::string& head) {
    if (head.rfind("GET /_ping ", 0) == 0) return Plain(200, "OK", "Api-Version: 1.45\r\n");
    if (head.rfind("GET /version ", 0) == 0) {
      return Plain(200, R"({"ApiVersion":"1.45","MinAPIVersion":"1.44"})");
    }
    if (head.find("/images/create?fromImage=good&tag=latest ") != std::string::npos) {
      // A line split across chunks, and two lines in one chunk.
      return Chunked({R"({"status":"Pulling from library/good","id":"lat)",
                      "est\"}\n"
                      R"({"status":"Downloading","progress":"[=> ] 1MB/2MB","id":"abc"})"
                      "\n",
                      R"({"status":"Status: Downloaded newer image for good:latest"})"
                      "\n"});
    }
    if (head.find("/images/create?fromImage=bad&tag=v1 ") != std::string::npos) {
      return Chunked({"{\"status\":\"Pulling from library/bad\",\"id\":\"v1\"}\n",
                      R"({"errorDetail":{"message":"manifest for bad:v1 not found"},)"
                      R"("error":"manifest for bad:v1 not found"})"
                      "\n"});
    }
    if (head.find("/images/create?fromImage=flaky&tag=latest ") != std::string::npos) {
      return Chunked({"{\"error\":\"unexpected EOF\"}"});
    }
    if (head.find(" /v1.44/slow ") != std::string::npos) {
      std::this_thread::sleep_for(1500ms);
      return Plain(200, "{}");
    }
    return Plain(404, R"({"message":"page not found"})");
  }

  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(head);
      }
      std::string out = answer(head);
      ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

TEST(DockerFakeDaemonTest, NewerDaemonGetsItsMinimumVersion) {
  FakeDaemon daemon;
  ClientOptions o;
  o.socket_path = daemon.path();
  auto c = DockerClient::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // Ours is 1.41, the daemon's 1.45 with a minimum of 1.44: 1.44.
  EXPECT_EQ((*c)->api_version(), "1.44");
  auto reqs = daemon.requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_NE(reqs[0].find("Host: docker\r\n"), std::string::npos) << reqs[0];
}

TEST(DockerFakeDaemonTest, PullStreamsProgressDetectsInStreamErrorsAndTimeouts) {
  FakeDaemon daemon;
  ClientOptions o;
  o.socket_path = daemon.path();
  o.api_version = "1.44";
  o.registry_auth = "eyJ1c2VybmFtZSI6InUifQ==";
  auto c = DockerClient::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();

  std::vector<std::string> lines;
  auto collect = [&](const std::string& l) { lines.push_back(l); };
  Status s = (*c)->pull_image("good", collect);
  EXPECT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "latest: Pulling from library/good");
  EXPECT_EQ(lines[1], "abc: Downloading [=> ] 1MB/2MB");
  auto reqs = daemon.requests();
  EXPECT_NE(reqs.back().find("X-Registry-Auth: eyJ1c2VybmFtZSI6InUifQ==\r\n"), std::string::npos)
      << reqs.back();

  lines.clear();
  s = (*c)->pull_image("bad:v1", collect);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("manifest for bad:v1 not found"), std::string::npos) << s.ToString();
  EXPECT_EQ(lines.size(), 1u);

  auto start = Clock::now();
  auto slow = (*c)->request("GET", "/slow", "", 300ms);
  EXPECT_EQ(slow.status().code(), StatusCode::kTimeout) << slow.status().ToString();
  EXPECT_LT(Clock::now() - start, 1200ms);

  s = (*c)->pull_image("flaky");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  s = (*c)->pull_image("");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace r2e::docker
