// Parallel rollouts: N episodes at once from one process, the way an RL
// trainer drives the library: one RepoEnv per episode behind an EnvPool,
// stepped by a few worker threads (not one thread per environment). The main
// thread plays the policy: it takes whichever results are ready (recv) and
// sends each environment its next action (send).
//
//   r2e_parallel_rollouts [--runtime local|docker] [--episodes N] [--concurrency C]
//                         [--out DIR] [--expect-reward R] [tasks.jsonl]
//
// Episode i plays task i % (number of tasks): it replays the row's
// `scripted_actions` (a policy would choose them) or, without them, submits at
// once. At most C episodes have a sandbox at a time (default: all). The pool
// grades an episode when its final action ends it (reward_on_done). Prints
// each episode's reward as it ends, then the throughput (steps/s and
// episodes/s over the wall time of the whole batch). With --out, each
// episode's trajectory goes to DIR/episode-<i>.jsonl.
// Exit status: 0 all episodes ran, 1 an episode failed (its environment
// returned an error), 2 bad arguments, 3 a reward differs from --expect-reward.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "r2e/action.h"
#include "r2e/env_pool.h"
#include "r2e/git_ops.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
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

  // Progress while it runs.
  std::vector<std::string> actions;
  std::optional<r2e::Action> last_action;
  std::string patch_base;
  std::optional<r2e::TrajectoryWriter> trajectory;
  Clock::time_point t0, t_steps;
  bool over = false;
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

void Report(const Episode& ep) {
  if (ep.status.ok()) {
    std::printf("episode %d %s: reward %g, %d steps, %.2fs (reset %.2fs, steps %.2fs, reward %.2fs)\n",
                ep.index, ep.instance_id.c_str(), ep.reward, ep.steps, ep.total_s, ep.reset_s, ep.steps_s,
                ep.reward_s);
  } else {
    std::printf("episode %d %s: FAILED %s\n", ep.index, ep.instance_id.c_str(), ep.status.ToString().c_str());
  }
  std::fflush(stdout);
}

// Ends an episode: the patch, the reward if the pool did not grade it (the
// actions ran out before a finish), the trajectory summary, the sandbox.
void Finish(Episode& ep, r2e::RepoEnv& env, const std::string& runtime, std::optional<double> reward,
            double reward_s) {
  ep.over = true;
  ep.steps_s = Since(ep.t_steps) - reward_s;
  auto fail = [&](const char* what, const r2e::Status& s) {
    ep.status = s.WithContext(what);
    ep.total_s = Since(ep.t0);
    env.close();
  };
  if (!reward) {
    const auto t = Clock::now();
    auto r = env.compute_reward();
    if (!r.ok()) return fail("compute_reward", r.status());
    reward = *r;
    reward_s = Since(t);
  }
  ep.reward = *reward;
  ep.reward_s = reward_s;
  auto patch = r2e::GetPatch(env.runtime(), ep.patch_base);
  if (!patch.ok()) return fail("get patch", patch.status());
  if (ep.trajectory) {
    r2e::EpisodeSummary summary;
    summary.instance_id = ep.instance_id;
    summary.reward = ep.reward;
    summary.exit_reason = ep.finished ? "finished" : "actions_exhausted";
    summary.steps = ep.steps;
    summary.patch = *patch;
    summary.extra = {{"episode", ep.index}, {"runtime", runtime}};
    if (auto s = ep.trajectory->WriteSummary(summary); !s.ok()) return fail("trajectory", s);
  }
  if (auto s = env.close(); !s.ok()) return fail("close", s);
  ep.total_s = Since(ep.t0);
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

  // One environment per episode (no sandbox until its reset); at most
  // `concurrency` of them are running at a time.
  std::vector<Episode> results(static_cast<std::size_t>(episodes));
  std::vector<std::unique_ptr<r2e::RepoEnv>> envs;
  r2e::RepoEnvOptions options;
  auto factory = r2e::MakeRuntimeFactory(runtime);  // the backend by name, default options
  if (!factory.ok()) return Usage(factory.status().ToString());
  options.runtime = *factory;
  for (int i = 0; i < episodes; ++i) {
    const r2e::Task& task = (*tasks)[static_cast<std::size_t>(i) % tasks->size()];
    Episode& ep = results[static_cast<std::size_t>(i)];
    ep.index = i;
    ep.instance_id = task.instance_id;
    ep.actions = ActionsOf(task);
    auto env = r2e::RepoEnv::Create(task, options);
    if (!env.ok()) {
      std::fprintf(stderr, "create: %s\n", env.status().ToString().c_str());
      return 1;
    }
    envs.push_back(std::move(env).value());
  }
  r2e::EnvPoolOptions pool_options;
  pool_options.batch_size = 1;         // act on whichever environment is ready first
  pool_options.reward_on_done = true;  // grade in the pool when `finish` ends an episode
  auto pool = r2e::EnvPool::Create(std::move(envs), pool_options);
  if (!pool.ok()) {
    std::fprintf(stderr, "pool: %s\n", pool.status().ToString().c_str());
    return 1;
  }
  r2e::EnvPool& envpool = **pool;
  std::printf("%d threads step the environments\n", envpool.num_threads());

  const auto t0 = Clock::now();
  int next = 0;
  auto start_next = [&] {
    if (next >= episodes) return;
    Episode& ep = results[static_cast<std::size_t>(next)];
    ep.t0 = Clock::now();
    if (auto s = envpool.send_reset({next}); !s.ok()) ep.status = s;
    ++next;
  };
  for (int i = 0; i < concurrency; ++i) start_next();

  // The policy loop: every result is either a reset (send the first action)
  // or a step (send the next action, or end the episode).
  auto send_next = [&](Episode& ep) {
    const std::string& text = ep.actions[static_cast<std::size_t>(ep.steps)];
    ep.last_action = r2e::ParseAction(text);
    return envpool.send({*ep.last_action}, {ep.index});
  };
  while (envpool.in_flight() > 0) {
    auto batch = envpool.recv();
    if (!batch.ok()) {
      std::fprintf(stderr, "recv: %s\n", batch.status().ToString().c_str());
      return 1;
    }
    for (r2e::EnvResult& r : *batch) {
      Episode& ep = results[static_cast<std::size_t>(r.env_id)];
      r2e::RepoEnv& env = envpool.env(r.env_id);
      if (!r.status.ok()) {
        ep.status = r.status.WithContext(r.kind == r2e::EnvResult::Kind::kReset ? "reset" : "step");
        ep.over = true;
        ep.total_s = Since(ep.t0);
        env.close();
      } else if (r.kind == r2e::EnvResult::Kind::kReset) {
        ep.reset_s = Since(ep.t0);
        auto base = r2e::PatchBase(env.runtime(), env.task().base_commit);
        if (!base.ok()) {
          ep.status = base.status().WithContext("patch base");
          ep.over = true;
          env.close();
        } else {
          ep.patch_base = *base;
          if (!out_dir.empty()) {
            auto path = std::filesystem::path(out_dir) / ("episode-" + std::to_string(ep.index) + ".jsonl");
            auto w = r2e::TrajectoryWriter::Open(path);
            if (w.ok()) ep.trajectory.emplace(std::move(w).value());
            if (!w.ok()) ep.status = w.status().WithContext("trajectory");
          }
          ep.t_steps = Clock::now();
          if (ep.status.ok()) ep.status = send_next(ep);
          if (!ep.status.ok()) {
            ep.over = true;
            env.close();
          }
        }
      } else {
        ++ep.steps;
        if (ep.trajectory) {
          auto s = ep.trajectory->WriteStep(r2e::StepRecord::From(ep.steps, *ep.last_action, r.step));
          if (!s.ok()) ep.status = s.WithContext("trajectory");
        }
        if (!ep.status.ok()) {
          ep.over = true;
          env.close();
        } else if (r.step.done) {
          ep.finished = true;
          Finish(ep, env, runtime, r.step.reward, r.step.info.reward_time.value_or(std::chrono::seconds(0)).count());
        } else if (ep.steps >= static_cast<int>(ep.actions.size())) {
          Finish(ep, env, runtime, std::nullopt, 0.0);
        } else if (auto s = send_next(ep); !s.ok()) {
          ep.status = s;
          ep.over = true;
          env.close();
        }
      }
      if (ep.over) {
        Report(ep);
        start_next();  // its slot goes to the next episode
      }
    }
  }
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
