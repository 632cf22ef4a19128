// What the Python module's files (module.cc, pool_binding.cc) share: Status
// as exceptions, conversions between Python values and r2e's, the RepoEnv
// wrapper, and what is closed when the interpreter exits.
#ifndef R2E_PYTHON_BINDING_H_
#define R2E_PYTHON_BINDING_H_

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/action.h"
#include "r2e/repo_env.h"
#include "r2e/rollout_scheduler.h"
#include "r2e/status.h"
#include "r2e/task.h"

namespace r2e::python {

namespace py = pybind11;

inline constexpr std::array<StatusCode, 10> kErrorCodes = {
    StatusCode::kInvalidArgument, StatusCode::kNotFound,
    StatusCode::kAlreadyExists,   StatusCode::kFailedPrecondition,
    StatusCode::kTimeout,         StatusCode::kUnavailable,
    StatusCode::kCancelled,       StatusCode::kResourceExhausted,
    StatusCode::kUnimplemented,   StatusCode::kInternal};

// r2e.Error and its subclasses by code (set up by the module's init).
std::map<StatusCode, PyObject*>& ErrorTypes();
// The Status as an instance of its r2e.Error subclass, with `code` (the
// code's name) and `message` attributes; None for OK. Needs the GIL.
py::object ErrorOf(const Status& status);
// Raises ErrorOf(status). Needs the GIL.
[[noreturn]] void Raise(const Status& status);
inline void Check(const Status& status) {
  if (!status.ok()) Raise(status);
}
template <class T>
T Unwrap(Result<T> result) {
  if (!result.ok()) Raise(result.status());
  return std::move(result).value();
}

py::object ToPython(const nlohmann::json& j);
// A step's info as a dict: ToPython(ToJson(info)), built directly, because a
// step's result is converted right after a blocking wait with cold caches and
// nlohmann's map plus fresh key strings cost ~20 us there.
py::dict InfoDict(const StepInfo& info);
// A dataset row's value as JSON; TypeError naming `where` for anything else.
nlohmann::json FromPython(py::handle o, const std::string& where);
// An r2e.Action, or an action's text; TypeError naming `action` otherwise.
Action ActionOf(py::handle action);
// Seconds (None: nullopt), rounded up; ValueError naming `timeout` when not
// positive and finite.
std::optional<std::chrono::seconds> TimeoutOf(const std::optional<double>& seconds);
// Seconds as milliseconds, rounded up (at least 1); ValueError naming
// `timeout` when not positive and finite.
std::chrono::milliseconds MillisecondsOf(double seconds);
// An r2e.EnvArgs or a dataset row (dict) as a Task (InvalidArgument raised
// as r2e.InvalidArgument; TypeError naming `args`).
Task TaskOf(py::handle args, const std::string& image, const std::optional<std::string>& base_dir);
// The scaffold's keywords as options ("kubernetes" is the kube backend).
RepoEnvOptions EnvOptionsOf(const std::string& backend, double step_timeout, double reward_timeout,
                            const std::string& tool_set);

// Objects whose sandboxes must not outlive the interpreter: the atexit hook
// of python/r2e/__init__.py calls CloseAll (as _r2e._close_all) while the
// interpreter still runs. Registered for their lifetime; the registry is
// read and written with the GIL held.
class ClosedAtExit {
 public:
  enum class Rank { kPool, kEnv, kScheduler };  // the order they are closed in
  explicit ClosedAtExit(Rank rank);
  virtual ~ClosedAtExit();
  ClosedAtExit(const ClosedAtExit&) = delete;
  ClosedAtExit& operator=(const ClosedAtExit&) = delete;

  // Takes the object's resources with the GIL held, then may release the GIL
  // to close them; does not touch the object after releasing it.
  virtual void close_at_exit() = 0;
  // Closes every registered object: pools, then environments, then schedulers.
  static void CloseAll();

 private:
  Rank rank_;
};

// One environment. Its own lock makes concurrent calls on one object safe
// (they take turns); calls on different objects run at once, without the GIL.
class PyRepoEnv : public ClosedAtExit {
 public:
  // An environment `origin` prepared (already reset): closing it hands it
  // back there, so that its live slot is freed.
  PyRepoEnv(std::unique_ptr<RepoEnv> env, const std::shared_ptr<RolloutScheduler>& origin)
      : ClosedAtExit(Rank::kEnv), origin_(origin), from_scheduler_(true), env_(std::move(env)) {}

  PyRepoEnv(py::handle args, const std::string& backend, double step_timeout, double reward_timeout,
            const std::string& image, const std::string& tool_set,
            const std::optional<std::string>& base_dir, bool start, bool prime_snapshots)
      : ClosedAtExit(Rank::kEnv) {
    Task task = TaskOf(args, image, base_dir);
    RepoEnvOptions options = EnvOptionsOf(backend, step_timeout, reward_timeout, tool_set);
    options.prime_snapshots = prime_snapshots;
    env_ = Unwrap(RepoEnv::Create(std::move(task), std::move(options)));
    if (start) reset();  // the scaffold's constructor starts the sandbox
  }
  // An environment of the caller's own (a fork).
  explicit PyRepoEnv(std::unique_ptr<RepoEnv> env)
      : ClosedAtExit(Rank::kEnv), env_(std::move(env)) {}

  // Snapshots (include/r2e/snapshot.h); scope "repository" or "sandbox".
  SnapshotId snapshot(const std::string& scope) {
    if (scope != "repository" && scope != "sandbox") {
      Raise(Status::InvalidArgument("snapshot: scope is \"repository\" or \"sandbox\", got \"" +
                                    scope + "\""));
    }
    const SnapshotScope s =
        scope == "sandbox" ? SnapshotScope::kSandbox : SnapshotScope::kRepository;
    return Unwrap(Blocking([&](RepoEnv& env) { return env.snapshot(s); }));
  }
  void restore(SnapshotId id) {
    Check(Blocking([&](RepoEnv& env) { return env.restore(id); }));
  }
  void drop(SnapshotId id) {
    Check(Blocking([&](RepoEnv& env) { return env.drop(id); }));
  }
  std::unique_ptr<PyRepoEnv> fork(SnapshotId id) {
    auto child = Unwrap(Blocking([&](RepoEnv& env) { return env.fork(id); }));
    return std::make_unique<PyRepoEnv>(std::move(child));
  }
  py::list snapshots() {
    auto all = Unwrap(Blocking(
        [](RepoEnv& env) -> Result<std::vector<SnapshotInfo>> { return env.snapshots(); }));
    py::list out;
    for (const SnapshotInfo& info : all) {
      py::dict d;
      d["id"] = info.id;
      d["step"] = info.step;
      d["done"] = info.done;
      d["bytes"] = info.bytes;
      d["scope"] = info.scope == SnapshotScope::kSandbox ? "sandbox" : "repository";
      out.append(std::move(d));
    }
    return out;
  }

  Observation reset() {
    return Unwrap(Blocking([](RepoEnv& env) { return env.reset(); }));
  }

  py::tuple step(py::handle action, std::optional<double> timeout) {
    const Action parsed = ActionOf(action);
    const auto limit = TimeoutOf(timeout);
    StepResult r = Unwrap(Blocking([&](RepoEnv& env) { return env.step(parsed, limit); }));
    py::dict info = InfoDict(r.info);
    return py::make_tuple(py::cast(std::move(r.observation)), r.reward, r.done, std::move(info));
  }

  double compute_reward() {
    return Unwrap(Blocking([](RepoEnv& env) { return env.compute_reward(); }));
  }

  py::tuple run(const std::string& command, std::optional<double> timeout) {
    const auto limit = TimeoutOf(timeout);
    ExecResult r = Unwrap(Blocking([&](RepoEnv& env) { return env.run(command, limit); }));
    return py::make_tuple(py::str(SanitizeUtf8(r.output)), r.exit_code);
  }

  void add_commands(const std::vector<std::string>& paths) {
    std::vector<ToolFile> files;
    for (const std::string& path : paths) {
      std::ifstream in(path, std::ios::binary);
      if (!in) Raise(Status::NotFound("add_commands: cannot read " + path));
      std::ostringstream content;
      content << in.rdbuf();
      files.push_back({std::filesystem::path(path).filename().string(), content.str()});
    }
    Check(Blocking([&](RepoEnv& env) { return env.add_commands(files); }));
  }

  std::string task_instruction() {
    return Unwrap(
        Blocking([](RepoEnv& env) -> Result<std::string> { return env.task_instruction(); }));
  }
  bool check_done() {
    return Unwrap(Blocking([](RepoEnv& env) -> Result<bool> { return env.check_done(); }));
  }
  py::object stats() {
    return ToPython(
        Unwrap(Blocking([](RepoEnv& env) -> Result<nlohmann::json> { return env.task().row; })));
  }
  int steps() {
    return Unwrap(Blocking([](RepoEnv& env) -> Result<int> { return env.steps(); }));
  }

  // Removes the sandbox (one from a scheduler goes back to it). Idempotent;
  // the object is unusable afterwards.
  void close() {
    Status closed;
    {
      py::gil_scoped_release unlocked;
      std::lock_guard<std::mutex> lock(mu_);
      closed = Dispose(std::move(env_));
    }
    Check(closed);
  }
  // Whether `scheduler` handed this environment out.
  bool came_from(const RolloutScheduler* scheduler) const {
    return scheduler != nullptr && origin_.lock().get() == scheduler;
  }
  bool from_a_scheduler() const { return from_scheduler_; }
  // The environment, for an EnvPool; this object is closed afterwards.
  std::unique_ptr<RepoEnv> take() {
    py::gil_scoped_release unlocked;
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(env_);
  }

  bool closed() {
    py::gil_scoped_release unlocked;
    std::lock_guard<std::mutex> lock(mu_);
    return env_ == nullptr;
  }

  ~PyRepoEnv() override {
    if (!env_) return;
    py::gil_scoped_release unlocked;  // closing waits on the sandbox
    (void)Dispose(std::move(env_));
  }

  void close_at_exit() override {
    std::unique_ptr<RepoEnv> env;
    {
      std::lock_guard<std::mutex> lock(mu_);  // a step in flight holds it without the GIL
      env = std::move(env_);
    }
    if (!env) return;
    py::gil_scoped_release unlocked;
    (void)Dispose(std::move(env));
  }

 private:
  // Closes `env`, or hands it back to the scheduler it came from. Called
  // without the GIL.
  Status Dispose(std::unique_ptr<RepoEnv> env) {
    if (!env) return Status::OK();
    if (auto origin = origin_.lock()) {
      origin->release(std::move(env));  // closed there (on this thread after shutdown)
      return Status::OK();
    }
    return env->close();
  }

  // Runs `call` on the environment without the GIL, one call at a time;
  // FailedPrecondition once closed. The caller raises with the GIL back.
  template <class Call>
  auto Blocking(Call&& call) -> decltype(call(std::declval<RepoEnv&>())) {
    decltype(call(std::declval<RepoEnv&>())) result = Status::Internal("not run");
    py::gil_scoped_release unlocked;
    std::lock_guard<std::mutex> lock(mu_);  // released before the GIL is taken back
    if (!env_) {
      result = Status::FailedPrecondition("this RepoEnv is closed; make a new one");
    } else {
      result = call(*env_);
    }
    return result;
  }

  std::weak_ptr<RolloutScheduler> origin_;  // set for an environment a scheduler handed out
  bool from_scheduler_ = false;
  std::mutex mu_;
  std::unique_ptr<RepoEnv> env_;
};

// Registers EnvPool, EnvResult and RolloutScheduler (pool_binding.cc).
void BindPools(py::module_& m);

}  // namespace r2e::python

#endif  // R2E_PYTHON_BINDING_H_
