// `r2e run`: one episode per task with a built-in agent, printing each step
// to stderr, a JSON summary line per episode to stdout, and the trajectory
// as JSONL under --out.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "r2e/repo_env.h"
#include "r2e/task.h"

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

// Runs one episode; returns its summary line (with "error" on failure).
nlohmann::json RunEpisode(const CommonOptions& common, const RunOptions& run, const Task& task) {
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::json summary = {{"instance_id", task.instance_id}, {"agent", run.agent},
                            {"runtime", common.runtime},       {"reward", 0.0},
                            {"steps", 0},                      {"exit_reason", "error"}};
  auto fail = [&](const Status& s) {
    summary["error"] = s.ToString();
    summary["duration_s"] = Since(t0);
    std::cerr << "[" << task.instance_id << "] error: " << s.ToString() << "\n";
    return summary;
  };

  auto actions = AgentActions(run.agent, task);
  if (!actions.ok()) return fail(actions.status());

  std::ofstream trajectory;
  if (!run.out.empty()) {
    std::error_code ec;
    fs::create_directories(run.out, ec);
    fs::path file = fs::path(run.out) / (task.instance_id + ".jsonl");
    trajectory.open(file, std::ios::trunc);
    if (!trajectory) return fail(Status::Unavailable("cannot write " + file.string()));
  }

  RepoEnvOptions options;
  options.runtime = common.runtime;
  options.step_timeout = std::chrono::seconds(run.step_timeout_s);
  options.reward_timeout = std::chrono::seconds(run.reward_timeout_s);
  auto env = RepoEnv::Create(task, options);
  if (!env.ok()) return fail(env.status());

  std::cerr << "[" << task.instance_id << "] reset (" << common.runtime << ")\n";
  auto first = (*env)->reset();
  if (!first.ok()) return fail(first.status());
  summary["reset_s"] = Since(t0);

  const auto t_steps = std::chrono::steady_clock::now();
  std::string exit_reason = "actions_exhausted";
  int step = 0;
  for (const std::string& text : *actions) {
    if (step >= run.max_steps) {
      exit_reason = "max_steps";
      break;
    }
    Action action = ParseAction(text);
    auto r = (*env)->step(action);
    if (!r.ok()) return fail(r.status());
    ++step;
    std::cerr << "[" << task.instance_id << "] step " << step << ": "
              << (action.empty() ? "(no function call)" : action.function_name);
    if (auto cmd = action.parameter("cmd")) std::cerr << " $ " << *cmd;
    std::cerr << "\n" << Indent(r->observation.text) << "\n";
    if (trajectory) {
      nlohmann::json line = {{"step", step},
                             {"thought", action.thought},
                             {"action", action.ToXml()},
                             {"observation", r->observation.text},
                             {"done", r->done},
                             {"exit_code", r->observation.exit_code},
                             {"timed_out", r->observation.timed_out},
                             {"duration_s", r->info.value("total_time", 0.0)}};
      trajectory << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
    if (r->done) {
      exit_reason = "finished";
      break;
    }
  }
  summary["steps"] = step;
  summary["steps_s"] = Since(t_steps);

  const auto t_reward = std::chrono::steady_clock::now();
  auto grade = (*env)->grade();
  if (!grade.ok()) return fail(grade.status());
  summary["reward_s"] = Since(t_reward);
  summary["reward"] = grade->reward;
  summary["exit_reason"] = exit_reason;
  if (grade->timed_out) summary["tests_timed_out"] = true;
  if (Status s = (*env)->close(); !s.ok()) return fail(s);
  summary["duration_s"] = Since(t0);
  std::cerr << "[" << task.instance_id << "] reward " << grade->reward << " (" << exit_reason << ", "
            << step << " steps)\n";
  return summary;
}

}  // namespace

int RunEpisodes(const CommonOptions& common, const RunOptions& run) {
  TaskParseOptions parse;
  parse.image_override = common.image;
  auto tasks = LoadTasks(run.tasks, parse);
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
  int rc = 0;
  for (const Task& task : selected) {
    nlohmann::json summary = RunEpisode(common, run, task);
    if (summary.contains("error")) rc = 1;
    std::cout << summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  }
  return rc;
}

}  // namespace r2e::cli
