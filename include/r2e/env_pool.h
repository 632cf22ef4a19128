// EnvPool: many RepoEnvs stepped at once from one process, modelled on
// EnvPool's send/recv.
//
//   std::vector<std::unique_ptr<r2e::RepoEnv>> envs = ...;   // one per episode slot
//   auto pool = r2e::EnvPool::Create(std::move(envs), {.batch_size = 8}).value();
//   pool->send_reset({});                                   // all environments
//   for (;;) {
//     auto batch = pool->recv().value();                    // the first 8 done
//     std::vector<r2e::Action> actions; std::vector<int> ids;
//     for (auto& r : batch) { ...choose an action for r.env_id...; }
//     pool->send(actions, ids);
//   }
//
// Modes: with batch_size equal to the number of environments (the default)
// the pool is synchronous: recv() returns one result per request, in the
// order the requests were sent. With a smaller batch_size it is asynchronous:
// recv() returns the first batch_size results that are ready, in the order
// they finished, and the others stay in flight.
//
// Errors: a failing environment (its sandbox died, its reset failed) gives
// that environment's result a non-OK status; the others are unaffected and
// nothing is thrown. Calls on the pool itself (bad env id, an env that already
// has a request in flight, mismatched sizes) return InvalidArgument and queue
// nothing.
//
// Threads: a fixed number of worker threads (options.num_threads, by default
// twice the hardware threads and at most 16) run the requests; a request
// occupies one worker for as long as its command runs. So a long command in
// one environment delays the others only when every worker is busy with one:
// with N workers, N long commands at once hold back the rest until one ends
// (bounded by the step timeout). Trivial commands need few workers (each
// step is about a millisecond of waiting on the sandbox); raise num_threads
// for agents whose commands run long.
//
// Fed from a RolloutScheduler (the second Create): the pool holds slots, not
// fixed environments. A reset of a slot (send_reset, or the auto reset after
// a final step) hands the slot's environment back to the scheduler (which
// closes it, or keeps it for the next rollout of its task) and puts the next
// rollout in submission order in its place: the trainer steps GRPO-shaped
// batches through send/recv while the scheduler prepares sandboxes ahead.
// The reset's result says which rollout the slot now runs
// (EnvResult::rollout). A rollout the scheduler gave up on (its sandbox
// would not start: outcome kInfraError) comes out as that reset's error,
// with the slot empty: mask it and reset the slot again. A reset with
// nothing left to hand out is NotFound (submit more batches).
//
// Thread-safety: send*, recv and close may be called from any thread, but the
// results of one request go to exactly one recv() call. env(i) is safe to use
// only while environment i has no request in flight.
#ifndef R2E_ENV_POOL_H_
#define R2E_ENV_POOL_H_

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "r2e/action.h"
#include "r2e/observation.h"
#include "r2e/repo_env.h"
#include "r2e/rollout_scheduler.h"
#include "r2e/status.h"

namespace r2e {

struct EnvPoolOptions {
  // Results per recv(); 0: the number of environments (synchronous mode).
  int batch_size = 0;
  // Worker threads; 0: 2 x std::thread::hardware_concurrency(), at most 16
  // and at most the number of environments.
  int num_threads = 0;
  // When a step ends the episode (done), reset the environment right away
  // and return the new episode's initial observation in the same result.
  bool auto_reset = false;
  // When a step ends the episode, run compute_reward() first (before any
  // auto reset) and put the reward into StepResult::reward (replacing
  // reward_fn's) and the time it took into StepInfo::reward_time.
  bool reward_on_done = false;
  // Per-step command timeout; none: each environment's step_timeout.
  std::optional<std::chrono::seconds> step_timeout;
  // Fed from a scheduler: how long a slot's reset waits for the next rollout
  // to be prepared (Timeout then; that rollout stays next).
  std::chrono::milliseconds acquire_timeout = std::chrono::minutes(10);
};

// Which rollout a scheduler-fed slot runs (see RolloutScheduler's Rollout).
struct SlotRollout {
  long long batch = 0;
  int task_index = 0;
  int member = 0;
  RolloutOutcome outcome = RolloutOutcome::kOk;  // kInfraError: the slot stayed empty
  int attempts = 0;                              // resets the scheduler tried
};

struct EnvResult {
  enum class Kind { kStep, kReset };
  int env_id = -1;
  Kind kind = Kind::kStep;
  // OK, or why this environment's request failed (the step, reward or
  // reset). The environment then needs a reset.
  Status status;
  // kStep: the step's outcome (when status is OK).
  StepResult step;
  // kReset: the initial observation. kStep with auto_reset after a final
  // step: the next episode's initial observation, when that reset worked.
  std::optional<Observation> observation;
  // kStep with auto_reset: the auto reset's failure (status stays OK then,
  // since the step itself worked).
  Status reset_status;
  // Fed from a scheduler, for a reset (or an auto reset) that took a
  // rollout: which one the slot now runs.
  std::optional<SlotRollout> rollout;
};

class EnvPool {
 public:
  // Takes ownership of the environments; environment i has env_id i.
  // InvalidArgument for no environments, a null one or bad options.
  static Result<std::unique_ptr<EnvPool>> Create(std::vector<std::unique_ptr<RepoEnv>> envs,
                                                 EnvPoolOptions options = {});
  // `slots` slots fed from `scheduler` (see the header comment), all empty
  // until their first reset. The scheduler is not owned and must outlive
  // the pool; the pool's destructor hands the environments it holds back to
  // it. InvalidArgument for fewer than 1 slot or bad options.
  static Result<std::unique_ptr<EnvPool>> Create(RolloutScheduler& scheduler, int slots,
                                                 EnvPoolOptions options = {});
  // close(), then the environments are closed and destroyed.
  ~EnvPool();
  EnvPool(const EnvPool&) = delete;
  EnvPool& operator=(const EnvPool&) = delete;

  // Queues one step per (action, env id). Returns at once.
  Status send(const std::vector<Action>& actions, const std::vector<int>& env_ids);
  // Queues a reset of each environment (empty: all). Returns at once.
  Status send_reset(const std::vector<int>& env_ids = {});

  // Waits for results (see Modes above). Returns fewer than batch_size only
  // when no more are in flight. FailedPrecondition when nothing is in flight
  // or ready; Timeout when `timeout` (0: none) passes first (the results stay
  // queued); Cancelled after close().
  Result<std::vector<EnvResult>> recv(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // send() then recv() of exactly these requests' results, in request order
  // (any mode; nothing else may be in flight). Convenience for synchronous use.
  Result<std::vector<EnvResult>> step(const std::vector<Action>& actions, const std::vector<int>& env_ids);
  Result<std::vector<EnvResult>> reset(const std::vector<int>& env_ids = {});

  // Cancels queued requests, interrupts running ones (RepoEnv::cancel) and
  // waits for the workers. Their results, if wanted, are lost. Idempotent.
  void close();

  int size() const;
  int num_threads() const;
  int in_flight() const;  // sent, not yet returned by recv()
  // Environment env_id. Throws std::out_of_range for a bad id, and
  // std::logic_error for a scheduler-fed slot that holds none (before its
  // first reset, or after a failed one): see has_env().
  RepoEnv& env(int env_id);
  // Whether slot env_id holds an environment (always, unless scheduler-fed).
  bool has_env(int env_id) const;

 private:
  struct State;
  explicit EnvPool(std::unique_ptr<State> state);
  static std::unique_ptr<EnvPool> Start(std::unique_ptr<State> state, EnvPoolOptions options);
  std::unique_ptr<State> state_;
};

}  // namespace r2e

#endif  // R2E_ENV_POOL_H_
