// CallTool and StartToolServer: a tool command run the way a step runs it.
#include <algorithm>
#include <cctype>
#include <optional>

#include "core/enum_names.h"
#include "core/text.h"
#include "r2e/observation.h"
#include "r2e/shell_quote.h"
#include "r2e/tools.h"
#include "tools/direct_call.h"
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

// What the link keeps for `exec` in `dir`: "<cwd>\0<declare -px>" of a
// session command run with the same options and sourced files, taken now if
// it does not have it yet. Empty when it could not be taken (not tried again
// for the same options: those calls go through the session).
std::string_view CallContext(Runtime& runtime, ToolServerLink& link, const PipeDirectory& dir,
                             const std::string& sourced, const ExecOptions& exec) {
  std::string key = dir.host_path.string() + '\0' + exec.workdir + '\0' + sourced;
  for (const auto& [k, v] : exec.env) key += '\0' + k + '=' + v;
  if (link.key == key) return link.context;  // empty: it could not be taken for these options
  link.key = std::move(key);
  link.context.clear();
  // The client function's `declare -px` runs in the same place.
  auto r = runtime.exec(sourced + "printf '%s\\0' \"$PWD\"; declare -px", exec);
  // (Cut by the session's output bound, it would be another environment.)
  if (r.ok() && r->success() && r->truncated_bytes == 0 &&
      r->output.find('\0') != std::string::npos) {
    link.context = std::move(r->output);
  }
  return link.context;
}

// The call through the server's direct fifo, when it can go that way.
std::optional<internal::DirectCall> TryDirect(Runtime& runtime, const PipeDirectory& dir,
                                              const std::string& bin, const std::string& sourced,
                                              std::string_view command,
                                              const ToolCallOptions& options) {
  auto words = internal::LiteralWords(command);
  // The first word names a tool in `bin`, as the client function takes it.
  auto tool_name = [](const std::string& w) {
    return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
  };
  if (!words || words->empty() || !tool_name(words->front()) ||
      !internal::DirectServerListens(dir)) {
    return std::nullopt;
  }
  const std::string_view context = CallContext(runtime, *options.link, dir, sourced, options.exec);
  if (context.empty()) return std::nullopt;
  (*words)[0] = bin + "/" + (*words)[0];
  const std::size_t nul = context.find('\0');
  auto call = internal::CallDirect(dir, *words, std::string(context.substr(0, nul)),
                                   context.substr(nul + 1), options.exec, options.separate_stderr);
  if (call.outcome == internal::DirectCall::Outcome::kDone) ++options.link->direct_calls;
  return call;
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
  const PipeDirectory dir =
      bin.empty() || runtime.keeps_state() ? PipeDirectory{} : runtime.pipe_directory();
  const std::string direct_fifo = internal::EnsureDirectFifo(dir);
  if (!direct_fifo.empty() && options.link != nullptr && options.link->unanswered < 2) {
    auto direct = TryDirect(runtime, dir, bin, text, command, options);
    if (direct && direct->outcome == internal::DirectCall::Outcome::kDone)
      return std::move(direct->result);
    if (direct && direct->outcome == internal::DirectCall::Outcome::kStuck) {
      ++options.link->unanswered;
      // As the client function does with a server that does not answer.
      text += "{ read -r __r2e_k < " + ShellQuote(internal::ToolServerDir(bin) + "/pid") +
              " && kill -KILL \"$__r2e_k\"; rm -f " +
              ShellQuote(internal::ToolServerDir(bin) + "/pid") +
              "; echo 'no answer to a direct call in 5 s' > " +
              ShellQuote(internal::ToolServerDir(bin) + "/last-exec") + "; } 2>/dev/null; ";
    }
  }
  const std::string nonce = internal::RandomHex(8);
  const std::string stderr_file = "/tmp/.r2e-stderr-" + nonce;
  if (options.separate_stderr) text += "{ ";
  text += bin.empty() ? std::string(command)
                      : internal::ServedCommand(bin, served, direct_fifo, nonce, command);
  if (options.separate_stderr) text += "\n} 2>" + runtime.command_path(stderr_file);

  ToolCallResult out;
  ExecOptions exec = options.exec;
  if (!bin.empty()) exec.trailer_bytes = internal::ServedTrailerBytes(nonce);
  R2E_ASSIGN_OR_RETURN(out.result, runtime.exec(text, exec));
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

std::string ToolServerStartScript(Runtime& runtime, const std::vector<InstalledTool>& installed) {
  std::vector<std::string> paths;
  const std::string bin = ServedBin(runtime, installed, paths);
  if (bin.empty()) return "";
  const std::string direct_fifo = internal::EnsureDirectFifo(
      runtime.keeps_state() ? PipeDirectory{} : runtime.pipe_directory());
  return internal::ToolServerStartCommand(bin, paths, direct_fifo);
}

Status StartToolServer(Runtime& runtime, const std::vector<InstalledTool>& installed,
                       const ExecOptions& exec, bool wait) {
  std::string cmd = ToolServerStartScript(runtime, installed);
  if (cmd.empty()) return Status::OK();
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
    std::vector<std::string> paths;
    auto why = runtime.read_file(internal::ToolServerDir(ServedBin(runtime, installed, paths)) +
                                 "/failed");
    return Status::Unavailable("the tool server did not start: " +
                               SanitizeUtf8(internal::Trim(why.ok() ? *why : r->output)));
  }
  return Status::OK();
}

Status ForgetToolServer(Runtime& runtime, const std::vector<InstalledTool>& installed) {
  std::vector<std::string> paths;
  const std::string bin = ServedBin(runtime, installed, paths);
  if (bin.empty()) return Status::OK();
  const std::string dir = internal::ToolServerDir(bin);
  ExecOptions o;
  o.timeout = std::chrono::seconds(30);
  auto r =
      runtime.exec("rm -f " + ShellQuote(dir + "/pid") + " " + ShellQuote(dir + "/starting"), o);
  return r.ok() ? Status::OK() : r.status().WithContext("forgetting the tool server");
}

}  // namespace r2e
