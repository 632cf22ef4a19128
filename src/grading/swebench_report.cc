// SWE-bench: status map -> the harness's per-instance report.json
// (r2e/swebench.h). Restated from the public SWE-bench harness (MIT):
// grading.py (get_eval_tests_report, get_resolution_status, get_eval_report)
// of v4.1.0 and 5.0.1.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/enum_names.h"
#include "grading/swebench_internal.h"
#include "grading/test_status.h"
#include "r2e/swebench.h"

namespace r2e {
namespace {

using internal::kError;
using internal::kFailed;
using internal::kPassed;
using internal::kSkipped;
using internal::kXfail;
using internal::OneOf;
using nlohmann::json;

bool IsPassing(std::string_view status) { return status == kPassed || status == kXfail; }

// ---------------------------------------------------------------------------
// Status map lookups

std::size_t Count(std::string_view s, char c) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), c));
}

// The status a test has in the map, or nullopt when it is missing. v5: a cut
// parametrised name (more '[' than ']') that is not a key stands for the keys
// it starts, when those all agree on passing or not.
std::optional<std::string> Lookup(const StatusMap& map, const std::string& name,
                                  GradingRules rules) {
  if (auto it = map.find(name); it != map.end()) return it->second;
  if (rules != GradingRules::kV5 || Count(name, '[') <= Count(name, ']')) return std::nullopt;
  std::vector<const std::string*> statuses;
  for (auto it = map.lower_bound(name); it != map.end() && it->first.starts_with(name); ++it) {
    statuses.push_back(&it->second);
  }
  if (statuses.empty()) return std::nullopt;
  const bool first_passing = IsPassing(*statuses.front());
  bool same = true;
  for (const std::string* s : statuses) {
    if (IsPassing(*s) != first_passing) return std::nullopt;  // they disagree: no match
    same = same && *s == *statuses.front();
  }
  if (same) return *statuses.front();
  return std::string(first_passing ? kPassed : kFailed);
}

// classic test_failed: missing, FAILED or ERROR; v5 adds SKIPPED.
bool IsFailed(const std::optional<std::string>& status, GradingRules rules) {
  if (!status) return true;
  if (*status == kFailed || *status == kError) return true;
  return rules == GradingRules::kV5 && *status == kSkipped;
}

void CheckPassAndFail(const std::string& test, const std::optional<std::string>& status,
                      GradingRules rules, SweBenchGroupResult& out) {
  if (status && IsPassing(*status)) {
    out.success.push_back(test);
  } else if (IsFailed(status, rules)) {
    out.failure.push_back(test);
  }
}

void CheckFailOnly(const std::string& test, const std::optional<std::string>& status,
                   SweBenchGroupResult& out) {
  if (status && *status == kFailed) {
    out.failure.push_back(test);
  } else {
    out.success.push_back(test);
  }
}

json GroupJson(const SweBenchGroupResult& g) {
  return json{{"success", g.success}, {"failure", g.failure}};
}

double Score(const SweBenchGroupResult& g) {
  const std::size_t total = g.success.size() + g.failure.size();
  if (total == 0) return 1.0;
  return static_cast<double>(g.success.size()) / static_cast<double>(total);
}

// ---------------------------------------------------------------------------
// Report formatting

// Keys in the order the harness's Python dicts have them.
constexpr std::string_view kKeyOrder[] = {
    "patch_is_None", "patch_exists",  "patch_successfully_applied",
    "resolved",      "infra_failure", "infra_failure_reason",
    "tests_status",  "FAIL_TO_PASS",  "PASS_TO_PASS",
    "FAIL_TO_FAIL",  "PASS_TO_FAIL",  "success",
    "failure",
};

nlohmann::ordered_json Ordered(const json& j) {
  if (j.is_array()) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& v : j) out.push_back(Ordered(v));
    return out;
  }
  if (!j.is_object()) return nlohmann::ordered_json(j);
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (std::string_view key : kKeyOrder) {
    if (auto it = j.find(std::string(key)); it != j.end()) out[std::string(key)] = Ordered(*it);
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!out.contains(it.key())) out[it.key()] = Ordered(it.value());
  }
  return out;
}

}  // namespace

bool IsSweBenchFailOnlyRepo(std::string_view repo, GradingRules rules) {
  if (OneOf(repo, {"chartjs/Chart.js", "processing/p5.js", "markedjs/marked"})) return true;
  // v5.0.1's FAIL_ONLY_REPOS adds the repositories whose parsers record
  // failures only.
  return rules == GradingRules::kV5 &&
         OneOf(repo, {"bpmn-io/bpmn-js", "openlayers/openlayers", "eslint/eslint"});
}

SweBenchEvalType SweBenchEvalTypeFor(const Task& task, GradingRules rules) {
  if (rules == GradingRules::kV5 && !task.eval_type.empty()) {
    std::string v = task.eval_type;
    std::transform(v.begin(), v.end(), v.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (v == "fail_only") return SweBenchEvalType::kFailOnly;
    if (v == "pass_and_fail") return SweBenchEvalType::kPassAndFail;
  }
  return IsSweBenchFailOnlyRepo(task.repo, rules) ? SweBenchEvalType::kFailOnly
                                           : SweBenchEvalType::kPassAndFail;
}

std::string_view ResolvedStatusName(ResolvedStatus status) {
  using enum ResolvedStatus;
  static constexpr internal::EnumName<ResolvedStatus> kNames[] = {
      {kFull, "RESOLVED_FULL"}, {kPartial, "RESOLVED_PARTIAL"}, {kNo, "RESOLVED_NO"}};
  return internal::NameOf(status, kNames, "RESOLVED_NO");
}

json SweBenchTestsReport::ToJson() const {
  return json{{"FAIL_TO_PASS", GroupJson(fail_to_pass)},
              {"PASS_TO_PASS", GroupJson(pass_to_pass)},
              {"FAIL_TO_FAIL", GroupJson(fail_to_fail)},
              {"PASS_TO_FAIL", GroupJson(pass_to_fail)}};
}

SweBenchTestsReport GradeSweBenchTests(const StatusMap& status_map,
                                       const std::vector<std::string>& fail_to_pass,
                                       const std::vector<std::string>& pass_to_pass,
                                       SweBenchEvalType eval_type, GradingRules rules) {
  SweBenchTestsReport report;
  for (const auto& test : fail_to_pass) {
    const auto status = Lookup(status_map, test, rules);
    if (eval_type == SweBenchEvalType::kFailOnly) {
      CheckFailOnly(test, status, report.fail_to_pass);
    } else {
      CheckPassAndFail(test, status, rules, report.fail_to_pass);
    }
  }
  for (const auto& test : pass_to_pass) {
    const auto status = Lookup(status_map, test, rules);
    if (eval_type == SweBenchEvalType::kFailOnly) {
      CheckFailOnly(test, status, report.pass_to_pass);
    } else if (rules == GradingRules::kV5 && status && *status == kSkipped) {
      report.pass_to_pass.success.push_back(test);  // v5 test_maintained
    } else {
      CheckPassAndFail(test, status, rules, report.pass_to_pass);
    }
  }
  return report;
}

double SweBenchFailToPassScore(const SweBenchTestsReport& report) {
  return Score(report.fail_to_pass);
}
double SweBenchPassToPassScore(const SweBenchTestsReport& report) {
  return Score(report.pass_to_pass);
}

ResolvedStatus SweBenchResolution(const SweBenchTestsReport& report) {
  const double f2p = SweBenchFailToPassScore(report);
  const double p2p = SweBenchPassToPassScore(report);
  if (f2p == 1.0 && p2p == 1.0) return ResolvedStatus::kFull;
  if (f2p < 1.0 && f2p > 0.0 && p2p == 1.0) return ResolvedStatus::kPartial;
  return ResolvedStatus::kNo;
}

json MakeSweBenchReport(const Task& task, const SweBenchLogEval& log_eval, GradingRules rules,
                        bool patch_is_none, bool* resolved) {
  if (resolved != nullptr) *resolved = false;
  json inst = {{"patch_is_None", false},
               {"patch_exists", false},
               {"patch_successfully_applied", false},
               {"resolved", false}};
  if (rules == GradingRules::kV5) inst["infra_failure"] = false;  // the 5.x shape
  json report = json::object();
  if (patch_is_none) {
    inst["patch_is_None"] = true;
  } else {
    inst["patch_exists"] = true;
    if (log_eval.found) {
      inst["patch_successfully_applied"] = true;
      const SweBenchTestsReport tests =
          GradeSweBenchTests(log_eval.status_map, task.fail_to_pass, task.pass_to_pass,
                             SweBenchEvalTypeFor(task, rules), rules);
      const bool full = SweBenchResolution(tests) == ResolvedStatus::kFull;
      inst["resolved"] = full;
      if (resolved != nullptr) *resolved = full;
      inst["tests_status"] = tests.ToJson();
    } else if (rules == GradingRules::kV5 && log_eval.infra_failure) {
      // Advisory only: resolved stays false either way.
      inst["infra_failure"] = log_eval.infra_failure->environment;
      inst["infra_failure_reason"] = log_eval.infra_failure->reason;
    }
  }
  report[task.instance_id] = std::move(inst);
  return report;
}

std::string FormatSweBenchReport(const json& report, int indent) {
  return Ordered(report).dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace r2e
