// SWE-smith's per-repository parsers, restated from the profiles' Python
// (swesmith/harness/log_parsers.py at SWE-bench/SWE-smith@cf2e649, the same
// functions as the log_parser methods of swesmith/profiles/python.py).
// Python semantics as in swebench_parsers.cc: lines are `log.split("\n")`,
// `\s`/`\S` and `str.split()` use Python's whitespace, a later line
// overwrites an earlier one. One liberty: `\d` is an ASCII digit (Python's
// also takes other scripts' digits, which a pytest-xdist worker id never
// has).
#include "grading/swesmith_parsers.h"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "grading/py_text.h"

namespace r2e::internal {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// TestStatus in its enum order.
constexpr std::array<std::string_view, 5> kStatuses = {"FAILED", "PASSED", "SKIPPED", "ERROR",
                                                       "XFAIL"};

// `\S+` at s[i]: the length of the run of non-whitespace characters.
std::size_t NonSpaceRun(std::string_view s, std::size_t i) {
  const std::size_t start = i;
  while (i < s.size() && PySpaceLen(s, i) == 0) ++i;
  return i - start;
}

// `re.match(rf"^{status}\s(\S+)", rest)`: the captured name, or empty.
std::string_view StatusThenName(std::string_view rest, std::string_view status) {
  if (!rest.starts_with(status)) return {};
  std::size_t i = status.size();
  if (i >= rest.size()) return {};
  const std::size_t w = PySpaceLen(rest, i);
  if (w == 0) return {};
  i += w;
  return rest.substr(i, NonSpaceRun(rest, i));
}

// Slugify's name class [a-zA-Z0-9_\-,\.\s\(\)'], one character at s[i]:
// its byte length, or 0 when it is outside the class.
std::size_t SlugifyNameChar(std::string_view s, std::size_t i) {
  const char c = s[i];
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
  switch (c) {
    case '_':
    case '-':
    case ',':
    case '.':
    case '(':
    case ')':
    case '\'':
      return 1;
    default:
      return PySpaceLen(s, i);
  }
}

// `re.match(rf"^(NAME+)\s\.{{3}}\s{keyword}$", line)`: the tail after the
// name is fixed, so the only split is the one found from the end.
bool SlugifyMatch(std::string_view line, std::string_view keyword, std::string_view& name) {
  if (!line.ends_with(keyword)) return false;
  std::string_view head = line.substr(0, line.size() - keyword.size());
  std::size_t w = PySpaceLenAtEnd(head);
  if (w == 0) return false;
  head.remove_suffix(w);
  if (!head.ends_with("...")) return false;
  head.remove_suffix(3);
  w = PySpaceLenAtEnd(head);
  if (w == 0) return false;
  head.remove_suffix(w);
  if (head.empty()) return false;
  for (std::size_t i = 0; i < head.size();) {
    const std::size_t len = SlugifyNameChar(head, i);
    if (len == 0) return false;
    i += len;
  }
  name = head;
  return true;
}

}  // namespace

StatusMap ParseSweSmithMypy(std::string_view log, GradingRules /*rules*/) {
  StatusMap out;
  std::vector<std::string_view> tokens;
  ForEachLine(log, [&](std::string_view line) {
    for (std::string_view status : {std::string_view("PASSED"), std::string_view("FAILED")}) {
      if (line.find(status) == kNpos) continue;
      PySplit(line, tokens);
      // The line holds the status, so it has at least one token.
      out[std::string(tokens.back())] = std::string(status);
      break;
    }
  });
  return out;
}

StatusMap ParseSweSmithTornado(std::string_view log, GradingRules /*rules*/) {
  StatusMap out;
  std::vector<std::string_view> tokens;
  ForEachLine(log, [&](std::string_view line) {
    if (line.ends_with("... ok")) {
      out[std::string(line.substr(0, line.find(" ... ")))] = "PASSED";
    } else if (line.find(" ... skipped ") != kNpos) {
      out[std::string(line.substr(0, line.find(" ... ")))] = "SKIPPED";
    } else if (line.starts_with("ERROR:") || line.starts_with("FAIL:")) {
      PySplit(line, tokens, 3);
      // " ".join(line.split()[1:3]): fewer tokens give a shorter key.
      std::string key;
      for (std::size_t i = 1; i < tokens.size(); ++i) {
        if (i > 1) key += ' ';
        key.append(tokens[i]);
      }
      out[std::move(key)] = "FAILED";
    }
  });
  return out;
}

StatusMap ParseSweSmithParamiko(std::string_view log, GradingRules /*rules*/) {
  StatusMap out;
  ForEachLine(log, [&](std::string_view line) {
    for (std::string_view status : kStatuses) {
      const std::string_view name = StatusThenName(line, status);
      if (!name.empty()) out[std::string(name)] = std::string(status);
    }
  });
  return out;
}

StatusMap ParseSweSmithAutograd(std::string_view log, GradingRules /*rules*/) {
  StatusMap out;
  ForEachLine(log, [&](std::string_view line) {
    // ^\[gw\d\]\s : exactly one digit.
    if (line.size() < 6 || !line.starts_with("[gw") || line[3] < '0' || line[3] > '9' ||
        line[4] != ']') {
      return;
    }
    const std::size_t w = PySpaceLen(line, 5);
    if (w == 0) return;
    const std::string_view rest = line.substr(5 + w);
    for (std::string_view status : kStatuses) {
      const std::string_view name = StatusThenName(rest, status);
      if (!name.empty()) out[std::string(name)] = std::string(status);
    }
  });
  return out;
}

StatusMap ParseSweSmithSlugify(std::string_view log, GradingRules /*rules*/) {
  StatusMap out;
  ForEachLine(log, [&](std::string_view line) {
    std::string_view name;
    if (SlugifyMatch(line, "ok", name)) {
      out[std::string(name)] = "PASSED";
      return;
    }
    if (SlugifyMatch(line, "FAIL", name)) out[std::string(name)] = "FAILED";
    if (SlugifyMatch(line, "ERROR", name)) out[std::string(name)] = "ERROR";
  });
  return out;
}

}  // namespace r2e::internal
