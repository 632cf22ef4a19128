#include "r2e/rollout_scheduler.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include "core/enum_names.h"
#include "pool/latency_samples.h"

namespace r2e {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

using internal::LatencySamples;

enum class Phase { kPending, kPreparing, kReady };

// One rollout, from submit() until it is handed out or dropped.
struct Item {
  std::shared_ptr<const Task> task;
  Phase phase = Phase::kPending;
  bool cancelled = false;  // dropped while being prepared: closed when its reset ends
  Rollout rollout;
};

}  // namespace

std::string_view RolloutOutcomeName(RolloutOutcome outcome) {
  using enum RolloutOutcome;
  static constexpr internal::EnumName<RolloutOutcome> kNames[] = {
      {kOk, "ok"}, {kAgentError, "agent_error"}, {kInfraError, "infra_error"}};
  return internal::NameOf(outcome, kNames, "infra_error");
}

RolloutOutcome OutcomeOf(const Result<StepResult>& step) {
  if (!step.ok()) return RolloutOutcome::kInfraError;
  if (step->info.timed_out || step->info.exit_code != 0) return RolloutOutcome::kAgentError;
  return RolloutOutcome::kOk;
}

RolloutOutcome OutcomeOf(const Result<double>& reward) {
  return reward.ok() ? RolloutOutcome::kOk : RolloutOutcome::kInfraError;
}

struct RolloutScheduler::State {
  RolloutSchedulerOptions options;
  mutable std::mutex mu;
  std::mutex shutdown_mu;  // held for the whole of shutdown()
  std::condition_variable work_cv;   // preparing threads: work, or stop
  std::condition_variable ready_cv;  // acquire(): the next rollout is ready
  // Rollouts not handed out yet, in submission order.
  std::deque<std::shared_ptr<Item>> queue;
  std::deque<std::unique_ptr<RepoEnv>> to_close;
  // reuse_sandboxes: released environments kept for a pending rollout of
  // their task (the same Task object: same batch, same request).
  std::vector<std::pair<std::shared_ptr<const Task>, std::unique_ptr<RepoEnv>>> reusable;
  // The Task object of each handed-out environment (reuse_sandboxes).
  std::map<const RepoEnv*, std::shared_ptr<const Task>> task_of;
  std::vector<RepoEnv*> resetting;  // cancelled by shutdown()
  int cancelling = 0;               // shutdown() is calling cancel() on them (outside the lock)
  std::set<long long> batches;
  long long next_batch = 1;
  int preparing = 0, handed_out = 0, closing = 0;
  bool stopping = false;
  long long submitted = 0, prepared = 0, retried = 0, infra_errors = 0, cancelled = 0, released = 0, reused = 0;
  LatencySamples pull_ms, reset_ms, start_ms, setup_ms, tools_ms, acquire_ms, teardown_ms;
  LatencySamples first_step_ms, step_ms, grade_ms;  // of released environments' episodes
  OutcomeCounts steps, grades;
  // fetch_image: images fetched, and those being fetched now.
  std::set<std::string> fetched, fetching;
  std::vector<std::thread> threads;

  int ready_with_sandbox() const {
    return static_cast<int>(std::count_if(queue.begin(), queue.end(), [](const auto& item) {
      return item->phase == Phase::kReady && item->rollout.env != nullptr;
    }));
  }
  int live() const {
    return preparing + ready_with_sandbox() + handed_out + static_cast<int>(to_close.size() + reusable.size()) +
           closing;
  }
  bool has_pending(const std::shared_ptr<const Task>& task) const {
    return std::any_of(queue.begin(), queue.end(),
                       [&](const auto& item) { return item->phase == Phase::kPending && item->task == task; });
  }
  // Reusable environments no pending rollout can take go to be closed.
  void drop_unusable() {
    for (auto it = reusable.begin(); it != reusable.end();) {
      if (has_pending(it->first)) {
        ++it;
      } else {
        to_close.push_back(std::move(it->second));
        it = reusable.erase(it);
      }
    }
  }
  // The next rollout to prepare: the first pending one whose task has a
  // reusable environment (cheap), else the first pending one.
  std::shared_ptr<Item> next_to_prepare(std::unique_ptr<RepoEnv>& reuse) {
    for (auto r = reusable.begin(); r != reusable.end(); ++r) {
      for (const auto& item : queue) {
        if (item->phase == Phase::kPending && item->task == r->first) {
          reuse = std::move(r->second);
          reusable.erase(r);
          return item;
        }
      }
    }
    return next_pending();
  }
  std::shared_ptr<Item> next_pending() const {
    for (const auto& item : queue) {
      if (item->phase == Phase::kPending) return item;
    }
    return nullptr;
  }

  void record_episode(const EpisodeTimings& episode) {
    if (!episode.step_ms.empty()) first_step_ms.add(episode.step_ms.front());
    for (double ms : episode.step_ms) step_ms.add(ms);
    for (double ms : episode.grade_ms) grade_ms.add(ms);
    const long long step_count = static_cast<long long>(episode.step_ms.size());
    steps.agent_error += episode.agent_error_steps;
    steps.infra_error += episode.failed_steps;
    steps.ok += step_count - episode.agent_error_steps - episode.failed_steps;
    grades.ok += static_cast<long long>(episode.grade_ms.size());
    grades.infra_error += episode.failed_grades;
  }

  void run_thread();
  // options.fetch_image for the task's image unless fetched already; waits
  // for a pull slot, or for another thread fetching the same image.
  Status ensure_image(const Task& task, const Item& item);
  // Resets `reuse` (fast) or a new environment for `item`, retrying on new
  // ones as the options say; fills item->rollout. Called without the lock.
  void prepare(Item& item, std::unique_ptr<RepoEnv> reuse);
  // env.reset(), where shutdown() can cancel it; Cancelled when the
  // scheduler stopped or the batch was cancelled first. `ms`: its time.
  Result<Observation> reset_cancellable(RepoEnv& env, const Item& item, double& ms);
};

void RolloutScheduler::State::run_thread() {
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    drop_unusable();
    work_cv.wait(lock, [&] {
      return !to_close.empty() || stopping ||
             (next_pending() != nullptr && (live() < options.max_live || !reusable.empty()));
    });
    if (!to_close.empty()) {
      // Closing first: it frees a live slot.
      std::unique_ptr<RepoEnv> env = std::move(to_close.front());
      to_close.pop_front();
      ++closing;
      lock.unlock();
      const auto t0 = Clock::now();
      (void)env->close();
      env.reset();
      const double ms = MsSince(t0);
      lock.lock();
      --closing;
      teardown_ms.add(ms);
      work_cv.notify_all();
      continue;
    }
    if (stopping) {
      for (auto& [task, env] : reusable) to_close.push_back(std::move(env));
      reusable.clear();
      if (!to_close.empty()) continue;
      return;
    }
    std::unique_ptr<RepoEnv> reuse;
    std::shared_ptr<Item> item = next_to_prepare(reuse);
    if (!reuse && live() >= options.max_live) continue;  // only reusable ones for other tasks: wait
    item->phase = Phase::kPreparing;
    ++preparing;
    lock.unlock();
    prepare(*item, std::move(reuse));
    lock.lock();
    --preparing;
    if (item->cancelled || stopping) {
      if (item->rollout.env) to_close.push_back(std::move(item->rollout.env));
    } else {
      item->phase = Phase::kReady;
      ready_cv.notify_all();
    }
    work_cv.notify_all();
  }
}

Status RolloutScheduler::State::ensure_image(const Task& task, const Item& item) {
  if (!options.fetch_image) return Status::OK();
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    if (fetched.count(task.image)) return Status::OK();
    if (stopping || item.cancelled) return Status::Cancelled("the scheduler stopped or the batch was cancelled");
    if (!fetching.count(task.image) && static_cast<int>(fetching.size()) < options.max_concurrent_pulls) break;
    work_cv.wait(lock);
  }
  fetching.insert(task.image);
  lock.unlock();
  const auto t0 = Clock::now();
  Status s;
  try {  // the caller's code
    s = options.fetch_image(task);
  } catch (const std::exception& e) {
    s = Status::Internal(std::string("fetch_image threw: ") + e.what());
  } catch (...) {
    s = Status::Internal("fetch_image threw");
  }
  const double ms = MsSince(t0);
  lock.lock();
  fetching.erase(task.image);
  if (s.ok()) {
    fetched.insert(task.image);
    pull_ms.add(ms);
  }
  work_cv.notify_all();
  return s.WithContext("fetching image " + task.image);
}

Result<Observation> RolloutScheduler::State::reset_cancellable(RepoEnv& env, const Item& item, double& ms) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (stopping || item.cancelled) return Status::Cancelled("the scheduler stopped or the batch was cancelled");
    resetting.push_back(&env);
  }
  const auto t0 = Clock::now();
  auto obs = env.reset();
  ms = MsSince(t0);
  std::unique_lock<std::mutex> lock(mu);
  // shutdown() may be calling env.cancel() outside the lock: not before it is done.
  work_cv.wait(lock, [&] { return cancelling == 0; });
  resetting.erase(std::find(resetting.begin(), resetting.end(), &env));
  if (obs.ok()) {
    const ResetTimings& t = env.last_reset_timings();
    reset_ms.add(ms);
    start_ms.add(t.start_ms);
    setup_ms.add(t.setup_ms);
    tools_ms.add(t.tools_ms);
    ++prepared;
  }
  return obs;
}

void RolloutScheduler::State::prepare(Item& item, std::unique_ptr<RepoEnv> reuse) {
  Rollout& r = item.rollout;
  Status last;
  if (reuse) {
    double ms = 0;
    auto obs = reset_cancellable(*reuse, item, ms);  // fast; a new sandbox when the restore fails
    if (obs.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu);
        ++reused;
      }
      r.attempts = 1;
      r.outcome = RolloutOutcome::kOk;
      r.initial = std::move(*obs);
      r.env = std::move(reuse);
      return;
    }
    (void)reuse->close();  // then as a rollout of its own
  }
  for (int attempt = 1; attempt <= 1 + options.reset_retries; ++attempt) {
    if (attempt > 1) {
      std::unique_lock<std::mutex> lock(mu);
      ++retried;
      const auto backoff = options.retry_backoff * (1 << std::min(attempt - 2, 10));
      if (work_cv.wait_for(lock, backoff, [&] { return stopping || item.cancelled; })) break;
    }
    r.attempts = attempt;
    if (Status fetched_image = ensure_image(*item.task, item); !fetched_image.ok()) {
      last = fetched_image;
      continue;
    }
    Result<std::unique_ptr<RepoEnv>> env = Status::Internal("not made");
    try {  // the runtime factory is the caller's code
      env = RepoEnv::Create(*item.task, options.env);
    } catch (const std::exception& e) {
      env = Status::Internal(std::string("the runtime factory threw: ") + e.what());
    } catch (...) {
      env = Status::Internal("the runtime factory threw");
    }
    if (!env.ok()) {
      last = env.status();
      if (last.code() == StatusCode::kInvalidArgument) break;
      continue;
    }
    double ms = 0;
    auto obs = reset_cancellable(**env, item, ms);
    if (obs.ok()) {
      r.outcome = RolloutOutcome::kOk;
      r.status = Status::OK();
      r.initial = std::move(*obs);
      r.env = std::move(*env);
      return;
    }
    last = obs.status();
    (void)(*env)->close();
    if (last.code() == StatusCode::kInvalidArgument || last.code() == StatusCode::kCancelled) break;
  }
  r.outcome = RolloutOutcome::kInfraError;
  r.status = last.WithContext("preparing a rollout of " + item.task->instance_id + " (" +
                              std::to_string(r.attempts) + " attempt" + (r.attempts == 1 ? "" : "s") + ")");
}

RolloutScheduler::RolloutScheduler(std::unique_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<RolloutScheduler>> RolloutScheduler::Create(RolloutSchedulerOptions options) {
  if (options.max_live < 1) return Status::InvalidArgument("RolloutSchedulerOptions::max_live must be at least 1");
  if (options.max_concurrent_starts < 1) {
    return Status::InvalidArgument("RolloutSchedulerOptions::max_concurrent_starts must be at least 1");
  }
  if (options.reset_retries < 0) return Status::InvalidArgument("RolloutSchedulerOptions::reset_retries is negative");
  if (options.max_concurrent_pulls < 1) {
    return Status::InvalidArgument("RolloutSchedulerOptions::max_concurrent_pulls must be at least 1");
  }
  options.env.warm_pool = nullptr;
  if (options.reuse_sandboxes) options.env.fast_reset = true;
  auto state = std::make_unique<State>();
  state->options = std::move(options);
  State* s = state.get();
  try {
    for (int i = 0; i < s->options.max_concurrent_starts; ++i) s->threads.emplace_back([s] { s->run_thread(); });
  } catch (const std::system_error& e) {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->stopping = true;
      s->work_cv.notify_all();
    }
    for (auto& t : s->threads) t.join();
    return Status::ResourceExhausted(std::string("cannot start the scheduler's threads: ") + e.what());
  }
  return std::unique_ptr<RolloutScheduler>(new RolloutScheduler(std::move(state)));
}

RolloutScheduler::~RolloutScheduler() { shutdown(); }

Result<long long> RolloutScheduler::submit(std::vector<RolloutRequest> batch) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].group_size < 1) {
      return Status::InvalidArgument("rollout request " + std::to_string(i) + " (" + batch[i].task.instance_id +
                                     ") has group size " + std::to_string(batch[i].group_size) +
                                     "; it must be at least 1");
    }
  }
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.stopping) return Status::Cancelled("the rollout scheduler is shut down");
  const long long id = s.next_batch++;
  s.batches.insert(id);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto task = std::make_shared<const Task>(std::move(batch[i].task));
    for (int m = 0; m < batch[i].group_size; ++m) {
      auto item = std::make_shared<Item>();
      item->task = task;
      item->rollout.batch = id;
      item->rollout.task_index = static_cast<int>(i);
      item->rollout.member = m;
      s.queue.push_back(std::move(item));
      ++s.submitted;
    }
  }
  s.work_cv.notify_all();
  return id;
}

Result<Rollout> RolloutScheduler::acquire(std::chrono::milliseconds timeout) {
  State& s = *state_;
  const auto t0 = Clock::now();
  const auto deadline = t0 + timeout;
  std::unique_lock<std::mutex> lock(s.mu);
  for (;;) {
    if (s.stopping) return Status::Cancelled("the rollout scheduler is shut down");
    if (s.queue.empty()) return Status::NotFound("no submitted rollout is left to hand out; submit() a batch first");
    std::shared_ptr<Item> front = s.queue.front();
    if (front->phase == Phase::kReady) {
      s.queue.pop_front();
      Rollout r = std::move(front->rollout);
      if (r.env) {
        ++s.handed_out;
        if (s.options.reuse_sandboxes) s.task_of[r.env.get()] = front->task;
      } else {
        ++s.infra_errors;
      }
      s.acquire_ms.add(MsSince(t0));
      s.work_cv.notify_all();
      return r;
    }
    if (s.ready_cv.wait_until(lock, deadline) == std::cv_status::timeout && Clock::now() >= deadline) {
      return Status::Timeout("the next rollout (" + front->task->instance_id + ") was not ready within " +
                             std::to_string(timeout.count()) + " ms");
    }
  }
}

void RolloutScheduler::release(std::unique_ptr<RepoEnv> env) {
  if (!env) return;
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  s.handed_out = std::max(0, s.handed_out - 1);
  ++s.released;
  s.record_episode(env->episode_timings());
  if (s.stopping) {
    s.task_of.erase(env.get());
    lock.unlock();
    (void)env->close();
    return;
  }
  std::shared_ptr<const Task> task;
  if (auto it = s.task_of.find(env.get()); it != s.task_of.end()) {
    task = std::move(it->second);
    s.task_of.erase(it);
  }
  if (task && s.has_pending(task)) {
    s.reusable.emplace_back(std::move(task), std::move(env));
  } else {
    s.to_close.push_back(std::move(env));
  }
  s.work_cv.notify_all();
}

Status RolloutScheduler::cancel(long long batch) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.batches.count(batch)) return Status::NotFound("no batch " + std::to_string(batch) + " was submitted");
  for (auto it = s.queue.begin(); it != s.queue.end();) {
    Item& item = **it;
    if (item.rollout.batch != batch) {
      ++it;
      continue;
    }
    if (item.phase == Phase::kPreparing) item.cancelled = true;  // its thread closes it
    if (item.phase == Phase::kReady && item.rollout.env) s.to_close.push_back(std::move(item.rollout.env));
    ++s.cancelled;
    it = s.queue.erase(it);
  }
  s.drop_unusable();  // kept for rollouts of this batch that are gone now
  s.work_cv.notify_all();
  s.ready_cv.notify_all();
  return Status::OK();
}

void RolloutScheduler::shutdown() {
  State& s = *state_;
  // A second caller waits for the first to finish.
  std::lock_guard<std::mutex> one_at_a_time(s.shutdown_mu);
  std::vector<std::unique_ptr<RepoEnv>> ready;
  std::vector<RepoEnv*> resetting;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.stopping && s.threads.empty()) return;
    s.stopping = true;
    resetting = s.resetting;
    ++s.cancelling;  // they stay alive until cancel() below is done
    for (auto& item : s.queue) {
      if (item->phase == Phase::kReady && item->rollout.env) ready.push_back(std::move(item->rollout.env));
      item->cancelled = true;
    }
    s.queue.clear();
    s.work_cv.notify_all();
    s.ready_cv.notify_all();
  }
  // Blocking calls (a runtime's stop), outside the lock.
  for (RepoEnv* env : resetting) env->cancel();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    --s.cancelling;
    s.work_cv.notify_all();
  }
  for (auto& env : ready) (void)env->close();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    threads.swap(s.threads);
  }
  // The threads close what they prepare or hold, then end.
  for (auto& t : threads) t.join();
}

RolloutStats RolloutScheduler::stats() const {
  const State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  RolloutStats out;
  out.live = s.live();
  out.preparing = s.preparing;
  out.ready = s.ready_with_sandbox();
  out.handed_out = s.handed_out;
  out.pending = static_cast<int>(
      std::count_if(s.queue.begin(), s.queue.end(), [](const auto& item) { return item->phase == Phase::kPending; }));
  out.submitted = s.submitted;
  out.prepared = s.prepared;
  out.retried = s.retried;
  out.infra_errors = s.infra_errors;
  out.cancelled = s.cancelled;
  out.released = s.released;
  out.reused = s.reused;
  out.pull = s.pull_ms.summary();
  out.reset = s.reset_ms.summary();
  out.start = s.start_ms.summary();
  out.setup = s.setup_ms.summary();
  out.tools = s.tools_ms.summary();
  out.acquire_wait = s.acquire_ms.summary();
  out.teardown = s.teardown_ms.summary();
  out.first_step = s.first_step_ms.summary();
  out.step = s.step_ms.summary();
  out.grade = s.grade_ms.summary();
  out.steps = s.steps;
  out.grades = s.grades;
  return out;
}

}  // namespace r2e
