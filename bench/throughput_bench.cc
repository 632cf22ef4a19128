#include "throughput_bench.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <vector>

#include "bench_util.h"
#include "cli/stop_signals.h"
#include "tools_bench.h"
#include "r2e/docker_runtime.h"
#include "r2e/env_pool.h"
#include "r2e/repo_env.h"

namespace r2e::bench {
namespace {

using Ms = std::chrono::duration<double, std::milli>;
using Clock = std::chrono::steady_clock;

// The r2egym execute_bash tool starts python for every call (tens of ms of
// CPU), which would measure python, not r2e: the bench's execute_bash is a
// shell function with the same calling convention, so each step still goes
// through RepoEnv::step (action -> tool command -> session -> observation).
// With --mix tools, the real r2egym tools (served by the tool server) and the
// four calls of `r2e bench tools` in turn. The runtimes are Docker's; each
// one made is added to `made` (its container's CPU is measured).
RepoEnvOptions BenchOptions(bool tools, std::vector<DockerRuntime*>* made) {
  RepoEnvOptions o;
  o.runtime = [made]() -> Result<std::unique_ptr<Runtime>> {
    auto runtime = std::make_unique<DockerRuntime>();
    made->push_back(runtime.get());
    return cli::Stoppable(std::move(runtime));
  };
  o.tool_set = tools ? "r2egym" : "";
  if (!tools) o.extra_tools = {{"execute_bash.sh", "# Runs a command.\nexecute_bash() { eval \"$1\"; }\n"}};
  return o;
}

}  // namespace

Status RunThroughputBench(const ThroughputBenchOptions& o, std::ostream& out) {
  if (o.runtime != "docker") {
    return Status::InvalidArgument("bench throughput measures the docker runtime (--runtime docker); got `" +
                                   o.runtime + "`");
  }
  const int containers_before = CountOurContainers();
  Task task;
  task.instance_id = "bench-throughput";
  task.kind = TaskKind::kR2E;
  task.image = o.image.empty() ? "r2e-test/base:bookworm" : o.image;
  task.problem_statement = "benchmark";
  const Action action =
      ParseAction("<function=execute_bash>\n<parameter=command>true</parameter>\n</function>");
  const bool tools = o.mix == "tools";
  if (!tools && o.mix != "true") return Status::InvalidArgument("--mix is `true` or `tools`; got `" + o.mix + "`");
  const std::filesystem::path repo = std::filesystem::temp_directory_path() /
                                     ("r2e-bench-throughput-" + std::to_string(::getpid()));
  if (tools) R2E_RETURN_IF_ERROR(WriteBenchRepo(repo));
  struct RemoveRepo {
    std::filesystem::path dir;
    ~RemoveRepo() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } remove_repo{repo};
  // Per environment: calls made so far (the mix's position) and edits made.
  std::vector<int> calls(static_cast<std::size_t>(o.envs), 0), edits(static_cast<std::size_t>(o.envs), 0);
  auto next_action = [&](int env_id) {
    if (!tools) return action;
    const int k = calls[env_id]++ % 4;
    std::vector<ToolCallShape> shapes = BenchToolCalls(edits[env_id]);
    if (shapes[k].name == "str_replace") ++edits[env_id];
    return shapes[k].action;
  };
  auto actions_for = [&](const std::vector<int>& ids) {
    std::vector<Action> batch;
    for (int id : ids) batch.push_back(next_action(id));
    return batch;
  };

  const long rss_before = RssKib();
  nlohmann::json line;
  {
    std::vector<std::unique_ptr<RepoEnv>> envs;
    std::vector<DockerRuntime*> runtimes;  // owned by the environments
    for (int i = 0; i < o.envs; ++i) {
      auto env = RepoEnv::Create(task, BenchOptions(tools, &runtimes));
      if (!env.ok()) return env.status();
      envs.push_back(std::move(env).value());
    }
    EnvPoolOptions po;
    po.batch_size = std::max(1, o.envs / 4);  // async: refill each quarter as it finishes
    R2E_ASSIGN_OR_RETURN(auto pool, EnvPool::Create(std::move(envs), po));
    // recv() then returns Cancelled; the pool's destructor removes the sandboxes.
    const cli::OnStop close_pool([p = pool.get()] { p->close(); });
    const auto t_reset = Clock::now();
    R2E_ASSIGN_OR_RETURN(auto resets, pool->reset());
    const double reset_s = std::chrono::duration<double>(Clock::now() - t_reset).count();
    for (const auto& r : resets) {
      if (!r.status.ok()) return r.status.WithContext("reset env " + std::to_string(r.env_id));
    }
    std::vector<int> all;
    for (int i = 0; i < o.envs; ++i) all.push_back(i);
    if (tools) {
      for (int i = 0; i < o.envs; ++i) {
        R2E_RETURN_IF_ERROR(pool->env(i).runtime().upload(repo / "bench", "/testbed/bench"));
      }
    }
    // One step each, so every session and buffer exists before memory is read;
    // with tools, until every tool server serves.
    for (int round = 0; round < (tools ? 100 : 1) && !all.empty(); ++round) {
      R2E_ASSIGN_OR_RETURN(auto warm, pool->step(std::vector<Action>(all.size(), action), all));
      std::vector<int> waiting;
      for (const auto& r : warm) {
        if (!r.status.ok()) return r.status.WithContext("warm-up step of env " + std::to_string(r.env_id));
        if (tools && r.step.info.tool_path != ToolPath::kServed) waiting.push_back(r.env_id);
      }
      all = waiting;
    }
    if (!all.empty()) return Status::Unavailable("tool servers did not start in " + std::to_string(all.size()) + " environments");
    const long rss_after = RssKib();

    // CPU spent per step, wherever it is spent: this process, the Docker
    // daemons relaying the streams, and our containers (the session shells).
    // Other work on the machine slows the steps down but barely changes this.
    std::vector<std::string> containers;
    for (DockerRuntime* d : runtimes) containers.push_back(d->container_id());
    auto self_cpu = [] {
      rusage ru{};
      getrusage(RUSAGE_SELF, &ru);
      return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    };
    auto containers_cpu = [&] {
      double total = 0;
      for (const auto& id : containers) {
        const double c = ContainerCpuSeconds(id);
        if (c < 0) return -1.0;
        total += c;
      }
      return total;
    };
    const double load_before = LoadAverage();
    const double client0 = self_cpu(), daemons0 = DockerDaemonsCpuSeconds(), containers0 = containers_cpu();

    // Every environment always has a step in flight; recv() hands back the
    // first batch to finish and they are sent again at once.
    std::vector<Clock::time_point> sent(static_cast<std::size_t>(o.envs));
    std::vector<double> latency;
    latency.reserve(static_cast<std::size_t>(o.n));
    int issued = 0, done = 0, failed = 0;
    const auto t0 = Clock::now();
    {
      std::vector<int> ids;
      for (int i = 0; i < o.envs && issued < o.n; ++i, ++issued) {
        ids.push_back(i);
        sent[i] = Clock::now();
      }
      R2E_RETURN_IF_ERROR(pool->send(actions_for(ids), ids));
    }
    while (done < issued) {
      R2E_ASSIGN_OR_RETURN(auto batch, pool->recv(std::chrono::minutes(2)));
      const auto now = Clock::now();
      std::vector<int> again;
      for (const auto& r : batch) {
        ++done;
        latency.push_back(Ms(now - sent[r.env_id]).count());
        if (!r.status.ok() || r.step.info.exit_code != 0) ++failed;
        if (issued < o.n) {
          again.push_back(r.env_id);
          sent[r.env_id] = now;
          ++issued;
        }
      }
      if (!again.empty()) R2E_RETURN_IF_ERROR(pool->send(actions_for(again), again));
    }
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double client_cpu = self_cpu() - client0, daemons_cpu = DockerDaemonsCpuSeconds() - daemons0;
    const double containers1 = containers_cpu();
    const double load_after = LoadAverage();
    if (failed > 0) return Status::Internal(std::to_string(failed) + " of " + std::to_string(done) + " steps failed");

    line = {{"bench", "throughput"},
            {"runtime", o.runtime},
            {"variant", "envpool"},
            {"envs", o.envs},
            {"threads", pool->num_threads()},
            {"batch_size", po.batch_size},
            {"n", done},
            {"steps", done},
            {"wall_s", wall},
            {"steps_per_s", done / wall},
            {"reset_all_s", reset_s},
            {"rss_before_kib", rss_before},
            {"rss_after_kib", rss_after},
            {"rss_per_env_kib", static_cast<double>(rss_after - rss_before) / o.envs},
            {"rss_end_kib", RssKib()},
            {"mix", o.mix},
            {"command", tools ? "r2egym tools in turn: file_editor view (500-line .py), str_replace, search "
                                "(~1,000 files), execute_bash ls; served"
                              : "execute_bash true (shell-function tool)"},
            {"loadavg_before", load_before},
            {"loadavg_after", load_after},
            {"cpu_ms_per_step_client", 1000 * client_cpu / done},
            {"cpu_ms_per_step_docker_daemons", 1000 * daemons_cpu / done}};
    if (containers0 >= 0 && containers1 >= 0) {
      const double in_containers = 1000 * (containers1 - containers0) / done;
      const double total = in_containers + 1000 * (client_cpu + daemons_cpu) / done;
      const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
      line["cpu_ms_per_step_containers"] = in_containers;
      line["cpu_ms_per_step"] = total;
      // What the CPUs could sustain if nothing else ran.
      line["cores"] = cores;
      line["steps_per_s_cpu_bound"] = cores * 1000.0 / total;
    }
    AddPercentiles(line, Summarize(std::move(latency)));
  }  // the pool removes every container here
  const int containers_after = CountOurContainers();
  line["containers_before"] = containers_before;
  line["containers_after"] = containers_after;
  out << line.dump() << std::endl;
  if (containers_after != containers_before) {
    return Status::Internal("containers leaked: " + std::to_string(containers_before) + " before, " +
                            std::to_string(containers_after) + " after");
  }
  return Status::OK();
}

}  // namespace r2e::bench
