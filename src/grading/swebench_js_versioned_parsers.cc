// SWE-bench's repository-specific JavaScript parsers that pick a sub-parser
// by spec.version: parse_log_next (next_v1/next_v2) and parse_log_lighthouse
// (lighthouse_mocha, lighthouse_jest = carbon, or mocha's JSON reporter), as
// swebench/harness/log_parsers/javascript.py at v5.0.1 has them (v4.1.0 has
// neither, so spec.rules does not matter). The other parsers v5.0.1 added
// are in swebench_js_repo_parsers.cc. Python semantics as grading/parsers.h
// says.
#include <charconv>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "core/py_text.h"
#include "grading/parsers.h"
#include "grading/py_regex.h"
#include "grading/status_map_builder.h"
#include "grading/swebench_internal.h"
#include "grading/test_status.h"

namespace r2e::internal {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// The (name, indent) suite stack that next_v1 and lighthouse_mocha keep:
// an indented line that is not a test pops every suite indented at least as
// deep, then becomes the innermost suite.
class SuiteStack {
 public:
  void Push(std::string_view name, std::size_t indent) {
    while (!items_.empty() && items_.back().second >= indent) items_.pop_back();
    items_.emplace_back(name, indent);
  }

  // `" - ".join([x[0] for x in suite] + [test])`.
  std::string Join(std::string_view test) const {
    std::string out;
    for (const auto& item : items_) {
      out.append(item.first);
      out.append(" - ");
    }
    out.append(test);
    return out;
  }

 private:
  std::vector<std::pair<std::string_view, std::size_t>> items_;
};

// The pieces of `text.split(sep)` after the first.
template <typename F>
void ForEachPieceAfterFirst(std::string_view text, std::string_view sep, F&& f) {
  std::size_t hit = text.find(sep);
  while (hit != kNpos) {
    const std::size_t begin = hit + sep.size();
    hit = text.find(sep, begin);
    f(text.substr(begin, hit == kNpos ? kNpos : hit - begin));
  }
}

// The pieces of `re.split(re, text)[1:]`, or of `re.split(...)[(i + 1) *
// (groups + 1)]` for each match: the text after each match up to the next.
template <typename F>
void ForEachTextAfterMatch(const PyRegex& re, std::string_view text, F&& f) {
  const std::vector<PyMatch> matches = re.FindIter(text);
  for (std::size_t i = 0; i < matches.size(); ++i) {
    const std::size_t begin = matches[i].end();
    const std::size_t end = i + 1 < matches.size() ? matches[i + 1].start() : text.size();
    f(matches[i], text.substr(begin, end - begin));
  }
}

// ---------------------------------------------------------------------------
// next_v1 (karma): the log without colour codes and "AssertionError: #..."
// blocks; in each part after " xvfb-run ", after its last "Starting browser
// Chrome" and up to "TOTAL": a line holding "✗" fails and one holding "✓"
// passes (the rest of the line after the mark is the test), other indented
// lines are suites. Lines whose stripped text starts with ERROR, LOG, WARN,
// Check or "in" are skipped. The suite stack carries over between parts.

// `re.sub(r"AssertionError:\s+#([\s\S]*?)\n\n", "", text, flags=re.DOTALL)`
// into `out`; false (and `out` untouched) when nothing matches. The lazy
// group ends at the first "\n\n"; found by hand, as the regex would rescan
// to the end from every later start when there is none.
bool RemoveAssertionBlocks(std::string_view text, std::string& out) {
  static const PyRegex kStart(R"(AssertionError:\s+#)", kReDotAll);
  std::size_t kept = 0, pos = 0;
  while (pos <= text.size()) {
    const auto m = kStart.Search(text, pos);
    if (!m) break;
    const std::size_t blank = text.find("\n\n", m->end());
    if (blank == kNpos) break;
    out.append(text.substr(kept, m->start() - kept));
    kept = pos = blank + 2;
  }
  if (kept == 0) return false;
  out.append(text.substr(kept));
  return true;
}

StatusMap ParseNextV1(std::string_view log) {
  static const PyRegex kAnsi(R"(\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~]))");
  // Copies only what the two substitutions change.
  std::string without_ansi, without_blocks;
  std::string_view text = log;
  if (kAnsi.Search(text)) text = without_ansi = kAnsi.Sub("", text);
  if (RemoveAssertionBlocks(text, without_blocks)) text = without_blocks;
  StatusMapBuilder out(text);
  SuiteStack suite;
  ForEachPieceAfterFirst(text, " xvfb-run ", [&](std::string_view part) {
    static constexpr std::string_view kBrowser = "Starting browser Chrome";
    if (const std::size_t at = part.rfind(kBrowser); at != kNpos) {
      part.remove_prefix(at + kBrowser.size());
    }
    ForEachLineWhile(part, [&](std::string_view line) {
      if (line.starts_with("TOTAL")) return false;
      const std::string_view stripped = PyStrip(line);
      for (std::string_view skip : {"ERROR", "LOG", "WARN", "Check", "in"}) {
        if (stripped.starts_with(skip)) return true;
      }
      // `.*?✗\s*(.*)`: the first mark, then the rest without leading spaces.
      for (const auto& [mark, status] :
           {std::pair{std::string_view("✗"), kFailed}, std::pair{std::string_view("✓"), kPassed}}) {
        if (const std::size_t at = line.find(mark); at != kNpos) {
          out.Add(suite.Join(PyLStrip(line.substr(at + mark.size()))), status);
          return true;
        }
      }
      if (const std::size_t indent = PyIndent(line); indent > 0) suite.Push(stripped, indent);
      return true;
    });
  });
  return out.Build();
}

// next_v2 (cypress): per "Running: <spec> (i of n)" block, whose suite is
// the block's first line, "    <n>) <test>" fails and "    ✓ <test> (" passes,
// keyed "<suite>: <test>".
StatusMap ParseNextV2(std::string_view log) {
  static const PyRegex kSuite(R"(Running\:(.*)\)\n{3}\s{2}(.*)\n)");
  static const PyRegex kFailure(R"(^\s{4}\d+\)\s(.*))", kReMultiline);
  static const PyRegex kSuccess(R"(^\s{4}✓\s(.*)\()", kReMultiline);
  StatusMapBuilder out(log);
  ForEachTextAfterMatch(kSuite, log, [&](const PyMatch& m, std::string_view block) {
    const std::string prefix = std::string(m.group(2)) + ": ";
    for (std::string_view test : kFailure.FindAll(block)) {
      out.Add(prefix + std::string(PyStrip(test)), kFailed);
    }
    for (std::string_view test : kSuccess.FindAll(block)) {
      out.Add(prefix + std::string(PyStrip(test)), kPassed);
    }
  });
  return out.Build();
}

// ---------------------------------------------------------------------------
// Lighthouse.

// lighthouse_mocha: in each run after "running <n> test files", cut at
// "<n> passing" and stripped: "✔ <test>" passes and "<n>) <test>" fails (a
// " (<n>ms)" tail dropped), other indented lines are suites, keyed
// "<suite> - ... - <test>".
StatusMap ParseLighthouseMocha(std::string_view log) {
  static const PyRegex kRun(R"(running\s\d+\stest\sfiles)");
  static const PyRegex kSummary(R"(\d+\spassing)");
  static const PyRegex kPassTimed(R"(✔\s(.*)\s\(\d+m+s\))");
  static const PyRegex kPass(R"(✔\s(.*))");
  static const PyRegex kFailTimed(R"(\d+\)\s(.*)\s\(\d+m+s\))");
  static const PyRegex kFail(R"(\d+\)\s(.*))");
  static const std::pair<const PyRegex*, std::string_view> kPatterns[] = {
      {&kPassTimed, kPassed}, {&kPass, kPassed}, {&kFailTimed, kFailed}, {&kFail, kFailed}};
  StatusMapBuilder out(log);
  ForEachTextAfterMatch(kRun, log, [&](const PyMatch&, std::string_view run) {
    if (const auto m = kSummary.Search(run)) run = run.substr(0, m->start());
    SuiteStack suite;
    ForEachLine(PyStrip(run), [&](std::string_view line) {
      const std::string_view stripped = PyStrip(line);
      // A cheap filter: the patterns start with "✔" or `\d`, which is an
      // ASCII digit or a non-ASCII character.
      const bool may_match = !stripped.empty() && (Byte(stripped, 0) >= 0x80 ||
                                                   (stripped[0] >= '0' && stripped[0] <= '9'));
      for (const auto& [re, status] : kPatterns) {
        if (!may_match) break;
        if (const auto m = re->Match(stripped)) {
          out.Add(suite.Join(m->group(1)), status);
          return;
        }
      }
      if (const std::size_t indent = PyIndent(line); indent > 0) suite.Push(stripped, indent);
    });
  });
  return out.Build();
}

// The versions before 3: mocha's JSON reporter after its command, read with
// regexes (`"fullTitle": "<name>",` lines) between '"passes": [' and the
// last ']', and between '"failures": [' and the last '],'.
StatusMap ParseLighthouseMochaJson(std::string_view log) {
  static const PyRegex kFullTitle(R"(\"fullTitle\"\:\s\"(.*)\",\n)", kReMultiline);
  // `text.split(open)[-1].rsplit(close, 1)[0]`.
  auto section = [](std::string_view text, std::string_view open, std::string_view close) {
    if (const std::size_t at = text.rfind(open); at != kNpos) text.remove_prefix(at + open.size());
    if (const std::size_t at = text.rfind(close); at != kNpos) text = text.substr(0, at);
    return text;
  };
  StatusMapBuilder out(log);
  ForEachPieceAfterFirst(
      log, "./node_modules/.bin/mocha --reporter json", [&](std::string_view part) {
        for (std::string_view test : kFullTitle.FindAll(section(part, "\"passes\": [", "]"))) {
          out.Add(test, kPassed);
        }
        for (std::string_view test : kFullTitle.FindAll(section(part, "\"failures\": [", "],"))) {
          out.Add(test, kFailed);
        }
      });
  return out.Build();
}

// The UTF-8 encoding of code point `cp`.
std::string EncodeUtf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// The code point of the well-formed multi-byte UTF-8 character at s[i] and
// its length, or length 0.
std::pair<char32_t, std::size_t> DecodeUtf8(std::string_view s, std::size_t i) {
  const unsigned char lead = Byte(s, i);
  const std::size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (len == 0 || lead > 0xF4 || i + len > s.size()) return {0, 0};
  char32_t cp = lead & (0x7F >> len);
  for (std::size_t k = 1; k < len; ++k) {
    if ((Byte(s, i + k) & 0xC0) != 0x80) return {0, 0};
    cp = (cp << 6) | (Byte(s, i + k) & 0x3F);
  }
  return EncodeUtf8(cp) == s.substr(i, len) ? std::pair{cp, len}
                                            : std::pair{char32_t{0}, std::size_t{0}};
}

// Python's float() reads other scripts' decimal digits (re's `\d`) as
// ASCII ones. Unicode lays digits out in runs of whole 0-9 sets, so a
// digit's value is its distance from the start of its run, mod 10.
std::optional<char> NonAsciiDigitValue(char32_t cp) {
  static const PyRegex kDigit(R"(\d)");
  auto is_digit = [](char32_t c) { return kDigit.FullMatch(EncodeUtf8(c)).has_value(); };
  if (!is_digit(cp)) return std::nullopt;
  char32_t first = cp;
  while (first > 0x80 && is_digit(first - 1)) --first;
  return static_cast<char>('0' + (cp - first) % 10);
}

// Python's `float(text)` for the text a version holds: optional sign, then
// inf/infinity/nan (any case) or a decimal with optional exponent, with
// single underscores allowed between digits and surrounding whitespace
// ignored. nullopt where Python raises ValueError.
std::optional<double> PyFloat(std::string_view text) {
  // Python strips " \t\n\v\f\r" and the non-ASCII spaces, but not
  // \x1c-\x1f (an all-ASCII text skips the step that maps spaces to ' ').
  auto is_strippable = [](std::string_view t, std::size_t i) {
    return !(Byte(t, i) >= 0x1C && Byte(t, i) <= 0x1F);
  };
  std::string_view stripped = text;
  while (!stripped.empty()) {
    const std::size_t w = PySpaceLen(stripped, 0);
    if (w == 0 || !is_strippable(stripped, 0)) break;
    stripped.remove_prefix(w);
  }
  while (!stripped.empty()) {
    const std::size_t w = PySpaceLenAtEnd(stripped);
    if (w == 0 || !is_strippable(stripped, stripped.size() - w)) break;
    stripped.remove_suffix(w);
  }
  std::string s;  // other scripts' digits made ASCII
  for (std::size_t i = 0; i < stripped.size();) {
    if (Byte(stripped, i) < 0x80) {
      s += stripped[i++];
      continue;
    }
    const auto [cp, len] = DecodeUtf8(stripped, i);
    const std::optional<char> digit = len == 0 ? std::nullopt : NonAsciiDigitValue(cp);
    if (!digit) return std::nullopt;  // an inner space or any other character
    s += *digit;
    i += len;
  }
  std::string clean;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '_') {
      clean += s[i];
    } else if (i == 0 || !IsDigit(s[i - 1]) || i + 1 == s.size() || !IsDigit(s[i + 1])) {
      return std::nullopt;
    }
  }
  std::string_view body = clean;
  const bool negative = body.starts_with('-');
  if (negative || body.starts_with('+')) body.remove_prefix(1);
  std::string lower;
  for (char c : body) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  const double sign = negative ? -1.0 : 1.0;
  if (lower == "inf" || lower == "infinity") return sign * std::numeric_limits<double>::infinity();
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();

  // digits [. digits] | . digits, then [e [sign] digits]; `lead` is the
  // decimal exponent of the first non-zero digit, for an out-of-range value.
  std::size_t i = 0, digits = 0;
  long long lead = 0;
  bool seen_nonzero = false;
  for (; i < body.size() && IsDigit(body[i]); ++i, ++digits) {
    if (body[i] != '0') seen_nonzero = true;
    if (seen_nonzero) ++lead;
  }
  if (i < body.size() && body[i] == '.') {
    for (++i; i < body.size() && IsDigit(body[i]); ++i, ++digits) {
      if (!seen_nonzero && body[i] == '0') --lead;
      if (body[i] != '0') seen_nonzero = true;
    }
  }
  if (digits == 0) return std::nullopt;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    const bool exp_negative = i < body.size() && body[i] == '-';
    if (i < body.size() && (body[i] == '-' || body[i] == '+')) ++i;
    long long exponent = 0;
    const std::size_t exp_start = i;
    for (; i < body.size() && IsDigit(body[i]); ++i) {
      if (exponent < 1'000'000'000) exponent = exponent * 10 + (body[i] - '0');
    }
    if (i == exp_start) return std::nullopt;
    lead += exp_negative ? -exponent : exponent;
  }
  if (i != body.size()) return std::nullopt;

  double value = 0;
  const auto [end, error] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (error == std::errc::result_out_of_range) {
    // Python's strtod gives inf on overflow and 0 on underflow.
    value = seen_nonzero && lead > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  } else if (error != std::errc() || end != body.data() + body.size()) {
    return std::nullopt;
  }
  return sign * value;
}

// Python's repr() of a str, for the ValueError text: single quotes unless
// the text holds one and no double quote; backslash, the quote, control
// characters and non-ASCII spaces escaped. Other non-ASCII characters are
// kept (Python also escapes the rare unprintable ones, e.g. U+200B).
std::string PyRepr(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char quote = s.find('\'') != kNpos && s.find('"') == kNpos ? '"' : '\'';
  std::string out(1, quote);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      const auto [cp, len] = DecodeUtf8(s, i);
      if (len > 0 && ((cp >= 0x80 && cp < 0xA0) || PySpaceLen(s, i) != 0)) {
        const int digits = cp < 0x100 ? 2 : cp < 0x10000 ? 4 : 8;
        out += digits == 2 ? "\\x" : digits == 4 ? "\\u" : "\\U";
        for (int d = digits - 1; d >= 0; --d) out += kHex[(cp >> (4 * d)) & 0xF];
        i += len - 1;
        continue;
      }
    }
    if (c == '\\' || c == quote) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += quote;
  return out;
}

}  // namespace

// parse_log_next: version "1.27" is cypress output, any other karma's.
Result<StatusMap> ParseNext(std::string_view log, const LogParserSpec& spec) {
  return spec.version == "1.27" ? ParseNextV2(log) : ParseNextV1(log);
}

// parse_log_lighthouse: versions 9.5, 10.0 and 10.2 ran mocha's spec
// reporter; others whose float() is at least 3 ran jest (read as Carbon's);
// the rest (NaN included) mocha's JSON reporter. A version float() refuses
// is the harness's ValueError.
Result<StatusMap> ParseLighthouse(std::string_view log, const LogParserSpec& spec) {
  const std::string_view version = spec.version;
  if (version == "9.5" || version == "10.0" || version == "10.2") return ParseLighthouseMocha(log);
  const std::optional<double> number = PyFloat(version);
  if (!number) {
    return Status::InvalidArgument(
        "parse_log_lighthouse: ValueError: could not convert string to float: " + PyRepr(version));
  }
  if (*number >= 3) return ParseCarbon(log, spec);
  return ParseLighthouseMochaJson(log);
}

}  // namespace r2e::internal
