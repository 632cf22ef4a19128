// LlmAgent's loop with a prompt preset: the R2E-Gym scaffold's Agent.run
// (src/r2egym/agenthub/agent/agent.py), its prompts, its steps-remaining
// message, its history and its limits. See r2e/llm_agent.h; where it differs
// from the scaffold: docs/scaffold-differences.md.
#include <exception>
#include <set>
#include <utility>

#include "agent/agent_internal.h"
#include "r2e/llm_agent.h"
#include "r2e/observation.h"
#include "r2e/repo_env.h"
#include "r2e/scaffold_prompts.h"
#include "r2e/tools.h"

namespace r2e {

using agent_internal::Clock;
using agent_internal::CountReply;
using agent_internal::FailedReplyExit;
using agent_internal::Json;
using agent_internal::OJson;
using agent_internal::SecondsSince;
using agent_internal::StepFromReply;

namespace {

// The message text as the history holds it (content is a string there;
// null only for an assistant message that had none).
std::string ContentOf(const Json& message) {
  auto c = message.find("content");
  return c != message.end() && c->is_string() ? c->get<std::string>() : "";
}

// A preset's tool set is what the scaffold adds to its env (command_files):
// an env without one of those tools would answer the prompt's calls with
// "unknown tool".
Status CheckTools(const PromptPreset& preset, const RepoEnv& env) {
  auto files = ToolSet(preset.tool_set);
  if (!files.ok()) return files.status();
  std::set<std::string> have;
  for (const ToolDescription& t : env.tools()) have.insert(t.name);
  std::string missing;
  for (const ToolFile& f : *files) {
    auto d = DescribeTool(f);
    if (d.ok() && !have.contains(d->name)) missing += (missing.empty() ? "" : ", ") + d->name;
  }
  if (missing.empty()) return Status();
  return Status::InvalidArgument("prompt preset " + preset.name + " calls the tools of set `" +
                                 preset.tool_set + "`, but the env lacks " + missing +
                                 ": create the env with RepoEnvOptions::tool_set = \"" +
                                 preset.tool_set + "\"");
}

// The request's messages: the history, plus the scaffold's prompt caching
// hints on the last three user/tool messages when asked.
Json RequestMessages(const Json& history, bool cache_control) {
  Json out = history;
  if (!cache_control) return out;
  int left = 3;
  for (auto it = out.rbegin(); it != out.rend() && left > 0; ++it) {
    const std::string role = it->value("role", "");
    if (role == "user" || role == "tool") {
      (*it)["cache_control"] = {{"type", "ephemeral"}};
      --left;
    }
  }
  return out;
}

}  // namespace

LlmEpisode LlmAgent::RunScaffold(RepoEnv& env,
                                 const std::function<void(const LlmStep&)>& on_step) const {
  LlmEpisode ep;
  const auto start = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (options_.time_limit > std::chrono::milliseconds(0)) deadline = start + options_.time_limit;
  auto end_with = [&](LlmExit exit, Status status = Status()) -> LlmEpisode {
    return agent_internal::EndEpisode(ep, exit, std::move(status), start, options_.max_steps);
  };
  const bool fn_calling = !options_.xml_mode;

  try {
    if (options_.reset_env) {
      auto first = env.reset();
      ep.reset_s = SecondsSince(start);
      if (!first.ok()) return end_with(LlmExit::kEnvError, first.status().WithContext("reset"));
    }
    if (options_.tools.empty()) {
      if (Status s = CheckTools(*preset_, env); !s.ok()) return end_with(LlmExit::kEnvError, s);
    }
    // The scaffold sends temperature 0 (its runner's default) except to o3/o4 models.
    LlmClientOptions client_options = options_.client;
    if (!client_options.temperature && ScaffoldSendsTemperature(client_options.model)) {
      client_options.temperature = GetScaffoldDefaults().temperature;
    }
    auto client_or = LlmClient::Create(client_options);
    if (!client_or.ok()) return end_with(LlmExit::kLlmError, client_or.status());
    std::unique_ptr<LlmClient> client = std::move(client_or).value();

    auto instance = ScaffoldInstancePrompt(env);
    if (!instance.ok()) return end_with(LlmExit::kLlmError, instance.status());
    ep.messages.push_back({{"role", "system"}, {"content", SystemPrompt(env)}});
    ep.messages.push_back({{"role", "user"}, {"content", *instance}});
    const OJson tools = ToolsJson(env);  // null in text mode

    for (;;) {
      // The scaffold appends the count to the last message (user or tool),
      // where it stays.
      const int steps_remaining = options_.max_steps - ep.steps;
      Json& last = ep.messages.back();
      last["content"] = ContentOf(last) + "\n" + StepsRemainingMessage(steps_remaining);

      if (deadline && Clock::now() >= *deadline) return end_with(LlmExit::kTimeLimit);
      auto reply = client->Complete(RequestMessages(ep.messages, fn_calling && options_.cache_control),
                                    tools, deadline);
      ++ep.model_calls;
      if (!reply.ok()) return end_with(FailedReplyExit(reply.status(), deadline), reply.status());
      CountReply(ep, *reply);

      LlmStep rec = StepFromReply(ep.steps + 1, *reply);
      // The first tool call as received: the history keeps it, its name and
      // id answer it.
      const Json* first_call = nullptr;
      if (fn_calling) {
        auto calls = reply->message.find("tool_calls");
        if (calls != reply->message.end() && calls->is_array() && !calls->empty()) {
          first_call = &(*calls)[0];
        }
        Status parse_error;
        rec.action = ActionFromReply(reply->content, reply->tool_calls, &parse_error);
        rec.thought = reply->content;
        if (!parse_error.ok()) rec.error = parse_error.message();
        if (!reply->tool_calls.empty()) rec.tool_call_id = reply->tool_calls[0].id;
      } else {
        rec.action = ParseResponse(reply->content);
        rec.thought = rec.action.thought;
      }

      const auto t_env = Clock::now();
      auto r = env.step(rec.action, agent_internal::StepTimeout(options_.step_timeout, deadline));
      rec.env_s = SecondsSince(t_env);
      ep.env_s += rec.env_s;
      if (!r.ok()) {
        ep.records.push_back(rec);
        return end_with(LlmExit::kEnvError, r.status());
      }
      ++ep.steps;
      rec.observation = r->observation.text;
      rec.done = r->done;
      rec.exit_code = r->info.exit_code;
      rec.timed_out = r->info.timed_out;

      if (fn_calling) {
        Json assistant = {{"role", "assistant"}};
        auto content = reply->message.find("content");
        assistant["content"] = content != reply->message.end() ? *content : Json(nullptr);
        if (first_call != nullptr) assistant["tool_calls"] = Json::array({*first_call});
        ep.messages.push_back(std::move(assistant));
        const Json* function = nullptr;
        if (first_call != nullptr && first_call->is_object()) {
          auto f = first_call->find("function");
          if (f != first_call->end() && f->is_object()) function = &*f;
        }
        if (function != nullptr) {
          ep.messages.push_back({{"role", "tool"},
                                 {"content", rec.observation},
                                 {"name", function->value("name", Json(nullptr))},
                                 {"tool_call_id", first_call->value("id", Json(nullptr))}});
        } else {
          ep.messages.push_back({{"role", "user"}, {"content", rec.observation}});
        }
      } else {
        ep.messages.push_back({{"role", "assistant"}, {"content", AssistantHistoryContent(rec.action)}});
        ep.messages.push_back({{"role", "user"}, {"content", rec.observation}});
      }
      // The scaffold's order: finished, token limit, hard step limit, time.
      // Its trajectory marks the step after which the episode ends as done,
      // whatever the reason.
      std::optional<LlmExit> end;
      if (rec.done) {
        end = LlmExit::kFinished;
      } else if (options_.max_context_tokens > 0 && reply->usage.reported &&
                 reply->usage.total_tokens >= options_.max_context_tokens) {
        end = LlmExit::kMaxTokens;
      } else if (options_.max_total_tokens > 0 && ep.total_tokens >= options_.max_total_tokens) {
        end = LlmExit::kMaxTokens;
      } else if (options_.max_steps_absolute > 0 && ep.steps >= options_.max_steps_absolute) {
        end = LlmExit::kMaxSteps;
      } else if (deadline && Clock::now() >= *deadline) {
        end = LlmExit::kTimeLimit;
      }
      rec.done = end.has_value();
      ep.records.push_back(rec);
      if (on_step) {
        try {
          on_step(ep.records.back());
        } catch (...) {
          // A callback's exception must not end the episode without its result.
        }
      }
      if (end) return end_with(*end);
    }
  } catch (const std::exception& e) {
    return end_with(LlmExit::kLlmError, Status::Internal(std::string("agent loop: ") + e.what()));
  } catch (...) {
    return end_with(LlmExit::kLlmError, Status::Internal("agent loop: unknown exception"));
  }
}

}  // namespace r2e
