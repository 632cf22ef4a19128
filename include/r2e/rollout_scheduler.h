// RolloutScheduler: environments for GRPO-shaped training, prepared ahead.
//
//   r2e::RolloutSchedulerOptions o;
//   o.env.runtime = r2e::DockerRuntimeFactory();          // every environment's options
//   auto scheduler = r2e::RolloutScheduler::Create(o).value();
//   scheduler->submit({{task_a, 8}, {task_b, 8}});         // a batch: tasks x group size
//   scheduler->submit(next_batch);                          // the trainer knows it ahead
//   for (;;) {
//     r2e::Rollout r = scheduler->acquire().value();        // in submission order
//     if (r.outcome == r2e::RolloutOutcome::kInfraError) { mask it; continue; }
//     ... r.env->step(...) ..., r.env->compute_reward() ...
//     scheduler->release(std::move(r.env));                 // closed in the background
//   }
//
// What it does: the trainer submits batches of (task, group size) ahead of
// time; each becomes group-size rollouts. Background threads prepare them in
// submission order (a new RepoEnv per rollout, reset(): sandbox created,
// started, set up, tools installed) over a sliding window bounded by two
// caps: at most max_concurrent_starts preparations at once, and at most
// max_live sandboxes alive at once (being prepared, ready, or handed out and
// not yet released). acquire() hands the next rollout in submission order
// out, waiting until it is ready.
//
// Infrastructure failures are not rewards: a reset that fails (the sandbox
// could not start or be set up, the daemon failed) is retried on a new
// sandbox up to reset_retries times; after that the rollout is handed out in
// its place with outcome kInfraError, its status and no environment, so that
// a trainer can mask it instead of learning from a 0. OutcomeOf() classifies
// a step or a reward the same way.
//
// Ownership: a handed-out environment belongs to the caller until release()
// (which closes it on a background thread and frees its live slot); one never
// released keeps its slot, so a trainer that never collects its environments
// stops the preparation, not the process. cancel(batch) drops a batch's
// rollouts not yet handed out and closes their sandboxes. shutdown() (also
// the destructor) stops the preparation, closes every sandbox the scheduler
// holds and returns once none is left; handed-out environments are their
// holders' to close.
//
// Threads: max_concurrent_starts preparing threads, which also close released
// environments. Thread-safety: every method may be called from any thread.
#ifndef R2E_ROLLOUT_SCHEDULER_H_
#define R2E_ROLLOUT_SCHEDULER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "r2e/repo_env.h"
#include "r2e/rollout_stats.h"
#include "r2e/status.h"
#include "r2e/task.h"

namespace r2e {

struct RolloutRequest {
  Task task;
  int group_size = 1;  // rollouts of this task; at least 1
};

enum class RolloutOutcome {
  kOk,          // the call did what was asked
  kAgentError,  // the agent's action failed inside a working sandbox (an observation)
  kInfraError,  // the sandbox could not start, died or timed out, or the backend failed
};
// "ok", "agent_error" or "infra_error".
std::string_view RolloutOutcomeName(RolloutOutcome outcome);

// How a step's result reads for a trainer: a Status error is the
// infrastructure's (the sandbox died, the backend failed); a step whose
// command failed or timed out is the agent's; anything else is ok.
RolloutOutcome OutcomeOf(const Result<StepResult>& step);
// A reward is ok when it was computed at all; its error is the infrastructure's.
RolloutOutcome OutcomeOf(const Result<double>& reward);

struct Rollout {
  long long batch = 0;  // submit()'s id
  int task_index = 0;   // the task's place in its batch
  int member = 0;       // its place in the task's group
  RolloutOutcome outcome = RolloutOutcome::kOk;  // kOk or kInfraError
  Status status;                   // why kInfraError (after the retries)
  std::unique_ptr<RepoEnv> env;    // reset and ready; null for kInfraError
  Observation initial;             // reset()'s observation
  int attempts = 0;                // resets tried (1 + retries used)
};

struct RolloutSchedulerOptions {
  // Every environment's options (runtime factory, tools, timeouts, grading).
  // warm_pool is not used: the scheduler prepares ahead itself.
  RepoEnvOptions env;
  // Sandboxes alive at once: being prepared, ready, or handed out and not
  // released. At least 1.
  int max_live = 16;
  // Preparations (create, start, setup, tools) at once, which is also the
  // number of background threads. At least 1. Docker on a 2-core machine
  // slows down past about 4 concurrent starts (docs/benchmarks.md).
  int max_concurrent_starts = 4;
  // A failed reset is tried again on a new sandbox this many times (not for
  // InvalidArgument: a task that cannot run does not get better).
  int reset_retries = 2;
  // Wait before a retry, doubled per retry of the same rollout.
  std::chrono::milliseconds retry_backoff{200};
  // Reuse a released environment for the next rollout of the same task
  // (same batch and task) by a fast reset (RepoEnvOptions::fast_reset: the
  // episode's processes killed, /testbed restored in place) instead of a new
  // sandbox. Much less work per rollout, but only /testbed is restored:
  // what an episode changed elsewhere (installed packages, /tmp, /root)
  // reaches the next member of the group. A failed restore falls back to a
  // new sandbox. Off: every rollout gets a new sandbox.
  bool reuse_sandboxes = false;
  // Makes a task's image available before its first reset (e.g. pulls it
  // when missing: see DockerImageFetcher in runtimes.h), once per distinct
  // Task::image and at most max_concurrent_pulls at once; the other
  // rollouts of that image wait for it. A failure counts as a failed attempt
  // of the rollout that ran it (retried, then kInfraError). Empty: images
  // are the runtime's business inside reset() (Docker pulls a missing one
  // there, with no cap).
  std::function<Status(const Task&)> fetch_image;
  int max_concurrent_pulls = 2;
};

class RolloutScheduler {
 public:
  // Starts the preparing threads. InvalidArgument for bad caps.
  static Result<std::unique_ptr<RolloutScheduler>> Create(RolloutSchedulerOptions options = {});
  ~RolloutScheduler();
  RolloutScheduler(const RolloutScheduler&) = delete;
  RolloutScheduler& operator=(const RolloutScheduler&) = delete;

  // Queues a batch behind those submitted before; returns its id (from 1).
  // InvalidArgument (nothing queued) for a group size below 1;
  // Cancelled after shutdown().
  Result<long long> submit(std::vector<RolloutRequest> batch);

  // The next rollout in submission order, waiting up to `timeout` for it to
  // be prepared. Timeout when it is not ready in time (it stays next);
  // NotFound when nothing is submitted and not handed out; Cancelled after
  // shutdown().
  Result<Rollout> acquire(std::chrono::milliseconds timeout = std::chrono::minutes(10));

  // Hands an environment back: closed on a background thread, its live slot
  // freed then (with reuse_sandboxes, kept for the next rollout of its task
  // when one is pending). Null is ignored. After shutdown() it is closed on
  // the caller.
  void release(std::unique_ptr<RepoEnv> env);

  // Drops the batch's rollouts not yet handed out (prepared ones are closed,
  // ones being prepared are closed when their reset ends). NotFound for an
  // unknown batch.
  Status cancel(long long batch);

  // See the header comment. Idempotent.
  void shutdown();

  RolloutStats stats() const;

 private:
  struct State;
  explicit RolloutScheduler(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace r2e

#endif  // R2E_ROLLOUT_SCHEDULER_H_
