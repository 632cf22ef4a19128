// Task: one dataset row (a SWE-bench, SWE-smith or R2E instance), parsed.
//
// Rows are JSON objects as exported from the usual dataset hubs. List fields
// (FAIL_TO_PASS, PASS_TO_PASS) may be JSON lists or JSON-encoded strings of
// lists. Parsing never throws; errors name the file, line and field.
#ifndef R2E_TASK_H_
#define R2E_TASK_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/status.h"

namespace r2e {

enum class TaskKind { kSweBench, kSweSmith, kR2E };

// "swebench", "swesmith" or "r2e".
std::string_view TaskKindName(TaskKind kind);
// Accepts the names above (case-insensitive, also "swe-bench", "swe-smith",
// "r2e-gym"); InvalidArgument otherwise.
Result<TaskKind> ParseTaskKind(std::string_view name);

struct Task {
  std::string instance_id;
  TaskKind kind = TaskKind::kR2E;

  // The sandbox image: the override, else the row's `docker_image`, else
  // `image_name`, else `image` (SWE-bench 5.x rows), else the name the kind's
  // harness gives the instance (see TaskParseOptions).
  std::string image;
  // `repo` (SWE-bench, SWE-smith) or `repo_name` (R2E), e.g. "pallets/flask".
  std::string repo;
  std::string base_commit;
  std::string version;
  std::string patch;       // the gold patch
  std::string test_patch;  // SWE-bench: the patch that adds the hidden tests
  std::vector<std::string> fail_to_pass;
  std::vector<std::string> pass_to_pass;
  std::string problem_statement;
  // R2E: JSON string of test name -> PASSED/FAILED/ERROR.
  std::string expected_output_json;
  // SWE-bench v5: the log parser named by the instance, if any.
  std::string log_parser;
  // SWE-bench 5.x rows: the instance's own eval.sh (`eval_script`) and pass
  // rule (`eval_type`: "pass_and_fail" or "fail_only"); empty when absent.
  std::string eval_script;
  std::string eval_type;

  // For runtimes that build the sandbox from host directories (local): the
  // repository copied to /testbed and the hidden tests copied to
  // /root/r2e_tests. Relative paths in a row are resolved against the
  // directory of the dataset file. Fields: `local_repo`, `local_tests`.
  std::filesystem::path local_repo;
  std::filesystem::path local_tests;

  // The row as read, for fields this struct does not name.
  nlohmann::json row;

  // The text between [ISSUE] and [/ISSUE] of problem_statement when present,
  // else the whole statement.
  std::string Instruction() const;
};

// The kind of a row: TaskParseOptions::kind, else the row's `kind` field,
// else what the row's fields show (SWE-bench: `FAIL_TO_PASS` with `test_patch`
// and `version`, or with `eval_script`; SWE-smith: `FAIL_TO_PASS` with an
// instance id `<owner>__<repo>.<8-hex commit>.<strategy>` or a `repo` under
// `swesmith/`; R2E: `expected_output_json`, `parsed_commit`,
// `parsed_commit_content`, or our `local_tests` / `local_repo`), else the
// image name (holding
// `swesmith`; `swebench` or `sweb.eval.`). A row none of these decide is an
// InvalidArgument error naming what was looked for.
struct TaskParseOptions {
  // Use this image instead of the row's or a derived one.
  std::string image_override;
  // Use this kind instead of the row's `kind` or the detected one.
  std::optional<TaskKind> kind;

  // Image names for rows that name no image, as the harnesses name them.
  // SWE-bench (harness v4.1.0's instance_image_key):
  // `<swebench_namespace>/sweb.eval.<image_arch>.<instance id lowercased>:<instance_image_tag>`
  // with every "__" as "_1776_" (Docker Hub refuses "__"). An empty namespace
  // ("none" and "null" read the same, as the harness's --namespace does) names
  // an image the harness built locally: `sweb.eval.<arch>.<id lowercased>:<tag>`,
  // "__" kept.
  std::string swebench_namespace = "swebench";
  std::string instance_image_tag = "latest";
  // "x86_64" (the harness's choice on every host) or "arm64"; also the arch
  // of derived SWE-smith names.
  std::string image_arch = "x86_64";
  // SWE-smith: a name of SWE-smith's local form `swesmith.<arch>.<owner>__<repo>.<commit8>`
  // (the row's `image_name`, or derived from `repo` / the instance id when
  // the row has none) becomes the name the images are published under,
  // `jyangballin/swesmith.<arch>.<owner>_1776_<repo>.<commit8>:latest` (as
  // the R2E-Gym scaffold pulls them). Off: the local name, for images pulled
  // and retagged by SWE-smith's download_images. Other names are left alone.
  bool swesmith_image_map = true;
  // Directory that relative local paths are resolved against.
  std::filesystem::path base_dir;
  // Name used in error messages (usually "<file>:<line>").
  std::string source;
};

// Parses one row. Errors are InvalidArgument and name the source and field.
Result<Task> ParseTask(const nlohmann::json& row, const TaskParseOptions& options = {});

// Loads a JSON array of rows or a JSONL file (one row per non-empty line).
// Relative local paths resolve against the file's directory unless
// options.base_dir is set. Errors name the file, the line and the field.
Result<std::vector<Task>> LoadTasks(const std::filesystem::path& file,
                                    const TaskParseOptions& options = {});

}  // namespace r2e

#endif  // R2E_TASK_H_
