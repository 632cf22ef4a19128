// Every log parser in the registry: the first byte picks the parser (and the
// rule set), the second the spec values the dispatching parsers read, the
// rest is the log. An input that starts with "parse_log_<name>\n" names its
// parser instead (run-fuzzers.sh seeds the multilingual fixtures' logs so).
// Parsers never crash on any bytes, and fail only where the harness raises
// (InvalidArgument: a spec value they do not know, undecodable JSON or XML,
// the lines calypso's and karma's Python crashes on).
#include <algorithm>
#include <iterator>
#include <utility>

#include "fuzz_util.h"
#include "grading/r2e_keys.h"
#include "r2e/log_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace r2e;
  if (size < 2) return 0;
  static const std::vector<std::string> names = LogParserNames();
  std::string_view input = fuzz::AsView(data, size);
  std::string parser = names[data[0] % names.size()];
  const GradingRules rules =
      (data[0] / names.size()) % 2 ? GradingRules::kV5 : GradingRules::kClassic;
  std::string_view log = input.substr(2);
  if (input.starts_with("parse_log_")) {
    const std::size_t nl = input.find('\n');
    if (nl == std::string_view::npos) return 0;
    parser = std::string(input.substr(0, nl));
    if (std::find(names.begin(), names.end(), parser) == names.end()) return 0;
    log = input.substr(nl + 1);
  }
  static constexpr std::pair<const char*, const char*> kSpecs[] = {
      {"immutable-js__immutable-js-2006", "1.27"},
      {"immutable-js__immutable-js-2005", "9.5"},
      {"jekyll__jekyll-9141", "10.0"},
      {"jekyll__jekyll-8761", "2.0"},
      {"x__y-1", "abc"},
      {"", ""}};
  LogParserSpec spec;
  spec.rules = rules;
  const auto& [instance_id, version] = kSpecs[data[1] % std::size(kSpecs)];
  spec.instance_id = instance_id;
  spec.version = version;
  auto map = ParseLog(parser, log, spec);
  if (!map.ok()) {
    R2E_FUZZ_CHECK(map.status().code() == StatusCode::kInvalidArgument);
    return 0;
  }
  // Statuses are not always one of the five words: the harness's pytest v2
  // parser takes a word next to a status as the status (a line ending in
  // FAILED gives its second word), and so does ours. They are never empty.
  for (const auto& [test, status] : *map) R2E_FUZZ_CHECK(!status.empty());
  StatusMap r2e_map = ParseR2ELog(log);
  (void)R2EStatusMapsMatch(r2e_map, *map);
  (void)StripColorCodes(log);
  // One pass, not idempotent (see r2e_keys.h); it never grows ASCII input.
  std::string cleaned = internal::CleanR2ETestOutput(log);
  (void)ParseR2ELog(cleaned);
  return 0;
}
