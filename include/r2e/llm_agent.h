// LlmAgent: runs an episode on a RepoEnv with a model behind any
// OpenAI-compatible chat-completions endpoint (vLLM, SGLang, OpenAI, ...).
//
//   r2e::LlmAgentOptions o;
//   o.client.base_url = "http://127.0.0.1:8000/v1";
//   o.client.model = "Qwen/Qwen2.5-Coder-32B-Instruct";
//   auto agent = r2e::LlmAgent::Create(o).value();
//   auto env = r2e::RepoEnv::Create(task).value();
//   r2e::LlmEpisode episode = agent.Run(*env);   // resets the env, then loops
//   double reward = env->compute_reward().value_or(0.0);
//   env->close();                                // the caller closes the env
//
// The loop: the system prompt and the instance prompt (built from the tools
// and env.task_instruction()) go to the model; each reply becomes one
// Action, which env.step() runs; its observation goes back to the model (as a
// `tool` message answering the tool call in function-calling mode, as a user
// message in XML mode). It stops when the agent calls finish/submit, or at the
// step, token or wall-time limit, or when the model endpoint fails.
//
// The R2E-Gym scaffold's agent (`prompt`, e.g. "r2egym"; see
// r2e/scaffold_prompts.h): the loop of the scaffold's Agent.run with its
// prompts and its history, message for message, so that a policy trained
// on the scaffold sees what it saw there:
//  - the preset's system prompt as it is, and its instance prompt formatted
//    with the scaffold's placeholders ({problem_statement}: the scaffold's
//    task instruction, ScaffoldTaskInstruction; {working_dir}: /testbed; ...);
//  - before each model call, "\n" + StepsRemainingMessage(max_steps - steps
//    taken) is appended to the last message (and stays in the history);
//  - function calling: the assistant message keeps its first tool call only,
//    the observation answers it as {"role": "tool", "content", "name",
//    "tool_call_id"} (a user message when the reply has no call); text mode:
//    the assistant message is AssistantHistoryContent (the <think> block and
//    the call) and the observation a user message;
//  - replies are read as the scaffold reads them (ActionFromReply,
//    ParseResponse); whatever they hold is a step (a reply without a usable
//    call gets the scaffold's reminder);
//  - max_steps is the soft limit (the count the message shows; the episode
//    goes on past it) and max_steps_absolute the hard one; a reply whose
//    usage.total_tokens reaches max_context_tokens ends the episode after its
//    step; a finish call ends it first. LlmEpisode::scaffold_exit_reason is
//    the scaffold's name for the end ("agent", "max_step_limit", ...).
//  - temperature 0 unless client.temperature is set (none for o3/o4 models,
//    ScaffoldSendsTemperature); no observation clipping.
// Where it differs from the scaffold, and why: docs/scaffold-differences.md.
//
// Model replies that are malformed in the agent's part (no function call,
// empty text, tool-call arguments that are not a JSON object, a call without
// a name) are steps whose observation says what was wrong; the model sees it
// and can correct itself. Replies malformed in the transport (not JSON, no
// `choices`, no `message`, HTTP errors after retries, timeouts, connection
// refused) end the episode with exit reason "llm_error: <what happened>".
//
// Timeouts: every HTTP request has a connect, a write and a read timeout and a
// hard bound on the whole attempt (a watchdog closes the socket), and never
// runs past the episode's time limit. Retries (429, 5xx, connection errors)
// are bounded in number and use exponential backoff with jitter, honouring a
// Retry-After header up to max_backoff. A model endpoint that is down, slow or
// returns garbage gives an exit reason; nothing here hangs or throws.
// (Over https, OpenSSL writes with write(2): a server closing the connection
// mid-request can raise SIGPIPE, which programs talking to sockets usually
// ignore with signal(SIGPIPE, SIG_IGN). Plain http sends with MSG_NOSIGNAL.)
//
// Ownership: LlmAgent holds only its options (and the preset they name).
// Run() borrows the RepoEnv and never closes it: the caller closes it
// (RepoEnv's destructor also does), on every path, including when Run()
// reports an error.
// Thread-safety: Run() is const and uses its own HTTP connection, so one
// LlmAgent may run episodes on different envs from many threads at once. An
// LlmClient is used by one thread at a time.
#ifndef R2E_LLM_AGENT_H_
#define R2E_LLM_AGENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/action.h"
#include "r2e/scaffold_prompts.h"
#include "r2e/status.h"
#include "r2e/trajectory.h"

namespace r2e {

class RepoEnv;  // r2e/repo_env.h

struct LlmClientOptions {
  // The API root, e.g. "http://127.0.0.1:8000/v1" or "https://api.openai.com/v1";
  // requests go to <base_url>/chat/completions (a base_url that already ends
  // in /chat/completions is used as is). http and https.
  std::string base_url;
  std::string model;
  // Sent as "Authorization: Bearer <key>". Empty: the R2E_API_KEY environment
  // variable, else OPENAI_API_KEY, else no Authorization header.
  std::string api_key;

  // Socket-level timeouts of every request.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(60)};
  // Longest wait for the server to send anything (a non-streaming reply
  // arrives only when generation ends, so this bounds generation time).
  std::chrono::milliseconds read_timeout{std::chrono::seconds(300)};
  // Hard bound on one attempt (connect + send + wait + receive), enforced by
  // closing the socket; also bounded by the caller's deadline.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(600)};

  // Retries after the first attempt, for HTTP 408/429/5xx and connection
  // errors. A request that timed out is not retried unless retry_timeouts.
  int max_retries = 3;
  bool retry_timeouts = false;
  // Backoff before retry k (0-based): initial_backoff * 2^k, at most
  // max_backoff, plus up to 25% random jitter.
  std::chrono::milliseconds initial_backoff{std::chrono::seconds(1)};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};

  // Largest response body accepted.
  std::size_t max_response_bytes = 32u << 20;
  // https: verify the server certificate (system CA store, or ca_cert_file).
  bool verify_tls = true;
  std::string ca_cert_file;

  // Request fields. Unset optionals are not sent (the server's default).
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int> max_completion_tokens;  // sent as "max_tokens"
  // Merged into every request body last (e.g. {"stop": [...]}, vLLM's
  // {"chat_template_kwargs": ...}); must be an object or null.
  nlohmann::json extra_body;
};

struct LlmUsage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  bool reported = false;  // the server sent a `usage` object
};

// A tool call of a reply (see ToolCall: null name and arguments read as "",
// object arguments as their JSON text).
using LlmToolCall = ToolCall;

struct LlmReply {
  std::string content;            // the message text ("" for null)
  std::string reasoning_content;  // a reasoning model's separate thinking, if sent
  std::vector<LlmToolCall> tool_calls;
  std::string finish_reason;
  LlmUsage usage;
  int attempts = 1;        // HTTP attempts made (1 + retries)
  double seconds = 0.0;    // wall time including retries and backoff
  nlohmann::json message;  // choices[0].message as received
};

// One chat-completions endpoint. Errors (Status, never an exception):
//   Unavailable        connection refused/reset, DNS, TLS, HTTP 408/429/5xx
//                      (after retries)
//   Timeout            an attempt or the deadline ran out
//   ResourceExhausted  the server says the prompt exceeds the context length
//   InvalidArgument    other HTTP 4xx (bad model name, bad key, ...)
//   Internal           a 2xx reply that is not JSON, has no choices or no
//                      message, or a body over max_response_bytes
// Messages name the endpoint and quote (a sanitized prefix of) the body.
class LlmClient {
 public:
  // InvalidArgument for an empty model or a base_url that is not http(s)://host[:port][/path].
  static Result<std::unique_ptr<LlmClient>> Create(LlmClientOptions options);
  ~LlmClient();
  LlmClient(const LlmClient&) = delete;
  LlmClient& operator=(const LlmClient&) = delete;

  // POSTs {model, messages, [tools, tool_choice: "auto"], ...options} and
  // parses choices[0]. `tools` is an array of {"type":"function",...} or null
  // (ordered_json: properties are sent in the tools' own order).
  // Stops retrying, and bounds each attempt, at `deadline` when given.
  Result<LlmReply> Complete(
      const nlohmann::json& messages, const nlohmann::ordered_json& tools = nullptr,
      std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

  // The full URL requests go to.
  const std::string& endpoint() const;

 private:
  struct Impl;
  explicit LlmClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parses a chat-completions response body (exposed for tests and for callers
// with their own transport). Internal when it is not a usable reply.
Result<LlmReply> ParseChatCompletion(std::string_view body);

// The schemas offered when neither the options nor the env name any tool:
// execute_bash (`cmd`) and finish (`command`: "submit", optional `result`).
std::vector<nlohmann::ordered_json> DefaultToolSchemas();

// Normalizes one schema to {"type":"function","function":{name, description,
// parameters}}; accepts that form or the bare {name, description, parameters}.
// InvalidArgument when there is no name.
Result<nlohmann::ordered_json> NormalizeToolSchema(const nlohmann::ordered_json& schema);

struct LlmAgentOptions {
  LlmClientOptions client;

  // OpenAI function schemas of the tools offered (either form accepted by
  // NormalizeToolSchema; a nlohmann::json converts implicitly, with its keys
  // sorted). Empty: the env's tools (RepoEnv::tools()), else
  // DefaultToolSchemas(). Offer only tools the env runs: another is an
  // "unknown function" observation.
  std::vector<nlohmann::ordered_json> tools;
  // Parse actions from the reply text (<function=...>) instead of sending
  // `tools` and reading `tool_calls`.
  bool xml_mode = false;

  // The R2E-Gym scaffold's prompts and history (see above): a preset name
  // for FindPromptPreset, which picks the config for the mode (xml_mode: its
  // non-function-calling one). Empty: r2e's own prompts and history.
  std::string prompt;
  // With `prompt` and function calling: add the scaffold's Anthropic prompt
  // caching hints ("cache_control": {"type": "ephemeral"}) to the last tool's
  // function and to the last three user/tool messages of each request (not
  // to the history), as its Agent.model_query does for non-Vertex models.
  // Off by default: OpenAI-compatible servers have no use for them.
  bool cache_control = false;

  // Prompt overrides. Empty: the built-in texts (the preset's with
  // `prompt`). Without a preset, "{task}" is replaced by
  // env.task_instruction() and "{tools}" by the tool listing (the one the
  // built-in XML-mode system prompt shows); inserted text is not scanned
  // again. With a preset, instance_prompt_template is a Python format string
  // with the scaffold's placeholders (RenderInstancePrompt) and
  // system_prompt is sent as it is.
  std::string system_prompt;
  std::string instance_prompt_template;

  // Step limits, as the scaffold names them. Without a preset the episode
  // ends after max_steps steps (or max_steps_absolute, if smaller). With one,
  // max_steps is the soft limit: the steps-remaining message counts down from
  // it, and at 0 and below tells the agent to submit NOW; the episode ends
  // after max_steps_absolute steps. 0 = none.
  int max_steps = 50;
  int max_steps_absolute = 50;
  // Sum of total_tokens over the episode's replies (from `usage`; a server
  // that sends none is never stopped by it).
  std::int64_t max_total_tokens = 0;
  // The context of the latest reply (its total_tokens: prompt + completion),
  // the scaffold's max_token_limit. A 400 reply saying the context length
  // was exceeded also ends with max_tokens.
  std::int64_t max_context_tokens = 0;
  // Wall time from the start of Run() (reset included) to the end of the loop.
  std::chrono::milliseconds time_limit{0};

  // Timeout passed to env.step() (none: the env's own). With a time_limit, a
  // step never gets more than the remaining time (at least 1 s).
  std::optional<std::chrono::seconds> step_timeout;
  // Call env.reset() first. Off when the caller has reset the env already.
  bool reset_env = true;
  // Longest observation text sent to the model (longer: head and tail kept
  // around a note). 0 = no bound. Not applied with a preset (the scaffold
  // sends observations whole).
  std::size_t max_observation_chars = 100'000;
};

// Why an episode ended.
enum class LlmExit { kFinished, kMaxSteps, kMaxTokens, kTimeLimit, kLlmError, kEnvError };

struct LlmStep {
  int step = 0;              // 1-based
  std::string thought;       // the reply's text before/instead of the call
  Action action;             // what env.step() ran (empty: no function call)
  std::string raw_reply;     // the reply's content as received
  std::string tool_call_id;  // function-calling mode
  std::string observation;   // the text sent back to the model
  // A malformed reply: why. Without a preset the env was not stepped; with
  // one it ran what the scaffold reads from it (e.g. no call).
  std::string error;
  // The agent finished. With a preset: the episode ended after this step,
  // for any reason, as the scaffold's trajectory marks it.
  bool done = false;
  int exit_code = 0;
  bool timed_out = false;
  double model_s = 0.0;  // waiting for the model (retries included)
  double env_s = 0.0;    // env.step()
  int attempts = 1;
  LlmUsage usage;
};

struct LlmEpisode {
  LlmExit exit = LlmExit::kLlmError;
  // "finished", "max_steps", "max_tokens", "time_limit",
  // "llm_error: <detail>", "env_error: <detail>".
  std::string exit_reason;
  // The scaffold's name for it (Trajectory.exit_reason): "agent" (finished
  // with steps remaining), "max_step_limit" (finished at the step that had
  // none left), "agent_max_step_limit" (finished past the soft limit),
  // "abs_step_limit", "token_limit", "traj_time_limit", "llm_query_error"
  // (the model failed, also when the context overflowed), "env_error" (r2e's:
  // the environment failed).
  std::string scaffold_exit_reason;
  Status status;  // the error behind llm_error/env_error
  int steps = 0;
  std::int64_t prompt_tokens = 0;  // summed over replies
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  std::int64_t last_context_tokens = 0;
  int model_calls = 0;
  double reset_s = 0.0;
  double model_s = 0.0;
  double env_s = 0.0;
  double duration_s = 0.0;
  std::vector<LlmStep> records;
  // The conversation as sent (system, user, assistant, tool messages).
  nlohmann::json messages = nlohmann::json::array();
};

// "finished", "max_steps", ... (the exit_reason prefix).
std::string_view LlmExitName(LlmExit exit);

// The trajectory line of a step (r2e/trajectory.h): env time as duration_s,
// model time and token counts (when the server reported usage), and in
// `extra` the tool_call_id, the malformed-reply error and the HTTP attempts
// when there are any.
StepRecord ToStepRecord(const LlmStep& step);

class LlmAgent {
 public:
  // Checks the options: model, base_url (see LlmClient::Create), tool
  // schemas, the preset and its instance prompt's placeholders.
  static Result<LlmAgent> Create(LlmAgentOptions options);

  // Runs one episode on `env` (reset first unless !reset_env). Never throws;
  // every failure is in the result's exit and status. `on_step`, if given, is
  // called after each step on the calling thread (progress printing).
  LlmEpisode Run(RepoEnv& env, const std::function<void(const LlmStep&)>& on_step = nullptr) const;

  // What Run() sends on `env` (which need not be reset): the tool schemas,
  // the prompts (before any steps-remaining message), and the `tools` array
  // of a request (null in XML mode).
  std::vector<nlohmann::ordered_json> ToolSchemas(const RepoEnv& env) const;
  std::string SystemPrompt(const RepoEnv& env) const;
  std::string InstancePrompt(const RepoEnv& env) const;
  nlohmann::ordered_json ToolsJson(const RepoEnv& env) const;

  const LlmAgentOptions& options() const { return options_; }
  // The preset options.prompt names (nullopt without one).
  const std::optional<PromptPreset>& preset() const { return preset_; }

 private:
  // The tools of one episode: schemas and their text listing.
  struct Offer {
    std::vector<nlohmann::ordered_json> schemas;
    std::string listing;
  };
  Offer MakeOffer(const RepoEnv& env) const;
  std::string SystemPrompt(const Offer& offer, const std::string& task) const;
  std::string InstancePrompt(const Offer& offer, const std::string& task) const;
  // The preset's instance prompt for `env` (InvalidArgument: a placeholder
  // without a value).
  Result<std::string> ScaffoldInstancePrompt(const RepoEnv& env) const;
  // The loop with a preset (scaffold_loop.cc).
  LlmEpisode RunScaffold(RepoEnv& env, const std::function<void(const LlmStep&)>& on_step) const;

  explicit LlmAgent(LlmAgentOptions options) : options_(std::move(options)) {}
  LlmAgentOptions options_;
  std::optional<PromptPreset> preset_;
};

}  // namespace r2e

#endif  // R2E_LLM_AGENT_H_
