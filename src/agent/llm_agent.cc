// LlmAgent: options, prompts, and r2e's own episode loop over a RepoEnv (the
// scaffold's loop is in scaffold_loop.cc). See r2e/llm_agent.h.
#include "r2e/llm_agent.h"

#include <algorithm>
#include <exception>
#include <functional>
#include <utility>

#include "agent/agent_internal.h"
#include "core/enum_names.h"
#include "r2e/observation.h"
#include "r2e/repo_env.h"
#include "r2e/tools.h"

namespace r2e {

using agent_internal::ClipObservation;
using agent_internal::Clock;
using agent_internal::CountReply;
using agent_internal::DescribeTools;
using agent_internal::FailedReplyExit;
using agent_internal::Fill;
using agent_internal::FinishToolName;
using agent_internal::Json;
using agent_internal::kInstanceTemplate;
using agent_internal::kSystemPrompt;
using agent_internal::kXmlFormat;
using agent_internal::OJson;
using agent_internal::SecondsSince;
using agent_internal::StepFromReply;
using Ms = std::chrono::milliseconds;

std::string_view LlmExitName(LlmExit exit) {
  using enum LlmExit;
  static constexpr internal::EnumName<LlmExit> kNames[] = {
      {kFinished, "finished"},    {kMaxSteps, "max_steps"}, {kMaxTokens, "max_tokens"},
      {kTimeLimit, "time_limit"}, {kLlmError, "llm_error"}, {kEnvError, "env_error"}};
  return internal::NameOf(exit, kNames, "llm_error");
}

namespace agent_internal {

void CountReply(LlmEpisode& ep, const LlmReply& reply) {
  ep.model_s += reply.seconds;
  if (!reply.usage.reported) return;
  ep.prompt_tokens += reply.usage.prompt_tokens;
  ep.completion_tokens += reply.usage.completion_tokens;
  ep.total_tokens += reply.usage.total_tokens;
  ep.last_context_tokens = reply.usage.total_tokens;
}

LlmExit FailedReplyExit(const Status& status, std::optional<Clock::time_point> deadline) {
  if (deadline && Clock::now() + Ms(50) >= *deadline) return LlmExit::kTimeLimit;
  if (status.code() == StatusCode::kResourceExhausted) return LlmExit::kMaxTokens;
  return LlmExit::kLlmError;
}

LlmStep StepFromReply(int step, const LlmReply& reply) {
  LlmStep rec;
  rec.step = step;
  rec.raw_reply = reply.content;
  rec.model_s = reply.seconds;
  rec.attempts = reply.attempts;
  rec.usage = reply.usage;
  return rec;
}

LlmEpisode EndEpisode(LlmEpisode& ep, LlmExit exit, Status status, Clock::time_point start,
                      int max_steps) {
  ep.exit = exit;
  ep.exit_reason = std::string(LlmExitName(exit));
  // The reason carries the detail only for errors ("llm_error: ..."); the
  // status is kept in every case (e.g. the 400 behind a max_tokens).
  if (!status.ok() && (exit == LlmExit::kLlmError || exit == LlmExit::kEnvError)) {
    ep.exit_reason += ": " + SanitizeUtf8(status.ToString());
  }
  switch (exit) {
    case LlmExit::kFinished: {
      // The scaffold's steps_remaining of the finishing step.
      const int remaining = max_steps > 0 ? max_steps - (ep.steps - 1) : 1;
      ep.scaffold_exit_reason =
          remaining > 0 ? "agent" : (remaining == 0 ? "max_step_limit" : "agent_max_step_limit");
      break;
    }
    case LlmExit::kMaxSteps:
      ep.scaffold_exit_reason = "abs_step_limit";
      break;
    case LlmExit::kMaxTokens:
      // The scaffold ends on a reply's token count; an overflowing request
      // is an error there.
      ep.scaffold_exit_reason = status.ok() ? "token_limit" : "llm_query_error";
      break;
    case LlmExit::kTimeLimit:
      ep.scaffold_exit_reason = "traj_time_limit";
      break;
    case LlmExit::kLlmError:
      ep.scaffold_exit_reason = "llm_query_error";
      break;
    case LlmExit::kEnvError:
      ep.scaffold_exit_reason = "env_error";
      break;
  }
  ep.status = std::move(status);
  ep.duration_s = SecondsSince(start);
  return std::move(ep);
}

}  // namespace agent_internal

StepRecord ToStepRecord(const LlmStep& step) {
  StepRecord r;
  r.step = step.step;
  r.thought = step.thought;
  r.action = step.action.empty() ? "" : step.action.ToXml();
  r.observation = step.observation;
  r.done = step.done;
  r.exit_code = step.exit_code;
  r.timed_out = step.timed_out;
  r.duration_s = step.env_s;
  r.model_s = step.model_s;
  if (step.usage.reported) {
    r.prompt_tokens = step.usage.prompt_tokens;
    r.completion_tokens = step.usage.completion_tokens;
    r.total_tokens = step.usage.total_tokens;
  }
  Json extra = Json::object();
  if (!step.tool_call_id.empty()) extra["tool_call_id"] = step.tool_call_id;
  if (!step.error.empty()) extra["error"] = step.error;
  if (step.attempts > 1) extra["model_attempts"] = step.attempts;
  if (!extra.empty()) r.extra = std::move(extra);
  return r;
}

Result<LlmAgent> LlmAgent::Create(LlmAgentOptions options) {
  // The same checks LlmClient::Create makes, so Run() cannot fail on them.
  auto client = LlmClient::Create(options.client);
  if (!client.ok()) return client.status();
  for (auto& tool : options.tools) {
    auto norm = NormalizeToolSchema(tool);
    if (!norm.ok()) return norm.status();
    tool = std::move(norm).value();
  }
  if (options.max_steps < 0)
    return Status::InvalidArgument("max_steps must be 0 (none) or positive");
  if (options.max_steps_absolute < 0)
    return Status::InvalidArgument("max_steps_absolute must be 0 (none) or positive");
  std::optional<PromptPreset> preset;
  if (!options.prompt.empty()) {
    auto found = FindPromptPreset(options.prompt, !options.xml_mode);
    if (!found.ok()) return found.status();
    preset = std::move(found).value();
    // A template whose placeholders the scaffold cannot fill fails here, not mid-run.
    const std::string& tmpl = options.instance_prompt_template.empty()
                                  ? preset->instance_prompt
                                  : options.instance_prompt_template;
    auto rendered = RenderInstancePrompt(tmpl, {});
    if (!rendered.ok()) return rendered.status().WithContext("instance prompt");
  }
  LlmAgent agent(std::move(options));
  agent.preset_ = std::move(preset);
  return agent;
}

LlmAgent::Offer LlmAgent::MakeOffer(const RepoEnv& env) const {
  Offer offer;
  if (!options_.tools.empty()) {
    offer.schemas = options_.tools;
    offer.listing = DescribeTools(offer.schemas);
    return offer;
  }
  const std::vector<ToolDescription> tools = env.tools();
  if (!tools.empty()) {
    offer.schemas = env.tool_schemas();
    offer.listing = ToolsPromptText(tools);
    while (!offer.listing.empty() && offer.listing.back() == '\n') offer.listing.pop_back();
    return offer;
  }
  offer.schemas = DefaultToolSchemas();
  offer.listing = DescribeTools(offer.schemas);
  return offer;
}

std::string LlmAgent::SystemPrompt(const Offer& offer, const std::string& task) const {
  const std::vector<std::pair<std::string, std::string>> values = {
      {"task", task}, {"tools", offer.listing}, {"finish", FinishToolName(offer.schemas)}};
  if (!options_.system_prompt.empty()) return Fill(options_.system_prompt, values);
  std::string out = Fill(kSystemPrompt, values);
  if (options_.xml_mode) out += std::string(kXmlFormat) + offer.listing;
  return out;
}

std::string LlmAgent::InstancePrompt(const Offer& offer, const std::string& task) const {
  const std::vector<std::pair<std::string, std::string>> values = {
      {"task", task}, {"tools", offer.listing}, {"finish", FinishToolName(offer.schemas)}};
  return Fill(options_.instance_prompt_template.empty()
                  ? kInstanceTemplate
                  : std::string_view(options_.instance_prompt_template),
              values);
}

std::vector<OJson> LlmAgent::ToolSchemas(const RepoEnv& env) const {
  return MakeOffer(env).schemas;
}

std::string LlmAgent::SystemPrompt(const RepoEnv& env) const {
  if (preset_) {
    return options_.system_prompt.empty() ? preset_->system_prompt : options_.system_prompt;
  }
  return SystemPrompt(MakeOffer(env), env.task_instruction());
}

Result<std::string> LlmAgent::ScaffoldInstancePrompt(const RepoEnv& env) const {
  InstancePromptValues values;
  values.problem_statement = ScaffoldTaskInstruction(env.task().problem_statement);
  values.working_dir = GetScaffoldDefaults().working_dir;
  // The scaffold's gt_patch is the commit's test-file patch; r2e has it for
  // rows that carry a test_patch.
  values.gt_patch = env.task().test_patch;
  return RenderInstancePrompt(options_.instance_prompt_template.empty()
                                  ? std::string_view(preset_->instance_prompt)
                                  : std::string_view(options_.instance_prompt_template),
                              values);
}

std::string LlmAgent::InstancePrompt(const RepoEnv& env) const {
  if (preset_) {
    auto text = ScaffoldInstancePrompt(env);
    return text.ok() ? *text : "";
  }
  return InstancePrompt(MakeOffer(env), env.task_instruction());
}

OJson LlmAgent::ToolsJson(const RepoEnv& env) const {
  if (options_.xml_mode) return nullptr;
  OJson out = OJson::array();
  for (auto& t : MakeOffer(env).schemas) out.push_back(std::move(t));
  if (preset_ && options_.cache_control && !out.empty()) {
    out.back()["function"]["cache_control"] = {{"type", "ephemeral"}};
  }
  return out;
}

// --------------------------------------------------------------------------
// The episode loop

LlmEpisode LlmAgent::Run(RepoEnv& env, const std::function<void(const LlmStep&)>& on_step) const {
  if (preset_) return RunScaffold(env, on_step);
  LlmEpisode ep;
  const auto start = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (options_.time_limit > Ms(0)) deadline = start + options_.time_limit;
  auto end_with = [&](LlmExit exit, Status status = Status()) -> LlmEpisode {
    return agent_internal::EndEpisode(ep, exit, std::move(status), start, options_.max_steps);
  };
  // Without a preset nothing tells the agent about a soft limit: both end it.
  int max_steps = options_.max_steps;
  if (options_.max_steps_absolute > 0 && (max_steps == 0 || options_.max_steps_absolute < max_steps))
    max_steps = options_.max_steps_absolute;

  try {
    if (options_.reset_env) {
      auto first = env.reset();
      ep.reset_s = SecondsSince(start);
      if (!first.ok()) return end_with(LlmExit::kEnvError, first.status().WithContext("reset"));
    }
    auto client_or = LlmClient::Create(options_.client);
    if (!client_or.ok()) return end_with(LlmExit::kLlmError, client_or.status());
    std::unique_ptr<LlmClient> client = std::move(client_or).value();

    const Offer offer = MakeOffer(env);
    const std::string task = env.task_instruction();
    ep.messages.push_back({{"role", "system"}, {"content", SystemPrompt(offer, task)}});
    ep.messages.push_back({{"role", "user"}, {"content", InstancePrompt(offer, task)}});
    OJson tools = nullptr;
    if (!options_.xml_mode) tools = OJson(offer.schemas);

    for (;;) {
      // The scaffold's order: tokens, then steps, then time.
      if (options_.max_total_tokens > 0 && ep.total_tokens >= options_.max_total_tokens) {
        return end_with(LlmExit::kMaxTokens);
      }
      if (options_.max_context_tokens > 0 &&
          ep.last_context_tokens >= options_.max_context_tokens) {
        return end_with(LlmExit::kMaxTokens);
      }
      if (max_steps > 0 && ep.steps >= max_steps) return end_with(LlmExit::kMaxSteps);
      if (deadline && Clock::now() >= *deadline) return end_with(LlmExit::kTimeLimit);

      auto reply = client->Complete(ep.messages, tools, deadline);
      ++ep.model_calls;
      if (!reply.ok()) return end_with(FailedReplyExit(reply.status(), deadline), reply.status());
      CountReply(ep, *reply);

      LlmStep rec = StepFromReply(++ep.steps, *reply);

      const bool use_calls = !options_.xml_mode && !reply->tool_calls.empty();
      bool nameless = false;
      for (const auto& c : reply->tool_calls) nameless = nameless || c.name.empty();

      Json assistant = {{"role", "assistant"}, {"content", reply->content}};
      // Tool messages answering calls other than the one run.
      std::vector<Json> skipped;
      bool answer_as_tool = false;

      if (use_calls && !nameless) {
        Json calls = Json::array();
        for (std::size_t i = 0; i < reply->tool_calls.size(); ++i) {
          const LlmToolCall& c = reply->tool_calls[i];
          std::string id =
              c.id.empty() ? "call_" + std::to_string(rec.step) + "_" + std::to_string(i) : c.id;
          // Arguments that do not parse are echoed as {} so that the next
          // request stays valid for servers that parse the history.
          std::string args = c.arguments.empty() ? "{}" : c.arguments;
          Json parsed = Json::parse(args, nullptr, false);
          if (parsed.is_discarded() || !parsed.is_object()) args = "{}";
          calls.push_back({{"id", id},
                           {"type", "function"},
                           {"function", {{"name", c.name}, {"arguments", args}}}});
          if (i == 0) {
            rec.tool_call_id = id;
            auto action = ActionFromToolCall(c.name, c.arguments);
            if (action.ok() && action->arguments->is_object()) {
              rec.action = std::move(action).value();
            } else {
              // The scaffold reads arguments that are not JSON as no call
              // (and crashes on JSON that is not an object); the model is
              // told what was wrong instead.
              rec.action.function_name = c.name;
              rec.error = action.ok()
                              ? "arguments of tool call '" + c.name +
                                    "' must be a JSON object, got " + action->arguments->type_name()
                              : action.status().message();
            }
          } else {
            skipped.push_back(
                {{"role", "tool"},
                 {"tool_call_id", id},
                 {"content", "Only one function call per reply is run; this call to `" +
                                 SanitizeUtf8(c.name) + "` was skipped."}});
          }
        }
        assistant["tool_calls"] = std::move(calls);
        rec.thought = !reply->content.empty() ? reply->content : reply->reasoning_content;
        rec.action.thought = rec.thought;
        answer_as_tool = true;
      } else if (use_calls && nameless) {
        rec.error = "the reply has a tool call without a function name";
        rec.thought = reply->content;
      } else if (options_.xml_mode) {
        // As the scaffold's agent without function calling: the first
        // <function=...</function> block is the action, the first <think>
        // block the thought, and only these stay in the history.
        rec.action = ParseResponse(reply->content);
        rec.thought = rec.action.thought;
        if (rec.thought.empty()) rec.thought = reply->reasoning_content;
        assistant["content"] = AssistantHistoryContent(rec.action);
      } else {
        // r2e's own: a function-calling reply without calls may still hold
        // a text call; the text before it is the thought.
        rec.action = ParseResponseV2(reply->content);
        rec.thought = rec.action.thought;
        if (rec.thought.empty()) rec.thought = reply->reasoning_content;
      }
      ep.messages.push_back(std::move(assistant));

      if (!rec.error.empty()) {
        rec.observation =
            "Error: " + SanitizeUtf8(rec.error) +
            ". Nothing was run. Call one of the available functions with a JSON object "
            "of arguments.";
        rec.exit_code = 1;
      } else {
        const std::optional<std::chrono::seconds> timeout =
            agent_internal::StepTimeout(options_.step_timeout, deadline);
        const auto t_env = Clock::now();
        auto r = env.step(rec.action, timeout);
        rec.env_s = SecondsSince(t_env);
        ep.env_s += rec.env_s;
        if (!r.ok()) {
          ep.records.push_back(rec);
          return end_with(LlmExit::kEnvError, r.status());
        }
        rec.observation = r->observation.text;
        rec.done = r->done;
        rec.exit_code = r->info.exit_code;
        rec.timed_out = r->info.timed_out;
      }
      const std::string shown = ClipObservation(rec.observation, options_.max_observation_chars);
      if (answer_as_tool) {
        ep.messages.push_back(
            {{"role", "tool"}, {"tool_call_id", rec.tool_call_id}, {"content", shown}});
        for (auto& m : skipped) ep.messages.push_back(std::move(m));
      } else {
        ep.messages.push_back({{"role", "user"}, {"content", shown}});
      }
      ep.records.push_back(rec);
      if (on_step) {
        try {
          on_step(ep.records.back());
        } catch (...) {
          // A callback's exception must not end the episode without its result.
        }
      }
      if (rec.done) return end_with(LlmExit::kFinished);
    }
  } catch (const std::exception& e) {
    return end_with(LlmExit::kLlmError, Status::Internal(std::string("agent loop: ") + e.what()));
  } catch (...) {
    return end_with(LlmExit::kLlmError, Status::Internal("agent loop: unknown exception"));
  }
}

}  // namespace r2e