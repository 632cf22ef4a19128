// LlmAgent and LlmClient against a scripted model server inside the test
// (httplib::Server on 127.0.0.1, a free port, its own thread): full episodes
// on the demo task in function-calling and XML mode, malformed replies,
// retries, timeouts, a server that is down, and the token and time limits.
#include "r2e/llm_agent.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "docker/docker_client.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/tools.h"
#include "fake_model.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using testing_model::FakeModel;
using testing_model::MessageReply;
using testing_model::Reply;
using testing_model::TextReply;
using testing_model::ToolCallReply;
using testing_model::Usage;

Task DemoTask() {
  auto tasks = LoadTasks(std::string(R2E_SOURCE_DIR) + "/examples/tasks/demo.jsonl");
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  return tasks.ok() ? tasks->front() : Task{};
}

std::vector<std::string> ScriptedActions(const Task& task) {
  std::vector<std::string> out;
  for (const auto& a : task.row.at("scripted_actions")) out.push_back(a.get<std::string>());
  return out;
}

LlmAgentOptions Options(const FakeModel& model) {
  LlmAgentOptions o;
  o.client.base_url = model.base_url();
  o.client.model = "test-model";
  o.client.api_key = "test-key";
  o.client.initial_backoff = 10ms;
  o.client.max_backoff = 50ms;
  o.client.read_timeout = 10s;
  o.client.request_timeout = 20s;
  o.max_steps = 20;
  return o;
}

std::unique_ptr<RepoEnv> MakeEnv() {
  auto env = RepoEnv::Create(DemoTask());
  EXPECT_TRUE(env.ok()) << env.status().ToString();
  return std::move(env).value();
}

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

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

TEST(LlmAgentTest, FunctionCallingEpisodeFixesTheDemoTask) {
  FakeModel model;
  Task task = DemoTask();
  std::vector<Reply> replies;
  int i = 0;
  for (const std::string& text : ScriptedActions(task)) {
    Action a = ParseAction(text);
    Json args = Json::object();
    for (const auto& [k, v] : a.parameters) args[k] = v;
    ++i;
    replies.push_back(ToolCallReply(a.function_name, args.dump(), "Step " + std::to_string(i) + ".",
                                    "call_" + std::to_string(i), Usage(100 * i, 10)));
  }
  model.Script(replies);

  auto agent = LlmAgent::Create(Options(model));
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  auto env = MakeEnv();
  int callbacks = 0;
  LlmEpisode ep = agent->Run(*env, [&](const LlmStep& s) { EXPECT_EQ(s.step, ++callbacks); });
  EXPECT_EQ(ep.exit, LlmExit::kFinished) << ep.exit_reason;
  EXPECT_EQ(ep.exit_reason, "finished");
  EXPECT_EQ(ep.steps, 6);
  EXPECT_EQ(callbacks, 6);
  EXPECT_EQ(ep.model_calls, 6);
  EXPECT_EQ(ep.prompt_tokens, 2100);
  EXPECT_EQ(ep.completion_tokens, 60);
  EXPECT_EQ(ep.total_tokens, 2160);
  EXPECT_EQ(ep.last_context_tokens, 610);
  ASSERT_EQ(ep.records.size(), 6u);
  EXPECT_EQ(ep.records[0].action.function_name, "execute_bash");
  EXPECT_EQ(ep.records[0].thought, "Step 1.");
  EXPECT_EQ(ep.records[0].tool_call_id, "call_1");
  EXPECT_NE(ep.records[0].observation.find("def moving_average"), std::string::npos);
  EXPECT_TRUE(ep.records[5].done);

  auto reward = env->compute_reward();
  ASSERT_TRUE(reward.ok()) << reward.status().ToString();
  EXPECT_EQ(*reward, 1.0);
  EXPECT_TRUE(env->close().ok());

  // What the model was sent.
  auto requests = model.requests();
  ASSERT_EQ(requests.size(), 6u);
  for (const auto& p : model.paths()) EXPECT_EQ(p, "/v1/chat/completions");
  for (const auto& a : model.auth()) EXPECT_EQ(a, "Bearer test-key");
  const Json& first = requests[0];
  EXPECT_EQ(first["model"], "test-model");
  ASSERT_TRUE(first["tools"].is_array());
  std::vector<std::string> names;
  for (const auto& t : first["tools"]) names.push_back(t["function"]["name"]);
  EXPECT_NE(std::find(names.begin(), names.end(), "execute_bash"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "finish"), names.end());
  ASSERT_EQ(first["messages"].size(), 2u);
  EXPECT_EQ(first["messages"][0]["role"], "system");
  EXPECT_EQ(first["messages"][1]["role"], "user");
  EXPECT_NE(first["messages"][1]["content"].get<std::string>().find(task.Instruction()),
            std::string::npos);
  // The second request carries the assistant's call and the tool's answer.
  const Json& msgs = requests[1]["messages"];
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[2]["role"], "assistant");
  EXPECT_EQ(msgs[2]["tool_calls"][0]["id"], "call_1");
  EXPECT_EQ(msgs[3]["role"], "tool");
  EXPECT_EQ(msgs[3]["tool_call_id"], "call_1");
  EXPECT_EQ(msgs[3]["content"].get<std::string>().rfind(
                "Exit code: 0\nExecution output of [execute_bash]:\n", 0),
            0u);
  // The episode keeps the whole conversation: system, user, 6 x (assistant, tool).
  EXPECT_EQ(ep.messages.size(), 14u);
}

// The same episode in a container: the agent only sees RepoEnv, so the
// runtime is a detail. Skips when no daemon or the demo image is missing.
TEST(LlmAgentTest, FunctionCallingEpisodeOnDocker) {
  auto client = docker::DockerClient::Connect();
  if (!client.ok() || !(*client)->inspect_image("r2e-demo/textstats:latest").ok()) {
    GTEST_SKIP() << "no Docker daemon or demo image (scripts/build-test-images.sh)";
  }
  FakeModel model;
  Task task = DemoTask();
  std::vector<Reply> replies;
  int i = 0;
  for (const std::string& text : ScriptedActions(task)) {
    Action a = ParseAction(text);
    Json args = Json::object();
    for (const auto& [k, v] : a.parameters) args[k] = v;
    ++i;
    replies.push_back(ToolCallReply(a.function_name, args.dump(), "Step " + std::to_string(i) + ".",
                                    "call_" + std::to_string(i), Usage(100 * i, 10)));
  }
  model.Script(replies);
  auto agent = LlmAgent::Create(Options(model));
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  RepoEnvOptions o;
  o.runtime = DockerRuntimeFactory();
  auto env = RepoEnv::Create(task, o);
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  LlmEpisode ep = agent->Run(**env, nullptr);
  EXPECT_EQ(ep.exit, LlmExit::kFinished) << ep.exit_reason;
  auto reward = (*env)->compute_reward();
  ASSERT_TRUE(reward.ok()) << reward.status().ToString();
  EXPECT_EQ(*reward, 1.0);
  EXPECT_TRUE((*env)->close().ok());
}

TEST(LlmAgentTest, XmlModeEpisodeFixesTheDemoTask) {
  FakeModel model;
  Task task = DemoTask();
  std::vector<Reply> replies;
  for (const std::string& text : ScriptedActions(task))
    replies.push_back(TextReply("<think>Let me think.</think>\nFree text.\n" + text));
  model.Script(replies);
  LlmAgentOptions o = Options(model);
  o.xml_mode = true;
  auto agent = LlmAgent::Create(o);
  ASSERT_TRUE(agent.ok());
  auto env = MakeEnv();
  LlmEpisode ep = agent->Run(*env);
  EXPECT_EQ(ep.exit_reason, "finished");
  EXPECT_EQ(ep.steps, 6);
  // As the scaffold's agent: the <think> block is the thought.
  EXPECT_EQ(ep.records[2].thought, "<think>Let me think.</think>");
  EXPECT_EQ(ep.total_tokens, 0);  // no usage sent
  EXPECT_EQ(*env->compute_reward(), 1.0);
  EXPECT_TRUE(env->close().ok());

  auto requests = model.requests();
  ASSERT_EQ(requests.size(), 6u);
  EXPECT_FALSE(requests[0].contains("tools"));
  const std::string system = requests[0]["messages"][0]["content"];
  EXPECT_NE(system.find("<function="), std::string::npos);
  EXPECT_NE(system.find("execute_bash"), std::string::npos);
  EXPECT_NE(system.find("finish"), std::string::npos);
  const Json& msgs = requests[1]["messages"];
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[2]["role"], "assistant");
  // The history keeps the thought and the call, not the free text.
  EXPECT_EQ(msgs[2]["content"],
            "<think>Let me think.</think>\n\n" + ParseResponse(ScriptedActions(task)[0]).ToXml());
  EXPECT_EQ(msgs[3]["role"], "user");
  EXPECT_EQ(msgs[3]["content"].get<std::string>().rfind(
                "Exit code: 0\nExecution output of [execute_bash]", 0),
            0u);
}

TEST(LlmAgentTest, MalformedRepliesBecomeObservations) {
  FakeModel model;
  Json two_calls = {
      {"role", "assistant"},
      {"content", nullptr},
      {"tool_calls",
       {{{"id", "a"},
         {"type", "function"},
         {"function", {{"name", "execute_bash"}, {"arguments", R"({"cmd": "echo one"})"}}}},
        {{"id", "b"},
         {"type", "function"},
         {"function", {{"name", "execute_bash"}, {"arguments", R"({"cmd": "echo two"})"}}}}}}};
  Json nameless = {
      {"role", "assistant"},
      {"content", "calling"},
      {"tool_calls", {{{"id", "x"}, {"type", "function"}, {"function", {{"arguments", "{}"}}}}}}};
  Json object_args = {
      {"role", "assistant"},
      {"content", nullptr},
      {"tool_calls",
       {{{"id", "o"},
         {"type", "function"},
         {"function", {{"name", "execute_bash"}, {"arguments", {{"cmd", "echo object"}}}}}}}}};
  model.Script({
      ToolCallReply("execute_bash", "{not json", "", "bad"),    // 1: arguments do not parse
      TextReply(""),                                            // 2: empty content, no call
      TextReply("I will just think aloud."),                    // 3: no function call
      MessageReply(nameless),                                   // 4: a call without a name
      MessageReply(two_calls),                                  // 5: two calls: one runs
      MessageReply(object_args),                                // 6: arguments as an object
      ToolCallReply("teleport", R"({"to": "moon"})", "", "t"),  // 7: unknown tool
      TextReply(
          "Done.\n<function=finish>\n<parameter=command>submit</parameter>\n</function>"),  // 8
  });
  auto agent = LlmAgent::Create(Options(model));
  ASSERT_TRUE(agent.ok());
  auto env = MakeEnv();
  LlmEpisode ep = agent->Run(*env);
  EXPECT_TRUE(env->close().ok());
  EXPECT_EQ(ep.exit_reason, "finished") << ep.status.ToString();
  ASSERT_EQ(ep.steps, 8);
  const auto& r = ep.records;
  EXPECT_FALSE(r[0].error.empty());
  EXPECT_NE(r[0].observation.find("not valid JSON"), std::string::npos) << r[0].observation;
  EXPECT_EQ(r[1].observation, kNoFunctionCallReminder);
  EXPECT_EQ(r[2].observation, kNoFunctionCallReminder);
  EXPECT_NE(r[3].observation.find("without a function name"), std::string::npos)
      << r[3].observation;
  EXPECT_NE(r[4].observation.find("one"), std::string::npos);
  EXPECT_EQ(r[4].observation.find("two"), std::string::npos);
  EXPECT_NE(r[5].observation.find("object"), std::string::npos) << r[5].observation;
  EXPECT_NE(r[6].observation.find("teleport"), std::string::npos);
  EXPECT_TRUE(r[7].done);

  // The history stays valid for the server: the bad arguments are echoed as
  // {}, every tool call is answered, observations of content replies are
  // user messages.
  auto requests = model.requests();
  ASSERT_EQ(requests.size(), 8u);
  const Json& m = requests.back()["messages"];
  EXPECT_EQ(m[2]["tool_calls"][0]["function"]["arguments"], "{}");
  EXPECT_EQ(m[3]["role"], "tool");
  EXPECT_EQ(m[3]["tool_call_id"], "bad");
  EXPECT_EQ(m[5]["role"], "user");            // after the empty reply
  EXPECT_FALSE(m[8].contains("tool_calls"));  // the nameless call is not echoed
  EXPECT_EQ(m[9]["role"], "user");
  EXPECT_EQ(m[10]["tool_calls"].size(), 2u);
  EXPECT_EQ(m[11]["tool_call_id"], "a");
  EXPECT_EQ(m[12]["tool_call_id"], "b");
  EXPECT_NE(m[12]["content"].get<std::string>().find("skipped"), std::string::npos);
}

TEST(LlmAgentTest, GarbageResponsesEndWithAClearReason) {
  struct Case {
    Reply reply;
    std::string expect;
  };
  std::vector<Case> cases = {
      {{200, "<html>502 Bad Gateway</html>"}, "not JSON"},
      {{200, R"({"id": "x", "object": "chat.completion"})"}, "no choices"},
      {{200, R"({"choices": []})"}, "no choices"},
      {{200, R"({"choices": [{"index": 0}]})"}, "no message"},
      {{200, R"([1, 2, 3])"}, "not a JSON object"},
      {{200, ""}, "not JSON"},
      {{401, R"({"error": {"message": "Incorrect API key provided"}})"}, "HTTP 401"},
      {{404, R"({"detail": "model `nope` does not exist"})"}, "does not exist"},
  };
  for (const Case& c : cases) {
    FakeModel model;
    model.Script({c.reply});
    auto agent = LlmAgent::Create(Options(model));
    ASSERT_TRUE(agent.ok());
    auto env = MakeEnv();
    const auto t0 = Clock::now();
    LlmEpisode ep = agent->Run(*env);
    EXPECT_LT(Since(t0), 10.0);
    EXPECT_TRUE(env->close().ok());
    EXPECT_EQ(ep.exit, LlmExit::kLlmError) << c.reply.body;
    EXPECT_EQ(ep.exit_reason.rfind("llm_error: ", 0), 0u) << ep.exit_reason;
    EXPECT_NE(ep.exit_reason.find(c.expect), std::string::npos) << ep.exit_reason;
    EXPECT_EQ(ep.steps, 0);
    EXPECT_EQ(model.requests().size(), 1u) << "not retried: " << c.reply.body;
  }
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

TEST(LlmAgentTest, TokenLimitFromUsage) {
  FakeModel model;
  std::vector<Reply> replies;
  for (int i = 0; i < 5; ++i) {
    replies.push_back(ToolCallReply("execute_bash", R"({"cmd": "true"})", "",
                                    "c" + std::to_string(i), Usage(500, 100)));
  }
  model.Script(replies);
  LlmAgentOptions o = Options(model);
  o.max_total_tokens = 1000;
  auto agent = LlmAgent::Create(o);
  ASSERT_TRUE(agent.ok());
  auto env = MakeEnv();
  LlmEpisode ep = agent->Run(*env);
  EXPECT_TRUE(env->close().ok());
  EXPECT_EQ(ep.exit_reason, "max_tokens");
  EXPECT_EQ(ep.steps, 2);
  EXPECT_EQ(ep.total_tokens, 1200);
  EXPECT_EQ(model.requests().size(), 2u);
}

TEST(LlmAgentTest, ContextLimitAndContextOverflowReply) {
  {
    FakeModel model;
    model.Script({ToolCallReply("execute_bash", R"({"cmd": "true"})", "", "c1", Usage(3000, 200)),
                  ToolCallReply("execute_bash", R"({"cmd": "true"})", "", "c2", Usage(4000, 200))});
    LlmAgentOptions o = Options(model);
    o.max_context_tokens = 4096;
    auto env = MakeEnv();
    LlmEpisode ep = LlmAgent::Create(o)->Run(*env);
    EXPECT_TRUE(env->close().ok());
    EXPECT_EQ(ep.exit_reason, "max_tokens");
    EXPECT_EQ(ep.steps, 2);
  }
  {
    FakeModel model;
    model.Script(
        {{400,
          R"({"object": "error", "message": "This model's maximum context length is 32768 tokens. )"
          R"(However, you requested 40000 tokens.", "code": 400})"}});
    auto env = MakeEnv();
    LlmEpisode ep = LlmAgent::Create(Options(model))->Run(*env);
    EXPECT_TRUE(env->close().ok());
    EXPECT_EQ(ep.exit_reason, "max_tokens");
    EXPECT_EQ(ep.status.code(), StatusCode::kResourceExhausted);
    EXPECT_NE(ep.status.message().find("maximum context length"), std::string::npos);
  }
}

TEST(LlmAgentTest, StepLimit) {
  FakeModel model;
  model.Script({TextReply("hmm"), TextReply("hmm"), TextReply("hmm"), TextReply("hmm")});
  LlmAgentOptions o = Options(model);
  o.max_steps = 3;
  auto env = MakeEnv();
  LlmEpisode ep = LlmAgent::Create(o)->Run(*env);
  EXPECT_TRUE(env->close().ok());
  EXPECT_EQ(ep.exit_reason, "max_steps");
  EXPECT_EQ(ep.scaffold_exit_reason, "abs_step_limit");
  EXPECT_EQ(ep.steps, 3);
  EXPECT_EQ(model.requests().size(), 3u);
  // Without a preset the smaller of the two limits ends the episode.
  FakeModel model2;
  model2.Script({TextReply("hmm"), TextReply("hmm"), TextReply("hmm")});
  LlmAgentOptions o2 = Options(model2);
  o2.max_steps = 10;
  o2.max_steps_absolute = 2;
  auto env2 = MakeEnv();
  LlmEpisode ep2 = LlmAgent::Create(o2)->Run(*env2);
  EXPECT_TRUE(env2->close().ok());
  EXPECT_EQ(ep2.exit_reason, "max_steps");
  EXPECT_EQ(ep2.steps, 2);
}

TEST(LlmAgentTest, EnvErrorsAreReported) {
  FakeModel model;
  model.Script(
      {TextReply("<function=finish>\n<parameter=command>submit</parameter>\n</function>")});
  LlmAgentOptions o = Options(model);
  o.reset_env = false;  // the env was never reset: step() fails
  auto env = MakeEnv();
  LlmEpisode ep = LlmAgent::Create(o)->Run(*env);
  EXPECT_EQ(ep.exit, LlmExit::kEnvError);
  EXPECT_EQ(ep.exit_reason.rfind("env_error: ", 0), 0u) << ep.exit_reason;
  EXPECT_EQ(ep.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(env->close().ok());
}

TEST(LlmClientTest, OptionsAreChecked) {
  LlmClientOptions o;
  o.model = "m";
  for (const char* bad :
       {"", "ftp://host/v1", "127.0.0.1:8000/v1", "http://", "http://host:99999/v1",
        "http://host:80x/v1", "http://user:pw@host/v1", "http://ho st/v1", "http://[::1/v1"}) {
    o.base_url = bad;
    auto c = LlmClient::Create(o);
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  o.base_url = "http://127.0.0.1:8000/v1";
  o.model = "";
  EXPECT_EQ(LlmClient::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.model = "m";
  struct Case {
    const char* base;
    const char* endpoint;
  };
  for (const Case& c :
       {Case{"http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1/chat/completions"},
        Case{"http://localhost:8000/v1/", "http://localhost:8000/v1/chat/completions"},
        Case{"HTTPS://api.example.com/v1", "https://api.example.com:443/v1/chat/completions"},
        Case{"http://h/openai/v1/chat/completions", "http://h:80/openai/v1/chat/completions"},
        Case{"http://[::1]:9000", "http://[::1]:9000/chat/completions"}}) {
    o.base_url = c.base;
    auto client = LlmClient::Create(o);
    ASSERT_TRUE(client.ok()) << c.base << ": " << client.status().ToString();
    EXPECT_EQ((*client)->endpoint(), c.endpoint);
  }
  LlmAgentOptions a;
  a.client = o;
  a.tools = {Json{{"description", "no name"}}};
  EXPECT_EQ(LlmAgent::Create(a).status().code(), StatusCode::kInvalidArgument);
}

TEST(LlmClientTest, ApiKeyFromTheEnvironment) {
  FakeModel model;
  model.Script({TextReply("a"), TextReply("b"), TextReply("c")});
  LlmClientOptions o;
  o.base_url = model.base_url();
  o.model = "m";
  const Json messages = Json::array({{{"role", "user"}, {"content", "hi"}}});
  ::unsetenv("R2E_API_KEY");
  ::setenv("OPENAI_API_KEY", "from-openai", 1);
  ASSERT_TRUE(LlmClient::Create(o).value()->Complete(messages).ok());
  ::setenv("R2E_API_KEY", "from-r2e", 1);
  ASSERT_TRUE(LlmClient::Create(o).value()->Complete(messages).ok());
  ::unsetenv("R2E_API_KEY");
  ::unsetenv("OPENAI_API_KEY");
  ASSERT_TRUE(LlmClient::Create(o).value()->Complete(messages).ok());
  auto auth = model.auth();
  ASSERT_EQ(auth.size(), 3u);
  EXPECT_EQ(auth[0], "Bearer from-openai");
  EXPECT_EQ(auth[1], "Bearer from-r2e");
  EXPECT_EQ(auth[2], "");
}

// docs/reliability.md: credentials never reach a Status or a log, even when
// the server echoes them in its error body.
TEST(LlmClientTest, ApiKeyEchoedByTheServerIsRedacted) {
  FakeModel model;
  const std::string key = "sk-r2e-test-0123456789abcdef";
  model.Script({{401, R"({"error": {"message": "Incorrect API key provided: )" + key +
                          R"(. Key ending in )" + key.substr(key.size() - 8) + R"("}})"}});
  LlmClientOptions o;
  o.base_url = model.base_url();
  o.model = "m";
  o.api_key = key;
  auto reply = LlmClient::Create(o).value()->Complete(Json::array({{{"role", "user"}, {"content", "hi"}}}));
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.status().message().find("401"), std::string::npos) << reply.status().ToString();
  EXPECT_EQ(reply.status().ToString().find(key), std::string::npos) << reply.status().ToString();
  EXPECT_EQ(reply.status().ToString().find(key.substr(key.size() - 8)), std::string::npos)
      << reply.status().ToString();
  EXPECT_NE(reply.status().ToString().find("[redacted]"), std::string::npos) << reply.status().ToString();
}

TEST(LlmClientTest, RequestFields) {
  FakeModel model;
  model.Script({TextReply("ok")});
  LlmClientOptions o;
  o.base_url = model.base_url();
  o.model = "m";
  o.temperature = 0.5;
  o.max_completion_tokens = 256;
  o.extra_body = {{"stop", {"</function>"}}, {"top_k", 20}};
  auto reply =
      LlmClient::Create(o).value()->Complete(Json::array({{{"role", "user"}, {"content", "hi"}}}));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->content, "ok");
  const Json req = model.requests().at(0);
  EXPECT_EQ(req["temperature"], 0.5);
  EXPECT_EQ(req["max_tokens"], 256);
  EXPECT_EQ(req["stop"][0], "</function>");
  EXPECT_EQ(req["top_k"], 20);
  EXPECT_FALSE(req.contains("tools"));
}

TEST(LlmClientTest, OversizedResponseIsRejected) {
  FakeModel model;
  model.Script({TextReply(std::string(200'000, 'x'))});
  LlmClientOptions o;
  o.base_url = model.base_url();
  o.model = "m";
  o.max_response_bytes = 100'000;
  auto reply =
      LlmClient::Create(o).value()->Complete(Json::array({{{"role", "user"}, {"content", "hi"}}}));
  EXPECT_EQ(reply.status().code(), StatusCode::kInternal);
  EXPECT_NE(reply.status().message().find("larger than"), std::string::npos)
      << reply.status().ToString();
}

TEST(ParseChatCompletionTest, Shapes) {
  auto r = ParseChatCompletion(R"({"choices": [{"message": {"role": "assistant",
      "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
      "reasoning_content": "thinking"}, "finish_reason": "length"}],
      "usage": {"prompt_tokens": 3, "completion_tokens": 4}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->content, "ab");
  EXPECT_EQ(r->reasoning_content, "thinking");
  EXPECT_EQ(r->finish_reason, "length");
  EXPECT_TRUE(r->usage.reported);
  EXPECT_EQ(r->usage.total_tokens, 7);

  auto calls = ParseChatCompletion(R"({"choices": [{"message": {"content": null, "tool_calls": [
      {"id": "1", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}},
      {"id": "2", "type": "function", "function": {"name": "g"}},
      "junk"]}}]})");
  ASSERT_TRUE(calls.ok()) << calls.status().ToString();
  EXPECT_EQ(calls->content, "");
  ASSERT_EQ(calls->tool_calls.size(), 3u);
  EXPECT_EQ(calls->tool_calls[0].arguments, R"({"x":1})");
  EXPECT_EQ(calls->tool_calls[1].arguments, "");
  EXPECT_EQ(calls->tool_calls[2].name, "");
  EXPECT_FALSE(calls->usage.reported);

  EXPECT_FALSE(ParseChatCompletion("").ok());
  EXPECT_FALSE(ParseChatCompletion("{\"choices\": [1]}").ok());
  EXPECT_FALSE(ParseChatCompletion("{\"choices\": [{\"message\": \"hi\"}]}").ok());
  auto err = ParseChatCompletion(R"({"error": {"message": "boom"}})");
  EXPECT_NE(err.status().message().find("boom"), std::string::npos);
}

TEST(LlmAgentTest, PromptsAndSchemasFromOptions) {
  LlmAgentOptions o;
  o.client.base_url = "http://127.0.0.1:1/v1";
  o.client.model = "m";
  o.tools = {
      Json{{"name", "my_tool"},
           {"description", "Does things."},
           {"parameters",
            {{"type", "object"},
             {"properties",
              {{"mode", {{"type", "string"}, {"enum", {"a", "b"}}, {"description", "How."}}}}},
             {"required", {"mode"}}}}},
      Json{{"name", "submit"}}};
  o.instance_prompt_template = "Task: {task}\nTools:\n{tools}\nEnd with {finish}.";
  auto agent = LlmAgent::Create(o);
  ASSERT_TRUE(agent.ok());
  Task task = DemoTask();
  task.problem_statement = "fix {tools} please";
  auto env = RepoEnv::Create(task).value();
  auto tools = agent->ToolsJson(*env);
  ASSERT_EQ(tools.size(), 2u);
  EXPECT_EQ(tools[0]["type"], "function");
  EXPECT_EQ(tools[0]["function"]["name"], "my_tool");
  // {tools} inside the task text is not expanded.
  std::string prompt = agent->InstancePrompt(*env);
  EXPECT_EQ(prompt.rfind("Task: fix {tools} please\nTools:\n", 0), 0u) << prompt;
  EXPECT_NE(prompt.find("(1) mode (string, required): How."), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("End with submit."), std::string::npos) << prompt;
  EXPECT_EQ(agent->SystemPrompt(*env).find("<function="), std::string::npos);

  o.xml_mode = true;
  auto xml = LlmAgent::Create(o);
  ASSERT_TRUE(xml.ok());
  EXPECT_TRUE(xml->ToolsJson(*env).is_null());
  EXPECT_NE(xml->SystemPrompt(*env).find("<function="), std::string::npos);
  EXPECT_NE(xml->SystemPrompt(*env).find("my_tool"), std::string::npos);
}

TEST(LlmAgentTest, ToolsDefaultToTheEnvsInTheirOwnOrder) {
  LlmAgentOptions o;
  o.client.base_url = "http://127.0.0.1:1/v1";
  o.client.model = "m";
  auto agent = LlmAgent::Create(o);
  ASSERT_TRUE(agent.ok());
  auto env = RepoEnv::Create(DemoTask()).value();  // the r2egym tool set
  // The scaffold's definitions for its set, in its order (search first).
  auto scaffold = ToolSetSchemas("r2egym");
  ASSERT_TRUE(scaffold.ok());
  EXPECT_EQ(nlohmann::ordered_json(agent->ToolSchemas(*env)).dump(),
            nlohmann::ordered_json(*scaffold).dump());
  EXPECT_EQ(agent->ToolSchemas(*env)[0]["function"]["name"], "search");
  // A tool replaced by the user's own file is described from that file.
  RepoEnvOptions mine;
  mine.extra_tools = {{"finish.py", "#!/usr/bin/env python3\n\"\"\"Ends it.\"\"\"\n"}};
  auto own = RepoEnv::Create(DemoTask(), mine).value();
  auto offered = agent->ToolSchemas(*own);
  ASSERT_EQ(offered.size(), 4u);
  EXPECT_EQ(offered[3]["function"]["description"], "Ends it.");
  o.xml_mode = true;
  std::string system = LlmAgent::Create(o)->SystemPrompt(*env);
  EXPECT_NE(system.find(ToolsPromptText(env->tools()).substr(0, 40)), std::string::npos) << system;

  // An env without tools: the defaults.
  RepoEnvOptions none;
  none.tool_set = "";
  auto bare = RepoEnv::Create(DemoTask(), none).value();
  ASSERT_TRUE(bare->tools().empty());
  auto defaults = agent->ToolSchemas(*bare);
  ASSERT_EQ(defaults.size(), 2u);
  EXPECT_EQ(defaults[0]["function"]["name"], "execute_bash");
  EXPECT_EQ(defaults[1]["function"]["name"], "finish");
}

}  // namespace
}  // namespace r2e
