#include "r2e/action.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace r2e {
namespace {

constexpr std::string_view kFunctionOpen = "<function";
constexpr std::string_view kFunctionClose = "</function>";
constexpr std::string_view kParameterOpen = "<parameter";
constexpr std::string_view kParameterClose = "</parameter>";
constexpr std::size_t kNone = std::string_view::npos;

bool IsAsciiSpace(unsigned char c) {
  // Python's str.isspace() for ASCII: also the separators \x1c-\x1f.
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

// Length of a Unicode whitespace character (UTF-8) that Python's str.strip()
// removes, starting at s[i] (or ending at s[i] when `backward`); 0 if none.
std::size_t UnicodeSpaceLen(std::string_view s, std::size_t i, bool backward) {
  static constexpr std::string_view kSpaces[] = {
      "\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81",
      "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86",
      "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8",
      "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80"};
  for (std::string_view sp : kSpaces) {
    if (backward) {
      if (i + 1 >= sp.size() && s.substr(i + 1 - sp.size(), sp.size()) == sp) return sp.size();
    } else if (s.substr(i, sp.size()) == sp) {
      return sp.size();
    }
  }
  return 0;
}

// Like Python's str.strip() with no argument, on UTF-8 text.
std::string_view Strip(std::string_view s) {
  std::size_t b = 0;
  while (b < s.size()) {
    if (IsAsciiSpace(static_cast<unsigned char>(s[b]))) {
      ++b;
    } else if (std::size_t n = UnicodeSpaceLen(s, b, false); n > 0) {
      b += n;
    } else {
      break;
    }
  }
  std::size_t e = s.size();
  while (e > b) {
    if (IsAsciiSpace(static_cast<unsigned char>(s[e - 1]))) {
      --e;
    } else if (std::size_t n = UnicodeSpaceLen(s, e - 1, true); n > 0 && e - n >= b) {
      e -= n;
    } else {
      break;
    }
  }
  return s.substr(b, e - b);
}

// One `<opener\s*=\s*KEY>` tag, as the scaffold's regex `<opener\s*=\s*([^>]+)>`
// matches it: KEY runs to the next '>' and is stripped.
struct Tag {
  std::size_t start = kNone;  // position of '<'; kNone: no tag
  std::string_view key;       // stripped
  std::size_t end = kNone;    // just past '>'
};

// The first tag with a non-empty key at or after `from`. Linear in the bytes
// scanned: once no '>' follows, no later tag can match either.
Tag FindTag(std::string_view text, std::size_t from, std::string_view opener) {
  std::size_t pos = from;
  while (pos < text.size()) {
    std::size_t start = text.find(opener, pos);
    if (start == kNone) return {};
    std::size_t i = start + opener.size();
    while (i < text.size() && IsAsciiSpace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size() || text[i] != '=') {
      pos = start + 1;
      continue;
    }
    std::size_t close = text.find('>', i + 1);
    if (close == kNone) return {};
    std::string_view key = Strip(text.substr(i + 1, close - i - 1));
    if (key.empty()) {
      // Only whitespace before '>': not a tag. Resume after it (nothing
      // between can start another tag, since it is all whitespace).
      pos = close + 1;
      continue;
    }
    return Tag{start, key, close + 1};
  }
  return {};
}

// Finds the next occurrence lazily and reuses it until the scan passes it,
// so a parse scans each byte a bounded number of times per pattern.
class NextFinder {
 public:
  NextFinder(std::string_view text, std::string_view pattern, bool is_tag)
      : text_(text), pattern_(pattern), is_tag_(is_tag) {}
  std::size_t at_or_after(std::size_t pos) {
    if (!valid_ || (found_ != kNone && found_ < pos)) {
      found_ = is_tag_ ? FindTag(text_, pos, pattern_).start : text_.find(pattern_, pos);
      valid_ = true;
    }
    return found_;
  }

 private:
  std::string_view text_;
  std::string_view pattern_;
  bool is_tag_;
  bool valid_ = false;
  std::size_t found_ = kNone;
};

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::string> Action::parameter(std::string_view name) const {
  for (const auto& [k, v] : parameters) {
    if (k == name) return v;
  }
  return std::nullopt;
}

void Action::set_parameter(std::string name, std::string value) {
  for (auto& [k, v] : parameters) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  parameters.emplace_back(std::move(name), std::move(value));
}

bool Action::is_finish() const {
  std::string lower = ToLower(function_name);
  return lower.find("finish") != std::string::npos || lower.find("submit") != std::string::npos;
}

std::string Action::ToXml() const {
  std::string out = "<function=" + function_name + ">\n";
  for (const auto& [k, v] : parameters) {
    out += "<parameter=";
    out += k;
    out += '>';
    out += v;
    out += "</parameter>\n";
  }
  out += "</function>";
  return out;
}

Action ParseAction(std::string_view text) {
  Action action;
  Tag fn = FindTag(text, 0, kFunctionOpen);
  if (fn.start == kNone) {
    action.thought = std::string(Strip(text));
    return action;
  }
  action.thought = std::string(Strip(text.substr(0, fn.start)));
  action.function_name = std::string(fn.key);

  // Parameters follow the function tag until `</function>`, a second function
  // tag, or the end of the text. Values are taken up to the first
  // `</parameter>` (as the scaffold's non-greedy regex), so a value may hold
  // `<`, `>`, even `</function>`; an unterminated value is dropped rather
  // than run half-written.
  NextFinder next_close(text, kFunctionClose, false);
  NextFinder next_function(text, kFunctionOpen, true);
  std::unordered_map<std::string_view, std::size_t> index;  // key -> slot
  std::size_t pos = fn.end;
  while (pos < text.size()) {
    Tag param = FindTag(text, pos, kParameterOpen);
    if (param.start == kNone) break;
    const std::size_t stop = std::min(next_close.at_or_after(pos), next_function.at_or_after(pos));
    if (stop < param.start) break;
    std::size_t value_end = text.find(kParameterClose, param.end);
    if (value_end == kNone) break;
    std::string value(Strip(text.substr(param.end, value_end - param.end)));
    // A repeated key keeps the last value in the first key's slot (as a
    // Python dict does); the index keeps this linear in the key count.
    auto [it, inserted] = index.try_emplace(param.key, action.parameters.size());
    if (inserted) {
      action.parameters.emplace_back(std::string(param.key), std::move(value));
    } else {
      action.parameters[it->second].second = std::move(value);
    }
    pos = value_end + kParameterClose.size();
  }
  return action;
}

Result<Action> ActionFromToolCall(std::string_view name, std::string_view arguments_json) {
  Action action;
  action.function_name = std::string(Strip(name));
  std::string_view args = Strip(arguments_json);
  if (args.empty()) return action;  // models send "" for a call without arguments

  // Record the top-level keys in the order given while parsing (a std::map
  // object forgets it; ordered_json inserts in quadratic time).
  std::vector<std::string> order;
  auto record_keys = [&order](int depth, nlohmann::json::parse_event_t event,
                              nlohmann::json& parsed) {
    if (depth == 1 && event == nlohmann::json::parse_event_t::key)
      order.push_back(parsed.get<std::string>());
    return true;
  };
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(args, record_keys);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument("arguments of tool call '" + action.function_name +
                                   "' are not valid JSON: " + e.what());
  }
  if (!parsed.is_object()) {
    return Status::InvalidArgument("arguments of tool call '" + action.function_name +
                                   "' must be a JSON object, got " + parsed.type_name());
  }
  // A repeated key holds its last value (nlohmann overwrites) in the first
  // key's slot, as ParseAction does.
  std::unordered_set<std::string_view> seen;
  for (const std::string& key : order) {
    if (!seen.insert(key).second) continue;
    auto it = parsed.find(key);
    if (it == parsed.end()) continue;
    action.parameters.emplace_back(
        key, it->is_string() ? it->get<std::string>()
                             : it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return action;
}

}  // namespace r2e
