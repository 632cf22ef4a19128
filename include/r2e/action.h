// Action: one tool call of the agent.
//
// Text form (models without function calling), as the R2E scaffold reads it:
//   <function=execute_bash>
//   <parameter=cmd>ls -la</parameter>
//   </function>
// Name and values are whitespace-stripped. Text without a function tag is an
// empty action (the observation then reminds the agent to call a function);
// parsing never fails.
#ifndef R2E_ACTION_H_
#define R2E_ACTION_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r2e/status.h"

namespace r2e {

struct Action {
  std::string function_name;  // empty: no function call
  // In the order given; names are unique (a repeated name keeps the last).
  std::vector<std::pair<std::string, std::string>> parameters;
  // Text before the function tag (the model's reasoning), kept for records.
  std::string thought;

  bool empty() const { return function_name.empty(); }
  std::optional<std::string> parameter(std::string_view name) const;
  void set_parameter(std::string name, std::string value);
  // True when the name contains "finish" or "submit" (case-insensitive).
  bool is_finish() const;
  // The text form above.
  std::string ToXml() const;
};

Action ParseAction(std::string_view text);

// An OpenAI-style tool call: function name plus JSON-object arguments.
// Non-string argument values are kept as their JSON text. InvalidArgument
// when `arguments_json` is not a JSON object.
Result<Action> ActionFromToolCall(std::string_view name, std::string_view arguments_json);

}  // namespace r2e

#endif  // R2E_ACTION_H_
