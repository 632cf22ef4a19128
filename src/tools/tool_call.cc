// CallTool and StartToolServer: a tool command run the way a step runs it.
#include <algorithm>

#include "core/enum_names.h"
#include "core/text.h"
#include "r2e/observation.h"
#include "r2e/shell_quote.h"
#include "r2e/tools.h"
#include "tools/served_tools.h"

namespace r2e {
namespace {

// The tool server's bin directory and the servable tools in it (command paths),
// or an empty directory when nothing can be served.
std::string ServedBin(const Runtime& runtime, const std::vector<InstalledTool>& installed,
                      std::vector<std::string>& tool_paths) {
  if (runtime.command_shell() != "bash") return "";  // the client is a bash function
  std::string bin;
  for (const InstalledTool& t : installed) {
    if (!t.servable) continue;
    const std::string path = runtime.command_path(t.executable);
    const std::string dir = path.substr(0, path.rfind('/'));
    if (bin.empty()) bin = dir;
    if (dir == bin) tool_paths.push_back(path);
  }
  return bin;
}

}  // namespace

std::string_view ToolPathName(ToolPath path) {
  using enum ToolPath;
  static constexpr internal::EnumName<ToolPath> kNames[] = {
      {kServed, "served"}, {kExec, "exec"}, {kUnknown, ""}};
  return internal::NameOf(path, kNames, "");
}

Result<ToolCallResult> CallTool(Runtime& runtime, const std::vector<InstalledTool>& installed,
                                const InstalledTool& tool, std::string_view command,
                                const ToolCallOptions& options) {
  std::string text;
  for (const InstalledTool& t : installed) {
    if (!t.sourced.empty()) text += ". " + ShellQuote(runtime.command_path(t.sourced)) + "; ";
  }
  std::vector<std::string> served;
  const std::string bin = options.serve && tool.servable ? ServedBin(runtime, installed, served) : "";
  const std::string nonce = internal::RandomHex(8);
  const std::string stderr_file = "/tmp/.r2e-stderr-" + nonce;
  if (options.separate_stderr) text += "{ ";
  text += bin.empty() ? std::string(command) : internal::ServedCommand(bin, served, nonce, command);
  if (options.separate_stderr) text += "\n} 2>" + runtime.command_path(stderr_file);

  ToolCallResult out;
  R2E_ASSIGN_OR_RETURN(out.result, runtime.exec(text, options.exec));
  if (bin.empty()) {
    out.path = out.result.timed_out ? ToolPath::kUnknown : ToolPath::kExec;
  } else {
    const std::string how = internal::StripServedTrailer(out.result.output, nonce);
    out.path = how == "served" ? ToolPath::kServed : how == "exec" ? ToolPath::kExec : ToolPath::kUnknown;
  }
  if (options.separate_stderr) {
    auto err = runtime.read_file(stderr_file);
    if (err.ok()) out.stderr_output = std::move(err).value();
    ExecOptions quick;
    quick.timeout = std::chrono::seconds(30);
    (void)runtime.exec("rm -f " + ShellQuote(runtime.command_path(stderr_file)), quick);
  }
  return out;
}

Status StartToolServer(Runtime& runtime, const std::vector<InstalledTool>& installed, const ExecOptions& exec,
                       bool wait) {
  std::vector<std::string> paths;
  const std::string bin = ServedBin(runtime, installed, paths);
  if (bin.empty()) return Status::OK();
  std::string cmd = internal::ToolServerStartCommand(bin, paths);
  if (wait) {
    // Until the server has written its pid (it has imported the tools then).
    cmd +=
        "\nuntil [ -s \"$__r2e_dir/pid\" ] || [ -e \"$__r2e_dir/failed\" ]; do sleep 0.02; done; "
        "[ -s \"$__r2e_dir/pid\" ]";
  }
  auto r = runtime.exec(cmd, exec);
  if (!r.ok()) return r.status().WithContext("starting the tool server");
  if (wait && !r->success()) {
    if (r->timed_out) return Status::Timeout("the tool server did not start in time");
    auto why = runtime.read_file(internal::ToolServerDir(bin) + "/failed");
    return Status::Unavailable("the tool server did not start: " +
                               SanitizeUtf8(internal::Trim(why.ok() ? *why : r->output)));
  }
  return Status::OK();
}

}  // namespace r2e
