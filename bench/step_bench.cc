#include "step_bench.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/stop_signals.h"
#include "r2e/docker_runtime.h"
#include "r2e/kube_runtime.h"
#include "r2e/local_runtime.h"

extern char** environ;

namespace r2e::bench {
namespace {

using Ms = std::chrono::duration<double, std::milli>;

struct Stats {
  double p50, p90, p99, mean;
};

Stats Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))]; };
  double sum = 0;
  for (double x : v) sum += x;
  return {at(0.50), at(0.90), at(0.99), sum / v.size()};
}

// Times `step` n times after a warm-up; a failing step, or a stop signal
// (the baselines hold no sandbox that it would kill), aborts the run.
Result<Stats> Measure(int warmup, int n, const std::function<Status()>& step) {
  for (int i = 0; i < warmup; ++i) R2E_RETURN_IF_ERROR(step());
  std::vector<double> samples;
  samples.reserve(n);
  for (int i = 0; i < n; ++i) {
    if (cli::StopRequested()) return Status::Cancelled("stopped by a signal");
    auto t0 = std::chrono::steady_clock::now();
    R2E_RETURN_IF_ERROR(step());
    samples.push_back(Ms(std::chrono::steady_clock::now() - t0).count());
  }
  return Summarize(std::move(samples));
}

Status RunTrue(Runtime& rt) {
  auto r = rt.exec("true");
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return Status::Internal("`true` exited " + std::to_string(r->exit_code));
  return Status::OK();
}

// The baseline a daemonless runtime would pay: a new sandboxed process
// (bubblewrap when available) per command.
Status SpawnPerCommand(bool bwrap) {
  std::vector<std::string> args;
  if (bwrap) args = {"bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--die-with-parent", "--proc", "/proc", "--dev", "/dev"};
  args.insert(args.end(), {"bash", "-c", "true"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
    return Status::Unavailable("cannot start " + args[0]);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? Status::OK() : Status::Internal("spawned command failed");
}

// The baseline a Python environment layer pays: one `docker exec` CLI call
// per command (the docker program, then the daemon's exec create/start).
Status DockerCliExec(const std::string& container) {
  std::vector<std::string> args = {"docker", "exec", container, "true"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  const int rc = posix_spawnp(&pid, "docker", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Status::Unavailable("cannot start the docker program (is the docker CLI installed?)");
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? Status::OK()
                                                       : Status::Internal("`docker exec " + container + " true` failed");
}

void Print(std::ostream& out, const std::string& runtime, const std::string& variant, int n, const Stats& s,
           const std::string& protocol = "") {
  nlohmann::json j{{"bench", "step"}, {"runtime", runtime}, {"variant", variant}, {"n", n},
                   {"p50_ms", s.p50},  {"p90_ms", s.p90},    {"p99_ms", s.p99},   {"mean_ms", s.mean}};
  if (!protocol.empty()) j["protocol"] = protocol;
  out << j.dump() << std::endl;
}

}  // namespace

Status RunStepBench(const StepBenchOptions& o, std::ostream& out) {
  Stats session{}, exec{}, cli{};
  int cli_n = 0;
  std::optional<Stats> session_stream;  // docker: the session over the daemon's exec stream
  std::string baseline;
  std::string protocol;  // kube: the session's exec subprotocol
  if (o.runtime == "local") {
    auto rt = cli::Stoppable(std::make_unique<LocalRuntime>());
    R2E_RETURN_IF_ERROR(rt->start({}));
    R2E_ASSIGN_OR_RETURN(session, Measure(o.warmup, o.n, [&] { return RunTrue(*rt); }));
    const bool bwrap = rt->isolated();
    rt->stop();
    R2E_ASSIGN_OR_RETURN(exec, Measure(o.warmup, o.n, [&] { return SpawnPerCommand(bwrap); }));
    baseline = bwrap ? "exec (new bwrap sandbox process per command)" : "exec (new bash per command)";
  } else if (o.runtime == "docker") {
    SandboxSpec spec;
    spec.image = o.image;
    spec.task_id = "bench-step";
    auto docker = std::make_unique<DockerRuntime>();
    DockerRuntime& named = *docker;
    auto rt = cli::Stoppable(std::move(docker));
    R2E_RETURN_IF_ERROR(rt->start(spec));
    R2E_ASSIGN_OR_RETURN(session, Measure(o.warmup, o.n, [&] { return RunTrue(*rt); }));
    // The CLI is slow (about 0.1 s a call): at most 100 samples.
    cli_n = std::min(o.n, 100);
    const std::string name = named.container_name();
    R2E_ASSIGN_OR_RETURN(cli, Measure(std::min(o.warmup, 3), cli_n, [&] { return DockerCliExec(name); }));
    rt->stop();
    DockerRuntimeOptions relayed;
    relayed.session_transport = DockerRuntimeOptions::SessionTransport::kExec;
    auto rt_relayed = cli::Stoppable(std::make_unique<DockerRuntime>(relayed));
    R2E_RETURN_IF_ERROR(rt_relayed->start(spec));
    R2E_ASSIGN_OR_RETURN(session_stream, Measure(o.warmup, o.n, [&] { return RunTrue(*rt_relayed); }));
    rt_relayed->stop();
    DockerRuntimeOptions per;
    per.exec_mode = DockerRuntimeOptions::ExecMode::kPerCommand;
    auto rt2 = cli::Stoppable(std::make_unique<DockerRuntime>(per));
    R2E_RETURN_IF_ERROR(rt2->start(spec));
    R2E_ASSIGN_OR_RETURN(exec, Measure(o.warmup, o.n, [&] { return RunTrue(*rt2); }));
    rt2->stop();
    baseline = "exec (one Engine API exec per command)";
  } else if (o.runtime == "kube") {
    SandboxSpec spec;
    spec.image = o.image;
    spec.task_id = "bench-step";
    KubeRuntimeOptions ko;
    ko.load.kubeconfig = o.kubeconfig;
    ko.load.context = o.context;
    ko.namespace_name = o.kube_namespace;
    {
      auto kube = std::make_unique<KubeRuntime>(ko);
      KubeRuntime& named = *kube;
      auto rt = cli::Stoppable(std::move(kube));
      R2E_RETURN_IF_ERROR(rt->start(spec));
      R2E_ASSIGN_OR_RETURN(session, Measure(o.warmup, o.n, [&] { return RunTrue(*rt); }));
      protocol = named.session_protocol();
      R2E_RETURN_IF_ERROR(rt->stop());
    }
    ko.exec_mode = KubeRuntimeOptions::ExecMode::kPerCommand;
    auto rt2 = cli::Stoppable(std::make_unique<KubeRuntime>(ko));
    R2E_RETURN_IF_ERROR(rt2->start(spec));
    R2E_ASSIGN_OR_RETURN(exec, Measure(o.warmup, o.n, [&] { return RunTrue(*rt2); }));
    R2E_RETURN_IF_ERROR(rt2->stop());
    baseline = "exec (one exec websocket, i.e. a new TLS connection and exec, per command)";
  } else {
    return Status::InvalidArgument("bench step supports --runtime local, docker or kube");
  }
  Print(out, o.runtime, "session", o.n, session, protocol);
  // The same session with every byte relayed by the daemon (no shared pipes).
  if (session_stream) Print(out, o.runtime, "session_exec_stream", o.n, *session_stream);
  Print(out, o.runtime, "exec", o.n, exec);
  if (cli_n > 0) Print(out, o.runtime, "exec-cli", cli_n, cli);
  out << nlohmann::json{{"bench", "step"}, {"runtime", o.runtime}, {"ratio", exec.p50 / session.p50},
                        {"baseline", baseline}}
             .dump()
      << std::endl;
  if (cli_n > 0) {
    out << nlohmann::json{{"bench", "step"}, {"runtime", o.runtime}, {"ratio", cli.p50 / session.p50},
                          {"baseline", "exec-cli (one `docker exec` CLI call per command)"}}
               .dump()
        << std::endl;
  }
  return Status::OK();
}

}  // namespace r2e::bench
