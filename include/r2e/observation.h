// Observation: what the agent sees after an action, as text in the R2E
// scaffold's format, plus typed fields for C++ callers.
#ifndef R2E_OBSERVATION_H_
#define R2E_OBSERVATION_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "r2e/exec.h"

namespace r2e {

struct Observation {
  std::string text;            // valid UTF-8, what the policy is shown
  std::string tool;            // the function called; empty for none
  int exit_code = 0;
  bool timed_out = false;
  bool finished = false;       // the agent called finish/submit
  std::uint64_t truncated_bytes = 0;
  std::chrono::milliseconds duration{0};
};

// The scaffold's sentence for a response without a function call.
extern const std::string_view kNoFunctionCallReminder;
// The text for finish/submit.
extern const std::string_view kFinishedText;

// Replaces invalid UTF-8 sequences with U+FFFD so the text is valid UTF-8.
std::string SanitizeUtf8(std::string_view bytes);

// Removes ANSI colour codes (ESC[...m) and carriage returns.
std::string StripAnsiAndCr(std::string_view text);

// Keeps the first and last `keep` lines of text longer than 2*keep lines,
// joined by the scaffold's divider (dashes around a note that the middle
// was truncated).
std::string TruncateLines(std::string_view text, std::size_t keep = 40);

// The observation for a bash-like tool's command result:
// "Exit code: {code}\nExecution output of [{tool}]:\n{output}", output
// sanitized and line-truncated; a timeout reads as the scaffold's message.
Observation BashObservation(std::string_view tool, const ExecResult& result, std::chrono::seconds timeout);

// The observation for any other tool: "Execution output of [{tool}]:\n{output}",
// the output processed as for BashObservation (sanitized, colours stripped
// after success, the timeout message) but not line-truncated: the tools
// bound their own output (file_editor clips at 10,000 characters).
Observation ToolObservation(std::string_view tool, const ExecResult& result,
                            std::chrono::seconds timeout);

}  // namespace r2e

#endif  // R2E_OBSERVATION_H_
