// Internal helpers shared by the R2E log parser and the R2E grader.
#ifndef R2E_GRADING_R2E_KEYS_H_
#define R2E_GRADING_R2E_KEYS_H_

#include <string>
#include <string_view>

#include "r2e/log_parsers.h"

namespace r2e::internal {

// R2E-Gym's key normalisation before comparing maps: colour codes stripped
// from each key, then each key re-keyed to its part before the first " - ".
// Keys that collide after re-keying keep the value of the last one in sorted
// order, as R2E-Gym's `{k.split(" - ")[0]: m[k] for k in sorted(m)}` does.
StatusMap NormalizeR2EKeys(const StatusMap& map);

// What R2E-Gym does to the test output before parsing it: decode as UTF-8
// with U+FFFD for ill-formed bytes (Python's errors="replace"), then remove
// "\x1b[<digits and ;>m" sequences and every '\r'. One pass, as Python's
// re.sub and str.replace make it: removing a '\r' or a sequence can bring a
// new sequence together ("\x1b\r[0m" gives "\x1b[0m"), which stays, so a
// second call may change the text again (the fuzzer found the old claim of
// idempotence false).
std::string CleanR2ETestOutput(std::string_view output);

}  // namespace r2e::internal

#endif  // R2E_GRADING_R2E_KEYS_H_
