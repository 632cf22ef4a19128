// `r2e tool run`: one tool call in a fresh sandbox, the way a step runs it,
// with what it printed and what it changed, for checking a tool by hand.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "core/text.h"
#include "r2e/observation.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/shell_quote.h"
#include "r2e/tools.h"

namespace r2e::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kRepoPath = "/testbed";

// Text as a JSON string when it is UTF-8, else {"base64": ...}.
nlohmann::json TextOrBase64(const std::string& bytes) {
  if (SanitizeUtf8(bytes) == bytes) return bytes;
  return {{"base64", internal::Base64Encode(bytes)}};
}

// Regular files and symlinks under `root`, by relative path: contents, or
// "symlink:<target>" for links.
Result<std::map<std::string, std::string>> ReadTree(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path rel = fs::relative(it->path(), root, ec);
    if (it->is_symlink(ec)) {
      out[rel.generic_string()] = "symlink:" + fs::read_symlink(it->path(), ec).string();
    } else if (it->is_regular_file(ec)) {
      std::ifstream in(it->path(), std::ios::binary);
      std::ostringstream content;
      content << in.rdbuf();
      out[rel.generic_string()] = content.str();
    }
  }
  if (ec) return Status::Unavailable("cannot read " + root.string() + ": " + ec.message());
  return out;
}

}  // namespace

int ToolRun(const CommonOptions& common, const ToolRunOptions& run) {
  auto fail = [](int code, const Status& s) {
    std::cerr << "r2e tool run: " << s.ToString() << "\n";
    return code;
  };
  std::error_code ec;
  if (!fs::is_directory(run.repo, ec)) {
    return fail(2, Status::InvalidArgument("--repo " + run.repo + " is not a directory"));
  }
  if (run.argv.empty()) return fail(2, Status::InvalidArgument("no tool given: r2e tool run --repo DIR -- TOOL ARG..."));
  auto files = ToolSet(run.set);
  if (!files.ok()) return fail(2, files.status());

  auto made = MakeRuntime(common.runtime, RuntimeOptionsFor(common));
  if (!made.ok()) return fail(2, made.status());
  const std::unique_ptr<Runtime> runtime = Stoppable(std::move(made).value());
  Runtime& rt = *runtime;
  SandboxSpec spec;
  spec.task_id = "tool-run";
  spec.image = common.image;
  if (!rt.uses_image()) {
    spec.copy_in.emplace_back(run.repo, std::string(kRepoPath));
  } else if (spec.image.empty()) {
    return fail(2, Status::InvalidArgument("--runtime " + common.runtime + " needs --image (an image with python3)"));
  }
  if (Status s = rt.start(spec); !s.ok()) return fail(1, s);
  struct Stopper {
    Runtime& rt;
    ~Stopper() { (void)rt.stop(); }
  } stopper{rt};
  if (rt.uses_image()) {
    ExecOptions quick;
    quick.timeout = std::chrono::seconds(60);
    auto cleared = rt.exec("rm -rf /testbed", quick);
    if (!cleared.ok()) return fail(1, cleared.status());
    if (Status s = rt.upload(run.repo, std::string(kRepoPath)); !s.ok()) return fail(1, s);
  }
  auto installed = AddCommands(rt, *files);
  if (!installed.ok()) return fail(1, installed.status());
  const InstalledTool* tool = nullptr;
  std::string names;
  for (const InstalledTool& t : *installed) {
    if (t.description.name == run.argv[0]) tool = &t;
    names += (names.empty() ? "" : ", ") + t.description.name;
  }
  if (tool == nullptr) {
    return fail(2, Status::InvalidArgument("set " + run.set + " has no tool `" + run.argv[0] + "`; it has " + names));
  }

  ToolCallOptions call;
  call.exec.timeout = std::chrono::seconds(run.timeout_s);
  call.serve = run.serve;
  call.separate_stderr = true;
  ToolServerLink link;  // as a step's call: directly to the server where it can
  call.link = &link;
  if (run.serve) {
    ExecOptions o;
    o.timeout = std::chrono::seconds(60);
    if (Status s = StartToolServer(rt, *installed, o, /*wait=*/true); !s.ok()) {
      std::cerr << "r2e tool run: " << s.ToString() << "; running the tool plainly\n";
    }
  }
  std::string command;
  for (const std::string& word : run.argv) command += (command.empty() ? "" : " ") + ShlexQuote(word);
  auto called = CallTool(rt, *installed, *tool, command, call);
  if (!called.ok()) return fail(1, called.status());

  // What changed under /testbed: the sandbox's copy against the given one.
  struct Scratch {
    fs::path dir;
    ~Scratch() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } after{fs::temp_directory_path() / ("r2e-tool-run-" + std::to_string(::getpid()))};
  fs::remove_all(after.dir, ec);
  if (Status s = rt.download(std::string(kRepoPath), after.dir); !s.ok()) return fail(1, s);
  auto before_files = ReadTree(run.repo);
  auto after_files = ReadTree(after.dir);
  if (!before_files.ok()) return fail(1, before_files.status());
  if (!after_files.ok()) return fail(1, after_files.status());
  nlohmann::json changed = nlohmann::json::object();
  for (const auto& [path, content] : *after_files) {
    auto it = before_files->find(path);
    if (it == before_files->end() || it->second != content) changed[path] = TextOrBase64(content);
  }
  for (const auto& [path, content] : *before_files) {
    if (!after_files->contains(path)) changed[path] = nullptr;
  }

  nlohmann::json out = {{"stdout", TextOrBase64(called->result.output)},
                        {"stderr", TextOrBase64(called->stderr_output)},
                        {"exit_code", called->result.exit_code},
                        {"changed_files", std::move(changed)},
                        {"timed_out", called->result.timed_out},
                        {"tool_path", ToolPathName(called->path)}};
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace r2e::cli
