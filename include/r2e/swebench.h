// SWE-bench evaluation logic, usable without a sandbox: test log -> status
// map, status map -> the harness's per-instance report.json, and the shell
// text of the harness's evaluation script and patch-apply cascade. Restated
// from the public SWE-bench harness (MIT); the rules are in
// shared/spec/grading.md. MakeSweBenchGrader (r2e/grader.h) runs these in a
// sandbox.
//
// Every function here is pure: no I/O, no mutable global state (the specs
// table is compiled in and read-only), safe to call from any thread. Nothing
// throws.
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
// Infrastructure failures (v5)

// The 5.x harness's post-hoc classification (swebench/harness/infra_failure.py)
// of a log with no parseable results: the first signature that matches, in
// order, names the reason. `environment` is its tier: true for faults a patch
// cannot plausibly cause (a browser or display that does not start, out of
// memory, the container or the network unreachable), false for ambiguous ones
// (a missing module, no tests collected, a timeout).
struct SweBenchInfraFailure {
  std::string reason;  // e.g. "browser_launch_failed", "tests_timed_out"
  bool environment = false;
};
// nullopt when no signature matches (or the log is empty). Lines end at '\n'
// or '\r', as the harness reads logs in text mode.
std::optional<SweBenchInfraFailure> ClassifySweBenchInfraFailure(std::string_view log);

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
  // v5, when !found: ClassifySweBenchInfraFailure of the whole log (the
  // report's infra_failure and infra_failure_reason).
  std::optional<SweBenchInfraFailure> infra_failure;
};

// The parser a task is graded with: its `log_parser` field when set (v5
// datasets name it per instance), else SweBenchParserForRepo(task.repo).
std::string SweBenchParserName(const Task& task);

// The harness's log -> status map (shared/spec/grading.md, "SWE-bench: from
// log to status map"): fatal markers -> not found; Start or End missing -> not
// found; parse the text after the first Start up to the first End after it
// (or an earlier second Start, as the harness's split does); an empty map ->
// parse the whole log; v5 adds the suite-ran signatures and the exit-code
// anti-spoofing check (the first `>>>>> Test Exit Code` line, when non-zero
// while the map is non-empty and has no FAILED or ERROR). The log is first
// read as the harness reads it, in text mode ("\r\n" and "\r" become "\n").
// Errors for an unknown parser name (NotFound) and where the harness's parser
// raises (InvalidArgument; see ParseLog). The Task overload passes the
// task's instance id and version to the parser.
Result<SweBenchLogEval> EvalSweBenchLog(std::string_view parser_name, std::string_view log,
                                        GradingRules rules = GradingRules::kClassic);
Result<SweBenchLogEval> EvalSweBenchLog(std::string_view parser_name, std::string_view log,
                                        const LogParserSpec& spec);
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
// `markedjs/marked`; v5 adds `bpmn-io/bpmn-js`, `openlayers/openlayers` and
// `eslint/eslint`) are graded kFailOnly. Under v5 the row's `eval_type`
// (task.eval_type: "fail_only" / "pass_and_fail") decides when present.
SweBenchEvalType SweBenchEvalTypeFor(const Task& task, GradingRules rules = GradingRules::kClassic);
bool IsSweBenchFailOnlyRepo(std::string_view repo, GradingRules rules = GradingRules::kClassic);

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
// v5 (the 5.x shape) adds infra_failure after resolved: false, except for a
// log that is not found and that ClassifySweBenchInfraFailure flags
// (log_eval.infra_failure): then infra_failure is whether the reason's tier
// is "environment", and infra_failure_reason names it. The flag is advisory:
// resolved stays false either way.
// `patch_is_none` (a null model patch) stops it at patch_is_None: true. A
// log that is not found stops it at patch_exists: true with
// patch_successfully_applied and resolved false and no tests_status.
// `resolved` (optional out) is set to whether the instance is RESOLVED_FULL.
nlohmann::json MakeSweBenchReport(const Task& task, const SweBenchLogEval& log_eval,
                                  GradingRules rules = GradingRules::kClassic,
                                  bool patch_is_none = false, bool* resolved = nullptr);

// The report as text with the harness's key order (report.json is written
// from Python dicts: patch_is_None, patch_exists, patch_successfully_applied,
// resolved, infra_failure, infra_failure_reason, tests_status; FAIL_TO_PASS
// before PASS_TO_PASS, success before failure); other keys follow in their
// own order.
std::string FormatSweBenchReport(const nlohmann::json& report, int indent = 4);

// ---------------------------------------------------------------------------
// Which rules grade a task

// Whether a row has the 5.x shape: since the harness's 5.0 release,
// published rows carry their own `eval_script` (eval.sh), `log_parser` and
// `eval_type` (with `image`), and the 5.x harness builds its test spec from
// them. A row with any of those three non-empty is 5.x-shaped; `image` alone
// is not (other datasets name their images too).
bool IsSweBench5Row(const Task& task);

// The rules a task is graded by: `requested` when set (an explicit choice
// always wins), else v5 for 5.x-shaped rows and classic for the others.
GradingRules SweBenchRulesFor(const Task& task, std::optional<GradingRules> requested);

// ---------------------------------------------------------------------------
// Evaluation scripts

// The files a patch touches, from its `diff --git` sections, as unidiff reads
// them: `modified` have a source (they exist before the patch, deleted files
// included), `created` have /dev/null as source; `paths` is every file in
// order (unidiff's PatchedFile.path: the source, or the target for a created
// file; no a/ b/ prefix).
struct PatchFiles {
  std::vector<std::string> modified;
  std::vector<std::string> created;
  std::vector<std::string> paths;
};
PatchFiles SweBenchPatchFiles(std::string_view patch);

// The test directives: the `b/` paths of the test patch's `diff --git a/.. b/..`
// lines, minus files ending in one of the harness's NON_TEST_EXTS; for
// django/django: `.py` dropped, a leading `tests/` dropped, `/` -> `.`;
// swe-bench/humaneval: `test.py`. `django_test_files_only` keeps only Django
// test files first (an unreleased harness change, SWE-bench PR #615).
std::vector<std::string> SweBenchTestDirectives(std::string_view repo, std::string_view test_patch,
                                                bool django_test_files_only = false);

// One repository/version entry of the harness v4.1.0 specs
// (MAP_REPO_VERSION_TO_SPECS), reduced to what the eval script reads. The
// table is data compiled into the library (src/grading/data/
// swebench_specs_v4.1.0.json, derived by scripts/derive-swebench-specs.py).
struct SweBenchSpec {
  std::string language;  // MAP_REPO_TO_EXT: "py", "js", "go", "rs", "c", "java", "php", "rb"
  // test_cmd: one command for Python (directives are appended), one or more
  // for the other languages; empty where the harness has none (dbt-core).
  std::vector<std::string> test_cmd;
  std::vector<std::string> eval_commands;  // Python: right after `cd`
  std::optional<std::string> install;      // Python: reinstalls before the tests
  std::vector<std::string> build;          // other languages: after the test patch
};
// nullptr when the table has no such repository or version.
const SweBenchSpec* FindSweBenchSpec(std::string_view repo, std::string_view version);
// Whether the table lists the repository (at any version).
bool SweBenchSpecsHaveRepo(std::string_view repo);

struct SweBenchEvalScriptOptions {
  std::string repo_directory = "/testbed";
  std::string env_name = "testbed";
  // Replaces the spec's test command(s); Python directives are still
  // appended. Also lets a script be made for a version the specs lack.
  std::string test_command;
  // Replaces the spec's pre-test install line (Python). nullopt: the spec's;
  // "": none.
  std::optional<std::string> install;
  // The conda activation as one guarded line, a no-op where
  // /opt/miniconda3/bin/activate does not exist. No harness does this (it
  // writes `source /opt/miniconda3/bin/activate` and `conda activate`
  // unguarded); for images without conda. Default: off.
  bool guard_conda_activation = false;
  // Reset the test files as the harness's later generator does (SWE-bench
  // #539, in 5.0's history): `git checkout` only when the test patch modifies
  // files, and `rm -f` of the files it creates, before and after the tests
  // (so a prediction that creates such a file cannot keep it). v4.1.0 only
  // checks out the modified files (`git checkout <base> ` with none), so there
  // a prediction that creates a test-patch file makes the test patch fail
  // to apply. nullopt: v5 rules for Python repositories (as #539), off
  // otherwise; true for other languages is the follow-up (#538, unreleased).
  std::optional<bool> remove_created_test_files;
  // Keep only Django test files among the directives (see
  // SweBenchTestDirectives). Default: off (no released harness does it).
  bool django_test_files_only = false;
};

// The harness v4.1.0 eval script (test_spec.eval_script) for `task`, byte
// for byte: `#!/bin/bash`, `set -uxo pipefail`, then
//   Python (make_eval_script_list_py): conda activation, `cd`, the spec's
//   eval_commands, safe.directory, `cd`, `git status`, `git show`,
//   `git -c core.fileMode=false diff <base>`, activation again, the spec's
//   install, the reset (`git checkout <base> <modified test files>`), the
//   test patch (`git apply -v -` from a here-document), the Start marker,
//   test_cmd plus directives, the End marker, the reset again;
//   other languages (make_eval_script_list_common; JavaScript adds the
//   image_assets downloads before the patch and wp-calypso's per-file test
//   commands): `cd`, safe.directory, `cd`, the reset (or `echo "No test files
//   to reset"`), `git apply --verbose --reject -`, the spec's build, the
//   markers around the test commands, the reset.
// v5 rules: the same script with the #539 reset (options above) and wrapped
// as the 5.x harness wraps every script (SweBenchWrapEvalScript).
// A repository the specs do not list gets the Python script with
// `pytest -rA` and no install (r2e's default for SWE-bench-style rows of
// other repositories). Errors (InvalidArgument): a listed repository at a
// version the specs lack, or without a test command, unless
// options.test_command is set; unreadable image_assets.
Result<std::string> MakeSweBenchEvalScript(const Task& task,
                                           GradingRules rules = GradingRules::kClassic,
                                           const SweBenchEvalScriptOptions& options = {});

// The 5.x harness's use of a row's eval_script (harness/utils.py
// make_test_spec): parse_eval_script drops the surrounding whitespace and
// every line that is exactly `#!/bin/bash` or `set -uxo pipefail`, then
// record_test_exit_code puts `SWEBENCH_TEST_EXIT_CODE=$?` before the first
// line holding the End marker and `echo ">>>>> Test Exit Code:
// $SWEBENCH_TEST_EXIT_CODE"` after it (a script without the marker is left
// as it is), and the header is written again.
std::string SweBenchWrapEvalScript(std::string_view eval_script);

// The script the grader runs for `task` under `rules`: v5 and a row with its
// own eval_script -> that script wrapped (`options` do not apply to it);
// otherwise MakeSweBenchEvalScript.
// (The 5.x harness has no fallback: it cannot run rows without eval_script.)
Result<std::string> SweBenchEvalScriptFor(const Task& task, GradingRules rules,
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
