// LlmAgent with a prompt preset (the R2E-Gym scaffold's loop) against a
// scripted model server in the test (fake_model.h), on the demo task: the
// function-calling history (first call kept, tool answers with name and id,
// user messages for replies without calls), the steps-remaining message and
// the soft and hard step limits, the prompt-caching hints, bad options; and
// end to end, `r2e run --agent llm --prompt r2egym` (function calling and
// --xml) with every request's messages checked on the server side.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_model.h"
#include "r2e/llm_agent.h"
#include "r2e/observation.h"
#include "r2e/repo_env.h"
#include "r2e/scaffold_prompts.h"
#include "r2e/tools.h"
#include "demo_task.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::json;
using testing_model::FakeModel;
using testing_model::MessageReply;
using testing_model::Reply;
using testing_model::TextReply;
using testing_model::ToolCallReply;
using testing_model::Usage;

const std::string kDemoTasks = std::string(R2E_SOURCE_DIR) + "/examples/tasks/demo.jsonl";

using test_util::DemoTask;

std::vector<std::string> ScriptedActions(const Task& task) {
  std::vector<std::string> out;
  for (const auto& a : task.row.at("scripted_actions")) out.push_back(a.get<std::string>());
  return out;
}

LlmAgentOptions Options(const FakeModel& model, const std::string& prompt, bool xml) {
  LlmAgentOptions o;
  o.client.base_url = model.base_url();
  o.client.model = "test-model";
  o.client.initial_backoff = 10ms;
  o.client.read_timeout = 10s;
  o.prompt = prompt;
  o.xml_mode = xml;
  return o;
}

std::string Content(const Json& message) { return message.value("content", ""); }

const std::string kSubmit = "<function=finish>\n<parameter=command>submit</parameter>\n</function>";

TEST(ScaffoldAgentTest, FunctionCallingHistoryIsTheScaffolds) {
  FakeModel model;
  const Json two_calls = {
      {"role", "assistant"},
      {"content", "Looking."},
      {"tool_calls",
       {{{"id", "a"},
         {"type", "function"},
         {"function", {{"name", "execute_bash"}, {"arguments", R"({"cmd": "echo one"})"}}}},
        {{"id", "b"},
         {"type", "function"},
         {"function", {{"name", "execute_bash"}, {"arguments", R"({"cmd": "echo two"})"}}}}}}};
  model.Script({
      MessageReply(two_calls),                                // 1: the first call runs
      ToolCallReply("execute_bash", "{not json", "", "bad"),  // 2: no action: the reminder
      TextReply("no call"),                                   // 3: answered as a user message
      ToolCallReply("finish", R"({"command": "submit"})", "", "f"),  // 4
  });
  LlmAgentOptions o = Options(model, "r2egym", /*xml=*/false);
  o.max_steps = 3;
  auto agent = LlmAgent::Create(o);
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  ASSERT_EQ(agent->preset()->name, "r2egym/edit_fn_calling");
  auto env = RepoEnv::Create(DemoTask()).value();
  LlmEpisode ep = agent->Run(*env);
  EXPECT_TRUE(env->close().ok());
  EXPECT_EQ(ep.exit_reason, "finished") << ep.status.ToString();
  // Finished at the step that had no steps left (3 - 3).
  EXPECT_EQ(ep.scaffold_exit_reason, "max_step_limit");
  ASSERT_EQ(ep.steps, 4);

  const auto requests = model.requests();
  ASSERT_EQ(requests.size(), 4u);
  const PromptPreset& preset = *agent->preset();
  const Json& first = requests[0];
  ASSERT_EQ(first["messages"].size(), 2u);
  EXPECT_EQ(first["messages"][0], Json({{"role", "system"}, {"content", preset.system_prompt}}));
  InstancePromptValues values;
  values.problem_statement = ScaffoldTaskInstruction(DemoTask().problem_statement);
  EXPECT_EQ(first["messages"][1],
            Json({{"role", "user"},
                  {"content", RenderInstancePrompt(preset.instance_prompt, values).value() +
                                  "\nSteps Remaining: 3"}}));
  // (The fake server reads the request with sorted keys: compare as values.)
  EXPECT_EQ(first["tools"], Json::parse(nlohmann::ordered_json(ToolSetSchemas("r2egym").value()).dump()));
  EXPECT_EQ(first["temperature"], 0.0);

  const Json& m = requests[3]["messages"];
  ASSERT_EQ(m.size(), 8u);
  // Only the first call stays; the observation answers it by name and id,
  // with the next count appended.
  EXPECT_EQ(m[2], Json({{"role", "assistant"},
                        {"content", "Looking."},
                        {"tool_calls", Json::array({two_calls["tool_calls"][0]})}}));
  EXPECT_EQ(m[3]["role"], "tool");
  EXPECT_EQ(m[3]["name"], "execute_bash");
  EXPECT_EQ(m[3]["tool_call_id"], "a");
  EXPECT_EQ(Content(m[3]), ep.records[0].observation + "\nSteps Remaining: 2");
  EXPECT_NE(Content(m[3]).find("one"), std::string::npos);
  EXPECT_EQ(Content(m[3]).find("two"), std::string::npos);
  // Arguments that are not JSON: the call is echoed as sent, the action is
  // empty, the answer is the scaffold's reminder.
  EXPECT_EQ(m[4]["tool_calls"][0]["function"]["arguments"], "{not json");
  EXPECT_EQ(m[4]["content"], nullptr);
  EXPECT_EQ(m[5], Json({{"role", "tool"},
                        {"content", std::string(kNoFunctionCallReminder) + "\nSteps Remaining: 1"},
                        {"name", "execute_bash"},
                        {"tool_call_id", "bad"}}));
  // No call: a plain assistant message and a user message; the count is out.
  EXPECT_EQ(m[6], Json({{"role", "assistant"}, {"content", "no call"}}));
  EXPECT_EQ(m[7], Json({{"role", "user"},
                        {"content", std::string(kNoFunctionCallReminder) +
                                        "\nYou have reached the maximum number of steps. Please "
                                        "submit your answer NOW."}}));
  // Each request is the previous one's messages plus the step's two.
  for (std::size_t i = 1; i < requests.size(); ++i) {
    const Json& prev = requests[i - 1]["messages"];
    for (std::size_t k = 0; k < prev.size(); ++k) {
      EXPECT_EQ(requests[i]["messages"][k], prev[k]) << i << " " << k;
    }
  }
  // The history ends with the finish answer, with no count after it.
  EXPECT_EQ(ep.messages.back(), Json({{"role", "tool"},
                                      {"content", std::string(kFinishedText)},
                                      {"name", "finish"},
                                      {"tool_call_id", "f"}}));
  EXPECT_FALSE(ep.records[1].error.empty());
  EXPECT_TRUE(ep.records[3].done);
}

TEST(ScaffoldAgentTest, SoftAndHardStepLimits) {
  {
    // Past the soft limit the agent is told to submit; the hard one ends it.
    FakeModel model;
    model.Script({TextReply("a"), TextReply("b"), TextReply("c"), TextReply("d"), TextReply("e")});
    LlmAgentOptions o = Options(model, "r2egym", /*xml=*/true);
    o.max_steps = 2;
    o.max_steps_absolute = 4;
    auto env = RepoEnv::Create(DemoTask()).value();
    LlmEpisode ep = LlmAgent::Create(o)->Run(*env);
    EXPECT_TRUE(env->close().ok());
    EXPECT_EQ(ep.exit, LlmExit::kMaxSteps);
    EXPECT_EQ(ep.scaffold_exit_reason, "abs_step_limit");
    EXPECT_EQ(ep.steps, 4);
    const auto requests = model.requests();
    ASSERT_EQ(requests.size(), 4u);
    const std::string exhausted =
        "\nYou have reached the maximum number of steps. Please submit your answer NOW.";
    const std::vector<std::string> tails = {"\nSteps Remaining: 2", "\nSteps Remaining: 1",
                                            exhausted, exhausted};
    for (std::size_t i = 0; i < 4; ++i) {
      const std::string last = Content(requests[i]["messages"].back());
      EXPECT_TRUE(last.ends_with(tails[i])) << i << ": " << last;
    }
    EXPECT_EQ(Content(requests[1]["messages"][2]), "\n\n<function=>\n</function>");
    EXPECT_TRUE(ep.records.back().done);   // the scaffold marks the last step done
    EXPECT_FALSE(ep.records[2].done);
  }
  {
    // Finishing past the soft limit.
    FakeModel model;
    model.Script({TextReply("a"), TextReply("b"), TextReply(kSubmit)});
    LlmAgentOptions o = Options(model, "r2egym", /*xml=*/true);
    o.max_steps = 1;
    auto env = RepoEnv::Create(DemoTask()).value();
    LlmEpisode ep = LlmAgent::Create(o)->Run(*env);
    EXPECT_TRUE(env->close().ok());
    EXPECT_EQ(ep.exit, LlmExit::kFinished);
    EXPECT_EQ(ep.scaffold_exit_reason, "agent_max_step_limit");
  }
  {
    // Finishing in time; a context overflow (HTTP 400) is the scaffold's
    // llm_query_error; an env without the preset's tools is an env error.
    FakeModel model;
    model.Script({TextReply(kSubmit),
                  {400, R"({"message": "This model's maximum context length is 8 tokens."})"}});
    auto env = RepoEnv::Create(DemoTask()).value();
    LlmEpisode ep = LlmAgent::Create(Options(model, "v1", true))->Run(*env);
    EXPECT_EQ(ep.scaffold_exit_reason, "agent");
    ep = LlmAgent::Create(Options(model, "r2egym", false))->Run(*env);
    EXPECT_EQ(ep.exit, LlmExit::kMaxTokens) << ep.exit_reason;
    EXPECT_EQ(ep.scaffold_exit_reason, "llm_query_error");
    ep = LlmAgent::Create(Options(model, "openhands", false))->Run(*env);
    EXPECT_EQ(ep.exit, LlmExit::kEnvError);
    EXPECT_NE(ep.exit_reason.find("tool_set = \"openhands\""), std::string::npos) << ep.exit_reason;
    EXPECT_EQ(model.requests().size(), 2u);
    EXPECT_TRUE(env->close().ok());
  }
}

TEST(ScaffoldAgentTest, TokenLimitEndsAfterTheStep) {
  FakeModel model;
  model.Script({TextReply("<function=execute_bash>\n<parameter=cmd>true</parameter>\n</function>",
                          Usage(900, 100)),
                TextReply(kSubmit)});
  LlmAgentOptions o = Options(model, "r2egym", true);
  o.max_context_tokens = 1000;
  auto env = RepoEnv::Create(DemoTask()).value();
  LlmEpisode ep = LlmAgent::Create(o)->Run(*env);
  EXPECT_TRUE(env->close().ok());
  EXPECT_EQ(ep.exit, LlmExit::kMaxTokens);
  EXPECT_EQ(ep.scaffold_exit_reason, "token_limit");
  EXPECT_EQ(ep.steps, 1);
  EXPECT_EQ(model.requests().size(), 1u);
  // The observation is in the history, without a count after it.
  EXPECT_TRUE(Content(ep.messages.back()).ends_with("[STDERR]\n\n\n")) << ep.messages.back();
}

TEST(ScaffoldAgentTest, CacheControlHintsWhenAsked) {
  FakeModel model;
  std::vector<Reply> replies;
  for (int i = 0; i < 4; ++i) {
    replies.push_back(ToolCallReply("execute_bash", R"({"cmd": "true"})", "", "c" + std::to_string(i)));
  }
  model.Script(replies);
  LlmAgentOptions o = Options(model, "r2egym", false);
  o.cache_control = true;
  o.max_steps_absolute = 4;
  auto env = RepoEnv::Create(DemoTask()).value();
  LlmEpisode ep = LlmAgent::Create(o)->Run(*env);
  EXPECT_TRUE(env->close().ok());
  const auto requests = model.requests();
  ASSERT_EQ(requests.size(), 4u);
  const Json ephemeral = {{"type", "ephemeral"}};
  EXPECT_EQ(requests[0]["tools"].back()["function"]["cache_control"], ephemeral);
  EXPECT_FALSE(requests[0]["tools"][0]["function"].contains("cache_control"));
  const Json& m = requests[3]["messages"];  // system, user, 3 x (assistant, tool)
  ASSERT_EQ(m.size(), 8u);
  for (std::size_t i = 0; i < m.size(); ++i) {
    // The last three user/tool messages: the tool answers 3, 5 and 7.
    const bool want = i == 3 || i == 5 || i == 7;
    EXPECT_EQ(m[i].contains("cache_control"), want) << i;
    if (want) {
      EXPECT_EQ(m[i]["cache_control"], ephemeral) << i;
    }
  }
  for (const Json& msg : ep.messages) EXPECT_FALSE(msg.contains("cache_control"));
}

TEST(ScaffoldAgentTest, BadOptionsAreClearErrors) {
  LlmAgentOptions o;
  o.client.base_url = "http://127.0.0.1:1/v1";
  o.client.model = "m";
  o.prompt = "sweagent";  // function calling: no such config
  EXPECT_EQ(LlmAgent::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.xml_mode = true;
  EXPECT_TRUE(LlmAgent::Create(o).ok());
  o.prompt = "nope";
  EXPECT_NE(LlmAgent::Create(o).status().message().find("known: r2egym"), std::string::npos);
  o.prompt = "r2egym";
  o.instance_prompt_template = "Fix {problem_statement} in {repo}";
  auto bad = LlmAgent::Create(o);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("{repo}"), std::string::npos) << bad.status().ToString();
  o.instance_prompt_template = "Fix {problem_statement} in {working_dir}";
  auto good = LlmAgent::Create(o);
  ASSERT_TRUE(good.ok());
  Task task = DemoTask();
  task.problem_statement = "[ISSUE] a {b} [/ISSUE]";
  auto env = RepoEnv::Create(task).value();
  EXPECT_EQ(good->InstancePrompt(*env), "Fix  a {b}  in /testbed");
  EXPECT_EQ(good->SystemPrompt(*env), good->preset()->system_prompt);
}

// ---------------------------------------------------------------------------
// r2e run --agent llm --prompt r2egym, end to end

struct CliResult {
  int status = -1;
  std::string out;
  std::string err;
};

CliResult RunCli(const std::string& args, const fs::path& dir) {
  const fs::path err = dir / "stderr.txt";
  const std::string cmd = std::string(R2E_CLI_PATH) + " " + args + " 2>" + err.string();
  CliResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  r.status = ::pclose(p);
  std::ifstream e(err);
  std::stringstream s;
  s << e.rdbuf();
  r.err = s.str();
  return r;
}

class ScaffoldAgentCli : public testing::TestWithParam<bool> {};

TEST_P(ScaffoldAgentCli, RunPromptR2egymDrivesAnEpisode) {
  if (!fs::exists(R2E_CLI_PATH)) GTEST_SKIP() << "the r2e program is not built";
  const bool xml = GetParam();
  const Task task = DemoTask();
  const std::vector<std::string> actions = ScriptedActions(task);
  FakeModel model;
  std::vector<Reply> replies;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    if (xml) {
      replies.push_back(TextReply("<think>step " + std::to_string(i) + "</think>\n" + actions[i]));
      continue;
    }
    const Action a = ParseAction(actions[i]);
    Json args = Json::object();
    for (const auto& [k, v] : a.parameters) args[k] = v;
    replies.push_back(ToolCallReply(a.function_name, args.dump(), "step " + std::to_string(i),
                                    "call_" + std::to_string(i)));
  }
  model.Script(replies);
  const fs::path dir = fs::temp_directory_path() /
                       ("r2e-scaffold-cli-" + std::to_string(::getpid()) + (xml ? "-xml" : "-fn"));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const CliResult r =
      RunCli("run --log-level warn --runtime local --tasks " + kDemoTasks +
                 " --agent llm --prompt r2egym --base-url " + model.base_url() +
                 " --model test-model --api-key k --out " + dir.string() + (xml ? " --xml" : ""),
             dir);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const Json summary = Json::parse(r.out, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << r.out << r.err;
  EXPECT_EQ(summary["reward"], 1.0) << r.out << r.err;
  EXPECT_EQ(summary["exit_reason"], "finished");
  EXPECT_EQ(summary["scaffold_exit_reason"], "agent");
  EXPECT_EQ(summary["steps"], static_cast<int>(actions.size()));
  EXPECT_TRUE(fs::exists(dir / (task.instance_id + ".jsonl")));

  // What the server got: the preset's prompts, the count from the runner's
  // default of 40 steps, the scaffold's history.
  const PromptPreset preset = FindPromptPreset("r2egym", !xml).value();
  const auto requests = model.requests();
  ASSERT_EQ(requests.size(), actions.size());
  InstancePromptValues values;
  values.problem_statement = ScaffoldTaskInstruction(task.problem_statement);
  const std::string user = RenderInstancePrompt(preset.instance_prompt, values).value();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const Json& req = requests[i];
    const Json& m = req["messages"];
    ASSERT_EQ(m.size(), 2 + 2 * i) << i;
    EXPECT_EQ(m[0], Json({{"role", "system"}, {"content", preset.system_prompt}}));
    EXPECT_EQ(Content(m[1]), user + "\nSteps Remaining: 40");
    EXPECT_EQ(req["temperature"], 0.0);
    EXPECT_EQ(req.contains("tools"), !xml);
    if (i > 0) {
      // The previous request's messages, then the step's reply and observation.
      for (std::size_t k = 0; k < m.size() - 2; ++k) EXPECT_EQ(m[k], requests[i - 1]["messages"][k]);
      const Json& assistant = m[m.size() - 2];
      const Json& answer = m.back();
      const std::string count = "\nSteps Remaining: " + std::to_string(40 - i);
      if (xml) {
        EXPECT_EQ(assistant, Json({{"role", "assistant"},
                                   {"content", "<think>step " + std::to_string(i - 1) +
                                                   "</think>\n\n" +
                                                   ParseResponse(actions[i - 1]).ToXml()}}));
        EXPECT_EQ(answer["role"], "user");
        EXPECT_EQ(answer.size(), 2u);
      } else {
        EXPECT_EQ(assistant["tool_calls"][0]["id"], "call_" + std::to_string(i - 1));
        EXPECT_EQ(assistant["content"], "step " + std::to_string(i - 1));
        EXPECT_EQ(answer["role"], "tool");
        EXPECT_EQ(answer["tool_call_id"], "call_" + std::to_string(i - 1));
        EXPECT_EQ(answer["name"], ParseAction(actions[i - 1]).function_name);
      }
      EXPECT_TRUE(Content(answer).starts_with("Exit code: 0\nExecution output of [execute_bash]:\n"))
          << Content(answer);
      EXPECT_TRUE(Content(answer).ends_with(count)) << Content(answer);
    }
  }
  fs::remove_all(dir);
}

std::string ModeName(const testing::TestParamInfo<bool>& mode) {
  return mode.param ? "Xml" : "FunctionCalling";
}

INSTANTIATE_TEST_SUITE_P(Modes, ScaffoldAgentCli, testing::Values(false, true), ModeName);

}  // namespace
}  // namespace r2e
