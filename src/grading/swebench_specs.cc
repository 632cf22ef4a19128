// The SWE-bench harness v4.1.0 specs table (r2e/swebench.h FindSweBenchSpec),
// read once from the JSON compiled into the library.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "grading/swebench_internal.h"
#include "r2e/swebench.h"

namespace r2e {
namespace internal {
extern const std::string_view kSweBenchSpecsJson;
}  // namespace internal

namespace {

using nlohmann::json;

struct SpecsTable {
  // repo -> version -> spec
  std::map<std::string, std::map<std::string, SweBenchSpec, std::less<>>, std::less<>> repos;
  std::vector<std::string> non_test_exts;
};

// A string or a list of strings (test_cmd is either in the harness).
std::vector<std::string> Strings(const json& value) {
  std::vector<std::string> out;
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
  } else if (value.is_array()) {
    for (const json& v : value) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

SpecsTable Load() {
  SpecsTable table;
  // The data is part of the build; its unit test checks that it loads whole.
  const json data = json::parse(internal::kSweBenchSpecsJson, nullptr, /*allow_exceptions=*/false);
  if (!data.is_object()) return table;
  table.non_test_exts = Strings(data.value("non_test_exts", json::array()));
  const json repos = data.value("repos", json::object());
  for (auto repo = repos.begin(); repo != repos.end(); ++repo) {
    if (!repo->is_object()) continue;
    const std::string language = repo->value("language", "");
    auto& versions = table.repos[repo.key()];
    const json entries = repo->value("versions", json::object());
    for (auto v = entries.begin(); v != entries.end(); ++v) {
      if (!v->is_object()) continue;
      SweBenchSpec spec;
      spec.language = language;
      if (auto it = v->find("test_cmd"); it != v->end()) spec.test_cmd = Strings(*it);
      if (auto it = v->find("eval_commands"); it != v->end()) spec.eval_commands = Strings(*it);
      if (auto it = v->find("install"); it != v->end() && it->is_string()) {
        spec.install = it->get<std::string>();
      }
      if (auto it = v->find("build"); it != v->end()) spec.build = Strings(*it);
      versions.emplace(v.key(), std::move(spec));
    }
  }
  return table;
}

const SpecsTable& Specs() {
  static const SpecsTable table = Load();
  return table;
}

}  // namespace

const SweBenchSpec* FindSweBenchSpec(std::string_view repo, std::string_view version) {
  const auto& repos = Specs().repos;
  auto r = repos.find(repo);
  if (r == repos.end()) return nullptr;
  auto v = r->second.find(version);
  return v == r->second.end() ? nullptr : &v->second;
}

bool SweBenchSpecsHaveRepo(std::string_view repo) { return Specs().repos.contains(repo); }

const std::vector<std::string>& internal::SweBenchNonTestExts() { return Specs().non_test_exts; }

}  // namespace r2e
