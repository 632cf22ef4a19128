// Helpers shared by the SWE-bench sources (log, report, eval script, grader).
#ifndef R2E_GRADING_SWEBENCH_INTERNAL_H_
#define R2E_GRADING_SWEBENCH_INTERNAL_H_

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.h"
#include "r2e/swebench.h"

namespace r2e::internal {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// Python's `\s` on ASCII text.
inline bool IsSpace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}
// Python's `\w` on str: ASCII letters, digits, '_', and (approximately) any
// non-ASCII letter, here any byte of a multi-byte UTF-8 sequence.
inline bool IsWordChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

inline bool OneOf(std::string_view v, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

// Splits on '\n' (a last empty piece after a trailing newline is dropped).
std::vector<std::string_view> Lines(std::string_view text);

// Python's str.split("\n"): every piece, an empty last one included.
std::vector<std::string_view> SplitNewlines(std::string_view text);

// The harness's NON_TEST_EXTS (from the specs table).
const std::vector<std::string>& SweBenchNonTestExts();

// The shell lines that put the test files back: `git checkout <base>
// <modified>` when there are any, and `rm -f <created>` when there are any.
std::vector<std::string> SweBenchTestFileReset(std::string_view base, const PatchFiles& files);

}  // namespace r2e::internal

#endif  // R2E_GRADING_SWEBENCH_INTERNAL_H_
