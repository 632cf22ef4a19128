// Helpers shared by the LLM agent's sources (llm_client.cc, agent_prompts.cc,
// llm_agent.cc, scaffold_loop.cc). Not part of the public API.
#ifndef R2E_AGENT_AGENT_INTERNAL_H_
#define R2E_AGENT_AGENT_INTERNAL_H_

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/llm_agent.h"
#include "r2e/observation.h"
#include "r2e/status.h"

namespace r2e::agent_internal {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

inline double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A printable, valid UTF-8 prefix of a body for error messages.
inline std::string Excerpt(std::string_view body, std::size_t limit = 300) {
  std::string out = SanitizeUtf8(body.substr(0, std::min(body.size(), limit)));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (body.size() > limit) out += "...";
  if (body.empty()) out = "(empty body)";
  return out;
}

inline std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}
inline std::string Dump(const OJson& j) {
  return j.dump(-1, ' ', false, OJson::error_handler_t::replace);
}

// r2e's own prompts (agent_prompts.cc).
extern const std::string_view kSystemPrompt;
extern const std::string_view kXmlFormat;
extern const std::string_view kInstanceTemplate;

// The tools as text, for r2e's XML-mode system prompt.
std::string DescribeTools(const std::vector<OJson>& tools);

// Replaces each "{key}" once, left to right, without rescanning the inserted text.
std::string Fill(std::string_view tmpl,
                 const std::vector<std::pair<std::string, std::string>>& values);

// The name of the tool that ends the episode, for the prompts: `finish` if
// offered, else the first finish/submit-like tool, else `finish`.
std::string FinishToolName(const std::vector<OJson>& schemas);

// Keeps the head and tail of text longer than `limit` characters (0: no limit).
std::string ClipObservation(const std::string& text, std::size_t limit);

// The timeout for env.step(): `step_timeout` (none: the env's own), never
// more than what is left before `deadline` (at least 1 s).
std::optional<std::chrono::seconds> StepTimeout(std::optional<std::chrono::seconds> step_timeout,
                                                std::optional<Clock::time_point> deadline);

// Ends an episode: sets exit, exit_reason (with the status's detail for
// errors), scaffold_exit_reason (`max_steps`: the soft limit, for a finish),
// status and duration_s; returns the episode (moved out of `ep`).
LlmEpisode EndEpisode(LlmEpisode& ep, LlmExit exit, Status status, Clock::time_point start,
                      int max_steps);

// Adds a reply's model time and reported token usage to the episode's totals
// (last_context_tokens: the reply's total_tokens, prompt + completion).
void CountReply(LlmEpisode& ep, const LlmReply& reply);

// Why an episode ends when its model call failed with `status`: the time
// limit when `deadline` is (all but) reached, max_tokens when the endpoint
// reported the context exhausted, else llm_error.
LlmExit FailedReplyExit(const Status& status, std::optional<Clock::time_point> deadline);

// The record of step `step`, opened from the reply that starts it (raw
// reply, model time, attempts, usage).
LlmStep StepFromReply(int step, const LlmReply& reply);

}  // namespace r2e::agent_internal

#endif  // R2E_AGENT_AGENT_INTERNAL_H_
