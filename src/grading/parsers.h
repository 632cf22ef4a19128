// The log parsers that ParseLog (r2e/log_parsers.h) finds by name in its
// registry (log_parser_registry.cc), grouped by the file that defines them.
//
// Each restates a harness's Python parser, hand-written rather than built on
// std::regex: the Python regexes are small enough to restate exactly,
// std::regex is slow and recursive (a long line can exhaust the stack), and a
// 10 MB log must parse in well under 100 ms. Python semantics kept throughout
// (core/py_text.h):
// - `log.split("\n")`: lines are cut at '\n' only ('\r' stays in the line).
// - `str.split()`, `str.strip()` and re's `\s` use Python's whitespace, which
//   includes \x1c-\x1f and the Unicode spaces (e.g. U+00A0 in UTF-8).
// - Quirks are kept on purpose: a reward must equal what the harness says.
// Where the Python would raise IndexError (e.g. `line.split()[1]` on a
// one-token line) the line is skipped instead: a parser never fails.
#ifndef R2E_GRADING_PARSERS_H_
#define R2E_GRADING_PARSERS_H_

#include <string_view>

#include "r2e/log_parsers.h"

namespace r2e::internal {

// swebench_parsers.cc: SWE-bench's python.py (but django) and rust.py.
StatusMap ParsePytest(std::string_view log, GradingRules rules);
StatusMap ParsePytestOptions(std::string_view log, GradingRules rules);
StatusMap ParseMatplotlib(std::string_view log, GradingRules rules);
StatusMap ParsePytestV2(std::string_view log, GradingRules rules);
StatusMap ParseSeaborn(std::string_view log, GradingRules rules);
StatusMap ParseSympy(std::string_view log, GradingRules rules);
StatusMap ParseCargo(std::string_view log, GradingRules rules);

// swebench_django_parser.cc: SWE-bench's parse_log_django.
StatusMap ParseDjango(std::string_view log, GradingRules rules);

// swesmith_parsers.cc: SWE-smith's default Python parser, its Go profile's,
// and its per-repository parsers (the profiles' log_parser overrides).
StatusMap ParseSweSmithPytest(std::string_view log, GradingRules rules);
StatusMap ParseGoTest(std::string_view log, GradingRules rules);
// python/mypy: a line containing "PASSED" (else "FAILED") anywhere -> its
// last whitespace-separated token gets that status.
StatusMap ParseSweSmithMypy(std::string_view log, GradingRules rules);
// tornadoweb/tornado (unittest -v): "<name> ... ok" -> PASSED, a line holding
// " ... skipped " -> SKIPPED, "ERROR:"/"FAIL:" lines -> the 2nd and 3rd tokens
// joined by a space, FAILED.
StatusMap ParseSweSmithTornado(std::string_view log, GradingRules rules);
// paramiko/paramiko (pytest -rA): "<STATUS><space><name>..." -> name.
StatusMap ParseSweSmithParamiko(std::string_view log, GradingRules rules);
// HIPS/autograd (pytest-xdist): "[gwN] <STATUS> <name>" -> name.
StatusMap ParseSweSmithAutograd(std::string_view log, GradingRules rules);
// un33k/python-slugify (unittest -v): "<name> ... ok|FAIL|ERROR", the name
// of letters, digits, whitespace and _-,.()' only.
StatusMap ParseSweSmithSlugify(std::string_view log, GradingRules rules);

// ---------------------------------------------------------------------------
// SWE-bench's non-Python parsers (swebench/harness/log_parsers/*.py at
// v4.1.0 and v5.0.1). They may read the spec (LogParserSpec) and may fail
// where the harness raises; spec.rules picks the version's behaviour where
// the two differ. Each restates its Python with PyRegex (py_regex.h).
using SpecParserFn = Result<StatusMap> (*)(std::string_view log, const LogParserSpec& spec);

// swebench_js_parsers.cc and swebench_js_parsers2.cc (chart_js, marked,
// p5js): the JavaScript parsers both versions have.
Result<StatusMap> ParseCalypso(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseChartJs(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseMarked(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseP5js(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseReactPdf(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseJest(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseJestJson(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseVitest(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseKarma(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseTap(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseImmutableJs(std::string_view log, const LogParserSpec& spec);

// swebench_js_repo_parsers.cc: the repository-specific JavaScript parsers
// v5.0.1 added.
Result<StatusMap> ParseHighlightJs(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParsePrismJs(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseEslint(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseBpmnJs(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseOpenLayers(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseGrommet(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseNext(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseCarbon(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseLighthouse(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseQuartoCli(std::string_view log, const LogParserSpec& spec);

// swebench_native_parsers.cc: C/C++, Go and PHP.
Result<StatusMap> ParseRedis(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseJq(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseDoctest(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseMicropythonTest(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseGoogleTest(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseSweBenchGoTest(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParsePhpUnit(std::string_view log, const LogParserSpec& spec);

// swebench_jvm_ruby_parsers.cc: Java and Ruby.
Result<StatusMap> ParseMaven(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseAnt(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseGradleCustom(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseMinitest(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseCucumber(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseRubyUnit(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseRspecTransformedJson(std::string_view log, const LogParserSpec& spec);
Result<StatusMap> ParseJekyll(std::string_view log, const LogParserSpec& spec);

}  // namespace r2e::internal

#endif  // R2E_GRADING_PARSERS_H_
