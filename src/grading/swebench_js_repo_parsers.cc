// SWE-bench's repository-specific JavaScript parsers that v5.0.1 added
// (swebench/harness/log_parsers/javascript.py at v5.0.1; v4.1.0 has none of
// them, so spec.rules does not matter): highlight.js, ESLint, bpmn-js,
// OpenLayers, Grommet, Carbon and Quarto. Next and Lighthouse, which pick a
// sub-parser by spec.version, are in swebench_js_versioned_parsers.cc, and
// Prism, which decodes JSON, in swebench_prism_parser.cc.
// Python semantics as grading/parsers.h says.
#include <algorithm>
#include <cstddef>
#include <optional>
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

// `re.sub(r"\s+", " ", s).strip()`, which is `" ".join(s.split())`.
std::string CollapseSpaces(std::string_view s) {
  std::vector<std::string_view> words;
  PySplit(s, words);
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += ' ';
    out.append(w);
  }
  return out;
}

// A byte that may belong to re's `\d`: an ASCII digit, or any non-ASCII
// byte (other scripts' digits); a cheap filter before a regex match.
bool MayBeDigitByte(char c) {
  return (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80;
}

// `re.Search(log, pos)` for a pattern ending in `\d+\)` with no other ')':
// a match ends at the first ')' after its start, so PCRE runs only on the
// stretch before each ')' that has a possible digit before it (the log's
// other bytes are skipped with find), which keeps a 10 MB log fast.
std::optional<PyMatch> SearchDigitParen(const PyRegex& re, std::string_view log, std::size_t pos) {
  std::size_t from = pos;
  while (from < log.size()) {
    const std::size_t paren = log.find(')', from);
    if (paren == kNpos) break;
    if (paren > from && MayBeDigitByte(log[paren - 1])) {
      if (auto m = re.Search(log.substr(0, paren + 1), from)) return m;
    }
    from = paren + 1;
  }
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------
// highlight.js: mocha's spec reporter, cut at the "<n> passing" summary so
// the failure details below it are not read as tests. "✓"/"✔" lines pass,
// "<n>) " lines fail; a 2-space-indented line is the current suite (the
// Python's 4-space branch is unreachable behind it).
Result<StatusMap> ParseHighlightJs(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kSummary(R"(\n[ \t]*\d+ passing)");
  static const PyRegex kFailNumber(R"(^\d+\))");
  static const PyRegex kTiming(R"(\(\d+ms\))");
  if (const auto m = kSummary.Search(log)) log = log.substr(0, m->start());

  StatusMapBuilder out(log);
  std::string suite;
  bool has_suite = false;
  auto add = [&](std::string_view raw_name, std::string_view status) {
    // Copies only where the name is not a piece of the log.
    std::string untimed;
    std::string_view name = raw_name;
    if (kTiming.Search(raw_name)) name = untimed = kTiming.Sub("", raw_name);
    name = PyStrip(name);
    if (has_suite) {
      out.Add(suite + "." + std::string(name), status);
    } else {
      out.Add(name, status);
    }
  };
  ForEachLine(log, [&](std::string_view line) {
    const std::string_view stripped = PyStrip(line);
    for (std::string_view check : {std::string_view("✓"), std::string_view("✔")}) {
      if (stripped.starts_with(check)) {
        // Only whitespace precedes the mark, so its first occurrence is it.
        add(line.substr(line.find(check) + check.size()), kPassed);
        return;
      }
    }
    if (!stripped.empty() && MayBeDigitByte(stripped[0]) && kFailNumber.Match(stripped)) {
      add(line.substr(line.find(')') + 1), kFailed);
    } else if (line.starts_with("  ")) {
      suite = std::string(stripped);
      has_suite = true;
    }
  });
  return out.Build();
}

// ---------------------------------------------------------------------------
// ESLint: mocha failures, `re.findall(r"(\s{2}\d+\))([\s\S]*?)\s+(?:(.*)Error)",
// log)`, group 2 with its whitespace collapsed.
//
// Restated by hand around a regex for the "  <n>)" start: the lazy
// `[\s\S]*?` tried at every start is quadratic on a log with many starts and
// no "Error" after them. The lazy group ends at the first whitespace
// position e whose whitespace run ends (at r) on a line that still has
// "Error" at or after r; the match then runs to the end of that line's last
// "Error". With no such e for one start there is none for any later start.
namespace {

class EslintErrorTail {
 public:
  explicit EslintErrorTail(std::string_view log) : log_(log) {}

  // The first e >= from as above (npos if none); `match_end` gets the end
  // of the whole match.
  std::size_t Find(std::size_t from, std::size_t& match_end) {
    std::size_t y = from;
    while (y < log_.size()) {
      if (PySpaceLen(log_, y) == 0) {
        ++y;  // a UTF-8 continuation byte never starts a space
        continue;
      }
      std::size_t r = y;
      for (std::size_t w; r < log_.size() && (w = PySpaceLen(log_, r)) != 0;) r += w;
      const std::size_t last = LastErrorFrom(r);
      if (last != kNpos) {
        match_end = last + 5;
        return y;
      }
      y = r;
    }
    return kNpos;
  }

 private:
  // The start of the last "Error" in [r, end of r's line), or npos. Calls
  // come with r never decreasing, so one line is searched once.
  std::size_t LastErrorFrom(std::size_t r) {
    if (r >= log_.size()) return kNpos;
    if (!(r >= from_ && r <= eol_)) {
      from_ = r;
      eol_ = log_.find('\n', r);
      if (eol_ == kNpos) eol_ = log_.size();
      const std::size_t hit = log_.substr(r, eol_ - r).rfind("Error");
      last_ = hit == kNpos ? kNpos : r + hit;
    }
    return last_ != kNpos && last_ >= r ? last_ : kNpos;
  }

  std::string_view log_;
  std::size_t from_ = kNpos, eol_ = 0, last_ = kNpos;
};

}  // namespace

Result<StatusMap> ParseEslint(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kStart(R"(\s{2}\d+\))");
  StatusMapBuilder out(log);
  EslintErrorTail tail(log);
  std::size_t pos = 0;
  while (pos <= log.size()) {
    const auto m = SearchDigitParen(kStart, log, pos);
    if (!m) break;
    std::size_t match_end = 0;
    const std::size_t e = tail.Find(m->end(), match_end);
    if (e == kNpos) break;
    out.Add(CollapseSpaces(log.substr(m->end(), e - m->end())), kFailed);
    pos = match_end;
  }
  return out.Build();
}

// ---------------------------------------------------------------------------
// bpmn-js: karma's "<browser> ... FAILED" lines, PhantomJS and Chrome
// flavours, the test name as the regex captures it (untrimmed).
Result<StatusMap> ParseBpmnJs(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kPhantomVersion(R"(2KPhantomJS\s[\d\.]+\s\(Linux\s[\d\.]+\)\s(.*)FAILED\n)");
  static const PyRegex kPhantomArch(R"(2KPhantomJS\s[\d\.]+\s\(Linux\sx86\_64\)\s(.*)FAILED\n)");
  static const PyRegex kChromeHeadless(
      R"(Chrome\sHeadless\s(.*)\s\(Linux\sx86\_64\)\s(.*)FAILED\n)");
  static const PyRegex kHeadlessChrome(
      R"(HeadlessChrome\s[\d\.]+\s\(Linux\s[\d\.]+\)\s(.*)FAILED\n)");
  StatusMapBuilder out(log);
  for (const PyRegex* re : {&kPhantomVersion, &kPhantomArch, &kChromeHeadless, &kHeadlessChrome}) {
    // The Chrome Headless pattern has two groups: findall's tuple, item 1.
    const std::size_t group = re == &kChromeHeadless ? 2 : 1;
    for (const PyMatch& m : re->FindIter(log)) out.Add(m.group(group), kFailed);
  }
  return out.Build();
}

// ---------------------------------------------------------------------------
// OpenLayers: karma "<browser> ... FAILED" lines, mocha "  <n>) ... Error:"
// blocks and rendering "case <name>: mismatch" lines, each name with its
// whitespace collapsed.
Result<StatusMap> ParseOpenLayers(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kChromeHeadless(
      R"(Chrome\sHeadless\s[\d\.]+\s\(Linux\s[\d\.\_\S]+\)\s(.*)\sFAILED\n)", kReMultiline);
  static const PyRegex kChrome(R"(Chrome\s[\d\.]+\s\(Linux\s[\d\.\_\S]+\)\s(.*)FAILED\n)",
                               kReMultiline);
  static const PyRegex kMochaStart(R"(^\s{2}\d+\))", kReMultiline);
  static const PyRegex kRenderCase(R"(^case\s(.*):\smismatch)", kReMultiline);
  StatusMapBuilder out(log);
  for (const PyRegex* re : {&kChromeHeadless, &kChrome}) {
    for (std::string_view name : re->FindAll(log)) out.Add(CollapseSpaces(name), kFailed);
  }
  // `^\s{2}\d+\)([\s\S]*?)Error:`: the lazy group ends at the first "Error:"
  // after the start; found by hand, as retrying the scan from every later
  // start would be quadratic. Without one no later start matches either.
  std::size_t pos = 0;
  while (pos <= log.size()) {
    const auto m = SearchDigitParen(kMochaStart, log, pos);
    if (!m) break;
    const std::size_t error = log.find("Error:", m->end());
    if (error == kNpos) break;
    out.Add(CollapseSpaces(log.substr(m->end(), error - m->end())), kFailed);
    pos = error + 6;
  }
  for (std::string_view name : kRenderCase.FindAll(log)) out.Add(CollapseSpaces(name), kFailed);
  return out.Build();
}

// ---------------------------------------------------------------------------
// Grommet: jest's per-file "FAIL <path>" / "PASS <path>" lines with the
// timing suffix dropped; all FAIL lines first, so a PASS of the same file
// wins.
Result<StatusMap> ParseGrommet(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kTiming(R"(\s\([\d\.]+\s?(?:ms|s)\)$)");
  static const PyRegex kFail(R"(^FAIL\s(.*))", kReMultiline);
  static const PyRegex kPass(R"(^PASS\s(.*))", kReMultiline);
  StatusMapBuilder out(log);
  auto add = [&](std::string_view name, std::string_view status) {
    name = PyStrip(name);
    if (kTiming.Search(name)) {
      out.Add(kTiming.Sub("", name), status);
    } else {
      out.Add(name, status);
    }
  };
  for (std::string_view name : kFail.FindAll(log)) add(name, kFailed);
  for (std::string_view name : kPass.FindAll(log)) add(name, kPassed);
  return out.Build();
}

// ---------------------------------------------------------------------------
// Carbon (also Lighthouse's jest versions): per line, "PASS <path>" /
// "FAIL <path>", the path cut before the last " (<time>ms)", " (<time> s)"
// or " (<time>s)" in that order of preference.
Result<StatusMap> ParseCarbon(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kPassMs(R"(^PASS\s(.*)\s\([\d\.]+ms\))");
  static const PyRegex kPassSpaceS(R"(^PASS\s(.*)\s\([\d\.]+\ss\))");
  static const PyRegex kPassS(R"(^PASS\s(.*)\s\([\d\.]+s\))");
  static const PyRegex kPass(R"(^PASS\s(.*))");
  static const PyRegex kFailMs(R"(^FAIL\s(.*)\s\([\d\.]+ms\))");
  static const PyRegex kFailSpaceS(R"(^FAIL\s(.*)\s\([\d\.]+\ss\))");
  static const PyRegex kFailS(R"(^FAIL\s(.*)\s\([\d\.]+s\))");
  static const PyRegex kFail(R"(^FAIL\s(.*))");
  static const PyRegex* const kPassPatterns[] = {&kPassMs, &kPassSpaceS, &kPassS, &kPass};
  static const PyRegex* const kFailPatterns[] = {&kFailMs, &kFailSpaceS, &kFailS, &kFail};
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    // Every pattern is anchored at "PASS" or "FAIL".
    const bool pass = line.starts_with("PASS");
    if (!pass && !line.starts_with("FAIL")) return;
    for (const PyRegex* re : pass ? kPassPatterns : kFailPatterns) {
      if (const auto m = re->Match(line)) {
        out.Add(m->group(1), pass ? kPassed : kFailed);
        return;
      }
    }
  });
  return out.Build();
}

// ---------------------------------------------------------------------------
// Quarto (Deno tests): "[smoke]"/"[unit]" lines up to the first "ERRORS" or
// "failures:" line; the name is the text before "...", with /tmp paths
// numbered in order of first sight; "32mok" passes, "31mFAILED" fails, and
// a line with neither fails unless its name is already recorded. Summary
// ("test result:", passed/failed/steps) and "34mINFO" lines are skipped.
Result<StatusMap> ParseQuartoCli(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kTmpQmd(R"(/tmp/(\w+)\.qmd)");
  static const PyRegex kTmpDir(R"(/tmp/(\w+)/)");
  // Membership tests read the map as it grows, so no StatusMapBuilder here.
  StatusMap out;
  StatusMap tmp_numbers;  // tmp path -> "/tmp/<number>"
  bool done = false;
  ForEachLine(log, [&](std::string_view raw_line) {
    if (done) return;
    if (raw_line.find("ERRORS") != kNpos || raw_line.find("failures:") != kNpos) {
      done = true;
      return;
    }
    if (raw_line.find("[smoke]") == kNpos && raw_line.find("[unit]") == kNpos) return;
    std::string line(raw_line);
    for (const PyRegex* re : {&kTmpQmd, &kTmpDir}) {
      if (line.find("/tmp/") == kNpos) break;
      const auto m = re->Search(line);
      if (!m) continue;
      auto [it, fresh] = tmp_numbers.try_emplace(std::string(m->group(0)));
      if (fresh) it->second = "/tmp/" + std::to_string(tmp_numbers.size() - 1);
      // Every match is replaced by the first one's number.
      line = re->Sub(it->second, line);
    }
    const std::string name(PyStrip(std::string_view(line).substr(0, line.find("..."))));
    const bool reject = line.starts_with("test result:") ||
                        (line.find("passed") != kNpos && line.find("failed") != kNpos &&
                         line.find("steps") != kNpos) ||
                        line.find("34mINFO") != kNpos;
    if (reject) return;
    if (line.find("32mok") != kNpos) {
      out[name] = std::string(kPassed);
    } else if (line.find("31mFAILED") != kNpos || !out.contains(name)) {
      out[name] = std::string(kFailed);
    }
  });
  return out;
}

}  // namespace r2e::internal
