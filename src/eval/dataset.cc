// Batch evaluation inputs and outputs: predictions files, dataset rows with
// their lines, up-front validation, and the harness's run summary
// (make_run_report in swebench/harness/reporting.py, MIT).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "r2e/evaluation.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Messages list at most this many problems (and say how many more there are).
constexpr std::size_t kMaxListedProblems = 20;

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

using internal::Trim;

// 1-based line of byte `offset` in `text`.
std::size_t LineAt(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

std::string At(std::string_view name, std::size_t line) {
  return std::string(name) + ":" + std::to_string(line);
}

// Offsets where the top-level elements (array) or member keys (object) of
// the JSON value starting at `first` begin. Used only on text that parsed.
std::vector<std::size_t> TopLevelStarts(std::string_view s, std::size_t first) {
  std::vector<std::size_t> out;
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  bool expect = false;
  for (std::size_t i = first; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (expect && !IsSpace(c)) {
      expect = false;
      if (!(depth == 1 && (c == ']' || c == '}'))) out.push_back(i);
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth == 1) expect = true;
        break;
      case ']':
      case '}':
        if (--depth == 0) return out;
        break;
      case ',':
        if (depth == 1) expect = true;
        break;
      default:
        break;
    }
  }
  return out;
}

// The JSON string token starting at `pos` (a '"'), decoded.
std::string KeyAt(std::string_view s, std::size_t pos) {
  std::size_t i = pos + 1;
  for (bool escaped = false; i < s.size(); ++i) {
    if (escaped) {
      escaped = false;
    } else if (s[i] == '\\') {
      escaped = true;
    } else if (s[i] == '"') {
      break;
    }
  }
  json key = json::parse(s.substr(pos, i + 1 - pos), nullptr, /*allow_exceptions=*/false);
  return key.is_string() ? key.get<std::string>() : std::string();
}

// Parses `text` as JSON; on failure says why and on which line (offsets are
// relative to `text`).
json ParseJson(std::string_view text, std::string* why, std::size_t* line) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    const std::string what = e.what();
    const std::size_t colon = what.find(": ", what.find("parse error"));
    *why = colon == std::string::npos ? what : what.substr(colon + 2);
    *line = LineAt(text, e.byte > 0 ? e.byte - 1 : 0);
  } catch (const std::exception& e) {
    *why = e.what();
    *line = 1;
  }
  return json(json::value_t::discarded);
}

std::string JoinProblems(const std::vector<std::string>& problems, std::string_view head) {
  std::string out(head);
  for (std::size_t i = 0; i < problems.size() && i < kMaxListedProblems; ++i) {
    out += "\n  " + problems[i];
  }
  if (problems.size() > kMaxListedProblems) {
    out += "\n  ... and " + std::to_string(problems.size() - kMaxListedProblems) + " more";
  }
  return out;
}

// One prediction row. `key` is the id it was filed under in a keyed object.
std::optional<Prediction> ParseRow(const json& row, const std::string& source,
                                   const std::string* key, std::vector<std::string>& problems) {
  auto bad = [&](std::string_view field, const std::string& why) {
    problems.push_back(source + ": field `" + std::string(field) + "`: " + why);
    return std::nullopt;
  };
  if (!row.is_object()) {
    problems.push_back(source +
                       ": expected a JSON object {instance_id, model_name_or_path, "
                       "model_patch}, got " +
                       std::string(row.type_name()));
    return std::nullopt;
  }
  Prediction p;
  p.source = source;
  auto id = row.find("instance_id");
  if (id == row.end() || id->is_null()) {
    if (key == nullptr) return bad("instance_id", "missing; every prediction needs one");
    p.instance_id = *key;
  } else if (!id->is_string()) {
    return bad("instance_id", "expected a string, got " + std::string(id->type_name()));
  } else {
    p.instance_id = id->get<std::string>();
    if (key != nullptr && *key != p.instance_id) {
      return bad("instance_id", "`" + p.instance_id + "` differs from its key `" + *key + "`");
    }
  }
  if (p.instance_id.empty()) return bad("instance_id", "is empty");
  auto model = row.find("model_name_or_path");
  if (model == row.end() || model->is_null()) {
    return bad("model_name_or_path",
               "missing; the report directory is named after it (use e.g. \"my-model\")");
  }
  if (!model->is_string()) {
    return bad("model_name_or_path", "expected a string, got " + std::string(model->type_name()));
  }
  p.model_name_or_path = model->get<std::string>();
  if (p.model_name_or_path.empty()) return bad("model_name_or_path", "is empty");
  auto patch = row.find("model_patch");
  if (patch == row.end()) {
    return bad("model_patch", "missing (give null or \"\" for no patch)");
  }
  if (patch->is_string()) {
    p.model_patch = patch->get<std::string>();
  } else if (!patch->is_null()) {
    return bad("model_patch", "expected a string or null, got " + std::string(patch->type_name()));
  }
  return p;
}

// A single JSON object that is one prediction row rather than a keyed map.
bool LooksLikeRow(const json& j) {
  for (const char* field : {"instance_id", "model_patch", "model_name_or_path"}) {
    auto it = j.find(field);
    if (it != j.end() && !it->is_object()) return true;
  }
  return false;
}

Result<std::string> ReadWholeFile(const fs::path& file, std::string_view what) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return Status::NotFound(std::string(what) + " file " + file.string() + " does not exist");
  }
  if (fs::is_directory(file, ec)) {
    return Status::InvalidArgument(std::string(what) + " file " + file.string() +
                                   " is a directory; give a .json or .jsonl file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + std::string(what) + " file " + file.string());
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::Unavailable("error while reading " + file.string());
  return content;
}

bool UsableAsDirName(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

std::string Where(const std::string& source) { return source.empty() ? "" : source + ": "; }

}  // namespace

// ---------------------------------------------------------------------------
// Predictions

Result<std::vector<Prediction>> ParsePredictions(std::string_view content, std::string_view name) {
  const std::size_t bom = content.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  const std::string_view text = content.substr(bom);
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return Status::InvalidArgument(std::string(name) + ": no predictions (the file is empty)");
  }
  std::vector<std::string> problems;
  std::vector<Prediction> out;
  auto add = [&](const json& row, const std::string& source, const std::string* key) {
    if (auto p = ParseRow(row, source, key, problems)) out.push_back(std::move(*p));
  };

  bool done = false;
  if (text[first] == '[' || text[first] == '{') {
    std::string why;
    std::size_t line = 0;
    json whole = ParseJson(text, &why, &line);
    if (whole.is_array()) {
      const auto starts = TopLevelStarts(text, first);
      for (std::size_t i = 0; i < whole.size(); ++i) {
        add(whole[i], At(name, i < starts.size() ? LineAt(text, starts[i]) : 1), nullptr);
      }
      done = true;
    } else if (whole.is_object() && LooksLikeRow(whole)) {
      add(whole, At(name, LineAt(text, first)), nullptr);
      done = true;
    } else if (whole.is_object()) {
      // Keyed by instance id. Duplicate keys would silently collapse in the
      // parsed object, so they are found in the text.
      const auto starts = TopLevelStarts(text, first);
      std::map<std::string, std::size_t> seen;
      for (std::size_t pos : starts) {
        const std::string key = KeyAt(text, pos);
        const std::size_t key_line = LineAt(text, pos);
        auto [it, inserted] = seen.emplace(key, key_line);
        if (!inserted) {
          problems.push_back(At(name, key_line) + ": duplicate instance_id `" + key +
                             "` (first at line " + std::to_string(it->second) + ")");
        }
      }
      if (problems.empty()) {
        for (std::size_t pos : starts) {
          const std::string key = KeyAt(text, pos);
          add(whole[key], At(name, LineAt(text, pos)), &key);
        }
      }
      done = true;
    } else if (text[first] == '[') {
      return Status::InvalidArgument(At(name, line) + ": not a valid JSON list of predictions (" +
                                     why + ")");
    } else if (!whole.is_discarded()) {
      return Status::InvalidArgument(std::string(name) + ": expected predictions, got JSON " +
                                     whole.type_name());
    }
    // An object that does not parse as a whole: JSONL, read line by line.
  }
  if (!done) {
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
      std::size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      const std::string_view line = text.substr(pos, nl - pos);
      ++line_no;
      pos = nl + 1;
      if (Trim(line).empty()) continue;
      std::string why;
      std::size_t unused = 0;
      json row = ParseJson(line, &why, &unused);
      if (row.is_discarded()) {
        problems.push_back(At(name, line_no) + ": line is not valid JSON (" + why +
                           "); a JSONL file needs one JSON object per line");
        continue;
      }
      add(row, At(name, line_no), nullptr);
    }
  }

  // Duplicate ids (keyed objects were checked above).
  std::map<std::string, std::string> seen;
  for (const Prediction& p : out) {
    auto [it, inserted] = seen.emplace(p.instance_id, p.source);
    if (!inserted) {
      problems.push_back(p.source + ": duplicate instance_id `" + p.instance_id + "` (first at " +
                         it->second + ")");
    }
  }
  if (!problems.empty()) {
    return Status::InvalidArgument(JoinProblems(
        problems, std::string(name) + ": " + std::to_string(problems.size()) +
                      (problems.size() == 1 ? " problem" : " problems") + " in the predictions:"));
  }
  if (out.empty()) return Status::InvalidArgument(std::string(name) + ": no predictions");
  return out;
}

Result<std::vector<Prediction>> LoadPredictions(const fs::path& file) {
  R2E_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(file, "predictions"));
  return ParsePredictions(content, file.string());
}

std::vector<Prediction> GoldPredictions(const std::vector<Task>& tasks) {
  std::vector<Prediction> out;
  out.reserve(tasks.size());
  for (const Task& t : tasks) {
    Prediction p;
    p.instance_id = t.instance_id;
    p.model_name_or_path = std::string(kGoldPredictions);
    // A row without a gold patch has nothing to run: an empty prediction.
    if (!t.patch.empty()) p.model_patch = t.patch;
    out.push_back(std::move(p));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Dataset

Result<std::vector<DatasetRow>> LoadDataset(const fs::path& file, const TaskParseOptions& options) {
  R2E_ASSIGN_OR_RETURN(std::vector<Task> tasks, LoadTasks(file, options));
  // Where each row starts, for later messages. LoadTasks read the same text:
  // array elements in order, or the non-empty lines of a JSONL file.
  std::vector<std::string> sources;
  auto content = ReadWholeFile(file, "dataset");
  if (content.ok()) {
    const std::string_view all = *content;
    const std::string_view text = all.substr(all.starts_with("\xEF\xBB\xBF") ? 3 : 0);
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && text[first] == '[') {
      for (std::size_t pos : TopLevelStarts(text, first)) {
        sources.push_back(At(file.string(), LineAt(text, pos)));
      }
    } else {
      std::size_t line_no = 0;
      for (std::size_t pos = 0; pos <= text.size();) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        ++line_no;
        if (!Trim(text.substr(pos, nl - pos)).empty())
          sources.push_back(At(file.string(), line_no));
        pos = nl + 1;
      }
    }
  }
  std::vector<DatasetRow> rows;
  rows.reserve(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    rows.push_back({std::move(tasks[i]), i < sources.size() ? sources[i] : file.string()});
  }
  return rows;
}

Result<std::vector<DatasetRow>> SelectRows(std::vector<DatasetRow> rows,
                                           const std::vector<std::string>& ids) {
  if (ids.empty()) return rows;
  const std::set<std::string> wanted(ids.begin(), ids.end());
  std::set<std::string> have;
  std::vector<DatasetRow> out;
  for (DatasetRow& row : rows) {
    if (wanted.contains(row.task.instance_id)) {
      have.insert(row.task.instance_id);
      out.push_back(std::move(row));
    }
  }
  std::vector<std::string> unknown;
  for (const std::string& id : wanted) {
    if (!have.contains(id)) unknown.push_back("`" + id + "`");
  }
  if (!unknown.empty()) {
    return Status::InvalidArgument(JoinProblems(unknown, "--instance-ids names " +
                                                             std::to_string(unknown.size()) +
                                                             " id(s) the dataset does not have:"));
  }
  return out;
}

Status ValidateEvaluation(const std::vector<DatasetRow>& rows,
                          const std::vector<Prediction>& predictions, const Runtime& runtime) {
  std::vector<std::string> problems;
  std::map<std::string, const DatasetRow*> by_id;
  for (const DatasetRow& row : rows) {
    if (!by_id.emplace(row.task.instance_id, &row).second) {
      problems.push_back(Where(row.source) + "duplicate instance_id `" + row.task.instance_id +
                         "` in the dataset");
    }
    if (!UsableAsDirName(row.task.instance_id)) {
      problems.push_back(Where(row.source) + "instance_id `" + row.task.instance_id +
                         "` cannot name a report directory (no '/', not '.' or '..')");
    }
  }
  std::map<std::string, std::string> seen;
  for (const Prediction& p : predictions) {
    if (auto [it, inserted] = seen.emplace(p.instance_id, p.source); !inserted) {
      problems.push_back(Where(p.source) + "duplicate instance_id `" + p.instance_id +
                         "` in the predictions (first at " + it->second + ")");
      continue;
    }
    if (!UsableAsDirName(ModelDirName(p.model_name_or_path))) {
      problems.push_back(Where(p.source) + "model_name_or_path `" + p.model_name_or_path +
                         "` cannot name a report directory");
    }
    auto it = by_id.find(p.instance_id);
    if (it == by_id.end()) {
      problems.push_back(Where(p.source) + "prediction for `" + p.instance_id +
                         "`, which the dataset does not have (or --instance-ids did not select)");
      continue;
    }
    if (p.empty()) continue;  // not run: needs nothing from the row
    const Task& t = it->second->task;
    const std::string row_at = Where(it->second->source) + "row `" + t.instance_id + "`: ";
    auto need = [&](bool ok, std::string_view field, std::string_view why) {
      if (!ok) {
        problems.push_back(row_at + "field `" + std::string(field) + "` is missing or empty (" +
                           std::string(why) + ")");
      }
    };
    const bool has_tests = !t.fail_to_pass.empty() || !t.pass_to_pass.empty();
    switch (t.kind) {
      case TaskKind::kSweBench:
        need(!t.base_commit.empty(), "base_commit", "the eval script resets the tests to it");
        need(!t.test_patch.empty(), "test_patch", "it adds the tests the grade reads");
        need(has_tests, "FAIL_TO_PASS", "with PASS_TO_PASS also empty there is nothing to grade");
        break;
      case TaskKind::kSweSmith:
        need(!t.base_commit.empty(), "base_commit", "the run checks it out");
        need(has_tests, "FAIL_TO_PASS", "with PASS_TO_PASS also empty there is nothing to grade");
        break;
      case TaskKind::kR2E:
        break;  // expected_output_json may come from the image
    }
    if (!runtime.uses_image()) {
      need(!t.local_repo.empty(), "local_repo",
           "the local runtime builds /testbed from it; use --runtime docker for image rows");
    } else {
      need(!t.image.empty(), "docker_image", "container runtimes start the task's image");
    }
  }
  if (problems.empty()) return Status::OK();
  return Status::InvalidArgument(
      JoinProblems(problems, std::to_string(problems.size()) +
                                 (problems.size() == 1 ? " problem" : " problems") +
                                 " found before starting (nothing ran):"));
}

// ---------------------------------------------------------------------------
// Layout and run summary

std::string ModelDirName(std::string_view model) {
  std::string out;
  for (char c : model) {
    if (c == '/') {
      out += "__";
    } else {
      out += c;
    }
  }
  return out;
}

fs::path InstanceDir(const fs::path& report_dir, std::string_view run_id, std::string_view model,
                     std::string_view instance_id) {
  return report_dir / std::string(run_id) / ModelDirName(model) / std::string(instance_id);
}

namespace {

// The instance's entry of its report.json, or null.
json ReadInstanceReport(const fs::path& dir, std::string_view instance_id) {
  auto content = ReadWholeFile(dir / "report.json", "report");
  if (!content.ok()) return nullptr;
  json j = json::parse(*content, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return nullptr;
  auto it = j.find(std::string(instance_id));
  if (it == j.end() || !it->is_object()) return nullptr;
  return *it;
}

std::vector<std::string> SortedList(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

bool HasInstanceReport(const fs::path& instance_dir, std::string_view instance_id) {
  return !ReadInstanceReport(instance_dir, instance_id).is_null();
}

nlohmann::ordered_json MakeRunSummary(const std::vector<std::string>& dataset_ids,
                                      const std::vector<Prediction>& predictions,
                                      const fs::path& report_dir, std::string_view run_id) {
  std::map<std::string, const Prediction*> by_id;
  std::vector<std::string> submitted;
  for (const Prediction& p : predictions) {
    by_id.emplace(p.instance_id, &p);
    submitted.push_back(p.instance_id);
  }
  std::vector<std::string> completed, incomplete, empty, resolved, unresolved, error;
  for (const std::string& id : dataset_ids) {
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      incomplete.push_back(id);
      continue;
    }
    const Prediction& p = *it->second;
    if (p.empty()) {
      empty.push_back(id);
      continue;
    }
    const json report =
        ReadInstanceReport(InstanceDir(report_dir, run_id, p.model_name_or_path, id), id);
    if (report.is_null()) {
      error.push_back(id);
      continue;
    }
    completed.push_back(id);
    auto r = report.find("resolved");
    if (r != report.end() && r->is_boolean() && r->get<bool>()) {
      resolved.push_back(id);
    } else {
      unresolved.push_back(id);
    }
  }
  nlohmann::ordered_json s;
  s["total_instances"] = dataset_ids.size();
  s["submitted_instances"] = by_id.size();
  s["completed_instances"] = completed.size();
  s["resolved_instances"] = resolved.size();
  s["unresolved_instances"] = unresolved.size();
  s["empty_patch_instances"] = empty.size();
  s["error_instances"] = error.size();
  s["completed_ids"] = SortedList(std::move(completed));
  s["incomplete_ids"] = SortedList(std::move(incomplete));
  s["empty_patch_ids"] = SortedList(std::move(empty));
  s["submitted_ids"] = SortedList(std::move(submitted));
  s["resolved_ids"] = SortedList(std::move(resolved));
  s["unresolved_ids"] = SortedList(std::move(unresolved));
  s["error_ids"] = SortedList(std::move(error));
  s["schema_version"] = 2;
  return s;
}

}  // namespace r2e
