// Direct tool calls: a served call that skips the shell session.
//
// When the runtime has a pipe directory (Runtime::pipe_directory(): a host
// directory the sandbox sees, e.g. Docker's session pipes), r2e's tool server
// also listens on a fifo there, kDirectFifo, and r2e writes a call's request
// to it itself: no session round trip, no forked shell, no client function.
// The request carries what the client function would have sent: the argv,
// the working directory and the exported variables of a session command run
// with the same options (taken once by a session command and kept in the
// caller's ToolServerLink). The tool's output comes back on pipes made for
// the call, and its status on a third; see toolserver.py for the server's
// side. Output, exit status, timeout and group kill are those of the served
// call through the session.
//
// Internal to the library (tools).
#ifndef R2E_TOOLS_DIRECT_CALL_H_
#define R2E_TOOLS_DIRECT_CALL_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "r2e/exec.h"
#include "r2e/runtime.h"
#include "r2e/tools.h"

namespace r2e::internal {

// The fifo a server with `--direct` reads requests from, in the pipe
// directory.
inline constexpr std::string_view kDirectFifo = "tools.req";

// The words bash makes of `command` when it is made only of words that
// bash takes literally: characters that need no quoting, single-quoted
// strings, double-quoted strings without $ ` \ or !, and backslash escapes
// (what ShlexQuote and ShellQuote write), separated by spaces. nullopt when
// anything else is in it (a variable, a glob, a redirection, a newline
// between words, ...): such a command goes through the session.
std::optional<std::vector<std::string>> LiteralWords(std::string_view command);

// Makes kDirectFifo in `dir` when it is missing (or is not a fifo) and
// returns its sandbox path; empty when it cannot be made.
std::string EnsureDirectFifo(const PipeDirectory& dir);

// Whether a server reads kDirectFifo in `dir` (it has a reader).
bool DirectServerListens(const PipeDirectory& dir);

struct DirectCall {
  enum class Outcome {
    kDone,      // the server ran the call: `result` is its result
    kNotTaken,  // the server did not take it (no server, "plain", ...): run it through the session
    kStuck,     // the server did not answer in 5 s: kill it, then run the call through the session
  };
  Outcome outcome = Outcome::kNotTaken;
  ToolCallResult result;
};

// Runs `argv` (argv[0] the tool's sandbox path) through the server in `dir`,
// in `cwd` with the variables `declared` (`declare -px` text), bounded by
// exec.timeout (its workdir and env are already in `cwd` and `declared`).
DirectCall CallDirect(const PipeDirectory& dir, const std::vector<std::string>& argv,
                      const std::string& cwd, std::string_view declared, const ExecOptions& exec,
                      bool separate_stderr);

}  // namespace r2e::internal

#endif  // R2E_TOOLS_DIRECT_CALL_H_
