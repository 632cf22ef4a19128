#include "core/python_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace r2e::internal {
namespace {

using OJson = nlohmann::ordered_json;
using Members = OJson::object_t::Container;  // ordered_map's underlying vector

// Builds an ordered_json from parser events, finding repeated keys through a
// hash index instead of ordered_map's linear search.
class OrderedBuilder final : public nlohmann::json_sax<OJson> {
 public:
  bool null() override { return Add(OJson(nullptr)); }
  bool boolean(bool v) override { return Add(OJson(v)); }
  bool number_integer(number_integer_t v) override { return Add(OJson(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Add(OJson(v)); }
  bool number_float(number_float_t v, const string_t& /*text*/) override { return Add(OJson(v)); }
  bool string(string_t& v) override { return Add(OJson(std::move(v))); }
  bool binary(binary_t& /*v*/) override { return Fail("binary values are not JSON"); }
  bool start_object(std::size_t /*elements*/) override { return Open(OJson::object()); }
  bool key(string_t& k) override {
    stack_.back().key = std::move(k);
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t /*elements*/) override { return Open(OJson::array()); }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& e) override {
    return Fail(e.what());
  }

  OJson& root() { return root_; }
  const std::string& error() const { return error_; }

 private:
  struct Frame {
    OJson value;
    std::unordered_map<std::string, std::size_t> index;  // object key -> member slot
    std::string key;                                     // the key of the next value
  };

  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  bool Open(OJson container) {
    if (stack_.size() >= kMaxJsonDepth) {
      return Fail("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    stack_.push_back(Frame{std::move(container), {}, {}});
    return true;
  }
  bool Close() {
    Frame done = std::move(stack_.back());
    stack_.pop_back();
    return Add(std::move(done.value));
  }
  bool Add(OJson v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return true;
    }
    Frame& f = stack_.back();
    if (f.value.is_array()) {
      f.value.get_ref<OJson::array_t&>().push_back(std::move(v));
      return true;
    }
    Members& members = f.value.get_ref<OJson::object_t&>();
    auto [it, inserted] = f.index.try_emplace(f.key, members.size());
    if (inserted) {
      members.emplace_back(std::move(f.key), std::move(v));
    } else {
      members[it->second].second = std::move(v);
    }
    return true;
  }

  OJson root_;
  std::vector<Frame> stack_;
  std::string error_;
};

// Code points Python's str.isprintable() rejects above ASCII, as ranges:
// C1 controls, separators (Zs but space, Zl, Zp), format characters (Cf),
// surrogates, private use and the noncharacters of the BMP.
constexpr std::pair<char32_t, char32_t> kNonPrintable[] = {
    {0x80, 0xa0},       {0xad, 0xad},       {0x600, 0x605},     {0x61c, 0x61c},
    {0x6dd, 0x6dd},     {0x70f, 0x70f},     {0x890, 0x891},     {0x8e2, 0x8e2},
    {0x1680, 0x1680},   {0x180e, 0x180e},   {0x2000, 0x200f},   {0x2028, 0x202f},
    {0x205f, 0x206f},   {0x3000, 0x3000},   {0xd800, 0xf8ff},   {0xfdd0, 0xfdef},
    {0xfeff, 0xfeff},   {0xfff9, 0xfffb},   {0xfffe, 0xffff},   {0x110bd, 0x110bd},
    {0x110cd, 0x110cd}, {0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a},
    {0xe0001, 0xe0001}, {0xe0020, 0xe007f}, {0xf0000, 0x10ffff}};

bool IsPrintable(char32_t cp) {
  for (const auto& [lo, hi] : kNonPrintable) {
    if (cp >= lo && cp <= hi) return false;
  }
  return (cp & 0xfffe) != 0xfffe;  // the noncharacters ending every plane
}

// Decodes the UTF-8 character at s[i] (valid UTF-8: nlohmann's parser checks
// strings); sets `len`. A stray byte reads as itself.
char32_t DecodeAt(std::string_view s, std::size_t i, std::size_t& len) {
  const auto b = static_cast<unsigned char>(s[i]);
  len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
  if (i + len > s.size()) len = 1;
  if (len == 1) return b;
  char32_t cp = len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
  for (std::size_t k = 1; k < len; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  return cp;
}

void AppendEscape(std::string& out, const char* format, char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, format, static_cast<unsigned>(cp));
  out += buf;
}

// repr() of a str.
void AppendStringRepr(std::string_view s, std::string& out) {
  const bool single = s.find('\'') != std::string_view::npos;
  const bool dbl = s.find('"') != std::string_view::npos;
  const char quote = single && !dbl ? '"' : '\'';
  out += quote;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = 1;
    const char32_t cp = DecodeAt(s, i, len);
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x20 || cp == 0x7f) {
      AppendEscape(out, "\\x%02x", cp);
    } else if (cp < 0x80 || IsPrintable(cp)) {
      out.append(s.substr(i, len));
    } else if (cp <= 0xff) {
      AppendEscape(out, "\\x%02x", cp);
    } else if (cp <= 0xffff) {
      AppendEscape(out, "\\u%04x", cp);
    } else {
      AppendEscape(out, "\\U%08x", cp);
    }
    i += len;
  }
  out += quote;
}

// repr() of a float: the shortest digits that read back, in fixed notation
// when the decimal point falls in (-4, 16], else as d.ddde+XX.
void AppendFloatRepr(double d, std::string& out) {
  if (std::isnan(d)) {
    out += "nan";
    return;
  }
  if (std::isinf(d)) {
    out += d < 0 ? "-inf" : "inf";
    return;
  }
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view s(buf, static_cast<std::size_t>(result.ptr - buf));  // [-]d[.ddd]e[+-]XX
  if (!s.empty() && s.front() == '-') {
    out += '-';
    s.remove_prefix(1);
  }
  const std::size_t e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::string_view exp_text = s.substr(e + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  const int point = exponent + 1;  // digits before the decimal point
  const int n = static_cast<int>(digits.size());
  if (point > -4 && point <= 16) {
    if (point <= 0) {
      out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    } else if (point >= n) {
      out += digits + std::string(static_cast<std::size_t>(point - n), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<std::size_t>(point)) + "." +
             digits.substr(static_cast<std::size_t>(point));
    }
    return;
  }
  out += digits[0];
  if (n > 1) out += "." + digits.substr(1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  out += exp_buf;
}

void AppendRepr(const OJson& v, std::string& out) {
  switch (v.type()) {
    case OJson::value_t::null:
      out += "None";
      break;
    case OJson::value_t::boolean:
      out += v.get<bool>() ? "True" : "False";
      break;
    case OJson::value_t::number_integer:
      out += std::to_string(v.get<std::int64_t>());
      break;
    case OJson::value_t::number_unsigned:
      out += std::to_string(v.get<std::uint64_t>());
      break;
    case OJson::value_t::number_float:
      AppendFloatRepr(v.get<double>(), out);
      break;
    case OJson::value_t::string:
      AppendStringRepr(v.get_ref<const std::string&>(), out);
      break;
    case OJson::value_t::array: {
      out += '[';
      bool first = true;
      for (const OJson& item : v) {
        if (!first) out += ", ";
        first = false;
        AppendRepr(item, out);
      }
      out += ']';
      break;
    }
    case OJson::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out += ", ";
        first = false;
        AppendStringRepr(key, out);
        out += ": ";
        AppendRepr(item, out);
      }
      out += '}';
      break;
    }
    default:  // binary and discarded values never come from ParseOrderedJson
      out += "None";
      break;
  }
}

}  // namespace

Result<nlohmann::ordered_json> ParseOrderedJson(std::string_view text) {
  OrderedBuilder builder;
  bool ok = false;
  try {
    ok = OJson::sax_parse(text, &builder);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(e.what());
  }
  if (!ok)
    return Status::InvalidArgument(builder.error().empty() ? "parse error" : builder.error());
  return std::move(builder.root());
}

std::string PythonStr(const nlohmann::ordered_json& value) {
  if (value.is_string()) return value.get<std::string>();
  std::string out;
  AppendRepr(value, out);
  return out;
}

}  // namespace r2e::internal
