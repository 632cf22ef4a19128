// LlmAgent against a scripted model server inside the test (httplib::Server
// on 127.0.0.1, a free port, its own thread): full episodes on the demo task
// in function-calling and XML mode, malformed and garbage replies, the token
// and step limits, and the prompts and tool schemas it offers. Retries,
// timeouts and servers that are down: llm_agent_retry_test.cc; LlmClient
// alone: llm_client_test.cc.
#include "r2e/llm_agent.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "docker/docker_client.h"
#include "fake_model.h"
#include "llm_agent_test_util.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/tools.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using test_util::DemoTask;
using llm_agent_test_util::MakeEnv;
using llm_agent_test_util::Options;
using llm_agent_test_util::Since;
using testing_model::FakeModel;
using testing_model::MessageReply;
using testing_model::Reply;
using testing_model::TextReply;
using testing_model::ToolCallReply;
using testing_model::Usage;

std::vector<std::string> ScriptedActions(const Task& task) {
  std::vector<std::string> out;
  for (const auto& a : task.row.at("scripted_actions")) out.push_back(a.get<std::string>());
  return out;
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
