// SWE-bench evaluation: log -> status map -> report.json, the eval script and
// the patch-apply cascade (r2e/swebench.h), and the grader that runs the
// eval script in a sandbox. Restated from the public SWE-bench harness (MIT):
// swebench/harness/grading.py (get_logs_eval, get_eval_tests_report,
// get_resolution_status, get_eval_report), test_spec/python.py
// (make_eval_script_list_py, get_test_directives) and constants/.
#include "r2e/swebench.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "grading/log_file.h"
#include "r2e/grader.h"
#include "r2e/session.h"

namespace r2e {
namespace {

using nlohmann::json;

constexpr std::string_view kPassed = "PASSED";
constexpr std::string_view kFailed = "FAILED";
constexpr std::string_view kSkipped = "SKIPPED";
constexpr std::string_view kError = "ERROR";
constexpr std::string_view kXfail = "XFAIL";

constexpr std::string_view kHeredoc = "EOF_114329324912";

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNonZeroDigit(char c) { return c >= '1' && c <= '9'; }
// Python's `\s` on ASCII text.
bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }
// Python's `\w` on str: ASCII letters, digits, '_', and (approximately) any
// non-ASCII letter, here any byte of a multi-byte UTF-8 sequence.
bool IsWordChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// Calls f(pos) for every occurrence of `needle` in `text` until f returns true.
template <typename F>
bool AnyOccurrence(std::string_view text, std::string_view needle, F f) {
  for (std::size_t pos = text.find(needle); pos != std::string_view::npos;
       pos = text.find(needle, pos + 1)) {
    if (f(pos)) return true;
  }
  return false;
}

// Index past a run of digits starting at i.
std::size_t SkipDigits(std::string_view s, std::size_t i) {
  while (i < s.size() && IsDigit(s[i])) ++i;
  return i;
}

// `[1-9]\d*` ending right before `end`: the digit run before `end` holds a
// non-zero digit (the match may start at any non-zero digit of the run).
bool NonZeroRunEndsAt(std::string_view s, std::size_t end) {
  std::size_t i = end;
  while (i > 0 && IsDigit(s[i - 1])) {
    --i;
    if (IsNonZeroDigit(s[i])) return true;
  }
  return false;
}

// `[1-9]\d*` starting at i; returns the index past it or npos.
std::size_t MatchPositiveNumber(std::string_view s, std::size_t i) {
  if (i >= s.size() || !IsNonZeroDigit(s[i])) return std::string_view::npos;
  return SkipDigits(s, i + 1);
}

bool AtLineStart(std::string_view s, std::size_t pos) { return pos == 0 || s[pos - 1] == '\n'; }

// ---------------------------------------------------------------------------
// v5 "suite ran" signatures, one hand-written matcher per regex alternative
// (std::regex is slow and recursive on long logs).

// Executed [1-9]\d* of \d+
bool MatchExecuted(std::string_view s) {
  constexpr std::string_view kWord = "Executed ";
  return AnyOccurrence(s, kWord, [&](std::size_t pos) {
    std::size_t i = MatchPositiveNumber(s, pos + kWord.size());
    if (i == std::string_view::npos || s.substr(i, 4) != " of ") return false;
    return i + 4 < s.size() && IsDigit(s[i + 4]);
  });
}

// TOTAL: [1-9]\d* (?:SUCCESS|FAILED)
bool MatchKarmaTotal(std::string_view s) {
  constexpr std::string_view kWord = "TOTAL: ";
  return AnyOccurrence(s, kWord, [&](std::size_t pos) {
    std::size_t i = MatchPositiveNumber(s, pos + kWord.size());
    if (i == std::string_view::npos) return false;
    std::string_view rest = s.substr(i);
    return rest.starts_with(" SUCCESS") || rest.starts_with(" FAILED");
  });
}

// [1-9]\d* passing
bool MatchMochaPassing(std::string_view s) {
  return AnyOccurrence(s, " passing", [&](std::size_t pos) { return NonZeroRunEndsAt(s, pos); });
}

// Tests:\s+[1-9]\d*
bool MatchJestTests(std::string_view s) {
  constexpr std::string_view kWord = "Tests:";
  return AnyOccurrence(s, kWord, [&](std::size_t pos) {
    std::size_t i = pos + kWord.size();
    const std::size_t ws = i;
    while (i < s.size() && IsSpace(s[i])) ++i;
    return i > ws && i < s.size() && IsNonZeroDigit(s[i]);
  });
}

// Test Suites:\s+(?:\d+ \w+, )*[1-9]\d* total
bool MatchJestSuites(std::string_view s) {
  constexpr std::string_view kWord = "Test Suites:";
  return AnyOccurrence(s, kWord, [&](std::size_t pos) {
    std::size_t i = pos + kWord.size();
    const std::size_t ws = i;
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i == ws) return false;
    for (;;) {
      // Either the final `[1-9]\d* total` here, or one more `\d+ \w+, ` group.
      if (std::size_t e = MatchPositiveNumber(s, i);
          e != std::string_view::npos && s.substr(e, 6) == " total") {
        return true;
      }
      std::size_t j = SkipDigits(s, i);
      if (j == i || j >= s.size() || s[j] != ' ') return false;
      std::size_t k = j + 1;
      while (k < s.size() && IsWordChar(s[k])) ++k;
      if (k == j + 1 || s.substr(k, 2) != ", ") return false;
      i = k + 2;
    }
  });
}

// ^# tests [1-9]\d*   (multiline)
bool MatchTapTests(std::string_view s) {
  constexpr std::string_view kWord = "# tests ";
  return AnyOccurrence(s, kWord, [&](std::size_t pos) {
    return AtLineStart(s, pos) &&
           MatchPositiveNumber(s, pos + kWord.size()) != std::string_view::npos;
  });
}

// [1-9]\d* specs?, \d+ failures?
bool MatchJasmineSpecs(std::string_view s) {
  return AnyOccurrence(s, " spec", [&](std::size_t pos) {
    if (!NonZeroRunEndsAt(s, pos)) return false;
    std::size_t i = pos + 5;
    if (i < s.size() && s[i] == 's') ++i;
    if (s.substr(i, 2) != ", ") return false;
    i += 2;
    std::size_t j = SkipDigits(s, i);
    return j > i && s.substr(j, 8) == " failure";
  });
}

// ': ok$   (multiline)
bool MatchOkLine(std::string_view s) {
  constexpr std::string_view kWord = "': ok";
  return AnyOccurrence(s, kWord, [&](std::size_t pos) {
    const std::size_t end = pos + kWord.size();
    return end == s.size() || s[end] == '\n';
  });
}

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
    "patch_is_None", "patch_exists", "patch_successfully_applied",
    "resolved",      "tests_status", "FAIL_TO_PASS",
    "PASS_TO_PASS",  "FAIL_TO_FAIL", "PASS_TO_FAIL",
    "success",       "failure",
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

// ---------------------------------------------------------------------------
// Eval script

// A word for the shell: as is when it has nothing the shell would expand or
// split (the harness pastes paths unquoted), else single-quoted.
std::string ShellWord(std::string_view s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (IsWordChar(c) && static_cast<unsigned char>(c) < 0x80) ||
           std::string_view("./-:@%+=,").find(c) != std::string_view::npos;
  });
  return plain ? std::string(s) : ShellQuote(s);
}

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += ShellWord(w);
  }
  return out;
}

bool OneOf(std::string_view v, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

// constants NON_TEST_EXTS (".csv" really is "csv" there).
constexpr std::string_view kNonTestExts[] = {".json", ".png", "csv",  ".txt",  ".md",  ".jpg",
                                             ".jpeg", ".pkl", ".yml", ".yaml", ".toml"};

// test_spec/python.py is_django_test_file (newer harness).
bool IsDjangoTestFile(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return base == "tests.py" || base.starts_with("test_") || Contains(path, "/tests/") ||
         Contains(path, "/test_");
}

// Splits on '\n' (a last empty piece after a trailing newline is dropped).
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// Django's per-version eval_commands (locale for the older versions).
std::vector<std::string> DjangoEvalCommands(std::string_view version) {
  if (OneOf(version, {"1.7", "1.8", "1.9", "1.10", "1.11", "2.0", "2.1", "2.2"})) {
    return {"export LANG=en_US.UTF-8", "export LC_ALL=en_US.UTF-8", "export PYTHONIOENCODING=utf8",
            "export LANGUAGE=en_US:en"};
  }
  if (OneOf(version, {"3.0", "3.1", "3.2"})) {
    return {"sed -i '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen",
            "export LANG=en_US.UTF-8", "export LANGUAGE=en_US:en", "export LC_ALL=en_US.UTF-8"};
  }
  return {};
}

// The harness's install command where the package is installed as a copy.
std::string CopyInstallCommand(std::string_view repo, std::string_view version) {
  if (repo == "django/django" && OneOf(version, {"1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "1.10",
                                                 "1.11", "2.0", "2.1", "2.2"})) {
    return "python setup.py install";
  }
  if (repo == "matplotlib/matplotlib" &&
      OneOf(version, {"1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "2.0", "2.1", "2.2"})) {
    return "python setup.py build; python setup.py install";
  }
  if (repo == "psf/requests") return "python -m pip install .";
  return "";
}

// Resets the files the test patch touches: files that exist at base are
// checked out from it; files the patch creates are removed.
std::vector<std::string> TestFileResetCommands(const std::string& base, const PatchFiles& files) {
  std::vector<std::string> out;
  if (!files.modified.empty())
    out.push_back("git checkout " + ShellWord(base) + " " + JoinWords(files.modified));
  if (!files.created.empty()) out.push_back("rm -f " + JoinWords(files.created));
  return out;
}

// The activation line. The harness runs `source /opt/miniconda3/bin/activate`
// and `conda activate testbed` unguarded; here it is a no-op where there is
// no conda (e.g. images that keep a plain venv), so the script runs anywhere.
std::string ActivateLine(const std::string& env_name) {
  return "if [ -f /opt/miniconda3/bin/activate ]; then source /opt/miniconda3/bin/activate && "
         "conda activate " +
         ShellWord(env_name) + "; fi";
}

}  // namespace

// ---------------------------------------------------------------------------
// Log -> status map

std::string SweBenchParserName(const Task& task) {
  if (!task.log_parser.empty()) return task.log_parser;
  return SweBenchParserForRepo(task.repo);
}

bool SweBenchSuiteRan(std::string_view log) {
  return MatchExecuted(log) || MatchKarmaTotal(log) || MatchMochaPassing(log) ||
         MatchJestTests(log) || MatchJestSuites(log) || MatchTapTests(log) ||
         MatchJasmineSpecs(log) || MatchOkLine(log);
}

std::vector<long long> SweBenchTestExitCodes(std::string_view log) {
  std::vector<long long> codes;
  const std::string needle = std::string(kSweTestExitCode) + ":";
  AnyOccurrence(log, needle, [&](std::size_t pos) {
    std::size_t i = pos + needle.size();
    while (i < log.size() && IsSpace(log[i])) ++i;
    bool negative = false;
    if (i < log.size() && log[i] == '-') {
      negative = true;
      ++i;
    }
    const std::size_t digits = i;
    long long value = 0;
    constexpr long long kCap = 1'000'000'000'000LL;
    for (; i < log.size() && IsDigit(log[i]); ++i) {
      value = std::min(kCap, value * 10 + (log[i] - '0'));  // saturates; stays non-zero
    }
    if (i > digits) codes.push_back(negative ? -value : value);
    return false;
  });
  return codes;
}

Result<SweBenchLogEval> EvalSweBenchLog(std::string_view parser_name, std::string_view log,
                                        GradingRules rules) {
  SweBenchLogEval out;
  for (std::string_view fatal :
       {kSweApplyPatchFail, kSweResetFailed, kSweTestsErrored, kSweTestsTimedOut}) {
    if (Contains(log, fatal)) {
      out.reason = "the log contains `" + std::string(fatal) + "`";
      return out;
    }
  }
  const std::size_t start = log.find(kSweStartTestOutput);
  if (start == std::string_view::npos || !Contains(log, kSweEndTestOutput)) {
    out.reason =
        "the log lacks the `" +
        std::string(start == std::string_view::npos ? kSweStartTestOutput : kSweEndTestOutput) +
        "` marker";
    return out;
  }
  // content.split(START)[1].split(END)[0]
  std::string_view content = log.substr(start + kSweStartTestOutput.size());
  content = content.substr(0, content.find(kSweStartTestOutput));
  content = content.substr(0, content.find(kSweEndTestOutput));

  auto parsed = ParseLog(parser_name, content, rules);
  if (!parsed.ok()) return parsed.status();
  out.status_map = std::move(parsed).value();
  if (out.status_map.empty()) {
    // Since v4.1.0: output that went elsewhere (e.g. stderr) is still graded.
    auto whole = ParseLog(parser_name, log, rules);
    if (!whole.ok()) return whole.status();
    out.status_map = std::move(whole).value();
  }

  if (rules == GradingRules::kV5) {
    if (out.status_map.empty() && !SweBenchSuiteRan(log)) {
      out.reason = "no test results and no sign that a test suite ran";
      return out;
    }
    const bool has_failure =
        std::any_of(out.status_map.begin(), out.status_map.end(),
                    [](const auto& kv) { return kv.second == kFailed || kv.second == kError; });
    if (!has_failure) {
      for (long long code : SweBenchTestExitCodes(log)) {
        if (code != 0) {
          out.status_map.clear();
          out.reason = "the test command exited with " + std::to_string(code) +
                       " but the log shows no failing test";
          return out;
        }
      }
    }
  }
  out.found = true;
  return out;
}

Result<SweBenchLogEval> EvalSweBenchLog(const Task& task, std::string_view log,
                                        GradingRules rules) {
  auto eval = EvalSweBenchLog(SweBenchParserName(task), log, rules);
  if (!eval.ok()) {
    return eval.status().WithContext("task " + task.instance_id + " (repo " + task.repo + ")");
  }
  return eval;
}

// ---------------------------------------------------------------------------
// Status map -> report

bool IsSweBenchFailOnlyRepo(std::string_view repo) {
  return OneOf(repo, {"chartjs/Chart.js", "processing/p5.js", "markedjs/marked"});
}

SweBenchEvalType SweBenchEvalTypeFor(const Task& task, GradingRules rules) {
  if (rules == GradingRules::kV5 && task.row.is_object()) {
    auto it = task.row.find("eval_type");
    if (it != task.row.end() && it->is_string()) {
      std::string v = it->get<std::string>();
      std::transform(v.begin(), v.end(), v.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (v == "fail_only") return SweBenchEvalType::kFailOnly;
      if (v == "pass_and_fail") return SweBenchEvalType::kPassAndFail;
    }
  }
  return IsSweBenchFailOnlyRepo(task.repo) ? SweBenchEvalType::kFailOnly
                                           : SweBenchEvalType::kPassAndFail;
}

std::string_view ResolvedStatusName(ResolvedStatus status) {
  switch (status) {
    case ResolvedStatus::kFull:
      return "RESOLVED_FULL";
    case ResolvedStatus::kPartial:
      return "RESOLVED_PARTIAL";
    case ResolvedStatus::kNo:
      return "RESOLVED_NO";
  }
  return "RESOLVED_NO";
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
    }
  }
  report[task.instance_id] = std::move(inst);
  return report;
}

std::string FormatSweBenchReport(const json& report, int indent) {
  return Ordered(report).dump(indent, ' ', false, json::error_handler_t::replace);
}

// ---------------------------------------------------------------------------
// Eval script

PatchFiles SweBenchPatchFiles(std::string_view patch) {
  PatchFiles files;
  const std::vector<std::string_view> lines = Lines(patch);
  auto strip_prefix = [](std::string_view p, std::string_view prefix) {
    return p.starts_with(prefix) ? p.substr(prefix.size()) : p;
  };
  // unidiff's file name: up to a tab (a timestamp may follow); no '\r'.
  auto file_name = [](std::string_view rest) {
    rest = rest.substr(0, rest.find('\t'));
    if (rest.ends_with('\r')) rest.remove_suffix(1);
    return rest;
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].starts_with("diff --git ")) continue;
    // Header `diff --git a/X b/Y`: Y after the last " b/".
    std::string_view header = file_name(lines[i].substr(11));
    std::string_view header_source;
    std::string_view header_target;
    if (std::size_t b = header.rfind(" b/"); b != std::string_view::npos) {
      header_source = header.substr(0, b);
      header_target = header.substr(b + 1);
    }
    std::optional<std::string_view> source;
    std::optional<std::string_view> target;
    bool is_new = false;
    std::size_t j = i + 1;
    for (; j < lines.size() && !lines[j].starts_with("diff --git ") && !lines[j].starts_with("@@");
         ++j) {
      if (lines[j].starts_with("--- "))
        source = file_name(lines[j].substr(4));
      else if (lines[j].starts_with("+++ "))
        target = file_name(lines[j].substr(4));
      else if (lines[j].starts_with("new file mode"))
        is_new = true;
    }
    if (!source) source = is_new ? std::string_view("/dev/null") : header_source;
    if (!target) target = header_target;
    if (*source == "/dev/null") {
      if (!target->empty()) files.created.emplace_back(strip_prefix(*target, "b/"));
    } else if (source->starts_with("a/")) {
      files.modified.emplace_back(source->substr(2));
    }
    i = j - 1;
  }
  return files;
}

std::vector<std::string> SweBenchTestDirectives(std::string_view repo, std::string_view test_patch,
                                                GradingRules rules) {
  // re.findall(r"diff --git a/.* b/(.*)", test_patch): per line, from the
  // first "diff --git a/", the text after the last " b/".
  constexpr std::string_view kHead = "diff --git a/";
  std::vector<std::string> directives;
  for (std::string_view line : Lines(test_patch)) {
    std::size_t at = line.find(kHead);
    if (at == std::string_view::npos) continue;
    std::string_view rest = line.substr(at + kHead.size());
    // `.*` may be empty, so " b/" may start right at `rest`.
    std::size_t b = rest.rfind(" b/");
    if (b == std::string_view::npos) continue;
    std::string_view d = rest.substr(b + 3);
    const bool non_test = std::any_of(std::begin(kNonTestExts), std::end(kNonTestExts),
                                      [&](std::string_view ext) { return d.ends_with(ext); });
    if (!non_test) directives.emplace_back(d);
  }
  if (repo == "django/django") {
    std::vector<std::string> transformed;
    for (std::string d : directives) {
      if (rules == GradingRules::kV5 && !IsDjangoTestFile(d)) continue;
      if (d.ends_with(".py")) d.resize(d.size() - 3);
      if (d.starts_with("tests/")) d.erase(0, 6);
      std::replace(d.begin(), d.end(), '/', '.');
      transformed.push_back(std::move(d));
    }
    directives = std::move(transformed);
  }
  return directives;
}

std::string SweBenchTestCommand(std::string_view repo, std::string_view version) {
  if (repo == "django/django") {
    if (version == "1.9") return "./tests/runtests.py --verbosity 2";
    return "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1";
  }
  if (repo == "mwaskom/seaborn") return "pytest --no-header -rA";
  if (repo == "sympy/sympy") {
    return "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose";
  }
  if (repo == "sphinx-doc/sphinx") return "tox --current-env -epy39 -v --";
  if (repo == "astropy/astropy" &&
      OneOf(version, {"0.1", "0.2", "0.3", "0.4", "1.1", "1.2", "1.3"})) {
    return "pytest -rA -vv -o console_output_style=classic --tb=no -p no:nose";
  }
  return "pytest -rA";
}

std::string MakeSweBenchEvalScript(const Task& task, GradingRules rules,
                                   const SweBenchEvalScriptOptions& options) {
  const std::string dir = ShellWord(options.repo_directory);
  // Without a base commit the reset and the diff use HEAD.
  const std::string base = task.base_commit.empty() ? "HEAD" : task.base_commit;
  const std::vector<std::string> reset =
      TestFileResetCommands(base, SweBenchPatchFiles(task.test_patch));
  std::string test_command = options.test_command.empty()
                                 ? SweBenchTestCommand(task.repo, task.version)
                                 : options.test_command;
  const std::vector<std::string> directives =
      SweBenchTestDirectives(task.repo, task.test_patch, rules);
  if (!directives.empty()) test_command += " " + JoinWords(directives);
  const std::string install =
      options.install ? *options.install : CopyInstallCommand(task.repo, task.version);

  std::vector<std::string> lines = {"#!/bin/bash", "set -uxo pipefail",
                                    ActivateLine(options.env_name), "cd " + dir};
  if (task.repo == "django/django") {
    for (auto& c : DjangoEvalCommands(task.version)) lines.push_back(std::move(c));
  }
  lines.push_back("git config --global --add safe.directory " + dir);  // for nonroot users
  lines.push_back("cd " + dir);
  lines.push_back("git status");
  lines.push_back("git show");
  lines.push_back("git -c core.fileMode=false diff " + ShellWord(base));
  lines.push_back(ActivateLine(options.env_name));
  if (!install.empty()) lines.push_back(install);
  lines.insert(lines.end(), reset.begin(), reset.end());
  lines.push_back("git apply -v - <<'" + std::string(kHeredoc) + "'\n" + task.test_patch + "\n" +
                  std::string(kHeredoc));
  lines.push_back(": '" + std::string(kSweStartTestOutput) + "'");
  lines.push_back(test_command);
  if (rules == GradingRules::kV5) {
    lines.push_back("echo \"" + std::string(kSweTestExitCode) + ": $?\"");
  }
  lines.push_back(": '" + std::string(kSweEndTestOutput) + "'");
  lines.insert(lines.end(), reset.begin(), reset.end());  // leave the tests as they were

  std::string script;
  for (const auto& l : lines) {
    script += l;
    script += '\n';
  }
  return script;
}

std::string SweBenchApplyPatchCommand(std::string_view patch_path,
                                      std::string_view repo_directory) {
  const std::string patch = ShellQuote(patch_path);
  std::string s;
  s += "cd " + ShellQuote(repo_directory) + " || exit 1\n";
  s += "r2e_applied=0\n";
  s += "r2e_out=''\n";
  s += "for r2e_cmd in 'git apply --verbose' 'git apply --verbose --reject' "
       "'patch --batch --fuzz=5 -p1 -i'; do\n";
  s += "  if r2e_out=$($r2e_cmd " + patch + " 2>&1); then\n";
  s += "    printf '%s:\\n%s\\n' '" + std::string(kSweApplyPatchPass) + "' \"$r2e_out\"\n";
  s += "    r2e_applied=1\n";
  s += "    break\n";
  s += "  fi\n";
  s += "  echo \"Failed to apply patch to container: $r2e_cmd\"\n";
  s += "done\n";
  s += "if [ \"$r2e_applied\" != 1 ]; then\n";
  s += "  printf '%s:\\n%s\\n' '" + std::string(kSweApplyPatchFail) + "' \"$r2e_out\"\n";
  s += "  exit 1\n";
  s += "fi\n";
  return s;
}

// ---------------------------------------------------------------------------
// The grader

namespace {

constexpr std::string_view kScriptPath = "/root/r2e_eval.sh";
constexpr std::chrono::seconds kHousekeepingTimeout{60};
// When the test output outgrows the session's output bound, the grader reads
// the log file instead, keeping at most its last this many bytes.
using internal::kMaxLogFileBytes;

class SweBenchGrader final : public Grader {
 public:
  explicit SweBenchGrader(GradingRules rules) : rules_(rules) {}

  std::string_view name() const override { return "swebench"; }

  Result<GradeResult> grade(Runtime& runtime, const Task& task,
                            const GradeOptions& options) override {
    const auto start = std::chrono::steady_clock::now();
    const std::string context = "grading " + task.instance_id;
    R2E_RETURN_IF_ERROR(CheckTask(task));

    const std::string script = MakeSweBenchEvalScript(task, rules_);
    Status wrote = runtime.write_file(std::string(kScriptPath), script, 0755);
    if (!wrote.ok()) return wrote.WithContext(context + ": writing the eval script");

    ExecOptions small;
    small.timeout = kHousekeepingTimeout;
    const std::string log_file = "/tmp/r2e_swebench_" + internal::RandomHex(8) + ".log";
    ExecOptions run;
    run.timeout = options.timeout;
    // tee keeps the whole log in the sandbox for when the output outgrows
    // the session's head/tail bound.
    auto ran = runtime.exec("bash " + std::string(kScriptPath) + " 2>&1 | tee " + log_file, run);
    // The script holds the hidden tests: it does not outlive the run.
    const std::string cleanup = "rm -f " + log_file + " " + std::string(kScriptPath);
    if (!ran.ok()) {
      (void)runtime.exec(cleanup, small);
      return ran.status().WithContext(context);
    }
    std::string log = std::move(ran->output);
    if (ran->truncated_bytes > 0) {
      auto full = internal::ReadCappedLogFile(runtime, log_file, small);
      if (!full.ok()) {
        (void)runtime.exec(cleanup, small);
        return full.status().WithContext(context);
      }
      log = std::move(full).value();
    }
    (void)runtime.exec(cleanup, small);

    const bool timed_out = ran->timed_out;
    if (timed_out) {
      // The harness writes this line and gives no report; the marker makes
      // the saved log grade as "not found" wherever it is graded again.
      log += "\n\nTimeout error: " + std::to_string(options.timeout.count()) +
             " seconds exceeded.\n" + std::string(kSweTestsTimedOut) + "\n";
      // The script stopped before its final reset: put the test files back.
      const std::string reset = ResetScript(task);
      if (!reset.empty()) (void)runtime.exec(reset, small);
    }

    R2E_ASSIGN_OR_RETURN(GradeResult result, Evaluate(task, std::move(log)));
    if (timed_out) {
      result.timed_out = true;
      result.resolved = false;
      result.reward = 0.0;
      json& inst = result.report[task.instance_id];
      inst["resolved"] = false;
      inst["timed_out"] = true;
      inst["timeout"] = options.timeout.count();
    }
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return result;
  }

  Result<GradeResult> grade_log(const Task& task, std::string_view log) const override {
    const auto start = std::chrono::steady_clock::now();
    R2E_RETURN_IF_ERROR(CheckTask(task));
    R2E_ASSIGN_OR_RETURN(GradeResult result, Evaluate(task, std::string(log)));
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return result;
  }

 private:
  // A row with nothing to grade would be "resolved" by any log that has the
  // markers: refuse it rather than hand out a reward of 1.
  static Status CheckTask(const Task& task) {
    if (task.fail_to_pass.empty() && task.pass_to_pass.empty()) {
      return Status::InvalidArgument("task " + task.instance_id +
                                     " has empty FAIL_TO_PASS and PASS_TO_PASS: nothing to grade");
    }
    return Status::OK();
  }

  Result<GradeResult> Evaluate(const Task& task, std::string log) const {
    R2E_ASSIGN_OR_RETURN(SweBenchLogEval eval, EvalSweBenchLog(task, log, rules_));
    GradeResult result;
    bool resolved = false;
    result.report = MakeSweBenchReport(task, eval, rules_, /*patch_is_none=*/false, &resolved);
    result.resolved = resolved;
    result.reward = resolved ? 1.0 : 0.0;
    result.status_map = std::move(eval.status_map);
    result.log = std::move(log);
    return result;
  }

  static std::string ResetScript(const Task& task) {
    const std::string base = task.base_commit.empty() ? "HEAD" : task.base_commit;
    std::string s;
    for (const auto& line : TestFileResetCommands(base, SweBenchPatchFiles(task.test_patch))) {
      s += line + "\n";
    }
    return s.empty() ? s : "cd /testbed || exit 1\n" + s;
  }


  GradingRules rules_;
};

}  // namespace

std::unique_ptr<Grader> MakeSweBenchGrader(GradingRules rules) {
  return std::make_unique<SweBenchGrader>(rules);
}

}  // namespace r2e
