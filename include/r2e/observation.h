// Observation: what the agent sees after reset() or an action, as text in the
// R2E scaffold's format. What the step did besides (exit code, timing, tool
// path) is StepInfo's (r2e/repo_env.h): the policy is shown only this.
#ifndef R2E_OBSERVATION_H_
#define R2E_OBSERVATION_H_

#include <chrono>
#include <string>
#include <string_view>

#include "r2e/exec.h"

namespace r2e {

struct Observation {
  std::string text;  // valid UTF-8, what the policy is shown
};

// The scaffold's sentence for a response without a function call.
extern const std::string_view kNoFunctionCallReminder;
// The text for finish/submit.
extern const std::string_view kFinishedText;

// Replaces invalid UTF-8 sequences with U+FFFD so the text is valid UTF-8.
std::string SanitizeUtf8(std::string_view bytes);

// Removes ANSI colour codes and carriage returns as the scaffold's run()
// does (the regex `\x1b\[[0-9;]*m|\r`): other escape sequences stay.
std::string StripAnsiAndCr(std::string_view text);

// Keeps the first and last `keep` lines of text longer than 2*keep lines,
// joined by the scaffold's divider (dashes around a note that the middle
// was truncated).
std::string TruncateLines(std::string_view text, std::size_t keep = 40);

// What the scaffold's DockerRuntime.run returns for a finished command: its
// output and the code string the observation shows.
struct RunOutput {
  std::string output;  // valid UTF-8
  std::string code;    // "0", "Error: Exit code N" or "-1"
};

// The scaffold's run() on a command result (`timeout` is the step's):
//   exit code 124 (from anything, as the scaffold takes it for its `timeout`
//     wrapper's)       -> "The command took too long to execute (>Ns)", "-1"
//   r2e's own deadline (result.timed_out) -> the same message, "-1", then
//     "\n" and the partial output when there is any (an r2e improvement:
//     the scaffold drops it)
//   exit code 0        -> output with ANSI colour codes and \r removed, "0"
//   another exit code  -> output as it is, "Error: Exit code N"
// The output is decoded as UTF-8 with replacement first (SanitizeUtf8).
RunOutput RunOutputOf(const ExecResult& result, std::chrono::seconds timeout);

// The scaffold's Observation text (str(Observation(output, code, action)))
// for a step that called `function_name`:
//   no function name        -> kNoFunctionCallReminder
//   exactly finish, submit  -> kFinishedText
//   exactly execute_bash, bash
//     -> "Exit code: {code}\nExecution output of [{name}]:\n{output}", the
//        output line-truncated (TruncateLines)
//   any other name          -> "Execution output of [{name}]:\n{output}"
// The name is shown sanitized to UTF-8; `output` as it is. For a tool that
// is not installed the scaffold shows output "" with code "-1".
std::string ObservationText(std::string_view function_name, std::string_view output,
                            std::string_view code);

// The observation of a step whose command ran:
// ObservationText(function_name, RunOutputOf(result, timeout)).
Observation StepObservation(std::string_view function_name, const ExecResult& result,
                            std::chrono::seconds timeout);

// The observation for a bash-like tool's command result:
// "Exit code: {code}\nExecution output of [{tool}]:\n{output}" with
// RunOutputOf's output and code, the output line-truncated, whatever the
// tool's name.
Observation BashObservation(std::string_view tool, const ExecResult& result, std::chrono::seconds timeout);

// The observation for any other tool: "Execution output of [{tool}]:\n{output}",
// RunOutputOf's output, not line-truncated: the tools bound their own output
// (file_editor clips at 10,000 characters).
Observation ToolObservation(std::string_view tool, const ExecResult& result,
                            std::chrono::seconds timeout);

}  // namespace r2e

#endif  // R2E_OBSERVATION_H_
