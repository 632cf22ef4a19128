#include "rollout_bench.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "cli/stop_signals.h"
#include "r2e/local_runtime.h"
#include "r2e/metrics_server.h"
#include "r2e/repo_env.h"
#include "r2e/rollout_scheduler.h"
#include "r2e/runtimes.h"

namespace r2e::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Busy CPU seconds of the whole machine (/proc/stat): the trainer, the
// runtime's daemons and the sandboxes together.
double MachineCpuSeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The rollout's tool steps, in turn: the demo repository's files.
std::vector<Action> StepActions(int steps) {
  const std::vector<std::string> shapes = {
      "<function=file_editor>\n<parameter=command>view</parameter>\n"
      "<parameter=path>/testbed/textstats/stats.py</parameter>\n</function>",
      "<function=search>\n<parameter=search_term>moving_average</parameter>\n"
      "<parameter=path>/testbed</parameter>\n</function>",
      "<function=execute_bash>\n<parameter=cmd>ls /testbed</parameter>\n</function>"};
  std::vector<Action> out;
  for (int i = 0; i < steps; ++i) out.push_back(ParseAction(shapes[i % shapes.size()]));
  return out;
}

struct Tally {
  std::mutex mu;
  std::vector<double> reset_ms;
  int infra_errors = 0;
  int done = 0;
};

// The steps and the grade of one rollout; false when the sandbox failed.
bool RunEpisode(RepoEnv& env, const std::vector<Action>& actions) {
  for (const Action& a : actions) {
    if (OutcomeOf(env.step(a)) == RolloutOutcome::kInfraError) return false;
  }
  return OutcomeOf(env.compute_reward()) == RolloutOutcome::kOk;
}

struct VariantResult {
  double wall_s = 0, cpu_s = 0;
  int peak_live = 0;
  nlohmann::json stats;  // the scheduler's
};

VariantResult RunNaive(const RolloutBenchOptions& o, const std::vector<Task>& tasks, const RepoEnvOptions& env_options,
                       const std::vector<Action>& actions, Tally& tally) {
  std::atomic<int> next{0};
  const int total = static_cast<int>(tasks.size()) * o.group;
  const double cpu0 = MachineCpuSeconds();
  const auto t0 = Clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < o.workers; ++w) {
    workers.emplace_back([&] {
      for (int i = next++; i < total && !cli::StopRequested(); i = next++) {
        const Task& task = tasks[static_cast<std::size_t>(i / o.group)];
        const auto r0 = Clock::now();
        auto env = RepoEnv::Create(task, env_options);
        bool ok = env.ok() && (*env)->reset().ok();
        const double ms = MsSince(r0);
        if (ok) ok = RunEpisode(**env, actions);
        if (env.ok()) (void)(*env)->close();
        std::lock_guard<std::mutex> lock(tally.mu);
        tally.reset_ms.push_back(ms);
        tally.infra_errors += ok ? 0 : 1;
        ++tally.done;
      }
    });
  }
  for (auto& t : workers) t.join();
  return {std::chrono::duration<double>(Clock::now() - t0).count(), MachineCpuSeconds() - cpu0, o.workers, {}};
}

Result<VariantResult> RunScheduled(const RolloutBenchOptions& o, bool reuse, const std::vector<Task>& tasks,
                                   const RepoEnvOptions& env_options, const std::vector<Action>& actions,
                                   Tally& tally) {
  RolloutSchedulerOptions so;
  so.reuse_sandboxes = reuse;
  so.env = env_options;
  so.max_live = o.max_live > 0 ? o.max_live : 2 * o.workers;
  so.max_concurrent_starts = o.max_starts > 0 ? o.max_starts : std::min(o.workers, 4);
  if (o.runtime == "docker") so.fetch_image = DockerImageFetcher();
  R2E_ASSIGN_OR_RETURN(auto scheduler, RolloutScheduler::Create(so));
  const cli::OnStop stop_scheduler([s = scheduler.get()] { s->shutdown(); });
  std::unique_ptr<MetricsServer> metrics;
  if (o.metrics_port >= 0) {
    R2E_ASSIGN_OR_RETURN(metrics, MetricsServer::Start(o.metrics_port, [s = scheduler.get()] {
                           return PrometheusText(s->stats());
                         }));
    std::cerr << "bench rollout: metrics at http://127.0.0.1:" << metrics->port() << "/metrics" << std::endl;
  }
  const double cpu0 = MachineCpuSeconds();
  const auto t0 = Clock::now();
  // The trainer knows its batches ahead: one batch per four tasks.
  for (std::size_t first = 0; first < tasks.size(); first += 4) {
    std::vector<RolloutRequest> batch;
    for (std::size_t i = first; i < std::min(tasks.size(), first + 4); ++i) batch.push_back({tasks[i], o.group});
    R2E_RETURN_IF_ERROR(scheduler->submit(std::move(batch)).status());
  }
  std::atomic<int> peak{0};
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    while (!finished) {
      peak = std::max(peak.load(), scheduler->stats().live);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::vector<std::thread> workers;
  for (int w = 0; w < o.workers; ++w) {
    workers.emplace_back([&] {
      while (!cli::StopRequested()) {
        const auto r0 = Clock::now();
        auto r = scheduler->acquire(std::chrono::minutes(10));
        if (!r.ok()) return;  // NotFound: all handed out
        const double ms = MsSince(r0);
        bool ok = r->outcome == RolloutOutcome::kOk && RunEpisode(*r->env, actions);
        scheduler->release(std::move(r->env));
        std::lock_guard<std::mutex> lock(tally.mu);
        tally.reset_ms.push_back(ms);
        tally.infra_errors += ok ? 0 : 1;
        ++tally.done;
      }
    });
  }
  for (auto& t : workers) t.join();
  scheduler->shutdown();  // waits for the last closes: part of the wall time
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  finished = true;
  watcher.join();
  return VariantResult{wall, MachineCpuSeconds() - cpu0, peak.load(), ToJson(scheduler->stats())};
}

}  // namespace

Status RunRolloutBench(const RolloutBenchOptions& o, std::ostream& out) {
  if (o.runtime != "local" && o.runtime != "docker") {
    return Status::InvalidArgument("bench rollout runs on --runtime local or docker; got `" + o.runtime + "`");
  }
  if (o.tasks < 1 || o.group < 1 || o.steps < 0 || o.workers < 1) {
    return Status::InvalidArgument("bench rollout: --tasks, --group and --workers must be positive");
  }
  auto demo = LoadTasks(R2E_SOAK_DEFAULT_TASKS);  // examples/tasks/demo.jsonl
  if (!demo.ok() || demo->empty()) return demo.status().WithContext("loading the demo task");
  std::vector<Task> tasks;
  for (int i = 0; i < o.tasks; ++i) {
    Task t = demo->front();
    t.instance_id += "-bench" + std::to_string(i);
    tasks.push_back(std::move(t));
  }
  // Local sandboxes live in a root of their own, so that leaks can be counted.
  const fs::path root = fs::temp_directory_path() / ("r2e-bench-rollout-" + std::to_string(::getpid()));
  fs::create_directories(root);
  struct RemoveRoot {
    fs::path dir;
    ~RemoveRoot() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } remove_root{root};
  // On docker each task gets an image name of its own (a tag of the demo
  // image), as a real batch's tasks do: the scheduler then fetches, probes
  // and starts per image. The names go when the bench ends.
  struct ImageNames {
    std::vector<std::string> names;
    ~ImageNames() {
      for (const std::string& name : names) (void)DockerRuntime::UntagImage(name);
    }
  } image_names;
  if (o.runtime == "docker") {
    for (int i = 0; i < o.tasks; ++i) {
      Task& t = tasks[static_cast<std::size_t>(i)];
      const std::string name = "r2e-bench/rollout-task" + std::to_string(i) + ":" + std::to_string(::getpid());
      R2E_RETURN_IF_ERROR(DockerRuntime::TagImage(t.image, name)
                              .WithContext("naming the demo image for task " + std::to_string(i) +
                                           " (build it with scripts/build-test-images.sh)"));
      image_names.names.push_back(name);
      t.image = name;
    }
  }
  RepoEnvOptions env_options;
  if (o.grade_in != "fresh" && o.grade_in != "agent") {
    return Status::InvalidArgument("--grade-in is `fresh` or `agent`; got `" + o.grade_in + "`");
  }
  env_options.grade_in = o.grade_in == "agent" ? GradeIn::kAgentSandbox : GradeIn::kFreshSandbox;
  if (o.runtime == "local") {
    LocalRuntimeOptions local;
    local.work_root = root;
    env_options.runtime = cli::Stoppable(LocalRuntimeFactory(local));
  } else {
    env_options.runtime = cli::Stoppable(DockerRuntimeFactory());
  }
  auto leaked = [&]() -> int {
    if (o.runtime == "docker") return CountOurContainers();
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(root)) ++n;
    return n;
  };
  const std::vector<Action> actions = StepActions(o.steps);
  const int total = o.tasks * o.group;
  std::vector<std::string> variants = {"naive", "scheduler"};
  if (o.reuse) variants.emplace_back("scheduler_reuse");
  double naive_wall = 0;
  for (const std::string& variant : variants) {
    Tally tally;
    VariantResult v;
    if (variant == "naive") {
      v = RunNaive(o, tasks, env_options, actions, tally);
      naive_wall = v.wall_s;
    } else {
      R2E_ASSIGN_OR_RETURN(v, RunScheduled(o, variant == "scheduler_reuse", tasks, env_options, actions, tally));
    }
    if (cli::StopRequested()) return Status::Cancelled("stopped by a signal");
    const Percentiles p = Summarize(tally.reset_ms);
    nlohmann::json line = {{"bench", "rollout"},
                           {"runtime", o.runtime},
                           {"variant", variant},
                           {"rollouts", tally.done},
                           {"tasks", o.tasks},
                           {"group", o.group},
                           {"steps", o.steps},
                           {"workers", o.workers},
                           {"grade_in", o.grade_in},
                           {"wall_s", v.wall_s},
                           {"rollouts_per_s", tally.done / v.wall_s},
                           {"reset_p50_ms", p.p50},
                           {"reset_p99_ms", p.p99},
                           {"cpu_ms_per_rollout", 1000.0 * v.cpu_s / std::max(1, tally.done)},
                           {"peak_live", v.peak_live},
                           {"infra_errors", tally.infra_errors},
                           {"leaked", leaked()},
                           {"load_average", LoadAverage()}};
    if (!v.stats.is_null()) line["stats"] = v.stats;
    out << line.dump() << std::endl;
    if (tally.done != total) return Status::Internal(variant + ": not every rollout ran");
    if (variant != "naive") {
      out << nlohmann::json({{"bench", "rollout"},
                             {"runtime", o.runtime},
                             {"variant", variant},
                             {"ratio", naive_wall / v.wall_s},
                             {"baseline", "naive (a new cold RepoEnv per rollout, the scaffold's way)"}})
                 .dump()
          << std::endl;
    }
  }
  return Status::OK();
}

}  // namespace r2e::bench
