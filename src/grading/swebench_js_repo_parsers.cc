// SWE-bench's repository-specific JavaScript parsers that v5.0.1 added
// (swebench/harness/log_parsers/javascript.py at v5.0.1; v4.1.0 has none of
// them, so spec.rules does not matter): highlight.js, Prism, ESLint, bpmn-js,
// OpenLayers, Grommet, Carbon and Quarto. Next and Lighthouse, which pick a
// sub-parser by spec.version, are in swebench_js_versioned_parsers.cc.
// Python semantics as grading/parsers.h says.
#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

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

// One code point's byte length in UTF-8 (1 for a stray byte).
std::size_t Utf8Len(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
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
// Prism: after each occurrence of its mocha command, the text from the first
// '{' to the last '}' is decoded as mocha's JSON report; "failures" then
// "passes" give each test's fullTitle. Where the Python raises (the JSON does
// not decode, a key is missing, a value has the wrong type) this fails with
// the same exception name.
namespace {

// The position and reason of nlohmann's first parse error.
struct JsonErrorProbe : nlohmann::json_sax<nlohmann::json> {
  std::size_t position = 0;
  std::string token;
  std::string what;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t pos, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    position = pos;
    token = last_token;
    what = ex.what();
    return false;
  }
};

// json.loads' JSONDecodeError text for a document nlohmann refused: the
// reason in Python's words for the common cases, and Python's
// "line L column C (char N)" (code points) at the offending token, which
// nlohmann reports by the count of bytes read (one past a one-byte token).
// Exact for the usual cases (a stray character where a value, a key or a
// delimiter belongs; extra data); close for the rest.
std::string JsonDecodeError(const std::string& doc) {
  JsonErrorProbe probe;
  nlohmann::json::sax_parse(doc, &probe);
  static constexpr std::pair<std::string_view, std::string_view> kReasons[] = {
      {"missing closing quote", "Unterminated string starting at"},
      {"control character", "Invalid control character at"},
      {"'\\u' must be followed", "Invalid \\uXXXX escape"},
      {"surrogate", "Invalid \\uXXXX escape"},
      {"after backslash", "Invalid \\escape"},
      {"expected end of input", "Extra data"},
      {"parsing object key", "Expecting property name enclosed in double quotes"},
      {"parsing object separator", "Expecting ':' delimiter"},
      {"parsing object -", "Expecting ',' delimiter"},
      {"parsing array -", "Expecting ',' delimiter"},
  };
  std::string_view reason = "Expecting value";
  for (const auto& [needle, text] : kReasons) {
    if (probe.what.find(needle) != std::string::npos) {
      reason = text;
      break;
    }
  }
  const std::string& what = probe.what;
  auto has = [&](std::string_view needle) { return what.find(needle) != std::string::npos; };
  // nlohmann counts the offending byte as read: step back to where Python
  // points.
  const std::size_t last = std::min(probe.position > 0 ? probe.position - 1 : 0, doc.size());
  std::size_t at = last;
  if (has("unexpected string literal") || has("unexpected number literal")) {
    at = probe.position - std::min(probe.position, probe.token.size());  // the token's start
  } else if (reason.starts_with("Unterminated")) {
    // At the quote; the end of input counts as one byte read.
    at = probe.position - std::min(probe.position, probe.token.size() + 1);
  } else if (reason == "Invalid \\escape") {
    at = last > 0 ? last - 1 : 0;  // the backslash
  } else if (has("invalid literal")) {
    // nlohmann reads on while the text spells a proper prefix of a literal.
    for (std::size_t k = std::min<std::size_t>(4, last); k > 0 && at == last; --k) {
      const std::string_view read = std::string_view(doc).substr(last - k, k);
      for (std::string_view literal : {"true", "false", "null"}) {
        if (k < literal.size() && literal.starts_with(read)) at = last - k;
      }
    }
  } else if (has("invalid number")) {
    // Python takes the longest prefix of -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?
    // and, having one, expects a delimiter after it.
    std::size_t start = last;
    while (start > 0 && std::string_view("0123456789.eE+-").find(doc[start - 1]) != kNpos) --start;
    auto digits = [&](std::size_t i) {
      while (i < doc.size() && doc[i] >= '0' && doc[i] <= '9') ++i;
      return i;
    };
    std::size_t i = start + (doc[start] == '-' ? 1 : 0);
    const std::size_t int_end = i < doc.size() && doc[i] == '0' ? i + 1 : digits(i);
    if (int_end == i) {
      at = start;
    } else {
      reason = "Expecting ',' delimiter";
      at = int_end;
      if (at < doc.size() && doc[at] == '.' && digits(at + 1) > at + 1) at = digits(at + 1);
      if (at < doc.size() && (doc[at] == 'e' || doc[at] == 'E')) {
        std::size_t e = at + 1;
        if (e < doc.size() && (doc[e] == '+' || doc[e] == '-')) ++e;
        if (digits(e) > e) at = digits(e);
      }
    }
  }
  std::size_t chars = 0, line = 1, col_chars = 0;
  for (std::size_t i = 0; i < at; i += Utf8Len(Byte(doc, i))) {
    ++chars;
    ++col_chars;
    if (doc[i] == '\n') {
      ++line;
      col_chars = 0;
    }
  }
  return "JSONDecodeError: " + std::string(reason) + ": line " + std::to_string(line) + " column " +
         std::to_string(col_chars + 1) + " (char " + std::to_string(chars) + ")";
}

// Python's type name for a decoded JSON value.
std::string_view PyTypeName(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      return "dict";
    case nlohmann::json::value_t::array:
      return "list";
    case nlohmann::json::value_t::string:
      return "str";
    case nlohmann::json::value_t::boolean:
      return "bool";
    case nlohmann::json::value_t::number_float:
      return "float";
    case nlohmann::json::value_t::null:
      return "NoneType";
    default:
      return "int";
  }
}

Status PrismError(std::string_view what) {
  return Status::InvalidArgument("parse_log_prismjs: " + std::string(what));
}

// `for test in report[key]: status_map[test["fullTitle"]] = status`.
Status AddPrismTests(const nlohmann::json& report, const char* key, std::string_view status,
                     StatusMapBuilder& out) {
  const auto list = report.find(key);
  if (list == report.end()) return PrismError("KeyError: '" + std::string(key) + "'");
  if (list->is_object() || list->is_string()) {
    // Iterating a dict gives its keys and a str its characters: indexing
    // either with "fullTitle" is a TypeError, unless there is nothing to do.
    const bool empty =
        list->is_object() ? list->empty() : list->get_ref<const std::string&>().empty();
    if (empty) return Status::OK();
    return PrismError("TypeError: string indices must be integers, not 'str'");
  }
  if (!list->is_array()) {
    return PrismError("TypeError: '" + std::string(PyTypeName(*list)) + "' object is not iterable");
  }
  for (const nlohmann::json& test : *list) {
    if (test.is_array()) {
      return PrismError("TypeError: list indices must be integers or slices, not str");
    }
    if (test.is_string()) {
      return PrismError("TypeError: string indices must be integers, not 'str'");
    }
    if (!test.is_object()) {
      return PrismError("TypeError: '" + std::string(PyTypeName(test)) +
                        "' object is not subscriptable");
    }
    const auto title = test.find("fullTitle");
    if (title == test.end()) return PrismError("KeyError: 'fullTitle'");
    if (title->is_structured()) {
      return PrismError("TypeError: unhashable type: '" + std::string(PyTypeName(*title)) + "'");
    }
    // A number, bool or null title is a non-str key in the Python: it can
    // equal no test name but still makes the map non-empty. Its JSON text
    // stands in for it.
    out.Add(title->is_string() ? title->get<std::string>() : title->dump(), status);
  }
  return Status::OK();
}

}  // namespace

Result<StatusMap> ParsePrismJs(std::string_view log, const LogParserSpec& /*spec*/) {
  static constexpr std::string_view kTestCmd =
      "./node_modules/.bin/mocha tests/run.js --reporter json";
  StatusMapBuilder out(log);
  std::size_t cmd = log.find(kTestCmd);
  while (cmd != kNpos) {
    const std::size_t begin = cmd + kTestCmd.size();
    cmd = log.find(kTestCmd, begin);
    std::string_view part = log.substr(begin, cmd == kNpos ? kNpos : cmd - begin);
    // `part.split("{", 1)[-1].rsplit("}", 1)[0]`: a missing brace cuts nothing.
    if (const std::size_t open = part.find('{'); open != kNpos) part.remove_prefix(open + 1);
    if (const std::size_t close = part.rfind('}'); close != kNpos) part = part.substr(0, close);
    std::string doc;
    doc.reserve(part.size() + 2);
    doc += '{';
    doc.append(part);
    doc += '}';
    // Where json.loads differs, mocha's JSON reporter never goes: Python
    // also accepts NaN/Infinity, numbers beyond a double and lone
    // \uD800-style surrogates (nlohmann refuses them), and raises
    // RecursionError past about 1000 levels of nesting (nlohmann does not).
    const nlohmann::json report = nlohmann::json::parse(doc, nullptr, false);
    if (report.is_discarded()) return PrismError(JsonDecodeError(doc));
    R2E_RETURN_IF_ERROR(AddPrismTests(report, "failures", kFailed, out));
    R2E_RETURN_IF_ERROR(AddPrismTests(report, "passes", kPassed, out));
  }
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
