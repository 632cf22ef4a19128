// Python string semantics over UTF-8 bytes, for the code that restates
// Python (the harnesses' log parsers, the scaffold's action parser):
// `str.split()`, `str.strip()` and re's `\s` use Python's whitespace, which
// includes \x1c-\x1f and the Unicode spaces (e.g. U+00A0).
#ifndef R2E_CORE_PY_TEXT_H_
#define R2E_CORE_PY_TEXT_H_

#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

namespace r2e::internal {

inline unsigned char Byte(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]);
}

// Byte classes for PySpaceLen: 1 = ASCII whitespace (\t\n\v\f\r, \x1c-\x1f,
// space), 2 = a lead byte that may start a multi-byte space, 0 = neither.
inline constexpr std::array<unsigned char, 256> kSpaceClass = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0x09; c <= 0x0D; ++c) t[c] = 1;
  for (int c = 0x1C; c <= 0x20; ++c) t[c] = 1;
  t[0xC2] = t[0xE1] = t[0xE2] = t[0xE3] = 2;
  return t;
}();

// U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F,
// U+3000 in UTF-8, at s[i] (whose lead byte has class 2).
inline std::size_t MultiByteSpaceLen(std::string_view s, std::size_t i) {
  const unsigned char c = Byte(s, i);
  const std::size_t left = s.size() - i;
  if (c == 0xC2) return left >= 2 && (Byte(s, i + 1) == 0x85 || Byte(s, i + 1) == 0xA0) ? 2 : 0;
  if (left < 3) return 0;
  const unsigned char c1 = Byte(s, i + 1);
  const unsigned char c2 = Byte(s, i + 2);
  if (c == 0xE1) return c1 == 0x9A && c2 == 0x80 ? 3 : 0;
  if (c == 0xE3) return c1 == 0x80 && c2 == 0x80 ? 3 : 0;
  if (c1 == 0x80) {
    return (c2 >= 0x80 && c2 <= 0x8A) || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF ? 3 : 0;
  }
  return c1 == 0x81 && c2 == 0x9F ? 3 : 0;
}

// Byte length of the Python whitespace character (str.isspace(), re's \s)
// starting at s[i], or 0.
inline std::size_t PySpaceLen(std::string_view s, std::size_t i) {
  const unsigned char cls = kSpaceClass[Byte(s, i)];
  if (cls < 2) return cls;
  return MultiByteSpaceLen(s, i);
}

// Byte length of the Python whitespace character that ends s, or 0.
inline std::size_t PySpaceLenAtEnd(std::string_view s) {
  const std::size_t n = s.size();
  for (std::size_t len = 1; len <= 3 && len <= n; ++len) {
    if (PySpaceLen(s, n - len) == len) return len;
  }
  return 0;
}

inline std::string_view PyLStrip(std::string_view s) {
  while (!s.empty()) {
    const std::size_t w = PySpaceLen(s, 0);
    if (w == 0) break;
    s.remove_prefix(w);
  }
  return s;
}

inline std::string_view PyRStrip(std::string_view s) {
  while (!s.empty()) {
    const std::size_t w = PySpaceLenAtEnd(s);
    if (w == 0) break;
    s.remove_suffix(w);
  }
  return s;
}

inline std::string_view PyStrip(std::string_view s) { return PyRStrip(PyLStrip(s)); }

// `s.split()`, stopping after `max_tokens` tokens (the ones after it are not
// needed by the caller).
inline void PySplit(std::string_view s, std::vector<std::string_view>& out,
                    std::size_t max_tokens = std::string_view::npos) {
  out.clear();
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n && out.size() < max_tokens) {
    std::size_t w = PySpaceLen(s, i);
    if (w > 0) {
      i += w;
      continue;
    }
    const std::size_t start = i;
    while (i < n && (w = PySpaceLen(s, i)) == 0) ++i;
    out.push_back(s.substr(start, i - start));
  }
}

// Calls f(line) for each element of Python's `log.split("\n")` (a trailing
// newline gives a last, empty line).
template <typename F>
void ForEachLine(std::string_view log, F&& f) {
  std::size_t pos = 0;
  for (;;) {
    const std::size_t nl = log.find('\n', pos);
    f(log.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    if (nl == std::string_view::npos) return;
    pos = nl + 1;
  }
}

// As ForEachLine, stopping once f returns false (the Python's break).
template <typename F>
void ForEachLineWhile(std::string_view log, F&& f) {
  std::size_t pos = 0;
  for (;;) {
    const std::size_t nl = log.find('\n', pos);
    if (!f(log.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos)) ||
        nl == std::string_view::npos) {
      return;
    }
    pos = nl + 1;
  }
}

// Python's len(s): code points, counted as UTF-8 lead bytes.
inline std::size_t PyLen(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// `len(line) - len(line.lstrip())`: the indent, in code points.
inline std::size_t PyIndent(std::string_view line) {
  return PyLen(line.substr(0, line.size() - PyLStrip(line).size()));
}

}  // namespace r2e::internal

#endif  // R2E_CORE_PY_TEXT_H_
