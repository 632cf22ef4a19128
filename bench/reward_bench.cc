#include "reward_bench.h"

#include <chrono>
#include <functional>
#include <memory>

#include "bench_util.h"
#include "cli/stop_signals.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/warm_pool.h"

namespace r2e::bench {
namespace {

using Ms = std::chrono::duration<double, std::milli>;

// The R2E demo task (examples/tasks/demo.jsonl) with its scripted fix.
Result<Task> DemoTask() {
  R2E_ASSIGN_OR_RETURN(auto tasks, LoadTasks(R2E_SOAK_DEFAULT_TASKS));
  if (tasks.empty()) return Status::NotFound("examples/tasks/demo.jsonl has no row");
  return tasks.front();
}

// A reset environment holding the fix: every grade of it earns 1.
Result<std::unique_ptr<RepoEnv>> FixedEnv(const Task& task, const RepoEnvOptions& options) {
  R2E_ASSIGN_OR_RETURN(auto env, RepoEnv::Create(task, options));
  R2E_RETURN_IF_ERROR(env->reset().status());
  for (const auto& action : task.row.at("scripted_actions")) {
    R2E_RETURN_IF_ERROR(env->step(action.get<std::string>()).status());
  }
  return env;
}

// Times n grades; `before` runs untimed before each (a pool refilling).
Result<std::vector<double>> TimeGrades(RepoEnv& env, int n, const std::function<Status()>& before) {
  std::vector<double> samples;
  for (int i = 0; i < n; ++i) {
    R2E_RETURN_IF_ERROR(before());
    const auto t0 = std::chrono::steady_clock::now();
    R2E_ASSIGN_OR_RETURN(double reward, env.compute_reward());
    samples.push_back(Ms(std::chrono::steady_clock::now() - t0).count());
    if (reward != 1.0)
      return Status::Internal("grade " + std::to_string(i) + " of the fixed demo task gave 0");
  }
  return samples;
}

}  // namespace

Status RunRewardBench(const RewardBenchOptions& o, std::ostream& out) {
  if (o.runtime != "local" && o.runtime != "docker") {
    return Status::InvalidArgument("bench reward measures --runtime local or docker; got `" +
                                   o.runtime + "`");
  }
  R2E_ASSIGN_OR_RETURN(Task task, DemoTask());
  RepoEnvOptions options;
  R2E_ASSIGN_OR_RETURN(RuntimeFactory factory, MakeRuntimeFactory(o.runtime, RuntimeOptions{}));
  options.runtime = cli::Stoppable(std::move(factory));  // a signal ends them (cli/stop_signals.h)
  const int containers_before = o.runtime == "docker" ? CountOurContainers() : 0;
  auto nothing = [] { return Status::OK(); };

  std::vector<double> agent, fresh, pooled;
  {
    RepoEnvOptions a = options;
    a.grade_in = GradeIn::kAgentSandbox;
    R2E_ASSIGN_OR_RETURN(auto env, FixedEnv(task, a));
    R2E_ASSIGN_OR_RETURN(agent, TimeGrades(*env, o.n, nothing));
  }
  {
    R2E_ASSIGN_OR_RETURN(auto env, FixedEnv(task, options));
    R2E_ASSIGN_OR_RETURN(fresh, TimeGrades(*env, o.n, nothing));
  }
  {
    WarmPoolOptions po;
    po.size = 2;
    po.refill_concurrency = 1;
    R2E_ASSIGN_OR_RETURN(auto pool, RepoEnv::MakeWarmPool(task, options, po));
    const cli::OnStop stop_pool([p = pool.get()] { p->shutdown(); });  // wait_ready() returns
    RepoEnvOptions p = options;
    p.warm_pool = pool;
    {
      R2E_RETURN_IF_ERROR(pool->wait_ready(po.size, std::chrono::minutes(5)));
      R2E_ASSIGN_OR_RETURN(auto env, FixedEnv(task, p));
      R2E_ASSIGN_OR_RETURN(pooled, TimeGrades(*env, o.n, [&] {
                             return pool->wait_ready(po.size, std::chrono::minutes(5));
                           }));
    }
    pool->shutdown();
  }

  const Percentiles pa = Summarize(agent), pf = Summarize(fresh), pp = Summarize(pooled);
  for (const auto& [variant, p] :
       {std::pair{"agent", pa}, std::pair{"fresh", pf}, std::pair{"fresh_pool", pp}}) {
    nlohmann::json line = {
        {"bench", "reward"}, {"runtime", o.runtime}, {"variant", variant}, {"n", o.n}};
    AddPercentiles(line, p);
    out << line.dump() << std::endl;
  }
  const int containers_after = o.runtime == "docker" ? CountOurContainers() : 0;
  out << nlohmann::json{{"bench", "reward"},
                        {"runtime", o.runtime},
                        {"baseline", "agent"},
                        {"fresh_cost", pf.p50 / pa.p50},
                        {"fresh_pool_cost", pp.p50 / pa.p50},
                        {"containers_before", containers_before},
                        {"containers_after", containers_after}}
             .dump()
      << std::endl;
  if (containers_after != containers_before) {
    return Status::Internal("containers leaked: " + std::to_string(containers_before) +
                            " before, " + std::to_string(containers_after) + " after");
  }
  return Status::OK();
}

}  // namespace r2e::bench
