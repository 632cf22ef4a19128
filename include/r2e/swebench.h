// SWE-bench evaluation logic, usable without a sandbox: test log -> status
// map, status map -> the harness's per-instance report.json, and the shell
// text of the harness's evaluation script and patch-apply cascade. Restated
// from the public SWE-bench harness (MIT); the rules are in
// shared/spec/grading.md. MakeSweBenchGrader (r2e/grader.h) runs these in a
// sandbox.
//
// Every function here is pure: no I/O, no global state, safe to call from
// any thread. Nothing throws.
#ifndef R2E_SWEBENCH_H_
#define R2E_SWEBENCH_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/log_parsers.h"
#include "r2e/status.h"
#include "r2e/task.h"

namespace r2e {

// Log markers the harness writes (test scripts run with `set -uxo pipefail`,
// so the Start/End markers appear as `+ : '>>>>> Start Test Output'`).
inline constexpr std::string_view kSweStartTestOutput = ">>>>> Start Test Output";
inline constexpr std::string_view kSweEndTestOutput = ">>>>> End Test Output";
inline constexpr std::string_view kSweApplyPatchFail = ">>>>> Patch Apply Failed";
inline constexpr std::string_view kSweApplyPatchPass = ">>>>> Applied Patch";
inline constexpr std::string_view kSweResetFailed = ">>>>> Reset Failed";
inline constexpr std::string_view kSweTestsErrored = ">>>>> Tests Errored";
inline constexpr std::string_view kSweTestsTimedOut = ">>>>> Tests Timed Out";
// v5: the test command's exit status, `>>>>> Test Exit Code: N`.
inline constexpr std::string_view kSweTestExitCode = ">>>>> Test Exit Code";

// ---------------------------------------------------------------------------
// Log -> status map

// What the harness reads from one test log (its get_logs_eval).
struct SweBenchLogEval {
  // False is the harness's "not found": a fatal marker, a missing Start or End
  // marker, or (v5) a failed suite-ran or exit-code check. The map is then
  // empty and the instance is not resolved.
  bool found = false;
  StatusMap status_map;
  // When !found, which rule said so (for people; not part of any report).
  std::string reason;
};

// The parser a task is graded with: its `log_parser` field when set (v5
// datasets name it per instance), else SweBenchParserForRepo(task.repo).
std::string SweBenchParserName(const Task& task);

// The harness's log -> status map (shared/spec/grading.md, "SWE-bench: from
// log to status map"): fatal markers -> not found; Start or End missing -> not
// found; parse the text after the first Start up to the first End after it
// (or an earlier second Start, as the harness's split does); an empty map ->
// parse the whole log; v5 adds the suite-ran signatures and the exit-code
// anti-spoofing check. Errors only for an unknown parser name (NotFound).
Result<SweBenchLogEval> EvalSweBenchLog(std::string_view parser_name, std::string_view log,
                                        GradingRules rules = GradingRules::kClassic);
Result<SweBenchLogEval> EvalSweBenchLog(const Task& task, std::string_view log,
                                        GradingRules rules = GradingRules::kClassic);

// v5: whether `log` shows that a test suite ran (one of the harness's
// multiline "suite ran" signatures, e.g. `[1-9]\d* passing`).
bool SweBenchSuiteRan(std::string_view log);

// v5: the codes of every `>>>>> Test Exit Code:\s*(-?\d+)` in `log`, in order.
std::vector<long long> SweBenchTestExitCodes(std::string_view log);

// ---------------------------------------------------------------------------
// Status map -> report

enum class SweBenchEvalType { kPassAndFail, kFailOnly };

// Fail-only repositories (`chartjs/Chart.js`, `processing/p5.js`,
// `markedjs/marked`) are graded kFailOnly. Under v5 an `eval_type` field of
// the row ("fail_only" / "pass_and_fail") decides when present.
SweBenchEvalType SweBenchEvalTypeFor(const Task& task, GradingRules rules = GradingRules::kClassic);
bool IsSweBenchFailOnlyRepo(std::string_view repo);

enum class ResolvedStatus { kFull, kPartial, kNo };
// "RESOLVED_FULL", "RESOLVED_PARTIAL", "RESOLVED_NO".
std::string_view ResolvedStatusName(ResolvedStatus status);

// One test group's outcome; lists keep the gold order. A test that is
// neither (classic: SKIPPED) is in no list.
struct SweBenchGroupResult {
  std::vector<std::string> success;
  std::vector<std::string> failure;
};

// The harness's four buckets (FAIL_TO_FAIL and PASS_TO_FAIL are always
// present and empty: the harness fills them only on request).
struct SweBenchTestsReport {
  SweBenchGroupResult fail_to_pass;
  SweBenchGroupResult pass_to_pass;
  SweBenchGroupResult fail_to_fail;
  SweBenchGroupResult pass_to_fail;

  // {"FAIL_TO_PASS": {"success": [...], "failure": [...]}, "PASS_TO_PASS": ...,
  //  "FAIL_TO_FAIL": ..., "PASS_TO_FAIL": ...}
  nlohmann::json ToJson() const;
};

// Grades FAIL_TO_PASS then PASS_TO_PASS against `status_map`
// ("SWE-bench: from status map to report"). Classic: passed = PASSED or
// XFAIL; failed = missing, FAILED or ERROR; SKIPPED is neither. v5: SKIPPED
// fails a FAIL_TO_PASS test and keeps a PASS_TO_PASS one, and a cut
// parametrised name (more '[' than ']') that is not a key matches the keys
// it starts, when they all agree on passing or not. Fail-only: a failure
// only when present with status exactly FAILED.
SweBenchTestsReport GradeSweBenchTests(const StatusMap& status_map,
                                       const std::vector<std::string>& fail_to_pass,
                                       const std::vector<std::string>& pass_to_pass,
                                       SweBenchEvalType eval_type = SweBenchEvalType::kPassAndFail,
                                       GradingRules rules = GradingRules::kClassic);

// score(group) = success / (success + failure), 1 when both are empty.
double SweBenchFailToPassScore(const SweBenchTestsReport& report);
double SweBenchPassToPassScore(const SweBenchTestsReport& report);
// FULL if both scores are 1; PARTIAL if 0 < F2P < 1 and P2P is 1; else NO.
ResolvedStatus SweBenchResolution(const SweBenchTestsReport& report);

// The harness's per-instance report.json:
//   {instance_id: {patch_is_None, patch_exists, patch_successfully_applied,
//                  resolved, tests_status: {FAIL_TO_PASS: {success, failure},
//                  PASS_TO_PASS: ..., FAIL_TO_FAIL: ..., PASS_TO_FAIL: ...}}}
// `patch_is_none` (a null model patch) stops it at patch_is_None: true. A
// log that is not found stops it at patch_exists: true with
// patch_successfully_applied and resolved false and no tests_status.
// `resolved` (optional out) is set to whether the instance is RESOLVED_FULL.
nlohmann::json MakeSweBenchReport(const Task& task, const SweBenchLogEval& log_eval,
                                  GradingRules rules = GradingRules::kClassic,
                                  bool patch_is_none = false, bool* resolved = nullptr);

// The report as text with the harness's key order (report.json is written
// from Python dicts: patch_is_None first, FAIL_TO_PASS before PASS_TO_PASS,
// success before failure); other keys follow in their own order.
std::string FormatSweBenchReport(const nlohmann::json& report, int indent = 4);

// ---------------------------------------------------------------------------
// Evaluation script (Python repositories)

// The files a patch touches, from its `diff --git` sections: `modified`
// exist before the patch (source not /dev/null), `created` do not.
struct PatchFiles {
  std::vector<std::string> modified;
  std::vector<std::string> created;
};
PatchFiles SweBenchPatchFiles(std::string_view patch);

// The test directives: the `b/` paths of the test patch's `diff --git a/.. b/..`
// lines, minus files ending in .json .png csv .txt .md .jpg .jpeg .pkl .yml
// .yaml .toml; for django/django: `.py` dropped, a leading `tests/` dropped,
// `/` -> `.` (v5 also keeps only django test files, as the newer harness does).
std::vector<std::string> SweBenchTestDirectives(std::string_view repo, std::string_view test_patch,
                                                GradingRules rules = GradingRules::kClassic);

// The repository's test command (`pytest -rA` for most and for unknown
// repositories; django, seaborn, sympy, sphinx and old astropy differ).
std::string SweBenchTestCommand(std::string_view repo, std::string_view version);

struct SweBenchEvalScriptOptions {
  std::string repo_directory = "/testbed";
  std::string env_name = "testbed";
  // Replaces the repository's test command (directives are still appended).
  std::string test_command;
  // The install command run before the tests. nullopt: the harness's install
  // command where the repository is installed as a copy, not in editable
  // mode (django <= 2.2, old matplotlib, requests), so that the tests see
  // the agent's edits; editable installs need no reinstall.
  std::optional<std::string> install;
};

// The harness's eval script for a Python repository: `#!/bin/bash`,
// `set -uxo pipefail`, env activation (guarded: a no-op where there is no
// conda), `cd`, `git status`, `git show`, `git -c core.fileMode=false diff
// <base>`, the install command, reset of the test files (modified files are
// checked out from base_commit; files the test patch creates are removed),
// the test patch from a here-document, the Start marker, test command plus
// directives (v5: then `>>>>> Test Exit Code: $?`), the End marker, and the
// reset again.
std::string MakeSweBenchEvalScript(const Task& task, GradingRules rules = GradingRules::kClassic,
                                   const SweBenchEvalScriptOptions& options = {});

// Shell text that applies the patch file at `patch_path` in `repo_directory`
// as the harness does: `git apply --verbose`, then `git apply --verbose
// --reject`, then `patch --batch --fuzz=5 -p1 -i`. It prints
// `>>>>> Applied Patch:` and the successful command's output, or
// `>>>>> Patch Apply Failed:` and the last output and exits 1.
std::string SweBenchApplyPatchCommand(std::string_view patch_path,
                                      std::string_view repo_directory = "/testbed");

}  // namespace r2e

#endif  // R2E_SWEBENCH_H_
