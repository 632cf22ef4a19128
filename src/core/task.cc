#include "r2e/task.h"

#include "core/row_kind.h"
#include "core/text.h"

#include <algorithm>
#include <cstddef>
#include <cctype>
#include <exception>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <system_error>
#include <utility>

namespace r2e {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view kValidKindNames =
    "swebench (also swe-bench, swe_bench), swesmith (also swe-smith, swe_smith), "
    "r2e (also r2e-gym, r2egym)";

std::string Prefix(const std::string& source) {
  return source.empty() ? std::string() : source + ": ";
}

Status FieldError(const TaskParseOptions& options, std::string_view field, std::string_view msg) {
  std::string out = Prefix(options.source);
  out += "field `";
  out += field;
  out += "`: ";
  out += msg;
  return Status::InvalidArgument(std::move(out));
}

std::string TypeMismatch(std::string_view expected, const json& value) {
  std::string out = "expected ";
  out += expected;
  out += ", got ";
  out += value.type_name();
  return out;
}

// Dump that cannot throw on invalid UTF-8 inside strings.
std::string SafeDump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The field's value, or nullptr when it is absent or null.
const json* Find(const json& row, std::string_view field) {
  auto it = row.find(field);
  if (it == row.end() || it->is_null()) return nullptr;
  return &*it;
}

// A string field; or, where `other` accepts the value, that value's JSON
// text. `expected` names what the field may hold, for the error.
Status ReadText(const json& row, std::string_view field, const TaskParseOptions& options,
                bool (json::*other)() const noexcept, std::string_view expected, std::string* out) {
  const json* value = Find(row, field);
  if (value == nullptr) return Status::OK();
  if (value->is_string()) {
    *out = value->get<std::string>();
  } else if (other != nullptr && (value->*other)()) {
    *out = SafeDump(*value);
  } else {
    return FieldError(options, field, TypeMismatch(expected, *value));
  }
  return Status::OK();
}

Status ReadString(const json& row, std::string_view field, const TaskParseOptions& options,
                  std::string* out) {
  return ReadText(row, field, options, nullptr, "a string", out);
}

// The part of a nlohmann parse_error message after "parse error at line L, column C: ".
std::string ShortParseReason(const std::string& what) {
  size_t pos = what.find("parse error");
  if (pos != std::string::npos) {
    size_t colon = what.find(": ", pos);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  if (!what.empty() && what.front() == '[') {
    size_t close = what.find("] ");
    if (close != std::string::npos) return what.substr(close + 2);
  }
  return what;
}

Status ReadStringList(const json& row, std::string_view field, const TaskParseOptions& options,
                      std::vector<std::string>* out) {
  const json* value = Find(row, field);
  if (value == nullptr) return Status::OK();
  json decoded;
  const json* list = value;
  if (value->is_string()) {
    // Hub exports often store lists as JSON-encoded strings.
    try {
      decoded = json::parse(value->get_ref<const std::string&>());
    } catch (const json::exception& e) {
      return FieldError(options, field,
                        "expected a JSON list of strings, got a string that is not valid JSON (" +
                            ShortParseReason(e.what()) + ")");
    }
    if (!decoded.is_array()) {
      return FieldError(options, field,
                        "expected a JSON list of strings, got a string holding a JSON " +
                            std::string(decoded.type_name()));
    }
    list = &decoded;
  } else if (!value->is_array()) {
    return FieldError(options, field,
                      TypeMismatch("a JSON list of strings (or a string holding one)", *value));
  }
  std::vector<std::string> items;
  items.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    if (!item.is_string()) {
      return FieldError(options, field,
                        "item " + std::to_string(i) + ": " + TypeMismatch("a string", item));
    }
    items.push_back(item.get<std::string>());
  }
  *out = std::move(items);
  return Status::OK();
}

// Reads a local directory field, resolves it against base_dir and checks it exists.
Status ReadLocalDir(const json& row, std::string_view field, const TaskParseOptions& options,
                    fs::path* out) {
  std::string text;
  R2E_RETURN_IF_ERROR(ReadString(row, field, options, &text));
  if (text.empty()) return Status::OK();
  fs::path path(text);
  if (path.is_relative() && !options.base_dir.empty()) path = options.base_dir / path;
  path = path.lexically_normal();
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  if (!is_dir) {
    const bool exists = fs::exists(path, ec);
    std::string msg = Prefix(options.source) + "field `" + std::string(field) + "`: " +
                      path.string() + (exists ? " is not a directory" : " does not exist") +
                      "; create the directory or fix the path in the row";
    if (fs::path(text).is_relative()) {
      msg += " (relative paths resolve against " +
             (options.base_dir.empty() ? std::string("the current directory")
                                       : options.base_dir.string()) +
             ")";
    }
    return Status::NotFound(std::move(msg));
  }
  *out = std::move(path);
  return Status::OK();
}

using internal::Trim;

// The sandbox image: the stated one (an override as given; SWE-smith names
// mapped), else the name the kind's harness derives.
Result<std::string> ImageFor(const Task& task, std::string stated, bool overridden,
                             const TaskParseOptions& options) {
  if (overridden) return stated;
  if (!stated.empty()) {
    return task.kind == TaskKind::kSweSmith ? internal::MapSweSmithImage(std::move(stated), options)
                                            : stated;
  }
  Result<std::string> derived = Status::OK();
  switch (task.kind) {
    case TaskKind::kSweBench:
      derived = internal::SweBenchImageName(task.instance_id, options);
      break;
    case TaskKind::kSweSmith:
      derived = internal::SweSmithImageName(task.instance_id, task.repo, options);
      if (derived.ok()) derived = internal::MapSweSmithImage(std::move(derived).value(), options);
      break;
    case TaskKind::kR2E:
      // R2E images carry a per-commit hash no field of the row gives.
      if (!task.local_repo.empty()) return std::string();
      return Status::InvalidArgument(
          Prefix(options.source) + "row `" + task.instance_id +
          "` has no `docker_image` or `image_name`; add one to the row, set an image override "
          "(--image), or give `local_repo` to run it with the local runtime");
  }
  if (!derived.ok()) {
    // A local row runs without an image.
    if (!task.local_repo.empty()) return std::string();
    return Status::InvalidArgument(Prefix(options.source) + "row `" + task.instance_id +
                                   "` names no image and none can be derived: " +
                                   derived.status().message() +
                                   "; add `docker_image` or `image` to the row, or set an image "
                                   "override (--image)");
  }
  return std::move(derived).value();
}

Result<Task> ParseTaskImpl(const json& row, const TaskParseOptions& options) {
  if (!row.is_object()) {
    return Status::InvalidArgument(Prefix(options.source) + "row is not a JSON object (got " +
                                   row.type_name() + ")");
  }
  Task task;

  R2E_RETURN_IF_ERROR(ReadString(row, "instance_id", options, &task.instance_id));
  if (task.instance_id.empty()) {
    return FieldError(options, "instance_id", "missing or empty; every row needs an instance_id");
  }

  R2E_RETURN_IF_ERROR(ReadLocalDir(row, "local_repo", options, &task.local_repo));
  R2E_RETURN_IF_ERROR(ReadLocalDir(row, "local_tests", options, &task.local_tests));

  // Image as the row or the caller states it: the override, else
  // docker_image, image_name (R2E-Gym's fields), else image (SWE-bench 5.x).
  std::string stated_image;
  const bool overridden = !options.image_override.empty();
  if (overridden) {
    stated_image = options.image_override;
  } else {
    for (std::string_view field : {"docker_image", "image_name", "image"}) {
      std::string value;
      R2E_RETURN_IF_ERROR(ReadString(row, field, options, &value));
      if (stated_image.empty()) stated_image = std::move(value);
    }
  }

  // Kind: the option, else the row's `kind`, else the row's fields, else the image name.
  if (options.kind.has_value()) {
    task.kind = *options.kind;
  } else if (const json* kind = Find(row, "kind"); kind != nullptr) {
    if (!kind->is_string()) return FieldError(options, "kind", TypeMismatch("a string", *kind));
    Result<TaskKind> parsed = ParseTaskKind(kind->get_ref<const std::string&>());
    if (!parsed.ok()) return FieldError(options, "kind", parsed.status().message());
    task.kind = *parsed;
  } else if (auto by_fields = internal::KindFromFields(row, task.instance_id)) {
    task.kind = *by_fields;
  } else if (auto by_image = internal::KindFromImage(stated_image)) {
    task.kind = *by_image;
  } else {
    return Status::InvalidArgument(
        Prefix(options.source) + "cannot tell the kind of row `" + task.instance_id +
        "`: looked for " + std::string(internal::KindEvidenceText()) +
        "; add `kind` (swebench, swesmith or r2e) to the row or pass the kind as an option (--kind)");
  }

  // Repository name: prefer the kind's own field, accept the other.
  // Repository name: prefer the kind's own field, accept the other.
  std::string repo;
  std::string repo_name;
  R2E_RETURN_IF_ERROR(ReadString(row, "repo", options, &repo));
  R2E_RETURN_IF_ERROR(ReadString(row, "repo_name", options, &repo_name));
  if (task.kind == TaskKind::kR2E) {
    task.repo = !repo_name.empty() ? repo_name : repo;
  } else {
    task.repo = !repo.empty() ? repo : repo_name;
  }

  R2E_ASSIGN_OR_RETURN(task.image, ImageFor(task, stated_image, overridden, options));

  R2E_RETURN_IF_ERROR(ReadString(row, "base_commit", options, &task.base_commit));
  // Versions like 3.0 are sometimes stored as numbers; keep their JSON text.
  R2E_RETURN_IF_ERROR(ReadText(row, "version", options, &json::is_number, "a string or a number",
                               &task.version));
  R2E_RETURN_IF_ERROR(ReadString(row, "patch", options, &task.patch));
  R2E_RETURN_IF_ERROR(ReadString(row, "test_patch", options, &task.test_patch));
  R2E_RETURN_IF_ERROR(ReadString(row, "problem_statement", options, &task.problem_statement));
  R2E_RETURN_IF_ERROR(ReadString(row, "log_parser", options, &task.log_parser));
  R2E_RETURN_IF_ERROR(ReadString(row, "eval_script", options, &task.eval_script));
  R2E_RETURN_IF_ERROR(ReadString(row, "eval_type", options, &task.eval_type));
  R2E_RETURN_IF_ERROR(ReadText(row, "expected_output_json", options, &json::is_object,
                               "a JSON object or a string holding one",
                               &task.expected_output_json));
  R2E_RETURN_IF_ERROR(ReadStringList(row, "FAIL_TO_PASS", options, &task.fail_to_pass));
  R2E_RETURN_IF_ERROR(ReadStringList(row, "PASS_TO_PASS", options, &task.pass_to_pass));

  task.row = row;
  return task;
}

Result<std::string> ReadFile(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return Status::NotFound("task file " + file.string() +
                            " does not exist; check the path to the dataset file");
  }
  if (fs::is_directory(file, ec)) {
    return Status::InvalidArgument("task file " + file.string() +
                                   " is a directory; give a .json or .jsonl file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::NotFound("cannot open task file " + file.string() + " for reading");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::Internal("error while reading task file " + file.string());
  return content;
}

// Parses rows one by one and rejects duplicate instance ids.
class RowCollector {
 public:
  explicit RowCollector(const TaskParseOptions& options) : options_(options) {}

  Status Add(const json& row, std::string source) {
    TaskParseOptions options = options_;
    options.source = source;
    R2E_ASSIGN_OR_RETURN(Task task, ParseTaskImpl(row, options));
    auto [it, inserted] = seen_.emplace(task.instance_id, source);
    if (!inserted) {
      return Status::InvalidArgument(source + ": duplicate instance_id `" + task.instance_id +
                                     "` (first seen at " + it->second +
                                     "); each row needs a unique instance_id");
    }
    tasks_.push_back(std::move(task));
    return Status::OK();
  }

  std::vector<Task> Take() { return std::move(tasks_); }

 private:
  const TaskParseOptions& options_;
  std::map<std::string, std::string> seen_;
  std::vector<Task> tasks_;
};

Result<std::vector<Task>> LoadTasksImpl(const fs::path& file, const TaskParseOptions& options) {
  R2E_ASSIGN_OR_RETURN(std::string content, ReadFile(file));
  const std::string name = file.string();

  TaskParseOptions row_options = options;
  if (row_options.base_dir.empty()) {
    std::error_code ec;
    fs::path absolute = fs::absolute(file, ec);
    row_options.base_dir = ec ? file.parent_path() : absolute.parent_path();
  }
  RowCollector collector(row_options);

  // Skip a UTF-8 byte order mark before looking at the first byte.
  size_t start = content.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  size_t first = content.find_first_not_of(" \t\r\n", start);

  if (first != std::string::npos && content[first] == '[') {
    json rows;
    try {
      rows = json::parse(content);
    } catch (const json::parse_error& e) {
      size_t offset = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, content.size());
      auto end = content.begin() + static_cast<std::ptrdiff_t>(offset);
      auto line = 1 + std::count(content.begin(), end, '\n');
      return Status::InvalidArgument(name + ":" + std::to_string(line) +
                                     ": file is not a valid JSON array (" +
                                     ShortParseReason(e.what()) + ")");
    } catch (const json::exception& e) {
      return Status::InvalidArgument(name + ": file is not valid JSON (" +
                                     ShortParseReason(e.what()) + ")");
    }
    if (!rows.is_array()) {
      return Status::InvalidArgument(name + ": expected a JSON array of rows");
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      R2E_RETURN_IF_ERROR(collector.Add(rows[i], name + ": element " + std::to_string(i)));
    }
  } else {
    std::istringstream lines(content.substr(start));
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
      if (Trim(line).empty()) continue;
      const std::string source = name + ":" + std::to_string(number);
      json row;
      try {
        row = json::parse(line);
      } catch (const json::exception& e) {
        return Status::InvalidArgument(source + ": line is not valid JSON (" +
                                       ShortParseReason(e.what()) +
                                       "); a JSONL file needs one JSON object per line");
      }
      R2E_RETURN_IF_ERROR(collector.Add(row, source));
    }
  }

  std::vector<Task> tasks = collector.Take();
  if (tasks.empty()) return Status::InvalidArgument("no tasks in " + name);
  return tasks;
}

}  // namespace

std::string_view TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kSweBench: return "swebench";
    case TaskKind::kSweSmith: return "swesmith";
    case TaskKind::kR2E: return "r2e";
  }
  return "r2e";
}

Result<TaskKind> ParseTaskKind(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "swebench" || lower == "swe-bench" || lower == "swe_bench") {
    return TaskKind::kSweBench;
  }
  if (lower == "swesmith" || lower == "swe-smith" || lower == "swe_smith") {
    return TaskKind::kSweSmith;
  }
  if (lower == "r2e" || lower == "r2e-gym" || lower == "r2egym") return TaskKind::kR2E;
  return Status::InvalidArgument("unknown task kind `" + std::string(name) +
                                 "`; valid kinds: " + std::string(kValidKindNames));
}

std::string Task::Instruction() const {
  constexpr std::string_view kOpen = "[ISSUE]";
  constexpr std::string_view kClose = "[/ISSUE]";
  size_t open = problem_statement.find(kOpen);
  if (open != std::string::npos) {
    size_t begin = open + kOpen.size();
    size_t close = problem_statement.find(kClose, begin);
    if (close != std::string::npos) {
      std::string_view inner(problem_statement.data() + begin, close - begin);
      return std::string(Trim(inner));
    }
  }
  return problem_statement;
}

Result<Task> ParseTask(const nlohmann::json& row, const TaskParseOptions& options) {
  // Safety net: nothing below should throw, but no exception may leave the library.
  try {
    return ParseTaskImpl(row, options);
  } catch (const std::exception& e) {
    return Status::Internal(Prefix(options.source) + "unexpected error parsing row: " + e.what());
  }
}

Result<std::vector<Task>> LoadTasks(const std::filesystem::path& file,
                                    const TaskParseOptions& options) {
  try {
    return LoadTasksImpl(file, options);
  } catch (const std::exception& e) {
    return Status::Internal("unexpected error loading " + file.string() + ": " + e.what());
  }
}

}  // namespace r2e
