// Replays the R2E-Gym scaffold's prompt corpus (../shared/fixtures/r2egym/
// prompts.json and prompts.jsonl, see its README.md) through r2e, requiring
// equality:
//   prompts.json            the presets (PromptPresets, FindPromptPreset):
//                           each config's system and instance prompt, tools
//   instance_prompt         RenderInstancePrompt (instance_prompt.format)
//   task_instruction        ScaffoldTaskInstruction (get_task_instruction)
//   prepare_instance_prompt PrepareInstancePrompt (the steps-remaining text)
//   fn_calling_support      ScaffoldUsesFunctionCalling
//   episode                 a whole LlmAgent episode with the preset against
//                           a scripted model server serving the corpus's
//                           replies, on a local sandbox laid out as the
//                           corpus's: every request's message count and last
//                           message, the final history, the trajectory and
//                           the exit reason
// (command_parse cases describe the scaffold's own command-file parser;
// r2e's DescribeTool is its own, see r2e/tools.h.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "fake_model.h"
#include "r2e/llm_agent.h"
#include "r2e/local_runtime.h"
#include "r2e/observation.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/scaffold_prompts.h"
#include "r2e/tools.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing_model::FakeModel;
using testing_model::Reply;
using testing_model::TextReply;
using testing_model::Usage;

const fs::path kCorpus = fs::path(R2E_SHARED_DIR) / "fixtures" / "r2egym";

std::vector<Json> LoadCases() {
  std::vector<Json> out;
  std::ifstream in(kCorpus / "prompts.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(Json::parse(line));
  }
  return out;
}

const std::vector<Json>& Cases() {
  static const std::vector<Json> cases = LoadCases();
  return cases;
}

const Json& Case(const std::string& id) {
  for (const Json& c : Cases()) {
    if (c["id"] == id) return c;
  }
  static const Json none;
  return none;
}

std::vector<std::string> Ids(const std::set<std::string>& kinds) {
  std::vector<std::string> ids;
  for (const Json& c : Cases()) {
    if (kinds.contains(c["kind"].get<std::string>())) ids.push_back(c["id"]);
  }
  return ids;
}

std::string TestName(const testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char ch : info.param) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return name;
}

std::string ConfigName(const std::string& file) {
  return file.size() > 5 ? file.substr(0, file.size() - 5) : file;  // drop ".yaml"
}

TEST(ScaffoldPresets, EqualTheScaffoldConfigs) {
  const Json corpus = Json::parse(std::ifstream(kCorpus / "prompts.json"));
  ASSERT_TRUE(corpus.contains("configs"));
  std::set<std::string> seen;
  for (const auto& [file, config] : corpus["configs"].items()) {
    const std::string name = ConfigName(file);
    seen.insert(name);
    auto preset = FindPromptPreset(name, /*function_calling=*/false);
    ASSERT_TRUE(preset.ok()) << file << ": " << preset.status().ToString();
    EXPECT_EQ(preset->name, name);
    EXPECT_EQ(preset->config, "src/r2egym/agenthub/config/" + file);
    EXPECT_EQ(preset->system_prompt, config["system_prompt"].get<std::string>()) << file;
    EXPECT_EQ(preset->instance_prompt, config["instance_prompt"].get<std::string>()) << file;
    // The scaffold formats the instance prompt with these and sends the
    // system prompt unformatted.
    EXPECT_EQ(config["instance_prompt_placeholders"], Json::array({"problem_statement"})) << file;
    EXPECT_EQ(config["system_prompt_placeholders"], Json::array()) << file;
    EXPECT_EQ(preset->function_calling, name.find("edit_fn_calling") != std::string::npos);
    // The preset's tool set is the config's command files.
    auto files = ToolSet(preset->tool_set);
    ASSERT_TRUE(files.ok()) << preset->tool_set;
    std::set<std::string> names;
    for (const ToolFile& f : *files) names.insert(DescribeTool(f)->name);
    std::set<std::string> want;
    for (const Json& n : config["tool_names"]) want.insert(n.get<std::string>());
    EXPECT_EQ(names, want) << file;
  }
  std::set<std::string> mine;
  for (const PromptPreset& p : PromptPresets()) mine.insert(p.name);
  EXPECT_EQ(mine, seen);  // one preset per config, no more
  EXPECT_EQ(corpus["constants"]["finished_observation"], std::string(kFinishedText));
  EXPECT_EQ(corpus["constants"]["CONTINUE_MSG"], std::string(kNoFunctionCallReminder));
  EXPECT_EQ(corpus["constants"]["MAX_CONTEXT_TOKENS"], GetScaffoldDefaults().max_token_limit);
}

TEST(ScaffoldPresets, NamesPickTheConfigAsTheRunnerDoes) {
  struct Case {
    const char* name;
    bool fn;
    const char* want;
  };
  for (const Case& c : {Case{"r2egym", true, "r2egym/edit_fn_calling"},
                        Case{"r2egym", false, "r2egym/edit_non_fn_calling"},
                        Case{"openhands", true, "openhands/edit_fn_calling"},
                        Case{"openhands", false, "openhands/edit_non_fn_calling"},
                        Case{"sweagent", false, "sweagent/edit_non_fn_calling"},
                        Case{"v1", false, "non_fn_calling"},
                        Case{"non_fn_calling.yaml", true, "non_fn_calling"},
                        Case{"r2egym/edit_fn_calling", false, "r2egym/edit_fn_calling"}}) {
    auto p = FindPromptPreset(c.name, c.fn);
    ASSERT_TRUE(p.ok()) << c.name << ": " << p.status().ToString();
    EXPECT_EQ(p->name, c.want) << c.name << " fn=" << c.fn;
  }
  EXPECT_EQ(FindPromptPreset("sweagent", true).status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(FindPromptPreset("sweagent", true).status().message().find("--xml"),
            std::string::npos);
  auto unknown = FindPromptPreset("r2e-gym", false);
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("r2egym/edit_non_fn_calling"), std::string::npos)
      << unknown.status().ToString();
}

TEST(ScaffoldPresets, FormatIsPythonsForNamedFields) {
  const std::vector<std::pair<std::string, std::string>> v = {{"a", "{b}"}, {"b", "B"}};
  EXPECT_EQ(FormatPromptTemplate("x{a}y{{b}}z}}", v).value(), "x{b}y{b}z}");
  for (const char* bad : {"{c}", "}", "a}b", "{a", "{}", "{0}", "{a!r}", "{a:>4}", "{a.b}", "{ a }"}) {
    EXPECT_EQ(FormatPromptTemplate(bad, v).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(FormatPromptTemplate("{c}", v).status().message().find("{c}"), std::string::npos);
  // Every placeholder Agent.run fills is known.
  InstancePromptValues values;
  values.problem_statement = "P";
  values.gt_patch = "G";
  values.candidate_patch_correct = true;
  EXPECT_EQ(RenderInstancePrompt("{problem_statement}|{gt_patch}|{working_dir}|{test_patch_hint}|"
                                 "{candidate_patch}|{candidate_patch_correctness}",
                                 values)
                .value(),
            "P|G|/testbed|||correct");
}

// ---------------------------------------------------------------------------
// prompts.jsonl: the single-call cases

class ScaffoldPromptCase : public testing::TestWithParam<std::string> {};

TEST_P(ScaffoldPromptCase, MatchesTheScaffold) {
  const Json& c = Case(GetParam());
  const std::string kind = c["kind"];
  if (kind == "instance_prompt") {
    auto preset = FindPromptPreset(ConfigName(c["config"]), false);
    ASSERT_TRUE(preset.ok()) << preset.status().ToString();
    InstancePromptValues values;
    values.problem_statement = c["problem_statement"];
    auto got = RenderInstancePrompt(preset->instance_prompt, values);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, c["user_prompt"].get<std::string>());
  } else if (kind == "task_instruction") {
    EXPECT_EQ(ScaffoldTaskInstruction(c["problem_statement"].get<std::string>()),
              c["instruction"].get<std::string>());
  } else if (kind == "prepare_instance_prompt") {
    auto got = PrepareInstancePrompt(c["template"].get<std::string>(),
                                     c["agent_history"].get<std::string>(), "",
                                     c["steps_remaining"].get<int>());
    if (c["result"].contains("raises")) {
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument)
          << "the scaffold raises " << c["result"]["raises"];
    } else {
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(*got, c["result"]["value"].get<std::string>());
      // The same line Agent.run appends before each model call.
      EXPECT_TRUE(got->ends_with("\n" + StepsRemainingMessage(c["steps_remaining"].get<int>())));
    }
  } else if (kind == "fn_calling_support") {
    EXPECT_EQ(ScaffoldUsesFunctionCalling(c["llm_name"].get<std::string>(),
                                          c["use_fn_calling_arg"].get<bool>()),
              c["use_fn_calling"].get<bool>());
  } else {
    FAIL() << "unexpected kind " << kind;
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, ScaffoldPromptCase,
                         testing::ValuesIn(Ids({"instance_prompt", "task_instruction",
                                                "prepare_instance_prompt", "fn_calling_support"})),
                         TestName);

// ---------------------------------------------------------------------------
// prompts.jsonl: whole episodes

class ScaffoldEpisode : public testing::TestWithParam<std::string> {};

TEST_P(ScaffoldEpisode, MessagesEqualTheScaffolds) {
  if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
  const std::string id = GetParam();
  const Json& c = Case(id);
  const fs::path dir =
      fs::temp_directory_path() / ("r2e-episode-" + std::to_string(::getpid()) + "-" + id);
  fs::remove_all(dir);
  const Json repo = Json::parse(std::ifstream(kCorpus / "repo.json"));
  for (const auto& [rel, entry] : repo["files"].items()) {
    if (!entry.contains("text")) continue;  // the episodes read no binary file
    fs::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel, std::ios::binary) << entry["text"].get<std::string>();
  }
  Task task;
  task.instance_id = "episode";
  task.kind = TaskKind::kR2E;
  task.local_repo = dir;
  task.problem_statement = c["problem_statement"];
  RepoEnvOptions eo;
  LocalRuntimeOptions local;
  local.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
  eo.runtime = LocalRuntimeFactory(local);
  eo.tool_set = c["toolset"].get<std::string>();
  eo.extra_setup = {
      "mkdir -p /root/.venv/bin && ln -sf \"$(command -v python3)\" /root/.venv/bin/python"};
  auto env = RepoEnv::Create(task, eo);
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  ASSERT_TRUE((*env)->reset().ok());

  // The corpus does not record how the token-limit episode reached the
  // limit; here the model reports a context of exactly the scaffold's limit.
  const bool token_limit = c["exit_reason"] == "token_limit";
  FakeModel model;
  std::vector<Reply> replies;
  for (const Json& r : c["replies"]) {
    replies.push_back(TextReply(r.get<std::string>(),
                                token_limit ? Usage(65000, 536) : Json(nullptr)));
  }
  model.Script(replies);

  LlmAgentOptions o;
  o.client.base_url = model.base_url();
  o.client.model = c["llm_name"];
  o.client.initial_backoff = std::chrono::milliseconds(10);
  o.prompt = ConfigName(c["config"]);
  o.xml_mode = !ScaffoldUsesFunctionCalling(o.client.model);
  o.max_steps = c["max_steps"];
  o.max_steps_absolute = c["max_steps_absolute"];
  o.max_context_tokens = GetScaffoldDefaults().max_token_limit;
  o.reset_env = false;
  auto agent = LlmAgent::Create(o);
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  LlmEpisode ep = agent->Run(**env);
  EXPECT_TRUE((*env)->close().ok());
  fs::remove_all(dir);

  EXPECT_EQ(ep.scaffold_exit_reason, c["exit_reason"].get<std::string>()) << ep.exit_reason;
  const auto requests = model.requests();
  ASSERT_EQ(requests.size(), c["llm_calls"].size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const Json& want = c["llm_calls"][i];
    const Json& got = requests[i];
    ASSERT_EQ(got["messages"].size(), want["n_messages"].get<std::size_t>()) << "call " << i;
    EXPECT_EQ(got["messages"].back(), want["last_message"]) << "call " << i;
    EXPECT_FALSE(got.contains("tools")) << "call " << i;  // want["tools"] is null
    EXPECT_EQ(got["temperature"], want["kwargs"]["temperature"]) << "call " << i;
  }
  EXPECT_EQ(ep.messages, c["final_history"]);
  ASSERT_EQ(ep.records.size(), c["trajectory_steps"].size());
  for (std::size_t i = 0; i < ep.records.size(); ++i) {
    const Json& want = c["trajectory_steps"][i];
    EXPECT_EQ(ep.records[i].thought, want["thought"].get<std::string>()) << i;
    EXPECT_EQ(ep.records[i].action.ToXml(), want["action"].get<std::string>()) << i;
    EXPECT_EQ(ep.records[i].observation, want["observation"].get<std::string>()) << i;
    EXPECT_EQ(ep.records[i].done, want["done"].get<bool>()) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, ScaffoldEpisode, testing::ValuesIn(Ids({"episode"})), TestName);

}  // namespace
}  // namespace r2e
