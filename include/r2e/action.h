// Action: one tool call of the agent, read as the R2E scaffold reads it.
//
// Text form (models without function calling):
//   <function=execute_bash>
//   <parameter=cmd>ls -la</parameter>
//   </function>
// ParseResponse reads a model's reply as the scaffold's agent does (the first
// `<function=...</function>` block, the first `<think>` block as thought);
// ParseAction reads any text as the scaffold's Action.from_string. Parsing
// never fails: text without a function tag is an empty action (the
// observation then reminds the agent to call a function).
//
// Function calling: ActionFromToolCall reads one OpenAI-style tool call,
// ActionFromReply a whole reply as the scaffold's agent does.
#ifndef R2E_ACTION_H_
#define R2E_ACTION_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/status.h"

namespace r2e {

struct Action {
  std::string function_name;  // empty: no function call
  // In the order given; names are unique (a repeated name keeps the last
  // value in the first one's place). Values are text: a function call's
  // non-string JSON values as Python's str() shows them (True, None,
  // [10, 20], {'a': 1}), as the scaffold passes them to the tool.
  std::vector<std::pair<std::string, std::string>> parameters;
  // The model's reasoning, kept for records (what it is depends on the
  // reader: see ParseAction, ParseResponse, ParseResponseV2, ActionFromReply).
  std::string thought;
  // For an action read from a function call: its arguments as parsed JSON
  // (an object in the order sent, or another value, which gives no
  // parameters). Unset for text actions. ActionToCommand and ActionToXml use
  // it to refuse what the scaffold cannot run (see there).
  std::optional<nlohmann::ordered_json> arguments;

  bool empty() const { return function_name.empty(); }
  std::optional<std::string> parameter(std::string_view name) const;
  // Sets a parameter (and its string value in `arguments` when that is an
  // object).
  void set_parameter(std::string name, std::string value);
  // True when the name contains "finish" or "submit" (case-insensitive): the
  // scaffold's RepoEnv.step ends the episode after such a call.
  bool is_finish() const;
  // True when the name is exactly "finish" or "submit": the calls the
  // scaffold answers with "<<< Finished >>>" without running a tool.
  bool is_exact_finish() const;
  // The scaffold's to_xml_string():
  //   "<function=NAME>\n" + "  <parameter=KEY>VALUE</parameter>\n"... + "</function>"
  // (values as they are, so a value holding `</parameter>` does not read back).
  std::string ToXml() const;
};

// The scaffold's Action.from_string on any text: the function name is the
// first `<function\s*=\s*NAME>` tag's NAME (up to the next `>`, stripped as
// Python's str.strip(); a tag of spaces only gives the empty name), and the
// parameters are every `<parameter\s*=\s*KEY>VALUE</parameter>` of the whole
// text, before or after the function tag (VALUE up to the first
// `</parameter>`; keys and values stripped, so a key of spaces only is "").
// Thought:
// the text before the function tag, or the whole text when there is none,
// stripped. Linear in the text's length.
Action ParseAction(std::string_view text);

// The scaffold's Agent.parse_response, how its agent reads a reply without
// function calling: the action is ParseAction of the first
// `<function=...</function>` block (`<function=` exactly, up to the first
// `</function>` after it; none: an empty action), and the thought is the
// first `<think>...</think>` block, tags included, stripped ("" when none):
// other text of the reply is dropped.
Action ParseResponse(std::string_view text);

// The scaffold's Agent.parse_response_v2: the action as ParseResponse's,
// the thought is the text before the block (the whole text when there is
// none), stripped.
Action ParseResponseV2(std::string_view text);

// The assistant message the scaffold's agent keeps in its history for a
// reply read by ParseResponse: `action.thought + "\n\n" + action.ToXml()`.
std::string AssistantHistoryContent(const Action& action);

// The scaffold's to_xml_string(), which fails (InvalidArgument) when the
// action's function-call arguments are not a JSON object; else ToXml().
Result<std::string> ActionToXml(const Action& action);

// An OpenAI-style tool call, read as the scaffold's custom_parser does with
// json.loads: the name as given (not stripped); `arguments` set to the parsed
// JSON (objects keep the order sent; a repeated key keeps its last value in
// the first place); for an object, one parameter per key, string values as
// they are and others as Python's str() shows them. InvalidArgument when
// `arguments_json` is not JSON (also when empty) or nests deeper than 500
// levels (Python's recursion limit; integers beyond 64 bits read as floats,
// and NaN/Infinity, which Python accepts, are refused).
Result<Action> ActionFromToolCall(std::string_view name, std::string_view arguments_json);

// One tool call of a model reply (`tool_calls[i]`): a null name reads as "",
// null arguments as "" and object arguments as their JSON text.
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // the JSON text as sent
};

// The scaffold's Agent.custom_parser on a function-calling reply: the
// thought is `content`, the action the first call read by
// ActionFromToolCall. No call, or a first call whose arguments are not JSON,
// gives an empty action (no function); `*error`, when given, then says why
// (OK otherwise). Later calls are ignored.
Action ActionFromReply(std::string_view content, const std::vector<ToolCall>& calls,
                       Status* error = nullptr);

}  // namespace r2e

#endif  // R2E_ACTION_H_
