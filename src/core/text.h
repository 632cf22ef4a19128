// Small text helpers shared inside the library.
#ifndef R2E_CORE_TEXT_H_
#define R2E_CORE_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace r2e::internal {

// `bytes` random bytes from the OS, as lowercase hex (2*bytes characters).
std::string RandomHex(std::size_t bytes);

// Strips ASCII whitespace from both ends.
std::string_view Trim(std::string_view s);

bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);

// errno as "strerror (errno)" text.
std::string ErrnoText(int err);

}  // namespace r2e::internal

#endif  // R2E_CORE_TEXT_H_
