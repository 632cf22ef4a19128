// The SWE-bench grader (r2e/grader.h): runs the task's eval script in the
// sandbox and grades the log with r2e/swebench.h, by the rules chosen for the
// task (SweBenchRulesFor).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "grading/test_run.h"
#include "r2e/grader.h"
#include "r2e/shell_quote.h"
#include "r2e/swebench.h"

namespace r2e {
namespace {

using nlohmann::json;

constexpr std::string_view kScriptPath = "/root/r2e_eval.sh";
constexpr std::chrono::seconds kHousekeepingTimeout{60};

class SweBenchGrader final : public Grader {
 public:
  SweBenchGrader(std::optional<GradingRules> rules, SweBenchEvalScriptOptions script_options)
      : rules_(rules), script_options_(std::move(script_options)) {}

  std::string_view name() const override { return "swebench"; }

  Result<GradeResult> grade(Runtime& runtime, const Task& task,
                            const GradeOptions& options) override {
    const auto start = std::chrono::steady_clock::now();
    const std::string context = "grading " + task.instance_id;
    R2E_RETURN_IF_ERROR(CheckTask(task));
    const GradingRules rules = SweBenchRulesFor(task, rules_);

    auto script = SweBenchEvalScriptFor(task, rules, script_options_);
    if (!script.ok()) return script.status();
    Status wrote = runtime.write_file(std::string(kScriptPath), *script, 0755);
    if (!wrote.ok()) return wrote.WithContext(context + ": writing the eval script");

    internal::TestRun test;
    test.script = std::string(kScriptPath);
    test.log_file = "/tmp/r2e_swebench_" + internal::RandomHex(8) + ".log";
    test.run.timeout = options.timeout;
    test.housekeeping.timeout = kHousekeepingTimeout;
    // The script holds the hidden tests: it does not outlive the run. Nor do
    // the test files: the classic script leaves the files the test patch
    // creates, and a script that timed out stopped before its reset.
    test.cleanup = "rm -f " + test.log_file + " " + test.script + "\n" +
                   ResetScript(task, script_options_.repo_directory);
    auto ran = internal::RunTests(runtime, test);
    if (!ran.ok()) return ran.status().WithContext(context);
    std::string log = std::move(ran->output);

    const bool timed_out = ran->timed_out;
    if (timed_out) {
      // The harness writes this line and gives no report; the marker makes
      // the saved log grade as "not found" wherever it is graded again.
      log += "\n\nTimeout error: " + std::to_string(options.timeout.count()) +
             " seconds exceeded.\n" + std::string(kSweTestsTimedOut) + "\n";
    }

    R2E_ASSIGN_OR_RETURN(GradeResult result, Evaluate(task, rules, std::move(log)));
    if (timed_out) {
      result.timed_out = true;
      result.resolved = false;
      result.reward = 0.0;
      json& inst = result.report[task.instance_id];
      inst["resolved"] = false;
      inst["timed_out"] = true;
      inst["timeout"] = options.timeout.count();
    }
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return result;
  }

  Result<GradeResult> grade_log(const Task& task, std::string_view log) const override {
    const auto start = std::chrono::steady_clock::now();
    R2E_RETURN_IF_ERROR(CheckTask(task));
    R2E_ASSIGN_OR_RETURN(GradeResult result,
                         Evaluate(task, SweBenchRulesFor(task, rules_), std::string(log)));
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return result;
  }

 private:
  // A row with nothing to grade would be "resolved" by any log that has the
  // markers: refuse it rather than hand out a reward of 1.
  static Status CheckTask(const Task& task) {
    if (task.fail_to_pass.empty() && task.pass_to_pass.empty()) {
      return Status::InvalidArgument("task " + task.instance_id +
                                     " has empty FAIL_TO_PASS and PASS_TO_PASS: nothing to grade");
    }
    return Status::OK();
  }

  static Result<GradeResult> Evaluate(const Task& task, GradingRules rules, std::string log) {
    R2E_ASSIGN_OR_RETURN(SweBenchLogEval eval, EvalSweBenchLog(task, log, rules));
    GradeResult result;
    bool resolved = false;
    result.report = MakeSweBenchReport(task, eval, rules, /*patch_is_none=*/false, &resolved);
    result.resolved = resolved;
    result.reward = resolved ? 1.0 : 0.0;
    result.status_map = std::move(eval.status_map);
    result.log = std::move(log);
    return result;
  }

  // Puts the files the test patch touches back as they were at base_commit:
  // modified ones checked out, created ones removed.
  static std::string ResetScript(const Task& task, const std::string& repo_directory) {
    const std::string base = task.base_commit.empty() ? "HEAD" : task.base_commit;
    const PatchFiles files = SweBenchPatchFiles(task.test_patch);
    std::string s;
    if (!files.modified.empty()) {
      s += "git checkout " + ShellQuote(base);
      for (const auto& f : files.modified) s += " " + ShellQuote(f);
      s += "\n";
    }
    if (!files.created.empty()) {
      s += "rm -f";
      for (const auto& f : files.created) s += " " + ShellQuote(f);
      s += "\n";
    }
    return s.empty() ? s : "cd " + ShellQuote(repo_directory) + " || exit 1\n" + s;
  }

  std::optional<GradingRules> rules_;
  SweBenchEvalScriptOptions script_options_;
};

}  // namespace

std::unique_ptr<Grader> MakeSweBenchGrader(std::optional<GradingRules> rules) {
  return std::make_unique<SweBenchGrader>(rules, SweBenchEvalScriptOptions{});
}

std::unique_ptr<Grader> MakeSweBenchGrader(std::optional<GradingRules> rules,
                                           const SweBenchEvalScriptOptions& script_options) {
  return std::make_unique<SweBenchGrader>(rules, script_options);
}

}  // namespace r2e
