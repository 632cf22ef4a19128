// The scaffold's prompt presets (data: agent/prompt_presets.json, compiled in
// by agent/sources.cmake) and its rules for filling them in.
// See r2e/scaffold_prompts.h.
#include "r2e/scaffold_prompts.h"

#include <cctype>
#include <exception>

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace r2e {
namespace internal {
extern const std::string_view kPromptPresetsJson;
}  // namespace internal

namespace {

struct PresetData {
  Status status;  // not OK: the compiled-in data is unusable
  std::vector<PromptPreset> presets;
  ScaffoldDefaults defaults;
  std::string steps_remaining = "Steps Remaining: {steps_remaining}";
  std::string steps_exhausted;
};

PresetData LoadPresets() {
  PresetData d;
  auto bad = [&d](const std::string& why) {
    d.status = Status::Internal("the compiled-in prompt presets (src/agent/prompt_presets.json) " +
                                why);
    d.presets.clear();
    return d;
  };
  try {
    const nlohmann::json j = nlohmann::json::parse(internal::kPromptPresetsJson, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return bad("are not a JSON object");
    const auto& messages = j.at("messages");
    d.steps_remaining = messages.at("steps_remaining").get<std::string>();
    d.steps_exhausted = messages.at("steps_exhausted").get<std::string>();
    const auto& defaults = j.at("defaults");
    d.defaults.max_steps = defaults.at("max_steps").get<int>();
    d.defaults.max_steps_absolute = defaults.at("max_steps_absolute").get<int>();
    d.defaults.max_token_limit = defaults.at("max_token_limit").get<std::int64_t>();
    d.defaults.temperature = defaults.at("temperature").get<double>();
    d.defaults.step_timeout = std::chrono::seconds(defaults.at("step_timeout_s").get<int>());
    d.defaults.working_dir = defaults.at("working_dir").get<std::string>();
    for (const auto& p : j.at("presets")) {
      PromptPreset preset;
      preset.name = p.at("name").get<std::string>();
      preset.config = p.at("config").get<std::string>();
      preset.scaffold = p.at("scaffold").get<std::string>();
      preset.function_calling = p.at("function_calling").get<bool>();
      preset.tool_set = p.at("tool_set").get<std::string>();
      preset.system_prompt = p.at("system_prompt").get<std::string>();
      preset.instance_prompt = p.at("instance_prompt").get<std::string>();
      d.presets.push_back(std::move(preset));
    }
  } catch (const std::exception& e) {
    return bad(std::string("are malformed: ") + e.what());
  }
  if (d.presets.empty()) return bad("hold no preset");
  return d;
}

const PresetData& Data() {
  static const PresetData data = LoadPresets();
  return data;
}

using internal::Contains;

bool IsIdentifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

const std::vector<PromptPreset>& PromptPresets() { return Data().presets; }

const ScaffoldDefaults& GetScaffoldDefaults() { return Data().defaults; }

std::vector<std::string> PromptPresetNames() {
  std::vector<std::string> names = {"r2egym", "openhands", "sweagent", "v1"};
  for (const PromptPreset& p : PromptPresets()) names.push_back(p.name);
  return names;
}

Result<PromptPreset> FindPromptPreset(std::string_view name, bool function_calling) {
  if (!Data().status.ok()) return Data().status;
  std::string want(name);
  if (want.size() > 5 && want.compare(want.size() - 5, 5, ".yaml") == 0) want.resize(want.size() - 5);
  if (want == "v1") want = "non_fn_calling";
  if (want == "sweagent" && function_calling) {
    return Status::InvalidArgument(
        "prompt preset `sweagent` has no function-calling config (the scaffold refuses "
        "function calling for it too): use the text mode (--xml, LlmAgentOptions::xml_mode)");
  }
  if (want == "r2egym" || want == "openhands" || want == "sweagent") {
    want += function_calling ? "/edit_fn_calling" : "/edit_non_fn_calling";
  }
  for (const PromptPreset& p : PromptPresets()) {
    if (p.name == want) return p;
  }
  std::string known;
  for (const std::string& n : PromptPresetNames()) known += (known.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown prompt preset `" + std::string(name) +
                                 "` (known: " + known + ")");
}

Result<std::string> FormatPromptTemplate(
    std::string_view tmpl, const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  out.reserve(tmpl.size());
  std::size_t i = 0;
  while (i < tmpl.size()) {
    const char c = tmpl[i];
    if (c == '}') {
      if (i + 1 < tmpl.size() && tmpl[i + 1] == '}') {
        out += '}';
        i += 2;
        continue;
      }
      return Status::InvalidArgument("prompt template has a single '}' at offset " +
                                     std::to_string(i) + " (write '}}' for a literal brace)");
    }
    if (c != '{') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      out += '{';
      i += 2;
      continue;
    }
    const std::size_t close = tmpl.find('}', i + 1);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("prompt template has an unclosed '{' at offset " +
                                     std::to_string(i) + " (write '{{' for a literal brace)");
    }
    const std::string_view field = tmpl.substr(i + 1, close - i - 1);
    if (!IsIdentifier(field)) {
      return Status::InvalidArgument(
          "prompt template field `{" + std::string(field) +
          "}` is not supported: only named fields such as {problem_statement} (write '{{' and "
          "'}}' for literal braces)");
    }
    bool found = false;
    for (const auto& [key, value] : values) {
      if (key == field) {
        out += value;
        found = true;
        break;
      }
    }
    if (!found) {
      std::string known;
      for (const auto& kv : values) known += (known.empty() ? "" : ", ") + ("{" + kv.first + "}");
      return Status::InvalidArgument("prompt template names `{" + std::string(field) +
                                     "}`, which has no value here (known: " + known + ")");
    }
    i = close + 1;
  }
  return out;
}

Result<std::string> RenderInstancePrompt(std::string_view tmpl, const InstancePromptValues& v) {
  return FormatPromptTemplate(
      tmpl, {{"problem_statement", v.problem_statement},
             {"gt_patch", v.gt_patch},
             {"working_dir", v.working_dir},
             {"test_patch_hint", v.test_patch_hint},
             {"candidate_patch", v.candidate_patch},
             {"candidate_patch_correctness", v.candidate_patch_correct ? "correct" : "incorrect"}});
}

std::string StepsRemainingMessage(int steps_remaining) {
  if (steps_remaining <= 0) return Data().steps_exhausted;
  auto r = FormatPromptTemplate(Data().steps_remaining,
                                {{"steps_remaining", std::to_string(steps_remaining)}});
  return r.ok() ? *r : "Steps Remaining: " + std::to_string(steps_remaining);
}

Result<std::string> PrepareInstancePrompt(std::string_view tmpl, std::string_view agent_history,
                                          std::string_view command_docs, int steps_remaining) {
  auto text = FormatPromptTemplate(tmpl, {{"agent_history", std::string(agent_history)},
                                          {"command_docs", std::string(command_docs)}});
  if (!text.ok()) return text.status();
  return *text + "\n" + StepsRemainingMessage(steps_remaining);
}

std::string ScaffoldTaskInstruction(std::string_view problem_statement) {
  constexpr std::string_view kOpen = "[ISSUE]";
  constexpr std::string_view kClose = "[/ISSUE]";
  const std::size_t open = problem_statement.find(kOpen);
  if (open == std::string_view::npos) return std::string(problem_statement);
  const std::size_t begin = open + kOpen.size();
  const std::size_t close = problem_statement.rfind(kClose);
  if (close == std::string_view::npos || close < begin) return std::string(problem_statement);
  return std::string(problem_statement.substr(begin, close - begin));
}

bool ScaffoldUsesFunctionCalling(std::string_view model, bool requested) {
  // The scaffold's `a or b or c or d and not e`: the `and` binds to "o4" only.
  const bool supported = Contains(model, "gpt") || Contains(model, "sonnet") ||
                         Contains(model, "o3") || (Contains(model, "o4") && !Contains(model, "qwen"));
  return requested && supported;
}

bool ScaffoldSendsTemperature(std::string_view model) {
  return !Contains(model, "o3") && !Contains(model, "o4");
}

}  // namespace r2e
