// Small text helpers shared inside the library. (std::string_view's own
// starts_with / ends_with need no helper.)
#ifndef R2E_CORE_TEXT_H_
#define R2E_CORE_TEXT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace r2e::internal {

// `bytes` random bytes from the OS, as lowercase hex (2*bytes characters).
std::string RandomHex(std::size_t bytes);

// Whether `needle` occurs in `haystack` (C++23's string_view::contains).
inline bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// `s` with ASCII letters in lower case; other bytes unchanged.
std::string ToLower(std::string_view s);

// Strips ASCII whitespace from both ends.
std::string_view Trim(std::string_view s);

// Percent-encodes (upper-case hex) every byte but the RFC 3986 unreserved
// characters (ASCII letters, digits, `-._~`) and those in `keep`.
std::string PercentEncode(std::string_view s, std::string_view keep = {});

// errno as "strerror (errno)" text.
std::string ErrnoText(int err);

// Standard base64 (RFC 4648, '+' and '/', padded).
std::string Base64Encode(std::string_view data);
// Its inverse; ASCII whitespace is skipped and trailing padding may be
// omitted. std::nullopt for any other character, misplaced padding or an
// impossible length.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace r2e::internal

#endif  // R2E_CORE_TEXT_H_
