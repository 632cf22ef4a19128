// Parallel rollouts: N episodes at once from one process, the way an RL
// trainer drives the library. Each worker thread owns its own RepoEnv (and so
// its own sandbox); nothing is shared between episodes but the task list.
//
//   r2e_parallel_rollouts [--runtime local|docker] [--episodes N] [--concurrency C]
//                         [--out DIR] [--expect-reward R] [tasks.jsonl]
//
// Episode i plays task i % (number of tasks): it replays the row's
// `scripted_actions` (a policy would choose them) or, without them, submits at
// once. Prints each episode's reward as it ends, then the throughput (steps/s
// and episodes/s over the wall time of the whole batch). With --out, each
// episode's trajectory goes to DIR/episode-<i>.jsonl (one writer per episode).
// Exit status: 0 all episodes ran, 1 an episode failed (its environment
// returned an error), 2 bad arguments, 3 a reward differs from --expect-reward.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "r2e/action.h"
#include "r2e/git_ops.h"
#include "r2e/repo_env.h"
#include "r2e/task.h"
#include "r2e/trajectory.h"

namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr const char* kSubmit =
    "<function=finish>\n<parameter=command>submit</parameter>\n</function>";

struct Episode {
  int index = 0;
  std::string instance_id;
  r2e::Status status;  // not OK: the episode failed
  double reward = 0.0;
  int steps = 0;
  bool finished = false;
  double reset_s = 0, steps_s = 0, reward_s = 0, total_s = 0;
};

std::vector<std::string> ActionsOf(const r2e::Task& task) {
  std::vector<std::string> actions;
  if (auto it = task.row.find("scripted_actions"); it != task.row.end() && it->is_array()) {
    for (const auto& a : *it) {
      if (a.is_string()) actions.push_back(a.get<std::string>());
    }
  }
  if (actions.empty()) actions.emplace_back(kSubmit);
  return actions;
}

double Since(Clock::time_point t) { return Seconds(Clock::now() - t).count(); }

// One whole episode on the calling thread.
Episode RunEpisode(int index, const r2e::Task& task, const std::string& runtime,
                   const std::string& out_dir) {
  Episode ep;
  ep.index = index;
  ep.instance_id = task.instance_id;
  const auto t0 = Clock::now();
  auto fail = [&](const char* what, const r2e::Status& s) {
    ep.status = s.WithContext(what);
    ep.total_s = Since(t0);
    return ep;
  };

  r2e::RepoEnvOptions options;
  options.runtime = runtime;
  auto env = r2e::RepoEnv::Create(task, options);
  if (!env.ok()) return fail("create", env.status());
  if (auto first = (*env)->reset(); !first.ok()) return fail("reset", first.status());
  auto base = r2e::PatchBase((*env)->runtime(), task.base_commit);
  if (!base.ok()) return fail("patch base", base.status());
  ep.reset_s = Since(t0);

  std::optional<r2e::TrajectoryWriter> trajectory;
  if (!out_dir.empty()) {
    auto path = std::filesystem::path(out_dir) / ("episode-" + std::to_string(index) + ".jsonl");
    auto w = r2e::TrajectoryWriter::Open(path);
    if (!w.ok()) return fail("trajectory", w.status());
    trajectory.emplace(std::move(w).value());
  }

  const auto t_steps = Clock::now();
  for (const std::string& text : ActionsOf(task)) {
    r2e::Action action = r2e::ParseAction(text);
    auto r = (*env)->step(action);
    if (!r.ok()) return fail("step", r.status());
    ++ep.steps;
    if (trajectory) {
      auto s = trajectory->WriteStep(r2e::StepRecord::From(ep.steps, action, *r));
      if (!s.ok()) return fail("trajectory", s);
    }
    if (r->done) {
      ep.finished = true;
      break;
    }
  }
  ep.steps_s = Since(t_steps);

  const auto t_reward = Clock::now();
  auto patch = r2e::GetPatch((*env)->runtime(), *base);
  if (!patch.ok()) return fail("get patch", patch.status());
  auto reward = (*env)->compute_reward();
  if (!reward.ok()) return fail("compute_reward", reward.status());
  ep.reward = *reward;
  ep.reward_s = Since(t_reward);
  if (trajectory) {
    r2e::EpisodeSummary summary;
    summary.instance_id = task.instance_id;
    summary.reward = ep.reward;
    summary.exit_reason = ep.finished ? "finished" : "actions_exhausted";
    summary.steps = ep.steps;
    summary.patch = *patch;
    summary.extra = {{"episode", index}, {"runtime", runtime}};
    if (auto s = trajectory->WriteSummary(summary); !s.ok()) return fail("trajectory", s);
  }
  if (auto s = (*env)->close(); !s.ok()) return fail("close", s);
  ep.total_s = Since(t0);
  return ep;
}

int Usage(const std::string& message) {
  std::fprintf(stderr,
               "%s\nusage: r2e_parallel_rollouts [--runtime local|docker] [--episodes N] "
               "[--concurrency C] [--out DIR] [--expect-reward R] [tasks.jsonl]\n",
               message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string runtime = "local", out_dir, tasks_file = R2E_DEMO_TASKS;
  int episodes = 4, concurrency = 0;
  std::optional<double> expect_reward;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--runtime" && has_value) {
      runtime = argv[++i];
    } else if (arg == "--episodes" && has_value) {
      episodes = std::atoi(argv[++i]);
    } else if (arg == "--concurrency" && has_value) {
      concurrency = std::atoi(argv[++i]);
    } else if (arg == "--out" && has_value) {
      out_dir = argv[++i];
    } else if (arg == "--expect-reward" && has_value) {
      expect_reward = std::strtod(argv[++i], nullptr);
    } else if (arg.rfind("--", 0) == 0) {
      return Usage("unknown option or missing value: " + arg);
    } else {
      tasks_file = arg;
    }
  }
  if (episodes < 1) return Usage("--episodes must be at least 1");
  if (concurrency < 1) concurrency = episodes;  // default: all at once
  concurrency = std::min(concurrency, episodes);

  auto tasks = r2e::LoadTasks(tasks_file);
  if (!tasks.ok()) {
    std::fprintf(stderr, "load: %s\n", tasks.status().ToString().c_str());
    return 1;
  }
  if (tasks->empty()) return Usage("the tasks file has no rows");
  std::printf("%d episodes, %d at a time, on %s\n", episodes, concurrency, runtime.c_str());
  std::fflush(stdout);

  // Workers take the next episode index until none is left.
  std::vector<Episode> results(static_cast<std::size_t>(episodes));
  std::atomic<int> next{0};
  std::mutex print_mu;
  const auto t0 = Clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < concurrency; ++w) {
    workers.emplace_back([&] {
      for (int i = next++; i < episodes; i = next++) {
        const r2e::Task& task = (*tasks)[static_cast<std::size_t>(i) % tasks->size()];
        Episode ep = RunEpisode(i, task, runtime, out_dir);
        {
          std::lock_guard<std::mutex> lock(print_mu);
          if (ep.status.ok()) {
            std::printf(
                "episode %d %s: reward %g, %d steps, %.2fs (reset %.2fs, steps %.2fs, "
                "reward %.2fs)\n",
                i, ep.instance_id.c_str(), ep.reward, ep.steps, ep.total_s, ep.reset_s, ep.steps_s,
                ep.reward_s);
          } else {
            std::printf("episode %d %s: FAILED %s\n", i, ep.instance_id.c_str(),
                        ep.status.ToString().c_str());
          }
          std::fflush(stdout);
        }
        results[static_cast<std::size_t>(i)] = std::move(ep);
      }
    });
  }
  for (auto& t : workers) t.join();
  const double wall = Since(t0);

  int failed = 0, steps = 0, mismatched = 0;
  double reward_sum = 0;
  for (const Episode& ep : results) {
    if (!ep.status.ok()) {
      ++failed;
      continue;
    }
    steps += ep.steps;
    reward_sum += ep.reward;
    if (expect_reward && ep.reward != *expect_reward) ++mismatched;
  }
  const int ok = episodes - failed;
  std::printf("done: %d/%d episodes ran, mean reward %.3f, %d steps in %.2fs wall\n", ok, episodes,
              ok ? reward_sum / ok : 0.0, steps, wall);
  std::printf("throughput: %.2f steps/s, %.3f episodes/s\n", steps / wall, ok / wall);
  if (failed > 0) return 1;
  if (mismatched > 0) {
    std::fprintf(stderr, "%d episodes did not earn the expected reward %g\n", mismatched,
                 *expect_reward);
    return 3;
  }
  return 0;
}
