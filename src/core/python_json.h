// JSON as the R2E scaffold's Python sees it: json.loads keeping the order of
// object keys, and str() of the values it gives. Internal to the library.
#ifndef R2E_CORE_PYTHON_JSON_H_
#define R2E_CORE_PYTHON_JSON_H_

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "r2e/status.h"

namespace r2e::internal {

// Deepest nesting ParseOrderedJson accepts (Python's json.loads stops near
// its recursion limit of 1000).
inline constexpr std::size_t kMaxJsonDepth = 900;

// Parses JSON text as json.loads does into a dict, keeping key order: a
// repeated key keeps its last value in its first place. Linear in the
// number of keys (nlohmann's ordered_json parser is quadratic in them).
// InvalidArgument (with the parser's message) for text that is not one JSON
// value, including empty text and NaN/Infinity (which Python accepts), and
// for nesting deeper than kMaxJsonDepth. Integers beyond 64 bits read as
// floats (Python keeps them exact).
Result<nlohmann::ordered_json> ParseOrderedJson(std::string_view text);

// Python's str() of the value json.loads gives for `value`: a string as it
// is; null, true, false as None, True, False; floats as repr() writes them
// (shortest round trip: 1.5, 100.0, 1e+16, 1e-05, inf); arrays and objects
// as list and dict reprs ([1, 'a'], {'k': None}) with strings quoted and
// escaped as repr() does. Non-ASCII characters are kept, except the
// separators, format and private-use characters Python does not count as
// printable (escaped as \xNN, \uNNNN, \UNNNNNNNN); unassigned code points,
// which Python also escapes, are kept.
std::string PythonStr(const nlohmann::ordered_json& value);

}  // namespace r2e::internal

#endif  // R2E_CORE_PYTHON_JSON_H_
