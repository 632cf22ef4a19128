// GRPO-shaped rollouts: the loop of an RL trainer that samples a batch of
// tasks per training step and runs a group of rollouts of each, through
// r2e::RolloutScheduler. The next step's batch is submitted before the
// current one runs, so its sandboxes are prepared while the policy works.
// Rollouts whose sandbox failed (kInfraError) are masked out of the group's
// statistics instead of counting as reward 0.
//
//   r2e_grpo_rollouts [--runtime local|docker] [--steps N] [--tasks-per-step T]
//                     [--group G] [--workers W] [--expect-mean R] [tasks.jsonl]
//
// The "policy" is scripted: in every group, even members replay the row's
// `scripted_actions` (the fix) and odd members submit at once, so a group's
// rewards have a spread and its advantages (reward minus the group's mean)
// are not all zero. Prints one line per group (rewards, advantages, masked
// rollouts), then the scheduler's stats as JSON.
// Exit status: 0 done, 1 a failure, 2 bad arguments, 3 the mean reward over
// the unmasked rollouts differs from --expect-mean.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "r2e/rollout_scheduler.h"
#include "r2e/runtimes.h"
#include "r2e/task.h"

namespace {

constexpr const char* kSubmit = "<function=finish>\n<parameter=command>submit</parameter>\n</function>";

struct Result {
  int step = 0, task_index = 0, member = 0;
  r2e::RolloutOutcome outcome = r2e::RolloutOutcome::kOk;
  double reward = 0;
  std::string why;  // for a masked rollout
};

// One rollout: the scripted policy, then the reward. An error of the
// sandbox (not of the agent) masks the rollout.
Result Play(r2e::Rollout& rollout, int step) {
  Result out{step, rollout.task_index, rollout.member, rollout.outcome, 0.0, rollout.status.ToString()};
  if (rollout.outcome != r2e::RolloutOutcome::kOk) return out;
  r2e::RepoEnv& env = *rollout.env;
  std::vector<std::string> actions;
  if (rollout.member % 2 == 0) {
    for (const auto& a : env.task().row.value("scripted_actions", nlohmann::json::array())) {
      if (a.is_string()) actions.push_back(a.get<std::string>());
    }
  }
  if (actions.empty()) actions.emplace_back(kSubmit);
  for (const std::string& action : actions) {
    auto r = env.step(action);
    if (r2e::OutcomeOf(r) == r2e::RolloutOutcome::kInfraError) {
      out.outcome = r2e::RolloutOutcome::kInfraError;
      out.why = r.status().ToString();
      return out;
    }
    if (r->done) break;
  }
  auto reward = env.compute_reward();
  if (r2e::OutcomeOf(reward) == r2e::RolloutOutcome::kInfraError) {
    out.outcome = r2e::RolloutOutcome::kInfraError;
    out.why = reward.status().ToString();
    return out;
  }
  out.reward = *reward;
  return out;
}

int Usage(const std::string& message) {
  std::fprintf(stderr,
               "%s\nusage: r2e_grpo_rollouts [--runtime local|docker] [--steps N] [--tasks-per-step T] "
               "[--group G] [--workers W] [--expect-mean R] [tasks.jsonl]\n",
               message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string runtime = "local", tasks_file = R2E_DEMO_TASKS;
  int steps = 2, tasks_per_step = 2, group = 4, workers = 2;
  std::optional<double> expect_mean;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--runtime" && has_value) {
      runtime = argv[++i];
    } else if (arg == "--steps" && has_value) {
      steps = std::atoi(argv[++i]);
    } else if (arg == "--tasks-per-step" && has_value) {
      tasks_per_step = std::atoi(argv[++i]);
    } else if (arg == "--group" && has_value) {
      group = std::atoi(argv[++i]);
    } else if (arg == "--workers" && has_value) {
      workers = std::atoi(argv[++i]);
    } else if (arg == "--expect-mean" && has_value) {
      expect_mean = std::strtod(argv[++i], nullptr);
    } else if (arg.rfind("--", 0) == 0) {
      return Usage("unknown option or missing value: " + arg);
    } else {
      tasks_file = arg;
    }
  }
  if (steps < 1 || tasks_per_step < 1 || group < 1 || workers < 1) return Usage("counts must be at least 1");
  auto tasks = r2e::LoadTasks(tasks_file);
  if (!tasks.ok() || tasks->empty()) return Usage("cannot load tasks from " + tasks_file);

  r2e::RolloutSchedulerOptions options;
  auto factory = r2e::MakeRuntimeFactory(runtime);
  if (!factory.ok()) return Usage(factory.status().ToString());
  options.env.runtime = *factory;
  options.max_live = 2 * workers;  // the workers' sandboxes and as many prepared ahead
  options.max_concurrent_starts = std::min(workers, 4);
  auto scheduler = r2e::RolloutScheduler::Create(options);
  if (!scheduler.ok()) return Usage(scheduler.status().ToString());
  r2e::RolloutScheduler& rollouts = **scheduler;

  // Training step k samples tasks k*T .. k*T+T-1 (cycling through the file).
  auto submit_step = [&](int k) {
    std::vector<r2e::RolloutRequest> batch;
    for (int t = 0; t < tasks_per_step; ++t) {
      r2e::Task task = (*tasks)[static_cast<std::size_t>(k * tasks_per_step + t) % tasks->size()];
      task.instance_id += "@step" + std::to_string(k) + "." + std::to_string(t);
      batch.push_back({std::move(task), group});
    }
    return rollouts.submit(std::move(batch));
  };
  if (!submit_step(0).ok()) return 1;
  double reward_sum = 0;
  int counted = 0, masked = 0;
  std::atomic<bool> failed{false};
  for (int k = 0; k < steps; ++k) {
    if (k + 1 < steps && !submit_step(k + 1).ok()) return 1;  // prepared while this step runs
    std::vector<Result> results;
    std::mutex mu;
    std::atomic<int> left{tasks_per_step * group};
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&] {
        while (left-- > 0) {
          auto rollout = rollouts.acquire();
          if (!rollout.ok()) {  // not a rollout's failure: the scheduler's
            std::fprintf(stderr, "acquire: %s\n", rollout.status().ToString().c_str());
            failed = true;
            continue;
          }
          Result r = Play(*rollout, k);
          rollouts.release(std::move(rollout->env));
          std::lock_guard<std::mutex> lock(mu);
          results.push_back(std::move(r));
        }
      });
    }
    for (auto& t : threads) t.join();
    // Group statistics over the unmasked rollouts.
    for (int t = 0; t < tasks_per_step; ++t) {
      double sum = 0;
      int n = 0;
      for (const Result& r : results) {
        if (r.task_index == t && r.outcome != r2e::RolloutOutcome::kInfraError) {
          sum += r.reward;
          ++n;
        }
      }
      const double mean = n ? sum / n : 0.0;
      std::string rewards, advantages;
      int group_masked = 0;
      for (const Result& r : results) {
        if (r.task_index != t) continue;
        if (r.outcome == r2e::RolloutOutcome::kInfraError) {
          ++group_masked;
          std::fprintf(stderr, "step %d task %d member %d masked: %s\n", k, t, r.member, r.why.c_str());
          continue;
        }
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s%g", rewards.empty() ? "" : " ", r.reward);
        rewards += buf;
        std::snprintf(buf, sizeof buf, "%s%+.2f", advantages.empty() ? "" : " ", r.reward - mean);
        advantages += buf;
      }
      std::printf("step %d task %d: rewards [%s] advantages [%s] masked %d\n", k, t, rewards.c_str(),
                  advantages.c_str(), group_masked);
      reward_sum += sum;
      counted += n;
      masked += group_masked;
    }
    std::fflush(stdout);
  }
  rollouts.shutdown();
  std::printf("stats %s\n", r2e::ToJson(rollouts.stats()).dump().c_str());
  const double mean = counted ? reward_sum / counted : 0.0;
  std::printf("mean reward %.3f over %d rollouts, %d masked\n", mean, counted, masked);
  if (expect_mean && std::fabs(mean - *expect_mean) > 1e-9) {
    std::fprintf(stderr, "mean reward %.3f, expected %.3f\n", mean, *expect_mean);
    return 3;
  }
  return failed || masked > 0 ? 1 : 0;
}
