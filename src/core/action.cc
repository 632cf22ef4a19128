#include "r2e/action.h"

#include <cctype>
#include <cstddef>
#include <unordered_map>

#include "core/py_text.h"
#include "core/python_json.h"
#include "core/text.h"

namespace r2e {
namespace {

constexpr std::string_view kFunctionOpen = "<function";
constexpr std::string_view kParameterOpen = "<parameter";
constexpr std::string_view kParameterClose = "</parameter>";
// The blocks the scaffold's agent cuts out of a reply (its regexes
// `(?s)(<function=.*?</function>)` and `(?s)(<think>.*?</think>)`).
constexpr std::string_view kBlockOpen = "<function=";
constexpr std::string_view kBlockClose = "</function>";
constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::size_t kNone = std::string_view::npos;

// Python's str.strip() and str.lstrip() with no argument, on UTF-8 text.
using internal::PyLStrip;
using internal::PyStrip;

// One `<opener\s*=\s*KEY>` tag, as the scaffold's regex `<opener\s*=\s*([^>]+)>`
// matches it: KEY runs to the next '>' (at least one character) and is
// stripped, so a KEY of spaces only reads as empty.
struct Tag {
  std::size_t start = kNone;  // position of '<'; kNone: no tag
  std::string_view key;       // stripped
  std::size_t end = kNone;    // just past '>'
};

// The first tag at or after `from`. Linear in the bytes scanned: once no '>'
// follows, no later tag can match either.
Tag FindTag(std::string_view text, std::size_t from, std::string_view opener) {
  std::size_t pos = from;
  while (pos < text.size()) {
    const std::size_t start = text.find(opener, pos);
    if (start == kNone) return {};
    // `\s*`: Python's regex whitespace is str.isspace(), Unicode spaces too.
    const std::size_t i = text.size() - PyLStrip(text.substr(start + opener.size())).size();
    if (i >= text.size() || text[i] != '=') {
      pos = start + 1;
      continue;
    }
    const std::size_t close = text.find('>', i + 1);
    if (close == kNone) return {};
    if (close == i + 1) {  // `[^>]+` needs a character: no tag here
      pos = start + 1;
      continue;
    }
    return Tag{start, PyStrip(text.substr(i + 1, close - i - 1)), close + 1};
  }
  return {};
}

// The span of the first `open...close` block (close searched after open), or
// {kNone, 0}.
std::pair<std::size_t, std::size_t> FirstBlock(std::string_view text, std::string_view open,
                                               std::string_view close) {
  const std::size_t start = text.find(open);
  if (start == kNone) return {kNone, 0};
  const std::size_t end = text.find(close, start + open.size());
  if (end == kNone) return {kNone, 0};
  return {start, end + close.size() - start};
}

using internal::ToLower;

Status NotAnObject(const Action& action) {
  return Status::InvalidArgument("the arguments of the call to `" + action.function_name +
                                 "` are a JSON " + action.arguments->type_name() +
                                 ", not an object");
}

}  // namespace

std::optional<std::string> Action::parameter(std::string_view name) const {
  for (const auto& [k, v] : parameters) {
    if (k == name) return v;
  }
  return std::nullopt;
}

void Action::set_parameter(std::string name, std::string value) {
  if (arguments && arguments->is_object()) (*arguments)[name] = value;
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

bool Action::is_exact_finish() const {
  return function_name == "finish" || function_name == "submit";
}

std::string Action::ToXml() const {
  std::string out = "<function=" + function_name + ">\n";
  for (const auto& [k, v] : parameters) {
    out += "  <parameter=";
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
  const Tag fn = FindTag(text, 0, kFunctionOpen);
  if (fn.start == kNone) {
    action.thought = std::string(PyStrip(text));
  } else {
    action.thought = std::string(PyStrip(text.substr(0, fn.start)));
    action.function_name = std::string(fn.key);
  }

  // Every parameter of the text, as the scaffold's re.findall: a value runs
  // to the first `</parameter>` (so it may hold `<`, `>`, even
  // `</function>`), and the scan goes on after it. Without a `</parameter>`
  // after a tag no later tag can match either.
  std::unordered_map<std::string_view, std::size_t> index;  // key -> slot
  std::size_t pos = 0;
  while (pos < text.size()) {
    const Tag param = FindTag(text, pos, kParameterOpen);
    if (param.start == kNone) break;
    const std::size_t value_end = text.find(kParameterClose, param.end);
    if (value_end == kNone) break;
    pos = value_end + kParameterClose.size();
    std::string value(PyStrip(text.substr(param.end, value_end - param.end)));
    // A repeated key keeps the last value in the first key's slot (as a
    // Python dict does); the index keeps this linear in the key count.
    auto [it, inserted] = index.try_emplace(param.key, action.parameters.size());
    if (inserted) {
      action.parameters.emplace_back(std::string(param.key), std::move(value));
    } else {
      action.parameters[it->second].second = std::move(value);
    }
  }
  return action;
}

Action ParseResponse(std::string_view text) {
  const auto [start, length] = FirstBlock(text, kBlockOpen, kBlockClose);
  Action action = start == kNone ? Action{} : ParseAction(text.substr(start, length));
  const auto [think, think_length] = FirstBlock(text, kThinkOpen, kThinkClose);
  action.thought = think == kNone ? "" : std::string(PyStrip(text.substr(think, think_length)));
  return action;
}

Action ParseResponseV2(std::string_view text) {
  const auto [start, length] = FirstBlock(text, kBlockOpen, kBlockClose);
  Action action = start == kNone ? Action{} : ParseAction(text.substr(start, length));
  action.thought = std::string(PyStrip(start == kNone ? text : text.substr(0, start)));
  return action;
}

std::string AssistantHistoryContent(const Action& action) {
  return action.thought + "\n\n" + action.ToXml();
}

Result<std::string> ActionToXml(const Action& action) {
  if (action.arguments && !action.arguments->is_object()) return NotAnObject(action);
  return action.ToXml();
}

Result<Action> ActionFromToolCall(std::string_view name, std::string_view arguments_json) {
  Action action;
  action.function_name = std::string(name);
  auto parsed = internal::ParseOrderedJson(arguments_json);
  if (!parsed.ok()) {
    return Status::InvalidArgument("arguments of tool call '" + action.function_name +
                                   "' are not valid JSON: " + parsed.status().message());
  }
  action.arguments = std::move(parsed).value();
  if (action.arguments->is_object()) {
    for (const auto& [key, value] : action.arguments->items()) {
      action.parameters.emplace_back(key, internal::PythonStr(value));
    }
  }
  return action;
}

Action ActionFromReply(std::string_view content, const std::vector<ToolCall>& calls,
                       Status* error) {
  Status why;
  Action action;
  if (calls.empty()) {
    why = Status::InvalidArgument("the reply has no tool call");
  } else if (auto read = ActionFromToolCall(calls.front().name, calls.front().arguments);
             read.ok()) {
    action = std::move(read).value();
  } else {
    why = read.status();
  }
  action.thought = std::string(content);
  if (error != nullptr) *error = why;
  return action;
}

}  // namespace r2e
