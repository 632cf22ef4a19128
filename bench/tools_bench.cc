#include "tools_bench.h"

#include <chrono>
#include <fstream>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "cli/stop_signals.h"
// The scaffold's path, a new Engine-API exec per call on a given container,
// has no public API: this bench measures Docker's internals.
#include "r2e/docker_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/tools.h"
#include "tools/served_tools.h"

namespace r2e::bench {
namespace {

namespace fs = std::filesystem;
using Ms = std::chrono::duration<double, std::milli>;
using Clock = std::chrono::steady_clock;

Action MakeAction(std::string name, std::vector<std::pair<std::string, std::string>> params) {
  Action a;
  a.function_name = std::move(name);
  for (auto& [k, v] : params) a.set_parameter(k, v);
  return a;
}

// A Python module of `lines` lines: classes and functions, as real code is.
std::string PythonModule(int lines, const std::string& marker) {
  std::string out = "\"\"\"Generated module for the tools benchmark.\"\"\"\n\nimport os\n\nVALUE = 1\n\n";
  int n = 6, k = 0;
  while (n < lines) {
    const std::string id = std::to_string(k++);
    std::string block = "\nclass Widget" + id + ":\n    \"\"\"A widget.\"\"\"\n\n    def __init__(self, size):\n" +
                        "        self.size = size\n\n    def area(self):\n        # " + marker +
                        "\n        return self.size * self.size\n\n\ndef helper_" + id +
                        "(values):\n    total = 0\n    for v in values:\n        total += v\n    return total\n";
    for (char c : block) n += c == '\n';
    out += block;
  }
  return out;
}

Status WriteFile(const fs::path& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream f(path, std::ios::binary);
  f << content;
  return f ? Status::OK() : Status::Unavailable("cannot write " + path.string());
}

Result<Percentiles> Measure(int warmup, int n, const std::function<Status()>& call) {
  for (int i = 0; i < warmup; ++i) R2E_RETURN_IF_ERROR(call());
  std::vector<double> samples;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    R2E_RETURN_IF_ERROR(call());
    samples.push_back(Ms(Clock::now() - t0).count());
  }
  return Summarize(std::move(samples));
}

// Steps until the tool server serves (it starts in the background at reset).
Status WaitServed(RepoEnv& env) {
  const Action ls = MakeAction("execute_bash", {{"cmd", "true"}});
  for (int i = 0; i < 200; ++i) {
    R2E_ASSIGN_OR_RETURN(StepResult r, env.step(ls));
    if (r.info.tool_path == ToolPath::kServed) return Status::OK();
  }
  return Status::Unavailable("the tool server never served a call (see <bin>/.r2e-tools/failed)");
}

}  // namespace

Status WriteBenchRepo(const fs::path& dir) {
  const fs::path root = dir / "bench";
  R2E_RETURN_IF_ERROR(WriteFile(root / "pkg" / "__init__.py", ""));
  R2E_RETURN_IF_ERROR(WriteFile(root / "pkg" / "big.py", PythonModule(500, "needle")));
  for (int p = 0; p < 50; ++p) {
    const fs::path pkg = root / ("pkg" + std::to_string(p));
    for (int f = 0; f < 16; ++f) {
      // Every fifth module mentions the search term.
      R2E_RETURN_IF_ERROR(WriteFile(pkg / ("mod" + std::to_string(f) + ".py"),
                                    PythonModule(40, f % 5 == 0 ? "needle" : "plain")));
    }
    R2E_RETURN_IF_ERROR(WriteFile(pkg / "README.md", "Package " + std::to_string(p) + ", needle.\n"));
    R2E_RETURN_IF_ERROR(WriteFile(pkg / "data.txt", "plain data\n"));
    R2E_RETURN_IF_ERROR(WriteFile(pkg / "notes.cfg", "[section]\nkey = value\n"));
  }
  return Status::OK();
}

std::vector<ToolCallShape> BenchToolCalls(int edit_parity) {
  const std::string from = edit_parity % 2 == 0 ? "VALUE = 1" : "VALUE = 2";
  const std::string to = edit_parity % 2 == 0 ? "VALUE = 2" : "VALUE = 1";
  return {
      {"view", MakeAction("file_editor", {{"command", "view"}, {"path", "/testbed/bench/pkg/big.py"}})},
      {"str_replace", MakeAction("file_editor", {{"command", "str_replace"},
                                                 {"path", "/testbed/bench/pkg/big.py"},
                                                 {"old_str", from},
                                                 {"new_str", to}})},
      {"search", MakeAction("search", {{"search_term", "needle"}, {"path", "/testbed/bench"}})},
      {"execute_bash", MakeAction("execute_bash", {{"cmd", "ls"}})},
  };
}

Status RunToolsBench(const ToolsBenchOptions& o, std::ostream& out) {
  if (o.runtime != "local" && o.runtime != "docker") {
    return Status::InvalidArgument("bench tools measures --runtime local or docker; got `" + o.runtime + "`");
  }
  const fs::path host = fs::temp_directory_path() / ("r2e-bench-tools-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(host, ec);
  R2E_RETURN_IF_ERROR(WriteBenchRepo(host));
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{host};

  Task task;
  task.instance_id = "bench-tools";
  task.kind = TaskKind::kR2E;
  task.problem_statement = "benchmark";
  RepoEnvOptions options;
  if (o.runtime == "local") {
    task.local_repo = host;
    options.runtime = cli::Stoppable(LocalRuntimeFactory());
  } else {
    task.image = o.image.empty() ? "r2e-test/base:bookworm" : o.image;
    options.runtime = cli::Stoppable(DockerRuntimeFactory());
  }
  options.tool_set = "r2egym";
  R2E_ASSIGN_OR_RETURN(auto env, RepoEnv::Create(task, options));
  R2E_RETURN_IF_ERROR(env->reset().status());
  if (o.runtime != "local") R2E_RETURN_IF_ERROR(env->runtime().upload(host / "bench", "/testbed/bench"));
  R2E_RETURN_IF_ERROR(WaitServed(*env));

  // Edits made so far in the served environment's file and in a baseline's:
  // str_replace alternates between two edits.
  int served_edits = 0, baseline_edits = 0;
  int* edits = &served_edits;
  auto call_for = [&](const std::string& tool) {
    const int parity = tool == "str_replace" ? (*edits)++ : 0;
    for (auto& shape : BenchToolCalls(parity)) {
      if (shape.name == tool) return shape.action;
    }
    return Action{};
  };
  int direct_steps = 0;  // of the measured steps, those that skipped the session
  auto step = [&](const std::string& tool, const std::string& want_path) -> Status {
    R2E_ASSIGN_OR_RETURN(StepResult r, env->step(call_for(tool)));
    direct_steps += r.info.tool_direct ? 1 : 0;
    if (r.info.exit_code != 0) {
      return Status::Internal(tool + " failed: " + r.observation.text.substr(0, 500));
    }
    const std::string path(r.info.tool_path ? ToolPathName(*r.info.tool_path) : "none");
    if (path != want_path) {
      // Why the server did not take it, as it noted (see toolserver.py).
      auto why = env->run(internal::ToolServerNotesCommand("file_editor"));
      return Status::Internal(tool + " ran as `" + path + "`, not `" + want_path +
                              "`; the server's notes: " + (why.ok() ? why->output : why.status().ToString()));
    }
    return Status::OK();
  };
  // The same calls in a fresh environment made with `baseline_options`:
  // each call a new interpreter (no tool server; want_path "exec"), or
  // served through the session (want_path "served").
  auto measure_baseline = [&](const std::string& tool, RepoEnvOptions baseline_options,
                              const std::string& want_path) -> Result<Percentiles> {
    baseline_options.tool_server = want_path == "served";
    R2E_ASSIGN_OR_RETURN(auto baseline_env, RepoEnv::Create(task, baseline_options));
    std::swap(env, baseline_env);
    baseline_edits = 0;
    edits = &baseline_edits;
    Status ready = env->reset().status();
    if (ready.ok() && o.runtime != "local")
      ready = env->runtime().upload(host / "bench", "/testbed/bench");
    if (ready.ok() && want_path == "served") ready = WaitServed(*env);
    Result<Percentiles> measured =
        ready.ok() ? Measure(o.warmup, o.n, [&] { return step(tool, want_path); })
                   : Result<Percentiles>(ready);
    (void)env->close();
    std::swap(env, baseline_env);
    edits = &served_edits;
    return measured;
  };

  for (const ToolCallShape& shape : BenchToolCalls(0)) {
    const std::string& tool = shape.name;
    std::map<std::string, Percentiles> variants;
    direct_steps = 0;
    R2E_ASSIGN_OR_RETURN(variants["served"], Measure(o.warmup, o.n, [&] { return step(tool, "served"); }));
    const int served_direct = direct_steps;  // of o.warmup + o.n
    R2E_ASSIGN_OR_RETURN(variants["plain"], measure_baseline(tool, options, "exec"));
    RepoEnvOptions session_options = options;
    session_options.direct_tool_calls = false;
    R2E_ASSIGN_OR_RETURN(variants["session"], measure_baseline(tool, session_options, "served"));
    if (o.runtime == "docker") {
      // The scaffold's path: a new `docker exec` of the tool per call.
      DockerRuntimeOptions per_exec;
      per_exec.exec_mode = DockerRuntimeOptions::ExecMode::kPerCommand;
      RepoEnvOptions exec_options = options;
      exec_options.runtime = cli::Stoppable(DockerRuntimeFactory(per_exec));
      R2E_ASSIGN_OR_RETURN(variants["exec"], measure_baseline(tool, exec_options, "exec"));
    }
    for (const auto& [variant, p] : variants) {
      nlohmann::json line{{"bench", "tools"}, {"runtime", o.runtime}, {"tool", tool},
                          {"variant", variant}, {"n", o.n}};
      AddPercentiles(line, p);
      if (variant == "served") line["direct_steps"] = served_direct;  // of warmup + n
      out << line.dump() << std::endl;
    }
    for (const auto& [variant, p] : variants) {
      if (variant == "served") continue;
      out << nlohmann::json{{"bench", "tools"},
                            {"runtime", o.runtime},
                            {"tool", tool},
                            {"ratio", p.p50 / variants["served"].p50},
                            {"baseline",
                             variant == "exec"
                                 ? "exec (a new exec of the tool per call, the scaffold's path)"
                             : variant == "plain"
                                 ? "plain (a new interpreter per call, same session)"
                                 : "session (served through the session, not directly)"}}
                 .dump()
          << std::endl;
    }
  }
  return env->close();
}

}  // namespace r2e::bench
