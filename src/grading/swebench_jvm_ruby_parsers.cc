// SWE-bench's Java and Ruby log parsers (swebench/harness/log_parsers/java.py
// and ruby.py at v4.1.0 and v5.0.1). ruby.py is the same in both tags; in
// java.py v5.0.1 reworked parse_log_maven and parse_log_gradle_custom for
// interleaved output, so those two branch on spec.rules. Python semantics as
// grading/parsers.h says. Every pattern is the harness's, matched on
// `line.strip()`; two whose backtracking blows up on a hostile line are
// restated by hand (GradleFullLine, Minitest).
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "core/py_text.h"
#include "core/text.h"
#include "grading/parsers.h"
#include "grading/py_regex.h"
#include "grading/status_map_builder.h"
#include "grading/test_status.h"

namespace r2e::internal {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// The line filters below (Contains) are only there to skip the regex on lines
// it cannot match; each is implied by its pattern, so results never depend on
// them.

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code
// points past U+10FFFF). PyRegex lets no part of a pattern match an invalid
// byte, so a pattern that spans the whole line (`^...$`) cannot match a line
// that fails this; checking first spares the regex its backtracking over such
// a line, which can be quadratic (Python would not have read the log at all).
bool IsUtf8(std::string_view s) {
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char b = Byte(s, i);
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t need = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b == 0xE0) {
      need = 2;
      lo = 0xA0;
    } else if (b == 0xED) {
      need = 2;
      hi = 0x9F;
    } else if (b >= 0xE1 && b <= 0xEF) {
      need = 2;
    } else if (b == 0xF0) {
      need = 3;
      lo = 0x90;
    } else if (b >= 0xF1 && b <= 0xF3) {
      need = 3;
    } else if (b == 0xF4) {
      need = 3;
      hi = 0x8F;
    } else {
      return false;
    }
    if (n - i <= need) return false;
    for (std::size_t k = 1; k <= need; ++k) {
      const unsigned char c = Byte(s, i + k);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return false;
    }
    i += need + 1;
  }
  return true;
}

// Whether `s` (non-empty) holds more than one UTF-8 character: a byte after
// the first that does not continue the first character.
bool HasTwoChars(std::string_view s) {
  for (std::size_t i = 1; i < s.size(); ++i) {
    if ((Byte(s, i) & 0xC0) != 0x80) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Maven.

// `re.match(r"^.*-Dtest=(\S+).*$", stripped)`: the test named in the `set -x`
// trace of the `mvn test -Dtest=...` command.
std::optional<std::string_view> MavenTestName(std::string_view stripped) {
  static const PyRegex kTestName(R"(^.*-Dtest=(\S+).*$)");
  if (!Contains(stripped, "-Dtest=") || !IsUtf8(stripped)) return std::nullopt;
  const std::optional<PyMatch> m = kTestName.Match(stripped);
  if (!m) return std::nullopt;
  return m->group(1);
}

// `re.match(r"^.*BUILD (SUCCESS|FAILURE)$", stripped)`: PASSED / FAILED.
std::optional<std::string_view> MavenBuildResult(std::string_view stripped) {
  static const PyRegex kResult(R"(^.*BUILD (SUCCESS|FAILURE)$)");
  if ((!stripped.ends_with("BUILD SUCCESS") && !stripped.ends_with("BUILD FAILURE")) ||
      !IsUtf8(stripped)) {
    return std::nullopt;
  }
  const std::optional<PyMatch> m = kResult.Match(stripped);
  if (!m) return std::nullopt;
  return m->group(1) == "SUCCESS" ? kPassed : kFailed;
}

// v4.1.0: a BUILD line gives its status to the last -Dtest= name seen (a
// placeholder name before the first).
StatusMap ParseMavenClassic(std::string_view log) {
  StatusMapBuilder out(log);
  std::string_view current = "---NO TEST NAME FOUND YET---";
  ForEachLine(log, [&](std::string_view line) {
    const std::string_view stripped = PyStrip(line);
    if (std::optional<std::string_view> name = MavenTestName(stripped)) current = *name;
    if (std::optional<std::string_view> status = MavenBuildResult(stripped)) {
      out.Add(current, *status);
    }
  });
  return out.Build();
}

// v5.0.1: names and BUILD results are paired first-in first-out, because a
// shell trace may print several commands before Maven prints their results.
// A result with no name waiting is kept and paired after the last line with
// the names still waiting; what remains unpaired is dropped (the harness only
// prints a warning).
StatusMap ParseMavenV5(std::string_view log) {
  StatusMapBuilder out(log);
  std::deque<std::string_view> pending_names;
  std::deque<std::string_view> unmatched_results;
  ForEachLine(log, [&](std::string_view line) {
    const std::string_view stripped = PyStrip(line);
    if (std::optional<std::string_view> name = MavenTestName(stripped)) {
      pending_names.push_back(*name);
    }
    if (std::optional<std::string_view> status = MavenBuildResult(stripped)) {
      if (pending_names.empty()) {
        unmatched_results.push_back(*status);
      } else {
        out.Add(pending_names.front(), *status);
        pending_names.pop_front();
      }
    }
  });
  while (!pending_names.empty() && !unmatched_results.empty()) {
    out.Add(pending_names.front(), unmatched_results.front());
    pending_names.pop_front();
    unmatched_results.pop_front();
  }
  return out.Build();
}

// ---------------------------------------------------------------------------
// Gradle.

// `re.match(r"^([^>].+)\s+(PASSED|FAILED)$", stripped)`: "<name> PASSED".
// Restated by hand: the regex backtracks quadratically on a long run of
// spaces not followed by the status (Python's would too, but a parser must
// finish). The status ends the line and a whitespace character precedes it;
// the greedy name is everything before that one character (so it keeps the
// others of a run of spaces), of two or more characters, not starting '>'.
bool GradleFullLine(std::string_view stripped, StatusMapBuilder& out) {
  std::string_view status;
  if (stripped.ends_with("PASSED")) {
    status = kPassed;
  } else if (stripped.ends_with("FAILED")) {
    status = kFailed;
  } else {
    return false;
  }
  if (!IsUtf8(stripped)) return false;  // as the regex on such a line
  const std::string_view before = stripped.substr(0, stripped.size() - 6);
  const std::size_t space = PySpaceLenAtEnd(before);
  if (space == 0) return false;
  const std::string_view name = before.substr(0, before.size() - space);
  if (name.empty() || name.front() == '>' || !HasTwoChars(name)) return false;
  out.Add(name, status);
  return true;
}

// v4.1.0: only lines holding both the name and the status.
StatusMap ParseGradleClassic(std::string_view log) {
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) { GradleFullLine(PyStrip(line), out); });
  return out.Build();
}

// v5.0.1: a "<class> > <method>" line with no status waits for a later line
// that is exactly PASSED or FAILED; lines in between (warnings) keep it
// waiting, and a full line or another name line replaces it.
StatusMap ParseGradleV5(std::string_view log) {
  static const PyRegex kNameOnly(R"(^([^>]\S*\s+>\s+\S+)$)");
  static const PyRegex kStatusOnly(R"(^(PASSED|FAILED)$)");
  StatusMapBuilder out(log);
  std::optional<std::string_view> pending;
  ForEachLine(log, [&](std::string_view line) {
    const std::string_view stripped = PyStrip(line);
    if (GradleFullLine(stripped, out)) {
      pending.reset();
      return;
    }
    if (Contains(stripped, ">") && IsUtf8(stripped)) {
      if (const std::optional<PyMatch> m = kNameOnly.Match(stripped)) {
        pending = m->group(1);
        return;
      }
    }
    if (!pending) return;
    if (const std::optional<PyMatch> m = kStatusOnly.Match(stripped)) {
      out.Add(*pending, m->group(1) == "PASSED" ? kPassed : kFailed);
      pending.reset();
    }
  });
  return out.Build();
}

// ---------------------------------------------------------------------------
// Ruby.

// parse_log_minitest: `re.match(r"^(.+)\. .*=.*(\.|F|E).*$", stripped)`, the
// minitest-reporters line "<name>. ... = <time> s ... <outcome>". Restated by
// hand: the regex's nested `.*` backtrack cubically on a hostile line. With
// greedy matching the outcome is the line's last '.', 'F' or 'E', and the name
// ends at the last ". " (not at the start) that has an '=' after it and before
// that outcome.
StatusMap Minitest(std::string_view log) {
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    const std::string_view stripped = PyStrip(line);
    const std::size_t outcome = stripped.find_last_of(".FE");
    if (outcome == kNpos || outcome == 0) return;
    const std::size_t equals = stripped.rfind('=', outcome - 1);
    if (equals == kNpos || equals < 3) return;
    const std::size_t dot = stripped.rfind(". ", equals - 2);
    if (dot == kNpos || dot == 0 || !IsUtf8(stripped)) return;
    out.Add(stripped.substr(0, dot), stripped[outcome] == '.' ? kPassed : kFailed);
  });
  return out.Build();
}

// parse_log_cucumber: `re.match(r"^(.*) \.+(\.|F)", stripped)`, a scenario
// name followed by its progress dots (--format progress).
StatusMap Cucumber(std::string_view log) {
  static const PyRegex kLine(R"(^(.*) \.+(\.|F))");
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    const std::string_view stripped = PyStrip(line);
    if (!Contains(stripped, " .")) return;
    const std::optional<PyMatch> m = kLine.Match(stripped);
    if (!m) return;
    out.Add(m->group(1), m->group(2) == "." ? kPassed : kFailed);
  });
  return out.Build();
}

}  // namespace

// Maven run once per test under `set -x`: a `-Dtest=<name>` trace line, then
// Maven's BUILD SUCCESS / BUILD FAILURE.
Result<StatusMap> ParseMaven(std::string_view log, const LogParserSpec& spec) {
  return spec.rules == GradingRules::kV5 ? ParseMavenV5(log) : ParseMavenClassic(log);
}

// Ant's JUnit task: "[junit] [PASS|FAIL|ERR] <name>"; FAIL and ERR are both
// FAILED.
Result<StatusMap> ParseAnt(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^\s*\[junit\]\s+\[(PASS|FAIL|ERR)\]\s+(.*)$)");
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    const std::string_view stripped = PyStrip(line);
    if (!stripped.starts_with("[junit]") || !IsUtf8(stripped)) return;
    const std::optional<PyMatch> m = kLine.Match(stripped);
    if (!m) return;
    out.Add(m->group(2), m->group(1) == "PASS" ? kPassed : kFailed);
  });
  return out.Build();
}

// Gradle with the harness's test-logging config: "<class> > <method> PASSED";
// v5.0.1 also pairs a bare name line with a later bare status line.
Result<StatusMap> ParseGradleCustom(std::string_view log, const LogParserSpec& spec) {
  return spec.rules == GradingRules::kV5 ? ParseGradleV5(log) : ParseGradleClassic(log);
}

// minitest (with shoulda-style reporters): "<name>. ... = ... <. F or E>".
Result<StatusMap> ParseMinitest(std::string_view log, const LogParserSpec& /*spec*/) {
  return Minitest(log);
}

// cucumber --format progress: "<name> ..." ('.' passed, 'F' failed).
Result<StatusMap> ParseCucumber(std::string_view log, const LogParserSpec& /*spec*/) {
  return Cucumber(log);
}

// test-unit verbose output: "[test: ]<name>: <. E F or O>" ('O' omitted ->
// SKIPPED); E and F must end a word, so "Foo: Error" is not a failure.
Result<StatusMap> ParseRubyUnit(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^\s*(?:test: )?(.+):\s+(\.|E\b|F\b|O\b))");
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    const std::string_view stripped = PyStrip(line);
    if (!Contains(stripped, ":")) return;
    const std::optional<PyMatch> m = kLine.Match(stripped);
    if (!m) return;
    const std::string_view outcome = m->group(2);
    out.Add(m->group(1), outcome == "." ? kPassed : outcome == "O" ? kSkipped : kFailed);
  });
  return out.Build();
}

// RSpec's JSON report turned into lines "<full description> - passed|failed"
// by the harness's eval script. The Python's "pending" and "Unknown outcome"
// branches cannot be reached: the pattern admits only passed and failed.
Result<StatusMap> ParseRspecTransformedJson(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"((.+) - (passed|failed))");
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    const std::string_view stripped = PyStrip(line);
    if (!Contains(stripped, " - ")) return;
    const std::optional<PyMatch> m = kLine.Match(stripped);
    if (!m) return;
    out.Add(m->group(1), m->group(2) == "passed" ? kPassed : kFailed);
  });
  return out.Build();
}

// jekyll/jekyll: the PR number (`instance_id.split("-")[1]`) picks minitest or
// cucumber; any other instance is the harness's ValueError. An id with no '-'
// makes the harness's indexing raise IndexError, which is returned as such.
Result<StatusMap> ParseJekyll(std::string_view log, const LogParserSpec& spec) {
  const std::string_view id = spec.instance_id;
  const std::size_t dash = id.find('-');
  if (dash == kNpos) {
    return Status::InvalidArgument("parse_log_jekyll: IndexError: list index out of range");
  }
  std::string_view pr = id.substr(dash + 1);
  pr = pr.substr(0, pr.find('-'));
  if (pr == "9141" || pr == "8047" || pr == "8167") return Minitest(log);
  if (pr == "8761" || pr == "8771") return Cucumber(log);
  return Status::InvalidArgument("parse_log_jekyll: ValueError: Unknown instance id: " +
                                 spec.instance_id);
}

}  // namespace r2e::internal
