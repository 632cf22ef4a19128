// SWE-smith's log parsers, restated from its Python: the default Python
// parser and the Go profile's (swesmith/profiles/python.py and golang.py),
// and the per-repository parsers (swesmith/harness/log_parsers.py at
// SWE-bench/SWE-smith@cf2e649, the same functions as the log_parser methods
// of swesmith/profiles/python.py). Python semantics as grading/parsers.h
// says. One liberty: `\d` is an ASCII digit (Python's also takes other
// scripts' digits, which a pytest-xdist worker id never has).
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/py_text.h"
#include "grading/parsers.h"
#include "grading/status_map_builder.h"
#include "grading/test_status.h"

namespace r2e::internal {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

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

// StatusThenName for each status in turn: a later match overwrites.
void AddStatusThenName(std::string_view rest, StatusMap& out) {
  for (std::string_view status : kTestStatuses) {
    const std::string_view name = StatusThenName(rest, status);
    if (!name.empty()) out[std::string(name)] = std::string(status);
  }
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
    const std::size_t ws = q + 1 + NonSpaceRun(line, q + 1);
    if (ws == line.size()) continue;  // `\s` needs a character
    group = line.substr(q, ws - q);
    return true;
  }
  return false;
}

// `prefix` then (\S+).
bool MatchGoPrefixed(std::string_view line, std::string_view prefix, std::string_view& group) {
  if (!line.starts_with(prefix)) return false;
  const std::size_t n = NonSpaceRun(line, prefix.size());
  if (n == 0) return false;
  group = line.substr(prefix.size(), n);
  return true;
}

}  // namespace

// Per line, for each status: `re.match(rf"^(\S+)(\s+){status}", line)`.
// (\S+) can only be the whole first token (the line must not start with
// whitespace) and the status must start the second token.
StatusMap ParseSweSmithPytest(std::string_view log, GradingRules /*rules*/) {
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    if (line.empty() || PySpaceLen(line, 0) != 0) return;
    std::size_t i = NonSpaceRun(line, 0);
    if (i == line.size()) return;
    const std::string_view name = line.substr(0, i);
    std::size_t w = 0;
    while (i < line.size() && (w = PySpaceLen(line, i)) != 0) i += w;
    const std::string_view rest = line.substr(i);
    for (std::string_view status : kTestStatuses) {
      if (rest.starts_with(status)) out.Add(name, status);
    }
  });
  return out.Build();
}

StatusMap ParseGoTest(std::string_view log, GradingRules /*rules*/) {
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view raw) {
    const std::string_view line = PyStrip(raw);
    std::string_view name;
    // SWE-smith's patterns in its order; a later match overwrites.
    if (MatchGoPrefixed(line, "--- PASS: ", name)) out.Add(name, kPassed);
    if (MatchGoPrefixed(line, "--- FAIL: ", name)) out.Add(name, kFailed);
    if (MatchGoFailPackage(line, name)) out.Add(name, kFailed);
    if (MatchGoPrefixed(line, "--- SKIP: ", name)) out.Add(name, kSkipped);
  });
  return out.Build();
}

StatusMap ParseSweSmithMypy(std::string_view log, GradingRules /*rules*/) {
  StatusMap out;
  std::vector<std::string_view> tokens;
  ForEachLine(log, [&](std::string_view line) {
    for (std::string_view status : {kPassed, kFailed}) {
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
      out[std::string(line.substr(0, line.find(" ... ")))] = kPassed;
    } else if (line.find(" ... skipped ") != kNpos) {
      out[std::string(line.substr(0, line.find(" ... ")))] = kSkipped;
    } else if (line.starts_with("ERROR:") || line.starts_with("FAIL:")) {
      PySplit(line, tokens, 3);
      // " ".join(line.split()[1:3]): fewer tokens give a shorter key.
      std::string key;
      for (std::size_t i = 1; i < tokens.size(); ++i) {
        if (i > 1) key += ' ';
        key.append(tokens[i]);
      }
      out[std::move(key)] = kFailed;
    }
  });
  return out;
}

StatusMap ParseSweSmithParamiko(std::string_view log, GradingRules /*rules*/) {
  StatusMap out;
  ForEachLine(log, [&](std::string_view line) { AddStatusThenName(line, out); });
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
    AddStatusThenName(line.substr(5 + w), out);
  });
  return out;
}

StatusMap ParseSweSmithSlugify(std::string_view log, GradingRules /*rules*/) {
  StatusMap out;
  ForEachLine(log, [&](std::string_view line) {
    std::string_view name;
    if (SlugifyMatch(line, "ok", name)) {
      out[std::string(name)] = kPassed;
      return;
    }
    if (SlugifyMatch(line, "FAIL", name)) out[std::string(name)] = kFailed;
    if (SlugifyMatch(line, "ERROR", name)) out[std::string(name)] = kError;
  });
  return out;
}

}  // namespace r2e::internal
