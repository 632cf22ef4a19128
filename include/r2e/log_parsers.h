// Log parsers: test output -> {test name: status}, exactly as the
// benchmarks' own harnesses parse it (see shared/spec/grading.md).
#ifndef R2E_LOG_PARSERS_H_
#define R2E_LOG_PARSERS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "r2e/status.h"

namespace r2e {

// Test name -> "PASSED" | "FAILED" | "SKIPPED" | "ERROR" | "XFAIL".
using StatusMap = std::map<std::string, std::string>;

// R2E-Gym's pytest parser: nothing unless the log has "short test summary
// info"; after its first occurrence, per line: contains PASSED -> the
// "::"-separated parts after the first joined with "."; else FAILED / ERROR ->
// the same key cut at the first " - ".
StatusMap ParseR2ELog(std::string_view log);

// The R2E reward rule on two maps after both are normalised (colour codes
// stripped from keys, keys re-keyed to the part before " - "): the maps have
// the same size and every non-empty parsed key is expected with the same
// status.
bool R2EStatusMapsMatch(const StatusMap& parsed, const StatusMap& expected);

// Removes "\x1b[<digits>m" sequences (simple colour codes).
std::string StripColorCodes(std::string_view text);

// SWE-bench has two generations of rules (shared/spec/grading.md): classic
// (harness v4.1.0, the default) and v5. Parsers differ in a few corners.
enum class GradingRules { kClassic, kV5 };

// "classic" or "v5"; InvalidArgument otherwise.
Result<GradingRules> ParseGradingRules(std::string_view name);
// As ParseGradingRules, and "auto" -> nullopt: the rules are then chosen per
// task (SweBenchRulesFor in r2e/swebench.h: v5 for 5.x-shaped rows).
Result<std::optional<GradingRules>> ParseGradingRulesSetting(std::string_view name);

// What a parser may read besides the log: the grading rules and the fields
// of SWE-bench's test spec that a few parsers consult (parse_log_immutable_js
// and parse_log_jekyll pick a sub-parser by instance id, parse_log_next and
// parse_log_lighthouse by version; a value they do not know is an error, as
// the harness raises ValueError).
struct LogParserSpec {
  GradingRules rules = GradingRules::kClassic;
  std::string instance_id;
  std::string version;
};

// The parsers, by the names the harnesses use:
//   parse_log_pytest, parse_log_pytest_options, parse_log_pytest_v2,
//   parse_log_django, parse_log_seaborn, parse_log_sympy, parse_log_matplotlib
//   (SWE-bench), parse_log_swesmith_pytest (SWE-smith's default Python
//   parser), parse_log_gotest (SWE-smith's Go profile), parse_log_cargo (Rust),
//   parse_log_swesmith_{mypy,tornado,paramiko,autograd,slugify} (the SWE-smith
//   profiles of python/mypy, tornadoweb/tornado, paramiko/paramiko,
//   HIPS/autograd and un33k/python-slugify), and every non-Python parser of
//   SWE-bench's PARSER_REGISTRY (JavaScript, C/C++, Go, Java, PHP, Ruby,
//   Rust; docs/swebench.md lists them). SWE-smith's Go parser, which differs
//   from SWE-bench's, is parse_log_swesmith_gotest.
// A log is split on '\n'; a later line overwrites an earlier one. Parsers
// never fail on any bytes; a log they cannot read gives an empty map, except
// where the harness itself raises (a spec value a parser does not know, the
// JSON of parse_log_prismjs, the XML of parse_log_doctest, the lines that
// crash parse_log_calypso and parse_log_karma; docs/swebench.md lists them):
// then InvalidArgument, naming the harness's error. NotFound for an unknown name (the message lists
// the known ones).
Result<StatusMap> ParseLog(std::string_view parser_name, std::string_view log,
                           const LogParserSpec& spec);
Result<StatusMap> ParseLog(std::string_view parser_name, std::string_view log,
                           GradingRules rules = GradingRules::kClassic);
std::vector<std::string> LogParserNames();

// The SWE-bench repository -> parser map of the spec ("django/django" ->
// "parse_log_django", ...). Unknown repositories get "parse_log_pytest",
// the harness's default for Python repositories.
std::string SweBenchParserForRepo(std::string_view repo);

}  // namespace r2e

#endif  // R2E_LOG_PARSERS_H_
