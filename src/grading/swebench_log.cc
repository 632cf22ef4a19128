// SWE-bench: test log -> status map (r2e/swebench.h), the 5.x harness's
// infrastructure-failure classification, and which rules grade a row.
// Restated from the public SWE-bench harness (MIT): grading.py
// (get_logs_eval, SUITE_RAN, parse_test_exit_code) of v4.1.0 and 5.0.1,
// infra_failure.py and utils.py make_test_spec of 5.0.1.
#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grading/swebench_internal.h"
#include "grading/test_status.h"
#include "r2e/swebench.h"

namespace r2e {
namespace {

using internal::Contains;
using internal::IsDigit;
using internal::IsSpace;
using internal::IsWordChar;
using internal::kError;
using internal::kFailed;

bool IsNonZeroDigit(char c) { return c >= '1' && c <= '9'; }

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

// `\s+` starting at i; returns the index past it or npos.
std::size_t MatchSpaces(std::string_view s, std::size_t i) {
  const std::size_t start = i;
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i > start ? i : std::string_view::npos;
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
    const std::size_t i = MatchSpaces(s, pos + kWord.size());
    return i != std::string_view::npos && MatchPositiveNumber(s, i) != std::string_view::npos;
  });
}

// Test Suites:\s+(?:\d+ \w+, )*[1-9]\d* total
bool MatchJestSuites(std::string_view s) {
  constexpr std::string_view kWord = "Test Suites:";
  return AnyOccurrence(s, kWord, [&](std::size_t pos) {
    std::size_t i = MatchSpaces(s, pos + kWord.size());
    if (i == std::string_view::npos) return false;
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

// ---------------------------------------------------------------------------
// infra_failure.py signatures: (reason, tier, pattern), first match wins.
// All but two are literal alternatives; `^Killed$` and
// `Timeout error: \d+ seconds exceeded` get their own matchers.

bool IsLineBreak(char c) { return c == '\n' || c == '\r'; }

// ^Killed$ (multiline; the harness reads the log in text mode, so '\r' ends
// a line too)
bool MatchKilledLine(std::string_view s) {
  constexpr std::string_view kWord = "Killed";
  return AnyOccurrence(s, kWord, [&](std::size_t pos) {
    const std::size_t end = pos + kWord.size();
    return (pos == 0 || IsLineBreak(s[pos - 1])) && (end == s.size() || IsLineBreak(s[end]));
  });
}

// Timeout error: \d+ seconds exceeded
bool MatchTimeoutError(std::string_view s) {
  constexpr std::string_view kWord = "Timeout error: ";
  return AnyOccurrence(s, kWord, [&](std::size_t pos) {
    const std::size_t i = pos + kWord.size();
    const std::size_t j = SkipDigits(s, i);
    return j > i && s.substr(j, 17) == " seconds exceeded";
  });
}

bool AnyLiteral(std::string_view s, std::initializer_list<std::string_view> words) {
  return std::any_of(words.begin(), words.end(),
                     [&](std::string_view w) { return Contains(s, w); });
}

}  // namespace

// ---------------------------------------------------------------------------
// Rules and infrastructure failures

bool IsSweBench5Row(const Task& task) {
  return !task.eval_script.empty() || !task.log_parser.empty() || !task.eval_type.empty();
}

GradingRules SweBenchRulesFor(const Task& task, std::optional<GradingRules> requested) {
  if (requested) return *requested;
  return IsSweBench5Row(task) ? GradingRules::kV5 : GradingRules::kClassic;
}

std::optional<SweBenchInfraFailure> ClassifySweBenchInfraFailure(std::string_view log) {
  if (log.empty()) return std::nullopt;
  auto hit = [](std::string_view reason, bool environment) {
    return std::optional<SweBenchInfraFailure>(
        SweBenchInfraFailure{std::string(reason), environment});
  };
  if (AnyLiteral(log, {"Failed to launch", "Failed to connect to the bus"})) {
    return hit("browser_launch_failed", true);
  }
  if (AnyLiteral(log, {"cannot open display", "Missing X server", "unable to open X display"})) {
    return hit("display_unavailable", true);
  }
  if (AnyLiteral(log, {"Cannot allocate memory", "OutOfMemoryError"}) || MatchKilledLine(log)) {
    return hit("out_of_memory", true);
  }
  if (AnyLiteral(log, {"Error response from daemon", "Cannot connect to the Docker daemon"})) {
    return hit("container_unavailable", true);
  }
  if (AnyLiteral(log, {"Could not resolve host", "Temporary failure in name resolution"})) {
    return hit("network_unreachable", true);
  }
  if (AnyLiteral(log, {"Cannot find module", "MODULE_NOT_FOUND", "ModuleNotFoundError"})) {
    return hit("missing_module", false);
  }
  if (AnyLiteral(log, {"no tests ran", "collected 0 items"}))
    return hit("no_tests_collected", false);
  if (MatchTimeoutError(log)) return hit("tests_timed_out", false);
  return std::nullopt;
}

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

namespace {

std::string UniversalNewlines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out += text[i];
      continue;
    }
    out += '\n';
    if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
  }
  return out;
}

}  // namespace

Result<SweBenchLogEval> EvalSweBenchLog(std::string_view parser_name, std::string_view log,
                                        GradingRules rules) {
  LogParserSpec spec;
  spec.rules = rules;
  return EvalSweBenchLog(parser_name, log, spec);
}

Result<SweBenchLogEval> EvalSweBenchLog(std::string_view parser_name, std::string_view raw_log,
                                        const LogParserSpec& spec) {
  // The harness reads the log in text mode: "\r\n" and a lone "\r" are "\n"
  // before anything looks at it.
  std::string normalized;
  std::string_view log = raw_log;
  if (raw_log.find('\r') != std::string_view::npos) {
    normalized = UniversalNewlines(raw_log);
    log = normalized;
  }
  const GradingRules rules = spec.rules;
  SweBenchLogEval out;
  auto not_found = [&](std::string reason) {
    out.found = false;
    out.status_map.clear();
    out.reason = std::move(reason);
    // 5.x: a log with no parseable results may show an environment fault.
    if (rules == GradingRules::kV5) out.infra_failure = ClassifySweBenchInfraFailure(log);
    return out;
  };
  for (std::string_view fatal :
       {kSweApplyPatchFail, kSweResetFailed, kSweTestsErrored, kSweTestsTimedOut}) {
    if (Contains(log, fatal)) return not_found("the log contains `" + std::string(fatal) + "`");
  }
  const std::size_t start = log.find(kSweStartTestOutput);
  if (start == std::string_view::npos || !Contains(log, kSweEndTestOutput)) {
    return not_found(
        "the log lacks the `" +
        std::string(start == std::string_view::npos ? kSweStartTestOutput : kSweEndTestOutput) +
        "` marker");
  }
  // content.split(START)[1].split(END)[0]
  std::string_view content = log.substr(start + kSweStartTestOutput.size());
  content = content.substr(0, content.find(kSweStartTestOutput));
  content = content.substr(0, content.find(kSweEndTestOutput));

  auto parsed = ParseLog(parser_name, content, spec);
  if (!parsed.ok()) return parsed.status();
  out.status_map = std::move(parsed).value();
  if (out.status_map.empty()) {
    // Since v4.1.0: output that went elsewhere (e.g. stderr) is still graded.
    auto whole = ParseLog(parser_name, log, spec);
    if (!whole.ok()) return whole.status();
    out.status_map = std::move(whole).value();
  }

  if (rules == GradingRules::kV5) {
    if (out.status_map.empty() && !SweBenchSuiteRan(log)) {
      return not_found("no test results and no sign that a test suite ran");
    }
    // The first recorded exit status (re.search), checked against a map
    // that claims no failure.
    const std::vector<long long> codes = SweBenchTestExitCodes(log);
    const bool has_failure =
        std::any_of(out.status_map.begin(), out.status_map.end(),
                    [](const auto& kv) { return kv.second == kFailed || kv.second == kError; });
    if (!codes.empty() && codes.front() != 0 && !out.status_map.empty() && !has_failure) {
      return not_found("the test command exited with " + std::to_string(codes.front()) +
                       " but the log shows no failing test");
    }
  }
  out.found = true;
  return out;
}

Result<SweBenchLogEval> EvalSweBenchLog(const Task& task, std::string_view log,
                                        GradingRules rules) {
  LogParserSpec spec;
  spec.rules = rules;
  spec.instance_id = task.instance_id;
  spec.version = task.version;
  auto eval = EvalSweBenchLog(SweBenchParserName(task), log, spec);
  if (!eval.ok()) {
    return eval.status().WithContext("task " + task.instance_id + " (repo " + task.repo + ")");
  }
  return eval;
}

}  // namespace r2e
