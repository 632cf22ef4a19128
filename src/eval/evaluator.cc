// Batch evaluation: one instance in a sandbox (RepoEnv for the sandbox and
// its setup, the harness's patch cascade, the task's grader), and the runner
// that spreads instances over worker threads with per-instance deadlines,
// cancellation, resume and progress. The harness's run_instance
// (swebench/harness/run_evaluation.py, MIT) is the model: what it writes per
// instance and which failures are errors.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "docker/docker_client.h"
#include "r2e/docker_runtime.h"
#include "r2e/evaluation.h"
#include "r2e/grader.h"
#include "r2e/observation.h"
#include "r2e/repo_env.h"
#include "r2e/swebench.h"
#include "r2e/swesmith_profiles.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

// Where the model patch goes in the sandbox (as in the harness).
constexpr std::string_view kPatchPath = "/tmp/patch.diff";
// R2E images keep their test runner here after setup.
constexpr std::string_view kR2ERunTests = "/root/run_tests.sh";
// How often the runner checks deadlines and the stop flag.
constexpr auto kTick = std::chrono::milliseconds(100);
// How often the progress bar is redrawn.
constexpr auto kRedraw = std::chrono::milliseconds(500);

double Since(Clock::time_point t) { return Seconds(Clock::now() - t).count(); }

std::string Fixed(double v, int digits) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

// Writes `content` to `path` through a temporary file and a rename, so a
// reader (or a resumed run) never sees half a file.
Status WriteFileAtomic(const fs::path& path, std::string_view content) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::Unavailable("cannot write " + tmp.string());
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) return Status::Unavailable("error while writing " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::Unavailable("cannot rename " + tmp.string() + ": " + ec.message());
  return Status::OK();
}

// The last `n` lines of `text`.
std::string LastLines(std::string_view text, int n) {
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::size_t pos = text.size();
  for (int i = 0; i < n && pos != std::string_view::npos && pos > 0; ++i) {
    pos = text.rfind('\n', pos - 1);
  }
  return std::string(pos == std::string_view::npos ? text : text.substr(pos + 1));
}

// A Runtime that passes every call through and keeps the last shell script
// written into the sandbox: the eval script a grader ran, for eval.sh.
class TracingRuntime final : public Runtime {
 public:
  explicit TracingRuntime(std::unique_ptr<Runtime> inner) : inner_(std::move(inner)) {}

  std::string_view name() const override { return inner_->name(); }
  Status start(const SandboxSpec& spec) override { return inner_->start(spec); }
  Status stop() override { return inner_->stop(); }
  bool alive() override { return inner_->alive(); }
  Result<ExecResult> exec(std::string_view command, const ExecOptions& options = {}) override {
    return inner_->exec(command, options);
  }
  Status upload(const fs::path& host_path, const std::string& sandbox_path) override {
    return inner_->upload(host_path, sandbox_path);
  }
  Status download(const std::string& sandbox_path, const fs::path& host_path) override {
    return inner_->download(sandbox_path, host_path);
  }
  Result<std::string> read_file(const std::string& sandbox_path) override {
    return inner_->read_file(sandbox_path);
  }
  Status write_file(const std::string& sandbox_path, std::string_view content,
                    int mode = 0644) override {
    if (sandbox_path.ends_with(".sh")) {
      std::lock_guard<std::mutex> lock(mu_);
      last_script_ = std::string(content);
    }
    return inner_->write_file(sandbox_path, content, mode);
  }

  std::string command_path(const std::string& sandbox_path) const override {
    return inner_->command_path(sandbox_path);
  }
  std::string command_shell() const override { return inner_->command_shell(); }

  std::string last_script() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_script_;
  }

  Runtime& inner() { return *inner_; }

 private:
  std::unique_ptr<Runtime> inner_;
  mutable std::mutex mu_;
  std::string last_script_;
};

// What the runner knows about one running instance, so that it can stop its
// sandbox when the deadline passes or the run is stopped.
struct Slot {
  enum Cancel : int { kNone = 0, kDeadline = 1, kStop = 2 };
  std::mutex mu;
  TracingRuntime* runtime = nullptr;  // guarded by mu; valid while registered
  bool active = false;                // guarded by mu
  Clock::time_point deadline;         // guarded by mu
  std::atomic<int> cancel{kNone};
};

// Registers a runtime in a slot for its lifetime (declared after the
// RepoEnv that owns the runtime, so it unregisters before the env closes).
class SlotRegistration {
 public:
  SlotRegistration(Slot& slot, TracingRuntime* runtime, Clock::time_point deadline) : slot_(slot) {
    std::lock_guard<std::mutex> lock(slot_.mu);
    slot_.runtime = runtime;
    slot_.deadline = deadline;
    slot_.active = true;
  }
  ~SlotRegistration() {
    std::lock_guard<std::mutex> lock(slot_.mu);
    slot_.runtime = nullptr;
    slot_.active = false;
  }
  SlotRegistration(const SlotRegistration&) = delete;
  SlotRegistration& operator=(const SlotRegistration&) = delete;

 private:
  Slot& slot_;
};

// run_instance.log: timestamped lines relative to the instance's start.
class InstanceLog {
 public:
  InstanceLog() : t0_(Clock::now()) {}
  void line(std::string_view text) {
    text_ += "[" + Fixed(Since(t0_), 2) + "s] ";
    text_ += SanitizeUtf8(text);
    if (text_.empty() || text_.back() != '\n') text_ += '\n';
  }
  const std::string& text() const { return text_; }

 private:
  Clock::time_point t0_;
  std::string text_;
};

class InstanceRun {
 public:
  InstanceRun(const Task& task, const Prediction& prediction, const EvalOptions& options,
              Slot& slot)
      : task_(task), prediction_(prediction), options_(options), slot_(slot) {}

  InstanceResult Run() {
    const auto t0 = Clock::now();
    deadline_ = t0 + options_.timeout;
    result_.instance_id = task_.instance_id;
    result_.model = prediction_.model_name_or_path;
    result_.dir = InstanceDir(options_.report_dir, options_.run_id, prediction_.model_name_or_path,
                              task_.instance_id);
    RunInDir();
    result_.duration = Clock::now() - t0;
    log_.line("done in " + Fixed(result_.duration.count(), 2) +
              "s: " + std::string(InstanceOutcomeName(result_.outcome)) +
              (result_.error.empty() ? "" : " (" + result_.error + ")"));
    if (Status s = WriteFileAtomic(result_.dir / "run_instance.log", log_.text()); !s.ok()) {
      if (result_.outcome != InstanceOutcome::kError)
        Fail(EvalErrorKind::kInfrastructure, s.message());
    }
    return std::move(result_);
  }

 private:
  void RunInDir() {
    std::error_code ec;
    // Leftovers of an interrupted earlier attempt (it wrote no report.json).
    fs::remove_all(result_.dir, ec);
    fs::create_directories(result_.dir, ec);
    if (ec) {
      Fail(EvalErrorKind::kInfrastructure,
           "cannot create " + result_.dir.string() + ": " + ec.message());
      return;
    }
    const std::string& patch = *prediction_.model_patch;
    if (Status s = WriteFileAtomic(result_.dir / "patch.diff", patch); !s.ok()) {
      Fail(EvalErrorKind::kInfrastructure, s.message());
      return;
    }
    log_.line("instance " + task_.instance_id + " (" + std::string(TaskKindName(task_.kind)) +
              "), model " + prediction_.model_name_or_path + ", runtime " + options_.env.runtime +
              ", image " + (task_.image.empty() ? std::string("-") : task_.image) + ", rules " +
              RulesName() + ", timeout " +
              std::to_string(options_.timeout.count()) + "s");

    Result<std::unique_ptr<Runtime>> made = options_.make_runtime
                                                ? options_.make_runtime(task_)
                                                : MakeRuntime(options_.env.runtime, options_.env);
    if (!made.ok()) {
      Fail(EvalErrorKind::kInfrastructure, "runtime: " + made.status().ToString());
      return;
    }
    auto tracing = std::make_unique<TracingRuntime>(std::move(made).value());
    TracingRuntime* runtime = tracing.get();
    // No agent works in an evaluation sandbox, and the grader runs on the
    // runtime directly: the hidden tests stay where the grader looks.
    RepoEnvOptions env_options = options_.env;
    if (env_options.hidden_tests == HiddenTestMode::kRemoveFromSandbox) {
      env_options.hidden_tests = HiddenTestMode::kMoveUnderRoot;
    }
    RepoEnv env(task_, std::move(tracing), env_options);
    {
      SlotRegistration registration(slot_, runtime, deadline_);
      Evaluate(env, *runtime);
    }
    // Closed here whatever happened, so no sandbox outlives its instance.
    if (Status s = env.close(); !s.ok()) log_.line("closing the sandbox: " + s.ToString());
  }

  void Evaluate(RepoEnv& env, TracingRuntime& runtime) {
    if (Cancelled()) return;
    log_.line("starting the sandbox");
    auto reset = env.reset();
    if (!reset.ok()) {
      FailStep("sandbox start", reset.status());
      return;
    }
    if (Cancelled()) return;

    log_.line("applying the model patch (" + std::to_string(prediction_.model_patch->size()) +
              " bytes)");
    if (Status s = runtime.write_file(std::string(kPatchPath), *prediction_.model_patch); !s.ok()) {
      FailStep("writing the patch", s);
      return;
    }
    ExecOptions apply;
    apply.timeout = Remaining();
    apply.workdir = "/testbed";
    auto applied = runtime.exec(SweBenchApplyPatchCommand(kPatchPath, "/testbed"), apply);
    if (!applied.ok()) {
      FailStep("applying the patch", applied.status());
      return;
    }
    log_.line(applied->output);
    if (applied->timed_out) {
      Fail(EvalErrorKind::kTimeout, "timed out applying the patch");
      return;
    }
    if (applied->exit_code != 0) {
      // The reason: what the last command of the cascade said.
      std::string_view out = applied->output;
      const std::size_t marker = out.rfind(kSweApplyPatchFail);
      if (marker != std::string_view::npos) out.remove_prefix(marker + kSweApplyPatchFail.size());
      std::string why = LastLines(SanitizeUtf8(out), 1);
      if (why.starts_with(":")) why.erase(0, 1);
      Fail(EvalErrorKind::kPatchApplyFailed,
           "Patch Apply Failed" + (why.empty() ? std::string() : ": " + why) + " (exit " +
               std::to_string(applied->exit_code) + ")");
      return;
    }
    if (Cancelled()) return;

    std::string r2e_script;
    if (task_.kind == TaskKind::kR2E) {
      auto script = runtime.read_file(std::string(kR2ERunTests));
      if (script.ok()) r2e_script = std::move(script).value();
    }
    auto grader = MakeGrader(task_.kind, options_.env.rules);
    if (!grader.ok()) {
      Fail(EvalErrorKind::kInfrastructure, "grader: " + grader.status().ToString());
      return;
    }
    GradeOptions grade_options;
    grade_options.timeout =
        std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(Remaining()));
    log_.line("running the tests with the " + std::string((*grader)->name()) + " grader");
    auto graded = (*grader)->grade(runtime, task_, grade_options);

    const std::string script = task_.kind == TaskKind::kR2E ? r2e_script : runtime.last_script();
    if (!script.empty()) WriteArtifact("eval.sh", script);
    if (!graded.ok()) {
      FailStep("grading", graded.status());
      return;
    }
    WriteArtifact("test_output.txt", graded->log);
    for (const std::string& warning : graded->warnings) log_.line("warning: " + warning);
    // A log cut short by the kill would grade as a failed run: no report.
    if (Cancelled()) return;
    log_.line("tests ran in " + Fixed(Seconds(graded->duration).count(), 2) + "s; " +
              std::to_string(graded->status_map.size()) + " test statuses parsed");
    if (graded->timed_out) {
      // The grader's bound may be tighter (a SWE-smith profile's timeout).
      const nlohmann::json entry = graded->report.is_object()
                                        ? graded->report.value(task_.instance_id, nlohmann::json())
                                        : nlohmann::json();
      const long long seconds = entry.is_object() && entry.contains("timeout") &&
                                        entry["timeout"].is_number_integer()
                                    ? entry["timeout"].get<long long>()
                                    : static_cast<long long>(grade_options.timeout.count());
      Fail(EvalErrorKind::kTimeout, "tests timed out after " + std::to_string(seconds) + "s");
      return;
    }
    if (!graded->report.is_object() || !graded->report.contains(task_.instance_id)) {
      Fail(EvalErrorKind::kInfrastructure, "the grader gave no report for the instance");
      return;
    }
    // The harness's key order (SWE-smith and R2E reports: resolved first too).
    const std::string report = FormatSweBenchReport(graded->report);
    // report.json last: its presence marks the instance as done (resume).
    if (Status s = WriteFileAtomic(result_.dir / "report.json", report + "\n"); !s.ok()) {
      Fail(EvalErrorKind::kInfrastructure, s.message());
      return;
    }
    result_.outcome = graded->resolved ? InstanceOutcome::kResolved : InstanceOutcome::kUnresolved;
    log_.line(std::string("report: ") + (graded->resolved ? "resolved" : "not resolved"));
  }

  // The rules the instance is graded by (SWE-bench only chooses per row).
  std::string RulesName() const {
    if (task_.kind != TaskKind::kSweBench) return "-";
    return SweBenchRulesFor(task_, options_.env.rules) == GradingRules::kV5 ? "v5" : "classic";
  }

  std::chrono::milliseconds Remaining() const {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    return std::max(left, std::chrono::milliseconds(1000));
  }

  // True (and the result set) when the runner cancelled this instance or
  // its deadline passed (the runner's kill may still be on its way).
  bool Cancelled() {
    int cancel = slot_.cancel.load();
    if (cancel == Slot::kNone && Clock::now() >= deadline_) cancel = Slot::kDeadline;
    switch (cancel) {
      case Slot::kDeadline:
        Fail(EvalErrorKind::kTimeout, "timed out after " +
                                          std::to_string(options_.timeout.count()) +
                                          "s; the sandbox was stopped");
        return true;
      case Slot::kStop:
        Fail(EvalErrorKind::kInterrupted, "interrupted; the sandbox was stopped");
        return true;
      default:
        return false;
    }
  }

  // A failed step: the cancellation, when there was one, is the reason.
  void FailStep(std::string_view step, const Status& status) {
    log_.line(std::string(step) + " failed: " + status.ToString());
    if (Cancelled()) return;
    Fail(EvalErrorKind::kInfrastructure, std::string(step) + ": " + status.ToString());
  }

  void Fail(EvalErrorKind kind, std::string why) {
    result_.outcome = InstanceOutcome::kError;
    result_.error_kind = kind;
    result_.error = SanitizeUtf8(why);
    log_.line("error: " + result_.error);
  }

  void WriteArtifact(const std::string& name, std::string_view content) {
    if (Status s = WriteFileAtomic(result_.dir / name, content); !s.ok()) log_.line(s.ToString());
  }

  const Task& task_;
  const Prediction& prediction_;
  const EvalOptions& options_;
  Slot& slot_;
  Clock::time_point deadline_;
  InstanceResult result_;
  InstanceLog log_;
};

std::string FormatDuration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  const auto s = static_cast<std::int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

// Counts and progress output, shared by the workers and the runner thread.
class Progress {
 public:
  Progress(const EvalOptions& options, std::size_t total)
      : out_(options.progress), bar_(options.progress_bar), total_(total), t0_(Clock::now()) {}

  void Finished(const InstanceResult& r) {
    std::lock_guard<std::mutex> lock(mu_);
    ++done_;
    if (r.outcome == InstanceOutcome::kResolved) ++resolved_;
    if (r.outcome == InstanceOutcome::kUnresolved) ++unresolved_;
    if (r.outcome == InstanceOutcome::kError) ++errors_;
    if (out_ == nullptr) return;
    std::string line = "[" + std::to_string(done_) + "/" + std::to_string(total_) + "] " +
                       r.instance_id + ": " + std::string(InstanceOutcomeName(r.outcome)) + " (" +
                       Fixed(r.duration.count(), 1) + "s)";
    if (!r.error.empty()) line += ": " + LastLines(r.error, 1);
    if (bar_) {
      // Errors stay on screen above the bar; the rest only updates it.
      if (r.outcome == InstanceOutcome::kError) *out_ << "\r\x1b[K" << line << "\n";
      DrawLocked();
    } else {
      *out_ << "eval: " << line << "\n" << std::flush;
    }
  }

  void Redraw() {
    std::lock_guard<std::mutex> lock(mu_);
    if (out_ != nullptr && bar_) DrawLocked();
  }

  void Message(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu_);
    if (out_ == nullptr) return;
    if (bar_) *out_ << "\r\x1b[K";
    *out_ << "eval: " << text << "\n" << std::flush;
  }

  void End() {
    std::lock_guard<std::mutex> lock(mu_);
    if (out_ != nullptr && bar_ && drawn_) *out_ << "\n" << std::flush;
  }

 private:
  void DrawLocked() {
    constexpr int kWidth = 24;
    const double elapsed = Since(t0_);
    const int filled = total_ == 0 ? kWidth : static_cast<int>(kWidth * done_ / total_);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
    std::string eta = "?";
    if (done_ >= total_) {
      eta = "0:00";
    } else if (rate > 0) {
      eta = FormatDuration(static_cast<double>(total_ - done_) / rate);
    }
    *out_ << "\r\x1b[K[" << bar << "] " << done_ << "/" << total_ << "  resolved " << resolved_
          << "  unresolved " << unresolved_ << "  errors " << errors_ << "  "
          << Fixed(rate * 60.0, 1) << "/min  elapsed " << FormatDuration(elapsed) << "  ETA " << eta
          << std::flush;
    drawn_ = true;
  }

  std::mutex mu_;
  std::ostream* out_;
  bool bar_;
  std::size_t total_;
  Clock::time_point t0_;
  std::size_t done_ = 0, resolved_ = 0, unresolved_ = 0, errors_ = 0;
  bool drawn_ = false;
};

// Docker: connects, removes sandboxes orphaned by earlier (killed) runs,
// and makes sure every image is local before anything runs.
// SWE-smith rows whose repository has no profile run a default command that
// may not be the harness's: say so up front, once per repository.
void WarnUnprofiledSweSmith(const std::vector<std::pair<const Task*, const Prediction*>>& inputs,
                            const std::vector<std::size_t>& to_run, Progress& progress) {
  std::map<std::string, int> unknown;
  for (std::size_t i : to_run) {
    const Task& task = *inputs[i].first;
    if (task.kind != TaskKind::kSweSmith) continue;
    if (task.row.is_object() && task.row.contains("test_cmd") && task.row["test_cmd"].is_string() &&
        !task.row["test_cmd"].get_ref<const std::string&>().empty()) {
      continue;
    }
    if (FindSweSmithProfile(task) != nullptr) continue;
    const std::string key = SweSmithProfileKey(task);
    ++unknown[key.empty() ? "(no owner__repo.<commit> in the row)" : key];
  }
  for (const auto& [key, count] : unknown) {
    progress.Message("warning: no SWE-smith profile for " + key + " (" + std::to_string(count) +
                     " instance(s)): the tests run with the default command, which may not be "
                     "the harness's; see docs/swesmith-profiles.md");
  }
}

Result<std::shared_ptr<docker::DockerClient>> PrepareDocker(const std::vector<const Task*>& tasks,
                                                            const EvalOptions& options,
                                                            Progress& progress) {
  docker::ClientOptions client_options;
  client_options.socket_path = options.env.docker.socket_path;
  client_options.registry_auth = options.env.docker.registry_auth;
  auto connected = docker::DockerClient::Connect(client_options);
  if (!connected.ok()) return connected.status().WithContext("docker runtime");
  std::shared_ptr<docker::DockerClient> client = std::move(connected).value();

  CleanupOptions cleanup;
  cleanup.socket_path = options.env.docker.socket_path;
  if (auto cleaned = CleanupSandboxes(cleanup); cleaned.ok() && !cleaned->removed.empty()) {
    progress.Message("removed " + std::to_string(cleaned->removed.size()) +
                     " orphaned or expired sandbox(es) of earlier runs");
  }

  std::set<std::string> images;
  for (const Task* t : tasks) {
    images.insert(options.env.docker.image.empty() ? t->image : options.env.docker.image);
  }
  std::vector<std::string> missing;
  for (const std::string& image : images) {
    auto inspected = client->inspect_image(image);
    if (inspected.ok()) continue;
    if (inspected.status().code() != StatusCode::kNotFound) {
      return inspected.status().WithContext("checking image " + image);
    }
    missing.push_back(image);
  }
  if (missing.empty()) return client;
  std::string list;
  for (const auto& m : missing) list += "\n  " + m;
  if (!options.pull) {
    return Status::FailedPrecondition(
        std::to_string(missing.size()) + " of " + std::to_string(images.size()) +
        " image(s) the run needs are not present locally:" + list +
        "\nbuild them (the demo images: scripts/build-test-images.sh) or rerun with --pull");
  }
  std::vector<std::string> failed;
  for (const std::string& image : missing) {
    progress.Message("pulling " + image);
    if (Status s = client->pull_image(image); !s.ok()) {
      failed.push_back(image + ": " + s.message());
    }
  }
  if (!failed.empty()) {
    std::string why;
    for (const auto& f : failed) why += "\n  " + f;
    return Status::FailedPrecondition("could not pull " + std::to_string(failed.size()) +
                                      " image(s):" + why);
  }
  return client;
}

// Stops a running instance's sandbox from the runner thread. Docker
// sandboxes are killed through the daemon (the container's main process
// dies, the running exec ends, the container removes itself) rather than
// with a concurrent DockerRuntime::stop(), so that the worker's next call
// meets a dead container, not a runtime in the middle of stopping; the
// worker's close() then removes what is left.
void KillSandbox(TracingRuntime& runtime, docker::DockerClient* client) {
  if (client != nullptr) {
    if (auto* docker = dynamic_cast<DockerRuntime*>(&runtime.inner())) {
      const std::string id = docker->container_id();
      if (!id.empty()) (void)client->kill_container(id);
      return;  // not started yet: the worker checks the flag after start
    }
  }
  (void)runtime.stop();
}

}  // namespace

std::string_view InstanceOutcomeName(InstanceOutcome outcome) {
  switch (outcome) {
    case InstanceOutcome::kResolved:
      return "resolved";
    case InstanceOutcome::kUnresolved:
      return "unresolved";
    case InstanceOutcome::kEmptyPatch:
      return "empty patch";
    case InstanceOutcome::kSkipped:
      return "skipped (report exists)";
    case InstanceOutcome::kError:
      return "error";
  }
  return "error";
}

int DefaultEvalWorkers() {
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  if (cores <= 0) cores = 1;
  // MemAvailable in kB; an instance (container + tests) is given 2 GiB.
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::int64_t kb = 0;
  std::string unit;
  while (meminfo >> key >> kb >> unit) {
    if (key == "MemAvailable:") {
      const auto by_memory = static_cast<int>(kb / (2 * 1024 * 1024));
      return std::max(1, std::min(cores, by_memory));
    }
  }
  return cores;
}

Result<EvalRun> RunEvaluation(const std::vector<DatasetRow>& rows,
                              const std::vector<Prediction>& predictions,
                              const EvalOptions& input_options) {
  const auto t_start = Clock::now();
  EvalOptions options = input_options;
  if (options.run_id.empty() || options.run_id == "." || options.run_id == ".." ||
      options.run_id.find('/') != std::string::npos) {
    return Status::InvalidArgument("run id `" + options.run_id +
                                   "` cannot name a directory: give a non-empty id without '/'");
  }
  if (options.timeout.count() <= 0) {
    return Status::InvalidArgument("the per-instance timeout must be positive");
  }
  R2E_RETURN_IF_ERROR(ValidateEvaluation(rows, predictions, options.env.runtime));

  std::map<std::string, const Prediction*> by_id;
  for (const Prediction& p : predictions) by_id.emplace(p.instance_id, &p);

  EvalRun run;
  std::vector<std::string> dataset_ids;
  std::vector<std::size_t> to_run;  // indices into run.instances
  std::vector<std::pair<const Task*, const Prediction*>> inputs;
  std::size_t skipped = 0, empty = 0;
  for (const DatasetRow& row : rows) {
    dataset_ids.push_back(row.task.instance_id);
    auto it = by_id.find(row.task.instance_id);
    if (it == by_id.end()) continue;
    const Prediction& p = *it->second;
    InstanceResult r;
    r.instance_id = p.instance_id;
    r.model = p.model_name_or_path;
    r.dir = InstanceDir(options.report_dir, options.run_id, p.model_name_or_path, p.instance_id);
    if (p.empty()) {
      r.outcome = InstanceOutcome::kEmptyPatch;
      ++empty;
    } else if (options.resume && HasInstanceReport(r.dir, p.instance_id)) {
      r.outcome = InstanceOutcome::kSkipped;
      ++skipped;
    } else {
      r.outcome = InstanceOutcome::kError;
      r.error_kind = EvalErrorKind::kInterrupted;
      r.error = "not started: the run was stopped";
      to_run.push_back(run.instances.size());
    }
    run.instances.push_back(std::move(r));
    inputs.emplace_back(&row.task, &p);
  }

  const fs::path run_dir = options.report_dir / options.run_id;
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec)
    return Status::Unavailable("cannot create the report directory " + run_dir.string() + ": " +
                               ec.message());

  int workers = options.workers > 0 ? options.workers : DefaultEvalWorkers();
  workers = std::max(
      1, std::min<int>(workers, static_cast<int>(std::max<std::size_t>(to_run.size(), 1))));
  run.workers = workers;
  Progress progress(options, to_run.size());
  progress.Message("run " + options.run_id + ": " + std::to_string(rows.size()) + " instance(s), " +
                   std::to_string(to_run.size()) + " to run, " + std::to_string(empty) +
                   " empty patch(es), " + std::to_string(skipped) +
                   " already done (report.json exists: skipped); " + std::to_string(workers) +
                   " worker(s), runtime " + options.env.runtime + "; reports in " +
                   run_dir.string());
  WarnUnprofiledSweSmith(inputs, to_run, progress);

  const auto stop_requested = [&] { return options.stop != nullptr && options.stop->load(); };

  std::shared_ptr<docker::DockerClient> docker_client;
  if (!to_run.empty() && options.env.runtime == "docker" && !options.make_runtime) {
    std::vector<const Task*> tasks;
    for (std::size_t i : to_run) tasks.push_back(inputs[i].first);
    auto client = PrepareDocker(tasks, options, progress);
    if (!client.ok()) return client.status();
    docker_client = std::move(client).value();
    // Images are local now: a missing one later is that instance's error.
    options.env.docker.pull = DockerRuntimeOptions::Pull::kNever;
    options.env.docker.labels.emplace_back("r2e.eval.run_id", options.run_id);
    // A killed runner's sandboxes remove themselves soon after the deadline.
    options.env.docker.max_lifetime = options.timeout + std::chrono::minutes(10);
  }
  options.env.reward_timeout = options.timeout;

  // Workers take instances in dataset order; the calling thread watches
  // deadlines and the stop flag and draws the progress bar.
  std::vector<Slot> slots(static_cast<std::size_t>(workers));
  std::atomic<std::size_t> next{0};
  std::mutex done_mu;
  std::condition_variable done_cv;
  int running = 0;
  std::vector<std::thread> threads;
  auto worker = [&](std::size_t w) {
    Slot& slot = slots[w];
    for (;;) {
      if (stop_requested()) break;
      const std::size_t k = next.fetch_add(1);
      if (k >= to_run.size()) break;
      const std::size_t i = to_run[k];
      slot.cancel.store(Slot::kNone);
      InstanceResult r;
      try {
        r = InstanceRun(*inputs[i].first, *inputs[i].second, options, slot).Run();
      } catch (const std::exception& e) {
        r = run.instances[i];
        r.outcome = InstanceOutcome::kError;
        r.error_kind = EvalErrorKind::kInfrastructure;
        r.error = std::string("internal error: ") + e.what();
      }
      progress.Finished(r);
      std::lock_guard<std::mutex> lock(done_mu);
      run.instances[i] = std::move(r);
    }
    std::lock_guard<std::mutex> lock(done_mu);
    --running;
    done_cv.notify_all();
  };
  if (!stop_requested()) {
    try {
      for (int w = 0; w < workers; ++w) {
        {
          std::lock_guard<std::mutex> lock(done_mu);
          ++running;
        }
        threads.emplace_back(worker, static_cast<std::size_t>(w));
      }
    } catch (const std::system_error& e) {
      {
        std::lock_guard<std::mutex> lock(done_mu);
        --running;  // the thread that failed to start
      }
      progress.Message(std::string("could not start all workers: ") + e.what());
    }
  }

  auto last_draw = Clock::now() - kRedraw;
  bool stopping = false;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(done_mu);
      if (running == 0) break;
      done_cv.wait_for(lock, kTick, [&] { return running == 0; });
      if (running == 0) break;
    }
    const bool stop_now = stop_requested();
    if (stop_now && !stopping) {
      stopping = true;
      progress.Message("stopping: no new instances; stopping the running sandboxes");
    }
    // Flags first (workers see them at their next step), then the kills.
    const auto now = Clock::now();
    std::vector<Slot*> to_kill;
    for (Slot& slot : slots) {
      std::lock_guard<std::mutex> lock(slot.mu);
      if (!slot.active || slot.cancel.load() != Slot::kNone) continue;
      int why = Slot::kNone;
      if (stop_now) {
        why = Slot::kStop;
      } else if (now >= slot.deadline) {
        why = Slot::kDeadline;
      }
      if (why == Slot::kNone) continue;
      slot.cancel.store(why);
      to_kill.push_back(&slot);
    }
    for (Slot* slot : to_kill) {
      std::lock_guard<std::mutex> lock(slot->mu);
      // Still the instance that was flagged: a worker resets the flag only
      // after unregistering.
      if (slot->active && slot->runtime != nullptr) {
        KillSandbox(*slot->runtime, docker_client.get());
      }
    }
    if (now - last_draw >= kRedraw) {
      progress.Redraw();
      last_draw = now;
    }
  }
  for (auto& t : threads) t.join();
  progress.End();

  run.interrupted = stop_requested();
  run.wall_seconds = Since(t_start);
  nlohmann::json reasons = nlohmann::json::object();
  std::set<std::string> models;
  std::vector<Prediction> submitted;
  for (const auto& [task, prediction] : inputs) submitted.push_back(*prediction);
  for (const InstanceResult& r : run.instances) {
    models.insert(r.model);
    if (r.outcome == InstanceOutcome::kResolved || r.outcome == InstanceOutcome::kUnresolved ||
        (r.outcome == InstanceOutcome::kError && r.duration.count() > 0)) {
      ++run.attempted;
      run.instance_seconds_sum += r.duration.count();
    }
    if (r.outcome == InstanceOutcome::kError) reasons[r.instance_id] = r.error;
  }
  run.summary = MakeRunSummary(dataset_ids, submitted, options.report_dir, options.run_id);
  run.summary["run_id"] = options.run_id;
  run.summary["wall_time_s"] = std::round(run.wall_seconds * 1000) / 1000;
  run.summary["instance_time_sum_s"] = std::round(run.instance_seconds_sum * 1000) / 1000;
  run.summary["workers"] = run.workers;
  run.summary["error_reasons"] = std::move(reasons);
  run.summary["interrupted"] = run.interrupted;

  const std::string file_name =
      (models.size() == 1 ? ModelDirName(*models.begin()) : std::string("summary")) + "." +
      options.run_id + ".json";
  if (Status s = WriteFileAtomic(
          run_dir / file_name,
          run.summary.dump(4, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      !s.ok()) {
    progress.Message("could not write the run summary: " + s.message());
  }
  return run;
}

}  // namespace r2e
