// SWE-bench's JavaScript log parsers that harness v4.1.0 and v5.0.1 both have
// (swebench/harness/log_parsers/javascript.py: the whole file at v4.1.0, its
// last part at v5.0.1), restated with PyRegex: calypso, react_pdf, the
// jest/vitest/karma/tap family and immutable_js (chart_js, marked and p5js
// are in swebench_js_parsers2.cc). Python semantics as grading/parsers.h
// says. The versions differ in one place: v5 strips the test names
// parse_log_jest captures (spec.rules picks).
#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/py_text.h"
#include "grading/parsers.h"
#include "grading/py_regex.h"
#include "grading/status_map_builder.h"
#include "grading/test_status.h"

namespace r2e::internal {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// A stack of suite names and `sep.join(names)`, kept joined so that a test
// line costs the length of its own name rather than the whole stack's.
class SuiteStack {
 public:
  explicit SuiteStack(std::string_view sep) : sep_(sep) {}
  bool empty() const { return ends_.empty(); }
  const std::string& joined() const { return joined_; }
  void Push(std::string_view name) {
    if (!ends_.empty()) joined_ += sep_;
    joined_ += name;
    ends_.push_back(joined_.size());
  }
  void Pop() {
    ends_.pop_back();
    joined_.resize(ends_.empty() ? 0 : ends_.back());
  }

 private:
  std::string_view sep_;
  std::string joined_;
  std::vector<std::size_t> ends_;
};

// The jest/vitest/tap/jest_json shape: `re.match(pattern, line.strip())`
// per line; group 1 names the status, group `name_group` the test. The
// pattern can only match a stripped line that starts with one of `starts`
// (its leading `\s*` matches nothing there), so other lines skip the regex.
template <typename StatusOf>
StatusMap ParseSymbolLines(std::string_view log, std::initializer_list<std::string_view> starts,
                           const PyRegex& pattern, std::size_t name_group, bool strip_name,
                           StatusOf status_of) {
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    const std::string_view stripped = PyStrip(line);
    if (std::none_of(starts.begin(), starts.end(),
                     [&](std::string_view s) { return stripped.starts_with(s); })) {
      return;
    }
    const auto m = pattern.Match(stripped);
    if (!m) return;
    const std::string_view name = m->group(name_group);
    out.Add(strip_name ? PyStrip(name) : name, status_of(m->group(1)));
  });
  return out.Build();
}

}  // namespace

// Test lines of the jest runs the log holds (after each
// " ./node_modules/.bin/jest "), named by the indented suite lines above them.
Result<StatusMap> ParseCalypso(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kDuration(R"(\(\d+ms\))");
  static const PyRegex kPassTimed(R"(^\s+✓\s(.*)\(\d+ms\)$)");
  static const PyRegex kPass(R"(^\s+✓\s(.*))");
  static const PyRegex kFailTimed(R"(^\s+✕\s(.*)\(\d+ms\)$)");
  static const PyRegex kFail(R"(^\s+✕\s(.*))");
  constexpr std::string_view kRun = " ./node_modules/.bin/jest ";
  StatusMapBuilder out(log);
  // The suite stack lives on from one run to the next, as in the Python.
  SuiteStack suite(" - ");
  std::vector<std::size_t> indents;
  bool crashed = false;
  for (std::size_t hit = log.find(kRun); hit != kNpos && !crashed;) {
    const std::size_t begin = hit + kRun.size();
    hit = log.find(kRun, begin);
    const std::string_view run = log.substr(begin, hit == kNpos ? kNpos : hit - begin);
    ForEachLineWhile(run, [&](std::string_view line) {
      if (line.starts_with("Test Suites") || line.starts_with("  ● ")) return false;
      const std::string_view stripped = PyStrip(line);
      const bool passed = stripped.starts_with("✓");
      if (passed || stripped.starts_with("✕")) {
        const bool timed = kDuration.Search(line).has_value();
        const PyRegex& pattern =
            passed ? (timed ? kPassTimed : kPass) : (timed ? kFailTimed : kFail);
        const auto m = pattern.Match(line);
        // `re.match(...).group(1)` on None: e.g. "✓" without indent, or a
        // "(12ms)" that is not at the end of the line.
        if (!m) {
          crashed = true;
          return false;
        }
        std::string name = suite.joined();
        name += " - ";
        name += m->group(1);
        out.Add(std::string(PyStrip(name)), passed ? kPassed : kFailed);
        return true;
      }
      const std::size_t indent = PyIndent(line);
      if (indent > 0) {
        while (!indents.empty() && indents.back() >= indent) {
          indents.pop_back();
          suite.Pop();
        }
        indents.push_back(indent);
        suite.Push(stripped);
      }
      return true;
    });
  }
  if (crashed) {
    return Status::InvalidArgument(
        "parse_log_calypso: AttributeError: 'NoneType' object has no attribute 'group'");
  }
  return out.Build();
}

// The harness's parse_log_react_pdf is parse_log_carbon's body again, line
// for line (swebench_js_repo_parsers.cc).
Result<StatusMap> ParseReactPdf(std::string_view log, const LogParserSpec& spec) {
  return ParseCarbon(log, spec);
}

// Jest --verbose: "✓|✕|○ <name> (<time>)".
Result<StatusMap> ParseJest(std::string_view log, const LogParserSpec& spec) {
  static const PyRegex kLine(R"(^\s*(✓|✕|○)\s(.+?)(?:\s\((\d+\s*m?s)\))?$)");
  return ParseSymbolLines(log, {"✓", "✕", "○"}, kLine, 2, spec.rules == GradingRules::kV5,
                          [](std::string_view sym) {
                            return sym == "✓" ? kPassed : sym == "✕" ? kFailed : kSkipped;
                          });
}

// Jest --json turned into "[PASSED] <name>" / "[FAILED] <name>" lines by jq.
Result<StatusMap> ParseJestJson(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^\[(PASSED|FAILED)\]\s(.+)$)");
  return ParseSymbolLines(
      log, {"[PASSED]", "[FAILED]"}, kLine, 2, false,
      [](std::string_view status) { return status == "PASSED" ? kPassed : kFailed; });
}

// Vitest --reporter=verbose: "✓|×|↓ <name> <time>|[skipped]".
Result<StatusMap> ParseVitest(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^\s*(✓|×|↓)\s(.+?)(?:\s(\d+\s*m?s?|\[skipped\]))?$)");
  return ParseSymbolLines(log, {"✓", "×", "↓"}, kLine, 2, false, [](std::string_view sym) {
    return sym == "✓" ? kPassed : sym == "×" ? kFailed : kSkipped;
  });
}

// Karma's spec reporter between "Starting browser" and "SUMMARY:": "✔|✖
// <name>" under suite lines, the suite told by indentation.
Result<StatusMap> ParseKarma(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^(\s*)?([✔✖])?\s(.*)$)");
  StatusMapBuilder out(log);
  SuiteStack suite(" > ");
  std::ptrdiff_t current_indent = -1;
  bool started = false;
  bool crashed = false;
  ForEachLineWhile(log, [&](std::string_view line) {
    if (line.starts_with("SUMMARY:")) return false;
    if (line.find("Starting browser") != kNpos) {
      started = true;
      return true;
    }
    if (!started) return true;
    // The pattern needs a `\s`, '✔' or '✖' first.
    if (line.empty() || (Byte(line, 0) < 0x80 && PySpaceLen(line, 0) == 0)) return true;
    const auto m = kLine.Match(line);
    if (!m) return true;
    const std::string_view indent = m->group(1);
    const std::string_view status = m->group(2);
    const std::string_view name = m->group(3);
    if (!indent.empty() && status.empty()) {
      const auto new_indent = static_cast<std::ptrdiff_t>(PyLen(indent));
      if (new_indent > current_indent) {
        current_indent = new_indent;
        suite.Push(name);
      } else if (new_indent < current_indent) {
        current_indent = new_indent;
        // `current_suite.pop()` on an empty list: a line less indented than
        // the line that emptied the stack.
        if (suite.empty()) {
          crashed = true;
          return false;
        }
        suite.Pop();
        return true;
      }
    }
    if (status.empty()) return true;
    const std::string_view result = status == "✔" ? kPassed : kFailed;
    if (suite.empty()) {
      out.Add(name, result);
    } else {
      std::string full = suite.joined();
      full += " > ";
      full += name;
      out.Add(std::move(full), result);
    }
    return true;
  });
  if (crashed) return Status::InvalidArgument("parse_log_karma: IndexError: pop from empty list");
  return out.Build();
}

// TAP: "ok <n> <name>" / "not ok <n> <name>".
Result<StatusMap> ParseTap(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^(ok|not ok) (\d+) (.+)$)");
  return ParseSymbolLines(log, {"ok ", "not ok "}, kLine, 3, false, [](std::string_view status) {
    return status == "ok" ? kPassed : kFailed;
  });
}

// immutable-js: jest or jest_json by the pull request number that ends the
// instance id.
Result<StatusMap> ParseImmutableJs(std::string_view log, const LogParserSpec& spec) {
  const std::string_view id = spec.instance_id;
  const std::size_t dash = id.rfind('-');
  const std::string_view pr = dash == kNpos ? id : id.substr(dash + 1);
  if (pr == "2006") return ParseJest(log, spec);
  if (pr == "2005") return ParseJestJson(log, spec);
  return Status::InvalidArgument("parse_log_immutable_js: ValueError: Unknown instance id: " +
                                 spec.instance_id);
}

}  // namespace r2e::internal
