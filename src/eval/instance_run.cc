// One instance of a batch evaluation in a sandbox: RepoEnv for the sandbox
// and its setup, the harness's patch cascade, the task's grader, and the
// instance's directory. The harness's run_instance
// (swebench/harness/run_evaluation.py, MIT) is the model: what it writes per
// instance and which failures are errors.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "eval/eval_internal.h"
#include "r2e/evaluation.h"
#include "r2e/grader.h"
#include "r2e/observation.h"
#include "r2e/repo_env.h"
#include "r2e/runtime_wrapper.h"
#include "r2e/swebench.h"

namespace r2e::internal {
namespace {

namespace fs = std::filesystem;
using Clock = EvalClock;
using Seconds = std::chrono::duration<double>;

// Where the model patch goes in the sandbox (as in the harness).
constexpr std::string_view kPatchPath = "/tmp/patch.diff";
// R2E images keep their test runner here after setup.
constexpr std::string_view kR2ERunTests = "/root/run_tests.sh";

// A runtime that passes every call through and keeps the last shell script
// written into the sandbox: the eval script a grader ran, for eval.sh.
class TracingRuntime final : public RuntimeWrapper {
 public:
  using RuntimeWrapper::RuntimeWrapper;

  Status write_file(const std::string& sandbox_path, std::string_view content, int mode = 0644) override {
    if (sandbox_path.ends_with(".sh")) {
      std::lock_guard<std::mutex> lock(mu_);
      last_script_ = std::string(content);
    }
    return RuntimeWrapper::write_file(sandbox_path, content, mode);
  }

  std::string last_script() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_script_;
  }

 private:
  mutable std::mutex mu_;
  std::string last_script_;
};

// Registers a runtime in a slot for its lifetime (declared after the
// RepoEnv that owns the runtime, so it unregisters before the env closes).
class SlotRegistration {
 public:
  SlotRegistration(EvalSlot& slot, Runtime* runtime, Clock::time_point deadline) : slot_(slot) {
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
  EvalSlot& slot_;
};

// run_instance.log: timestamped lines relative to the instance's start.
class InstanceLog {
 public:
  InstanceLog() : t0_(Clock::now()) {}
  void line(std::string_view text) {
    text_ += "[" + Fixed(SecondsSince(t0_), 2) + "s] ";
    text_ += SanitizeUtf8(text);
    if (text_.empty() || text_.back() != '\n') text_ += '\n';
  }
  const std::string& text() const { return text_; }

 private:
  Clock::time_point t0_;
  std::string text_;
};

// One instance, start to end; Run() never throws on a failing instance
// (the failure is the result's).
class InstanceRun {
 public:
  InstanceRun(const Task& task, const Prediction& prediction, const EvalOptions& options,
              const EvalRuntimeFactory& make_runtime, std::string_view runtime_name, EvalSlot& slot)
      : task_(task),
        prediction_(prediction),
        options_(options),
        make_runtime_(make_runtime),
        runtime_name_(runtime_name),
        slot_(slot) {}

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
              "), model " + prediction_.model_name_or_path + ", runtime " + std::string(runtime_name_) +
              ", image " + (task_.image.empty() ? std::string("-") : task_.image) + ", rules " +
              RulesName() + ", timeout " +
              std::to_string(options_.timeout.count()) + "s");

    Result<std::unique_ptr<Runtime>> made = make_runtime_(task_);
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
    env_options.grade_in = GradeIn::kAgentSandbox;  // this sandbox is the fresh one
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
    if (applied->exit_code == -1) {
      // No exit status: the stream ended under the command, so the sandbox
      // (not the patch) failed, unless the runner stopped it.
      if (Cancelled()) return;
      Fail(EvalErrorKind::kInfrastructure,
           "applying the patch: the sandbox shell ended without an exit status (the sandbox died?)");
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
    if (cancel == EvalSlot::kNone && Clock::now() >= deadline_) cancel = EvalSlot::kDeadline;
    switch (cancel) {
      case EvalSlot::kDeadline:
        Fail(EvalErrorKind::kTimeout, "timed out after " +
                                          std::to_string(options_.timeout.count()) +
                                          "s; the sandbox was stopped");
        return true;
      case EvalSlot::kStop:
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
  const EvalRuntimeFactory& make_runtime_;
  std::string_view runtime_name_;
  EvalSlot& slot_;
  Clock::time_point deadline_;
  InstanceResult result_;
  InstanceLog log_;
};

}  // namespace

double SecondsSince(EvalClock::time_point t) { return Seconds(EvalClock::now() - t).count(); }

std::string Fixed(double v, int digits) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

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

std::string TakeAttemptLog(const fs::path& dir, int attempt, const std::string& earlier) {
  std::ifstream in(dir / "run_instance.log", std::ios::binary);
  std::string log((std::istreambuf_iterator<char>(in)), {});
  return earlier + "--- attempt " + std::to_string(attempt) + " ---\n" + log;
}

void PrependAttemptLogs(const fs::path& dir, const std::string& earlier, int attempt) {
  if (dir.empty()) return;
  (void)WriteFileAtomic(dir / "run_instance.log", TakeAttemptLog(dir, attempt, earlier));
}

std::string LastLines(std::string_view text, int n) {
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  // The kept tail is text[start..); each round moves start to the beginning
  // of the line before it.
  std::size_t start = text.size();
  for (int i = 0; i < n && start > 0; ++i) {
    const std::size_t end = i == 0 ? start : start - 1;  // past the newline before the tail
    const std::size_t nl = end == 0 ? std::string_view::npos : text.rfind('\n', end - 1);
    start = nl == std::string_view::npos ? 0 : nl + 1;
  }
  return std::string(text.substr(start));
}

InstanceResult RunInstance(const Task& task, const Prediction& prediction, const EvalOptions& options,
                           const EvalRuntimeFactory& make_runtime, std::string_view runtime_name, EvalSlot& slot) {
  return InstanceRun(task, prediction, options, make_runtime, runtime_name, slot).Run();
}

}  // namespace r2e::internal
