#include "tools/python_reader.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "core/text.h"

namespace r2e::internal::py {
namespace {

// Lists nest at most this deep; deeper values read as kOther.
constexpr int kMaxNesting = 16;
// Calls read per name: bounds the work on pathological files (an unclosed
// call is scanned to the end).
constexpr std::size_t kMaxCalls = 256;

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsNameStart(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return std::isalpha(u) || c == '_' || u >= 0x80;
}

class PyLexer {
 public:
  explicit PyLexer(std::string_view src) : s_(src) {}

  std::vector<Token> Run() {
    std::vector<Token> out;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (c == '\\' && i_ + 1 < s_.size() && (s_[i_ + 1] == '\n' || s_[i_ + 1] == '\r')) {
        i_ += 2;  // line continuation
        if (i_ < s_.size() && s_[i_ - 1] == '\r' && s_[i_] == '\n') ++i_;
      } else if (c == '\n') {
        if (depth_ == 0 && !out.empty() && out.back().kind != Tok::kNewline) {
          out.push_back({Tok::kNewline, ""});
        }
        ++i_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++i_;
      } else if (c == '"' || c == '\'') {
        out.push_back({Tok::kString, String(false)});
      } else if (IsNameStart(c)) {
        std::size_t b = i_;
        while (i_ < s_.size() && IsNameChar(s_[i_])) ++i_;
        std::string_view word = s_.substr(b, i_ - b);
        if (i_ < s_.size() && (s_[i_] == '"' || s_[i_] == '\'') && IsStringPrefix(word)) {
          const bool raw = word.find_first_of("rR") != std::string_view::npos;
          out.push_back({Tok::kString, String(raw)});
        } else {
          out.push_back({Tok::kName, std::string(word)});
        }
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        std::size_t b = i_;
        while (i_ < s_.size() && (IsNameChar(s_[i_]) || s_[i_] == '.')) ++i_;
        out.push_back({Tok::kNumber, std::string(s_.substr(b, i_ - b))});
      } else {
        std::string op(1, c);
        if (i_ + 1 < s_.size()) {
          const std::string two = std::string(s_.substr(i_, 2));
          if (two == "->" || two == "==" || two == "!=" || two == "<=" || two == ">=" ||
              two == "**" || two == "//") {
            op = two;
          }
        }
        if (op == "(" || op == "[" || op == "{") ++depth_;
        if ((op == ")" || op == "]" || op == "}") && depth_ > 0) --depth_;
        i_ += op.size();
        out.push_back({Tok::kOp, std::move(op)});
      }
    }
    return out;
  }

 private:
  static bool IsStringPrefix(std::string_view w) {
    if (w.empty() || w.size() > 2) return false;
    for (char c : w) {
      if (std::string_view("rRbBuUfF").find(c) == std::string_view::npos) return false;
    }
    return true;
  }

  // A string literal starting at the quote; i_ ends past the closing quote.
  std::string String(bool raw) {
    const char q = s_[i_];
    const bool triple = s_.substr(i_, 3) == std::string(3, q);
    i_ += triple ? 3 : 1;
    std::string out;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (triple ? s_.substr(i_, 3) == std::string(3, q) : c == q) {
        i_ += triple ? 3 : 1;
        return out;
      }
      if (!triple && c == '\n') return out;  // unterminated: stop at the line's end
      if (c != '\\' || i_ + 1 >= s_.size()) {
        out += c;
        ++i_;
        continue;
      }
      const char e = s_[i_ + 1];
      if (raw) {  // a raw string keeps the backslash; it still escapes the quote
        out += c;
        out += e;
        i_ += 2;
        continue;
      }
      i_ += 2;
      switch (e) {
        case '\n':
          break;
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'v':
          out += '\v';
          break;
        case 'x':
        case 'u':
        case 'U': {
          const std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          std::uint32_t cp = 0;
          std::size_t k = 0;
          for (; k < digits && i_ + k < s_.size() && HexValue(s_[i_ + k]) >= 0; ++k) {
            cp = cp * 16 + static_cast<std::uint32_t>(HexValue(s_[i_ + k]));
          }
          if (k < digits) {
            out += '\\';
            out += e;
            break;
          }
          i_ += k;
          AppendUtf8(out, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            std::uint32_t cp = static_cast<std::uint32_t>(e - '0');
            for (int k = 0; k < 2 && i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '7'; ++k, ++i_) {
              cp = cp * 8 + static_cast<std::uint32_t>(s_[i_] - '0');
            }
            AppendUtf8(out, cp);
          } else {
            out += '\\';  // unknown escapes (and \N{...}) stay as written
            out += e;
          }
      }
    }
    return out;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  int depth_ = 0;
};

using TokenRange = std::pair<std::size_t, std::size_t>;  // [begin, end)

// Splits [b, e) at commas outside brackets.
std::vector<TokenRange> SplitTopLevel(const std::vector<Token>& t, std::size_t b, std::size_t e) {
  std::vector<TokenRange> parts;
  int depth = 0;
  std::size_t start = b;
  for (std::size_t i = b; i < e; ++i) {
    if (t[i].kind != Tok::kOp) continue;
    const std::string& op = t[i].text;
    if (op == "(" || op == "[" || op == "{") ++depth;
    if (op == ")" || op == "]" || op == "}") --depth;
    if (op == "," && depth == 0) {
      parts.emplace_back(start, i);
      start = i + 1;
    }
  }
  if (start < e) parts.emplace_back(start, e);
  return parts;
}

// Index of the bracket closing the one at `open`, or t.size().
std::size_t Closing(const std::vector<Token>& t, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < t.size(); ++i) {
    if (t[i].kind != Tok::kOp) continue;
    const std::string& op = t[i].text;
    if (op == "(" || op == "[" || op == "{") ++depth;
    if (op == ")" || op == "]" || op == "}") {
      if (--depth == 0) return i;
    }
  }
  return t.size();
}

// The arguments of the call whose '(' is at `open`.
CallArgs ParseCall(const std::vector<Token>& t, std::size_t open) {
  CallArgs args;
  const std::size_t close = Closing(t, open);
  for (auto [b, e] : SplitTopLevel(t, open + 1, std::min(close, t.size()))) {
    if (e - b >= 2 && t[b].kind == Tok::kName && IsOp(t[b + 1], "=")) {
      args.keywords.emplace(t[b].text, ParseValue(t, b + 2, e));
    } else {
      args.positional.push_back(ParseValue(t, b, e));
    }
  }
  return args;
}

}  // namespace

std::vector<Token> Tokenize(std::string_view source) { return PyLexer(source).Run(); }

bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

bool IsOp(const Token& t, std::string_view op) { return t.kind == Tok::kOp && t.text == op; }

PyValue ParseValue(const std::vector<Token>& t, std::size_t b, std::size_t e, int depth) {
  PyValue v;
  if (b >= e || depth > kMaxNesting) return v;
  bool all_strings = true;
  for (std::size_t i = b; i < e; ++i) all_strings = all_strings && t[i].kind == Tok::kString;
  if (all_strings) {
    v.kind = PyValue::Kind::kString;
    for (std::size_t i = b; i < e; ++i) v.text += t[i].text;
    return v;
  }
  if (e - b == 1 && t[b].kind == Tok::kNumber) {
    v.kind = PyValue::Kind::kNumber;
    v.text = t[b].text;
    return v;
  }
  if (e - b == 2 && IsOp(t[b], "-") && t[b + 1].kind == Tok::kNumber) {
    v.kind = PyValue::Kind::kNumber;
    v.text = "-" + t[b + 1].text;
    return v;
  }
  if (t[b].kind == Tok::kName) {  // a dotted name: argparse.SUPPRESS, str, True
    std::string name = t[b].text;
    std::size_t i = b + 1;
    while (i + 1 < e && IsOp(t[i], ".") && t[i + 1].kind == Tok::kName) {
      name += "." + t[i + 1].text;
      i += 2;
    }
    if (i == e) {
      v.kind = PyValue::Kind::kName;
      v.text = std::move(name);
    }
    return v;
  }
  if ((IsOp(t[b], "[") || IsOp(t[b], "(")) && Closing(t, b) == e - 1) {
    v.kind = PyValue::Kind::kList;
    for (auto [ib, ie] : SplitTopLevel(t, b + 1, e - 1))
      v.items.push_back(ParseValue(t, ib, ie, depth + 1));
    return v;
  }
  return v;
}

std::vector<CallArgs> FindCalls(const std::vector<Token>& t, std::string_view name) {
  std::vector<CallArgs> calls;
  for (std::size_t i = 0; i + 1 < t.size() && calls.size() < kMaxCalls; ++i) {
    if (t[i].kind == Tok::kName && t[i].text == name && IsOp(t[i + 1], "(") &&
        (i == 0 || !(t[i - 1].kind == Tok::kName && t[i - 1].text == "def"))) {
      calls.push_back(ParseCall(t, i + 1));
    }
  }
  return calls;
}

std::string JsonTypeOfPythonType(std::string_view name) {
  if (name == "str") return "string";
  if (name == "int") return "integer";
  if (name == "float") return "number";
  if (name == "bool") return "boolean";
  if (name == "list" || name == "List" || name == "tuple" || name == "Tuple" ||
      name == "Sequence") {
    return "array";
  }
  if (name == "dict" || name == "Dict" || name == "Mapping") return "object";
  return "";
}

std::map<std::string, std::pair<std::string, std::string>> ReturnTypes(
    const std::vector<Token>& t) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i + 2 < t.size(); ++i) {
    if (!(t[i].kind == Tok::kName && t[i].text == "def" && t[i + 1].kind == Tok::kName &&
          IsOp(t[i + 2], "("))) {
      continue;
    }
    std::size_t j = Closing(t, i + 2) + 1;
    if (j + 1 >= t.size() || !IsOp(t[j], "->")) continue;
    // The annotation's last dotted component, and a subscript's first name.
    std::string outer, inner;
    std::size_t k = j + 1;
    for (; k < t.size() && !IsOp(t[k], ":") && !IsOp(t[k], "["); ++k) {
      if (t[k].kind == Tok::kName) outer = t[k].text;
    }
    if (k < t.size() && IsOp(t[k], "[")) {
      for (++k; k < t.size() && !IsOp(t[k], "]") && !IsOp(t[k], ":"); ++k) {
        if (t[k].kind == Tok::kName) inner = t[k].text;
        if (IsOp(t[k], ",") || IsOp(t[k], "[")) break;
      }
    }
    std::string type = JsonTypeOfPythonType(outer);
    if (type.empty() && (t[j + 1].kind == Tok::kString)) type = JsonTypeOfPythonType(t[j + 1].text);
    if (!type.empty())
      out[t[i + 1].text] = {type, type == "array" ? JsonTypeOfPythonType(inner) : ""};
  }
  return out;
}

std::string CleanDoc(std::string_view doc) {
  std::vector<std::string> lines;
  std::size_t b = 0;
  while (true) {
    std::size_t e = doc.find('\n', b);
    std::string line(doc.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  std::size_t margin = std::string::npos;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::size_t indent = lines[i].find_first_not_of(" \t");
    if (indent != std::string::npos) margin = std::min(margin, indent);
  }
  lines[0] = std::string(internal::Trim(lines[0]));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (margin != std::string::npos && lines[i].size() >= margin) {
      lines[i] = lines[i].substr(margin);
    } else if (lines[i].find_first_not_of(" \t") == std::string::npos) {
      lines[i].clear();
    }
    while (!lines[i].empty() && (lines[i].back() == ' ' || lines[i].back() == '\t'))
      lines[i].pop_back();
  }
  std::size_t first = 0, last = lines.size();
  while (first < last && lines[first].empty()) ++first;
  while (last > first && lines[last - 1].empty()) --last;
  std::string out;
  for (std::size_t i = first; i < last; ++i) {
    if (i > first) out += '\n';
    out += lines[i];
  }
  return out;
}

}  // namespace r2e::internal::py
