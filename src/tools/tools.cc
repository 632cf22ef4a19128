// Tool files: the embedded sets, files from disk, installing them into a
// sandbox, and the command line of an action. (DescribeTool and the schemas
// made from it: describe_tool.cc.)
#include "r2e/tools.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>

#include "r2e/observation.h"
#include "r2e/shell_quote.h"
#include "core/enum_names.h"
#include "tools/embedded_scripts.h"
#include "tools/python_bundle.h"
#include "tools/served_tools.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFinishCommand = "echo '<<<Finished>>>'";

std::string_view EmbeddedFile(std::string_view name) {
  for (std::size_t i = 0; i < internal::kEmbeddedScriptCount; ++i) {
    if (internal::kEmbeddedScripts[i].file == name) return internal::kEmbeddedScripts[i].content;
  }
  return {};
}

// sets.txt (written by src/tools/toolsets.py): "<set> <command>..." per line.
std::vector<std::pair<std::string, std::vector<std::string>>> EmbeddedSets() {
  std::vector<std::pair<std::string, std::vector<std::string>>> sets;
  std::istringstream in{std::string(EmbeddedFile("sets.txt"))};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name, command;
    if (!(words >> name)) continue;
    std::vector<std::string> commands;
    while (words >> command) commands.push_back(command);
    sets.emplace_back(std::move(name), std::move(commands));
  }
  return sets;
}

// A tool run by a Python interpreter named on its `#!` line.
bool IsPythonTool(std::string_view content) {
  return content.starts_with("#!") && content.substr(0, content.find('\n')).find("python") != std::string_view::npos;
}

// The tool with its `#!` line pointing at `interpreter` instead.
std::string WithInterpreter(std::string_view content, const std::string& interpreter) {
  const std::size_t eol = content.find('\n');
  return "#!" + interpreter + (eol == std::string_view::npos ? "\n" : std::string(content.substr(eol)));
}

// Whether the sandbox's python3 can run the tools (3.6 or later, the oldest
// the scaffold's tools are checked on).
Result<bool> SandboxPythonUsable(Runtime& runtime, const ExecOptions& exec) {
  ExecOptions o = exec;
  if (o.timeout.count() <= 0 || o.timeout > std::chrono::seconds(30)) o.timeout = std::chrono::seconds(30);
  R2E_ASSIGN_OR_RETURN(ExecResult r,
                       runtime.exec("python3 -c 'import sys; sys.exit(sys.version_info < (3, 6))' "
                                    ">/dev/null 2>&1 </dev/null",
                                    o));
  if (r.timed_out) return Status::Timeout("asking the sandbox whether its python3 runs timed out");
  return r.exit_code == 0;
}

// kAuto's answers by AddCommandsOptions::python_cache_key.
std::mutex probe_mutex;
std::map<std::string, ToolPython>& ProbeCache() {
  static auto* cache = new std::map<std::string, ToolPython>();
  return *cache;
}

Result<ToolPython> ChoosePython(Runtime& runtime, const AddCommandsOptions& options) {
  if (options.python == ToolPython::kSandbox) return ToolPython::kSandbox;
  if (options.python == ToolPython::kBundled) {
    if (!BundledPythonAvailable()) {
      return Status::FailedPrecondition(
          "this r2e library was built without r2e-python (R2E_TOOL_PYTHON off, or libpython3-dev "
          "and zlib1g-dev missing at build time): the tools can only use the sandbox's python3");
    }
    return ToolPython::kBundled;
  }
  if (!options.python_cache_key.empty()) {
    std::lock_guard<std::mutex> lock(probe_mutex);
    auto it = ProbeCache().find(options.python_cache_key);
    if (it != ProbeCache().end()) return it->second;
  }
  R2E_ASSIGN_OR_RETURN(bool usable, SandboxPythonUsable(runtime, options.probe_exec));
  if (!usable && !BundledPythonAvailable()) {
    return Status::FailedPrecondition(
        "the sandbox has no python3 that runs Python 3.6 or later, which the tools need, and this r2e "
        "library was built without r2e-python (build it with libpython3-dev and zlib1g-dev installed)");
  }
  const ToolPython chosen = usable ? ToolPython::kSandbox : ToolPython::kBundled;
  if (!options.python_cache_key.empty()) {
    std::lock_guard<std::mutex> lock(probe_mutex);
    ProbeCache()[options.python_cache_key] = chosen;
  }
  return chosen;
}

}  // namespace

std::string_view ToolPythonName(ToolPython python) {
  using enum ToolPython;
  static constexpr internal::EnumName<ToolPython> kNames[] = {
      {kNone, ""}, {kAuto, "auto"}, {kSandbox, "sandbox"}, {kBundled, "bundled"}};
  return internal::NameOf(python, kNames, "");
}

bool BundledPythonAvailable() { return !internal::PythonBundle().empty(); }

std::string ToolFile::tool_name() const {
  std::string n = fs::path(name).filename().string();
  for (std::string_view ext : {".py", ".sh"}) {
    if (n.ends_with(ext) && n.size() > ext.size())
      return n.substr(0, n.size() - ext.size());
  }
  return n;
}

ToolInstall InstallKind(const ToolFile& file) {
  if (file.name.ends_with(".sh")) return ToolInstall::kSourced;
  if (file.name.ends_with(".py") || file.content.starts_with("#!")) {
    return ToolInstall::kExecutable;
  }
  return ToolInstall::kBoth;
}

std::vector<std::string> ToolSetNames() {
  std::vector<std::string> names;
  for (const auto& set : EmbeddedSets()) names.push_back(set.first);
  return names;
}

Result<std::vector<ToolFile>> ToolSet(std::string_view name) {
  for (const auto& [set, commands] : EmbeddedSets()) {
    if (set != name) continue;
    std::vector<ToolFile> out;
    for (const std::string& command : commands) {
      const std::string file = set + "/" + command + ".py";
      const std::string_view content = EmbeddedFile(file);
      if (content.empty()) return Status::Internal("tool script " + file + " is not embedded in the library");
      out.push_back({command + ".py", std::string(content)});
    }
    return out;
  }
  std::string names;
  for (const auto& n : ToolSetNames()) names += (names.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown tool set `" + SanitizeUtf8(name) + "`; known sets: " + names);
}

Result<ToolFile> LoadToolFile(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return Status::NotFound("tool file " + path.string() +
                            " does not exist or is not a regular file");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in && !in.eof()) return Status::Unavailable("cannot read tool file " + path.string());
  ToolFile file{path.filename().string(), content.str()};
  if (auto d = DescribeTool(file); !d.ok()) return d.status();
  return file;
}

Result<std::vector<ToolFile>> LoadToolFiles(const std::vector<fs::path>& paths) {
  std::vector<ToolFile> out;
  for (const fs::path& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      R2E_ASSIGN_OR_RETURN(ToolFile f, LoadToolFile(p));
      out.push_back(std::move(f));
      continue;
    }
    std::vector<fs::path> entries;
    // increment(ec), not ++: iteration must not throw.
    for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string n = it->path().filename().string();
      std::error_code fec;
      if (!n.empty() && n[0] != '.' && it->is_regular_file(fec)) entries.push_back(it->path());
    }
    if (ec)
      return Status::Unavailable("cannot list tool directory " + p.string() + ": " + ec.message());
    std::sort(entries.begin(), entries.end());
    for (const fs::path& e : entries) {
      R2E_ASSIGN_OR_RETURN(ToolFile f, LoadToolFile(e));
      out.push_back(std::move(f));
    }
  }
  return out;
}

Result<std::vector<InstalledTool>> AddCommands(Runtime& runtime, const std::vector<ToolFile>& files,
                                               const AddCommandsOptions& options) {
  // Describe everything first, so a bad file installs nothing; a later file
  // replaces an earlier one of the same command name.
  std::vector<std::pair<const ToolFile*, ToolDescription>> todo;
  for (const ToolFile& f : files) {
    R2E_ASSIGN_OR_RETURN(ToolDescription d, DescribeTool(f));
    auto same = std::find_if(todo.begin(), todo.end(),
                             [&](const auto& p) { return p.second.name == d.name; });
    if (same != todo.end()) todo.erase(same);
    todo.emplace_back(&f, std::move(d));
  }

  ToolPython python = ToolPython::kNone;
  if (std::any_of(todo.begin(), todo.end(), [](const auto& p) {
        return InstallKind(*p.first) == ToolInstall::kExecutable && IsPythonTool(p.first->content);
      })) {
    R2E_ASSIGN_OR_RETURN(python, ChoosePython(runtime, options));
  }

  std::vector<std::string> dirs = {options.bin_dir};
  if (options.bin_dir.empty()) dirs = {"/usr/local/bin", "/root/.local/bin"};
  std::size_t dir = 0;
  // Writes into the current directory, moving on to the fallback when the
  // first write into a directory fails. `content` is given the directory: a
  // tool on r2e-python names it (<dir>/.r2e-tools/r2e-python) on its #! line.
  bool proven = false;
  auto write = [&](const std::string& file, const std::function<std::string(const std::string&)>& content,
                   int mode) -> Result<std::string> {
    while (true) {
      const std::string path = dirs[dir] + "/" + file;
      Status s = runtime.write_file(path, content(dirs[dir]), mode);
      if (s.ok()) {
        proven = true;
        return path;
      }
      if (proven || dir + 1 >= dirs.size()) return s.WithContext("installing tool " + file);
      ++dir;
    }
  };
  auto interpreter_in = [&](const std::string& bin) {
    return runtime.command_path(internal::ToolServerDir(bin) + "/r2e-python");
  };

  std::vector<InstalledTool> out;
  for (auto& [file, description] : todo) {
    InstalledTool t;
    t.kind = InstallKind(*file);
    if (t.kind == ToolInstall::kExecutable && IsPythonTool(file->content)) t.python = python;
    const std::string& text = file->content;
    if (t.kind != ToolInstall::kSourced) {
      const bool bundled = t.python == ToolPython::kBundled;
      R2E_ASSIGN_OR_RETURN(t.executable, write(description.name, [&](const std::string& bin) {
                             return bundled ? WithInterpreter(text, interpreter_in(bin)) : text;
                           }, 0755));
    }
    if (t.kind == ToolInstall::kSourced) {
      R2E_ASSIGN_OR_RETURN(t.sourced, write(fs::path(file->name).filename().string(),
                                            [&](const std::string&) { return text; }, 0644));
    } else if (t.kind == ToolInstall::kBoth) {
      t.sourced = t.executable;
    }
    t.servable = t.kind == ToolInstall::kExecutable && internal::ServableTool(text);
    t.description = std::move(description);
    out.push_back(std::move(t));
  }
  // The server's files first: writing them makes <dir>/.r2e-tools, so that
  // the 10 MB interpreter is sent once (a write into a missing directory is
  // refused, then retried after a mkdir).
  for (const InstalledTool& t : out) {
    if (!t.servable) continue;
    const std::string bin = t.executable.substr(0, t.executable.rfind('/'));
    for (const auto& [path, content] : internal::ToolServerFiles(bin)) {
      R2E_RETURN_IF_ERROR(runtime.write_file(path, content, 0644).WithContext("installing r2e's tool server"));
    }
    break;
  }
  for (const InstalledTool& t : out) {
    if (t.python != ToolPython::kBundled) continue;
    const std::string bin = t.executable.substr(0, t.executable.rfind('/'));
    R2E_RETURN_IF_ERROR(runtime.write_file(internal::ToolServerDir(bin) + "/r2e-python", internal::PythonBundle(), 0755)
                            .WithContext("installing r2e-python, the tools' interpreter"));
    break;
  }
  return out;
}

Result<std::string> ActionToCommand(const Action& action) {
  if (action.empty()) return std::string();
  if (action.is_exact_finish()) return std::string(kFinishCommand);
  if (action.arguments && !action.arguments->is_object()) {
    return Status::InvalidArgument("the arguments of the call to `" +
                                   SanitizeUtf8(action.function_name) + "` are a JSON " +
                                   action.arguments->type_name() + ", not an object");
  }
  std::string cmd = ShlexQuote(action.function_name);
  if (auto command = action.parameter("command")) {
    // A function call's `command` must be a string; null leaves it out, as
    // the scaffold's parameters.get("command") reads it.
    const nlohmann::ordered_json* typed = nullptr;
    if (action.arguments) {
      auto it = action.arguments->find("command");
      if (it != action.arguments->end()) typed = &*it;
    }
    if (typed != nullptr && !typed->is_string() && !typed->is_null()) {
      return Status::InvalidArgument(std::string("parameter `command` is a JSON ") +
                                     typed->type_name() + ", not a string");
    }
    if (typed == nullptr || !typed->is_null()) {
      cmd += ' ';
      cmd += ShlexQuote(*command);
    }
  }
  for (const auto& [key, value] : action.parameters) {
    if (key == "command") continue;
    cmd += ' ';
    cmd += ShlexQuote("--" + key);
    cmd += ' ';
    cmd += ShlexQuote(value);
  }
  return cmd;
}

}  // namespace r2e

