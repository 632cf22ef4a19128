// SWE-bench's log parsers for C/C++ (swebench/harness/log_parsers/c.py:
// redis, jq, doctest, micropython, googletest), Go (go.py: gotest) and PHP
// (php.py: phpunit). The three files are the same at v4.1.0 and v5.0.1, so
// no parser here reads the spec. Python semantics as grading/parsers.h says;
// every regex is the harness's, and doctest reads its XML with expat set up
// as ElementTree sets it up.
#include <expat.h>

#include <climits>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/py_text.h"
#include "grading/parsers.h"
#include "grading/py_regex.h"
#include "grading/status_map_builder.h"
#include "grading/test_status.h"

namespace r2e::internal {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// The line filters below only skip the regex on lines it cannot match (each
// is implied by its pattern, on a stripped line that starts and ends with
// no whitespace), so results never depend on them. They matter for speed:
// most lines of a log fail the filter, and where a pattern ends in `\)$`
// the filter spares the regex from backtracking over a long line that
// cannot match (each `(.+) \(` candidate would rescan the rest of it).
bool StartsWithAny(std::string_view line, std::initializer_list<std::string_view> prefixes) {
  for (std::string_view prefix : prefixes) {
    if (line.starts_with(prefix)) return true;
  }
  return false;
}

bool EndsWithParen(std::string_view line) { return line.ends_with(')'); }

// `re.match(pattern, line.strip())` for each line of `log.split("\n")`
// whose stripped text starts with one of `prefixes`: f(match) on the lines
// that match.
template <typename F>
void ForEachStrippedMatch(std::string_view log, const PyRegex& pattern,
                          std::initializer_list<std::string_view> prefixes, F&& f) {
  ForEachLine(log, [&](std::string_view raw) {
    const std::string_view line = PyStrip(raw);
    if (!StartsWithAny(line, prefixes)) return;
    if (auto m = pattern.Match(line)) f(*m);
  });
}

}  // namespace

// redis/valkey's runtest: "[ok|err|skip|ignore]: <name> (<n> ms)". A failed
// test's name loses a trailing " in <file>".
Result<StatusMap> ParseRedis(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^\[(ok|err|skip|ignore)\]:\s(.+?)(?:\s\((\d+\s*m?s)\))?$)");
  static const PyRegex kFileSuffix(R"(\s+in\s+\S+$)");
  StatusMapBuilder out(log);
  ForEachStrippedMatch(log, kLine, {"["}, [&](const PyMatch& m) {
    const std::string_view status = m.group(1);
    const std::string_view name = m.group(2);
    if (status == "ok") {
      out.Add(name, kPassed);
    } else if (status == "err") {
      out.Add(kFileSuffix.Sub("", name), kFailed);
    } else {
      out.Add(name, kSkipped);
    }
  });
  return out.Build();
}

// jq's `make check`: "PASS: <name>" / "FAIL: <name>".
Result<StatusMap> ParseJq(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^\s*(PASS|FAIL):\s(.+)$)");
  StatusMapBuilder out(log);
  ForEachStrippedMatch(log, kLine, {"PASS:", "FAIL:"}, [&](const PyMatch& m) {
    out.Add(m.group(2), m.group(1) == "PASS" ? kPassed : kFailed);
  });
  return out.Build();
}

// ---------------------------------------------------------------------------
// doctest's XML reporter (nlohmann/json).

namespace {

// What `ET.fromstring(xml)` followed by the harness's findall() walk needs:
// the TestCase and SubCase elements in document order, each SubCase with
// whether any Expression below it has success != "true".
class DoctestXmlScan {
 public:
  struct SubCase {
    std::optional<std::string> name;  // absent: Python's None
    bool failed = false;
  };
  struct TestCase {
    std::optional<std::string> name;
    std::size_t first_subcase = 0;  // its descendant SubCases: [first, end)
    std::size_t end_subcase = 0;
  };

  // The exception ElementTree would raise, as "<type>: <message>", or
  // nullopt.
  std::optional<std::string> Run(std::string_view xml);

  const std::vector<SubCase>& subcases() const { return subcases_; }
  const std::vector<TestCase>& testcases() const { return testcases_; }

 private:
  enum class Kind { kOther, kTestCase, kSubCase, kExpression };
  struct Open {
    Kind kind;
    std::size_t index;  // into testcases_ / subcases_
    bool failed;        // a failing Expression at or below this element
  };

  static void OnStart(void* self, const XML_Char* name, const XML_Char** attrs);
  static void OnEnd(void* self, const XML_Char* name);

  std::vector<Open> open_;
  std::vector<SubCase> subcases_;
  std::vector<TestCase> testcases_;
};

// `elem.get(key)` on expat's name/value attribute list. With namespace
// processing a prefixed attribute arrives as "uri}local", which ElementTree
// spells "{uri}local": only an unprefixed one can equal `key`.
const XML_Char* Attribute(const XML_Char** attrs, std::string_view key) {
  for (std::size_t i = 0; attrs[i] != nullptr; i += 2) {
    if (key == attrs[i]) return attrs[i + 1];
  }
  return nullptr;
}

std::optional<std::string> OptionalText(const XML_Char* text) {
  if (text == nullptr) return std::nullopt;
  return std::string(text);
}

void DoctestXmlScan::OnStart(void* self, const XML_Char* name, const XML_Char** attrs) {
  auto& scan = *static_cast<DoctestXmlScan*>(self);
  // Names compare whole, so a namespaced "uri}TestCase" is no TestCase, as
  // findall(".//TestCase") does not match "{uri}TestCase".
  const std::string_view tag = name;
  Open open{Kind::kOther, 0, false};
  if (tag == "TestCase") {
    open = {Kind::kTestCase, scan.testcases_.size(), false};
    scan.testcases_.push_back(
        {OptionalText(Attribute(attrs, "name")), scan.subcases_.size(), scan.subcases_.size()});
  } else if (tag == "SubCase") {
    open = {Kind::kSubCase, scan.subcases_.size(), false};
    scan.subcases_.push_back({OptionalText(Attribute(attrs, "name")), false});
  } else if (tag == "Expression") {
    const XML_Char* success = Attribute(attrs, "success");
    open = {Kind::kExpression, 0, success == nullptr || std::string_view(success) != "true"};
  }
  scan.open_.push_back(open);
}

void DoctestXmlScan::OnEnd(void* self, const XML_Char* /*name*/) {
  auto& scan = *static_cast<DoctestXmlScan*>(self);
  const Open closed = scan.open_.back();
  scan.open_.pop_back();
  if (closed.kind == Kind::kSubCase) scan.subcases_[closed.index].failed = closed.failed;
  if (closed.kind == Kind::kTestCase) {
    scan.testcases_[closed.index].end_subcase = scan.subcases_.size();
  }
  if (closed.failed && !scan.open_.empty()) scan.open_.back().failed = true;
}

std::optional<std::string> DoctestXmlScan::Run(std::string_view xml) {
  // ElementTree refuses a str whose UTF-8 does not fit in an int.
  if (xml.size() > static_cast<std::size_t>(INT_MAX)) {
    return "OverflowError: size does not fit in an int";
  }
  // As _elementtree's XMLParser: namespace processing with '}' as separator,
  // and the declared encoding overridden by UTF-8 (it feeds a str as UTF-8).
  // The text starts at the root element, so it has no DTD: every entity but
  // the predefined ones is expat's own "undefined entity" error, and
  // ElementTree's default handler (which raises on the entities expat passes
  // on unexpanded) is never reached.
  XML_Parser parser = XML_ParserCreateNS(nullptr, '}');
  if (parser == nullptr) return "MemoryError: cannot create an XML parser";
  XML_SetEncoding(parser, "utf-8");
  XML_SetUserData(parser, this);
  XML_SetElementHandler(parser, &OnStart, &OnEnd);
  // feed(xml) then close(): the same two calls, so that errors found only at
  // the end (e.g. "no element found") carry the same position.
  XML_Status status = XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), XML_FALSE);
  if (status == XML_STATUS_OK) status = XML_Parse(parser, "", 0, XML_TRUE);
  std::optional<std::string> message;
  if (status != XML_STATUS_OK) {
    message = "ParseError: " + std::string(XML_ErrorString(XML_GetErrorCode(parser))) + ": line " +
              std::to_string(XML_GetErrorLineNumber(parser)) + ", column " +
              std::to_string(XML_GetErrorColumnNumber(parser));
  }
  XML_ParserFree(parser);
  return message;
}

// Byte offset of character `chars` of UTF-8 text (or its size when shorter):
// the harness slices by character index.
std::size_t CharOffset(std::string_view text, std::size_t chars) {
  std::size_t i = 0;
  for (std::size_t seen = 0; i < text.size(); ++i) {
    if ((Byte(text, i) & 0xC0) != 0x80 && seen++ == chars) return i;
  }
  return i;
}

}  // namespace

// The `-s -r=xml` report between "<doctest" and "</doctest>": each SubCase of
// each TestCase -> "<testcase> > <subcase>", PASSED when every Expression
// below it succeeded. XML that ElementTree refuses is an error, as the
// harness raises ParseError.
Result<StatusMap> ParseDoctest(std::string_view log, const LogParserSpec& /*spec*/) {
  constexpr std::string_view kStartTag = "<doctest";
  constexpr std::string_view kEndTag = "</doctest>";
  const std::size_t start = log.find(kStartTag);
  if (start == kNpos) return StatusMap{};
  // Without an end tag the harness computes -1 + len(end_tag) = 9 as the
  // end index, so it parses log[start:9]: the empty string unless "<doctest"
  // begins in the first 9 characters. Either way ElementTree raises.
  const std::size_t end_tag = log.find(kEndTag, start);
  const std::size_t end = end_tag == kNpos ? CharOffset(log, 9) : end_tag + kEndTag.size();
  const std::string_view xml = end > start ? log.substr(start, end - start) : std::string_view();

  DoctestXmlScan scan;
  if (std::optional<std::string> error = scan.Run(xml)) {
    return Status::InvalidArgument("parse_log_doctest: " + *error);
  }
  StatusMapBuilder out(log);
  for (const auto& testcase : scan.testcases()) {
    const std::string_view testcase_name =
        testcase.name ? std::string_view(*testcase.name) : std::string_view("None");
    for (std::size_t i = testcase.first_subcase; i < testcase.end_subcase; ++i) {
      const auto& subcase = scan.subcases()[i];
      std::string name(testcase_name);
      name += " > ";
      name += subcase.name ? std::string_view(*subcase.name) : std::string_view("None");
      out.Add(std::move(name), subcase.failed ? kFailed : kPassed);
    }
  }
  return out.Build();
}

// ---------------------------------------------------------------------------

// micropython's run-tests.py: "pass|FAIL|skip <name>".
Result<StatusMap> ParseMicropythonTest(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^(pass|FAIL|skip)\s+(.+)$)");
  StatusMapBuilder out(log);
  ForEachStrippedMatch(log, kLine, {"pass", "FAIL", "skip"}, [&](const PyMatch& m) {
    const std::string_view status = m.group(1);
    out.Add(m.group(2), status == "pass" ? kPassed : status == "FAIL" ? kFailed : kSkipped);
  });
  return out.Build();
}

// googletest: "[       OK ] <name> (<n> ms)" / "[  FAILED  ] <name> (...)",
// possibly after a prefix such as ctest's "1: ". The greedy `^.*` takes the
// last bracket that still leaves a " (...)" after it.
Result<StatusMap> ParseGoogleTest(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^.*\[\s*(OK|FAILED)\s*\]\s(.*)\s\(.*\)$)");
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view raw) {
    const std::string_view line = PyStrip(raw);
    if (!EndsWithParen(line)) return;
    if (auto m = kLine.Match(line)) out.Add(m->group(2), m->group(1) == "OK" ? kPassed : kFailed);
  });
  return out.Build();
}

// `go test -v` (SWE-bench's reading; SWE-smith's differs, see ParseGoTest):
// "--- PASS|FAIL|SKIP: <name> (<duration>)", subtests included with their
// indentation stripped.
Result<StatusMap> ParseSweBenchGoTest(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^--- (PASS|FAIL|SKIP): (.+) \((.+)\)$)");
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view raw) {
    const std::string_view line = PyStrip(raw);
    if (!line.starts_with("--- ") || !EndsWithParen(line)) return;
    if (auto m = kLine.Match(line)) {
      const std::string_view status = m->group(1);
      out.Add(m->group(2), status == "PASS" ? kPassed : status == "FAIL" ? kFailed : kSkipped);
    }
  });
  return out.Build();
}

// `phpunit --testdox`: a suite heading "<Suite name> (<Class>)" (the line
// as printed, not stripped), then "✔|✘|↩ <test>" lines -> "<suite> > <test>".
// Before any heading the suite is Python's None. Colour codes in front of
// either kind of line make it match neither, as in the harness.
Result<StatusMap> ParsePhpUnit(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kSuite(R"(^(\w.+) \(.+\)$)");
  static const PyRegex kTest(R"(^\s*([✔✘↩])\s*(.*)$)");
  StatusMapBuilder out(log);
  std::optional<std::string_view> suite;
  ForEachLine(log, [&](std::string_view line) {
    if (EndsWithParen(line)) {
      if (auto m = kSuite.Match(line)) {
        suite = m->group(1);
        return;
      }
    }
    if (!StartsWithAny(PyLStrip(line), {"✔", "✘", "↩"})) return;
    auto m = kTest.Match(line);
    if (!m) return;
    const std::string_view mark = m->group(1);
    std::string name(suite ? *suite : "None");
    name += " > ";
    name += m->group(2);
    out.Add(std::move(name), mark == "✔" ? kPassed : mark == "✘" ? kFailed : kSkipped);
  });
  return out.Build();
}

}  // namespace r2e::internal
