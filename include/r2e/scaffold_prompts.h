// Prompt presets: the R2E-Gym scaffold's agent prompts as data, and the
// scaffold's rules for filling them in.
//
//   auto preset = r2e::FindPromptPreset("r2egym", /*function_calling=*/false).value();
//   std::string user = r2e::RenderInstancePrompt(preset.instance_prompt,
//       {.problem_statement = r2e::ScaffoldTaskInstruction(task.problem_statement)}).value();
//   user += "\n" + r2e::StepsRemainingMessage(40);   // before the first model call
//
// Each preset is one of the scaffold's agent configs
// (src/r2egym/agenthub/config/**.yaml): its system prompt and instance prompt
// verbatim, compiled into the library from src/agent/prompt_presets.json,
// which names the scaffold commit they come from. LlmAgent uses them when
// LlmAgentOptions::prompt names a preset (r2e/llm_agent.h); the functions here
// are what it uses, for callers with their own loop.
//
// Presets (PromptPresets()):
//   r2egym/edit_fn_calling       tools: r2egym set, function calling
//   r2egym/edit_non_fn_calling   tools: r2egym set, listed in the system prompt
//   openhands/edit_fn_calling    tools: openhands set, function calling
//   openhands/edit_non_fn_calling
//   sweagent/edit_non_fn_calling tools: openhands set (its prompt lists `bash`)
//   non_fn_calling               tools: v1 set (the scaffold's first config)
// Thread-safety: everything here is safe to call from any thread.
#ifndef R2E_SCAFFOLD_PROMPTS_H_
#define R2E_SCAFFOLD_PROMPTS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r2e/status.h"

namespace r2e {

struct PromptPreset {
  std::string name;      // "r2egym/edit_non_fn_calling"
  std::string config;    // the scaffold's file it comes from
  std::string scaffold;  // "r2egym", "openhands", "sweagent"; "" for non_fn_calling
  // The scaffold runs this config with function calling (tools sent as
  // schemas) or without (tools listed in the system prompt, replies read as
  // <function=...> text).
  bool function_calling = false;
  std::string tool_set;  // the r2e tool set (ToolSet) of the config's command files
  // Sent as it is: the scaffold does not format the system prompt.
  std::string system_prompt;
  // A Python format string (RenderInstancePrompt).
  std::string instance_prompt;
};

// Every preset, in the order listed above.
const std::vector<PromptPreset>& PromptPresets();

// The preset for `name`:
//   - a config name ("r2egym/edit_fn_calling", also with ".yaml"): that one;
//   - a scaffold name ("r2egym", "openhands", "sweagent"): its config for the
//     mode, as the scaffold's runner picks `<scaffold>/edit_fn_calling.yaml` or
//     `<scaffold>/edit_non_fn_calling.yaml`;
//   - "v1": non_fn_calling.
// InvalidArgument, naming the presets, for an unknown name; and for
// "sweagent" with function calling (the scaffold has no such config and
// refuses it: use the text mode).
Result<PromptPreset> FindPromptPreset(std::string_view name, bool function_calling);

// The names FindPromptPreset accepts, for help texts.
std::vector<std::string> PromptPresetNames();

// The defaults of the scaffold's runner (run/edit.py) and Agent.run.
struct ScaffoldDefaults {
  int max_steps = 40;            // soft limit: the steps-remaining count starts here
  int max_steps_absolute = 50;   // hard limit
  std::int64_t max_token_limit = 65536;  // a reply's total_tokens that ends the episode
  double temperature = 0.0;
  std::chrono::seconds step_timeout{90};
  std::string working_dir = "/testbed";
};
const ScaffoldDefaults& GetScaffoldDefaults();

// Python's str.format with keyword arguments only, as the scaffold fills its
// templates: "{name}" is replaced by its value (inserted text is not scanned
// again), "{{" and "}}" are literal braces. InvalidArgument (the scaffold
// raises KeyError, ValueError or IndexError) for a name without a value, a
// single "}", an unclosed "{", and for what this subset does not support:
// positional fields ("{}", "{0}"), attribute or index access, conversions
// ("!r") and format specs (":>10").
Result<std::string> FormatPromptTemplate(
    std::string_view tmpl, const std::vector<std::pair<std::string, std::string>>& values);

// The values Agent.run formats the instance prompt with.
struct InstancePromptValues {
  std::string problem_statement;  // ScaffoldTaskInstruction of the row's statement
  std::string working_dir = "/testbed";
  std::string gt_patch;           // the scaffold: the commit's test-file patch
  std::string test_patch_hint;
  std::string candidate_patch;
  bool candidate_patch_correct = false;  // {candidate_patch_correctness}: "correct"/"incorrect"
};

// `instance_prompt.format(problem_statement=..., gt_patch=..., working_dir=...,
// test_patch_hint=..., candidate_patch=..., candidate_patch_correctness=...)`.
Result<std::string> RenderInstancePrompt(std::string_view tmpl, const InstancePromptValues& values);

// The line the scaffold appends (after "\n") to the last message before each
// model call: "Steps Remaining: N" for N > 0, else "You have reached the
// maximum number of steps. Please submit your answer NOW.".
std::string StepsRemainingMessage(int steps_remaining);

// The scaffold's Agent.prepare_instance_prompt: `tmpl` formatted with
// agent_history and command_docs, then "\n" and StepsRemainingMessage.
Result<std::string> PrepareInstancePrompt(std::string_view tmpl, std::string_view agent_history,
                                          std::string_view command_docs, int steps_remaining);

// The scaffold's task instruction (get_task_instruction): the text from the
// first "[ISSUE]" to the last "[/ISSUE]" after it (greedy, across lines, not
// stripped), else the whole statement. (Task::Instruction differs: it stops
// at the first "[/ISSUE]" and strips.)
std::string ScaffoldTaskInstruction(std::string_view problem_statement);

// Whether the scaffold's Agent.run uses function calling for a model: only
// when asked and the name contains "gpt", "sonnet" or "o3", or "o4" without
// "qwen" (case-sensitive substrings, as the scaffold tests them).
bool ScaffoldUsesFunctionCalling(std::string_view model, bool requested = true);

// Whether the scaffold sends a temperature to this model (not for names
// containing "o3" or "o4").
bool ScaffoldSendsTemperature(std::string_view model);

}  // namespace r2e

#endif  // R2E_SCAFFOLD_PROMPTS_H_
