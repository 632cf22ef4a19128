// `r2e soak`: many episodes with the chaotic agent (cli/soak/chaos_agent.h)
// on several environments at once, then a leak check. Prints one JSON
// summary (shared/spec/cli.md); exit 1 when anything leaked, a reward was
// awarded that the agent did not earn, the hidden tests showed, shell syntax
// got through a tool argument, or a step outlived its bound.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/soak/chaos_agent.h"
#include "cli/stop_signals.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/task.h"

namespace r2e::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

long ReadRssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

int CountFds() {
  int n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/self/fd", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    ++n;
  }
  return n - 1;  // the iterator's own descriptor
}

// Processes (anywhere on this machine, containers included) whose
// environment holds `token`: commands of our sandboxes that outlived them.
int CountProcessesWithToken(const std::string& token) {
  int n = 0;
  const std::string self = std::to_string(::getpid());
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string pid = it->path().filename().string();
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit) || pid == self) continue;
    std::ifstream in(it->path() / "environ", std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    if (buf.str().find(token) != std::string::npos) ++n;
  }
  return n;
}

struct Totals {
  std::mutex mu;
  int episodes = 0;
  int steps = 0;
  std::map<std::string, int> errors_by_kind;
  std::map<std::string, int> actions_by_kind;
  std::vector<double> step_ms;
  int rewards_computed = 0;
  int unearned_rewards = 0;
  int hidden_tests_visible = 0;
  int injections = 0;
  int hung_steps = 0;
  int timed_out_steps = 0;
  int session_deaths = 0;

  void error(const std::string& where, const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    ++errors_by_kind[where + ":" + std::string(StatusCodeName(s.code()))];
  }
};

struct Plan {
  const std::vector<Task>* tasks;
  RepoEnvOptions env_options;
  int max_steps;
  Clock::time_point deadline;  // max() when no --duration
  std::atomic<int> next_episode{0};
  int episodes;
  std::uint64_t seed;
  bool fork_bomb;
  int oversleep_s;
  // Steps slower than this are counted as hung (step timeout + the
  // runtime's documented slack + generous scheduling noise).
  double hung_ms;
};

// Whether `text` shows a hidden test's definition: `def <name>` for a test
// function named in the task's expected output (the agent's own fake tests
// use other names).
bool ShowsHiddenTests(const Task& task, const std::string& text) {
  nlohmann::json expected = nlohmann::json::parse(task.expected_output_json, nullptr, false);
  if (!expected.is_object()) return false;
  for (const auto& item : expected.items()) {
    std::string name = item.key();
    name = name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
    name = name.substr(0, name.find('['));
    if (!name.empty() && text.find("def " + name + "(") != std::string::npos) return true;
  }
  return false;
}

void RunEpisode(Plan& plan, int index, Totals& totals) {
  const Task& task = (*plan.tasks)[static_cast<std::size_t>(index) % plan.tasks->size()];
  auto env = RepoEnv::Create(task, plan.env_options);
  if (!env.ok()) {
    totals.error("create", env.status());
    return;
  }
  auto first = (*env)->reset();
  if (!first.ok()) {
    totals.error("reset", first.status());
    (void)(*env)->close();
    return;
  }
  soak::ChaosOptions chaos;
  chaos.isolated = (*env)->runtime().isolated();
  chaos.fork_bomb = plan.fork_bomb;
  chaos.oversleep_s = plan.oversleep_s;
  soak::ChaosAgent agent(plan.seed * 1000003u + static_cast<std::uint64_t>(index), chaos);

  bool alive = true;
  int steps = 0;
  for (int i = 0; i < plan.max_steps && Clock::now() < plan.deadline && !StopRequested(); ++i) {
    soak::ChaosAction a = agent.Next();
    const auto t0 = Clock::now();
    Result<StepResult> r = Status::Internal("not run");
    if (a.tool_call) {
      auto action = ActionFromToolCall(a.tool_name, a.arguments_json);
      // A malformed tool call is the agent's mistake: a model loop shows it
      // the parse error; nothing reaches the sandbox.
      r = action.ok() ? (*env)->step(*action) : Result<StepResult>(StepResult{});
    } else {
      r = (*env)->step(a.text);
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    ++steps;
    {
      std::lock_guard<std::mutex> lock(totals.mu);
      ++totals.steps;
      ++totals.actions_by_kind[a.kind];
      totals.step_ms.push_back(ms);
      if (ms > plan.hung_ms) ++totals.hung_steps;
      if (r.ok() && r->info.timed_out) ++totals.timed_out_steps;
    }
    if (!r.ok()) {
      // The sandbox is gone (kill -9 -1 on docker ends its init): the
      // episode ends with a clear error, as a trainer would see it.
      totals.error("step", r.status());
      alive = false;
      break;
    }
    if (a.probes_hidden_tests && ShowsHiddenTests(task, r->observation.text)) {
      std::lock_guard<std::mutex> lock(totals.mu);
      ++totals.hidden_tests_visible;
    }
    if (!a.injection_canary.empty()) {
      ExecOptions o;
      o.timeout = std::chrono::seconds(20);
      auto check = (*env)->runtime().exec("test -e " + a.injection_canary, o);
      if (check.ok() && check->exit_code == 0) {
        std::lock_guard<std::mutex> lock(totals.mu);
        ++totals.injections;
      }
    }
    if (r->done) break;
  }
  // Grade some episodes: the chaotic agent never fixes the bug, so any
  // reward is unearned (tampered tests, a spoofed runner, ...).
  if (alive && index % 3 == 0 && !StopRequested()) {
    auto reward = (*env)->compute_reward();
    if (!reward.ok()) {
      totals.error("reward", reward.status());
    } else {
      std::lock_guard<std::mutex> lock(totals.mu);
      ++totals.rewards_computed;
      if (*reward != 0.0) ++totals.unearned_rewards;
    }
  }
  if (Status s = (*env)->close(); !s.ok()) totals.error("close", s);
  std::lock_guard<std::mutex> lock(totals.mu);
  ++totals.episodes;
  (void)steps;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string DefaultTasks() {
  if (fs::exists("examples/tasks/demo.jsonl")) return "examples/tasks/demo.jsonl";
#ifdef R2E_SOAK_DEFAULT_TASKS
  return R2E_SOAK_DEFAULT_TASKS;
#else
  return "examples/tasks/demo.jsonl";
#endif
}

}  // namespace

int Soak(const CommonOptions& common, const SoakOptions& soak) {
  const auto t_start = Clock::now();
  const long rss_start = ReadRssKib();
  const int fds_start = CountFds();

  const std::string tasks_file = soak.tasks.empty() ? DefaultTasks() : soak.tasks;
  TaskParseOptions parse;
  parse.image_override = common.image;
  auto tasks = LoadTasks(tasks_file, parse);
  if (!tasks.ok() || tasks->empty()) {
    std::cerr << "r2e soak: " << (tasks.ok() ? "no tasks in " + tasks_file : tasks.status().ToString()) << "\n";
    return 2;
  }
  const unsigned seed = soak.seed != 0 ? soak.seed : static_cast<unsigned>(std::random_device{}());
  // Every sandbox process carries this token in its environment, so that
  // anything of ours still running at the end is found.
  const std::string token = "R2E_SOAK_TOKEN=" + std::to_string(::getpid()) + "-" + std::to_string(seed);

  // Sandboxes of our own under a private work root (local runtime).
  fs::path work_root = fs::temp_directory_path() / ("r2e-soak-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directories(work_root, ec);

  RuntimeOptions runtimes = RuntimeOptionsFor(common);
  runtimes.local.work_root = work_root;
  runtimes.local.session.env.emplace_back("R2E_SOAK_TOKEN", token.substr(token.find('=') + 1));
  runtimes.docker.env.emplace_back("R2E_SOAK_TOKEN", token.substr(token.find('=') + 1));
  runtimes.docker.pids_limit = soak.pids_limit;
  runtimes.docker.memory_bytes = std::int64_t{1} << 30;
  runtimes.docker.network_mode = "none";
  runtimes.docker.max_lifetime = std::chrono::seconds(std::max(600, soak.duration_s * 2 + 600));
  auto factory = MakeRuntimeFactory(common.runtime, runtimes);
  if (!factory.ok()) {
    std::cerr << "r2e soak: " << factory.status().ToString() << "\n";
    return 2;
  }

  Plan plan;
  plan.tasks = &*tasks;
  plan.env_options.runtime = Stoppable(std::move(factory).value());
  plan.env_options.step_timeout = std::chrono::seconds(soak.step_timeout_s);
  plan.env_options.reward_timeout = std::chrono::seconds(120);
  plan.max_steps = soak.max_steps;
  plan.deadline = soak.duration_s > 0 ? t_start + std::chrono::seconds(soak.duration_s) : Clock::time_point::max();
  plan.episodes = soak.episodes;
  plan.seed = seed;
  // Only where a process limit (Docker's --pids-limit) contains one.
  plan.fork_bomb = LimitsProcesses(common.runtime, runtimes);
  plan.oversleep_s = soak.step_timeout_s + 20;
  plan.hung_ms = (soak.step_timeout_s + 30) * 1000.0;

  if (soak.skip_unavailable) {
    // Probe once: no daemon or no image means this machine cannot run the
    // soak at all (ctest marks it skipped), which is not a failure of ours.
    auto env = RepoEnv::Create((*tasks)[0], plan.env_options);
    Status s = env.ok() ? (*env)->reset().status() : env.status();
    if (env.ok()) (void)(*env)->close();
    if (!s.ok() && (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kNotFound ||
                    s.code() == StatusCode::kFailedPrecondition)) {
      std::cerr << "r2e soak: skipped, the runtime is not available here: " << s.ToString() << "\n";
      fs::remove_all(work_root, ec);
      return 77;
    }
  }

  Totals totals;
  std::vector<std::thread> workers;
  for (int w = 0; w < std::max(1, soak.concurrency); ++w) {
    workers.emplace_back([&] {
      for (;;) {
        if (Clock::now() >= plan.deadline || StopRequested()) return;
        int i = plan.next_episode.fetch_add(1);
        if (i >= plan.episodes) return;
        RunEpisode(plan, i, totals);
        std::cerr << "r2e soak: episode " << i + 1 << "/" << plan.episodes << " done\n";
      }
    });
  }
  for (auto& t : workers) t.join();

  // Leaks, measured after every environment has been closed.
  // Sandboxes: containers naming this process as their owner (only Docker
  // makes any) and working directories left under the private work root
  // (only the local runtime makes any).
  int leaked_sandboxes = 0;
  if (auto own = DockerRuntime::OwnContainers(runtimes.docker); own.ok()) {
    leaked_sandboxes = static_cast<int>(own->size());
  }
  int leaked_workdirs = 0;
  for (auto it = fs::directory_iterator(work_root, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ++leaked_workdirs;
  }
  fs::remove_all(work_root, ec);
  leaked_sandboxes += leaked_workdirs;
  // Processes take a moment to be reaped after their sandbox is removed.
  int leaked_processes = CountProcessesWithToken(token);
  for (int i = 0; i < 20 && leaked_processes > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    leaked_processes = CountProcessesWithToken(token);
  }
  const long rss_end = ReadRssKib();
  const int fds_end = CountFds();

  nlohmann::ordered_json out;
  out["runtime"] = common.runtime;
  out["episodes"] = totals.episodes;
  out["steps"] = totals.steps;
  out["concurrency"] = soak.concurrency;
  out["errors_by_kind"] = totals.errors_by_kind;
  out["actions_by_kind"] = totals.actions_by_kind;
  out["timed_out_steps"] = totals.timed_out_steps;
  out["step_p50_ms"] = Percentile(totals.step_ms, 0.50);
  out["step_p99_ms"] = Percentile(totals.step_ms, 0.99);
  out["step_max_ms"] = totals.step_ms.empty() ? 0.0 : *std::max_element(totals.step_ms.begin(), totals.step_ms.end());
  out["hung_steps"] = totals.hung_steps;
  out["rewards_computed"] = totals.rewards_computed;
  out["unearned_rewards"] = totals.unearned_rewards;
  out["hidden_tests_visible"] = totals.hidden_tests_visible;
  out["injections"] = totals.injections;
  out["rss_kib_start"] = rss_start;
  out["rss_kib_end"] = rss_end;
  out["fds_start"] = fds_start;
  out["fds_end"] = fds_end;
  out["leaked_sandboxes"] = leaked_sandboxes;
  out["leaked_processes"] = leaked_processes;
  out["duration_s"] = std::chrono::duration<double>(Clock::now() - t_start).count();
  out["seed"] = seed;
  out["interrupted"] = StopRequested();
  // A few descriptors may be opened once and kept (random device, logger);
  // more than that per run is a leak.
  const bool fd_leak = fds_end > fds_start + 3;
  const bool ok = leaked_sandboxes == 0 && leaked_processes == 0 && !fd_leak && totals.unearned_rewards == 0 &&
                  totals.hidden_tests_visible == 0 && totals.injections == 0 && totals.hung_steps == 0 &&
                  totals.episodes > 0;
  out["ok"] = ok;
  std::cout << out.dump() << std::endl;
  return ok ? 0 : 1;
}

}  // namespace r2e::cli
