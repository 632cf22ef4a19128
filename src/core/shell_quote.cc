#include "r2e/shell_quote.h"

#include <algorithm>
#include <cctype>

namespace r2e {
namespace {

// `s` in single quotes, each `'` (which cannot occur inside them) closing
// the quotes and written as `quote`.
std::string SingleQuoted(std::string_view s, std::string_view quote) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  for (char c : s) {
    if (c == '\'') {
      out += quote;
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

}  // namespace

std::string ShellQuote(std::string_view s) { return SingleQuoted(s, "'\\''"); }

std::string ShlexQuote(std::string_view word) {
  const bool safe = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x80 && std::isalnum(u)) ||
           std::string_view("@%+=:,./-_").find(c) != std::string_view::npos;
  });
  return safe ? std::string(word) : SingleQuoted(word, "'\"'\"'");
}

}  // namespace r2e
