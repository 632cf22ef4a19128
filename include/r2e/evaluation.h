// Batch evaluation: a predictions file (or the dataset's gold patches) run
// over a dataset, graded the way the benchmark's harness grades, written as
// the harness's per-instance directories and run summary
// (shared/spec/grading.md, "Run summary"; `r2e eval` is the command line).
//
//   auto rows = r2e::LoadDataset("tasks.jsonl").value();
//   auto preds = r2e::LoadPredictions("preds.jsonl").value();
//   r2e::EvalOptions options;
//   options.run_id = "my-run";
//   options.runtime = "docker";
//   auto run = r2e::RunEvaluation(rows, preds, options);
//   std::cout << run->summary.dump(4);
//
// Per instance: a fresh sandbox of the task's image (RepoEnv: reset() runs
// the kind's setup), the model patch written to /tmp/patch.diff and applied
// in /testbed with the harness's cascade (SweBenchApplyPatchCommand), the
// task's grader (SWE-bench: the eval script; SWE-smith: the profile's test
// command; R2E: the hidden tests), and
// `{report_dir}/{run_id}/{model}/{instance_id}/` with report.json,
// test_output.txt, patch.diff, eval.sh (the script the grader ran, when
// there is one) and run_instance.log. As in the harness, an instance that
// could not be graded (patch apply failed, timed out, sandbox failure) gets
// no report.json and counts as an error; empty or null patches are not run
// and count as empty.
//
// Errors: input problems (unreadable or malformed files, duplicate ids,
// predictions for unknown ids, rows missing fields the run needs) are
// InvalidArgument or NotFound and name the file and line; they are all found
// before any sandbox starts. A failing instance never fails the run.
// Nothing here throws.
//
// Thread-safety: the loading, validation and summary functions are pure
// apart from reading files and may be called from any thread. RunEvaluation
// runs its own worker threads; one call must not share its report directory
// and run id with another call running at the same time.
#ifndef R2E_EVALUATION_H_
#define R2E_EVALUATION_H_

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/repo_env.h"
#include "r2e/runtime.h"
#include "r2e/runtimes.h"
#include "r2e/status.h"
#include "r2e/task.h"

namespace r2e {

// ---------------------------------------------------------------------------
// Predictions

struct Prediction {
  std::string instance_id;
  std::string model_name_or_path;
  // The model's patch; nullopt when the row's model_patch is null.
  std::optional<std::string> model_patch;
  // Where the row was read, "<file>:<line>" (for messages; may be empty).
  std::string source;

  // Null or empty: not run, counted as an empty patch (the harness's rule).
  bool empty() const { return !model_patch || model_patch->empty(); }
};

// The word that selects each dataset row's gold `patch` as its prediction.
inline constexpr std::string_view kGoldPredictions = "gold";

// Predictions from text: a JSON list of rows, a JSON object keyed by
// instance id (a row without instance_id takes its key), or JSONL (one row
// per non-empty line). A row is {instance_id, model_name_or_path,
// model_patch}; model_patch may be null. Errors name `name`, the line and
// the field: malformed JSON, a missing or mistyped field, a duplicate id.
Result<std::vector<Prediction>> ParsePredictions(std::string_view content, std::string_view name);
Result<std::vector<Prediction>> LoadPredictions(const std::filesystem::path& file);

// One prediction per task: its `patch`, model "gold", source as the task's.
std::vector<Prediction> GoldPredictions(const std::vector<Task>& tasks);

// ---------------------------------------------------------------------------
// Dataset

struct DatasetRow {
  Task task;
  // "<file>:<line>" where the row starts (may be empty for rows built in code).
  std::string source;
};

// LoadTasks (task.h: JSON array or JSONL, list fields as lists or JSON
// strings, duplicate ids rejected) with the line each row starts on.
Result<std::vector<DatasetRow>> LoadDataset(const std::filesystem::path& file,
                                            const TaskParseOptions& options = {});

// The rows whose instance_id is in `ids`, in dataset order; all rows when
// `ids` is empty. InvalidArgument naming every id the dataset lacks.
Result<std::vector<DatasetRow>> SelectRows(std::vector<DatasetRow> rows,
                                           const std::vector<std::string>& ids);

// The checks RunEvaluation makes before any sandbox starts, all problems in
// one InvalidArgument (each naming file and line): duplicate prediction ids,
// predictions for ids the dataset lacks, ids unusable as directory names,
// and, for rows with a non-empty prediction, fields the grader or runtime
// needs (SWE-bench: base_commit, test_patch, FAIL_TO_PASS or PASS_TO_PASS;
// SWE-smith: base_commit and tests; an image for a runtime that uses images,
// local_repo for one that does not: Runtime::uses_image()). `runtime` is a
// runtime of the kind that will run the instances; it is not started.
Status ValidateEvaluation(const std::vector<DatasetRow>& rows,
                          const std::vector<Prediction>& predictions, const Runtime& runtime);

// ---------------------------------------------------------------------------
// Layout and run summary

// The harness's directory name for a model: '/' -> "__".
std::string ModelDirName(std::string_view model_name_or_path);

// {report_dir}/{run_id}/{ModelDirName(model)}/{instance_id}
std::filesystem::path InstanceDir(const std::filesystem::path& report_dir, std::string_view run_id,
                                  std::string_view model, std::string_view instance_id);

// Whether the instance's report.json exists and holds a report for it (the
// resume test; a truncated or foreign report.json does not count).
bool HasInstanceReport(const std::filesystem::path& instance_dir, std::string_view instance_id);

// The harness's run summary (make_run_report), from the report.json files on
// disk: total_instances (dataset rows), submitted_instances (predictions),
// completed_instances (a report exists), resolved_instances,
// unresolved_instances, empty_patch_instances (null or empty patch; not
// run), error_instances (a non-empty prediction without a report), then
// the sorted id lists completed_ids, incomplete_ids (rows without a
// prediction), empty_patch_ids, submitted_ids, resolved_ids,
// unresolved_ids, error_ids, and schema_version 2. Keys in that order.
nlohmann::ordered_json MakeRunSummary(const std::vector<std::string>& dataset_ids,
                                      const std::vector<Prediction>& predictions,
                                      const std::filesystem::path& report_dir,
                                      std::string_view run_id);

// ---------------------------------------------------------------------------
// Running

// Makes the (not yet started) runtime for one instance. Tests and embedders
// pass their own; the default is MakeRuntime(options.runtime,
// options.runtime_options). RunEvaluation also makes one, never started,
// before the run, to validate the rows against (ValidateEvaluation).
using EvalRuntimeFactory = std::function<Result<std::unique_ptr<Runtime>>(const Task&)>;

struct EvalOptions {
  // Names the run's directory; required; no '/'. A rerun with the same id
  // resumes: instances whose report.json exists are skipped.
  std::string run_id;
  // The harness's default location.
  std::filesystem::path report_dir = "logs/run_evaluation";
  // The backend, named as `r2e eval --runtime` names it ("local", "docker",
  // "kube"; runtimes.h), and its options in runtime_options. Docker: before
  // anything runs, containers leaked by earlier runs are removed and every
  // image is checked (or pulled, with `pull`: PrepareSandboxes); the
  // containers carry the label r2e.eval.run_id and remove themselves at
  // most 10 minutes after `timeout`.
  std::string runtime = "local";
  RuntimeOptions runtime_options;
  // Grading rules (env.rules) and the environments' other options. The
  // reward timeout is set from `timeout`; env.runtime is not used (the
  // runtime above, or make_runtime, makes each instance's runtime).
  RepoEnvOptions env;
  // Instances evaluated at once; <= 0: DefaultEvalWorkers().
  int workers = 0;
  // Bound on one instance (sandbox start, patch, tests). When it passes the
  // sandbox is stopped and the instance is an error.
  std::chrono::seconds timeout{1800};
  // An instance that fails for the sandbox's sake (EvalErrorKind::
  // kInfrastructure: the sandbox did not start, its shell died, an internal
  // error) runs again in a new sandbox, up to this many times. Patch, test
  // and timeout outcomes are never retried. Each retry is announced on
  // `progress` and the instance's run_instance.log keeps every attempt.
  int infrastructure_retries = 1;
  // Docker: pull missing images before the run. Off: missing images are an
  // error listing them, before anything runs.
  bool pull = false;
  // Skip instances whose report.json exists (off: run them again).
  bool resume = true;
  // Set (e.g. from a SIGINT handler: a lock-free atomic store is
  // async-signal-safe) to stop: no new instance starts, running sandboxes
  // are stopped, every sandbox is closed before RunEvaluation returns.
  const std::atomic<bool>* stop = nullptr;
  // Human progress (stderr in the CLI); nullptr: silent. With progress_bar
  // one line is redrawn (for terminals), else one line per instance.
  std::ostream* progress = nullptr;
  bool progress_bar = false;
  // Optional runtime factory (see above); it replaces `runtime` and skips
  // the Docker preparation.
  EvalRuntimeFactory make_runtime;
};

// Workers for this machine: one per core, fewer when available memory is
// under 2 GiB per worker; at least 1.
int DefaultEvalWorkers();

enum class InstanceOutcome {
  kResolved,
  kUnresolved,
  kEmptyPatch,  // not run
  kSkipped,     // report.json existed (resume); the summary reads it
  kError,       // no report.json; `error` says why
};
std::string_view InstanceOutcomeName(InstanceOutcome outcome);

enum class EvalErrorKind {
  kNone,
  kPatchApplyFailed,  // the cascade could not apply the model patch
  kTimeout,           // the instance or its tests outlived the timeout
  kInterrupted,       // options.stop was set while it ran
  kInfrastructure,    // sandbox, runtime or grader failure
};

struct InstanceResult {
  std::string instance_id;
  std::string model;
  InstanceOutcome outcome = InstanceOutcome::kError;
  EvalErrorKind error_kind = EvalErrorKind::kNone;
  std::string error;
  // Time spent on this instance in this run (0 for skipped/empty).
  std::chrono::duration<double> duration{0};
  std::filesystem::path dir;
};

struct EvalRun {
  // MakeRunSummary plus extra keys after schema_version: run_id,
  // wall_time_s, instance_time_sum_s, error_reasons {id: reason} (for
  // errors of this invocation) and interrupted.
  nlohmann::ordered_json summary;
  // One per prediction of the selected rows, in dataset order.
  std::vector<InstanceResult> instances;
  double wall_seconds = 0;
  double instance_seconds_sum = 0;
  int workers = 0;
  bool interrupted = false;
  // Instances run in this invocation (not skipped, not empty).
  int attempted = 0;
};

// Validates (ValidateEvaluation), prepares images (PrepareSandboxes; docker:
// lists missing ones or pulls them with options.pull), then evaluates every selected row
// with a non-empty prediction on options.workers threads and writes the
// summary to {report_dir}/{run_id}/{model}.{run_id}.json (one model) or
// summary.{run_id}.json. Returns an error only when the run as a whole
// could not proceed (bad input: InvalidArgument/NotFound; missing images:
// FailedPrecondition; daemon or report directory unusable: Unavailable);
// failing instances are recorded in the result.
Result<EvalRun> RunEvaluation(const std::vector<DatasetRow>& rows,
                              const std::vector<Prediction>& predictions,
                              const EvalOptions& options);

}  // namespace r2e

#endif  // R2E_EVALUATION_H_
