// QuickJsonReader: a fast strict JSON reader that feeds a
// nlohmann::json_sax-shaped handler, for the common text only.
#ifndef R2E_CORE_QUICK_JSON_READER_H_
#define R2E_CORE_QUICK_JSON_READER_H_

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace r2e::internal {

// A strict JSON reader for the usual text, several times faster than
// nlohmann's lexer (which keeps every byte it reads for its error messages).
// It feeds a SAX handler as nlohmann::json::sax_parse would and gives up on
// anything else: text that is not JSON, a \u escape, a number a double cannot
// hold. The caller then lets nlohmann read the text with a fresh handler, so
// nlohmann's verdict and messages stay the only ones.
template <class Sax>
class QuickJsonReader {
 public:
  QuickJsonReader(std::string_view text, Sax& sax)
      : p_(text.data()), end_(text.data() + text.size()), sax_(sax) {}

  // True when the text is one JSON value and the handler has seen all of it.
  bool Read() {
    std::vector<char> open;  // '{' or '[' for each container being read
    SkipSpace();
    for (;;) {
      if (p_ == end_) return false;
      switch (*p_) {  // a value
        case '{':
          ++p_;
          sax_.start_object(kUnknownSize);
          SkipSpace();
          if (p_ < end_ && *p_ == '}') {
            ++p_;
            sax_.end_object();
            break;
          }
          open.push_back('{');
          if (!Key()) return false;
          continue;
        case '[':
          ++p_;
          sax_.start_array(kUnknownSize);
          SkipSpace();
          if (p_ < end_ && *p_ == ']') {
            ++p_;
            sax_.end_array();
            break;
          }
          open.push_back('[');
          continue;
        case '"':
          if (!String()) return false;
          sax_.string(scratch_);
          break;
        case 't':
          if (!Literal("true")) return false;
          sax_.boolean(true);
          break;
        case 'f':
          if (!Literal("false")) return false;
          sax_.boolean(false);
          break;
        case 'n':
          if (!Literal("null")) return false;
          sax_.null();
          break;
        default:
          if (!Number()) return false;
      }
      // After a value: close what ends here, up to the next value.
      for (;;) {
        SkipSpace();
        if (open.empty()) return p_ == end_;
        if (p_ == end_) return false;
        const char c = *p_++;
        if (c == ',') {
          SkipSpace();
          if (open.back() == '{' && !Key()) return false;
          break;
        }
        if (c == (open.back() == '{' ? '}' : ']')) {
          if (open.back() == '{') {
            sax_.end_object();
          } else {
            sax_.end_array();
          }
          open.pop_back();
          continue;
        }
        return false;
      }
    }
  }

 private:
  static constexpr std::size_t kUnknownSize = static_cast<std::size_t>(-1);

  // Printable ASCII but the quote and the backslash: copied as is.
  static constexpr std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
    return t;
  }();

  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool Literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // An object's key and its colon; the handler gets the key.
  bool Key() {
    if (p_ == end_ || *p_ != '"' || !String()) return false;
    sax_.key(scratch_);
    SkipSpace();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    SkipSpace();
    return true;
  }

  // A string at p_, decoded into scratch_.
  bool String() {
    ++p_;
    scratch_.clear();
    for (;;) {
      const char* run = p_;
      while (p_ < end_ && kPlain[static_cast<unsigned char>(*p_)]) ++p_;
      scratch_.append(run, p_);
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (end_ - p_ < 2) return false;
        static constexpr std::string_view kEscaped = "\"\\/bfnrt", kMeant = "\"\\/\b\f\n\r\t";
        const std::size_t k = kEscaped.find(p_[1]);
        if (k == std::string_view::npos) return false;  // \u (nlohmann decodes it) or a bad escape
        scratch_ += kMeant[k];
        p_ += 2;
        continue;
      }
      const std::size_t n = c < 0x20 ? 0 : Utf8SequenceLength();
      if (n == 0) return false;
      scratch_.append(p_, n);
      p_ += n;
    }
  }

  // The length of the well-formed UTF-8 sequence at p_ (RFC 3629, as
  // nlohmann checks it), or 0.
  std::size_t Utf8SequenceLength() const {
    const auto at = [&](std::size_t i) { return static_cast<unsigned char>(p_[i]); };
    const std::size_t left = static_cast<std::size_t>(end_ - p_);
    const unsigned char c = at(0);
    std::size_t n = 0;
    unsigned char low = 0x80, high = 0xBF;  // the second byte's range
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;
    }
    if (n == 0 || left < n || at(1) < low || at(1) > high) return 0;
    for (std::size_t i = 2; i < n; ++i) {
      if (at(i) < 0x80 || at(i) > 0xBF) return 0;
    }
    return n;
  }

  // A number at p_, given to the handler as nlohmann types it: an integer
  // that fits as such (unsigned when not negative), else a double.
  bool Number() {
    const char* start = p_;
    const auto digits = [&] {
      const char* from = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      return p_ > from;
    };
    if (*p_ == '-') ++p_;
    if (p_ < end_ && *p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    bool integral = true;
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
      integral = false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
      integral = false;
    }
    if (integral && *start == '-') {
      std::int64_t v = 0;
      if (std::from_chars(start, p_, v).ec == std::errc{}) {
        sax_.number_integer(v);
        return true;
      }
    } else if (integral) {
      std::uint64_t v = 0;
      if (std::from_chars(start, p_, v).ec == std::errc{}) {
        sax_.number_unsigned(v);
        return true;
      }
    }
    double v = 0;
    if (std::from_chars(start, p_, v).ec != std::errc{}) return false;  // beyond a double
    scratch_.assign(start, p_);
    sax_.number_float(v, scratch_);
    return true;
  }

  const char* p_;
  const char* end_;
  Sax& sax_;
  std::string scratch_;
};

}  // namespace r2e::internal

#endif  // R2E_CORE_QUICK_JSON_READER_H_
