// DescribeTool and what it gives: a tool's name, docstring and arguments,
// read from its file without running it (argparse calls and the module
// docstring of a Python script, the leading comment block of any other), and
// the two forms a model is shown (an OpenAI schema, the scaffold's prompt text).
#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>
#include <utility>

#include "core/text.h"
#include "r2e/observation.h"
#include "r2e/tools.h"
#include "tools/python_reader.h"

namespace r2e {
namespace {

using internal::ToLower;
using internal::py::CallArgs;
using internal::py::CleanDoc;
using internal::py::FindCalls;
using internal::py::IsNameChar;
using internal::py::IsOp;
using internal::py::JsonTypeOfPythonType;
using internal::py::ParseValue;
using internal::py::PyValue;
using internal::py::ReturnTypes;
using internal::py::Tok;
using internal::py::Token;

// Bytes of a file read for its description: bounds the work on pathological files.
constexpr std::size_t kMaxDescribedBytes = 1 << 20;

bool IsPythonFile(const ToolFile& file) {
  if (file.name.ends_with(".py")) return true;
  if (!file.content.starts_with("#!")) return false;
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
    if (first && line.starts_with("#!")) {
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
    } else if (rest.starts_with("- ")) {
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
      if (lower.starts_with("allowed values:")) {
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
      internal::py::Tokenize(std::string_view(file.content).substr(0, kMaxDescribedBytes));
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
    if (help && help->kind == PyValue::Kind::kName && help->text.ends_with("SUPPRESS"))
      continue;

    ToolArgument arg;
    if (flags[0].empty() || flags[0][0] != '-') {
      arg.positional = true;
      arg.name = flags[0];
    } else {
      std::string chosen;
      for (const std::string& f : flags) {
        if (f.starts_with("--") && chosen.empty()) chosen = f.substr(2);
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
    out += t.docstring.starts_with("Description:") ? t.docstring
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

}  // namespace r2e
