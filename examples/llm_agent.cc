// LLM agent: runs a model behind any OpenAI-compatible chat-completions
// endpoint (vLLM, SGLang, OpenAI, ...) on each task of a dataset file.
//
//   r2e_llm_agent --tasks FILE --base-url URL --model M [--api-key K]
//                 [--runtime local|docker] [--instance-id ID] [--max-steps N]
//                 [--max-tokens N] [--time-limit S] [--xml] [--trajectory-dir DIR]
//
// e.g. with vLLM serving Qwen on port 8000:
//   r2e_llm_agent --tasks examples/tasks/demo.jsonl --base-url http://127.0.0.1:8000/v1
//                 --model Qwen/Qwen2.5-Coder-32B-Instruct
//
// The API key defaults to $R2E_API_KEY, then $OPENAI_API_KEY. For each task:
// reset -> the agent loop (r2e::LlmAgent) -> final patch -> compute_reward,
// printing each step and the reward; with --trajectory-dir the episode is
// written as <instance_id>.jsonl (r2e/trajectory.h). Exit status: 0 when every
// episode ran (whatever its reward or exit reason), 1 when an environment
// failed, 2 for bad arguments.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "r2e/git_ops.h"
#include "r2e/llm_agent.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/task.h"
#include "r2e/trajectory.h"

namespace {

int Usage(const std::string& message) {
  std::fprintf(stderr,
               "%s\nusage: r2e_llm_agent --tasks FILE --base-url URL --model M [--api-key K]\n"
               "         [--runtime local|docker] [--instance-id ID] [--max-steps N]\n"
               "         [--max-tokens N] [--time-limit S] [--xml] [--trajectory-dir DIR]\n",
               message.c_str());
  return 2;
}

// Prints text with every line indented, and at most `max_lines` lines.
void PrintIndented(const std::string& text, int max_lines = 30) {
  int lines = 0;
  std::size_t pos = 0;
  while (pos <= text.size() && lines < max_lines) {
    std::size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    std::printf("    %s\n", line.c_str());
    ++lines;
    if (nl == std::string::npos) return;
    pos = nl + 1;
  }
  if (pos < text.size()) std::printf("    [...]\n");
}

bool ParseInt(const char* text, long long& out) {
  char* end = nullptr;
  out = std::strtoll(text, &end, 10);
  return end != text && *end == '\0' && out >= 0;
}

struct Outcome {
  bool env_failed = false;
};

// One task: reset, the agent's episode, the patch and the reward.
Outcome RunTask(const r2e::Task& task, const std::string& runtime, const r2e::LlmAgent& agent,
                const std::string& trajectory_dir) {
  Outcome outcome;
  auto fail = [&](const char* what, const r2e::Status& s) {
    std::fprintf(stderr, "[%s] %s: %s\n", task.instance_id.c_str(), what, s.ToString().c_str());
    outcome.env_failed = true;
    return outcome;
  };

  r2e::RepoEnvOptions options;
  auto factory = r2e::MakeRuntimeFactory(runtime);  // the backend by name, default options
  if (!factory.ok()) return fail("runtime", factory.status());
  options.runtime = *factory;
  auto env = r2e::RepoEnv::Create(task, options);
  if (!env.ok()) return fail("create", env.status());
  // From here on the env is closed on every path (RepoEnv's destructor too).
  auto first = (*env)->reset();
  if (!first.ok()) return fail("reset", first.status());
  auto base = r2e::PatchBase((*env)->runtime(), task.base_commit);
  if (!base.ok()) base = r2e::HeadCommit((*env)->runtime());
  if (!base.ok()) return fail("patch base", base.status());

  std::optional<r2e::TrajectoryWriter> trajectory;
  if (!trajectory_dir.empty()) {
    auto w = r2e::TrajectoryWriter::Open(std::filesystem::path(trajectory_dir) /
                                         (task.instance_id + ".jsonl"));
    if (!w.ok()) return fail("trajectory", w.status());
    trajectory.emplace(std::move(w).value());
  }

  std::printf("=== %s on %s\n", task.instance_id.c_str(), runtime.c_str());
  std::fflush(stdout);
  r2e::LlmEpisode episode = agent.Run(**env, [&](const r2e::LlmStep& s) {
    std::printf("--- step %d (model %.1f s, env %.1f s", s.step, s.model_s, s.env_s);
    if (s.usage.reported)
      std::printf(", %lld tokens", static_cast<long long>(s.usage.total_tokens));
    std::printf(")\n");
    if (!s.thought.empty()) {
      std::printf("  thought:\n");
      PrintIndented(s.thought, 10);
    }
    if (!s.error.empty()) {
      std::printf("  malformed reply: %s\n", s.error.c_str());
    } else if (s.action.empty()) {
      std::printf("  action: (no function call)\n");
    } else {
      std::printf("  action:\n");
      PrintIndented(s.action.ToXml(), 15);
    }
    std::printf("  observation:\n");
    PrintIndented(s.observation);
    std::fflush(stdout);
    if (trajectory) {
      if (auto w = trajectory->WriteStep(r2e::ToStepRecord(s)); !w.ok()) {
        std::fprintf(stderr, "trajectory: %s\n", w.ToString().c_str());
      }
    }
  });
  if (episode.exit == r2e::LlmExit::kEnvError) return fail("episode", episode.status);

  auto patch = r2e::GetPatch((*env)->runtime(), *base);
  if (!patch.ok()) return fail("get patch", patch.status());
  auto reward = (*env)->compute_reward();
  if (!reward.ok()) return fail("compute_reward", reward.status());
  std::printf("--- patch\n%s", patch->empty() ? "(none)\n" : patch->c_str());
  std::printf(
      "exit: %s\nsteps: %d, model calls: %d, tokens: %lld prompt + %lld completion\n"
      "time: %.1f s (model %.1f s, env %.1f s)\nreward: %g\n\n",
      episode.exit_reason.c_str(), episode.steps, episode.model_calls,
      static_cast<long long>(episode.prompt_tokens),
      static_cast<long long>(episode.completion_tokens), episode.duration_s, episode.model_s,
      episode.env_s, *reward);
  if (trajectory) {
    r2e::EpisodeSummary summary;
    summary.instance_id = task.instance_id;
    summary.reward = *reward;
    summary.exit_reason = episode.exit_reason;
    summary.steps = episode.steps;
    summary.patch = *patch;
    summary.extra = {{"prompt_tokens", episode.prompt_tokens},
                     {"completion_tokens", episode.completion_tokens},
                     {"model_calls", episode.model_calls},
                     {"duration_s", episode.duration_s}};
    if (auto w = trajectory->WriteSummary(summary); !w.ok()) {
      std::fprintf(stderr, "trajectory: %s\n", w.ToString().c_str());
    }
  }
  if (auto closed = (*env)->close(); !closed.ok()) return fail("close", closed);
  return outcome;
}

}  // namespace

int main(int argc, char** argv) {
  std::string tasks_file, runtime = "local", instance_id, trajectory_dir;
  r2e::LlmAgentOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    long long n = 0;
    if (arg == "--tasks" && has_value) {
      tasks_file = argv[++i];
    } else if (arg == "--base-url" && has_value) {
      options.client.base_url = argv[++i];
    } else if (arg == "--model" && has_value) {
      options.client.model = argv[++i];
    } else if (arg == "--api-key" && has_value) {
      options.client.api_key = argv[++i];
    } else if (arg == "--runtime" && has_value) {
      runtime = argv[++i];
    } else if (arg == "--instance-id" && has_value) {
      instance_id = argv[++i];
    } else if (arg == "--max-steps" && has_value) {
      if (!ParseInt(argv[++i], n) || n == 0 || n > 100000)
        return Usage("--max-steps: a positive number");
      options.max_steps = static_cast<int>(n);
    } else if (arg == "--max-tokens" && has_value) {
      if (!ParseInt(argv[++i], n)) return Usage("--max-tokens: a number (0: none)");
      options.max_total_tokens = n;
    } else if (arg == "--time-limit" && has_value) {
      if (!ParseInt(argv[++i], n)) return Usage("--time-limit: seconds (0: none)");
      options.time_limit = std::chrono::seconds(n);
    } else if (arg == "--trajectory-dir" && has_value) {
      trajectory_dir = argv[++i];
    } else if (arg == "--xml") {
      options.xml_mode = true;
    } else if (arg == "-h" || arg == "--help") {
      Usage("Runs an LLM agent on each task and prints each step and the reward.");
      return 0;
    } else {
      return Usage("unknown option or missing value: " + arg);
    }
  }
  if (tasks_file.empty() || options.client.base_url.empty() || options.client.model.empty()) {
    return Usage("--tasks, --base-url and --model are required");
  }
  options.reset_env = false;  // RunTask resets, to take the patch base first

  auto agent = r2e::LlmAgent::Create(options);
  if (!agent.ok()) return Usage(agent.status().ToString());
  auto tasks = r2e::LoadTasks(tasks_file);
  if (!tasks.ok()) return Usage(tasks.status().ToString());

  int rc = 0;
  int ran = 0;
  for (const r2e::Task& task : *tasks) {
    if (!instance_id.empty() && task.instance_id != instance_id) continue;
    ++ran;
    if (RunTask(task, runtime, *agent, trajectory_dir).env_failed) rc = 1;
  }
  if (ran == 0) return Usage("no task `" + instance_id + "` in " + tasks_file);
  return rc;
}
