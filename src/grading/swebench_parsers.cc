// SWE-bench's log parsers for Python (swebench/harness/log_parsers/python.py:
// the pytest family, seaborn and sympy; django has its own file) and Rust
// (rust.py: cargo). Python semantics as grading/parsers.h says.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/py_text.h"
#include "core/text.h"
#include "grading/parsers.h"
#include "grading/status_map_builder.h"
#include "grading/swebench_internal.h"
#include "grading/test_status.h"

namespace r2e::internal {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

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

// The status the line starts with, or empty.
std::string_view StartingStatus(std::string_view line) {
  for (std::string_view status : kTestStatuses) {
    if (line.starts_with(status)) return status;
  }
  return {};
}

bool EndsWithStatus(std::string_view line) {
  for (std::string_view status : kTestStatuses) {
    if (line.ends_with(status)) return true;
  }
  return false;
}

// `re.match(r"^\[\d+\]$", name)`: a skip-count id such as "[3]" (v5).
bool IsBracketedNumber(std::string_view name) {
  if (name.size() < 3 || name.front() != '[' || name.back() != ']') return false;
  for (std::size_t i = 1; i + 1 < name.size(); ++i) {
    if (!IsDigit(name[i])) return false;
  }
  return true;
}

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
  StatusMapBuilder out(log);
  std::vector<std::string_view> tokens;
  std::string mouse_buf;
  std::string dash_buf;
  ForEachLine(log, [&](std::string_view line) {
    // The MouseButton replacement cannot change whether a line starts with a
    // status (it only rewrites text starting with 'M'), so test that first.
    const std::string_view status = StartingStatus(line);
    if (status.empty()) return;
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

}  // namespace

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

namespace {

// The end of a "[<digits>m" sequence starting at line[i], or npos.
std::size_t ColourCodeEnd(std::string_view line, std::size_t i) {
  if (line[i] != '[') return kNpos;
  std::size_t j = i + 1;
  while (j < line.size() && IsDigit(line[j])) ++j;
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

}  // namespace

StatusMap ParsePytestV2(std::string_view log, GradingRules rules) {
  StatusMapBuilder out(log);
  std::vector<std::string_view> tokens;
  std::string clean_buf;
  std::string dash_buf;
  const bool v5 = rules == GradingRules::kV5;
  ForEachLine(log, [&](std::string_view raw) {
    std::string_view line = CleanPytestV2Line(raw, clean_buf);
    const std::string_view status = StartingStatus(line);
    if (!status.empty()) {
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
// SWE-bench: seaborn, sympy; cargo.

// Classic raises IndexError on a line too short for `split()[1]` where v5
// skips it first; skipping is the only non-failing reading, so both rules
// behave alike here.
StatusMap ParseSeaborn(std::string_view log, GradingRules /*rules*/) {
  StatusMapBuilder out(log);
  std::vector<std::string_view> parts;
  ForEachLine(log, [&](std::string_view line) {
    if (line.starts_with("FAILED")) {
      PySplit(line, parts, 2);
      if (parts.size() >= 2) out.Add(parts[1], kFailed);
    } else if (Contains(line, " PASSED ")) {
      PySplit(line, parts, 2);
      if (parts.size() >= 2 && parts[1] == "PASSED") out.Add(parts[0], kPassed);
    } else if (line.starts_with("PASSED")) {
      PySplit(line, parts, 2);
      if (parts.size() >= 2) out.Add(parts[1], kPassed);
    }
  });
  return out.Build();
}

namespace {

// One line's contribution to `re.findall(r"(_*) (.*)\.py:(.*) (_*)", log)`.
// The pattern cannot cross a newline. The first match starts at the
// underscores before the line's first space; (.*) greedy makes group 2 end
// at the last ".py:" that still has a space after it, and group 3 end at the
// line's last space. That match consumes the last space, so a line holds at
// most one match.
void SympyFailureHeader(std::string_view line, StatusMapBuilder& out) {
  const std::size_t first_space = line.find(' ');
  if (first_space == kNpos) return;
  const std::size_t last_space = line.rfind(' ');
  if (last_space < first_space + 5) return;  // no room for ".py:" between them
  const std::size_t k = line.rfind(".py:", last_space - 4);
  if (k == kNpos || k < first_space + 1) return;
  std::string key(line.substr(first_space + 1, k - first_space - 1));
  key.append(".py:");
  key.append(line.substr(k + 4, last_space - k - 4));
  out.Add(std::move(key), kFailed);
}

}  // namespace

StatusMap ParseSympy(std::string_view log, GradingRules /*rules*/) {
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    if (Contains(line, ".py:")) SympyFailureHeader(line, out);
  });
  std::vector<std::string_view> tokens;
  ForEachLine(log, [&](std::string_view raw) {
    const std::string_view line = PyStrip(raw);
    if (!line.starts_with("test_")) return;
    std::string_view status;
    if (line.ends_with(" E")) {
      status = kError;
    } else if (line.ends_with(" F")) {
      status = kFailed;
    } else if (line.ends_with(" ok")) {
      status = kPassed;
    } else {
      return;
    }
    PySplit(line, tokens, 1);
    out.Add(tokens[0], status);
  });
  return out.Build();
}

// `re.match(r"^test\s+(\S+)\s+\.\.\.\s+(\w+)$", line.strip())`, i.e. exactly
// the tokens "test", name, "...", outcome. SWE-bench records only "ok" and
// "FAILED"; "ignored" and the rest stay out of the map (so they grade as
// failed, not as skipped).
StatusMap ParseCargo(std::string_view log, GradingRules /*rules*/) {
  StatusMapBuilder out(log);
  std::vector<std::string_view> tokens;
  ForEachLine(log, [&](std::string_view raw) {
    const std::string_view line = PyStrip(raw);
    if (!line.starts_with("test")) return;
    PySplit(line, tokens, 5);
    if (tokens.size() != 4 || tokens[0] != "test" || tokens[2] != "...") return;
    if (tokens[3] == "ok") {
      out.Add(tokens[1], kPassed);
    } else if (tokens[3] == "FAILED") {
      out.Add(tokens[1], kFailed);
    }
  });
  return out.Build();
}

}  // namespace r2e::internal
