#include "r2e/env_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace r2e {

namespace {

struct Request {
  int env_id = -1;
  EnvResult::Kind kind = EnvResult::Kind::kStep;
  Action action;
  std::uint64_t seq = 0;
};

struct Done {
  std::uint64_t seq = 0;
  EnvResult result;
};

}  // namespace

struct EnvPool::State {
  // Written under mu (close() reads them there); read without it only by the
  // worker running the slot's request.
  std::vector<std::unique_ptr<RepoEnv>> envs;
  RolloutScheduler* scheduler = nullptr;  // feeds the slots when set
  EnvPoolOptions options;
  int batch_size = 0;

  mutable std::mutex mu;
  std::condition_variable work_cv;
  std::condition_variable done_cv;
  std::deque<Request> queue;
  std::vector<Done> completed;   // in completion order
  std::vector<char> busy;        // env has a request not yet returned by recv()
  std::vector<char> running;     // a worker is inside the env now
  int outstanding = 0;           // sent, not yet returned by recv()
  std::uint64_t next_seq = 0;
  bool closing = false;
  std::vector<std::thread> threads;

  void work();
  EnvResult execute(const Request& req);
  Status reset_slot(int slot, std::optional<Observation>& observation,
                    std::optional<SlotRollout>& rollout);
  Status next_rollout(int slot, std::optional<Observation>& observation,
                      std::optional<SlotRollout>& rollout);
  Status enqueue(std::vector<Request> requests, std::vector<std::uint64_t>* seqs);
  std::vector<EnvResult> take(std::vector<Done> done);
};

void EnvPool::State::work() {
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    work_cv.wait(lock, [&] { return closing || !queue.empty(); });
    if (closing) return;
    Request req = std::move(queue.front());
    queue.pop_front();
    running[req.env_id] = 1;
    lock.unlock();
    EnvResult r;
    try {
      r = execute(req);
    } catch (const std::exception& e) {
      // RepoEnv does not throw; this guards the batch against a bug or bad_alloc.
      r.env_id = req.env_id;
      r.kind = req.kind;
      r.status = Status::Internal(std::string("environment threw: ") + e.what());
    }
    lock.lock();
    running[req.env_id] = 0;
    completed.push_back({req.seq, std::move(r)});
    done_cv.notify_all();
  }
}

EnvResult EnvPool::State::execute(const Request& req) {
  EnvResult r;
  r.env_id = req.env_id;
  r.kind = req.kind;
  if (req.kind == EnvResult::Kind::kReset) {
    r.status = reset_slot(req.env_id, r.observation, r.rollout);
    return r;
  }
  if (!envs[static_cast<std::size_t>(req.env_id)]) {
    r.status =
        Status::FailedPrecondition("slot " + std::to_string(req.env_id) +
                                   " holds no environment (never reset, or its last reset failed); "
                                   "send_reset() it first");
    return r;
  }
  RepoEnv& env = *envs[static_cast<std::size_t>(req.env_id)];
  auto stepped = env.step(req.action, options.step_timeout);
  if (!stepped.ok()) {
    r.status = stepped.status();
    return r;
  }
  r.step = std::move(stepped).value();
  if (!r.step.done) return r;
  if (options.reward_on_done) {
    const auto t0 = std::chrono::steady_clock::now();
    auto reward = env.compute_reward();
    r.step.info.reward_time = std::chrono::steady_clock::now() - t0;
    if (reward.ok()) {
      r.step.reward = *reward;
    } else {
      r.status = reward.status().WithContext("compute_reward after the final step");
    }
  }
  if (options.auto_reset) {
    if (Status s = reset_slot(req.env_id, r.observation, r.rollout); !s.ok()) {
      r.reset_status = s.WithContext("auto reset");
    }
  }
  return r;
}

Status EnvPool::State::reset_slot(int slot, std::optional<Observation>& observation,
                                  std::optional<SlotRollout>& rollout) {
  if (scheduler) return next_rollout(slot, observation, rollout);
  auto obs = envs[static_cast<std::size_t>(slot)]->reset();
  if (!obs.ok()) return obs.status();
  observation = std::move(obs).value();
  return Status::OK();
}

// The slot's environment back to the scheduler, the next rollout in. The
// wait is cut into short acquires so that close() ends it promptly.
Status EnvPool::State::next_rollout(int slot, std::optional<Observation>& observation,
                                    std::optional<SlotRollout>& rollout) {
  std::unique_ptr<RepoEnv> previous;
  {
    std::lock_guard<std::mutex> lock(mu);
    previous = std::move(envs[static_cast<std::size_t>(slot)]);
  }
  scheduler->release(std::move(previous));
  const auto deadline = std::chrono::steady_clock::now() + options.acquire_timeout;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (closing) {
        return Status::Cancelled("EnvPool was closed while slot " + std::to_string(slot) +
                                 " waited for a rollout");
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Status::Timeout("no rollout was ready for slot " + std::to_string(slot) + " within " +
                             std::to_string(options.acquire_timeout.count()) + " ms");
    }
    auto next = scheduler->acquire(std::min(left, std::chrono::milliseconds(100)));
    if (!next.ok()) {
      if (next.status().code() == StatusCode::kTimeout) continue;
      return next.status();
    }
    rollout =
        SlotRollout{next->batch, next->task_index, next->member, next->outcome, next->attempts};
    if (next->outcome == RolloutOutcome::kInfraError) {
      return next->status.WithContext("rollout (batch " + std::to_string(next->batch) + ", task " +
                                      std::to_string(next->task_index) + ", member " +
                                      std::to_string(next->member) + ") could not be prepared");
    }
    observation = std::move(next->initial);
    std::lock_guard<std::mutex> lock(mu);
    envs[static_cast<std::size_t>(slot)] = std::move(next->env);
    return Status::OK();
  }
}

Status EnvPool::State::enqueue(std::vector<Request> requests, std::vector<std::uint64_t>* seqs) {
  std::lock_guard<std::mutex> lock(mu);
  if (closing) return Status::Cancelled("EnvPool is closed");
  std::vector<char> seen(envs.size(), 0);
  for (const Request& r : requests) {
    if (r.env_id < 0 || r.env_id >= static_cast<int>(envs.size())) {
      return Status::InvalidArgument("env id " + std::to_string(r.env_id) + " is out of range [0, " +
                                     std::to_string(envs.size()) + ")");
    }
    if (busy[r.env_id] || seen[r.env_id]) {
      return Status::InvalidArgument("env " + std::to_string(r.env_id) +
                                     " already has a request in flight; recv() its result first");
    }
    seen[r.env_id] = 1;
  }
  for (Request& r : requests) {
    r.seq = next_seq++;
    if (seqs) seqs->push_back(r.seq);
    busy[r.env_id] = 1;
    ++outstanding;
    queue.push_back(std::move(r));
  }
  work_cv.notify_all();
  return Status::OK();
}

// Called with mu held: hands results to the caller and frees their envs.
std::vector<EnvResult> EnvPool::State::take(std::vector<Done> done) {
  std::vector<EnvResult> out;
  out.reserve(done.size());
  for (Done& d : done) {
    busy[d.result.env_id] = 0;
    --outstanding;
    out.push_back(std::move(d.result));
  }
  return out;
}

namespace {

Status CheckOptions(int n, const EnvPoolOptions& options) {
  if (options.batch_size < 0 || options.batch_size > n) {
    return Status::InvalidArgument("batch_size must be between 1 and the number of environments (" +
                                   std::to_string(n) + "), or 0 for all");
  }
  if (options.num_threads < 0) return Status::InvalidArgument("num_threads must not be negative");
  if (options.step_timeout && options.step_timeout->count() <= 0) {
    return Status::InvalidArgument("step_timeout must be positive (std::nullopt: each environment's own)");
  }
  if (options.acquire_timeout.count() <= 0) return Status::InvalidArgument("acquire_timeout must be positive");
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<EnvPool>> EnvPool::Create(std::vector<std::unique_ptr<RepoEnv>> envs,
                                                 EnvPoolOptions options) {
  if (envs.empty()) return Status::InvalidArgument("EnvPool needs at least one environment");
  for (std::size_t i = 0; i < envs.size(); ++i) {
    if (!envs[i]) return Status::InvalidArgument("environment " + std::to_string(i) + " is null");
  }
  R2E_RETURN_IF_ERROR(CheckOptions(static_cast<int>(envs.size()), options));
  auto state = std::make_unique<State>();
  state->envs = std::move(envs);
  return Start(std::move(state), options);
}

Result<std::unique_ptr<EnvPool>> EnvPool::Create(RolloutScheduler& scheduler, int slots,
                                                 EnvPoolOptions options) {
  if (slots < 1) return Status::InvalidArgument("EnvPool needs at least one slot");
  R2E_RETURN_IF_ERROR(CheckOptions(slots, options));
  auto state = std::make_unique<State>();
  state->envs.resize(static_cast<std::size_t>(slots));
  state->scheduler = &scheduler;
  return Start(std::move(state), options);
}

std::unique_ptr<EnvPool> EnvPool::Start(std::unique_ptr<State> state, EnvPoolOptions options) {
  const int n = static_cast<int>(state->envs.size());
  state->batch_size = options.batch_size == 0 ? n : options.batch_size;
  int threads = options.num_threads;
  if (threads == 0) {
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::min({2 * hw, 16, n});
  }
  state->options = options;
  state->options.num_threads = threads;
  state->busy.assign(state->envs.size(), 0);
  state->running.assign(state->envs.size(), 0);
  State* s = state.get();
  for (int i = 0; i < threads; ++i) s->threads.emplace_back([s] { s->work(); });
  return std::unique_ptr<EnvPool>(new EnvPool(std::move(state)));
}

EnvPool::EnvPool(std::unique_ptr<State> state) : state_(std::move(state)) {}

EnvPool::~EnvPool() {
  close();
  State& s = *state_;
  if (s.scheduler) {  // its environments: the scheduler closes them in the background
    for (auto& env : s.envs) s.scheduler->release(std::move(env));
    return;
  }
  // Closing a sandbox can take a daemon round trip: close them in parallel.
  std::atomic<std::size_t> next{0};
  auto closer = [&] {
    for (std::size_t i = next++; i < s.envs.size(); i = next++) {
      s.envs[i]->close();
      s.envs[i].reset();
    }
  };
  std::vector<std::thread> closers;
  for (int i = 1; i < s.options.num_threads; ++i) closers.emplace_back(closer);
  closer();
  for (auto& t : closers) t.join();
}

Status EnvPool::send(const std::vector<Action>& actions, const std::vector<int>& env_ids) {
  if (actions.size() != env_ids.size()) {
    return Status::InvalidArgument("send() got " + std::to_string(actions.size()) + " actions for " +
                                   std::to_string(env_ids.size()) + " env ids");
  }
  std::vector<Request> requests(actions.size());
  for (std::size_t i = 0; i < actions.size(); ++i) {
    requests[i].env_id = env_ids[i];
    requests[i].kind = EnvResult::Kind::kStep;
    requests[i].action = actions[i];
  }
  return state_->enqueue(std::move(requests), nullptr);
}

Status EnvPool::send_reset(const std::vector<int>& env_ids) {
  std::vector<Request> requests;
  if (env_ids.empty()) {
    for (int i = 0; i < size(); ++i) requests.push_back({i, EnvResult::Kind::kReset, {}, 0});
  } else {
    for (int id : env_ids) requests.push_back({id, EnvResult::Kind::kReset, {}, 0});
  }
  return state_->enqueue(std::move(requests), nullptr);
}

Result<std::vector<EnvResult>> EnvPool::recv(std::chrono::milliseconds timeout) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  if (s.closing) return Status::Cancelled("EnvPool is closed");
  if (s.outstanding == 0) return Status::FailedPrecondition("recv() with no request in flight; send() first");
  const std::size_t want = static_cast<std::size_t>(std::min(s.batch_size, s.outstanding));
  auto ready = [&] { return s.closing || s.completed.size() >= want; };
  if (timeout.count() > 0) {
    if (!s.done_cv.wait_for(lock, timeout, ready)) {
      return Status::Timeout(std::to_string(s.completed.size()) + " of " + std::to_string(want) +
                             " results ready after " + std::to_string(timeout.count()) + " ms");
    }
  } else {
    s.done_cv.wait(lock, ready);
  }
  if (s.closing) return Status::Cancelled("EnvPool was closed while recv() waited");
  const bool sync = s.batch_size == static_cast<int>(s.envs.size());
  if (sync) {
    // Request order: the earliest-sent requests, sorted.
    std::stable_sort(s.completed.begin(), s.completed.end(),
                     [](const Done& a, const Done& b) { return a.seq < b.seq; });
  }
  std::vector<Done> batch(std::make_move_iterator(s.completed.begin()),
                          std::make_move_iterator(s.completed.begin() + static_cast<std::ptrdiff_t>(want)));
  s.completed.erase(s.completed.begin(), s.completed.begin() + static_cast<std::ptrdiff_t>(want));
  return s.take(std::move(batch));
}

Result<std::vector<EnvResult>> EnvPool::step(const std::vector<Action>& actions, const std::vector<int>& env_ids) {
  if (actions.size() != env_ids.size()) {
    return Status::InvalidArgument("step() got " + std::to_string(actions.size()) + " actions for " +
                                   std::to_string(env_ids.size()) + " env ids");
  }
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->outstanding > 0) {
      return Status::FailedPrecondition("step() while requests are in flight; recv() them first");
    }
  }
  R2E_RETURN_IF_ERROR(send(actions, env_ids));
  std::vector<EnvResult> out;
  while (out.size() < actions.size()) {
    R2E_ASSIGN_OR_RETURN(auto part, recv());
    for (auto& r : part) out.push_back(std::move(r));
  }
  // Back into the order of env_ids (each id appears once).
  std::vector<EnvResult> ordered;
  ordered.reserve(out.size());
  for (int id : env_ids) {
    auto it = std::find_if(out.begin(), out.end(), [&](const EnvResult& r) { return r.env_id == id; });
    ordered.push_back(std::move(*it));
  }
  return ordered;
}

Result<std::vector<EnvResult>> EnvPool::reset(const std::vector<int>& env_ids) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->outstanding > 0) {
      return Status::FailedPrecondition("reset() while requests are in flight; recv() them first");
    }
  }
  std::vector<int> ids = env_ids;
  if (ids.empty()) {
    for (int i = 0; i < size(); ++i) ids.push_back(i);
  }
  R2E_RETURN_IF_ERROR(send_reset(ids));
  std::vector<EnvResult> out;
  while (out.size() < ids.size()) {
    R2E_ASSIGN_OR_RETURN(auto part, recv());
    for (auto& r : part) out.push_back(std::move(r));
  }
  std::vector<EnvResult> ordered;
  for (int id : ids) {
    auto it = std::find_if(out.begin(), out.end(), [&](const EnvResult& r) { return r.env_id == id; });
    ordered.push_back(std::move(*it));
  }
  return ordered;
}

void EnvPool::close() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  if (!s.closing) {
    s.closing = true;
    s.queue.clear();
    // Interrupt what runs now: each such step or reset returns an error soon.
    for (std::size_t i = 0; i < s.envs.size(); ++i) {
      if (s.running[i] && s.envs[i]) s.envs[i]->cancel();
    }
    s.work_cv.notify_all();
    s.done_cv.notify_all();
  }
  std::vector<std::thread> threads = std::move(s.threads);
  s.threads.clear();
  lock.unlock();
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
}

int EnvPool::size() const { return static_cast<int>(state_->envs.size()); }
int EnvPool::num_threads() const { return state_->options.num_threads; }

int EnvPool::in_flight() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->outstanding;
}

RepoEnv& EnvPool::env(int env_id) {
  const auto& slot = state_->envs.at(static_cast<std::size_t>(env_id));
  if (!slot)
    throw std::logic_error("EnvPool slot " + std::to_string(env_id) + " holds no environment");
  return *slot;
}

bool EnvPool::has_env(int env_id) const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->envs.at(static_cast<std::size_t>(env_id)) != nullptr;
}

}  // namespace r2e
