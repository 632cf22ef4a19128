// The SWE-bench, SWE-smith, Go and Rust log parsers and their registry,
// restated from the harnesses' Python (SWE-bench:
// swebench/harness/log_parsers/python.py and rust.py; SWE-smith:
// swesmith/profiles/python.py and golang.py). See shared/spec/grading.md.
//
// Every parser is hand-written rather than built on std::regex: the Python
// regexes are small enough to restate exactly, std::regex is slow and
// recursive (a long line can exhaust the stack), and a 10 MB log must parse
// in well under 100 ms. Python semantics kept throughout:
// - `log.split("\n")`: lines are cut at '\n' only ('\r' stays in the line).
// - `str.split()`, `str.strip()` and re's `\s` use Python's whitespace, which
//   includes \x1c-\x1f and the Unicode spaces (e.g. U+00A0 in UTF-8).
// - Quirks are kept on purpose: a reward must equal what the harness says.
// Where the Python would raise IndexError (e.g. `line.split()[1]` on a
// one-token line) the line is skipped instead: a parser never fails.
#include "r2e/log_parsers.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/text.h"
#include "grading/py_text.h"
#include "grading/swesmith_parsers.h"

namespace r2e {
namespace {

using internal::ForEachLine;
using internal::PyLStrip;
using internal::PySpaceLen;
using internal::PySpaceLenAtEnd;
using internal::PySplit;
using internal::PyStrip;

constexpr std::size_t kNpos = std::string_view::npos;

// swebench's TestStatus in its enum order. No status is a prefix of another,
// so the order in which they are tried never changes a result.
constexpr std::array<std::string_view, 5> kStatuses = {"FAILED", "PASSED", "SKIPPED", "ERROR",
                                                       "XFAIL"};
constexpr std::size_t kFailed = 0;
constexpr std::size_t kSkipped = 2;
constexpr std::size_t kNoStatus = kStatuses.size();

// `s.replace(from, to)`: non-overlapping, left to right.
std::string PyReplace(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  for (;;) {
    const std::size_t hit = s.find(from, pos);
    if (hit == kNpos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

std::string Join(const std::vector<std::string_view>& parts, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    if (i > begin) out.push_back(' ');
    out.append(parts[i]);
  }
  return out;
}

using internal::Contains;

std::size_t StartingStatus(std::string_view line) {
  for (std::size_t i = 0; i < kStatuses.size(); ++i) {
    if (line.starts_with(kStatuses[i])) return i;
  }
  return kNoStatus;
}

bool EndsWithStatus(std::string_view line) {
  for (std::string_view status : kStatuses) {
    if (line.ends_with(status)) return true;
  }
  return false;
}

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// `re.match(r"^\[\d+\]$", name)`: a skip-count id such as "[3]" (v5).
bool IsBracketedNumber(std::string_view name) {
  if (name.size() < 3 || name.front() != '[' || name.back() != ']') return false;
  for (std::size_t i = 1; i + 1 < name.size(); ++i) {
    if (!IsAsciiDigit(name[i])) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Building the map.

// Collects (name, status) pairs in log order and builds the map once at the
// end. Sorting once is several times faster than a std::map insertion per
// line: test ids share long prefixes ("tests/pkg/test_mod.py::TestClass::"),
// so each tree comparison is a long memcmp, and a 10 MB log has ~100k ids.
class MapBuilder {
 public:
  explicit MapBuilder(std::string_view log) : log_(log) {}

  // A name inside the log is kept as a view; any other (from a scratch
  // buffer) is copied.
  void Add(std::string_view name, std::string_view status) {
    if (!InLog(name)) name = owned_.emplace_back(name);
    entries_.push_back({name, Intern(status), entries_.size()});
  }

  void Add(std::string&& name, std::string_view status) {
    const std::string_view kept = owned_.emplace_back(std::move(name));
    entries_.push_back({kept, Intern(status), entries_.size()});
  }

  // The last status given for each name (a later line overwrites).
  StatusMap Build() {
    std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
      const int c = a.name.compare(b.name);
      return c < 0 || (c == 0 && a.seq < b.seq);
    });
    StatusMap map;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (i + 1 < entries_.size() && entries_[i + 1].name == entries_[i].name) continue;
      map.emplace_hint(map.end(), std::string(entries_[i].name), std::string(entries_[i].status));
    }
    return map;
  }

 private:
  struct Entry {
    std::string_view name;
    std::string_view status;
    std::size_t seq;  // log order, so that the last status wins
  };

  bool InLog(std::string_view s) const {
    const std::less<const char*> before;
    return !before(s.data(), log_.data()) &&
           !before(log_.data() + log_.size(), s.data() + s.size());
  }

  // Statuses are nearly always one of the five; others ("ERROR:", a first
  // token that merely starts with a status) are copied.
  std::string_view Intern(std::string_view status) {
    for (std::string_view known : kStatuses) {
      if (known == status) return known;
    }
    return owned_.emplace_back(status);
  }

  std::string_view log_;
  std::vector<Entry> entries_;
  std::deque<std::string> owned_;  // stable addresses for the views above
};

constexpr std::string_view kPassedValue = "PASSED";
constexpr std::string_view kFailedValue = "FAILED";
constexpr std::string_view kSkippedValue = "SKIPPED";
constexpr std::string_view kErrorValue = "ERROR";

// ---------------------------------------------------------------------------
// SWE-bench: pytest, pytest_options, matplotlib.

enum class PytestFlavor { kPlain, kOptions, kMatplotlib };

// parse_log_pytest_options' rewrite: `re.search(r"(.*?)\[(.*)\]", name)`
// takes the text before the first '[' and the option up to the last ']'
// (anything after that ']' is dropped); an absolute-path option keeps only
// its last component: "test_stdin[/tmp/x/mymodule.py]" ->
// "test_stdin[/mymodule.py]".
std::string NormalizeOptionName(std::string_view name) {
  const std::size_t open = name.find('[');
  if (open == kNpos) return std::string(name);
  const std::size_t close = name.rfind(']');
  if (close == kNpos || close < open) return std::string(name);
  std::string_view option = name.substr(open + 1, close - open - 1);
  std::string out(name.substr(0, open));
  out.push_back('[');
  if (option.starts_with('/') && !option.starts_with("//") && !Contains(option, "*")) {
    out.push_back('/');
    out.append(option.substr(option.rfind('/') + 1));
  } else {
    out.append(option);
  }
  out.push_back(']');
  return out;
}

StatusMap ParsePytestFamily(std::string_view log, GradingRules rules, PytestFlavor flavor) {
  MapBuilder out(log);
  std::vector<std::string_view> tokens;
  std::string mouse_buf;
  std::string dash_buf;
  ForEachLine(log, [&](std::string_view line) {
    // The MouseButton replacement cannot change whether a line starts with a
    // status (it only rewrites text starting with 'M'), so test that first.
    const std::size_t status = StartingStatus(line);
    if (status == kNoStatus) return;
    if (flavor == PytestFlavor::kMatplotlib && Contains(line, "MouseButton.")) {
      mouse_buf = PyReplace(PyReplace(line, "MouseButton.LEFT", "1"), "MouseButton.RIGHT", "3");
      line = mouse_buf;
    }
    if (status == kFailed && Contains(line, " - ")) {
      dash_buf = PyReplace(line, " - ", " ");
      line = dash_buf;
    }
    PySplit(line, tokens, 2);
    if (tokens.size() < 2) return;
    // v5 drops skip summaries ("SKIPPED [3] file.py:12: reason"); the real
    // v5 code does this in the shared pytest helper, not in matplotlib's own.
    if (rules == GradingRules::kV5 && flavor != PytestFlavor::kMatplotlib && status == kSkipped &&
        IsBracketedNumber(tokens[1])) {
      return;
    }
    // The status is the first token as printed ("PASSED", or e.g. "ERROR:").
    if (flavor == PytestFlavor::kOptions) {
      out.Add(NormalizeOptionName(tokens[1]), tokens[0]);
    } else {
      out.Add(tokens[1], tokens[0]);
    }
  });
  return out.Build();
}

StatusMap ParsePytest(std::string_view log, GradingRules rules) {
  return ParsePytestFamily(log, rules, PytestFlavor::kPlain);
}

StatusMap ParsePytestOptions(std::string_view log, GradingRules rules) {
  return ParsePytestFamily(log, rules, PytestFlavor::kOptions);
}

StatusMap ParseMatplotlib(std::string_view log, GradingRules rules) {
  return ParsePytestFamily(log, rules, PytestFlavor::kMatplotlib);
}

// ---------------------------------------------------------------------------
// SWE-bench: pytest_v2.

// The end of a "[<digits>m" sequence starting at line[i], or npos.
std::size_t ColourCodeEnd(std::string_view line, std::size_t i) {
  if (line[i] != '[') return kNpos;
  std::size_t j = i + 1;
  while (j < line.size() && IsAsciiDigit(line[j])) ++j;
  return j > i + 1 && j < line.size() && line[j] == 'm' ? j + 1 : kNpos;
}

bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 1 && u <= 31;
}

// `re.sub(r"\[(\d+)m", "", line)` then deleting every character 1..31, in
// that order (the first pass sees the control characters still in place).
// Returns `line` itself when there is nothing to remove.
std::string_view CleanPytestV2Line(std::string_view line, std::string& buf) {
  bool dirty = false;
  for (std::size_t i = 0; i < line.size() && !dirty; ++i) {
    dirty = IsControl(line[i]) || ColourCodeEnd(line, i) != kNpos;
  }
  if (!dirty) return line;
  buf.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    const std::size_t end = ColourCodeEnd(line, i);
    if (end != kNpos) {
      i = end;
      continue;
    }
    // Deleting a control character here equals a second pass: it can
    // neither create nor break a "[<digits>m" match of the first pass,
    // which looks only at the original text.
    if (!IsControl(line[i])) buf.push_back(line[i]);
    ++i;
  }
  return buf;
}

StatusMap ParsePytestV2(std::string_view log, GradingRules rules) {
  MapBuilder out(log);
  std::vector<std::string_view> tokens;
  std::string clean_buf;
  std::string dash_buf;
  const bool v5 = rules == GradingRules::kV5;
  ForEachLine(log, [&](std::string_view raw) {
    std::string_view line = CleanPytestV2Line(raw, clean_buf);
    const std::size_t status = StartingStatus(line);
    if (status != kNoStatus) {
      if (status == kFailed) {
        if (v5) {
          // v5: `line.split(" - ", 1)[0]` keeps the message out of the id.
          line = line.substr(0, line.find(" - "));
        } else if (Contains(line, " - ")) {
          dash_buf = PyReplace(line, " - ", " ");
          line = dash_buf;
        }
      }
      PySplit(line, tokens, v5 ? kNpos : 2);
      if (tokens.size() < 2) return;
      if (v5) {
        out.Add(Join(tokens, 1, tokens.size()), tokens[0]);
      } else {
        out.Add(tokens[1], tokens[0]);
      }
    } else if (EndsWithStatus(line)) {
      // Older pytest prints "name STATUS".
      PySplit(line, tokens, v5 ? kNpos : 2);
      if (tokens.size() < 2) return;
      if (v5) {
        out.Add(Join(tokens, 0, tokens.size() - 1), tokens.back());
      } else {
        out.Add(tokens[0], tokens[1]);
      }
    }
  });
  return out.Build();
}

// ---------------------------------------------------------------------------
// SWE-bench: django.

// The three multi-line patterns, matched with re.MULTILINE over the whole log:
//   ^(.*?)\s\.\.\.\s<tail>
// `(.*?)` stays on one line; each `\s` is one whitespace character and may be
// a newline. A tail gets the position after the second `\s` and returns the
// end of the match (just after "\nok", where `$` needs a '\n' or the end of
// the log), or npos.
class DjangoTails {
 public:
  explicit DjangoTails(std::string_view log) : log_(log) {}

  // System check identified no issues \(0 silenced\)\nok$
  std::size_t SystemCheck(std::size_t p) const {
    constexpr std::string_view kLead = "System check identified no issues (0 silenced)\n";
    if (log_.substr(p, kLead.size()) != kLead) return kNpos;
    return OkAt(p + kLead.size());
  }

  // Internal\ Server\ Error:\ \/(.*)\/\nok$   ((.*) cannot cross a newline,
  // so the line must end with a second '/').
  std::size_t InternalServerError(std::size_t p) const {
    constexpr std::string_view kLead = "Internal Server Error: /";
    if (log_.substr(p, kLead.size()) != kLead) return kNpos;
    const std::size_t t = p + kLead.size();
    const std::size_t nl = log_.find('\n', t);
    if (nl == kNpos || nl == t || log_[nl - 1] != '/') return kNpos;
    return OkAt(nl + 1);
  }

  // Testing\ against\ Django\ installed\ in\ ((?s:.*?))\ silenced\)\.\nok$
  // The lazy DOTALL group ends at the first " silenced).\nok" that `$`
  // accepts. The last search is cached so that the scan stays linear
  // (callers ask with non-decreasing positions).
  std::size_t TestingAgainst(std::size_t p) {
    constexpr std::string_view kLead = "Testing against Django installed in ";
    constexpr std::string_view kEnd = " silenced).\nok";
    if (log_.substr(p, kLead.size()) != kLead) return kNpos;
    const std::size_t t = p + kLead.size();
    if (searched_from_ == kNpos || t < searched_from_ || (hit_ != kNpos && hit_ < t)) {
      searched_from_ = t;
      hit_ = kNpos;
      for (std::size_t k = log_.find(kEnd, t); k != kNpos; k = log_.find(kEnd, k + 1)) {
        const std::size_t after = k + kEnd.size();
        if (after == log_.size() || log_[after] == '\n') {
          hit_ = k;
          break;
        }
      }
    }
    return hit_ == kNpos ? kNpos : hit_ + kEnd.size();
  }

 private:
  // "ok" at `p`, then `$`.
  std::size_t OkAt(std::size_t p) const {
    if (log_.substr(p, 2) != "ok") return kNpos;
    const std::size_t end = p + 2;
    return end == log_.size() || log_[end] == '\n' ? end : kNpos;
  }

  std::string_view log_;
  std::size_t searched_from_ = kNpos;
  std::size_t hit_ = kNpos;
};

// `re.finditer(pattern, log, re.MULTILINE)` for ^(.*?)\s\.\.\.\s<tail>:
// group 1 of each match is PASSED.
template <typename Tail>
void DjangoMultiline(std::string_view log, Tail&& tail, MapBuilder& out) {
  const std::size_t n = log.size();
  std::size_t line_start = 0;
  while (line_start < n) {
    std::size_t line_end = log.find('\n', line_start);
    if (line_end == kNpos) line_end = n;
    // The group ends at e (shortest first) with a whitespace character at e
    // and "..." right after it; e may be the line's '\n'. So "..." starts in
    // [line_start + 1, line_end + 1]: visit those occurrences in order.
    const std::string_view window = log.substr(0, std::min(n, line_end + 4));
    std::size_t match_end = kNpos;
    std::size_t group_end = 0;
    for (std::size_t d = window.find("...", line_start + 1); d != kNpos && d <= line_end + 1;
         d = window.find("...", d + 1)) {
      const std::size_t w1 = PySpaceLenAtEnd(log.substr(0, d));
      if (w1 == 0 || d - w1 < line_start) continue;
      const std::size_t p = d + 3;
      if (p >= n) continue;
      const std::size_t w2 = PySpaceLen(log, p);
      if (w2 == 0) continue;
      const std::size_t end = tail(p + w2);
      if (end == kNpos) continue;
      match_end = end;
      group_end = d - w1;
      break;
    }
    if (match_end == kNpos) {
      line_start = line_end + 1;
      continue;
    }
    out.Add(log.substr(line_start, group_end - line_start), kPassedValue);
    // The search resumes at the match end (a '\n' or the end of the log), so
    // the next `^` is the line after it: the "ok" line never starts a match.
    line_start = match_end + 1;
  }
}

StatusMap ParseDjango(std::string_view log, GradingRules /*rules*/) {
  MapBuilder out(log);
  std::vector<std::string_view> tokens;
  std::string_view prev_test;
  bool has_prev = false;
  constexpr std::string_view kVersionCase = "--version is equivalent to version";
  constexpr std::string_view kSitesCase =
      "Applying sites.0002_alter_domain_unique...test_no_migrations";
  constexpr std::array<std::string_view, 3> kPassSuffixes = {" ... ok", " ... OK", " ...  OK"};
  ForEachLine(log, [&](std::string_view raw) {
    std::string_view line = PyStrip(raw);
    if (Contains(line, kVersionCase)) out.Add(kVersionCase, kPassedValue);
    // Remembered for a result printed on a later line ("ok" alone).
    const std::size_t dots = line.find(" ... ");
    if (dots != kNpos) {
      prev_test = line.substr(0, dots);
      has_prev = true;
    }
    for (std::string_view suffix : kPassSuffixes) {
      if (!line.ends_with(suffix)) continue;
      // The harness's fix for django__django-7188: the migration line and
      // the test's result share one line.
      if (line.starts_with(kSitesCase)) line = PyStrip(line.substr(line.find("...") + 3));
      // `line.rsplit(suffix, 1)[0]`: before the last occurrence.
      out.Add(line.substr(0, line.rfind(suffix)), kPassedValue);
      break;
    }
    if (const std::size_t at = line.find(" ... skipped"); at != kNpos) {
      out.Add(line.substr(0, at), kSkippedValue);
    }
    // `split(" ... FAIL")[0]`: before the first occurrence.
    if (line.ends_with(" ... FAIL")) out.Add(line.substr(0, line.find(" ... FAIL")), kFailedValue);
    if (line.starts_with("FAIL:")) {
      PySplit(line, tokens, 2);
      if (tokens.size() >= 2) out.Add(tokens[1], kFailedValue);
    }
    if (line.ends_with(" ... ERROR")) out.Add(line.substr(0, line.find(" ... ERROR")), kErrorValue);
    if (line.starts_with("ERROR:")) {
      PySplit(line, tokens, 2);
      if (tokens.size() >= 2) out.Add(tokens[1], kErrorValue);
    }
    // Any line starting with "ok" (even "okay") passes the remembered test.
    if (line.starts_with("ok") && has_prev) out.Add(prev_test, kPassedValue);
  });

  DjangoTails tails(log);
  DjangoMultiline(
      log, [&](std::size_t p) { return tails.TestingAgainst(p); }, out);
  DjangoMultiline(
      log, [&](std::size_t p) { return tails.InternalServerError(p); }, out);
  DjangoMultiline(
      log, [&](std::size_t p) { return tails.SystemCheck(p); }, out);
  return out.Build();
}

// ---------------------------------------------------------------------------
// SWE-bench: seaborn, sympy.

// Classic raises IndexError on a line too short for `split()[1]` where v5
// skips it first; skipping is the only non-failing reading, so both rules
// behave alike here.
StatusMap ParseSeaborn(std::string_view log, GradingRules /*rules*/) {
  MapBuilder out(log);
  std::vector<std::string_view> parts;
  ForEachLine(log, [&](std::string_view line) {
    if (line.starts_with("FAILED")) {
      PySplit(line, parts, 2);
      if (parts.size() >= 2) out.Add(parts[1], kFailedValue);
    } else if (Contains(line, " PASSED ")) {
      PySplit(line, parts, 2);
      if (parts.size() >= 2 && parts[1] == "PASSED") out.Add(parts[0], kPassedValue);
    } else if (line.starts_with("PASSED")) {
      PySplit(line, parts, 2);
      if (parts.size() >= 2) out.Add(parts[1], kPassedValue);
    }
  });
  return out.Build();
}

// One line's contribution to `re.findall(r"(_*) (.*)\.py:(.*) (_*)", log)`.
// The pattern cannot cross a newline. The first match starts at the
// underscores before the line's first space; (.*) greedy makes group 2 end
// at the last ".py:" that still has a space after it, and group 3 end at the
// line's last space. That match consumes the last space, so a line holds at
// most one match.
void SympyFailureHeader(std::string_view line, MapBuilder& out) {
  const std::size_t first_space = line.find(' ');
  if (first_space == kNpos) return;
  const std::size_t last_space = line.rfind(' ');
  if (last_space < first_space + 5) return;  // no room for ".py:" between them
  const std::size_t k = line.rfind(".py:", last_space - 4);
  if (k == kNpos || k < first_space + 1) return;
  std::string key(line.substr(first_space + 1, k - first_space - 1));
  key.append(".py:");
  key.append(line.substr(k + 4, last_space - k - 4));
  out.Add(std::move(key), kFailedValue);
}

StatusMap ParseSympy(std::string_view log, GradingRules /*rules*/) {
  MapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    if (Contains(line, ".py:")) SympyFailureHeader(line, out);
  });
  std::vector<std::string_view> tokens;
  ForEachLine(log, [&](std::string_view raw) {
    const std::string_view line = PyStrip(raw);
    if (!line.starts_with("test_")) return;
    std::string_view status;
    if (line.ends_with(" E")) {
      status = kErrorValue;
    } else if (line.ends_with(" F")) {
      status = kFailedValue;
    } else if (line.ends_with(" ok")) {
      status = kPassedValue;
    } else {
      return;
    }
    PySplit(line, tokens, 1);
    out.Add(tokens[0], status);
  });
  return out.Build();
}

// ---------------------------------------------------------------------------
// SWE-smith: default Python profile, Go profile; SWE-bench: cargo.

// Per line, for each status: `re.match(rf"^(\S+)(\s+){status}", line)`.
// (\S+) can only be the whole first token (the line must not start with
// whitespace) and the status must start the second token.
StatusMap ParseSweSmithPytest(std::string_view log, GradingRules /*rules*/) {
  MapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    if (line.empty() || PySpaceLen(line, 0) != 0) return;
    std::size_t i = 0;
    std::size_t w = 0;
    while (i < line.size() && (w = PySpaceLen(line, i)) == 0) ++i;
    if (i == line.size()) return;
    const std::string_view name = line.substr(0, i);
    while (i < line.size() && (w = PySpaceLen(line, i)) != 0) i += w;
    const std::string_view rest = line.substr(i);
    for (std::string_view status : kStatuses) {
      if (rest.starts_with(status)) out.Add(name, status);
    }
  });
  return out.Build();
}

// The first Python whitespace at or after `from`, or npos.
std::size_t FindPySpace(std::string_view s, std::size_t from) {
  for (std::size_t i = from; i < s.size(); ++i) {
    if (PySpaceLen(s, i) != 0) return i;
  }
  return kNpos;
}

// `re.match(r"FAIL:?\s?(.+?)\s", line)` on a stripped line, giving group 1.
// The optional parts are tried taken-first, as the regex backtracks.
bool MatchGoFailPackage(std::string_view line, std::string_view& group) {
  if (!line.starts_with("FAIL")) return false;
  std::array<std::size_t, 4> starts{};
  std::size_t count = 0;
  auto add = [&](std::size_t pos) {  // after `:?`: `\s?` taken, then not
    if (pos < line.size()) {
      const std::size_t w = PySpaceLen(line, pos);
      if (w != 0) starts[count++] = pos + w;
    }
    starts[count++] = pos;
  };
  if (line.size() > 4 && line[4] == ':') add(5);
  add(4);
  for (std::size_t c = 0; c < count; ++c) {
    const std::size_t q = starts[c];
    if (q >= line.size()) continue;  // (.+?) needs a character
    const std::size_t ws = FindPySpace(line, q + 1);
    if (ws == kNpos) continue;
    group = line.substr(q, ws - q);
    return true;
  }
  return false;
}

// `prefix` then (\S+).
bool MatchGoPrefixed(std::string_view line, std::string_view prefix, std::string_view& group) {
  if (!line.starts_with(prefix)) return false;
  std::size_t i = prefix.size();
  while (i < line.size() && PySpaceLen(line, i) == 0) ++i;
  if (i == prefix.size()) return false;
  group = line.substr(prefix.size(), i - prefix.size());
  return true;
}

StatusMap ParseGoTest(std::string_view log, GradingRules /*rules*/) {
  MapBuilder out(log);
  ForEachLine(log, [&](std::string_view raw) {
    const std::string_view line = PyStrip(raw);
    std::string_view name;
    // SWE-smith's patterns in its order; a later match overwrites.
    if (MatchGoPrefixed(line, "--- PASS: ", name)) out.Add(name, kPassedValue);
    if (MatchGoPrefixed(line, "--- FAIL: ", name)) out.Add(name, kFailedValue);
    if (MatchGoFailPackage(line, name)) out.Add(name, kFailedValue);
    if (MatchGoPrefixed(line, "--- SKIP: ", name)) out.Add(name, kSkippedValue);
  });
  return out.Build();
}

// `re.match(r"^test\s+(\S+)\s+\.\.\.\s+(\w+)$", line.strip())`, i.e. exactly
// the tokens "test", name, "...", outcome. SWE-bench records only "ok" and
// "FAILED"; "ignored" and the rest stay out of the map (so they grade as
// failed, not as skipped).
StatusMap ParseCargo(std::string_view log, GradingRules /*rules*/) {
  MapBuilder out(log);
  std::vector<std::string_view> tokens;
  ForEachLine(log, [&](std::string_view raw) {
    const std::string_view line = PyStrip(raw);
    if (!line.starts_with("test")) return;
    PySplit(line, tokens, 5);
    if (tokens.size() != 4 || tokens[0] != "test" || tokens[2] != "...") return;
    if (tokens[3] == "ok") {
      out.Add(tokens[1], kPassedValue);
    } else if (tokens[3] == "FAILED") {
      out.Add(tokens[1], kFailedValue);
    }
  });
  return out.Build();
}

// ---------------------------------------------------------------------------
// Registry.

using ParserFn = StatusMap (*)(std::string_view, GradingRules);

struct ParserEntry {
  std::string_view name;
  ParserFn fn;
};

// The harness's own names, then its per-repository aliases (a v5 row may
// name either).
constexpr std::array<ParserEntry, 28> kParsers = {{
    {"parse_log_pytest", &ParsePytest},
    {"parse_log_pytest_options", &ParsePytestOptions},
    {"parse_log_pytest_v2", &ParsePytestV2},
    {"parse_log_django", &ParseDjango},
    {"parse_log_seaborn", &ParseSeaborn},
    {"parse_log_sympy", &ParseSympy},
    {"parse_log_matplotlib", &ParseMatplotlib},
    {"parse_log_swesmith_pytest", &ParseSweSmithPytest},
    {"parse_log_gotest", &ParseGoTest},
    {"parse_log_cargo", &ParseCargo},
    {"parse_log_swesmith_mypy", &internal::ParseSweSmithMypy},
    {"parse_log_swesmith_tornado", &internal::ParseSweSmithTornado},
    {"parse_log_swesmith_paramiko", &internal::ParseSweSmithParamiko},
    {"parse_log_swesmith_autograd", &internal::ParseSweSmithAutograd},
    {"parse_log_swesmith_slugify", &internal::ParseSweSmithSlugify},
    {"parse_log_astroid", &ParsePytest},
    {"parse_log_flask", &ParsePytest},
    {"parse_log_marshmallow", &ParsePytest},
    {"parse_log_pvlib", &ParsePytest},
    {"parse_log_pyvista", &ParsePytest},
    {"parse_log_sqlfluff", &ParsePytest},
    {"parse_log_xarray", &ParsePytest},
    {"parse_log_pydicom", &ParsePytestOptions},
    {"parse_log_requests", &ParsePytestOptions},
    {"parse_log_pylint", &ParsePytestOptions},
    {"parse_log_astropy", &ParsePytestV2},
    {"parse_log_scikit", &ParsePytestV2},
    {"parse_log_sphinx", &ParsePytestV2},
}};

struct RepoEntry {
  std::string_view repo;
  std::string_view parser;
};

// SWE-bench's MAP_REPO_TO_PARSER_PY.
constexpr std::array<RepoEntry, 18> kRepoParsers = {{
    {"astropy/astropy", "parse_log_pytest_v2"},
    {"django/django", "parse_log_django"},
    {"marshmallow-code/marshmallow", "parse_log_pytest"},
    {"matplotlib/matplotlib", "parse_log_matplotlib"},
    {"mwaskom/seaborn", "parse_log_seaborn"},
    {"pallets/flask", "parse_log_pytest"},
    {"psf/requests", "parse_log_pytest_options"},
    {"pvlib/pvlib-python", "parse_log_pytest"},
    {"pydata/xarray", "parse_log_pytest"},
    {"pydicom/pydicom", "parse_log_pytest_options"},
    {"pylint-dev/astroid", "parse_log_pytest"},
    {"pylint-dev/pylint", "parse_log_pytest_options"},
    {"pytest-dev/pytest", "parse_log_pytest"},
    {"pyvista/pyvista", "parse_log_pytest"},
    {"scikit-learn/scikit-learn", "parse_log_pytest_v2"},
    {"sqlfluff/sqlfluff", "parse_log_pytest"},
    {"sphinx-doc/sphinx", "parse_log_pytest_v2"},
    {"sympy/sympy", "parse_log_sympy"},
}};

}  // namespace

Result<GradingRules> ParseGradingRules(std::string_view name) {
  if (name == "classic") return GradingRules::kClassic;
  if (name == "v5") return GradingRules::kV5;
  return Status::InvalidArgument("unknown grading rules \"" + std::string(name) +
                                 "\" (expected \"classic\" or \"v5\")");
}

Result<std::optional<GradingRules>> ParseGradingRulesSetting(std::string_view name) {
  if (name == "auto") return std::optional<GradingRules>();
  auto rules = ParseGradingRules(name);
  if (!rules.ok()) {
    return Status::InvalidArgument("unknown grading rules \"" + std::string(name) +
                                   "\" (expected \"auto\", \"classic\" or \"v5\")");
  }
  return std::optional<GradingRules>(*rules);
}

Result<StatusMap> ParseLog(std::string_view parser_name, std::string_view log, GradingRules rules) {
  for (const ParserEntry& entry : kParsers) {
    if (entry.name == parser_name) return entry.fn(log, rules);
  }
  std::string known;
  for (const std::string& name : LogParserNames()) {
    if (!known.empty()) known += ", ";
    known += name;
  }
  return Status::NotFound("unknown log parser \"" + std::string(parser_name) +
                          "\"; known parsers: " + known);
}

std::vector<std::string> LogParserNames() {
  std::vector<std::string> names;
  names.reserve(kParsers.size());
  for (const ParserEntry& entry : kParsers) names.emplace_back(entry.name);
  return names;
}

std::string SweBenchParserForRepo(std::string_view repo) {
  for (const RepoEntry& entry : kRepoParsers) {
    if (entry.repo == repo) return std::string(entry.parser);
  }
  return "parse_log_pytest";
}

}  // namespace r2e
