// LlmAgent against model servers that fail: server errors retried a bounded
// number of times, slow servers cut by the read, request and episode time
// limits, and servers that are down or hang up. The model server is scripted
// (fake_model.h) or a raw socket in the test.
#include "r2e/llm_agent.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "fake_model.h"
#include "llm_agent_test_util.h"
#include "r2e/repo_env.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using llm_agent_test_util::MakeEnv;
using llm_agent_test_util::Options;
using llm_agent_test_util::Since;
using testing_model::FakeModel;
using testing_model::TextReply;
using testing_model::ToolCallReply;

// A loopback port that nothing listens on.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(LlmAgentTest, RetriesServerErrorsThenSucceeds) {
  FakeModel model;
  model.Script({
      {500, R"({"error": {"message": "engine overloaded"}})"},
      {503, "Service Unavailable"},
      {429, R"({"error": {"message": "rate limited"}})", 0ms, {{"Retry-After", "0"}}},
      TextReply("<function=finish>\n<parameter=command>submit</parameter>\n</function>"),
  });
  auto agent = LlmAgent::Create(Options(model));
  ASSERT_TRUE(agent.ok());
  auto env = MakeEnv();
  LlmEpisode ep = agent->Run(*env);
  EXPECT_TRUE(env->close().ok());
  EXPECT_EQ(ep.exit_reason, "finished") << ep.exit_reason;
  ASSERT_EQ(ep.records.size(), 1u);
  EXPECT_EQ(ep.records[0].attempts, 4);
  EXPECT_EQ(model.requests().size(), 4u);
}

TEST(LlmAgentTest, RetriesAreBounded) {
  FakeModel model;
  model.Script({{500, "a"}, {500, "b"}, {500, "c"}, {500, "d"}, {500, "e"}});
  LlmAgentOptions o = Options(model);
  o.client.max_retries = 2;
  auto agent = LlmAgent::Create(o);
  ASSERT_TRUE(agent.ok());
  auto env = MakeEnv();
  LlmEpisode ep = agent->Run(*env);
  EXPECT_TRUE(env->close().ok());
  EXPECT_EQ(ep.exit, LlmExit::kLlmError);
  EXPECT_NE(ep.exit_reason.find("HTTP 500"), std::string::npos) << ep.exit_reason;
  EXPECT_NE(ep.exit_reason.find("after 3 attempts"), std::string::npos) << ep.exit_reason;
  EXPECT_EQ(ep.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(model.requests().size(), 3u);
}

TEST(LlmAgentTest, SlowServerTimesOutInBoundedTime) {
  FakeModel model;
  model.Script({{200, TextReply("late").body, 20s}});
  LlmAgentOptions o = Options(model);
  o.client.read_timeout = 500ms;
  o.client.request_timeout = 1s;
  auto agent = LlmAgent::Create(o);
  ASSERT_TRUE(agent.ok());
  auto env = MakeEnv();
  const auto t0 = Clock::now();
  LlmEpisode ep = agent->Run(*env);
  const double took = Since(t0);
  EXPECT_TRUE(env->close().ok());
  EXPECT_EQ(ep.exit, LlmExit::kLlmError);
  EXPECT_EQ(ep.status.code(), StatusCode::kTimeout) << ep.exit_reason;
  EXPECT_NE(ep.exit_reason.find("read timeout"), std::string::npos) << ep.exit_reason;
  EXPECT_LT(took, 5.0);
  EXPECT_EQ(model.requests().size(), 1u);  // timeouts are not retried by default
}

TEST(LlmAgentTest, RequestTimeoutBoundsTheWholeAttempt) {
  // The read timeout alone would allow 30 s; the request timeout cuts at 1 s.
  FakeModel model;
  model.Script({{200, TextReply("late").body, 20s}});
  LlmAgentOptions o = Options(model);
  o.client.read_timeout = 30s;
  o.client.request_timeout = 1s;
  auto agent = LlmAgent::Create(o);
  ASSERT_TRUE(agent.ok());
  auto env = MakeEnv();
  const auto t0 = Clock::now();
  LlmEpisode ep = agent->Run(*env);
  EXPECT_LT(Since(t0), 5.0);
  EXPECT_TRUE(env->close().ok());
  EXPECT_EQ(ep.exit, LlmExit::kLlmError);
  EXPECT_EQ(ep.status.code(), StatusCode::kTimeout) << ep.exit_reason;
  EXPECT_NE(ep.exit_reason.find("did not complete within 1 s"), std::string::npos)
      << ep.exit_reason;
}

TEST(LlmAgentTest, TimeLimitCutsASlowModel) {
  FakeModel model;
  model.Script({
      ToolCallReply("execute_bash", R"({"cmd": "echo hi"})", "", "c1"),
      {200, TextReply("late").body, 20s},
  });
  LlmAgentOptions o = Options(model);
  o.client.read_timeout = 60s;
  o.client.request_timeout = 60s;
  o.time_limit = 3s;
  o.reset_env = false;  // reset here, so that a slow reset cannot eat the limit
  auto agent = LlmAgent::Create(o);
  ASSERT_TRUE(agent.ok());
  auto env = MakeEnv();
  ASSERT_TRUE(env->reset().ok());
  const auto t0 = Clock::now();
  LlmEpisode ep = agent->Run(*env);
  EXPECT_LT(Since(t0), 8.0);
  EXPECT_GE(Since(t0), 2.9);
  EXPECT_TRUE(env->close().ok());
  EXPECT_EQ(ep.exit_reason, "time_limit") << ep.exit_reason;
  EXPECT_EQ(ep.exit, LlmExit::kTimeLimit);
  EXPECT_EQ(ep.steps, 1);
}

TEST(LlmAgentTest, ServerDownIsAClearErrorAfterBoundedRetries) {
  LlmAgentOptions o;
  o.client.base_url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/v1";
  o.client.model = "m";
  o.client.max_retries = 2;
  o.client.initial_backoff = 10ms;
  o.client.connect_timeout = 2s;
  auto agent = LlmAgent::Create(o);
  ASSERT_TRUE(agent.ok());
  auto env = MakeEnv();
  const auto t0 = Clock::now();
  LlmEpisode ep = agent->Run(*env);
  EXPECT_LT(Since(t0), 10.0);
  EXPECT_TRUE(env->close().ok());
  EXPECT_EQ(ep.exit, LlmExit::kLlmError);
  EXPECT_EQ(ep.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(ep.exit_reason.find("cannot connect"), std::string::npos) << ep.exit_reason;
  EXPECT_NE(ep.exit_reason.find("after 3 attempts"), std::string::npos) << ep.exit_reason;
  EXPECT_EQ(ep.steps, 0);
}

TEST(LlmAgentTest, ServerThatHangsUpIsRetriedThenAnError) {
  // Accepts each connection, reads a little and closes it without a reply.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread rude([fd] {
    for (int i = 0; i < 3; ++i) {
      int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      char buf[256];
      (void)::recv(c, buf, sizeof buf, 0);
      ::close(c);
    }
  });
  LlmAgentOptions o;
  o.client.base_url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/v1";
  o.client.model = "m";
  o.client.max_retries = 2;
  o.client.initial_backoff = 10ms;
  o.client.read_timeout = 5s;
  auto env = MakeEnv();
  const auto t0 = Clock::now();
  LlmEpisode ep = LlmAgent::Create(o)->Run(*env);
  EXPECT_LT(Since(t0), 5.0);
  ::shutdown(fd, SHUT_RDWR);  // wakes accept() if fewer attempts came
  rude.join();
  ::close(fd);
  EXPECT_TRUE(env->close().ok());
  EXPECT_EQ(ep.exit, LlmExit::kLlmError);
  EXPECT_EQ(ep.status.code(), StatusCode::kUnavailable) << ep.exit_reason;
  EXPECT_NE(ep.exit_reason.find("after 3 attempts"), std::string::npos) << ep.exit_reason;
}

}  // namespace
}  // namespace r2e
