// Trajectories: the record of one episode as a JSONL file.
//
//   auto w = r2e::TrajectoryWriter::Open("out/task-1.jsonl").value();
//   w.WriteStep(r2e::StepRecord::From(step, action, result));  // once per step
//   w.WriteSummary({.instance_id = id, .reward = 1.0, .exit_reason = "finished",
//                   .steps = n, .patch = patch});
//
// File format: one JSON object per line, each with a "type" field.
//   {"type":"step","step":1,"thought":"...","action":"<function=...>...","observation":"...",
//    "done":false,"exit_code":0,"timed_out":false,"duration_s":0.01,
//    ["model_s":..,"prompt_tokens":..,"completion_tokens":..,"total_tokens":..], ...extra}
//   {"type":"summary","instance_id":"...","reward":1.0,"exit_reason":"finished","steps":6,
//    "patch":"diff --git ...", ...extra}
// Optional fields are written only when set. Strings are written as valid
// UTF-8: invalid byte sequences become U+FFFD. A record's `extra` object is
// merged into its line; its keys never replace the named fields.
//
// Durability: every line is written whole and flushed to the operating system
// before WriteStep()/WriteSummary() returns, so a crash of the process keeps
// every line already written (there is no fsync: an OS crash may lose them).
//
// Thread-safety: thread-compatible. Use one writer per episode from one thread
// at a time; different writers (different files) may be used concurrently.
#ifndef R2E_TRAJECTORY_H_
#define R2E_TRAJECTORY_H_

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/action.h"
#include "r2e/status.h"

namespace r2e {

struct StepResult;  // r2e/repo_env.h

// One step of an episode.
struct StepRecord {
  int step = 0;             // 1-based index in the episode
  std::string thought;      // the model's text before its tool call
  std::string action;       // the action in its text form (Action::ToXml())
  std::string observation;  // what the agent was shown
  bool done = false;
  int exit_code = 0;
  bool timed_out = false;
  double duration_s = 0.0;  // time the environment spent on the step

  // Set by agents that call a model; written only when set.
  std::optional<double> model_s;  // time spent waiting for the model
  std::optional<std::int64_t> prompt_tokens;
  std::optional<std::int64_t> completion_tokens;
  std::optional<std::int64_t> total_tokens;

  // More fields for this line (must be an object or null).
  nlohmann::json extra;

  // The record of RepoEnv::step(action) -> result, as step number `step`.
  static StepRecord From(int step, const Action& action, const StepResult& result);
};

// The last line of an episode.
struct EpisodeSummary {
  std::string instance_id;
  double reward = 0.0;
  // Why the episode ended: "finished", "max_steps", "actions_exhausted",
  // "error", ... (free text chosen by the agent loop).
  std::string exit_reason;
  int steps = 0;
  // The final patch (GetPatch()); may be empty.
  std::string patch;
  // More fields (durations, an error message, ...); an object or null.
  nlohmann::json extra;
};

struct TrajectoryWriterOptions {
  // Add to an existing file instead of replacing it.
  bool append = false;
  // Create missing parent directories.
  bool create_parents = true;
};

class TrajectoryWriter {
 public:
  // Opens (creates or truncates) `path`. Unavailable when it cannot be opened.
  static Result<TrajectoryWriter> Open(const std::filesystem::path& path,
                                       const TrajectoryWriterOptions& options = {});

  TrajectoryWriter(TrajectoryWriter&&) noexcept = default;
  TrajectoryWriter& operator=(TrajectoryWriter&&) noexcept = default;
  ~TrajectoryWriter() = default;  // closes the file

  // Appends one step line. Unavailable on a write error (disk full, ...),
  // FailedPrecondition after Close() or after the summary was written.
  Status WriteStep(const StepRecord& record);
  // Appends the summary line; at most once per writer.
  Status WriteSummary(const EpisodeSummary& summary);
  // Closes the file (also done by the destructor). Idempotent.
  Status Close();

  const std::filesystem::path& path() const { return path_; }
  int lines_written() const { return lines_; }

  // The JSON lines, as written (exposed for tools and tests); keys in the
  // order shown above, then `extra`'s.
  static nlohmann::ordered_json StepJson(const StepRecord& record);
  static nlohmann::ordered_json SummaryJson(const EpisodeSummary& summary);

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const;
  };
  TrajectoryWriter(std::filesystem::path path, std::FILE* file);
  Status WriteLine(const nlohmann::ordered_json& line);

  std::filesystem::path path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  int lines_ = 0;
  bool summary_written_ = false;
};

// A trajectory read back from a file.
struct Trajectory {
  std::vector<StepRecord> steps;
  std::optional<EpisodeSummary> summary;  // absent when the episode never ended
  // The file ended in a partial line (a crash during a write); it was skipped.
  bool torn_tail = false;
};

// Reads a file written by TrajectoryWriter. Unknown fields of a line land in
// the record's `extra`. NotFound for a missing file; InvalidArgument (naming
// the line) for a line that is not a JSON object of a known type, except a
// final line without its newline, which is skipped and reported as torn_tail.
Result<Trajectory> ReadTrajectory(const std::filesystem::path& path);

}  // namespace r2e

#endif  // R2E_TRAJECTORY_H_
