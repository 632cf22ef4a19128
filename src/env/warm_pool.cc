#include "r2e/warm_pool.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "r2e/session.h"

namespace r2e {

namespace {

struct Idle {
  WarmSandbox sandbox;
  Clock::time_point ready_at;
  Clock::time_point checked_at;
};

}  // namespace

struct WarmPool::State {
  SandboxSpec spec;
  RuntimeFactory factory;
  SandboxPreparer prepare;
  WarmPoolOptions options;

  mutable std::mutex mu;
  std::condition_variable work_cv;   // wakes the background threads
  std::condition_variable ready_cv;  // wakes acquire() and wait_ready()
  std::deque<Idle> ready;            // oldest first: acquire() keeps idle ages short
  int preparing = 0;
  std::vector<Runtime*> in_preparation;  // so shutdown() can abort them
  std::deque<std::unique_ptr<Runtime>> retiring;
  int deleting = 0;
  bool stopping = false;
  bool checking = false;  // one thread runs the health check at a time
  // hold_background(): while `holds` > 0 and before `held_until`, no new
  // deletion, check or preparation starts, unless acquire() waits (`waiting`).
  int holds = 0;
  Clock::time_point held_until{};
  int waiting = 0;
  Clock::time_point next_attempt{};
  std::chrono::milliseconds backoff{0};
  long long failure_seq = 0;
  Status last_failure;
  WarmPoolStats counters;
  std::vector<std::thread> threads;

  void run();
  void prepare_one(std::unique_lock<std::mutex>& lock);
  void check_one(std::unique_lock<std::mutex>& lock, Clock::time_point now);
  int deficit() const { return options.size - static_cast<int>(ready.size()) - preparing; }
};

// Each thread deletes first (frees resources and keeps the pool's footprint
// bounded), then replaces expired sandboxes, checks idle ones, and refills.
void WarmPool::State::run() {
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    if (!stopping && holds > 0 && waiting == 0 && Clock::now() < held_until) {
      work_cv.wait_until(lock, held_until);
      continue;
    }
    if (!retiring.empty()) {
      std::unique_ptr<Runtime> rt = std::move(retiring.front());
      retiring.pop_front();
      ++deleting;
      lock.unlock();
      rt->stop();
      rt.reset();
      lock.lock();
      --deleting;
      ready_cv.notify_all();  // shutdown() waits for deletions
      continue;
    }
    if (stopping) return;
    const auto now = Clock::now();
    if (!ready.empty() && now - ready.front().ready_at > options.max_idle) {
      retiring.push_back(std::move(ready.front().sandbox.runtime));
      ready.pop_front();
      ++counters.replaced_idle;
      continue;
    }
    if (!checking && !ready.empty()) {
      auto oldest = std::min_element(ready.begin(), ready.end(), [](const Idle& a, const Idle& b) {
        return a.checked_at < b.checked_at;
      });
      if (now - oldest->checked_at >= options.health_interval) {
        check_one(lock, now);
        continue;
      }
    }
    if (deficit() > 0 && now >= next_attempt) {
      prepare_one(lock);
      continue;
    }
    // Sleep until the next thing that is due: a health check, an expiry, a retry.
    Clock::time_point wake = now + options.health_interval;
    if (!ready.empty()) {
      wake = std::min(wake, ready.front().ready_at + options.max_idle);
      for (const Idle& i : ready) wake = std::min(wake, i.checked_at + options.health_interval);
    }
    if (deficit() > 0) wake = std::min(wake, next_attempt);
    work_cv.wait_until(lock, std::max(wake, now + std::chrono::milliseconds(1)));
  }
}

void WarmPool::State::check_one(std::unique_lock<std::mutex>& lock, Clock::time_point now) {
  // Take it out while checking, so acquire() never hands out a sandbox whose
  // runtime another thread is using.
  auto it = std::min_element(ready.begin(), ready.end(), [](const Idle& a, const Idle& b) {
    return a.checked_at < b.checked_at;
  });
  Idle idle = std::move(*it);
  ready.erase(it);
  checking = true;
  ++preparing;  // still counts against the size while out of the list
  lock.unlock();
  bool alive = false;
  try {
    alive = idle.sandbox.runtime->alive();
  } catch (const std::exception&) {
    alive = false;
  }
  lock.lock();
  --preparing;
  checking = false;
  if (!alive || stopping) {
    if (!alive) ++counters.replaced_dead;
    retiring.push_back(std::move(idle.sandbox.runtime));
  } else {
    idle.checked_at = now;
    auto pos = std::find_if(ready.begin(), ready.end(),
                            [&](const Idle& i) { return i.ready_at > idle.ready_at; });
    ready.insert(pos, std::move(idle));
    ready_cv.notify_all();
  }
  work_cv.notify_all();
}

void WarmPool::State::prepare_one(std::unique_lock<std::mutex>& lock) {
  ++preparing;
  lock.unlock();
  Status status;
  WarmSandbox sb;
  try {
    auto made = factory();
    if (!made.ok()) {
      status = made.status().WithContext("making a runtime");
    } else if (!*made) {
      status = Status::Internal("the runtime factory returned no runtime");
    } else {
      sb.runtime = std::move(made).value();
      lock.lock();
      const bool stop_now = stopping;
      if (!stop_now) in_preparation.push_back(sb.runtime.get());
      lock.unlock();
      if (stop_now) {
        status = Status::Cancelled("warm pool is shutting down");
      } else {
        status = sb.runtime->start(spec).WithContext("starting a sandbox");
        if (status.ok()) {
          status = prepare(sb).WithContext("preparing a sandbox");
        }
        lock.lock();
        in_preparation.erase(std::find(in_preparation.begin(), in_preparation.end(), sb.runtime.get()));
        lock.unlock();
      }
    }
  } catch (const std::exception& e) {
    status = Status::Internal(std::string("preparing a sandbox threw: ") + e.what());
  }
  if (!status.ok() && sb.runtime) {
    sb.runtime->stop();
    sb.runtime.reset();
  }
  lock.lock();
  --preparing;
  if (!status.ok()) {
    if (!stopping) {
      ++counters.failed;
      ++failure_seq;
      last_failure = status;
      counters.last_error = status.ToString();
      backoff = backoff.count() == 0 ? options.retry_backoff
                                     : std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(30));
      next_attempt = Clock::now() + backoff;
    }
  } else if (stopping) {
    retiring.push_back(std::move(sb.runtime));
  } else {
    backoff = std::chrono::milliseconds(0);
    ++counters.created;
    const auto now = Clock::now();
    ready.push_back({std::move(sb), now, now});
  }
  ready_cv.notify_all();
  work_cv.notify_all();
}

Result<std::shared_ptr<WarmPool>> WarmPool::Create(SandboxSpec spec, RuntimeFactory factory,
                                                   SandboxPreparer prepare, WarmPoolOptions options) {
  if (!factory) return Status::InvalidArgument("warm pool needs a runtime factory");
  if (!prepare) return Status::InvalidArgument("warm pool needs a sandbox preparer");
  if (options.size < 1) return Status::InvalidArgument("warm pool size must be at least 1");
  if (options.refill_concurrency < 1) {
    return Status::InvalidArgument("warm pool refill_concurrency must be at least 1");
  }
  if (options.health_interval.count() <= 0) {
    return Status::InvalidArgument("warm pool health_interval must be positive");
  }
  if (options.max_idle.count() <= 0) return Status::InvalidArgument("warm pool max_idle must be positive");
  auto state = std::make_unique<State>();
  state->spec = std::move(spec);
  state->factory = std::move(factory);
  state->prepare = std::move(prepare);
  state->options = std::move(options);
  std::shared_ptr<WarmPool> pool(new WarmPool(std::move(state)));
  State* s = pool->state_.get();
  for (int i = 0; i < s->options.refill_concurrency; ++i) s->threads.emplace_back([s] { s->run(); });
  return pool;
}

WarmPool::WarmPool(std::unique_ptr<State> state) : state_(std::move(state)) {}

WarmPool::~WarmPool() { shutdown(); }

Result<WarmSandbox> WarmPool::acquire(std::chrono::milliseconds timeout) {
  State& s = *state_;
  const auto deadline = Clock::now() + timeout;
  std::unique_lock<std::mutex> lock(s.mu);
  const long long failures_before = s.failure_seq;
  for (;;) {
    if (s.stopping) return Status::Cancelled("warm pool is shut down");
    if (!s.ready.empty()) {
      WarmSandbox sb = std::move(s.ready.front().sandbox);
      s.ready.pop_front();
      s.work_cv.notify_one();  // refill its place now
      if (!s.options.probe_on_acquire) {
        ++s.counters.handed_out;
        return sb;
      }
      lock.unlock();
      ExecOptions probe;
      probe.timeout = s.options.probe_timeout;
      auto r = sb.runtime->exec("true", probe);
      lock.lock();
      if (r.ok() && r->success()) {
        ++s.counters.handed_out;
        return sb;
      }
      // Died since its last health check: replace it and take the next.
      ++s.counters.replaced_dead;
      if (s.stopping) {
        lock.unlock();
        sb.runtime->stop();
        lock.lock();
      } else {
        s.retiring.push_back(std::move(sb.runtime));
      }
      s.work_cv.notify_all();
      continue;
    }
    if (s.failure_seq != failures_before) {
      return s.last_failure.WithContext("the warm pool could not prepare a sandbox");
    }
    // A hold does not keep the pool from preparing the sandbox this call waits for.
    ++s.waiting;
    s.work_cv.notify_all();
    const bool timed_out = s.ready_cv.wait_until(lock, deadline) == std::cv_status::timeout;
    --s.waiting;
    if (timed_out && s.ready.empty() && s.failure_seq == failures_before) {
      return Status::Timeout("no warm sandbox became ready within " + std::to_string(timeout.count()) +
                             " ms (" + std::to_string(s.preparing) + " being prepared)");
    }
  }
}

std::shared_ptr<void> WarmPool::hold_background(std::chrono::milliseconds at_most) {
  State& s = *state_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    ++s.holds;
    s.held_until = std::max(s.held_until, Clock::now() + at_most);
  }
  // Released by the last copy of the token; `state_` outlives it (the token
  // keeps the pool).
  return std::shared_ptr<void>(nullptr, [pool = shared_from_this()](void*) {
    State& st = *pool->state_;
    std::lock_guard<std::mutex> lock(st.mu);
    if (--st.holds == 0) st.held_until = Clock::time_point{};
    st.work_cv.notify_all();
  });
}

void WarmPool::retire(std::unique_ptr<Runtime> runtime) {
  if (!runtime) return;
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  if (s.stopping) {
    lock.unlock();
    runtime->stop();
    return;
  }
  s.retiring.push_back(std::move(runtime));
  s.work_cv.notify_one();
}

Status WarmPool::wait_ready(int count, std::chrono::milliseconds timeout) {
  State& s = *state_;
  const auto deadline = Clock::now() + timeout;
  count = std::min(count, s.options.size);
  std::unique_lock<std::mutex> lock(s.mu);
  const long long failures_before = s.failure_seq;
  while (static_cast<int>(s.ready.size()) < count) {
    if (s.stopping) return Status::Cancelled("warm pool is shut down");
    if (s.failure_seq != failures_before) {
      return s.last_failure.WithContext("the warm pool could not prepare a sandbox");
    }
    if (s.ready_cv.wait_until(lock, deadline) == std::cv_status::timeout &&
        static_cast<int>(s.ready.size()) < count) {
      return Status::Timeout(std::to_string(s.ready.size()) + " of " + std::to_string(count) +
                             " warm sandboxes ready after " + std::to_string(timeout.count()) + " ms");
    }
  }
  return Status::OK();
}

void WarmPool::shutdown() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  if (!s.stopping) {
    s.stopping = true;
    // Abort preparations in flight (their exec returns Cancelled; a start in
    // progress finishes and is then removed). Under the lock, so the
    // preparing thread cannot drop the runtime meanwhile.
    for (Runtime* rt : s.in_preparation) rt->stop();
    // The threads delete the idle ones in parallel before they exit.
    for (Idle& i : s.ready) s.retiring.push_back(std::move(i.sandbox.runtime));
    s.ready.clear();
    s.work_cv.notify_all();
    s.ready_cv.notify_all();
  }
  std::vector<std::thread> threads = std::move(s.threads);
  s.threads.clear();
  lock.unlock();
  for (std::thread& t : threads) {
    if (t.joinable()) t.join();
  }
  // A sandbox retired by an in-flight preparation after the threads left.
  lock.lock();
  while (!s.retiring.empty()) {
    std::unique_ptr<Runtime> rt = std::move(s.retiring.front());
    s.retiring.pop_front();
    lock.unlock();
    rt->stop();
    lock.lock();
  }
}

WarmPoolStats WarmPool::stats() const {
  const State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  WarmPoolStats out = s.counters;
  out.ready = static_cast<int>(s.ready.size());
  out.preparing = s.preparing;
  out.retiring = static_cast<int>(s.retiring.size()) + s.deleting;
  return out;
}

const SandboxSpec& WarmPool::spec() const { return state_->spec; }
const WarmPoolOptions& WarmPool::options() const { return state_->options; }

}  // namespace r2e
