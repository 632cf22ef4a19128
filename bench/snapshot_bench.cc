#include "snapshot_bench.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_util.h"
#include "cli/stop_signals.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/shell_quote.h"
#include "r2e/warm_pool.h"

namespace r2e::bench {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// What an episode does between two snapshots: edits two files and adds one.
std::vector<std::string> EpisodeChanges(int round) {
  const std::string r = std::to_string(round);
  return {"cd /testbed && echo '# round " + r + "' >> textstats/stats.py",
          "cd /testbed && echo 'note " + r + "' > notes.txt",
          "cd /testbed && printf 'x = " + r + "\\n' >> textstats/__init__.py"};
}

// A repository of `files` files and `mb` MB under /testbed/big, committed,
// as a large project's checkout is.
// The files alone, under big/ of the current directory.
std::string LargeFiles(int files, int mb) {
  const long long per_file = (static_cast<long long>(mb) << 20) / std::max(1, files);
  return "mkdir -p big && cd big && head -c " + std::to_string(per_file * files) +
         " /dev/urandom | split -a 4 -d -b " + std::to_string(std::max(1LL, per_file)) +
         " - f && for d in 0 1 2 3 4 5 6 7 8 9; do mkdir -p d$d && mv f*$d d$d/ 2>/dev/null; done";
}

std::string GenerateLarge(int files, int mb) {
  return "cd /testbed && " + LargeFiles(files, mb) +
         "; cd /testbed && git add -A && git -c user.name=r2e -c user.email=r2e@localhost commit "
         "-qm big";
}

// What holds the large repository while the bench runs: a directory (local)
// or the container whose committed image is the task's (docker).
struct LargeTask {
  std::filesystem::path dir;
  std::unique_ptr<Runtime> maker;
  std::string image;
  ~LargeTask() {
    if (maker) {
      (void)maker->release_checkpoint(image);
      (void)maker->stop();
    }
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

// The demo task with GenerateLarge's repository in it from the start: on
// local a copy of its directory with the files added (committed by the
// task's setup, as any directory task), on docker an image committed from
// a container of its image that made them; on kube the demo task as it is.
Result<Task> LargeTaskFor(const SnapshotBenchOptions& o, const RepoEnvOptions& env_options,
                          Task task, LargeTask& large) {
  if (o.runtime == "kube") return task;
  if (o.runtime == "local") {
    large.dir =
        std::filesystem::temp_directory_path() / ("r2e-bench-large-" + std::to_string(::getpid()));
    std::error_code ec;
    std::filesystem::remove_all(large.dir, ec);
    std::filesystem::copy(task.local_repo, large.dir, std::filesystem::copy_options::recursive, ec);
    if (ec) return Status::Internal("copying " + task.local_repo.string() + ": " + ec.message());
    const std::string files =
        "cd " + ShellQuote(large.dir.string()) + " && " + LargeFiles(o.large_files, o.large_mb);
    if (std::system(files.c_str()) != 0)
      return Status::Internal("generating the files failed: " + files);
    task.local_repo = large.dir;
    return task;
  }
  R2E_ASSIGN_OR_RETURN(large.maker, env_options.runtime());
  SandboxSpec spec;
  spec.image = task.image;
  spec.task_id = task.instance_id;
  R2E_RETURN_IF_ERROR(large.maker->start(spec));
  ExecOptions exec;
  exec.timeout = std::chrono::seconds(600);
  R2E_ASSIGN_OR_RETURN(ExecResult r,
                       large.maker->exec(GenerateLarge(o.large_files, o.large_mb), exec));
  if (r.exit_code != 0)
    return Status::Internal("generating the large repository failed: " + r.output);
  R2E_ASSIGN_OR_RETURN(large.image, large.maker->checkpoint());
  task.image = large.image;
  return task;
}

Status RunCommands(RepoEnv& env, const std::vector<std::string>& commands) {
  for (const auto& c : commands) {
    R2E_ASSIGN_OR_RETURN(ExecResult r, env.run(c, std::chrono::seconds(600)));
    if (r.exit_code != 0) return Status::Internal("`" + c + "` failed: " + r.output);
  }
  return Status::OK();
}

void Line(std::ostream& out, const SnapshotBenchOptions& o, const std::string& repo, const std::string& op,
          const std::vector<double>& ms) {
  nlohmann::json line = {{"bench", "snapshot"}, {"runtime", o.runtime}, {"repo", repo}, {"op", op},
                         {"n", ms.size()}};
  AddPercentiles(line, Summarize(ms));
  out << line.dump() << std::endl;
}

// Forks whose sandbox comes from a warm pool that primes its sandboxes'
// snapshot stores (options.prime_snapshots), as the original's was: each
// round forks a new snapshot twice (the first fork packs it; the second, as
// best-of-N from one prefix does, reuses the pack), and times a warm reset
// from the same pool, the first part of the bound forks are held to (warm
// reset plus restore). The pool is refilled before each timed call. The
// bound is also timed as one sequence (`reset_restore_ms`: a warm reset, then
// the original restores a snapshot after changes), so that the pool's refill,
// which starts when a sandbox is taken, competes with its restore as it does
// with a fork's (nothing else does: that reset starts no tool server).
Status WarmForks(const SnapshotBenchOptions& o, RepoEnvOptions env_options, const Task& task,
                 const std::vector<std::string>& prepare, std::vector<double>& first_fork_ms,
                 std::vector<double>& again_fork_ms, std::vector<double>& reset_ms,
                 std::vector<double>& reset_restore_ms) {
  env_options.prime_snapshots = true;
  WarmPoolOptions pool_options;
  pool_options.size = 1;
  R2E_ASSIGN_OR_RETURN(auto pool, RepoEnv::MakeWarmPool(task, env_options, pool_options));
  struct ShutDown {
    std::shared_ptr<WarmPool> pool;
    ~ShutDown() { pool->shutdown(); }
  } shut_down{pool};
  RepoEnvOptions warm = env_options;
  warm.warm_pool = pool;
  R2E_ASSIGN_OR_RETURN(auto env, RepoEnv::Create(task, warm));
  R2E_RETURN_IF_ERROR(env->reset().status());
  R2E_RETURN_IF_ERROR(RunCommands(*env, prepare));
  // The sequence's reset starts no tool server (a fork starts its own after
  // the restore): only the reset and the restore are timed.
  RepoEnvOptions bare = warm;
  bare.tool_server = false;
  constexpr auto kRefill = std::chrono::minutes(5);
  auto timed_fork = [&](SnapshotId id, std::vector<double>& into) -> Status {
    R2E_RETURN_IF_ERROR(pool->wait_ready(1, kRefill));
    const auto t0 = Clock::now();
    R2E_ASSIGN_OR_RETURN(auto fork, env->fork(id));
    into.push_back(MsSince(t0));
    if (fork->last_reset_kind() != ResetKind::kWarm) {
      return Status::Internal("bench snapshot: a fork did not take its sandbox from the warm pool");
    }
    return fork->close();
  };
  for (int i = 0; i < o.forks && !cli::StopRequested(); ++i) {
    R2E_RETURN_IF_ERROR(RunCommands(*env, EpisodeChanges(i)));
    R2E_ASSIGN_OR_RETURN(const SnapshotId changed, env->snapshot());
    R2E_RETURN_IF_ERROR(timed_fork(changed, first_fork_ms));
    R2E_RETURN_IF_ERROR(timed_fork(changed, again_fork_ms));
    R2E_RETURN_IF_ERROR(pool->wait_ready(1, kRefill));
    const auto t0 = Clock::now();
    R2E_ASSIGN_OR_RETURN(auto fresh, RepoEnv::Create(task, warm));
    R2E_RETURN_IF_ERROR(fresh->reset().status());
    reset_ms.push_back(MsSince(t0));
    (void)fresh->close();
    R2E_RETURN_IF_ERROR(RunCommands(*env, EpisodeChanges(i + 1000)));
    R2E_RETURN_IF_ERROR(pool->wait_ready(1, kRefill));
    const auto t1 = Clock::now();
    R2E_ASSIGN_OR_RETURN(auto taken, RepoEnv::Create(task, bare));
    R2E_RETURN_IF_ERROR(taken->reset().status());
    R2E_RETURN_IF_ERROR(env->restore(changed));
    reset_restore_ms.push_back(MsSince(t1));
    (void)taken->close();
  }
  return env->close();
}

Status BenchRepo(const SnapshotBenchOptions& o, const RepoEnvOptions& env_options, const Task& task,
                 const std::vector<std::string>& prepare, const std::string& repo, std::ostream& out) {
  R2E_ASSIGN_OR_RETURN(auto env, RepoEnv::Create(task, env_options));
  R2E_RETURN_IF_ERROR(env->reset().status());
  R2E_RETURN_IF_ERROR(RunCommands(*env, prepare));
  // The first snapshot hashes every file; the rounds then measure what an
  // episode pays per snapshot: only what changed.
  R2E_ASSIGN_OR_RETURN(const SnapshotId base, env->snapshot());
  std::vector<double> snap_ms, restore_ms, fork_ms, replay_ms;
  for (int i = 0; i < o.n && !cli::StopRequested(); ++i) {
    R2E_RETURN_IF_ERROR(RunCommands(*env, EpisodeChanges(i)));
    auto t0 = Clock::now();
    R2E_ASSIGN_OR_RETURN(const SnapshotId id, env->snapshot());
    snap_ms.push_back(MsSince(t0));
    R2E_RETURN_IF_ERROR(RunCommands(*env, EpisodeChanges(i + 1000)));
    t0 = Clock::now();
    R2E_RETURN_IF_ERROR(env->restore(id));
    restore_ms.push_back(MsSince(t0));
    R2E_RETURN_IF_ERROR(env->drop(id));
    R2E_RETURN_IF_ERROR(env->restore(base));
  }
  // Whole-sandbox snapshots where the runtime has them (on docker a commit
  // and a new container from it: the baseline a user would otherwise build);
  // fewer rounds, as they take up to a second.
  std::vector<double> sandbox_snap_ms, sandbox_restore_ms;
  for (int i = 0; i < std::min(o.n, 5) && !cli::StopRequested(); ++i) {
    R2E_RETURN_IF_ERROR(RunCommands(*env, EpisodeChanges(i)));
    auto t0 = Clock::now();
    auto id = env->snapshot(SnapshotScope::kSandbox);
    if (!id.ok() && id.status().code() == StatusCode::kUnimplemented) break;
    if (!id.ok()) return id.status();
    sandbox_snap_ms.push_back(MsSince(t0));
    R2E_RETURN_IF_ERROR(RunCommands(*env, EpisodeChanges(i + 1000)));
    t0 = Clock::now();
    R2E_RETURN_IF_ERROR(env->restore(*id));
    sandbox_restore_ms.push_back(MsSince(t0));
    R2E_RETURN_IF_ERROR(env->drop(*id));
    R2E_RETURN_IF_ERROR(env->restore(base));
  }
  // Forks of a changed state; the baseline: a new environment, reset cold,
  // and the episode's changes replayed.
  R2E_RETURN_IF_ERROR(RunCommands(*env, EpisodeChanges(0)));
  R2E_ASSIGN_OR_RETURN(const SnapshotId changed, env->snapshot());
  for (int i = 0; i < o.forks && !cli::StopRequested(); ++i) {
    auto t0 = Clock::now();
    R2E_ASSIGN_OR_RETURN(auto fork, env->fork(changed));
    fork_ms.push_back(MsSince(t0));
    (void)fork->close();
    t0 = Clock::now();
    R2E_ASSIGN_OR_RETURN(auto fresh, RepoEnv::Create(task, env_options));
    R2E_RETURN_IF_ERROR(fresh->reset().status());
    std::vector<std::string> replay = prepare;
    for (const auto& c : EpisodeChanges(0)) replay.push_back(c);
    R2E_RETURN_IF_ERROR(RunCommands(*fresh, replay));
    replay_ms.push_back(MsSince(t0));
    (void)fresh->close();
  }
  (void)env->close();
  std::vector<double> warm_fork_ms, again_fork_ms, warm_reset_ms, reset_restore_ms;
  if (o.forks > 0 && !cli::StopRequested()) {
    R2E_RETURN_IF_ERROR(WarmForks(o, env_options, task, prepare, warm_fork_ms, again_fork_ms,
                                  warm_reset_ms, reset_restore_ms));
  }
  if (cli::StopRequested()) return Status::Cancelled("stopped by a signal");
  Line(out, o, repo, "snapshot", snap_ms);
  Line(out, o, repo, "restore", restore_ms);
  Line(out, o, repo, "fork", fork_ms);
  Line(out, o, repo, "replay_baseline", replay_ms);
  Line(out, o, repo, "fork_warm", warm_fork_ms);
  Line(out, o, repo, "fork_warm_again", again_fork_ms);
  Line(out, o, repo, "warm_reset", warm_reset_ms);
  Line(out, o, repo, "warm_reset_then_restore", reset_restore_ms);
  Line(out, o, repo, "sandbox_snapshot", sandbox_snap_ms);
  Line(out, o, repo, "sandbox_restore", sandbox_restore_ms);
  const double restore_p50 = Summarize(restore_ms).p50;
  const double fork_bound = Summarize(warm_reset_ms).p50 + restore_p50;
  const double sequence = Summarize(reset_restore_ms).p50;
  out << nlohmann::json(
             {{"bench", "snapshot"},
              {"runtime", o.runtime},
              {"repo", repo},
              {"restore_vs_replay", restore_p50 > 0 ? Summarize(replay_ms).p50 / restore_p50 : 0.0},
              {"fork_warm_vs_bound",
               fork_bound > 0 ? Summarize(warm_fork_ms).p50 / fork_bound : 0.0},
              {"fork_warm_again_vs_bound",
               fork_bound > 0 ? Summarize(again_fork_ms).p50 / fork_bound : 0.0},
              // The same bound timed as one sequence, under the same refill.
              {"fork_warm_vs_sequence", sequence > 0 ? Summarize(warm_fork_ms).p50 / sequence : 0.0},
              {"fork_warm_again_vs_sequence",
               sequence > 0 ? Summarize(again_fork_ms).p50 / sequence : 0.0},
              // How much a whole-sandbox restore costs over a repository one.
              {"sandbox_restore_vs_restore",
               restore_p50 > 0 ? Summarize(sandbox_restore_ms).p50 / restore_p50 : 0.0}})
             .dump()
      << std::endl;
  return Status::OK();
}

}  // namespace

Status RunSnapshotBench(const SnapshotBenchOptions& o, std::ostream& out) {
  if (o.runtime != "local" && o.runtime != "docker" && o.runtime != "kube") {
    return Status::InvalidArgument("bench snapshot runs on --runtime local, docker or kube; got `" + o.runtime + "`");
  }
  if (o.n < 1 || o.forks < 0 || o.large_files < 0 || o.large_mb < 0) {
    return Status::InvalidArgument("bench snapshot: --n must be positive, the others not negative");
  }
  auto demo = LoadTasks(R2E_SOAK_DEFAULT_TASKS);  // examples/tasks/demo.jsonl
  if (!demo.ok() || demo->empty()) return demo.status().WithContext("loading the demo task");
  RepoEnvOptions env_options;
  if (o.runtime == "kube") {
    KubeRuntimeOptions kube;
    kube.load.kubeconfig = o.kubeconfig;
    kube.load.context = o.context;
    kube.namespace_name = o.kube_namespace;
    env_options.runtime = cli::Stoppable(KubeRuntimeFactory(kube));
  } else {
    env_options.runtime = cli::Stoppable(o.runtime == "docker" ? DockerRuntimeFactory() : LocalRuntimeFactory());
  }
  R2E_RETURN_IF_ERROR(BenchRepo(o, env_options, demo->front(), {}, "demo", out));
  if (o.large_files > 0) {
    // A large project's checkout is in every sandbox of its task from the
    // start (the image's, or the directory's), so that forks from a warm
    // pool start from it as they would for a real task. On kube the
    // episode makes it after its reset (forks then ship all of it).
    LargeTask large;
    auto task = LargeTaskFor(o, env_options, demo->front(), large);
    if (!task.ok()) return task.status().WithContext("bench snapshot: making the large repository");
    const std::vector<std::string> prepare =
        o.runtime == "kube" ? std::vector<std::string>{GenerateLarge(o.large_files, o.large_mb)}
                            : std::vector<std::string>{};
    R2E_RETURN_IF_ERROR(BenchRepo(o, env_options, *task, prepare, "large", out));
  }
  return Status::OK();
}

}  // namespace r2e::bench
