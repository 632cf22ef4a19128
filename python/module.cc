// _r2e, the extension module behind `import r2e`: the R2E scaffold's RepoEnv
// shape over r2e::RepoEnv. Every call that waits on a sandbox releases the
// GIL; a failed Status raises the r2e.Error subclass named after its code.
// The pure-Python part (EnvArgs, closing at exit) is python/r2e/__init__.py.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

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
#include "r2e/env_pool.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/status.h"
#include "r2e/task.h"

namespace py = pybind11;

namespace r2e::python {
namespace {

constexpr StatusCode kErrorCodes[] = {StatusCode::kInvalidArgument, StatusCode::kNotFound,
                                      StatusCode::kAlreadyExists,   StatusCode::kFailedPrecondition,
                                      StatusCode::kTimeout,         StatusCode::kUnavailable,
                                      StatusCode::kCancelled,       StatusCode::kResourceExhausted,
                                      StatusCode::kUnimplemented,   StatusCode::kInternal};

// r2e.Error and its subclasses by code. Never freed: they live as long as
// the interpreter, and must not be released after it is gone.
std::map<StatusCode, PyObject*>& ErrorTypes() {
  static auto* types = new std::map<StatusCode, PyObject*>();
  return *types;
}

// The Status as an instance of its r2e.Error subclass, with `code` (the
// code's name) and `message` attributes; None for OK.
py::object ErrorOf(const Status& status) {
  if (status.ok()) return py::none();
  PyObject* type = ErrorTypes().at(status.code());
  py::object error = py::reinterpret_borrow<py::object>(type)(status.ToString());
  error.attr("code") = std::string(StatusCodeName(status.code()));
  error.attr("message") = status.message();
  return error;
}

[[noreturn]] void Raise(const Status& status) {
  py::object error = ErrorOf(status);
  PyErr_SetObject(error.get_type().ptr(), error.ptr());
  throw py::error_already_set();
}

void Check(const Status& status) {
  if (!status.ok()) Raise(status);
}

template <class T>
T Unwrap(Result<T> result) {
  if (!result.ok()) Raise(result.status());
  return std::move(result).value();
}

py::object ToPython(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return py::none();
    case nlohmann::json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return py::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return py::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float:
      return py::float_(j.get<double>());
    case nlohmann::json::value_t::string:
      return py::str(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const auto& v : j) out.append(ToPython(v));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [k, v] : j.items()) out[py::str(k)] = ToPython(v);
      return out;
    }
    default:
      return py::none();  // binary and discarded values: not in rows or infos
  }
}

// A dataset row's value as JSON: what Hugging Face datasets and json.loads
// give (dict, list, tuple, str, int, float, bool, None).
nlohmann::json FromPython(py::handle o, const std::string& where) {
  if (o.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(o)) return o.cast<bool>();
  if (py::isinstance<py::int_>(o)) return o.cast<std::int64_t>();
  if (py::isinstance<py::float_>(o)) return o.cast<double>();
  if (py::isinstance<py::str>(o)) return o.cast<std::string>();
  if (py::isinstance<py::dict>(o)) {
    nlohmann::json out = nlohmann::json::object();
    for (auto [k, v] : o.cast<py::dict>()) {
      if (!py::isinstance<py::str>(k)) throw py::type_error(where + ": keys must be str");
      const std::string key = k.cast<std::string>();
      out[key] = FromPython(v, where + "[" + key + "]");
    }
    return out;
  }
  if (py::isinstance<py::list>(o) || py::isinstance<py::tuple>(o)) {
    nlohmann::json out = nlohmann::json::array();
    for (auto v : o) out.push_back(FromPython(v, where + "[]"));
    return out;
  }
  throw py::type_error(where + ": " + std::string(py::str(o.get_type().attr("__name__"))) +
                       " is not a JSON value (dict, list, str, int, float, bool or None)");
}

Action ActionOf(py::handle action) {
  if (py::isinstance<Action>(action)) return action.cast<Action>();
  if (py::isinstance<py::str>(action)) return ParseAction(action.cast<std::string>());
  throw py::type_error("action: an r2e.Action or the action's text (str), got " +
                       std::string(py::str(action.get_type().attr("__name__"))));
}

std::optional<std::chrono::seconds> TimeoutOf(const std::optional<double>& seconds) {
  if (!seconds) return std::nullopt;
  if (*seconds <= 0) throw py::value_error("timeout: must be positive seconds, or None");
  return std::chrono::seconds(static_cast<long long>(*seconds + 0.999));
}

// One environment. Its own lock makes concurrent calls on one object safe
// (they take turns); calls on different objects run at once, without the GIL.
class PyRepoEnv {
 public:
  PyRepoEnv(py::handle args, const std::string& backend, double step_timeout, double reward_timeout,
            const std::string& image, const std::string& tool_set,
            const std::optional<std::string>& base_dir, bool start) {
    py::handle row_object = args;
    if (py::hasattr(args, "ds")) row_object = args.attr("ds");
    if (!py::isinstance<py::dict>(row_object)) {
      throw py::type_error("args: an r2e.EnvArgs or a dataset row (dict), got " +
                           std::string(py::str(row_object.get_type().attr("__name__"))));
    }
    TaskParseOptions parse;
    parse.image_override = image;
    parse.source = "dataset row";
    if (base_dir) parse.base_dir = *base_dir;
    Task task = Unwrap(ParseTask(FromPython(row_object, "args.ds"), parse));
    RepoEnvOptions options;
    if (step_timeout <= 0 || reward_timeout <= 0) {
      throw py::value_error("step_timeout and reward_timeout: must be positive seconds");
    }
    options.step_timeout = std::chrono::seconds(static_cast<long long>(step_timeout));
    options.reward_timeout = std::chrono::seconds(static_cast<long long>(reward_timeout));
    options.tool_set = tool_set;
    options.runtime =
        Unwrap(MakeRuntimeFactory(backend == "kubernetes" ? "kube" : backend, RuntimeOptions{}));
    env_ = Unwrap(RepoEnv::Create(std::move(task), std::move(options)));
    if (start) reset();  // the scaffold's constructor starts the sandbox
  }

  Observation reset() {
    return Unwrap(Blocking([](RepoEnv& env) { return env.reset(); }));
  }

  py::tuple step(py::handle action, std::optional<double> timeout) {
    const Action parsed = ActionOf(action);
    const auto limit = TimeoutOf(timeout);
    StepResult r = Unwrap(Blocking([&](RepoEnv& env) { return env.step(parsed, limit); }));
    return py::make_tuple(r.observation, r.reward, r.done, ToPython(ToJson(r.info)));
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

  // Removes the sandbox. Idempotent; the object is unusable afterwards.
  void close() {
    Status closed;
    {
      py::gil_scoped_release unlocked;
      std::lock_guard<std::mutex> lock(mu_);
      if (env_) closed = env_->close();
      env_.reset();
    }
    Check(closed);
  }
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

  ~PyRepoEnv() {
    if (!env_) return;
    py::gil_scoped_release unlocked;  // closing waits on the sandbox
    (void)env_->close();
    env_.reset();
  }

 private:
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

  std::mutex mu_;
  std::unique_ptr<RepoEnv> env_;
};

// One result of an EnvPool request, as Python reads it.
struct PyEnvResult {
  int env_id = -1;
  std::string kind;      // "step" or "reset"
  py::object error;      // r2e.Error or None: the request failed
  py::object observation;  // Observation or None
  double reward = 0;
  bool done = false;
  py::object info;        // dict, for steps
  py::object reset_error;  // auto reset's failure, or None
};

PyEnvResult ResultToPython(EnvResult r) {
  PyEnvResult out;
  out.env_id = r.env_id;
  out.kind = r.kind == EnvResult::Kind::kStep ? "step" : "reset";
  out.error = ErrorOf(r.status);
  out.reset_error = ErrorOf(r.reset_status);
  out.observation = py::none();
  out.info = py::none();
  if (r.kind == EnvResult::Kind::kStep && r.status.ok()) {
    out.observation = py::cast(r.step.observation);
    out.reward = r.step.reward;
    out.done = r.step.done;
    out.info = ToPython(ToJson(r.step.info));
  }
  // A reset's observation, or an auto reset's next one (in `info` terms:
  // the step's observation stays `observation`).
  if (r.observation) {
    if (r.kind == EnvResult::Kind::kReset) {
      out.observation = py::cast(*r.observation);
    } else {
      out.info["next_observation"] = py::cast(*r.observation);
    }
  }
  return out;
}

// r2e::EnvPool over environments taken from r2e.RepoEnv objects.
class PyEnvPool {
 public:
  PyEnvPool(const py::list& envs, int batch_size, int num_threads, bool auto_reset, bool reward_on_done) {
    std::vector<PyRepoEnv*> sources;
    for (py::handle e : envs) {
      if (!py::isinstance<PyRepoEnv>(e)) {
        throw py::type_error("envs: a list of r2e.RepoEnv, got an item of type " +
                             std::string(py::str(e.get_type().attr("__name__"))));
      }
      sources.push_back(e.cast<PyRepoEnv*>());
    }
    EnvPoolOptions options;
    options.batch_size = batch_size;
    options.num_threads = num_threads;
    options.auto_reset = auto_reset;
    options.reward_on_done = reward_on_done;
    std::vector<std::unique_ptr<RepoEnv>> taken;
    for (PyRepoEnv* source : sources) {
      auto env = source->take();
      if (!env) Raise(Status::InvalidArgument("envs: an r2e.RepoEnv in the list is closed or already pooled"));
      taken.push_back(std::move(env));
    }
    pool_ = std::shared_ptr<EnvPool>(Unwrap(EnvPool::Create(std::move(taken), options)));
  }

  void send(const py::list& actions, const std::vector<int>& env_ids) {
    std::vector<Action> parsed;
    for (py::handle a : actions) parsed.push_back(ActionOf(a));
    Check(pool()->send(parsed, env_ids));
  }
  void send_reset(const std::vector<int>& env_ids) { Check(pool()->send_reset(env_ids)); }

  py::list recv(std::optional<double> timeout) {
    const auto ms = std::chrono::milliseconds(timeout ? static_cast<long long>(*timeout * 1000) : 0);
    Result<std::vector<EnvResult>> got = Status::Internal("not run");
    {
      std::shared_ptr<EnvPool> held = pool();
      py::gil_scoped_release unlocked;
      got = held->recv(ms);
    }
    return Results(std::move(got));
  }
  py::list step(const py::list& actions, const std::vector<int>& env_ids) {
    std::vector<Action> parsed;
    for (py::handle a : actions) parsed.push_back(ActionOf(a));
    Result<std::vector<EnvResult>> got = Status::Internal("not run");
    {
      std::shared_ptr<EnvPool> held = pool();
      py::gil_scoped_release unlocked;
      got = held->step(parsed, env_ids);
    }
    return Results(std::move(got));
  }
  py::list reset(const std::vector<int>& env_ids) {
    Result<std::vector<EnvResult>> got = Status::Internal("not run");
    {
      std::shared_ptr<EnvPool> held = pool();
      py::gil_scoped_release unlocked;
      got = held->reset(env_ids);
    }
    return Results(std::move(got));
  }

  int size() { return pool()->size(); }
  int in_flight() { return pool()->in_flight(); }

  // Stops the workers and removes every sandbox (once no other thread's
  // call still uses the pool: a recv() waiting in one ends with
  // r2e.Cancelled). Idempotent.
  void close() {
    std::shared_ptr<EnvPool> pool = std::move(pool_);
    if (!pool) return;
    py::gil_scoped_release unlocked;
    pool->close();
    pool.reset();
  }
  ~PyEnvPool() { close(); }

 private:
  // Held by each call while it runs without the GIL.
  std::shared_ptr<EnvPool> pool() {
    if (!pool_) Raise(Status::FailedPrecondition("this EnvPool is closed"));
    return pool_;
  }
  static py::list Results(Result<std::vector<EnvResult>> got) {
    std::vector<EnvResult> results = Unwrap(std::move(got));
    py::list out;
    for (EnvResult& r : results) out.append(py::cast(ResultToPython(std::move(r))));
    return out;
  }

  std::shared_ptr<EnvPool> pool_;  // read and written with the GIL held
};

}  // namespace
}  // namespace r2e::python

PYBIND11_MODULE(_r2e, m) {
  using r2e::Action;
  using r2e::Observation;
  using r2e::python::PyRepoEnv;
  namespace rp = r2e::python;
  m.doc() = "r2e's core: the R2E scaffold's RepoEnv over sandboxes (use `import r2e`).";

  PyObject* base = PyErr_NewExceptionWithDoc(
      "r2e.Error", "An r2e call failed. `code` names the Status code, `message` says why.",
      PyExc_RuntimeError, nullptr);
  m.add_object("Error", py::handle(base));
  for (r2e::StatusCode code : rp::kErrorCodes) {
    const std::string name(r2e::StatusCodeName(code));
    PyObject* type = PyErr_NewException(("r2e." + name).c_str(), base, nullptr);
    rp::ErrorTypes()[code] = type;
    m.add_object(name.c_str(), py::handle(type));
  }

  py::class_<Observation>(m, "Observation", "What the agent is shown after reset() or a step.")
      .def_readonly("text", &Observation::text,
                    "The observation's text, as the scaffold prints it.")
      .def("__str__", [](const Observation& o) { return o.text; })
      .def("__repr__", [](const Observation& o) {
        return "<r2e.Observation " + py::repr(py::str(o.text)).cast<std::string>() + ">";
      });

  py::class_<Action>(m, "Action",
                     "A tool call: a function name and its parameters, in the order given.")
      .def(py::init([](const std::string& function_name, const py::dict& parameters) {
             Action a;
             a.function_name = function_name;
             for (auto [k, v] : parameters) a.set_parameter(py::str(k), py::str(v));
             return a;
           }),
           py::arg("function_name") = "", py::arg("parameters") = py::dict(),
           "An action calling `function_name` with `parameters` (str values).")
      .def_static(
          "from_string", [](const std::string& text) { return r2e::ParseAction(text); },
          py::arg("text"),
          "Parses the scaffold's action text: <function=NAME> with "
          "<parameter=KEY>VALUE</parameter> "
          "lines. Text without a function call gives an empty action.")
      .def_static(
          "from_tool_call",
          [](const std::string& name, const std::string& arguments) {
            return rp::Unwrap(r2e::ActionFromToolCall(name, arguments));
          },
          py::arg("name"), py::arg("arguments"),
          "An OpenAI-style tool call (name, arguments as JSON text) as an action; "
          "r2e.InvalidArgument when the "
          "arguments are not a JSON object.")
      .def_readonly("function_name", &Action::function_name, "The tool called; empty for none.")
      .def_property_readonly(
          "parameters",
          [](const Action& a) {
            py::dict out;
            for (const auto& [k, v] : a.parameters) out[py::str(k)] = py::str(v);
            return out;
          },
          "The parameters as a dict of str.")
      .def("is_finish", &Action::is_finish, "Whether the call ends the episode (finish or submit).")
      .def("to_xml", &Action::ToXml, "The scaffold's text for this action.")
      .def("__str__", &Action::ToXml)
      .def("__repr__", [](const Action& a) { return "<r2e.Action " + a.function_name + ">"; });

  py::class_<PyRepoEnv>(m, "RepoEnv",
                        R"(A repository task in a sandbox, shaped as the R2E scaffold's RepoEnv.

RepoEnv(args, backend="docker", step_timeout=90, reward_timeout=300, image="",
        tool_set="r2egym", base_dir=None, start=True)

args is an r2e.EnvArgs (or a dataset row, a dict). backend is "docker",
"kubernetes" (or "kube") or "local". The sandbox starts at construction, as the
scaffold's does (start=False: at the first reset()). Every method that waits on
the sandbox releases the GIL; calls on one object take turns. Failures raise
r2e.Error subclasses (r2e.InvalidArgument, r2e.Unavailable, ...). Use it as a
context manager, or call close(): the sandbox is removed.)")
      .def(py::init<py::handle, const std::string&, double, double, const std::string&,
                    const std::string&, const std::optional<std::string>&, bool>(),
           py::arg("args"), py::arg("backend") = "docker", py::arg("step_timeout") = 90.0,
           py::arg("reward_timeout") = 300.0, py::arg("image") = "", py::arg("tool_set") = "r2egym",
           py::arg("base_dir") = py::none(), py::arg("start") = true)
      .def("reset", &PyRepoEnv::reset,
           "A fresh sandbox for the task; returns the initial observation.")
      .def("step", &PyRepoEnv::step, py::arg("action"), py::arg("timeout") = py::none(),
           "Runs the action (an r2e.Action or its text) and returns (observation, reward, done, "
           "info); "
           "info is the scaffold's dict with r2e's additions. timeout: seconds for the command "
           "(None: step_timeout).")
      .def("compute_reward", &PyRepoEnv::compute_reward,
           "Runs the task's hidden tests and grades them as the benchmark's harness does: 1.0 or "
           "0.0.")
      .def("run", &PyRepoEnv::run, py::arg("command"), py::arg("timeout") = py::none(),
           "Runs a shell command in the sandbox (not an agent step); returns (output, exit_code).")
      .def("add_commands", &PyRepoEnv::add_commands, py::arg("paths"),
           "Installs these tool files (paths on this machine) into the sandbox, as the scaffold's "
           "add_commands.")
      .def("get_task_instruction", &PyRepoEnv::task_instruction,
           "The task's problem statement, as the agent is given it.")
      .def("check_done", &PyRepoEnv::check_done,
           "Whether the episode has ended (a finish or submit call).")
      .def("get_stats", &PyRepoEnv::stats, "The task's dataset row, as a dict.")
      .def_property_readonly("steps", &PyRepoEnv::steps, "Steps taken since the last reset().")
      .def_property_readonly("closed", &PyRepoEnv::closed, "Whether close() was called.")
      .def("close", &PyRepoEnv::close, "Removes the sandbox. Idempotent.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyRepoEnv& env, py::args) { env.close(); });

  using rp::PyEnvPool;
  using rp::PyEnvResult;
  py::class_<PyEnvResult>(m, "EnvResult", "One result of an EnvPool request.")
      .def_readonly("env_id", &PyEnvResult::env_id, "The environment's index in the pool.")
      .def_readonly("kind", &PyEnvResult::kind, "\"step\" or \"reset\".")
      .def_readonly("error", &PyEnvResult::error, "The r2e.Error the request failed with, or None.")
      .def_readonly("observation", &PyEnvResult::observation, "The step's or reset's observation, or None.")
      .def_readonly("reward", &PyEnvResult::reward, "The step's reward (the grade with reward_on_done).")
      .def_readonly("done", &PyEnvResult::done, "Whether the step ended the episode.")
      .def_readonly("info", &PyEnvResult::info,
                    "The step's info dict (with auto_reset, the next episode's first observation as "
                    "info[\"next_observation\"]), or None.")
      .def_readonly("reset_error", &PyEnvResult::reset_error, "The auto reset's r2e.Error, or None.");

  py::class_<PyEnvPool>(m, "EnvPool", R"(Many environments stepped at once on a few threads (send/recv).

EnvPool(envs, batch_size=0, num_threads=0, auto_reset=False, reward_on_done=False)

Takes the sandboxes of `envs` (a list of r2e.RepoEnv, which are closed to
their holders afterwards); environment i has env_id i. batch_size 0 (or
len(envs)) is synchronous: recv() returns one result per request, in request
order; smaller, recv() returns the first batch_size results ready. Results
carry their own error: one environment failing does not fail the batch. All
waits release the GIL.)")
      .def(py::init<const py::list&, int, int, bool, bool>(), py::arg("envs"), py::arg("batch_size") = 0,
           py::arg("num_threads") = 0, py::arg("auto_reset") = false, py::arg("reward_on_done") = false)
      .def("send", &PyEnvPool::send, py::arg("actions"), py::arg("env_ids"),
           "Queues one step per (action, env id); returns at once.")
      .def("send_reset", &PyEnvPool::send_reset, py::arg("env_ids") = std::vector<int>{},
           "Queues a reset of each environment (empty: all); returns at once.")
      .def("recv", &PyEnvPool::recv, py::arg("timeout") = py::none(),
           "Waits for results (a list of EnvResult); r2e.Timeout after `timeout` seconds (None: no limit).")
      .def("step", &PyEnvPool::step, py::arg("actions"), py::arg("env_ids"),
           "send() then the results of exactly these requests, in env_ids order.")
      .def("reset", &PyEnvPool::reset, py::arg("env_ids") = std::vector<int>{},
           "Resets these environments (empty: all) and returns their results in order.")
      .def_property_readonly("size", &PyEnvPool::size, "The number of environments.")
      .def_property_readonly("in_flight", &PyEnvPool::in_flight, "Requests sent and not yet received.")
      .def("close", &PyEnvPool::close, "Stops the workers and removes every sandbox. Idempotent.")
      .def("__len__", &PyEnvPool::size)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyEnvPool& pool, py::args) { pool.close(); });
}
