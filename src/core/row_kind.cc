#include "core/row_kind.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "core/text.h"

namespace r2e::internal {
namespace {

using json = nlohmann::json;

bool Has(const json& row, std::string_view field) {
  auto it = row.find(field);
  if (it == row.end() || it->is_null()) return false;
  // An empty string or list states nothing.
  if ((it->is_string() || it->is_array() || it->is_object()) && it->empty()) return false;
  return true;
}

std::string ReplaceAll(std::string text, std::string_view from, std::string_view to) {
  std::size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

// A path component of an image name, as Docker's reference grammar has it.
bool IsNameComponent(const std::string& s) {
  static const std::regex kComponent("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  return std::regex_match(s, kComponent);
}

bool IsTag(const std::string& s) {
  static const std::regex kTag("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  return std::regex_match(s, kTag);
}

// The registry part may carry a host (with dots, a port); later parts are
// path components.
Status CheckNamespace(const std::string& ns) {
  std::size_t start = 0;
  for (bool first = true;; first = false) {
    const std::size_t slash = ns.find('/', start);
    const std::string part = ns.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    static const std::regex kHost("[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]+)?");
    if (!(IsNameComponent(part) || (first && std::regex_match(part, kHost)))) {
      return Status::InvalidArgument("image namespace `" + ns +
                                     "` is not a registry path (lowercase letters, digits, "
                                     "separators; a host[:port] first)");
    }
    if (slash == std::string::npos) return Status::OK();
    start = slash + 1;
  }
}

Status CheckArch(const std::string& arch) {
  if (arch == "x86_64" || arch == "arm64") return Status::OK();
  return Status::InvalidArgument("image arch `" + arch + "` is not x86_64 or arm64");
}

// The harness's --namespace reads "none", "null" and "" as no namespace.
std::string NormalizedNamespace(const std::string& ns) {
  const std::string lower = ToLower(ns);
  return (lower == "none" || lower == "null") ? std::string() : ns;
}

}  // namespace

std::optional<TaskKind> KindFromFields(const json& row, std::string_view instance_id) {
  if (!row.is_object()) return std::nullopt;
  const bool f2p = Has(row, "FAIL_TO_PASS");
  if (f2p && ((Has(row, "test_patch") && Has(row, "version")) || Has(row, "eval_script"))) {
    return TaskKind::kSweBench;
  }
  if (f2p) {
    if (!SweSmithRepoAtCommit(instance_id).empty()) return TaskKind::kSweSmith;
    auto repo = row.find("repo");
    if (repo != row.end() && repo->is_string() &&
        repo->get_ref<const std::string&>().starts_with("swesmith/")) {
      return TaskKind::kSweSmith;
    }
  }
  for (std::string_view field :
       {"expected_output_json", "parsed_commit", "parsed_commit_content", "local_tests", "local_repo"}) {
    if (Has(row, field)) return TaskKind::kR2E;
  }
  return std::nullopt;
}

std::optional<TaskKind> KindFromImage(std::string_view image) {
  // SWE-smith first: its published names may sit under a swebench registry.
  if (Contains(image, "swesmith")) return TaskKind::kSweSmith;
  if (Contains(image, "swebench") || Contains(image, "sweb.eval.")) return TaskKind::kSweBench;
  return std::nullopt;
}

std::string_view KindEvidenceText() {
  return "SWE-bench's `FAIL_TO_PASS` with `test_patch` and `version` (or with `eval_script`); "
         "SWE-smith's `FAIL_TO_PASS` with an instance id `<owner>__<repo>.<8-hex commit>.<strategy>` "
         "(or a `repo` under `swesmith/`); R2E's `expected_output_json`, `parsed_commit`, "
         "`parsed_commit_content` (or our `local_tests`, `local_repo`); then an image name (`docker_image`, "
         "`image_name`, `image`) holding `swesmith`, `swebench` or `sweb.eval.`";
}

std::string SweSmithRepoAtCommit(std::string_view instance_id) {
  // The first ".<8 hex>." after the "__" ends the repository name; repository
  // names may hold dots.
  static const std::regex kShape("([^/\\s]+?__[^/\\s]+?\\.[0-9a-f]{8})\\.\\S+");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(instance_id.begin(), instance_id.end(), m, kShape)) return {};
  return m[1].str();
}

Result<std::string> SweBenchImageName(std::string_view instance_id, const TaskParseOptions& options) {
  if (instance_id.empty()) {
    return Status::InvalidArgument("no instance id to derive the SWE-bench image name from");
  }
  R2E_RETURN_IF_ERROR(CheckArch(options.image_arch));
  if (!IsTag(options.instance_image_tag)) {
    return Status::InvalidArgument("instance image tag `" + options.instance_image_tag +
                                   "` is not a Docker tag (letters, digits, _ . -; at most 128)");
  }
  const std::string ns = NormalizedNamespace(options.swebench_namespace);
  std::string id = ToLower(instance_id);
  if (!ns.empty()) {
    R2E_RETURN_IF_ERROR(CheckNamespace(ns));
    id = ReplaceAll(std::move(id), "__", "_1776_");
  }
  if (!IsNameComponent(id)) {
    return Status::InvalidArgument("instance id `" + std::string(instance_id) +
                                   "` cannot be part of an image name (lowercased: letters, digits "
                                   "and single separators . _ __ - between them)");
  }
  std::string key = "sweb.eval." + options.image_arch + "." + ToLower(instance_id) + ":" +
                    options.instance_image_tag;
  // v4.1.0 replaces "__" over the whole namespaced name, the namespace included.
  if (!ns.empty()) key = ReplaceAll(ns + "/" + key, "__", "_1776_");
  return key;
}

Result<std::string> SweSmithImageName(std::string_view instance_id, std::string_view repo,
                                      const TaskParseOptions& options) {
  R2E_RETURN_IF_ERROR(CheckArch(options.image_arch));
  std::string at_commit;
  constexpr std::string_view kOrg = "swesmith/";
  if (repo.starts_with(kOrg)) {
    static const std::regex kRepo("[^/\\s]+__[^/\\s]+\\.[0-9a-f]{8}");
    const std::string name(repo.substr(kOrg.size()));
    if (std::regex_match(name, kRepo)) at_commit = name;
  }
  if (at_commit.empty()) at_commit = SweSmithRepoAtCommit(instance_id);
  if (at_commit.empty()) {
    return Status::InvalidArgument(
        "cannot derive the SWE-smith image name: neither `repo` (`swesmith/<owner>__<repo>.<8-hex "
        "commit>`) nor the instance id (`<owner>__<repo>.<8-hex commit>.<strategy>`) has SWE-smith's "
        "shape");
  }
  std::string image = "swesmith." + options.image_arch + "." + ToLower(at_commit);
  if (!IsNameComponent(image)) {
    return Status::InvalidArgument("`" + image + "` is not a valid image name");
  }
  return image;
}

std::string MapSweSmithImage(std::string image, const TaskParseOptions& options) {
  if (!options.swesmith_image_map || !image.starts_with("swesmith.") || Contains(image, "/") ||
      Contains(image, ":")) {
    return image;
  }
  return "jyangballin/" + ReplaceAll(std::move(image), "__", "_1776_") + ":latest";
}

}  // namespace r2e::internal
