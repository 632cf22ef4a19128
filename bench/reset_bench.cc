#include "reset_bench.h"

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "bench_util.h"
#include "cli/stop_signals.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/warm_pool.h"

namespace r2e::bench {
namespace {

using Ms = std::chrono::duration<double, std::milli>;

// An R2E-kind task on the demo image: the setup a real task runs (hidden
// tests moved away, caches removed, tools installed).
Task BenchTask(const std::string& image) {
  Task t;
  t.instance_id = "bench-reset";
  t.kind = TaskKind::kR2E;
  t.image = image.empty() ? "r2e-demo/textstats:latest" : image;
  t.problem_statement = "benchmark";
  return t;
}

// Times env.reset() n times; before each, `before` runs untimed (the episode
// that dirties the sandbox, and whatever the variant waits for).
Result<std::vector<double>> TimeResets(RepoEnv& env, int n, const std::function<Status()>& before) {
  std::vector<double> samples;
  for (int i = 0; i < n; ++i) {
    R2E_RETURN_IF_ERROR(before());
    const auto t0 = std::chrono::steady_clock::now();
    auto r = env.reset();
    if (!r.ok()) return r.status().WithContext("reset " + std::to_string(i));
    samples.push_back(Ms(std::chrono::steady_clock::now() - t0).count());
  }
  return samples;
}

Status Dirty(RepoEnv& env) {
  auto r = env.run("echo episode > /testbed/episode.txt; echo more >> /testbed/README.md");
  if (!r.ok()) return r.status().WithContext("the episode's command");
  return r->success() ? Status::OK() : Status::Internal("the episode's command failed: " + r->output);
}

nlohmann::json Line(const std::string& runtime, const std::string& variant, int n, const Percentiles& p) {
  nlohmann::json line = {{"bench", "reset"}, {"runtime", runtime}, {"variant", variant}, {"n", n}};
  AddPercentiles(line, p);
  return line;
}

}  // namespace

Status RunResetBench(const ResetBenchOptions& options_in, std::ostream& out) {
  ResetBenchOptions o = options_in;
  if (o.runtime == "local") return RunLocalImageResetBench(o, out);
  if (o.runtime != "docker") {
    return Status::InvalidArgument("bench reset measures the docker runtime (--runtime docker); got `" +
                                   o.runtime + "`");
  }
  const int containers_before = CountOurContainers();
  Task task = BenchTask(o.image);
  RepoEnvOptions options;
  options.runtime = cli::Stoppable(DockerRuntimeFactory());

  // Cold: what reset() costs without a pool (remove the previous container,
  // create, start, set up, install the tools).
  std::vector<double> cold;
  {
    auto env = RepoEnv::Create(task, options);
    if (!env.ok()) return env.status();
    R2E_RETURN_IF_ERROR((*env)->reset().status());  // the image is warm in the daemon's cache
    R2E_ASSIGN_OR_RETURN(cold, TimeResets(**env, o.n, [&] { return Dirty(**env); }));
  }

  // Pool: the same reset taking a prepared container; the pool is given the
  // time an episode would give it to refill (waited for, untimed).
  std::vector<double> warm;
  WarmPoolStats pool_stats;
  {
    WarmPoolOptions po;
    po.size = 4;
    po.refill_concurrency = 2;
    R2E_ASSIGN_OR_RETURN(auto pool, RepoEnv::MakeWarmPool(task, options, po));
    const cli::OnStop stop_pool([p = pool.get()] { p->shutdown(); });  // wait_ready() returns
    RepoEnvOptions pooled = options;
    pooled.warm_pool = pool;
    auto env = RepoEnv::Create(task, pooled);
    if (!env.ok()) return env.status();
    R2E_RETURN_IF_ERROR(pool->wait_ready(po.size, std::chrono::minutes(5)));
    R2E_RETURN_IF_ERROR((*env)->reset().status());
    auto samples = TimeResets(**env, o.n, [&]() -> Status {
      R2E_RETURN_IF_ERROR(Dirty(**env));
      return pool->wait_ready(po.size, std::chrono::minutes(5));
    });
    if (!samples.ok()) return samples.status();
    warm = std::move(samples).value();
    if ((*env)->last_reset_kind() != ResetKind::kWarm) {
      return Status::Internal("the pooled reset did not take a warm sandbox (" +
                              std::string(ResetKindName((*env)->last_reset_kind())) + ")");
    }
    pool_stats = pool->stats();
    env->reset();  // the environment (and its sandbox) goes before the pool
    pool->shutdown();
  }

  // Fast: restored in place (git reset/clean, process kill, session restart).
  std::vector<double> fast;
  {
    RepoEnvOptions f = options;
    f.fast_reset = true;
    auto env = RepoEnv::Create(task, f);
    if (!env.ok()) return env.status();
    R2E_RETURN_IF_ERROR((*env)->reset().status());
    R2E_ASSIGN_OR_RETURN(fast, TimeResets(**env, o.n, [&] { return Dirty(**env); }));
    if ((*env)->last_reset_kind() != ResetKind::kFast) {
      return (*env)->last_fast_reset_error().WithContext("fast reset fell back to a fresh sandbox");
    }
  }

  const Percentiles pc = Summarize(cold), pw = Summarize(warm), pf = Summarize(fast);
  nlohmann::json pool_line = Line(o.runtime, "pool", o.n, pw);
  pool_line["pool_size"] = 4;
  pool_line["handed_out"] = pool_stats.handed_out;
  out << pool_line.dump() << std::endl;
  out << Line(o.runtime, "cold", o.n, pc).dump() << std::endl;
  out << Line(o.runtime, "fast", o.n, pf).dump() << std::endl;
  const int containers_after = CountOurContainers();
  out << nlohmann::json{{"bench", "reset"},
                        {"runtime", o.runtime},
                        {"ratio", pc.p50 / pw.p50},
                        {"baseline", "cold"},
                        {"fast_ratio", pc.p50 / pf.p50},
                        {"containers_before", containers_before},
                        {"containers_after", containers_after}}
             .dump()
      << std::endl;
  if (containers_after != containers_before) {
    return Status::Internal("containers leaked: " + std::to_string(containers_before) + " before, " +
                            std::to_string(containers_after) + " after");
  }
  return Status::OK();
}

}  // namespace r2e::bench
