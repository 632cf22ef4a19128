// The SWE-smith profile table: parsed once from the JSON built into the
// library (src/grading/data/swesmith_profiles.json, embedded by
// src/CMakeLists.txt), and looked up by a task's instance-id prefix.
#include "r2e/swesmith_profiles.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "r2e/log_parsers.h"

namespace r2e {
namespace internal {
extern const std::string_view kSweSmithProfilesJson;
}  // namespace internal

namespace {

using nlohmann::json;

using internal::ToLower;

bool IsHex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
}

// "<owner>__<repo>.<hex>"
bool IsKeyShape(std::string_view s) {
  const std::size_t sep = s.find("__");
  const std::size_t dot = s.rfind('.');
  return sep != std::string_view::npos && sep > 0 && dot != std::string_view::npos &&
         dot > sep + 2 && IsHex(s.substr(dot + 1));
}

Result<std::string> Field(const json& row, const char* name, const std::string& where,
                          bool required = true) {
  auto it = row.find(name);
  if (it == row.end()) {
    if (!required) return std::string();
    return Status::InvalidArgument(where + ": field \"" + name + "\" is missing");
  }
  if (!it->is_string()) {
    return Status::InvalidArgument(where + ": field \"" + name + "\" must be a string");
  }
  return it->get<std::string>();
}

Result<SweSmithProfile::Selection> ParseSelection(std::string_view s, const std::string& where) {
  if (s == "suite") return SweSmithProfile::Selection::kSuite;
  if (s == "test_files") return SweSmithProfile::Selection::kTestFiles;
  if (s == "mypy_k") return SweSmithProfile::Selection::kMypyK;
  return Status::InvalidArgument(where + ": selection \"" + std::string(s) +
                                 "\" is not one of suite, test_files, mypy_k");
}

Result<SweSmithProfile::TestFiles> ParseTestFiles(std::string_view s, const std::string& where) {
  if (s == "pytest") return SweSmithProfile::TestFiles::kPytest;
  if (s == "pytest_strip_dev") return SweSmithProfile::TestFiles::kPytestStripDev;
  if (s == "test_py") return SweSmithProfile::TestFiles::kTestPy;
  if (s == "unittest_class") return SweSmithProfile::TestFiles::kUnittestClass;
  if (s == "go") return SweSmithProfile::TestFiles::kGo;
  return Status::InvalidArgument(
      where + ": test_files \"" + std::string(s) +
      "\" is not one of pytest, pytest_strip_dev, test_py, unittest_class, go");
}

Result<SweSmithProfile> ParseRow(const json& row, const std::string& where) {
  if (!row.is_object()) return Status::InvalidArgument(where + ": not a JSON object");
  SweSmithProfile p;
  R2E_ASSIGN_OR_RETURN(p.key, Field(row, "key", where));
  R2E_ASSIGN_OR_RETURN(p.repo, Field(row, "repo", where));
  R2E_ASSIGN_OR_RETURN(p.commit, Field(row, "commit", where));
  R2E_ASSIGN_OR_RETURN(p.language, Field(row, "language", where));
  R2E_ASSIGN_OR_RETURN(p.test_cmd, Field(row, "test_cmd", where));
  R2E_ASSIGN_OR_RETURN(p.log_parser, Field(row, "log_parser", where));
  R2E_ASSIGN_OR_RETURN(std::string selection, Field(row, "selection", where));
  R2E_ASSIGN_OR_RETURN(std::string test_files, Field(row, "test_files", where));
  R2E_ASSIGN_OR_RETURN(p.source, Field(row, "source", where));
  R2E_ASSIGN_OR_RETURN(p.notes, Field(row, "notes", where, /*required=*/false));
  R2E_ASSIGN_OR_RETURN(p.selection, ParseSelection(selection, where));
  R2E_ASSIGN_OR_RETURN(p.test_files, ParseTestFiles(test_files, where));

  auto timeout = row.find("timeout");
  if (timeout == row.end() || !timeout->is_number_integer() || timeout->get<long long>() <= 0) {
    return Status::InvalidArgument(where + ": field \"timeout\" must be a positive integer");
  }
  p.timeout = std::chrono::seconds(timeout->get<long long>());

  const std::size_t slash = p.repo.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == p.repo.size() ||
      p.repo.find('/', slash + 1) != std::string::npos) {
    return Status::InvalidArgument(where + ": repo \"" + p.repo + "\" is not owner/name");
  }
  if (!IsHex(p.commit)) {
    return Status::InvalidArgument(where + ": commit \"" + p.commit + "\" is not hexadecimal");
  }
  const std::string want = p.repo.substr(0, slash) + "__" + p.repo.substr(slash + 1) + "." +
                           p.commit.substr(0, std::min<std::size_t>(8, p.commit.size()));
  if (p.key != want) {
    return Status::InvalidArgument(where + ": key \"" + p.key + "\" should be \"" + want +
                                   "\" (owner__repo.<first 8 of commit>)");
  }
  if (p.language != "python" && p.language != "go") {
    return Status::InvalidArgument(where + ": language \"" + p.language + "\" is not python or go");
  }
  if (internal::Trim(p.test_cmd).empty()) {
    return Status::InvalidArgument(where + ": test_cmd is empty");
  }
  const std::vector<std::string> parsers = LogParserNames();
  if (std::find(parsers.begin(), parsers.end(), p.log_parser) == parsers.end()) {
    return Status::InvalidArgument(where + ": log_parser \"" + p.log_parser +
                                   "\" is not a known parser");
  }
  return p;
}

struct Table {
  std::vector<SweSmithProfile> profiles;
  std::map<std::string, std::size_t> by_key;  // lower-case key -> index
};

const Table& BuiltIn() {
  static const Table table = [] {
    Table t;
    auto parsed = ParseSweSmithProfiles(internal::kSweSmithProfilesJson);
    if (!parsed.ok()) {
      // A broken built-in table is a build defect (the unit tests parse
      // it); say so once and behave as if it were empty.
      std::cerr << "r2e: the built-in SWE-smith profile table is invalid: "
                << parsed.status().message() << "\n";
      return t;
    }
    t.profiles = std::move(parsed).value();
    for (std::size_t i = 0; i < t.profiles.size(); ++i) t.by_key[ToLower(t.profiles[i].key)] = i;
    return t;
  }();
  return table;
}

}  // namespace

Result<std::vector<SweSmithProfile>> ParseSweSmithProfiles(std::string_view text) {
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::InvalidArgument("SWE-smith profiles: not a JSON object");
  }
  auto rows = doc.find("profiles");
  if (rows == doc.end() || !rows->is_array()) {
    return Status::InvalidArgument("SWE-smith profiles: no \"profiles\" array");
  }
  std::vector<SweSmithProfile> out;
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    std::string where = "SWE-smith profiles[" + std::to_string(i) + "]";
    const json& row = (*rows)[i];
    if (row.is_object() && row.contains("key") && row["key"].is_string()) {
      where += " (" + row["key"].get<std::string>() + ")";
    }
    R2E_ASSIGN_OR_RETURN(SweSmithProfile p, ParseRow(row, where));
    auto [it, inserted] = seen.emplace(ToLower(p.key), i);
    if (!inserted) {
      return Status::InvalidArgument(where + ": duplicate key (also profiles[" +
                                     std::to_string(it->second) + "])");
    }
    out.push_back(std::move(p));
  }
  return out;
}

const std::vector<SweSmithProfile>& SweSmithProfiles() { return BuiltIn().profiles; }

std::string SweSmithProfileKey(const Task& task) {
  // The row's repo: "swesmith/<key>" (the mirror) or the key itself.
  if (!task.repo.empty()) {
    std::string_view repo = task.repo;
    if (const std::size_t slash = repo.rfind('/'); slash != std::string_view::npos) {
      repo.remove_prefix(slash + 1);
    }
    if (IsKeyShape(repo)) return std::string(repo);
  }
  if (const std::size_t dot = task.instance_id.rfind('.'); dot != std::string::npos) {
    const std::string_view prefix = std::string_view(task.instance_id).substr(0, dot);
    if (IsKeyShape(prefix)) return std::string(prefix);
  }
  // "[registry/]jyangballin/swesmith.x86_64.<owner>_1776_<repo>.<c8>[:tag]"
  std::string_view image = task.image;
  if (const std::size_t slash = image.rfind('/'); slash != std::string_view::npos) {
    image.remove_prefix(slash + 1);
  }
  if (const std::size_t colon = image.find(':'); colon != std::string_view::npos) {
    image = image.substr(0, colon);
  }
  for (std::string_view prefix : {"swesmith.x86_64.", "swesmith.arm64."}) {
    if (image.starts_with(prefix)) {
      std::string key(image.substr(prefix.size()));
      if (const std::size_t at = key.find("_1776_"); at != std::string::npos) {
        key.replace(at, 6, "__");
      }
      if (IsKeyShape(key)) return key;
    }
  }
  return {};
}

const SweSmithProfile* FindSweSmithProfile(const Task& task) {
  const std::string key = SweSmithProfileKey(task);
  if (key.empty()) return nullptr;
  const Table& table = BuiltIn();
  auto it = table.by_key.find(ToLower(key));
  return it == table.by_key.end() ? nullptr : &table.profiles[it->second];
}

}  // namespace r2e
