// Served tool calls: a tool step without an interpreter start.
//
// The Python tools of r2e's sets are written as modules with a main(argv).
// RepoEnv installs, next to them, r2e's tool server (scripts/server/
// toolserver.py) in `<bin dir>/.r2e-tools`, starts it in the background once
// per sandbox, and puts a small bash function in front of each tool step's
// command line (the command itself is unchanged). The function hands the call
// to the server, whose worker (a child with the tools already imported) runs
// it, and the calls after it when the tool is reusable; when the
// server is not there, not answering, or cannot serve that call, the function
// runs the command plainly, and starts a new server for the next call. Either
// way the tool's stdout, stderr and exit status are those of the plain
// command; the function then writes one trailer line, "<nonce> s" (served)
// or "<nonce> x" (run plainly), that StripServedTrailer() removes and
// reports. Both are ServedTrailerBytes() long, so that the caller can have
// the output bound keep room for them (ExecOptions::trailer_bytes).
//
// Internal to the library (tools and env).
#ifndef R2E_TOOLS_SERVED_TOOLS_H_
#define R2E_TOOLS_SERVED_TOOLS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace r2e::internal {

// The server's directory for tools installed in `bin_dir`.
std::string ToolServerDir(std::string_view bin_dir);

// A shell command that prints the notes the client and the server left on
// calls they did not serve ("<file>: <text>" for each of last-exec,
// last-plain, last-orphan, last-death and failed that exists), for the
// server next to the installed tool `tool` (found on PATH). For tests and
// benchmarks to say why a call ran plainly.
std::string ToolServerNotesCommand(std::string_view tool);

// The server's files (toolserver.py and the modules it imports): {sandbox
// path, content}.
std::vector<std::pair<std::string, std::string_view>> ToolServerFiles(std::string_view bin_dir);

// Whether a tool file can be served: a Python script that declares, on a line
// of its own, `# r2e-tool-server: main`, meaning that importing it has no
// effect and main(argv) runs the tool, returning (or exiting with) its status.
// (A second line, `# r2e-tool-server: reusable`, lets one worker run many
// calls of it: see toolserver.py.)
bool ServableTool(std::string_view content);

// A bash command that starts the server in the background when none runs
// (returns at once). `tool_paths`: the sandbox paths of the servable tools;
// `direct_fifo`: the sandbox path of the fifo for direct calls (see
// direct_call.h), or empty.
std::string ToolServerStartCommand(std::string_view bin_dir,
                                   const std::vector<std::string>& tool_paths,
                                   std::string_view direct_fifo);

// `command` (whose first word is a tool name in `bin_dir`) as a served call,
// ending with the trailer for `nonce`; a server it starts listens on
// `direct_fifo` too, unless empty. Needs bash as the command shell.
std::string ServedCommand(std::string_view bin_dir, const std::vector<std::string>& tool_paths,
                          std::string_view direct_fifo, std::string_view nonce,
                          std::string_view command);

// The length of either trailer line for `nonce`.
std::size_t ServedTrailerBytes(std::string_view nonce);

// Removes the trailer for `nonce` from `output` and returns how the call ran:
// "served", "exec", or "" when no trailer was found (a timeout killed it).
std::string StripServedTrailer(std::string& output, std::string_view nonce);

}  // namespace r2e::internal

#endif  // R2E_TOOLS_SERVED_TOOLS_H_
