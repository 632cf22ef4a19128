// `r2e eval`: evaluates a predictions file (or the dataset's gold patches)
// over a dataset in sandboxes, writes the harness's per-instance directories
// and prints the run summary JSON on stdout; progress goes to stderr.
// SIGINT, SIGTERM or SIGHUP stops cleanly (cli/stop_signals.h): running
// sandboxes are stopped and removed, and a rerun with the same --run-id
// resumes.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "r2e/evaluation.h"
#include "r2e/log_parsers.h"
#include "r2e/task.h"

namespace r2e::cli {
namespace {

constexpr int kCompleted = 0;
constexpr int kFailed = 1;
constexpr int kBadInput = 2;

int Fail(const Status& status) {
  std::cerr << "r2e eval: " << status.message() << "\n";
  const bool bad_input =
      status.code() == StatusCode::kInvalidArgument || status.code() == StatusCode::kNotFound;
  return bad_input ? kBadInput : kFailed;
}

std::string DefaultRunId() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "eval-%Y%m%d-%H%M%S", &tm);
  return buf;
}

}  // namespace

int Eval(const CommonOptions& common, const EvalCommandOptions& opts) {
  auto rules = ParseGradingRulesSetting(opts.rules);
  if (!rules.ok()) return Fail(rules.status());
  if (opts.timeout_s <= 0) return Fail(Status::InvalidArgument("--timeout must be positive"));

  auto parse = MakeTaskParseOptions(common, opts.rows);
  if (!parse.ok()) return Fail(parse.status());
  auto all_rows = LoadDataset(opts.dataset, *parse);
  if (!all_rows.ok()) return Fail(all_rows.status());
  std::set<std::string> all_ids;
  for (const auto& row : *all_rows) all_ids.insert(row.task.instance_id);
  auto rows = SelectRows(*all_rows, opts.instance_ids);
  if (!rows.ok()) return Fail(rows.status());
  std::set<std::string> selected;
  for (const auto& row : *rows) selected.insert(row.task.instance_id);

  std::vector<Prediction> predictions;
  if (opts.predictions == kGoldPredictions) {
    std::vector<Task> tasks;
    for (const auto& row : *rows) tasks.push_back(row.task);
    predictions = GoldPredictions(tasks);
    for (std::size_t i = 0; i < predictions.size(); ++i) predictions[i].source = (*rows)[i].source;
  } else {
    auto loaded = LoadPredictions(opts.predictions);
    if (!loaded.ok()) return Fail(loaded.status());
    // Predictions for rows --instance-ids left out are dropped; those for ids
    // the dataset lacks stay, so that validation reports them.
    for (auto& p : *loaded) {
      if (selected.contains(p.instance_id) || !all_ids.contains(p.instance_id)) {
        predictions.push_back(std::move(p));
      }
    }
  }

  EvalOptions options;
  options.run_id = opts.run_id.empty() ? DefaultRunId() : opts.run_id;
  options.report_dir = opts.report_dir;
  options.runtime = common.runtime;
  options.runtime_options = RuntimeOptionsFor(common);
  options.env.rules = *rules;
  options.workers = opts.workers;
  options.timeout = std::chrono::seconds(opts.timeout_s);
  options.pull = opts.pull;
  options.stop = &StopFlag();
  options.progress = &std::cerr;
  options.progress_bar = ::isatty(STDERR_FILENO) == 1;

  Result<EvalRun> run = RunEvaluation(*rows, predictions, options);
  if (!run.ok()) return Fail(run.status());

  std::cout << run->summary.dump(4, ' ', false, nlohmann::json::error_handler_t::replace)
            << std::endl;
  const auto& s = run->summary;
  std::cerr << "r2e eval: run " << options.run_id << ": " << s["resolved_instances"]
            << " resolved, " << s["unresolved_instances"] << " unresolved, "
            << s["empty_patch_instances"] << " empty, " << s["error_instances"] << " error(s) of "
            << s["total_instances"] << "; reports in "
            << (options.report_dir / options.run_id).string() << "\n";
  char timing[200];
  std::snprintf(timing, sizeof timing,
                "r2e eval: wall time %.1f s; sum of per-instance times %.1f s over %d instance(s) "
                "run with %d worker(s) (%.2fx)\n",
                run->wall_seconds, run->instance_seconds_sum, run->attempted, run->workers,
                run->wall_seconds > 0 ? run->instance_seconds_sum / run->wall_seconds : 0.0);
  std::cerr << timing;

  if (run->interrupted) {
    std::cerr << "r2e eval: interrupted; rerun with --run-id " << options.run_id << " to resume\n";
    return ExitStatus(kFailed);
  }
  // Every instance that ran failed on the infrastructure (daemon gone,
  // sandboxes not starting): the run as a whole failed.
  int infrastructure = 0;
  for (const auto& r : run->instances) {
    if (r.outcome == InstanceOutcome::kError && r.error_kind == EvalErrorKind::kInfrastructure) {
      ++infrastructure;
    }
  }
  if (run->attempted > 0 && infrastructure == run->attempted) {
    std::cerr << "r2e eval: every instance failed on the infrastructure (see error_reasons)\n";
    return kFailed;
  }
  return kCompleted;
}

}  // namespace r2e::cli
