// The Python module's EnvPool and RolloutScheduler (see binding.h).
#include <pybind11/stl.h>

#include <set>

#include "binding.h"
#include "r2e/env_pool.h"
#include "r2e/rollout_scheduler.h"
#include "r2e/rollout_stats.h"
#include "r2e/runtimes.h"

namespace r2e::python {
namespace {

// One result of an EnvPool request, as Python reads it.
struct PyEnvResult {
  int env_id = -1;
  std::string kind;        // "step" or "reset"
  py::object error;        // r2e.Error or None: the request failed
  py::object observation;  // Observation or None
  double reward = 0;
  bool done = false;
  py::object info;         // dict, for steps
  py::object reset_error;  // auto reset's failure, or None
  py::object rollout;      // fed from a scheduler: which rollout the slot took, or None
};

PyEnvResult ResultToPython(EnvResult r) {
  PyEnvResult out;
  out.env_id = r.env_id;
  out.kind = r.kind == EnvResult::Kind::kStep ? "step" : "reset";
  out.error = ErrorOf(r.status);
  out.reset_error = ErrorOf(r.reset_status);
  out.observation = py::none();
  out.info = py::none();
  out.rollout = py::none();
  if (r.rollout) {
    py::dict rollout;
    rollout["batch"] = r.rollout->batch;
    rollout["task_index"] = r.rollout->task_index;
    rollout["member"] = r.rollout->member;
    rollout["outcome"] = std::string(RolloutOutcomeName(r.rollout->outcome));
    rollout["attempts"] = r.rollout->attempts;
    out.rollout = rollout;
  }
  if (r.kind == EnvResult::Kind::kStep && (r.status.ok() || r.step.info.step > 0)) {
    // A step that ran (its reward may still have failed: then `error`).
    out.observation = py::cast(r.step.observation);
    out.reward = r.step.reward;
    out.done = r.step.done;
    out.info = InfoDict(r.step.info);
  }
  // A reset's observation, or an auto reset's next one (in `info` terms:
  // the step's observation stays `observation`).
  if (r.observation) {
    if (r.kind == EnvResult::Kind::kReset) {
      out.observation = py::cast(*r.observation);
    } else {
      if (out.info.is_none()) out.info = py::dict();
      out.info["next_observation"] = py::cast(*r.observation);
    }
  }
  return out;
}

EnvPoolOptions PoolOptionsOf(int batch_size, int num_threads, bool auto_reset,
                             bool reward_on_done) {
  EnvPoolOptions options;
  options.batch_size = batch_size;
  options.num_threads = num_threads;
  options.auto_reset = auto_reset;
  options.reward_on_done = reward_on_done;
  return options;
}

// A RolloutScheduler held by Python; each call that waits without the GIL
// keeps the shared_ptr, so close() from another thread cannot free it.
class PyRolloutScheduler : public ClosedAtExit {
 public:
  PyRolloutScheduler(const std::string& backend, double step_timeout, double reward_timeout,
                     const std::string& tool_set, const std::optional<std::string>& base_dir,
                     int max_live, int max_concurrent_starts, int reset_retries,
                     bool reuse_sandboxes)
      : ClosedAtExit(Rank::kScheduler), base_dir_(base_dir) {
    RolloutSchedulerOptions options;
    options.env = EnvOptionsOf(backend, step_timeout, reward_timeout, tool_set);
    options.max_live = max_live;
    options.max_concurrent_starts = max_concurrent_starts;
    options.reset_retries = reset_retries;
    options.reuse_sandboxes = reuse_sandboxes;
    if (backend == "docker") options.fetch_image = DockerImageFetcher();
    scheduler_ =
        std::shared_ptr<RolloutScheduler>(Unwrap(RolloutScheduler::Create(std::move(options))));
  }

  long long submit(const py::list& batch) {
    std::vector<RolloutRequest> requests;
    for (py::handle item : batch) {
      if (!py::isinstance<py::tuple>(item) || py::len(item) != 2) {
        throw py::type_error("batch: a list of (r2e.EnvArgs or row, group size) pairs");
      }
      auto pair = item.cast<py::tuple>();
      requests.push_back({TaskOf(pair[0], "", base_dir_), pair[1].cast<int>()});
    }
    return Unwrap(scheduler()->submit(std::move(requests)));
  }

  py::dict acquire(double timeout) {
    const auto wait = MillisecondsOf(timeout);
    std::shared_ptr<RolloutScheduler> held = scheduler();
    Result<Rollout> got = Status::Internal("not run");
    {
      py::gil_scoped_release unlocked;
      got = held->acquire(wait);
    }
    Rollout r = Unwrap(std::move(got));
    // Wrapped first: whatever fails below, the environment goes back to the
    // scheduler with its Python object.
    py::object env = r.env ? py::cast(new PyRepoEnv(std::move(r.env), held),
                                      py::return_value_policy::take_ownership)
                           : py::none();
    py::dict out;
    out["batch"] = r.batch;
    out["task_index"] = r.task_index;
    out["member"] = r.member;
    out["outcome"] = std::string(RolloutOutcomeName(r.outcome));
    out["error"] = ErrorOf(r.status);
    out["attempts"] = r.attempts;
    out["observation"] = env.is_none() ? py::none() : py::cast(r.initial);
    out["env"] = env;
    return out;
  }

  void release(PyRepoEnv& env) {
    if (!scheduler_) {  // shut down: closed here, as the C++ API does
      env.close();
      return;
    }
    if (!env.came_from(scheduler_.get())) {
      Raise(Status::InvalidArgument(
          "release: this r2e.RepoEnv was not handed out by this scheduler"));
    }
    env.close();  // hands it back
  }

  void cancel(long long batch) { Check(scheduler()->cancel(batch)); }
  py::object stats() { return ToPython(ToJson(scheduler()->stats())); }

  // Stops the preparation and removes the sandboxes it holds. Idempotent.
  void shutdown() { close_at_exit(); }
  ~PyRolloutScheduler() override { shutdown(); }
  void close_at_exit() override {
    std::shared_ptr<RolloutScheduler> s = std::move(scheduler_);
    if (!s) return;
    py::gil_scoped_release unlocked;
    s->shutdown();
    s.reset();
  }

  std::shared_ptr<RolloutScheduler> scheduler() {
    if (!scheduler_) Raise(Status::Cancelled("this RolloutScheduler is shut down"));
    return scheduler_;
  }

 private:
  std::optional<std::string> base_dir_;
  std::shared_ptr<RolloutScheduler> scheduler_;  // read and written with the GIL held
};

// r2e::EnvPool over environments taken from r2e.RepoEnv objects, or over
// slots fed from a scheduler.
class PyEnvPool : public ClosedAtExit {
 public:
  PyEnvPool(PyRolloutScheduler& scheduler, int slots, int batch_size, int num_threads,
            bool auto_reset, bool reward_on_done)
      : ClosedAtExit(Rank::kPool) {
    std::shared_ptr<RolloutScheduler> fed_from = scheduler.scheduler();
    auto pool = Unwrap(EnvPool::Create(
        *fed_from, slots, PoolOptionsOf(batch_size, num_threads, auto_reset, reward_on_done)));
    // The pool hands its environments back when it is destroyed, on whichever
    // thread drops it last: the scheduler lives as long as it does.
    pool_ = std::shared_ptr<EnvPool>(pool.release(), [fed_from](EnvPool* p) { delete p; });
  }

  PyEnvPool(const py::list& envs, int batch_size, int num_threads, bool auto_reset,
            bool reward_on_done)
      : ClosedAtExit(Rank::kPool) {
    // Everything is checked before any environment is taken, so that a
    // refused call leaves them all with their holders.
    std::vector<py::object> sources;  // references: the list may change meanwhile
    std::set<PyRepoEnv*> seen;
    for (py::handle e : envs) {
      if (!py::isinstance<PyRepoEnv>(e)) {
        throw py::type_error("envs: a list of r2e.RepoEnv, got an item of type " +
                             std::string(py::str(e.get_type().attr("__name__"))));
      }
      auto* env = e.cast<PyRepoEnv*>();
      if (!seen.insert(env).second)
        Raise(Status::InvalidArgument("envs: an r2e.RepoEnv is listed twice"));
      if (env->closed())
        Raise(Status::InvalidArgument(
            "envs: an r2e.RepoEnv in the list is closed or already pooled"));
      if (env->from_a_scheduler()) {
        Raise(
            Status::InvalidArgument("envs: an r2e.RepoEnv from a RolloutScheduler; use "
                                    "EnvPool.from_scheduler to pool its rollouts"));
      }
      sources.push_back(py::reinterpret_borrow<py::object>(e));
    }
    if (sources.empty()) Raise(Status::InvalidArgument("EnvPool needs at least one environment"));
    const int n = static_cast<int>(sources.size());
    if (batch_size < 0 || batch_size > n || num_threads < 0) {
      Raise(Status::InvalidArgument(
          "batch_size must be between 1 and the number of environments (" + std::to_string(n) +
          "), or 0 for all; num_threads must not be negative"));
    }
    const EnvPoolOptions options =
        PoolOptionsOf(batch_size, num_threads, auto_reset, reward_on_done);
    std::vector<std::unique_ptr<RepoEnv>> taken;
    for (const py::object& source : sources) {
      auto env = source.cast<PyRepoEnv*>()->take();
      if (!env)
        Raise(Status::InvalidArgument("envs: an r2e.RepoEnv was closed while the pool was made"));
      taken.push_back(std::move(env));
    }
    pool_ = std::shared_ptr<EnvPool>(Unwrap(EnvPool::Create(std::move(taken), options)));
  }

  // These wait only for the pool's lock, but close() on another thread
  // holds it while it stops sandboxes: without the GIL, as every wait.
  void send(const py::list& actions, const std::vector<int>& env_ids) {
    std::vector<Action> parsed;
    for (py::handle a : actions) parsed.push_back(ActionOf(a));
    Check(Unlocked([&](EnvPool& pool) { return pool.send(parsed, env_ids); }));
  }
  void send_reset(const std::vector<int>& env_ids) {
    Check(Unlocked([&](EnvPool& pool) { return pool.send_reset(env_ids); }));
  }

  py::list recv(std::optional<double> timeout) {
    const auto ms =
        timeout ? MillisecondsOf(*timeout) : std::chrono::milliseconds(0);  // 0: no limit
    return Waiting([&](EnvPool& pool) { return pool.recv(ms); });
  }
  py::list step(const py::list& actions, const std::vector<int>& env_ids) {
    std::vector<Action> parsed;
    for (py::handle a : actions) parsed.push_back(ActionOf(a));
    return Waiting([&](EnvPool& pool) { return pool.step(parsed, env_ids); });
  }
  py::list reset(const std::vector<int>& env_ids) {
    return Waiting([&](EnvPool& pool) { return pool.reset(env_ids); });
  }

  int size() { return pool()->size(); }
  int in_flight() {
    return Unwrap(Unlocked([](EnvPool& pool) -> Result<int> { return pool.in_flight(); }));
  }

  // Stops the workers and removes every sandbox (once no other thread's
  // call still uses the pool: a recv() waiting in one ends with
  // r2e.Cancelled). Idempotent.
  void close() { close_at_exit(); }
  ~PyEnvPool() override { close(); }
  void close_at_exit() override {
    std::shared_ptr<EnvPool> pool = std::move(pool_);
    if (!pool) return;
    py::gil_scoped_release unlocked;
    pool->close();
    pool.reset();  // a scheduler-fed pool hands its environments back here
  }

 private:
  // Held by each call while it runs without the GIL.
  std::shared_ptr<EnvPool> pool() {
    if (!pool_) Raise(Status::FailedPrecondition("this EnvPool is closed"));
    return pool_;
  }
  // Runs `call` without the GIL, holding the pool (and dropping it before
  // the GIL is taken back: the last holder may be destroying it).
  template <class Call>
  auto Unlocked(Call&& call) -> decltype(call(std::declval<EnvPool&>())) {
    std::shared_ptr<EnvPool> held = pool();
    py::gil_scoped_release unlocked;
    auto result = call(*held);
    held.reset();
    return result;
  }
  // Unlocked, with the results as a list.
  template <class Call>
  py::list Waiting(Call&& call) {
    Result<std::vector<EnvResult>> got = Unlocked(call);
    std::vector<EnvResult> results = Unwrap(std::move(got));
    py::list out;
    for (EnvResult& r : results) out.append(py::cast(ResultToPython(std::move(r))));
    return out;
  }

  std::shared_ptr<EnvPool> pool_;  // read and written with the GIL held
};

}  // namespace

void BindPools(py::module_& m) {
  using r2e::python::PyEnvPool;
  using r2e::python::PyEnvResult;
  using r2e::python::PyRolloutScheduler;
  py::class_<PyEnvResult>(m, "EnvResult", "One result of an EnvPool request.")
      .def_readonly("env_id", &PyEnvResult::env_id, "The environment's index in the pool.")
      .def_readonly("kind", &PyEnvResult::kind, "\"step\" or \"reset\".")
      .def_readonly("error", &PyEnvResult::error, "The r2e.Error the request failed with, or None.")
      .def_readonly("observation", &PyEnvResult::observation,
                    "The step's or reset's observation, or None.")
      .def_readonly("reward", &PyEnvResult::reward,
                    "The step's reward (the grade with reward_on_done).")
      .def_readonly("done", &PyEnvResult::done, "Whether the step ended the episode.")
      .def_readonly(
          "info", &PyEnvResult::info,
          "The step's info dict (with auto_reset, the next episode's first observation as "
          "info[\"next_observation\"]), or None.")
      .def_readonly("reset_error", &PyEnvResult::reset_error,
                    "The auto reset's r2e.Error, or None.")
      .def_readonly(
          "rollout", &PyEnvResult::rollout,
          "Fed from a scheduler: the rollout the slot took (dict: batch, task_index, member, "
          "outcome, attempts), or None.");

  py::class_<PyRolloutScheduler>(m, "RolloutScheduler",
                                 R"(Sandboxes for GRPO-shaped training, prepared ahead.

RolloutScheduler(backend="docker", step_timeout=90, reward_timeout=300, tool_set="r2egym",
                 base_dir=None, max_live=16, max_concurrent_starts=4, reset_retries=2,
                 reuse_sandboxes=False)

submit([(r2e.EnvArgs(ds=row), group_size), ...]) queues a batch (returns its
id); background threads prepare its rollouts in submission order under the
live and start caps; acquire() hands the next one out as a dict (batch,
task_index, member, outcome "ok" or "infra_error", error, attempts,
observation, env: an r2e.RepoEnv, or None for "infra_error": mask it rather
than learning from a 0); release(env) hands an environment back.
EnvPool.from_scheduler feeds an EnvPool's slots from it.)")
      .def(py::init<const std::string&, double, double, const std::string&,
                    const std::optional<std::string>&, int, int, int, bool>(),
           py::arg("backend") = "docker", py::arg("step_timeout") = 90.0,
           py::arg("reward_timeout") = 300.0, py::arg("tool_set") = "r2egym",
           py::arg("base_dir") = py::none(), py::arg("max_live") = 16,
           py::arg("max_concurrent_starts") = 4, py::arg("reset_retries") = 2,
           py::arg("reuse_sandboxes") = false)
      .def("submit", &PyRolloutScheduler::submit, py::arg("batch"),
           "Queues a batch of (r2e.EnvArgs or row, group size) pairs behind the others; returns "
           "its id.")
      .def("acquire", &PyRolloutScheduler::acquire, py::arg("timeout") = 600.0,
           "The next rollout in submission order, waiting up to `timeout` seconds (r2e.Timeout; it "
           "stays "
           "next); r2e.NotFound when nothing is left.")
      .def("release", &PyRolloutScheduler::release, py::arg("env"),
           "Hands an environment back: closed (or reused) in the background.")
      .def("cancel", &PyRolloutScheduler::cancel, py::arg("batch"),
           "Drops the batch's rollouts not yet handed out.")
      .def("stats", &PyRolloutScheduler::stats, "Counts and per-phase latencies, as a dict.")
      .def("shutdown", &PyRolloutScheduler::shutdown,
           "Stops the preparation and removes every sandbox it holds. Idempotent.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyRolloutScheduler& s, py::args) { s.shutdown(); });

  py::class_<PyEnvPool>(m, "EnvPool",
                        R"(Many environments stepped at once on a few threads (send/recv).

EnvPool(envs, batch_size=0, num_threads=0, auto_reset=False, reward_on_done=False)

Takes the sandboxes of `envs` (a list of r2e.RepoEnv, which are closed to
their holders afterwards); environment i has env_id i. batch_size 0 (or
len(envs)) is synchronous: recv() returns one result per request, in request
order; smaller, recv() returns the first batch_size results ready. Results
carry their own error: one environment failing does not fail the batch. All
waits release the GIL.)")
      .def(py::init<const py::list&, int, int, bool, bool>(), py::arg("envs"),
           py::arg("batch_size") = 0, py::arg("num_threads") = 0, py::arg("auto_reset") = false,
           py::arg("reward_on_done") = false)
      .def_static(
          "from_scheduler",
          [](PyRolloutScheduler& scheduler, int slots, int batch_size, int num_threads,
             bool auto_reset, bool reward_on_done) {
            return std::make_unique<PyEnvPool>(scheduler, slots, batch_size, num_threads,
                                               auto_reset, reward_on_done);
          },
          py::arg("scheduler"), py::arg("slots"), py::arg("batch_size") = 0,
          py::arg("num_threads") = 0, py::arg("auto_reset") = false,
          py::arg("reward_on_done") = false, py::keep_alive<0, 1>(),
          "`slots` slots fed from the scheduler: a slot's reset (or auto reset) hands its "
          "environment back "
          "and takes the next rollout (EnvResult.rollout says which; an infra_error rollout is the "
          "reset's "
          "error, the slot left empty).")
      .def("send", &PyEnvPool::send, py::arg("actions"), py::arg("env_ids"),
           "Queues one step per (action, env id); returns at once.")
      .def("send_reset", &PyEnvPool::send_reset, py::arg("env_ids") = std::vector<int>{},
           "Queues a reset of each environment (empty: all); returns at once.")
      .def("recv", &PyEnvPool::recv, py::arg("timeout") = py::none(),
           "Waits for results (a list of EnvResult); r2e.Timeout after `timeout` seconds (None: no "
           "limit).")
      .def("step", &PyEnvPool::step, py::arg("actions"), py::arg("env_ids"),
           "send() then the results of exactly these requests, in env_ids order.")
      .def("reset", &PyEnvPool::reset, py::arg("env_ids") = std::vector<int>{},
           "Resets these environments (empty: all) and returns their results in order.")
      .def_property_readonly("size", &PyEnvPool::size, "The number of environments.")
      .def_property_readonly("in_flight", &PyEnvPool::in_flight,
                             "Requests sent and not yet received.")
      .def("close", &PyEnvPool::close, "Stops the workers and removes every sandbox. Idempotent.")
      .def("__len__", &PyEnvPool::size)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyEnvPool& pool, py::args) { pool.close(); });
}

}  // namespace r2e::python
