#include "r2e/tools.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "core/text.h"
#include "r2e/observation.h"
#include "r2e/session.h"
#include "tools/embedded_scripts.h"
#include "tools/served_tools.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFinishCommand = "echo '<<<Finished>>>'";

// ---------------------------------------------------------------------------
// A small Python tokenizer: enough to read module docstrings, argparse calls
// and function return annotations. It never fails; unknown input becomes
// operator tokens.

enum class Tok { kString, kName, kNumber, kOp, kNewline };

struct Token {
  Tok kind;
  std::string text;  // kString: the decoded value
};

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
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

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

// A literal value of a call argument.
struct PyValue {
  enum class Kind { kOther, kString, kName, kNumber, kList };
  Kind kind = Kind::kOther;
  std::string text;  // string value, dotted name or number
  std::vector<PyValue> items;
};

using TokenRange = std::pair<std::size_t, std::size_t>;  // [begin, end)

bool IsOp(const Token& t, std::string_view op) { return t.kind == Tok::kOp && t.text == op; }

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

// Lists nest at most this deep; deeper values read as kOther.
constexpr int kMaxNesting = 16;
// Calls read per name, and bytes of a file read for its description: bounds
// the work on pathological files (an unclosed call is scanned to the end).
constexpr std::size_t kMaxCalls = 256;
constexpr std::size_t kMaxDescribedBytes = 1 << 20;

PyValue ParseValue(const std::vector<Token>& t, std::size_t b, std::size_t e, int depth = 0) {
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

struct CallArgs {
  std::vector<PyValue> positional;
  std::map<std::string, PyValue> keywords;
};

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

// Calls of `name(` (as a function or a method) in the token stream.
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

// JSON types (and array element types) from the return annotations of the
// functions defined in the file: `def parse(text) -> List[int]:`.
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

// inspect.cleandoc: first line stripped, common indentation of the rest
// removed, blank lines at both ends dropped.
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

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsPythonFile(const ToolFile& file) {
  if (internal::EndsWith(file.name, ".py")) return true;
  if (!internal::StartsWith(file.content, "#!")) return false;
  const std::string first_line = file.content.substr(0, file.content.find('\n'));
  return first_line.find("python") != std::string::npos;
}

// The leading comment block of a script (shebang excluded).
std::string CommentDocstring(std::string_view content) {
  std::istringstream in{std::string(content)};
  std::string line, doc;
  bool first = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (first && internal::StartsWith(line, "#!")) {
      first = false;
      continue;
    }
    first = false;
    std::string_view l = internal::Trim(line);
    if (l.empty() && doc.empty()) continue;
    if (l.empty() || l[0] != '#') break;
    l.remove_prefix(1);
    if (!l.empty() && l[0] == ' ') l.remove_prefix(1);
    doc += std::string(l) + "\n";
  }
  return CleanDoc(doc);
}

// Arguments from a docstring's structured block (see tools.h).
std::vector<ToolArgument> ArgumentsFromDocstring(std::string_view doc) {
  std::vector<ToolArgument> args;
  std::istringstream in{std::string(doc)};
  std::string raw;
  bool in_block = false;
  std::size_t item_indent = 0;
  while (std::getline(in, raw)) {
    std::string line;
    for (char c : raw) {
      if (c != '*' && c != '`') line += c;
    }
    const std::string_view trimmed = internal::Trim(line);
    const std::string lower = ToLower(trimmed);
    if (!in_block) {
      in_block = lower == "parameters:" || lower == "arguments:" || lower == "args:";
      continue;
    }
    if (trimmed.empty()) {
      if (!args.empty()) break;
      continue;
    }
    const std::size_t indent = line.find_first_not_of(" \t");
    // An item: [(N) | N. | - ] [--]NAME (TYPE[, required|optional]): DESCRIPTION
    std::string_view rest = trimmed;
    if (!rest.empty() && rest[0] == '(') {
      const std::size_t close = rest.find(')');
      if (close != std::string_view::npos && close > 1 &&
          std::all_of(rest.begin() + 1, rest.begin() + static_cast<std::ptrdiff_t>(close),
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        rest = internal::Trim(rest.substr(close + 1));
      }
    } else if (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0]))) {
      std::size_t k = 0;
      while (k < rest.size() && std::isdigit(static_cast<unsigned char>(rest[k]))) ++k;
      if (k < rest.size() && rest[k] == '.') rest = internal::Trim(rest.substr(k + 1));
    } else if (internal::StartsWith(rest, "- ")) {
      rest = internal::Trim(rest.substr(2));
    }
    bool option = false;
    while (!rest.empty() && rest[0] == '-') {
      rest.remove_prefix(1);
      option = true;
    }
    std::size_t k = 0;
    while (k < rest.size() && (IsNameChar(rest[k]) || rest[k] == '-')) ++k;
    const std::string name(rest.substr(0, k));
    std::string_view after = internal::Trim(rest.substr(k));
    const bool is_item = !name.empty() && !after.empty() && after[0] == '(' &&
                         after.find("):") != std::string_view::npos;
    if (!is_item || (!args.empty() && indent > item_indent)) {
      if (args.empty()) continue;
      // A continuation of the last item's description.
      ToolArgument& last = args.back();
      if (internal::StartsWith(lower, "allowed values:")) {
        std::string_view list = trimmed.substr(std::string_view("allowed values:").size());
        std::size_t p = 0;
        while (p < list.size()) {
          const std::size_t comma = list.find(',', p);
          std::string_view v = internal::Trim(
              list.substr(p, comma == std::string_view::npos ? std::string_view::npos : comma - p));
          while (!v.empty() && (v.front() == '[' || v.front() == '"' || v.front() == '\''))
            v.remove_prefix(1);
          while (!v.empty() && (v.back() == ']' || v.back() == '"' || v.back() == '\''))
            v.remove_suffix(1);
          if (!v.empty()) last.choices.emplace_back(v);
          if (comma == std::string_view::npos) break;
          p = comma + 1;
        }
      } else {
        last.description += (last.description.empty() ? "" : " ") + std::string(trimmed);
      }
      continue;
    }
    item_indent = indent;
    const std::size_t close = after.find("):");
    ToolArgument arg;
    arg.name = name;
    arg.positional = !option && name == "command";
    std::string_view spec = after.substr(1, close - 1);
    std::size_t p = 0;
    while (p <= spec.size()) {
      std::size_t comma = spec.find(',', p);
      const std::string word = ToLower(internal::Trim(
          spec.substr(p, comma == std::string_view::npos ? std::string_view::npos : comma - p)));
      if (word == "required") {
        arg.required = true;
      } else if (word == "optional") {
        arg.required = false;
      } else if (!word.empty()) {
        if (const std::string t = JsonTypeOfPythonType(word); !t.empty()) {
          arg.type = t;
        } else if (word == "string" || word == "integer" || word == "number" || word == "boolean" ||
                   word == "array" || word == "object") {
          arg.type = word;
        }
      }
      if (comma == std::string_view::npos) break;
      p = comma + 1;
    }
    arg.description = std::string(internal::Trim(after.substr(close + 2)));
    args.push_back(std::move(arg));
  }
  return args;
}

bool ValidToolName(std::string_view name) {
  if (name.empty() || name[0] == '.' || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

// Makes every text field valid UTF-8 (descriptions end up in JSON).
void Sanitize(ToolDescription& d) {
  d.docstring = SanitizeUtf8(d.docstring);
  for (auto& a : d.arguments) {
    a.name = SanitizeUtf8(a.name);
    a.description = SanitizeUtf8(a.description);
    for (auto& c : a.choices) c = SanitizeUtf8(c);
  }
}

ToolDescription DescribePython(const ToolFile& file, std::string name) {
  ToolDescription d;
  d.name = std::move(name);
  const std::vector<Token> t =
      PyLexer(std::string_view(file.content).substr(0, kMaxDescribedBytes)).Run();
  // The module docstring: string tokens forming the first statement.
  std::size_t i = 0;
  while (i < t.size() && t[i].kind == Tok::kNewline) ++i;
  std::string doc;
  std::size_t j = i;
  while (j < t.size() && t[j].kind == Tok::kString) doc += t[j++].text;
  if (j > i && (j == t.size() || t[j].kind == Tok::kNewline)) d.docstring = CleanDoc(doc);
  if (d.docstring.empty()) {
    for (const CallArgs& call : FindCalls(t, "ArgumentParser")) {
      auto it = call.keywords.find("description");
      if (it != call.keywords.end() && it->second.kind == PyValue::Kind::kString) {
        d.docstring = CleanDoc(it->second.text);
        break;
      }
    }
  }

  // Names bound to literals at the start of a statement (`COMMANDS = [...]`),
  // so `choices=COMMANDS` reads the list; the first binding wins.
  std::map<std::string, PyValue> constants;
  for (std::size_t k = 0; k + 2 < t.size(); ++k) {
    if ((k == 0 || t[k - 1].kind == Tok::kNewline) && t[k].kind == Tok::kName &&
        IsOp(t[k + 1], "=")) {
      std::size_t e = k + 2;
      while (e < t.size() && t[e].kind != Tok::kNewline) ++e;
      PyValue v = ParseValue(t, k + 2, e);
      if (v.kind != PyValue::Kind::kOther) constants.emplace(t[k].text, std::move(v));
    }
  }

  const auto return_types = ReturnTypes(t);
  const std::vector<CallArgs> calls = FindCalls(t, "add_argument");
  for (const CallArgs& call : calls) {
    std::vector<std::string> flags;
    for (const PyValue& v : call.positional) {
      if (v.kind == PyValue::Kind::kString) flags.push_back(v.text);
    }
    if (flags.empty()) continue;
    auto kw = [&](std::string_view key) -> const PyValue* {
      auto it = call.keywords.find(std::string(key));
      if (it == call.keywords.end()) return nullptr;
      if (it->second.kind == PyValue::Kind::kName && key != "type") {
        if (auto c = constants.find(it->second.text); c != constants.end()) return &c->second;
      }
      return &it->second;
    };
    const PyValue* help = kw("help");
    if (help && help->kind == PyValue::Kind::kName && internal::EndsWith(help->text, "SUPPRESS"))
      continue;

    ToolArgument arg;
    if (flags[0].empty() || flags[0][0] != '-') {
      arg.positional = true;
      arg.name = flags[0];
    } else {
      std::string chosen;
      for (const std::string& f : flags) {
        if (internal::StartsWith(f, "--") && chosen.empty()) chosen = f.substr(2);
      }
      if (chosen.empty())
        chosen = flags[0].substr(flags[0].find_first_not_of('-') == std::string::npos
                                     ? flags[0].size()
                                     : flags[0].find_first_not_of('-'));
      arg.name = chosen;
    }
    if (arg.name.empty() || arg.name == "h" || arg.name == "help") continue;
    bool duplicate = false;
    for (const auto& a : d.arguments) duplicate = duplicate || a.name == arg.name;
    if (duplicate) continue;

    if (help && help->kind == PyValue::Kind::kString) arg.description = CleanDoc(help->text);
    if (const PyValue* type = kw("type"); type && type->kind == PyValue::Kind::kName) {
      const std::string& tn = type->text;
      if (std::string jt = JsonTypeOfPythonType(tn); !jt.empty() && tn != "list" && tn != "dict") {
        arg.type = jt;
      } else if (auto it = return_types.find(tn); it != return_types.end()) {
        arg.type = it->second.first;
        arg.item_type = it->second.second;
      }
    }
    std::string nargs;
    if (const PyValue* n = kw("nargs");
        n && (n->kind == PyValue::Kind::kString || n->kind == PyValue::Kind::kNumber)) {
      nargs = n->text;
    }
    if (const PyValue* action = kw("action"); action && action->kind == PyValue::Kind::kString) {
      if (action->text == "store_true" || action->text == "store_false") arg.type = "boolean";
      if (action->text == "count") arg.type = "integer";
      if (action->text == "append") nargs = "+";
    }
    if (nargs == "+" || nargs == "*" ||
        (!nargs.empty() && std::isdigit(static_cast<unsigned char>(nargs[0])) && nargs != "1")) {
      if (arg.type != "array") {
        arg.item_type = arg.type;
        arg.type = "array";
      }
    }
    if (const PyValue* choices = kw("choices"); choices && choices->kind == PyValue::Kind::kList) {
      for (const PyValue& c : choices->items) {
        if (c.kind == PyValue::Kind::kString || c.kind == PyValue::Kind::kNumber)
          arg.choices.push_back(c.text);
      }
    }
    const PyValue* required = kw("required");
    if (required && required->kind == PyValue::Kind::kName) {
      arg.required = required->text == "True";
    } else if (arg.positional) {
      arg.required = nargs != "?" && nargs != "*";
    }
    d.arguments.push_back(std::move(arg));
  }
  if (calls.empty()) d.arguments = ArgumentsFromDocstring(d.docstring);
  return d;
}

}  // namespace

std::string ToolFile::tool_name() const {
  std::string n = fs::path(name).filename().string();
  for (std::string_view ext : {".py", ".sh"}) {
    if (internal::EndsWith(n, ext) && n.size() > ext.size())
      return n.substr(0, n.size() - ext.size());
  }
  return n;
}

ToolInstall InstallKind(const ToolFile& file) {
  if (internal::EndsWith(file.name, ".sh")) return ToolInstall::kSourced;
  if (internal::EndsWith(file.name, ".py") || internal::StartsWith(file.content, "#!")) {
    return ToolInstall::kExecutable;
  }
  return ToolInstall::kBoth;
}

Result<ToolDescription> DescribeTool(const ToolFile& file) {
  std::string name = file.tool_name();
  if (!ValidToolName(name)) {
    return Status::InvalidArgument(
        "tool file `" + SanitizeUtf8(file.name) +
        "` gives no usable command name (letters, digits, `_`, `-` and `.`, "
        "not starting with `.` or `-`)");
  }
  ToolDescription d;
  if (IsPythonFile(file)) {
    d = DescribePython(file, std::move(name));
  } else {
    d.name = std::move(name);
    d.docstring = CommentDocstring(std::string_view(file.content).substr(0, kMaxDescribedBytes));
    d.arguments = ArgumentsFromDocstring(d.docstring);
  }
  Sanitize(d);
  return d;
}

nlohmann::ordered_json ToolDescription::OpenAiSchema() const {
  nlohmann::ordered_json properties = nlohmann::ordered_json::object();
  nlohmann::ordered_json required = nlohmann::ordered_json::array();
  for (const ToolArgument& a : arguments) {
    nlohmann::ordered_json p = nlohmann::ordered_json::object();
    p["type"] = a.type;
    p["description"] = a.description;
    if (a.type == "array") p["items"] = {{"type", a.item_type.empty() ? "string" : a.item_type}};
    if (!a.choices.empty()) {
      nlohmann::ordered_json choices = nlohmann::ordered_json::array();
      for (const std::string& c : a.choices) {
        // Numeric choices of a numeric argument stay numbers.
        auto parsed = nlohmann::ordered_json::parse(c, nullptr, false);
        const bool numeric = (a.type == "integer" || a.type == "number") && parsed.is_number();
        choices.push_back(numeric ? parsed : nlohmann::ordered_json(c));
      }
      p["enum"] = std::move(choices);
    }
    properties[a.name] = std::move(p);
    if (a.required) required.push_back(a.name);
  }
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();
  parameters["type"] = "object";
  parameters["properties"] = std::move(properties);
  parameters["required"] = std::move(required);
  nlohmann::ordered_json function = nlohmann::ordered_json::object();
  function["name"] = name;
  function["description"] = docstring;
  function["parameters"] = std::move(parameters);
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["type"] = "function";
  out["function"] = std::move(function);
  return out;
}

std::string ToolsPromptText(const std::vector<ToolDescription>& tools) {
  std::string out;
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const ToolDescription& t = tools[i];
    const std::string n = std::to_string(i + 1);
    if (i > 0) out += "\n\n";
    out += "---- BEGIN FUNCTION #" + n + ": " + t.name + " ----\n";
    out += internal::StartsWith(t.docstring, "Description:") ? t.docstring
                                                             : "Description: " + t.docstring;
    out += "\n\n";
    if (t.arguments.empty()) {
      out += "No parameters are required for this function.\n";
    } else {
      out += "Parameters:\n";
      for (std::size_t k = 0; k < t.arguments.size(); ++k) {
        const ToolArgument& a = t.arguments[k];
        out += "  (" + std::to_string(k + 1) + ") " + a.name + " (" + a.type + ", " +
               (a.required ? "required" : "optional") + "): " + a.description + "\n";
        if (!a.choices.empty()) {
          out += "Allowed values: [";
          for (std::size_t c = 0; c < a.choices.size(); ++c)
            out += (c ? ", `" : "`") + a.choices[c] + "`";
          out += "]\n";
        }
      }
    }
    out += "---- END FUNCTION #" + n + " ----";
  }
  return out;
}

namespace {

std::string_view EmbeddedFile(std::string_view name) {
  for (std::size_t i = 0; i < internal::kEmbeddedScriptCount; ++i) {
    if (internal::kEmbeddedScripts[i].file == name) return internal::kEmbeddedScripts[i].content;
  }
  return {};
}

// sets.txt (written by src/tools/toolsets.py): "<set> <command>..." per line.
std::vector<std::pair<std::string, std::vector<std::string>>> EmbeddedSets() {
  std::vector<std::pair<std::string, std::vector<std::string>>> sets;
  std::istringstream in{std::string(EmbeddedFile("sets.txt"))};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name, command;
    if (!(words >> name)) continue;
    std::vector<std::string> commands;
    while (words >> command) commands.push_back(command);
    sets.emplace_back(std::move(name), std::move(commands));
  }
  return sets;
}

}  // namespace

std::vector<std::string> ToolSetNames() {
  std::vector<std::string> names;
  for (const auto& set : EmbeddedSets()) names.push_back(set.first);
  return names;
}

Result<std::vector<ToolFile>> ToolSet(std::string_view name) {
  for (const auto& [set, commands] : EmbeddedSets()) {
    if (set != name) continue;
    std::vector<ToolFile> out;
    for (const std::string& command : commands) {
      const std::string file = set + "/" + command + ".py";
      const std::string_view content = EmbeddedFile(file);
      if (content.empty()) return Status::Internal("tool script " + file + " is not embedded in the library");
      out.push_back({command + ".py", std::string(content)});
    }
    return out;
  }
  std::string names;
  for (const auto& n : ToolSetNames()) names += (names.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown tool set `" + SanitizeUtf8(name) + "`; known sets: " + names);
}

Result<ToolFile> LoadToolFile(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return Status::NotFound("tool file " + path.string() +
                            " does not exist or is not a regular file");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in && !in.eof()) return Status::Unavailable("cannot read tool file " + path.string());
  ToolFile file{path.filename().string(), content.str()};
  if (auto d = DescribeTool(file); !d.ok()) return d.status();
  return file;
}

Result<std::vector<ToolFile>> LoadToolFiles(const std::vector<fs::path>& paths) {
  std::vector<ToolFile> out;
  for (const fs::path& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      R2E_ASSIGN_OR_RETURN(ToolFile f, LoadToolFile(p));
      out.push_back(std::move(f));
      continue;
    }
    std::vector<fs::path> entries;
    // increment(ec), not ++: iteration must not throw.
    for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string n = it->path().filename().string();
      std::error_code fec;
      if (!n.empty() && n[0] != '.' && it->is_regular_file(fec)) entries.push_back(it->path());
    }
    if (ec)
      return Status::Unavailable("cannot list tool directory " + p.string() + ": " + ec.message());
    std::sort(entries.begin(), entries.end());
    for (const fs::path& e : entries) {
      R2E_ASSIGN_OR_RETURN(ToolFile f, LoadToolFile(e));
      out.push_back(std::move(f));
    }
  }
  return out;
}

Result<std::vector<InstalledTool>> AddCommands(Runtime& runtime, const std::vector<ToolFile>& files,
                                               const AddCommandsOptions& options) {
  // Describe everything first, so a bad file installs nothing; a later file
  // replaces an earlier one of the same command name.
  std::vector<std::pair<const ToolFile*, ToolDescription>> todo;
  for (const ToolFile& f : files) {
    R2E_ASSIGN_OR_RETURN(ToolDescription d, DescribeTool(f));
    auto same = std::find_if(todo.begin(), todo.end(),
                             [&](const auto& p) { return p.second.name == d.name; });
    if (same != todo.end()) todo.erase(same);
    todo.emplace_back(&f, std::move(d));
  }

  std::vector<std::string> dirs = {options.bin_dir};
  if (options.bin_dir.empty()) dirs = {"/usr/local/bin", "/root/.local/bin"};
  std::size_t dir = 0;
  // Writes into the current directory, moving on to the fallback when the
  // first write into a directory fails.
  bool proven = false;
  auto write = [&](const std::string& file, const std::string& content,
                   int mode) -> Result<std::string> {
    while (true) {
      const std::string path = dirs[dir] + "/" + file;
      Status s = runtime.write_file(path, content, mode);
      if (s.ok()) {
        proven = true;
        return path;
      }
      if (proven || dir + 1 >= dirs.size()) return s.WithContext("installing tool " + file);
      ++dir;
    }
  };

  std::vector<InstalledTool> out;
  for (auto& [file, description] : todo) {
    InstalledTool t;
    t.kind = InstallKind(*file);
    if (t.kind != ToolInstall::kSourced) {
      R2E_ASSIGN_OR_RETURN(t.executable, write(description.name, file->content, 0755));
    }
    if (t.kind == ToolInstall::kSourced) {
      R2E_ASSIGN_OR_RETURN(t.sourced,
                           write(fs::path(file->name).filename().string(), file->content, 0644));
    } else if (t.kind == ToolInstall::kBoth) {
      t.sourced = t.executable;
    }
    t.servable = t.kind == ToolInstall::kExecutable && internal::ServableTool(file->content);
    t.description = std::move(description);
    out.push_back(std::move(t));
  }
  for (const InstalledTool& t : out) {
    if (!t.servable) continue;
    const std::string bin = t.executable.substr(0, t.executable.rfind('/'));
    R2E_RETURN_IF_ERROR(runtime.write_file(internal::ToolServerScriptPath(bin), internal::ToolServerScript(), 0644)
                            .WithContext("installing r2e's tool server"));
    break;
  }
  return out;
}

std::string ShlexQuote(std::string_view word) {
  if (word.empty()) return "''";
  const bool safe = std::all_of(word.begin(), word.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x80 && std::isalnum(u)) ||
           std::string_view("@%+=:,./-_").find(c) != std::string_view::npos;
  });
  if (safe) return std::string(word);
  // Python's: '...' with each ' written as '"'"'.
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\"'\"'";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

Result<std::string> ActionToCommand(const Action& action) {
  if (action.empty()) return std::string();
  if (action.is_exact_finish()) return std::string(kFinishCommand);
  if (action.arguments && !action.arguments->is_object()) {
    return Status::InvalidArgument("the arguments of the call to `" +
                                   SanitizeUtf8(action.function_name) + "` are a JSON " +
                                   action.arguments->type_name() + ", not an object");
  }
  std::string cmd = ShlexQuote(action.function_name);
  if (auto command = action.parameter("command")) {
    // A function call's `command` must be a string; null leaves it out, as
    // the scaffold's parameters.get("command") reads it.
    const nlohmann::ordered_json* typed = nullptr;
    if (action.arguments) {
      auto it = action.arguments->find("command");
      if (it != action.arguments->end()) typed = &*it;
    }
    if (typed != nullptr && !typed->is_string() && !typed->is_null()) {
      return Status::InvalidArgument(std::string("parameter `command` is a JSON ") +
                                     typed->type_name() + ", not a string");
    }
    if (typed == nullptr || !typed->is_null()) {
      cmd += ' ';
      cmd += ShlexQuote(*command);
    }
  }
  for (const auto& [key, value] : action.parameters) {
    if (key == "command") continue;
    cmd += ' ';
    cmd += ShlexQuote("--" + key);
    cmd += ' ';
    cmd += ShlexQuote(value);
  }
  return cmd;
}

}  // namespace r2e
