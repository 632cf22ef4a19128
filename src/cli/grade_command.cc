// `r2e grade`: grades a saved test log without a sandbox, with the grader of
// the row's kind, and prints the report (SWE-bench: the harness's
// report.json shape) or, with --status-map, the parsed {test: status} map.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "r2e/grader.h"
#include "r2e/swebench.h"
#include "r2e/task.h"

namespace r2e::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kGraded = 0;
constexpr int kFailed = 1;
constexpr int kBadInput = 2;

Result<std::string> ReadWholeFile(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (path.empty()) return Status::InvalidArgument("no " + std::string(what) + " file given");
  if (!fs::exists(path, ec)) {
    return Status::NotFound(std::string(what) + " file " + path + " does not exist");
  }
  if (fs::is_directory(path, ec)) {
    return Status::InvalidArgument(std::string(what) + " file " + path + " is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + std::string(what) + " file " + path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::Internal("error while reading " + path);
  return content;
}

// The rows of a task file: one JSON object, a JSON array of objects, or
// JSONL (one object per non-empty line).
Result<std::vector<json>> ReadRows(const std::string& path, const std::string& content) {
  json whole = json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (!whole.is_discarded()) {
    if (whole.is_object()) return std::vector<json>{std::move(whole)};
    if (whole.is_array()) return whole.get<std::vector<json>>();
    return Status::InvalidArgument(path + ": expected a JSON object (one dataset row), got " +
                                   std::string(whole.type_name()));
  }
  std::vector<json> rows;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos <= content.size()) {
    std::size_t nl = content.find('\n', pos);
    if (nl == std::string::npos) nl = content.size();
    std::string_view line(content.data() + pos, nl - pos);
    ++line_no;
    pos = nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    json row = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (row.is_discarded()) {
      return Status::InvalidArgument(path + ":" + std::to_string(line_no) +
                                     ": not valid JSON (want a JSON object, or JSONL rows)");
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return Status::InvalidArgument(path + ": no dataset row in the file");
  return rows;
}

// Rows without an image still grade (no sandbox is started): the kind comes
// from --kind, else from the row's fields.
Result<Task> ToTask(const json& row, const GradeCommandOptions& opts, const std::string& source) {
  TaskParseOptions options;
  options.source = source;
  options.base_dir = fs::path(opts.task).parent_path();
  if (!opts.kind.empty()) {
    auto kind = ParseTaskKind(opts.kind);
    if (!kind.ok()) return kind.status();
    options.kind = *kind;
  }
  const bool has_image =
      row.is_object() && ((row.contains("docker_image") && row["docker_image"].is_string() &&
                           !row["docker_image"].get_ref<const std::string&>().empty()) ||
                          (row.contains("image_name") && row["image_name"].is_string() &&
                           !row["image_name"].get_ref<const std::string&>().empty()));
  if (!has_image && row.is_object()) {
    options.image_override = "none";  // never started
    if (!options.kind && !row.contains("kind")) {
      if (row.contains("expected_output_json")) {
        options.kind = TaskKind::kR2E;
      } else if (row.contains("test_patch") || row.contains("eval_script")) {
        options.kind = TaskKind::kSweBench;
      } else {
        options.kind = TaskKind::kSweSmith;
      }
    }
  }
  return ParseTask(row, options);
}

int Fail(int code, const Status& status) {
  std::cerr << "r2e grade: " << status.message() << "\n";
  return code;
}

}  // namespace

int Grade(const GradeCommandOptions& opts) {
  auto rules = ParseGradingRulesSetting(opts.rules);
  if (!rules.ok()) return Fail(kBadInput, rules.status());

  auto content = ReadWholeFile(opts.task, "task");
  if (!content.ok()) return Fail(kBadInput, content.status());
  auto rows = ReadRows(opts.task, *content);
  if (!rows.ok()) return Fail(kBadInput, rows.status());

  const json* row = nullptr;
  std::size_t index = 0;
  if (!opts.instance_id.empty()) {
    for (std::size_t i = 0; i < rows->size(); ++i) {
      const json& r = (*rows)[i];
      if (r.is_object() && r.contains("instance_id") && r["instance_id"] == opts.instance_id) {
        row = &r;
        index = i;
        break;
      }
    }
    if (row == nullptr) {
      return Fail(kBadInput,
                  Status::NotFound(opts.task + " has no row with instance_id " + opts.instance_id));
    }
  } else if (rows->size() == 1) {
    row = &rows->front();
  } else {
    return Fail(kBadInput,
                Status::InvalidArgument(opts.task + " holds " + std::to_string(rows->size()) +
                                        " rows; choose one with --instance-id"));
  }
  auto task =
      ToTask(*row, opts, opts.task + (rows->size() > 1 ? ":" + std::to_string(index + 1) : ""));
  if (!task.ok()) return Fail(kBadInput, task.status());

  auto log = ReadWholeFile(opts.log, "log");
  if (!log.ok()) return Fail(kBadInput, log.status());

  auto grader = MakeGrader(task->kind, *rules);
  if (!grader.ok()) return Fail(kFailed, grader.status());
  auto graded = (*grader)->grade_log(*task, *log);
  if (!graded.ok()) {
    const StatusCode code = graded.status().code();
    const bool bad_input = code == StatusCode::kInvalidArgument || code == StatusCode::kNotFound;
    return Fail(bad_input ? kBadInput : kFailed, graded.status());
  }

  if (opts.status_map) {
    json map = json::object();
    for (const auto& [test, status] : graded->status_map) map[test] = status;
    std::cout << map.dump(4, ' ', false, json::error_handler_t::replace) << std::endl;
  } else if (task->kind == TaskKind::kSweBench) {
    std::cout << FormatSweBenchReport(graded->report) << std::endl;
  } else {
    std::cout << graded->report.dump(4, ' ', false, json::error_handler_t::replace) << std::endl;
  }
  for (const std::string& warning : graded->warnings) {
    std::cerr << "r2e grade: warning: " << warning << "\n";
  }
  std::cerr << task->instance_id << ": " << (graded->resolved ? "resolved" : "not resolved")
            << " (reward " << graded->reward << ")\n";
  return kGraded;
}

}  // namespace r2e::cli
