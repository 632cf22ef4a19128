// Log parsers: test output -> {test name: status}, exactly as the
// benchmarks' own harnesses parse it (see shared/spec/grading.md).
#ifndef R2E_LOG_PARSERS_H_
#define R2E_LOG_PARSERS_H_

#include <map>
#include <string>
#include <string_view>

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

}  // namespace r2e

#endif  // R2E_LOG_PARSERS_H_
