// Replays the R2E-Gym scaffold's agent-facing surface corpus
// (../shared/fixtures/r2egym/, see its README.md) through r2e's public
// functions, requiring equality:
//   actions.jsonl       ParseAction (Action.from_string), ParseResponse
//                       (Agent.parse_response), ParseResponseV2, ActionToCommand
//                       (to_bashcmd), ActionToXml (to_xml_string),
//                       AssistantHistoryContent (the agent's history message)
//   fncalls.jsonl       ActionFromReply (Agent.custom_parser), then the same
//   observations.jsonl  ObservationText (Observation.__str__), RunOutputOf
//                       (DockerRuntime.run) and RepoEnv::step on a local sandbox
//   schemas.json        ToolSetSchemas, byte for byte as JSON
// Where r2e differs on purpose, the field is listed in kDifferences with the
// reason and r2e's own value, which the test then requires instead (so a
// difference is never silent and never drifts).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "r2e/action.h"
#include "r2e/local_runtime.h"
#include "r2e/observation.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/tools.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;  // parameter and schema order matters

const fs::path kCorpus = fs::path(R2E_SHARED_DIR) / "fixtures" / "r2egym";

// A field where r2e deliberately differs from the scaffold: r2e's value (or
// nullopt when r2e gives no value: an error, or nothing comparable) and why.
struct Difference {
  std::optional<std::string> r2e;
  std::string reason;
};

const std::map<std::pair<std::string, std::string>, Difference>& Differences() {
  // The scaffold leaves parameter NAMES unquoted (`--{key}`), so a key such
  // as `x $(cmd)` runs arbitrary shell code, well beyond the `touch` the
  // corpus records: r2e quotes `--KEY` like every other word (the same text
  // for keys of letters, digits and @%+=:,./-_).
  const std::string key_quoting =
      "r2e quotes parameter names; the scaffold's bare names inject shell syntax";
  static const std::map<std::pair<std::string, std::string>, Difference> kDifferences = {
      {{"act.key_injection", "from_string_bashcmd"},
       {"file_editor view '--x $(touch /tmp/pwned)' 1", key_quoting}},
      {{"act.key_injection", "bashcmd"},
       {"file_editor view '--x $(touch /tmp/pwned)' 1", key_quoting}},
      {{"fn.key_needs_quoting", "bashcmd"}, {"search --search_term x '--a b' c", key_quoting}},
      {{"step.r2egym.param_key_injection", "bashcmd"},
       {"search --search_term x '--path x; touch /testbed/pwned2; echo' y", key_quoting}},
      {{"step.r2egym.param_key_injection", "observation"},
       {"Execution output of [search]:\n"
        "usage: search [-h] --search_term SEARCH_TERM [--path PATH]\n"
        "              [--python_only PYTHON_ONLY]\n"
        "search: error: unrecognized arguments: --path x; touch /testbed/pwned2; echo y\n",
        key_quoting + " (so search rejects the quoted name)"}},
      {{"step.r2egym.param_key_injection", "files_changed"},
       {"{}", key_quoting + " (nothing is created)"}},
      // A null name: Python's Action keeps None and prints it; r2e reads a
      // null name as "" (LlmToolCall) and its agent reports a nameless call.
      {{"fn.name_none", "function_name"},
       {"", "a null tool-call name reads as \"\", not Python's None"}},
      {{"fn.name_none", "xml"},
       {"<function=>\n  <parameter=cmd>ls</parameter>\n</function>",
        "a null tool-call name reads as \"\", not Python's None"}},
      // Transport failures: r2e's runtimes return a Status error (RepoEnv::step
      // fails with it) instead of an observation text holding a Python repr.
      {{"run.docker.exception", "run"},
       {std::nullopt,
        "a failed exec is a Status error of the runtime, not \"Error: RuntimeError(...)\" output"}},
      {{"run.kubernetes.k8s_exit_none", "run"},
       {std::nullopt,
        "an exec stream without exit status is Unavailable (KubeRuntime), not raw output with -1"}},
  };
  return kDifferences;
}

// Compares one field, or r2e's documented value for a listed difference.
void Check(const std::string& id, const std::string& field, const std::optional<std::string>& got,
           const std::string& want) {
  auto it = Differences().find({id, field});
  if (it == Differences().end()) {
    ASSERT_TRUE(got.has_value()) << id << " " << field
                                 << ": r2e gives no value; the scaffold: " << want;
    EXPECT_EQ(*got, want) << id << " " << field;
    return;
  }
  EXPECT_EQ(got, it->second.r2e) << id << " " << field
                                 << " (documented difference: " << it->second.reason << ")";
  EXPECT_NE(got, std::optional<std::string>(want))
      << id << " " << field << " now matches: drop the difference";
}

std::string Base64Decode(std::string_view in) {
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* p = c == '\0' ? nullptr : std::strchr(table, c);
    if (p == nullptr) continue;
    bits = (bits << 6) | static_cast<std::uint32_t>(p - table);
    if (++count == 4) {
      for (int shift : {16, 8, 0}) out += static_cast<char>((bits >> shift) & 0xff);
      bits = 0;
      count = 0;
    }
  }
  if (count == 3) {
    out += static_cast<char>((bits >> 10) & 0xff);
    out += static_cast<char>((bits >> 2) & 0xff);
  } else if (count == 2) {
    out += static_cast<char>((bits >> 4) & 0xff);
  }
  return out;
}

// A text field, or its `<name>_b64` sibling.
std::string Text(const Json& record, const std::string& name) {
  if (record.contains(name)) return record[name].get<std::string>();
  if (record.contains(name + "_b64")) return Base64Decode(record[name + "_b64"].get<std::string>());
  return "";
}

std::vector<Json> Load(const std::string& file) {
  std::vector<Json> out;
  std::ifstream in(kCorpus / file);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(Json::parse(line));
  }
  return out;
}

const std::vector<Json>& Records(const std::string& file) {
  static std::map<std::string, std::vector<Json>> cache;
  auto it = cache.find(file);
  if (it == cache.end()) it = cache.emplace(file, Load(file)).first;
  return it->second;
}

const Json& Record(const std::string& file, const std::string& id) {
  for (const Json& r : Records(file)) {
    if (r["id"] == id) return r;
  }
  static const Json none;
  return none;
}

std::vector<std::string> Ids(const std::string& file, const std::string& kind = "") {
  std::vector<std::string> ids;
  for (const Json& r : Records(file)) {
    if (kind.empty() || r.value("kind", "") == kind) ids.push_back(r["id"].get<std::string>());
  }
  return ids;
}

std::string TestName(const testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char ch : info.param) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return name;
}

// Parameters as the corpus writes them: [[key, value], ...].
Json Pairs(const Action& a) {
  Json out = Json::array();
  for (const auto& [k, v] : a.parameters) out.push_back(Json::array({k, v}));
  return out;
}

std::optional<std::string> Value(const Result<std::string>& r) {
  return r.ok() ? std::optional<std::string>(*r) : std::nullopt;
}

// A `{"value": ...}` / `{"raises": ...}` field of fncalls.jsonl.
void CheckOutcome(const std::string& id, const std::string& field, const Result<std::string>& got,
                  const Json& want) {
  if (want.contains("raises")) {
    if (Differences().contains({id, field})) return Check(id, field, Value(got), "");
    EXPECT_FALSE(got.ok()) << id << " " << field << ": the scaffold raises " << want["raises"]
                           << ", r2e gives " << (got.ok() ? *got : "");
    return;
  }
  Check(id, field, Value(got), want["value"].get<std::string>());
}

// ---------------------------------------------------------------------------
// actions.jsonl

class ScaffoldSurfaceActions : public testing::TestWithParam<std::string> {};

TEST_P(ScaffoldSurfaceActions, MatchesTheScaffold) {
  const std::string id = GetParam();
  const Json& c = Record("actions.jsonl", id);
  const std::string raw = c["raw"].get<std::string>();

  const Action from = ParseAction(raw);
  Check(id, "from_string.function_name", from.function_name, c["from_string"]["function_name"]);
  EXPECT_EQ(Pairs(from), c["from_string"]["parameters"]) << id << " from_string.parameters";
  Check(id, "from_string_bashcmd", Value(ActionToCommand(from)), c["from_string_bashcmd"]);

  const Action parsed = ParseResponse(raw);
  Check(id, "parse_response.thought", parsed.thought, c["parse_response"]["thought"]);
  Check(id, "parse_response.function_name", parsed.function_name,
        c["parse_response"]["function_name"]);
  EXPECT_EQ(Pairs(parsed), c["parse_response"]["parameters"]) << id << " parse_response.parameters";
  Check(id, "bashcmd", Value(ActionToCommand(parsed)), c["bashcmd"]);
  Check(id, "xml", Value(ActionToXml(parsed)), c["xml"]);
  Check(id, "history_assistant_content", AssistantHistoryContent(parsed),
        c["history_assistant_content"]);

  const Action v2 = ParseResponseV2(raw);
  Check(id, "parse_response_v2.thought", v2.thought, c["parse_response_v2"]["thought"]);
  Check(id, "parse_response_v2.function_name", v2.function_name,
        c["parse_response_v2"]["function_name"]);
  EXPECT_EQ(Pairs(v2), c["parse_response_v2"]["parameters"])
      << id << " parse_response_v2.parameters";
}

INSTANTIATE_TEST_SUITE_P(Corpus, ScaffoldSurfaceActions, testing::ValuesIn(Ids("actions.jsonl")),
                         TestName);

// ---------------------------------------------------------------------------
// fncalls.jsonl

// Python's type name of a json.loads value.
std::string PythonType(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object:
      return "dict";
    case Json::value_t::array:
      return "list";
    case Json::value_t::string:
      return "str";
    case Json::value_t::boolean:
      return "bool";
    case Json::value_t::number_float:
      return "float";
    case Json::value_t::null:
      return "NoneType";
    default:
      return "int";
  }
}

class ScaffoldSurfaceFnCalls : public testing::TestWithParam<std::string> {};

TEST_P(ScaffoldSurfaceFnCalls, MatchesTheScaffold) {
  const std::string id = GetParam();
  const Json& c = Record("fncalls.jsonl", id);
  // The reply as r2e's client reads it (ParseChatCompletion): a null name or
  // arguments read as "", object arguments as their JSON text.
  std::vector<ToolCall> calls;
  if (c.contains("tool_calls") && c["tool_calls"].is_array()) {
    for (const Json& t : c["tool_calls"]) {
      ToolCall call;
      call.id = t.value("id", "");
      if (t.contains("name") && t["name"].is_string()) call.name = t["name"];
      if (t.contains("arguments") && t["arguments"].is_string()) call.arguments = t["arguments"];
      if (t.contains("arguments") && t["arguments"].is_object())
        call.arguments = t["arguments"].dump();
      calls.push_back(call);
    }
  }
  const std::string content = c["content"].is_string() ? c["content"].get<std::string>() : "";
  Status why;
  const Action a = ActionFromReply(content, calls, &why);

  Check(id, "thought", a.thought, c["thought"]);
  Check(id, "function_name", a.function_name,
        c["function_name"].is_string() ? c["function_name"].get<std::string>() : "None");
  // Typed parameters: the parsed arguments (or, for an empty action, none).
  Json typed = a.arguments ? *a.arguments : Json::object();
  Json want = c["parameters"];
  if (c["parameters_type"] == "dict") {
    want = Json::object();
    for (const Json& kv : c["parameters"]) want[kv[0].get<std::string>()] = kv[1];
  }
  EXPECT_EQ(typed.dump(), want.dump()) << id << " parameters";
  EXPECT_EQ(PythonType(typed), c["parameters_type"]) << id << " parameters_type";
  CheckOutcome(id, "bashcmd", ActionToCommand(a), c["bashcmd"]);
  CheckOutcome(id, "xml", ActionToXml(a), c["xml"]);
  // The empty action of unreadable arguments says why.
  if (!calls.empty() && a.empty() && !calls.front().name.empty()) {
    EXPECT_FALSE(why.ok()) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, ScaffoldSurfaceFnCalls, testing::ValuesIn(Ids("fncalls.jsonl")),
                         TestName);

// ---------------------------------------------------------------------------
// observations.jsonl: observation and runtime_run

// Python's f"{value}" of a JSON value (the corpus passes error codes as
// strings, ints or null).
std::string PythonFormat(const Json& v) {
  if (v.is_null()) return "None";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

class ScaffoldSurfaceObservation : public testing::TestWithParam<std::string> {};

TEST_P(ScaffoldSurfaceObservation, MatchesTheScaffold) {
  const std::string id = GetParam();
  const Json& c = Record("observations.jsonl", id);
  Check(id, "observation",
        ObservationText(c["function_name"].get<std::string>(), PythonFormat(c["bash_output"]),
                        PythonFormat(c["error_code"])),
        c["observation"]);
}

INSTANTIATE_TEST_SUITE_P(Corpus, ScaffoldSurfaceObservation,
                         testing::ValuesIn(Ids("observations.jsonl", "observation")), TestName);

class ScaffoldSurfaceRuntimeRun : public testing::TestWithParam<std::string> {};

// DockerRuntime.run (and its Kubernetes twin) as a transformation of what the
// command printed and its exit code. The corpus records the code string, from
// which the exit code follows: "0", "Error: Exit code N", and "-1" from the
// `timeout` wrapper's 124 (the exec returned well within timeout + 5 s).
// Where the corpus has no raw output (the Kubernetes cases), the command runs
// in a local sandbox for it.
// How r2e's runtimes bound a command is not replayed here: the scaffold's
// `timeout N` wraps only the first simple command of the line (the rest runs
// on, up to the exec's N + 5 s bound: run.docker.timeout_first_command_only),
// where r2e's deadline ends the whole command line after N s.
TEST_P(ScaffoldSurfaceRuntimeRun, MatchesTheScaffold) {
  const std::string id = GetParam();
  const Json& c = Record("observations.jsonl", id);
  if (c.contains("injected_exception") || c.contains("injected_exit_code_none")) {
    Check(id, "run", std::nullopt,
          c["output"].get<std::string>() + "|" + c["code_string"].get<std::string>());
    return;
  }
  const std::string code = c["code_string"];
  const std::chrono::seconds timeout(c["timeout"].get<int>());
  ExecResult result;
  if (c.contains("raw_output") || c.contains("raw_output_b64")) {
    result.output = Text(c, "raw_output");
    result.exit_code = 0;
    if (code == "-1") {
      result.exit_code = 124;
      result.timed_out = c.value("elapsed_s_approx", 0) >= timeout.count() + 5;
    } else if (code != "0") {
      ASSERT_EQ(code.rfind("Error: Exit code ", 0), 0u) << code;
      result.exit_code = std::stoi(code.substr(17));
    }
  } else {
    if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
    LocalRuntimeOptions lo;
    lo.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
    LocalRuntime runtime(lo);
    ASSERT_TRUE(runtime.start(SandboxSpec{}).ok());
    ExecOptions eo;
    eo.timeout = timeout;
    auto ran = runtime.exec(c["code"].get<std::string>(), eo);
    ASSERT_TRUE(ran.ok()) << ran.status().ToString();
    result = *ran;
    (void)runtime.stop();
  }
  const RunOutput run = RunOutputOf(result, timeout);
  Check(id, "output", run.output, c["output"]);
  Check(id, "code_string", run.code, code);
}

INSTANTIATE_TEST_SUITE_P(Corpus, ScaffoldSurfaceRuntimeRun,
                         testing::ValuesIn(Ids("observations.jsonl", "runtime_run")), TestName);

// ---------------------------------------------------------------------------
// schemas.json

TEST(ScaffoldSurfaceSchemas, EverySetByteForByte) {
  const Json corpus = Json::parse(std::ifstream(kCorpus / "schemas.json"));
  ASSERT_TRUE(corpus.is_object());
  for (const auto& [set, want] : corpus.items()) {
    auto got = ToolSetSchemas(set);
    ASSERT_TRUE(got.ok()) << set << ": " << got.status().ToString();
    EXPECT_EQ(Json(*got).dump(1), want.dump(1)) << set;
  }
  // Sets the scaffold sends none for come from the tools themselves.
  for (const std::string set : {"v1", "r2e"}) {
    auto got = ToolSetSchemas(set);
    ASSERT_TRUE(got.ok()) << set;
    auto files = ToolSet(set);
    ASSERT_TRUE(files.ok());
    ASSERT_EQ(got->size(), files->size());
    for (std::size_t i = 0; i < files->size(); ++i) {
      EXPECT_EQ((*got)[i].dump(), DescribeTool((*files)[i])->OpenAiSchema().dump()) << set;
    }
  }
  EXPECT_EQ(ToolSetSchemas("nope").status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// observations.jsonl: env_step, through RepoEnv on a local sandbox laid out as
// the corpus's (repo.json at /testbed, /root/.venv/bin/python).

std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), root).generic_string();
    if (rel == ".git" || rel.starts_with(".git/")) continue;  // r2e's setup commits the base
    if (it->is_regular_file()) {
      std::ifstream f(it->path(), std::ios::binary);
      std::ostringstream s;
      s << f.rdbuf();
      out[rel] = s.str();
    }
  }
  return out;
}

// The files a step changed, as the corpus writes them (null: deleted).
std::string Changed(const std::map<std::string, std::string>& before,
                    const std::map<std::string, std::string>& after) {
  Json out = Json::object();
  for (const auto& [rel, content] : after) {
    auto it = before.find(rel);
    if (it == before.end() || it->second != content) out[rel] = {{"text", content}};
  }
  for (const auto& [rel, content] : before) {
    if (!after.contains(rel)) out[rel] = nullptr;
  }
  return out.dump();
}

class ScaffoldSurfaceEnvStep : public testing::TestWithParam<std::string> {};

TEST_P(ScaffoldSurfaceEnvStep, MatchesTheScaffold) {
  if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
  const std::string id = GetParam();
  const Json& c = Record("observations.jsonl", id);
  const fs::path dir =
      fs::temp_directory_path() / ("r2e-surface-" + std::to_string(::getpid()) + "-" + id);
  fs::remove_all(dir);
  const Json repo = Json::parse(std::ifstream(kCorpus / "repo.json"));
  for (const auto& [rel, entry] : repo["files"].items()) {
    fs::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel, std::ios::binary)
        << (entry.contains("text") ? entry["text"].get<std::string>()
                                   : Base64Decode(entry["base64"].get<std::string>()));
  }
  Task task;
  task.instance_id = "surface";
  task.kind = TaskKind::kR2E;
  task.local_repo = dir;
  task.problem_statement = "replay";
  RepoEnvOptions o;
  LocalRuntimeOptions local;
  local.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
  o.runtime = LocalRuntimeFactory(local);
  o.tool_set = c["toolset"].get<std::string>();
  o.extra_setup = {
      "mkdir -p /root/.venv/bin && ln -sf \"$(command -v python3)\" /root/.venv/bin/python"};
  auto env = RepoEnv::Create(task, o);
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  ASSERT_TRUE((*env)->reset().ok());
  std::vector<std::string> names;
  for (const auto& t : (*env)->tools()) names.push_back(t.name);
  std::vector<std::string> allowed = c["allowed_commands"];
  std::sort(names.begin(), names.end());
  std::sort(allowed.begin(), allowed.end());
  EXPECT_EQ(names, allowed);
  auto host = dynamic_cast<LocalRuntime&>((*env)->runtime()).host_path("/testbed");
  ASSERT_TRUE(host.ok());

  for (const Json& s : c["steps"]) {
    Action action;
    action.function_name = s["function_name"];
    for (const Json& kv : s["parameters"]) action.set_parameter(kv[0], kv[1]);
    Check(id, "bashcmd", Value(ActionToCommand(action)), s["bashcmd"]);
    const auto before = Snapshot(*host);
    std::optional<std::chrono::seconds> timeout;
    if (s.contains("timeout")) timeout = std::chrono::seconds(s["timeout"].get<int>());
    auto r = (*env)->step(action, timeout);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    Check(id, "observation", r->observation.text, s["observation"]);
    EXPECT_EQ(r->reward, s["reward"].get<double>()) << id;
    EXPECT_EQ(r->done, s["done"].get<bool>()) << id;
    // r2e's info holds the scaffold's keys, and more (exit_code, timed_out,
    // tool, step, tool_path): additions only.
    const Json info = ToJson(r->info);
    for (const Json& key : s["info_keys"]) EXPECT_TRUE(info.contains(key.get<std::string>())) << id << " " << key;
    Json want = Json::object();
    for (const auto& [rel, entry] : s["files_changed"].items()) want[rel] = entry;
    Check(id, "files_changed", Changed(before, Snapshot(*host)), want.dump());
  }
  EXPECT_TRUE((*env)->close().ok());
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Corpus, ScaffoldSurfaceEnvStep,
                         testing::ValuesIn(Ids("observations.jsonl", "env_step")), TestName);

}  // namespace
}  // namespace r2e
