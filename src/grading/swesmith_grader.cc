// The SWE-smith grader (shared/spec/grading.md, "SWE-smith"): restores the
// test files named by FAIL_TO_PASS / PASS_TO_PASS to base_commit, runs the
// repository profile's test command between the markers (swesmith_plan.h),
// slices and parses the log as SWE-smith's harness does and grades with
// exact names and explicit passes.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "grading/swesmith_plan.h"
#include "grading/test_run.h"
#include "r2e/grader.h"
#include "r2e/shell_quote.h"
#include "r2e/swebench.h"

namespace r2e {
namespace {

// Markers (SWE-bench's constants, which SWE-smith reuses).
constexpr std::string_view kStartMarker = ">>>>> Start Test Output";
constexpr std::string_view kEndMarker = ">>>>> End Test Output";
constexpr std::string_view kApplyPatchFailed = ">>>>> Patch Apply Failed";
constexpr std::string_view kTestsTimedOut = ">>>>> Tests Timed Out";
// The run script has `set -x`, so the markers reach the log as xtrace lines.
constexpr std::string_view kStartSep = "+ : '>>>>> Start Test Output'";
constexpr std::string_view kEndSep = "+ : '>>>>> End Test Output'";

constexpr std::string_view kScriptPath = "/root/r2e_swesmith_eval.sh";

constexpr std::chrono::seconds kHousekeepingTimeout{120};

using internal::Contains;

using internal::SweSmithPlan;

bool GradedName(const std::string& name, const SweSmithPlan& plan) {
  if (plan.graded_prefixes.empty()) return true;
  if (plan.graded_exact_files) {
    return std::binary_search(plan.graded_prefixes.begin(), plan.graded_prefixes.end(),
                              name.substr(0, name.find("::")));
  }
  return std::any_of(plan.graded_prefixes.begin(), plan.graded_prefixes.end(),
                     [&](const std::string& p) { return name.starts_with(p); });
}

// The tests of `names` the run covered, as the harness filters them.
std::vector<std::string> Relevant(const std::vector<std::string>& names, const SweSmithPlan& plan,
                                  const StatusMap* seen_only) {
  std::vector<std::string> out;
  for (const auto& name : names) {
    if (!GradedName(name, plan)) continue;
    if (seen_only != nullptr && !seen_only->contains(name)) continue;
    out.push_back(name);
  }
  return out;
}

enum class SliceKind { kFound, kFatal, kNotFound };

struct Slice {
  SliceKind kind = SliceKind::kNotFound;
  std::string_view text;
};

// SWE-smith's read_test_output: a fatal marker anywhere -> nothing; a marker
// missing -> not found; else the text between the first start and the first
// end xtrace line.
Slice SliceLog(std::string_view log) {
  Slice s;
  if (Contains(log, kApplyPatchFailed) || Contains(log, kTestsTimedOut)) {
    s.kind = SliceKind::kFatal;
    return s;
  }
  if (!Contains(log, kStartMarker) || !Contains(log, kEndMarker)) return s;
  const std::size_t start = log.find(kStartSep);
  const std::size_t end = log.find(kEndSep);
  // SWE-smith raises on an end before the start; both cases are "not found"
  // here (never a crash).
  if (start == std::string_view::npos || end == std::string_view::npos || end < start) return s;
  s.kind = SliceKind::kFound;
  s.text = log.substr(start + kStartSep.size(), end - start - kStartSep.size());
  return s;
}

// Whether a saved log ran `go test`: the first line of the slice is the
// xtrace of the test command.
bool SliceRanGoTest(std::string_view slice) {
  std::size_t pos = 0;
  while (pos < slice.size() && (slice[pos] == '\n' || slice[pos] == '\r')) ++pos;
  std::string_view line = slice.substr(pos, slice.find('\n', pos) - pos);
  return line.starts_with("+") && Contains(line, "go test");
}

Status CheckTask(const Task& task) {
  if (task.fail_to_pass.empty()) {
    // The rule would score an empty group as 1: an untouched repository would
    // be "resolved".
    return Status::InvalidArgument("task " + task.instance_id +
                                   ": FAIL_TO_PASS is empty; a SWE-smith task needs at least one "
                                   "test that the fix makes pass");
  }
  return Status::OK();
}

nlohmann::json BaseReport(bool applied, bool resolved) {
  return {{"patch_is_None", false},
          {"patch_exists", true},
          {"patch_successfully_applied", applied},
          {"resolved", resolved}};
}

// The warning (no profile) goes into the report and the result.
void AddWarning(const Task& task, const SweSmithPlan& plan, GradeResult& result) {
  if (plan.warning.empty()) return;
  result.warnings.push_back(plan.warning);
  result.report[task.instance_id]["warnings"] = nlohmann::json::array({plan.warning});
}

Result<GradeResult> Evaluate(const Task& task, const SweSmithPlan& plan, std::string log) {
  GradeResult result;
  result.log = std::move(log);
  result.report = nlohmann::json::object();
  const Slice slice = SliceLog(result.log);
  if (slice.kind != SliceKind::kFound) {
    result.report[task.instance_id] = BaseReport(false, false);
    AddWarning(task, plan, result);
    return result;
  }
  auto parsed = ParseLog(plan.parser, slice.text);
  if (!parsed.ok()) return parsed.status().WithContext("grading " + task.instance_id);
  result.status_map = std::move(parsed).value();

  // SWE-smith's "explicit passes" rule is SWE-bench's classic rule.
  const SweBenchTestsReport tests = GradeSweBenchTests(
      result.status_map, Relevant(task.fail_to_pass, plan, nullptr),
      Relevant(task.pass_to_pass, plan, plan.p2p_only_when_seen ? &result.status_map : nullptr));
  nlohmann::json tests_status = tests.ToJson();
  result.resolved = SweBenchResolution(tests) == ResolvedStatus::kFull;
  result.reward = result.resolved ? 1.0 : 0.0;
  nlohmann::json report = BaseReport(true, result.resolved);
  report["tests_status"] = std::move(tests_status);
  result.report[task.instance_id] = std::move(report);
  AddWarning(task, plan, result);
  return result;
}

// Restores `files` to base (files absent at base are removed); for Go also
// every *_test.go that differs from base or is new (Go test names are not
// paths).
std::string RestoreScript(const std::string& base, const std::vector<std::string>& files, bool go) {
  std::string s =
      "set -o pipefail\n"
      "cd /testbed || exit 3\n"
      "base=" +
      ShellQuote(base) +
      "\n"
      "if ! git cat-file -e \"$base^{commit}\" 2>/dev/null; then\n"
      "  echo \"base_commit $base is not in /testbed's repository\"; exit 4\n"
      "fi\n"
      "restore() {\n"
      "  if git cat-file -e \"$base:$1\" 2>/dev/null; then\n"
      "    git checkout -q \"$base\" -- \"$1\" || { echo \"could not restore $1\"; return 5; }\n"
      "  else\n"
      "    rm -rf -- \"$1\" || return 6\n"
      "  fi\n"
      "}\n";
  for (const auto& f : files) s += "restore " + ShellQuote(f) + " || exit $?\n";
  if (go) {
    s += "git diff --name-only -z \"$base\" -- '*_test.go' |"
         " while IFS= read -r -d '' f; do restore \"$f\" || exit $?; done || exit $?\n"
         "git ls-files -z --others -- '*_test.go' |"
         " while IFS= read -r -d '' f; do rm -f -- \"$f\" || exit 6; done || exit $?\n";
  }
  return s;
}

std::string RunScript(const std::string& command) {
  std::string s =
      "#!/bin/bash\n"
      "set -uxo pipefail\n"
      "if [ -f /opt/miniconda3/bin/activate ]; then\n"
      "  source /opt/miniconda3/bin/activate\n"
      "  conda activate testbed\n"
      "elif [ -f /opt/miniconda3/envs/testbed/bin/activate ]; then\n"
      "  source /opt/miniconda3/envs/testbed/bin/activate\n"
      "fi\n"
      "cd /testbed\n";
  s += ": '" + std::string(kStartMarker) + "'\n";
  s += command + "\n";
  s += ": '" + std::string(kEndMarker) + "'\n";
  return s;
}

class SweSmithGrader final : public Grader {
 public:
  std::string_view name() const override { return "swesmith"; }

  Result<GradeResult> grade(Runtime& runtime, const Task& task,
                            const GradeOptions& options) override {
    const auto start = std::chrono::steady_clock::now();
    const std::string context = "grading " + task.instance_id;
    R2E_RETURN_IF_ERROR(CheckTask(task));
    if (task.base_commit.empty()) {
      return Status::InvalidArgument("task " + task.instance_id +
                                     ": base_commit is empty; SWE-smith grading restores the "
                                     "test files to it");
    }
    ExecOptions small;
    small.timeout = kHousekeepingTimeout;
    small.workdir = "/testbed";

    bool go_repo = false;
    if (internal::SweSmithNeedsGoProbe(task)) {
      auto probe = runtime.exec("test -f /testbed/go.mod", small);
      if (!probe.ok()) return probe.status().WithContext(context);
      go_repo = probe->success();
    }
    auto planned = internal::PlanSweSmithTests(task, go_repo);
    if (!planned.ok()) return planned.status();
    const SweSmithPlan& plan = *planned;

    // (1) Test files back to base_commit, so edited tests cannot pass.
    auto restored =
        runtime.exec(RestoreScript(task.base_commit, plan.restore_files, plan.go), small);
    if (!restored.ok()) return restored.status().WithContext(context);
    if (!restored->success()) {
      return Status::FailedPrecondition("could not restore the test files to base_commit (exit " +
                                        std::to_string(restored->exit_code) +
                                        "): " + restored->output)
          .WithContext(context);
    }

    // (2) The run script, run with the timeout.
    R2E_RETURN_IF_ERROR(runtime.write_file(std::string(kScriptPath), RunScript(plan.command), 0755)
                            .WithContext(context));
    internal::TestRun test;
    test.script = std::string(kScriptPath);
    test.log_file = "/tmp/r2e_swesmith_" + internal::RandomHex(8) + ".log";
    // The harness bounds the run by the profile's timeout.
    const std::chrono::seconds bound =
        plan.timeout.count() > 0 ? std::min(options.timeout, plan.timeout) : options.timeout;
    test.run.timeout = bound;
    test.run.workdir = "/testbed";
    test.housekeeping = small;
    // The start marker is at the top of the log; a run that timed out is
    // graded by its timeout alone.
    test.keep = internal::TestRun::Keep::kFirst;
    test.reread_timed_out = false;
    auto ran = internal::RunTests(runtime, test);
    if (!ran.ok()) return ran.status().WithContext(context);
    std::string log = std::move(ran->output);

    GradeResult result;
    if (ran->timed_out) {
      // (3) SWE-smith's timeout handling: the marker goes into the log and
      // the report only says so.
      const auto seconds = static_cast<std::int64_t>(bound.count());
      result.log = std::move(log);
      result.log += "\n\n" + std::string(kTestsTimedOut) + ": " + std::to_string(seconds) +
                    " seconds exceeded";
      result.timed_out = true;
      result.report = nlohmann::json::object();
      result.report[task.instance_id] = {{"timed_out", true}, {"timeout", seconds}};
      AddWarning(task, plan, result);
    } else {
      R2E_ASSIGN_OR_RETURN(result, Evaluate(task, plan, std::move(log)));
    }
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return result;
  }

  Result<GradeResult> grade_log(const Task& task, std::string_view log) const override {
    R2E_RETURN_IF_ERROR(CheckTask(task));
    const Slice slice = SliceLog(log);
    const bool go = slice.kind == SliceKind::kFound && SliceRanGoTest(slice.text);
    R2E_ASSIGN_OR_RETURN(SweSmithPlan plan, internal::PlanSweSmithTests(task, go));
    // A saved log may come from a run that named fewer test files (SWE-smith's
    // older harness, --f2p_only): grade what it ran, as the harness did.
    if (slice.kind == SliceKind::kFound) internal::NarrowToLoggedFiles(slice.text, plan);
    return Evaluate(task, plan, std::string(log));
  }
};

}  // namespace

std::unique_ptr<Grader> MakeSweSmithGrader() { return std::make_unique<SweSmithGrader>(); }

}  // namespace r2e
