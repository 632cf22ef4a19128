// Tools: the commands an agent calls, installed into the sandbox as the R2E
// scaffold installs them, and the conversion of an Action into the command
// line that runs one.
//
//   auto files = r2e::ToolSet("r2egym").value();          // shipped in the library
//   auto installed = r2e::AddCommands(runtime, files);   // into the sandbox
//   for (const auto& t : *installed) schema.push_back(t.description.OpenAiSchema());
//   std::string cmd = r2e::ActionToCommand(action).value();
//
// The shipped tools (file_editor, str_replace_editor, search, execute_bash,
// finish, submit) are Python 3 scripts using only the standard library, run
// by the sandbox's `python3` (the repository's interpreter when
// /root/.venv/bin is first on PATH). RepoEnv uses everything here; call it
// directly to drive a Runtime without RepoEnv.
//
// Thread-safety: the functions are pure except AddCommands, which uses the
// runtime it is given (see Runtime for its rules).
#ifndef R2E_TOOLS_H_
#define R2E_TOOLS_H_

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/action.h"
#include "r2e/runtime.h"
#include "r2e/status.h"

namespace r2e {

// A tool as a file: `name` is the file name (its extension decides how it is
// installed, see ToolInstall), `content` its bytes.
struct ToolFile {
  std::string name;
  std::string content;

  // The command name: the file name without a `.py` or `.sh` extension.
  std::string tool_name() const;
};

// How AddCommands installs a file:
//   `.sh`                      -> kSourced: copied as is and sourced (`. FILE;`)
//                                 before every tool command, for shell functions;
//   `.py`, or a `#!` first line -> kExecutable: copied without the extension, mode 0755;
//   anything else              -> kBoth.
enum class ToolInstall { kExecutable, kSourced, kBoth };
ToolInstall InstallKind(const ToolFile& file);

// One parameter of a tool, as the agent passes it.
struct ToolArgument {
  // `command` for the positional argument; otherwise the option's long name
  // without dashes (`path` for `--path`).
  std::string name;
  // JSON-schema type: "string", "integer", "number", "boolean", "array" or "object".
  std::string type = "string";
  // For arrays: the element type, or empty when unknown.
  std::string item_type;
  std::string description;
  bool required = false;
  bool positional = false;
  std::vector<std::string> choices;  // allowed values; empty: any
};

// What a prompt needs to know about a tool.
struct ToolDescription {
  std::string name;
  std::string docstring;  // the tool's own description, dedented
  std::vector<ToolArgument> arguments;

  // The OpenAI function-calling entry:
  //   {"type": "function", "function": {"name", "description",
  //    "parameters": {"type": "object", "properties": {...}, "required": [...]}}}
  // Properties keep the tool's argument order (ordered_json converts to
  // nlohmann::json implicitly, which sorts them).
  nlohmann::ordered_json OpenAiSchema() const;
};

// Describes a tool from its file. Never fails on content; InvalidArgument
// when the file name gives no usable command name (empty, a leading dot or
// dash, or characters other than letters, digits, `_`, `-` and `.`).
//
// Python files (`.py` or a python shebang):
//   - docstring: the module docstring (the first statement, if a string
//     literal), dedented like inspect.cleandoc; else the `description=` of
//     `ArgumentParser(...)`;
//   - arguments: each `add_argument(...)` call, read with a small Python
//     literal parser (strings with escapes and implicit concatenation,
//     names, numbers, lists and tuples; other expressions are ignored):
//       first name `--path`/`-p` -> an option named `path`, else a positional;
//       `help=` -> description (`help=argparse.SUPPRESS` hides the argument);
//       `type=str|int|float|bool` -> string|integer|number|boolean; a
//         function defined in the file -> from its return annotation
//         (`-> list` or `-> List[int]` is an array, `-> bool` a boolean, ...);
//         other callables -> string;
//       `action="store_true"|"store_false"` -> boolean, `"count"` -> integer,
//         `"append"` or `nargs` of `+`, `*` or a number -> array;
//       `choices=[...]` -> allowed values;
//       required: `required=True`, or a positional whose `nargs` is not
//         `?` or `*`.
//     A keyword value that is a name bound to a literal at the start of a
//     statement in the file (`COMMANDS = ["view", "create"]`) reads as that
//     literal (`choices=COMMANDS`). Arguments of every parser in the file
//     are merged, first one wins.
// Other files: the docstring is the leading comment block (shebang
// excluded, `# ` stripped).
// Only the first MiB of a file and its first 256 calls of each kind are
// read. Either way, when no add_argument call is found, arguments come from a
// structured block in the docstring, one per line, as the scaffold's tools
// write them:
//     Parameters:
//       (1) command (string, required): The command to run.
//       --path (string, optional): Absolute path.
//   (markup `*` and backticks ignored; indented lines continue a description;
//   `Allowed values: [`a`, `b`]` on a continuation line sets the choices).
Result<ToolDescription> DescribeTool(const ToolFile& file);

// The scaffold's tool listing for text prompts (models without function
// calling), one block per tool:
//   ---- BEGIN FUNCTION #1: file_editor ----
//   Description: <docstring>
//
//   Parameters:
//     (1) command (string, required): <description>
//   Allowed values: [`view`, `create`]
//   ---- END FUNCTION #1 ----
std::string ToolsPromptText(const std::vector<ToolDescription>& tools);

// Named tool sets (see docs/tools.md):
//   "r2egym"    the R2E-Gym scaffold's r2egym configs, byte for byte:
//               file_editor, search, execute_bash (--cmd), finish
//   "openhands" the scaffold's openhands configs: str_replace_editor,
//               execute_bash (positional command), submit
//   "sweagent"  the same as "openhands" (the scaffold's sweagent config)
//   "v1"        the scaffold's non_fn_calling config: file_editor (v1),
//               search, execute_bash (positional), finish
//   "r2e"       r2e's own tools: literal search of every file, views of any
//               text file, clearer errors, bash (file_editor, search,
//               execute_bash, finish, str_replace_editor, submit)
// Files are named `<command>.py`. InvalidArgument (listing the names) for
// another name.
Result<std::vector<ToolFile>> ToolSet(std::string_view name);
std::vector<std::string> ToolSetNames();

// Reads a user's tool file. NotFound / Unavailable when it cannot be read.
Result<ToolFile> LoadToolFile(const std::filesystem::path& path);
// Reads files, and the regular non-hidden files of directories (sorted by
// name, not recursive).
Result<std::vector<ToolFile>> LoadToolFiles(const std::vector<std::filesystem::path>& paths);

// Which Python interpreter runs the Python tools (those whose first line is a
// `#!` line naming python) in a sandbox.
enum class ToolPython {
  kNone,     // InstalledTool: not a Python tool
  kAuto,     // AddCommandsOptions: the sandbox's when usable, else bundled
  kSandbox,  // the sandbox's `python3` (the first on its PATH)
  kBundled,  // r2e-python: a static CPython 3.11 carried in the library and
             // installed beside the tools (<dir>/.r2e-tools/r2e-python), with
             // the standard library modules the tools use and chardet
};
// "", "auto", "sandbox" or "bundled".
std::string_view ToolPythonName(ToolPython python);
// Whether this library carries r2e-python (built with R2E_TOOL_PYTHON and
// its build dependencies; see docs/tools.md).
bool BundledPythonAvailable();

struct AddCommandsOptions {
  // Sandbox directory for the tools. Empty: /usr/local/bin, falling back to
  // /root/.local/bin when that cannot be written (the LocalRuntime sandbox,
  // a container running as a non-root user). Both are on the command PATH.
  std::string bin_dir;
  // The interpreter of the Python tools. kAuto (default): one command in the
  // sandbox tells whether its python3 runs Python 3.6 or later; if so the
  // tools run on it unchanged, else on r2e-python (about 10 MB sent to the
  // sandbox once). kSandbox: always python3 (the tools fail where it is
  // missing). kBundled: always r2e-python. kAuto and kBundled are
  // FailedPrecondition when the library has no r2e-python and the sandbox
  // has no usable python3.
  ToolPython python = ToolPython::kAuto;
  // kAuto: when not empty, the answer is kept under this key for the life of
  // the process, and later calls with the same key skip the command (e.g.
  // runtime name and image: an image's Python does not change).
  std::string python_cache_key;
  // Options of that command (its PATH decides which python3 is found).
  ExecOptions probe_exec;
};

struct InstalledTool {
  ToolDescription description;
  ToolInstall kind = ToolInstall::kExecutable;
  // Sandbox paths: the executable (empty when sourced only) and the file to
  // source before each tool command (empty when not sourced).
  std::string executable;
  std::string sourced;
  // A Python tool that r2e's tool server can run without starting an
  // interpreter per call (the shipped tools of the scaffold sets; a tool file
  // opts in with the line `# r2e-tool-server: main`, and to one worker
  // running many of its calls with `# r2e-tool-server: reusable`: see
  // docs/tools.md). AddCommands then also
  // installs the server beside it (`<dir>/.r2e-tools/toolserver.py` and
  // toolcall.py).
  bool servable = false;
  // The interpreter of a Python tool (kSandbox or kBundled); kNone for others.
  ToolPython python = ToolPython::kNone;
};

// Describes and installs `files` into the sandbox (later files replace
// earlier ones of the same command name). Errors: InvalidArgument for a
// file DescribeTool rejects (nothing is installed then), or the runtime's
// error when a file cannot be written.
Result<std::vector<InstalledTool>> AddCommands(Runtime& runtime, const std::vector<ToolFile>& files,
                                               const AddCommandsOptions& options = {});

// What CallTool keeps between the calls to one sandbox's tool server, so
// that later calls can skip the shell session (see CallTool): the working
// directory and exported variables of a session command, for the options
// they were taken with. One per sandbox (a stale one is only retaken), owned
// by the caller; RepoEnv has one. Not thread-safe.
struct ToolServerLink {
  // The options and pipe directory `context` is for.
  std::string key;
  // The working directory, a NUL, then `declare -px`; empty: it could not
  // be taken (those calls go through the session).
  std::string context;
  // Calls that skipped the session so far.
  int direct_calls = 0;
  // Direct calls the server did not answer in 5 s (something in the sandbox
  // reads or holds its fifo); from the second on, calls go through the session.
  int unanswered = 0;
};

struct ToolCallOptions {
  // Timeout, environment and working directory of the command.
  ExecOptions exec;
  // Through r2e's tool server when the tool is servable (see
  // InstalledTool::servable) and the runtime's command shell is bash.
  bool serve = true;
  // Keep stderr apart (ToolCallResult::stderr_output) instead of merged into
  // the output, as `r2e tool run` reports it. Costs a file read (not for a
  // call that skips the session).
  bool separate_stderr = false;
  // Lets served calls skip the shell session when the runtime has a pipe
  // directory (Runtime::pipe_directory()); null: every call goes through the
  // session. Not owned; must outlive the call.
  ToolServerLink* link = nullptr;
};

// How CallTool ran a tool command.
enum class ToolPath {
  kUnknown,  // not known: the call timed out
  kServed,   // by the sandbox's tool server
  kExec,     // as a plain command
};

// "", "served" or "exec": the `tool_path` that `r2e tool run` and
// ToJson(StepInfo) write.
std::string_view ToolPathName(ToolPath path);

struct ToolCallResult {
  // The command's result; its output is stdout and stderr merged as the
  // sandbox delivered them, or stdout alone with separate_stderr.
  ExecResult result;
  std::string stderr_output;
  ToolPath path = ToolPath::kUnknown;
  // Served without the session: the request went straight to the server
  // through the runtime's pipe directory.
  bool direct = false;
};

// Runs `command` (a tool command line, e.g. from ActionToCommand, whose first
// word is `tool`'s name) as RepoEnv::step does: the sourced tool files of
// `installed` first, then the command, served when it can be. The outputs are
// those of the plain command either way. Errors are the runtime's.
//
// A served call normally goes through the session, where a shell function
// hands it to the server. With ToolCallOptions::link, a runtime with a pipe
// directory, a session that keeps no state and a command of literal words
// (as ActionToCommand writes them), the request goes to the server directly:
// about a millisecond less per call. The first such call of a link (and of
// new ExecOptions) first runs one session command to take the environment
// and directory the call would have had. A server that is not there, or
// does not take the call, means the session's path after all; one that
// does not answer in 5 s is killed, and the call runs through the session.
Result<ToolCallResult> CallTool(Runtime& runtime, const std::vector<InstalledTool>& installed,
                                const InstalledTool& tool, std::string_view command,
                                const ToolCallOptions& options = {});

// Starts r2e's tool server for the servable tools of `installed` in the
// background, when none runs (RepoEnv does at reset). With `wait`, returns once
// it serves, or DeadlineExceeded after `exec.timeout`. Without servable tools,
// or when the runtime's command shell is not bash, does nothing.
Status StartToolServer(Runtime& runtime, const std::vector<InstalledTool>& installed, const ExecOptions& exec,
                       bool wait = false);

// StartToolServer's command (without `wait`), for a caller that runs it at
// the end of a script of its own, in the environment StartToolServer's
// `exec` would give it; "" when StartToolServer would do nothing.
std::string ToolServerStartScript(Runtime& runtime, const std::vector<InstalledTool>& installed);

// Forgets the tool server of `installed` without ending it (removes its pid
// file): for a sandbox whose processes all ended at once (a whole-sandbox
// restore), where another process may have the pid the file names.
Status ForgetToolServer(Runtime& runtime, const std::vector<InstalledTool>& installed);

// The command line for an action, as the scaffold's to_bashcmd builds it:
//   no function name           -> "" (nothing to run)
//   exactly finish or submit   -> echo '<<<Finished>>>'
//   otherwise                  -> NAME [COMMAND] [--KEY VALUE]...
// where COMMAND is the `command` parameter, then every other parameter in
// the action's order. Every word is quoted by ShlexQuote, so no parameter
// can inject shell syntax. Unlike the scaffold, which leaves `--KEY` bare
// (a key such as `x $(cmd)` reaches its shell), r2e quotes `--KEY` too;
// the two agree on every key of letters, digits and `@%+=:,./-_`.
// A NUL byte is quoted like any other character (the command is then
// unusable: execve cuts it at the NUL; RepoEnv::step refuses to run it).
// A parameter with an empty name gives a bare `--` (as the scaffold's).
// InvalidArgument, where the scaffold raises: function-call arguments that
// are not a JSON object (Action::arguments), or a `command` argument that is
// neither a string nor null (null leaves it out).
// Values are passed as single arguments: one above the kernel's
// per-argument limit (128 KiB on Linux) makes the command fail with
// "Argument list too long" rather than run.
Result<std::string> ActionToCommand(const Action& action);

// The OpenAI function-calling definitions of a tool set's tools, as sent to
// the model (the `tools` of a chat-completions request), in order:
//   "r2egym"                the R2E scaffold's: search, file_editor,
//                           execute_bash (parameter `cmd`), finish
//   "openhands", "sweagent" the scaffold's: str_replace_editor,
//                           execute_bash (parameter `command`), submit
//   "v1", "r2e"             the scaffold has none (v1 is its
//                           non-function-calling config): OpenAiSchema() of
//                           each tool's DescribeTool, in ToolSet order
// The scaffold's definitions are data (src/tools/tool_schemas.json), not
// derived from the scripts, and kept byte for byte as JSON (key order too).
// The scaffold's agent also marks the last one's `function` with
// "cache_control": {"type": "ephemeral"} for non-Vertex models; that is not
// added here. InvalidArgument for an unknown set (as ToolSet).
Result<std::vector<nlohmann::ordered_json>> ToolSetSchemas(std::string_view name);

}  // namespace r2e

#endif  // R2E_TOOLS_H_
