// `r2e run`: one episode per task with a built-in agent (scripted, noop, or
// llm: r2e::LlmAgent against --base-url, with --prompt the R2E-Gym scaffold's
// prompts and loop), printing each step to stderr, a
// JSON summary line per episode to stdout, and under --out the
// trajectory (<instance_id>.jsonl, see r2e/trajectory.h) and the final patch
// (<instance_id>.patch, against the task's base_commit or HEAD after setup).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "r2e/git_ops.h"
#include "r2e/llm_agent.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/scaffold_prompts.h"
#include "r2e/task.h"
#include "r2e/trajectory.h"

namespace r2e::cli {
namespace {

using Seconds = std::chrono::duration<double>;
namespace fs = std::filesystem;

constexpr std::string_view kSubmit = "<function=finish>\n<parameter=command>submit</parameter>\n</function>";

// The actions a built-in agent takes, in order.
Result<std::vector<std::string>> AgentActions(const std::string& agent, const Task& task) {
  if (agent == "noop") return std::vector<std::string>{std::string(kSubmit)};
  const auto it = task.row.find("scripted_actions");
  if (it == task.row.end() || !it->is_array()) {
    return Status::InvalidArgument("task " + task.instance_id +
                                   " has no `scripted_actions` list for --agent scripted; use --agent noop");
  }
  std::vector<std::string> actions;
  for (const auto& a : *it) {
    if (!a.is_string()) {
      return Status::InvalidArgument("task " + task.instance_id + ": `scripted_actions` must hold strings");
    }
    actions.push_back(a.get<std::string>());
  }
  return actions;
}

std::string Indent(const std::string& text) {
  std::string out = "    ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "    ";
  }
  return out;
}

double Since(std::chrono::steady_clock::time_point t) {
  return Seconds(std::chrono::steady_clock::now() - t).count();
}

// The patch base right after setup: the task's base_commit when the
// repository has it, else HEAD.
Result<std::string> EpisodeBase(Runtime& runtime, const Task& task) {
  auto base = PatchBase(runtime, task.base_commit);
  if (base.ok() || task.base_commit.empty()) return base;
  std::cerr << "[" << task.instance_id << "] " << base.status().ToString()
            << "; diffing against HEAD after setup\n";
  return HeadCommit(runtime);
}

void PrintStep(const Task& task, int step, const Action& action, const std::string& observation) {
  std::cerr << "[" << task.instance_id << "] step " << step << ": "
            << (action.empty() ? "(no function call)" : action.function_name);
  if (auto cmd = action.parameter("cmd")) std::cerr << " $ " << *cmd;
  std::cerr << "\n" << Indent(observation) << "\n";
}

// The agent options of --agent llm; InvalidArgument for missing flags.
Result<LlmAgent> MakeLlmAgent(const RunOptions& run) {
  if (run.base_url.empty() || run.model.empty()) {
    return Status::InvalidArgument("--agent llm needs --base-url and --model");
  }
  LlmAgentOptions o;
  o.client.base_url = run.base_url;
  o.client.model = run.model;
  o.client.api_key = run.api_key;
  o.xml_mode = run.xml;
  o.max_steps = run.max_steps;
  o.max_steps_absolute = run.max_steps_absolute;
  o.max_total_tokens = run.max_tokens;
  o.max_context_tokens = run.max_context_tokens < 0 ? 0 : run.max_context_tokens;
  if (!run.prompt.empty()) {
    // The scaffold runner's defaults where no flag was given.
    const ScaffoldDefaults& d = GetScaffoldDefaults();
    o.prompt = run.prompt;
    if (!run.max_steps_given) o.max_steps = d.max_steps;
    if (run.max_context_tokens < 0) o.max_context_tokens = d.max_token_limit;
  }
  o.time_limit = std::chrono::seconds(run.time_limit_s);
  o.step_timeout = std::chrono::seconds(run.step_timeout_s);
  o.reset_env = false;  // RunEpisode resets, then takes the patch base
  return LlmAgent::Create(std::move(o));
}

// Runs one episode; returns its summary line (with "error" on failure).
// `llm` is the agent for --agent llm, else null.
nlohmann::json RunEpisode(const CommonOptions& common, const RunOptions& run, const Task& task,
                          const LlmAgent* llm) {
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::json summary = {{"instance_id", task.instance_id}, {"agent", run.agent},
                            {"runtime", common.runtime},       {"reward", 0.0},
                            {"steps", 0},                      {"exit_reason", "error"}};
  std::optional<TrajectoryWriter> trajectory;
  std::string patch;
  // The trajectory's last line: the stdout summary plus the patch.
  auto finish_trajectory = [&] {
    if (!trajectory) return;
    EpisodeSummary last;
    last.instance_id = task.instance_id;
    last.reward = summary.value("reward", 0.0);
    last.exit_reason = summary.value("exit_reason", "");
    last.steps = summary.value("steps", 0);
    last.patch = patch;
    last.extra = summary;
    if (Status s = trajectory->WriteSummary(last); !s.ok()) {
      std::cerr << "[" << task.instance_id << "] " << s.ToString() << "\n";
    }
    trajectory->Close();
  };
  auto fail = [&](const Status& s) {
    summary["error"] = s.ToString();
    if (StopRequested()) summary["exit_reason"] = "interrupted";
    summary["duration_s"] = Since(t0);
    std::cerr << "[" << task.instance_id << "] error: " << s.ToString() << "\n";
    finish_trajectory();
    return summary;
  };

  Result<std::vector<std::string>> actions = std::vector<std::string>{};
  if (!llm) actions = AgentActions(run.agent, task);
  if (!actions.ok()) return fail(actions.status());

  if (!run.out.empty()) {
    const fs::path file = fs::path(run.out) / (task.instance_id + ".jsonl");
    auto writer = TrajectoryWriter::Open(file);
    if (!writer.ok()) return fail(writer.status());
    trajectory.emplace(std::move(writer).value());
    summary["trajectory"] = file.string();
  }

  RepoEnvOptions options;
  auto factory = MakeRuntimeFactory(common.runtime, RuntimeOptionsFor(common));
  if (!factory.ok()) return fail(factory.status());
  options.runtime = Stoppable(std::move(factory).value());
  options.step_timeout = std::chrono::seconds(run.step_timeout_s);
  options.reward_timeout = std::chrono::seconds(run.reward_timeout_s);
  // A preset's prompts name its config's tools (the scaffold installs them).
  if (llm && llm->preset()) options.tool_set = llm->preset()->tool_set;
  auto env = RepoEnv::Create(task, options);
  if (!env.ok()) return fail(env.status());

  std::cerr << "[" << task.instance_id << "] reset (" << common.runtime << ")\n";
  auto first = (*env)->reset();
  if (!first.ok()) return fail(first.status());
  auto base = EpisodeBase((*env)->runtime(), task);
  if (!base.ok()) return fail(base.status().WithContext("finding the patch base"));
  summary["reset_s"] = Since(t0);

  const auto t_steps = std::chrono::steady_clock::now();
  std::string exit_reason = "actions_exhausted";
  int step = 0;
  Status llm_error;  // the model endpoint's failure, reported after grading
  if (llm) {
    Status write_error;
    LlmEpisode episode = llm->Run(**env, [&](const LlmStep& s) {
      summary["steps"] = s.step;
      PrintStep(task, s.step, s.action,
                s.error.empty() ? s.observation : "malformed reply: " + s.error);
      if (trajectory && write_error.ok()) write_error = trajectory->WriteStep(ToStepRecord(s));
    });
    step = episode.steps;
    summary["steps"] = step;
    if (episode.exit == LlmExit::kEnvError) return fail(episode.status);
    if (!write_error.ok()) return fail(write_error);
    exit_reason = episode.exit_reason;
    if (llm->preset()) summary["scaffold_exit_reason"] = episode.scaffold_exit_reason;
    summary["model_calls"] = episode.model_calls;
    summary["model_s"] = episode.model_s;
    summary["prompt_tokens"] = episode.prompt_tokens;
    summary["completion_tokens"] = episode.completion_tokens;
    summary["total_tokens"] = episode.total_tokens;
    if (episode.exit == LlmExit::kLlmError) llm_error = episode.status;
  }
  const Status stopped = Status::Cancelled("stopped by a signal");
  for (const std::string& text : *actions) {
    if (StopRequested()) return fail(stopped);
    if (step >= run.max_steps) {
      exit_reason = "max_steps";
      break;
    }
    Action action = ParseResponse(text);  // as RepoEnv::step reads text
    auto r = (*env)->step(action);
    if (!r.ok()) return fail(r.status());
    ++step;
    summary["steps"] = step;
    PrintStep(task, step, action, r->observation.text);
    if (trajectory) {
      if (Status s = trajectory->WriteStep(StepRecord::From(step, action, *r)); !s.ok()) {
        return fail(s);
      }
    }
    if (r->done) {
      exit_reason = "finished";
      break;
    }
  }
  summary["steps"] = step;
  summary["steps_s"] = Since(t_steps);

  if (StopRequested()) return fail(stopped);
  // The patch before grading, so that nothing the tests write ends up in it.
  auto final_patch = GetPatch((*env)->runtime(), *base);
  if (!final_patch.ok()) return fail(final_patch.status().WithContext("getting the final patch"));
  patch = std::move(final_patch).value();
  if (!run.out.empty()) {
    const fs::path file = fs::path(run.out) / (task.instance_id + ".patch");
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << patch;
    out.close();
    if (!out) return fail(Status::Unavailable("cannot write " + file.string()));
    summary["patch_file"] = file.string();
  }

  const auto t_reward = std::chrono::steady_clock::now();
  auto grade = (*env)->grade();
  if (!grade.ok()) return fail(grade.status());
  summary["reward_s"] = Since(t_reward);
  summary["reward"] = grade->reward;
  summary["exit_reason"] = exit_reason;
  if (grade->timed_out) summary["tests_timed_out"] = true;
  if (Status s = (*env)->close(); !s.ok()) return fail(s);
  // The model endpoint failed: graded all the same, but an infrastructure error.
  if (!llm_error.ok()) summary["error"] = llm_error.ToString();
  summary["duration_s"] = Since(t0);
  finish_trajectory();
  std::cerr << "[" << task.instance_id << "] reward " << grade->reward << " (" << exit_reason << ", "
            << step << " steps)\n";
  return summary;
}

}  // namespace

RuntimeOptions RuntimeOptionsFor(const CommonOptions& common) {
  RuntimeOptions options;
  options.kube.load.kubeconfig = common.kubeconfig;
  options.kube.load.context = common.context;
  options.kube.namespace_name = common.kube_namespace;
  // --image replaces every task's image (TaskParseOptions::image_override),
  // so the local runtime runs it as the task's.
  options.local.use_task_image = common.use_task_image || !common.image.empty();
  options.local.image_store.registry.ca_file = common.registry_ca;
  options.local.image_store.registry.insecure_registries = common.insecure_registries;
  options.local.image_store.registry.docker_config = common.docker_config;
  return options;
}

Result<TaskParseOptions> MakeTaskParseOptions(const CommonOptions& common, const RowOptions& rows) {
  TaskParseOptions parse;
  parse.image_override = common.image;
  if (!rows.kind.empty()) {
    auto kind = ParseTaskKind(rows.kind);
    if (!kind.ok()) return Status::InvalidArgument("--kind: " + kind.status().message());
    parse.kind = *kind;
  }
  parse.swebench_namespace = rows.image_namespace;
  parse.instance_image_tag = rows.instance_image_tag;
  parse.image_arch = rows.image_arch;
  parse.swesmith_image_map = rows.swesmith_image_map;
  return parse;
}

int RunEpisodes(const CommonOptions& common, const RunOptions& run) {
  auto parse = MakeTaskParseOptions(common, run.rows);
  if (!parse.ok()) {
    std::cerr << "r2e run: " << parse.status().ToString() << "\n";
    return 2;
  }
  auto tasks = LoadTasks(run.tasks, *parse);
  if (!tasks.ok()) {
    std::cerr << "r2e run: " << tasks.status().ToString() << "\n";
    return 2;
  }
  std::vector<Task> selected;
  for (auto& t : *tasks) {
    if (run.instance_id.empty() || t.instance_id == run.instance_id) selected.push_back(std::move(t));
  }
  if (selected.empty()) {
    std::cerr << "r2e run: no task with instance_id `" << run.instance_id << "` in " << run.tasks << "\n";
    return 2;
  }
  std::optional<LlmAgent> llm;
  if (run.agent != "llm" && !run.prompt.empty()) {
    std::cerr << "r2e run: --prompt is for --agent llm\n";
    return 2;
  }
  if (run.agent == "llm") {
    auto agent = MakeLlmAgent(run);
    if (!agent.ok()) {
      std::cerr << "r2e run: " << agent.status().ToString() << "\n";
      return 2;
    }
    llm.emplace(std::move(agent).value());
  }
  int rc = 0;
  for (const Task& task : selected) {
    if (StopRequested()) break;
    nlohmann::json summary = RunEpisode(common, run, task, llm ? &*llm : nullptr);
    if (summary.contains("error")) rc = 1;
    std::cout << summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  }
  return rc;
}

}  // namespace r2e::cli
