// _r2e, the extension module behind `import r2e`: the R2E scaffold's RepoEnv
// shape over r2e::RepoEnv. Every call that waits on a sandbox releases the
// GIL; a failed Status raises the r2e.Error subclass named after its code.
// The pure-Python part (EnvArgs, async methods, the atexit hook) is
// python/r2e/__init__.py; EnvPool and RolloutScheduler are pool_binding.cc.
#include <cmath>
#include <set>

#include "binding.h"
#include "r2e/runtimes.h"

namespace r2e::python {

// r2e.Error and its subclasses by code. Never freed: they live as long as
// the interpreter, and must not be released after it is gone.
std::map<StatusCode, PyObject*>& ErrorTypes() {
  static auto* types = new std::map<StatusCode, PyObject*>();
  return *types;
}

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

namespace {

// The info dict's keys, interned once (as Python's own literals are) and
// kept for the interpreter's life.
struct InfoKeys {
  PyObject* total_time = PyUnicode_InternFromString("total_time");
  PyObject* exit_code = PyUnicode_InternFromString("exit_code");
  PyObject* timed_out = PyUnicode_InternFromString("timed_out");
  PyObject* tool = PyUnicode_InternFromString("tool");
  PyObject* step = PyUnicode_InternFromString("step");
  PyObject* tool_path = PyUnicode_InternFromString("tool_path");
  PyObject* tool_python = PyUnicode_InternFromString("tool_python");
  PyObject* tool_direct = PyUnicode_InternFromString("tool_direct");
  PyObject* result = PyUnicode_InternFromString("result");
  PyObject* reward_time = PyUnicode_InternFromString("reward_time");
};

void SetItem(py::dict& d, PyObject* key, py::object value) {
  if (key == nullptr || PyDict_SetItem(d.ptr(), key, value.ptr()) != 0)
    throw py::error_already_set();
}

}  // namespace

py::dict InfoDict(const StepInfo& info) {
  static const InfoKeys* const keys = new InfoKeys;  // never freed: outlives every call
  py::dict out;
  SetItem(out, keys->total_time, py::float_(info.total_time.count()));
  SetItem(out, keys->exit_code, py::int_(info.exit_code));
  SetItem(out, keys->timed_out, py::bool_(info.timed_out));
  SetItem(out, keys->tool, py::str(info.tool));
  SetItem(out, keys->step, py::int_(info.step));
  if (info.tool_path) SetItem(out, keys->tool_path, py::str(ToolPathName(*info.tool_path)));
  if (info.tool_direct) SetItem(out, keys->tool_direct, py::bool_(true));
  if (info.tool_python) SetItem(out, keys->tool_python, py::str(ToolPythonName(*info.tool_python)));
  if (info.result) SetItem(out, keys->result, py::str(*info.result));
  if (info.reward_time) SetItem(out, keys->reward_time, py::float_(info.reward_time->count()));
  return out;
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

namespace {

// Whole units of `unit` seconds, rounded up; ValueError unless positive and
// finite (and below a year).
long long CeilUnits(double seconds, double unit, const char* name) {
  if (!std::isfinite(seconds) || seconds <= 0 || seconds > 365.0 * 24 * 3600) {
    throw py::value_error(std::string(name) + ": must be a positive, finite number of seconds");
  }
  return static_cast<long long>(std::ceil(seconds / unit));
}

}  // namespace

std::optional<std::chrono::seconds> TimeoutOf(const std::optional<double>& seconds) {
  if (!seconds) return std::nullopt;
  return std::chrono::seconds(CeilUnits(*seconds, 1.0, "timeout"));
}

std::chrono::milliseconds MillisecondsOf(double seconds) {
  return std::chrono::milliseconds(CeilUnits(seconds, 0.001, "timeout"));
}

Task TaskOf(py::handle args, const std::string& image, const std::optional<std::string>& base_dir) {
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
  return Unwrap(ParseTask(FromPython(row_object, "args.ds"), parse));
}

RepoEnvOptions EnvOptionsOf(const std::string& backend, double step_timeout, double reward_timeout,
                            const std::string& tool_set) {
  RepoEnvOptions options;
  options.step_timeout = std::chrono::seconds(CeilUnits(step_timeout, 1.0, "step_timeout"));
  options.reward_timeout = std::chrono::seconds(CeilUnits(reward_timeout, 1.0, "reward_timeout"));
  options.tool_set = tool_set;
  options.runtime =
      Unwrap(MakeRuntimeFactory(backend == "kubernetes" ? "kube" : backend, RuntimeOptions{}));
  return options;
}

namespace {

// Live objects (GIL held), as (rank, object) so that a snapshot sorts by rank.
std::set<std::pair<ClosedAtExit::Rank, ClosedAtExit*>>& Registry() {
  static auto* live = new std::set<std::pair<ClosedAtExit::Rank, ClosedAtExit*>>();
  return *live;
}

}  // namespace

ClosedAtExit::ClosedAtExit(Rank rank) : rank_(rank) { Registry().insert({rank_, this}); }
ClosedAtExit::~ClosedAtExit() { Registry().erase({rank_, this}); }

void ClosedAtExit::CloseAll() {
  const auto snapshot = Registry();
  for (const auto& entry : snapshot) {
    // Another thread may have destroyed it while an earlier close ran
    // without the GIL.
    if (Registry().count(entry) != 0) entry.second->close_at_exit();
  }
}

}  // namespace r2e::python

namespace py = pybind11;

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
        tool_set="r2egym", base_dir=None, start=True, prime_snapshots=False)

args is an r2e.EnvArgs (or a dataset row, a dict). backend is "docker",
"kubernetes" (or "kube") or "local". The sandbox starts at construction, as the
scaffold's does (start=False: at the first reset()). Every method that waits on
the sandbox releases the GIL; calls on one object take turns. Failures raise
r2e.Error subclasses (r2e.InvalidArgument, r2e.Unavailable, ...). Use it as a
context manager, or call close(): the sandbox is removed. prime_snapshots: see
RepoEnvOptions::prime_snapshots (faster forks).)")
      .def(py::init<py::handle, const std::string&, double, double, const std::string&,
                    const std::string&, const std::optional<std::string>&, bool, bool>(),
           py::arg("args"), py::arg("backend") = "docker", py::arg("step_timeout") = 90.0,
           py::arg("reward_timeout") = 300.0, py::arg("image") = "", py::arg("tool_set") = "r2egym",
           py::arg("base_dir") = py::none(), py::arg("start") = true,
           py::arg("prime_snapshots") = false)
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
      .def(
          "snapshot", &PyRepoEnv::snapshot, py::arg("scope") = "repository",
          "Records the episode's state and returns its id (an int). scope \"repository\": /testbed "
          "and its git state; \"sandbox\": every writable path (docker, local under bubblewrap).")
      .def("restore", &PyRepoEnv::restore, py::arg("id"),
           "Puts the sandbox back in the snapshot's state (the episode's processes end); steps and "
           "check_done() come back too. r2e.NotFound for an unknown or dropped id.")
      .def("fork", &PyRepoEnv::fork, py::arg("id"),
           "A new RepoEnv (its own sandbox) in the snapshot's state; close it when done.")
      .def("drop", &PyRepoEnv::drop, py::arg("id"),
           "Forgets the snapshot and frees what only it used.")
      .def("snapshots", &PyRepoEnv::snapshots,
           "The snapshots taken since the last reset(), as dicts: id, step, done, bytes, scope.")
      .def_property_readonly("steps", &PyRepoEnv::steps, "Steps taken since the last reset().")
      .def_property_readonly("closed", &PyRepoEnv::closed, "Whether close() was called.")
      .def("close", &PyRepoEnv::close, "Removes the sandbox. Idempotent.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyRepoEnv& env, py::args) { env.close(); });

  m.def("_close_all", &rp::ClosedAtExit::CloseAll,
        "Closes every open environment, pool and scheduler (the atexit hook of `import r2e`).");
  rp::BindPools(m);
}
