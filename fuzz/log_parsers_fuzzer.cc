// Every log parser in the registry: the first byte picks the parser (and the
// rule set), the rest is the log. Parsers never fail on any bytes.
#include "fuzz_util.h"
#include "grading/r2e_keys.h"
#include "r2e/log_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace r2e;
  if (size < 1) return 0;
  static const std::vector<std::string> names = LogParserNames();
  const std::string& parser = names[data[0] % names.size()];
  const GradingRules rules = (data[0] / names.size()) % 2 ? GradingRules::kV5 : GradingRules::kClassic;
  const std::string_view log = fuzz::AsView(data + 1, size - 1);
  auto map = ParseLog(parser, log, rules);
  R2E_FUZZ_CHECK(map.ok());
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
