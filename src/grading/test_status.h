// The statuses a status map holds: the SWE-bench harness's TestStatus, which
// SWE-smith reuses.
#ifndef R2E_GRADING_TEST_STATUS_H_
#define R2E_GRADING_TEST_STATUS_H_

#include <array>
#include <string_view>

namespace r2e::internal {

inline constexpr std::string_view kPassed = "PASSED";
inline constexpr std::string_view kFailed = "FAILED";
inline constexpr std::string_view kSkipped = "SKIPPED";
inline constexpr std::string_view kError = "ERROR";
inline constexpr std::string_view kXfail = "XFAIL";

// In the enum's order. No status is a prefix of another, so the order in
// which a parser tries them never changes its result.
inline constexpr std::array<std::string_view, 5> kTestStatuses = {kFailed, kPassed, kSkipped,
                                                                  kError, kXfail};

}  // namespace r2e::internal

#endif  // R2E_GRADING_TEST_STATUS_H_
