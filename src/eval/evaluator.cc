// Batch evaluation, the runner: validates the inputs, prepares the backend,
// spreads the instances over worker threads (each runs RunInstance,
// instance_run.cc) with per-instance deadlines, cancellation, resume and
// progress, and writes the run summary.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/enum_names.h"
#include "eval/eval_internal.h"
#include "r2e/evaluation.h"
#include "r2e/runtimes.h"
#include "r2e/swesmith_profiles.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using internal::EvalProgress;
using internal::EvalSlot;
using Clock = internal::EvalClock;

// How often the runner checks deadlines and the stop flag.
constexpr auto kTick = std::chrono::milliseconds(100);
// How often the progress bar is redrawn.
constexpr auto kRedraw = std::chrono::milliseconds(500);

// SWE-smith rows whose repository has no profile run a default command that
// may not be the harness's: say so up front, once per repository.
void WarnUnprofiledSweSmith(const std::vector<std::pair<const Task*, const Prediction*>>& inputs,
                            const std::vector<std::size_t>& to_run, EvalProgress& progress) {
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

}  // namespace

std::string_view InstanceOutcomeName(InstanceOutcome outcome) {
  using enum InstanceOutcome;
  static constexpr internal::EnumName<InstanceOutcome> kNames[] = {
      {kResolved, "resolved"},
      {kUnresolved, "unresolved"},
      {kEmptyPatch, "empty patch"},
      {kSkipped, "skipped (report exists)"},
      {kError, "error"}};
  return internal::NameOf(outcome, kNames, "error");
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
  // A runtime of the kind that will run the instances, never started: what
  // the rows must carry depends on it.
  auto probe = options.make_runtime ? options.make_runtime(rows.empty() ? Task{} : rows.front().task)
                                    : MakeRuntime(options.runtime, options.runtime_options);
  if (!probe.ok()) return probe.status().WithContext("runtime");
  const std::string runtime_name((*probe)->name());
  R2E_RETURN_IF_ERROR(ValidateEvaluation(rows, predictions, **probe));
  probe->reset();

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
  EvalProgress progress(options, to_run.size());
  progress.Message("run " + options.run_id + ": " + std::to_string(rows.size()) + " instance(s), " +
                   std::to_string(to_run.size()) + " to run, " + std::to_string(empty) +
                   " empty patch(es), " + std::to_string(skipped) +
                   " already done (report.json exists: skipped); " + std::to_string(workers) +
                   " worker(s), runtime " + runtime_name + "; reports in " +
                   run_dir.string());
  WarnUnprofiledSweSmith(inputs, to_run, progress);

  const auto stop_requested = [&] { return options.stop != nullptr && options.stop->load(); };

  if (!to_run.empty() && !options.make_runtime) {
    std::vector<std::string> images;
    for (std::size_t i : to_run) images.push_back(inputs[i].first->image);
    R2E_RETURN_IF_ERROR(PrepareSandboxes(options.runtime, options.runtime_options, images, options.pull,
                                         [&](const std::string& message) { progress.Message(message); }));
    // Docker (the other backends ignore these): the images are local now, so
    // a missing one later is that instance's error; the containers carry the
    // run id; a killed runner's remove themselves soon after the deadline.
    DockerRuntimeOptions& docker = options.runtime_options.docker;
    docker.pull = DockerRuntimeOptions::Pull::kNever;
    docker.labels.emplace_back("r2e.eval.run_id", options.run_id);
    docker.max_lifetime = options.timeout + std::chrono::minutes(10);
  }
  options.env.reward_timeout = options.timeout;
  EvalRuntimeFactory make_runtime = options.make_runtime;
  if (!make_runtime) {
    auto named = MakeRuntimeFactory(options.runtime, options.runtime_options);
    if (!named.ok()) return named.status();
    make_runtime = [factory = std::move(named).value()](const Task&) { return factory(); };
  }

  // Workers take instances in dataset order; the calling thread watches
  // deadlines and the stop flag and draws the progress bar.
  std::vector<EvalSlot> slots(static_cast<std::size_t>(workers));
  std::atomic<std::size_t> next{0};
  std::mutex done_mu;
  std::condition_variable done_cv;
  int running = 0;
  std::vector<std::thread> threads;
  auto worker = [&](std::size_t w) {
    EvalSlot& slot = slots[w];
    for (;;) {
      if (stop_requested()) break;
      const std::size_t k = next.fetch_add(1);
      if (k >= to_run.size()) break;
      const std::size_t i = to_run[k];
      InstanceResult r;
      std::string earlier_logs;  // of attempts that failed for the sandbox's sake
      for (int attempt = 1;; ++attempt) {
        slot.cancel.store(EvalSlot::kNone);
        try {
          r = internal::RunInstance(*inputs[i].first, *inputs[i].second, options, make_runtime, runtime_name,
                                    slot);
        } catch (const std::exception& e) {
          r = run.instances[i];
          r.outcome = InstanceOutcome::kError;
          r.error_kind = EvalErrorKind::kInfrastructure;
          r.error = std::string("internal error: ") + e.what();
        }
        if (!earlier_logs.empty()) internal::PrependAttemptLogs(r.dir, earlier_logs, attempt);
        if (r.outcome != InstanceOutcome::kError || r.error_kind != EvalErrorKind::kInfrastructure ||
            attempt > options.infrastructure_retries || stop_requested()) {
          break;
        }
        progress.Message(r.instance_id + ": " + internal::LastLines(r.error, 1) +
                         "; running it again in a new sandbox (attempt " + std::to_string(attempt + 1) + " of " +
                         std::to_string(options.infrastructure_retries + 1) + ")");
        earlier_logs = internal::TakeAttemptLog(r.dir, attempt, earlier_logs);
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
    std::vector<EvalSlot*> to_kill;
    for (EvalSlot& slot : slots) {
      std::lock_guard<std::mutex> lock(slot.mu);
      if (!slot.active || slot.cancel.load() != EvalSlot::kNone) continue;
      int why = EvalSlot::kNone;
      if (stop_now) {
        why = EvalSlot::kStop;
      } else if (now >= slot.deadline) {
        why = EvalSlot::kDeadline;
      }
      if (why == EvalSlot::kNone) continue;
      slot.cancel.store(why);
      to_kill.push_back(&slot);
    }
    for (EvalSlot* slot : to_kill) {
      std::lock_guard<std::mutex> lock(slot->mu);
      // Still the instance that was flagged: a worker resets the flag only
      // after unregistering. kill(), not stop(): the worker's next call then
      // meets a dead sandbox rather than a runtime halfway through stopping
      // (Docker), and its close() removes what is left.
      if (slot->active && slot->runtime != nullptr) slot->runtime->kill();
    }
    if (now - last_draw >= kRedraw) {
      progress.Redraw();
      last_draw = now;
    }
  }
  for (auto& t : threads) t.join();
  progress.End();

  run.interrupted = stop_requested();
  run.wall_seconds = internal::SecondsSince(t_start);
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
  if (Status s = internal::WriteFileAtomic(
          run_dir / file_name,
          run.summary.dump(4, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      !s.ok()) {
    progress.Message("could not write the run summary: " + s.message());
  }
  return run;
}

}  // namespace r2e
