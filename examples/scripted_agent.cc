// Scripted agent: the smallest complete Gym loop. It replays a fixed list of
// actions (the task row's `scripted_actions`) instead of asking a model.
//
//   r2e_scripted_agent [--runtime local|docker] [--instance-id ID]
//                      [--trajectory FILE] [--expect-reward R] [tasks.jsonl]
//
// reset -> step until done (or the actions run out) -> compute_reward -> print.
// With --trajectory it also records the episode (steps, final patch, reward)
// as JSONL. --expect-reward makes the exit status 3 when the reward differs
// (for tests). Exit status 1: the environment failed; 2: bad arguments.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "r2e/action.h"
#include "r2e/git_ops.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/task.h"
#include "r2e/trajectory.h"

namespace {

int Fail(const char* what, const r2e::Status& status) {
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  return 1;
}

int Usage(const char* message) {
  std::fprintf(stderr,
               "%s\nusage: r2e_scripted_agent [--runtime local|docker] [--instance-id ID] "
               "[--trajectory FILE] [--expect-reward R] [tasks.jsonl]\n",
               message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string runtime = "local", instance_id, trajectory_file, tasks_file = R2E_DEMO_TASKS;
  std::optional<double> expect_reward;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--runtime" && has_value) {
      runtime = argv[++i];
    } else if (arg == "--instance-id" && has_value) {
      instance_id = argv[++i];
    } else if (arg == "--trajectory" && has_value) {
      trajectory_file = argv[++i];
    } else if (arg == "--expect-reward" && has_value) {
      expect_reward = std::strtod(argv[++i], nullptr);
    } else if (arg.rfind("--", 0) == 0) {
      return Usage(("unknown option or missing value: " + arg).c_str());
    } else {
      tasks_file = arg;
    }
  }

  // 1. The task: a dataset row with a list of actions to replay.
  auto tasks = r2e::LoadTasks(tasks_file);
  if (!tasks.ok()) return Fail("load", tasks.status());
  const r2e::Task* task = nullptr;
  for (const auto& t : *tasks) {
    if (instance_id.empty() || t.instance_id == instance_id) {
      task = &t;
      break;
    }
  }
  if (!task) return Fail("load", r2e::Status::NotFound("no such task in " + tasks_file));
  std::vector<std::string> actions;
  if (auto it = task->row.find("scripted_actions"); it != task->row.end() && it->is_array()) {
    for (const auto& a : *it) {
      if (a.is_string()) actions.push_back(a.get<std::string>());
    }
  }
  if (actions.empty()) return Usage("the task has no `scripted_actions` to replay");

  // 2. The environment: a fresh sandbox with the repository at /testbed.
  r2e::RepoEnvOptions options;
  auto factory = r2e::MakeRuntimeFactory(runtime);  // the backend by name, default options
  if (!factory.ok()) return Fail("runtime", factory.status());
  options.runtime = *factory;
  auto env = r2e::RepoEnv::Create(*task, options);
  if (!env.ok()) return Fail("create", env.status());
  auto first = (*env)->reset();
  if (!first.ok()) return Fail("reset", first.status());
  std::printf("task %s on %s\n%s\n\n", task->instance_id.c_str(), runtime.c_str(),
              first->text.c_str());
  // The base of the final patch, taken before the agent changes anything.
  auto base = r2e::PatchBase((*env)->runtime(), task->base_commit);
  if (!base.ok()) return Fail("patch base", base.status());

  std::optional<r2e::TrajectoryWriter> trajectory;
  if (!trajectory_file.empty()) {
    auto w = r2e::TrajectoryWriter::Open(trajectory_file);
    if (!w.ok()) return Fail("trajectory", w.status());
    trajectory.emplace(std::move(w).value());
  }

  // 3. The loop: step until the agent says it is done.
  int steps = 0;
  bool done = false;
  for (const std::string& text : actions) {
    r2e::Action action = r2e::ParseAction(text);
    auto result = (*env)->step(action);
    if (!result.ok()) return Fail("step", result.status());
    ++steps;
    std::printf("--- step %d: %s\n%s\n", steps, action.function_name.c_str(),
                result->observation.text.c_str());
    if (trajectory) {
      auto s = trajectory->WriteStep(r2e::StepRecord::From(steps, action, *result));
      if (!s.ok()) return Fail("trajectory", s);
    }
    done = result->done;
    if (done) break;
  }

  // 4. The reward: the hidden tests run against the agent's changes.
  auto patch = r2e::GetPatch((*env)->runtime(), *base);
  if (!patch.ok()) return Fail("get patch", patch.status());
  auto reward = (*env)->compute_reward();
  if (!reward.ok()) return Fail("compute_reward", reward.status());
  std::printf("\n--- patch\n%s", patch->c_str());
  std::printf("steps: %d (%s)\nreward: %g\n", steps, done ? "finished" : "actions exhausted",
              *reward);
  if (trajectory) {
    r2e::EpisodeSummary summary;
    summary.instance_id = task->instance_id;
    summary.reward = *reward;
    summary.exit_reason = done ? "finished" : "actions_exhausted";
    summary.steps = steps;
    summary.patch = *patch;
    if (auto s = trajectory->WriteSummary(summary); !s.ok()) return Fail("trajectory", s);
  }
  if (auto closed = (*env)->close(); !closed.ok()) return Fail("close", closed);
  if (expect_reward && *reward != *expect_reward) {
    std::fprintf(stderr, "expected reward %g, got %g\n", *expect_reward, *reward);
    return 3;
  }
  return 0;
}
