#include "r2e/repo_env.h"

#include <stdlib.h>

#include <algorithm>
#include <system_error>

#include "core/text.h"
#include "env/setup.h"
#include "r2e/session.h"

namespace r2e {
namespace {

using Seconds = std::chrono::duration<double>;

bool IsBashTool(std::string_view name) { return name == "execute_bash" || name == "bash"; }

// At most `max` bytes of a name for a message, valid UTF-8.
std::string ShortName(std::string_view name, std::size_t max = 200) {
  if (name.size() <= max) return SanitizeUtf8(name);
  return SanitizeUtf8(name.substr(0, max)) + "...";
}

}  // namespace

Result<std::unique_ptr<RepoEnv>> RepoEnv::Create(Task task, RepoEnvOptions options) {
  if (!options.tool_set.empty()) R2E_RETURN_IF_ERROR(ToolSet(options.tool_set).status());
  for (const ToolFile& f : options.extra_tools) R2E_RETURN_IF_ERROR(DescribeTool(f).status());
  R2E_ASSIGN_OR_RETURN(auto runtime, MakeRuntime(options.runtime, options));
  return std::make_unique<RepoEnv>(std::move(task), std::move(runtime), std::move(options));
}

RepoEnv::RepoEnv(Task task, std::unique_ptr<Runtime> runtime, RepoEnvOptions options)
    : task_(std::move(task)), runtime_(std::move(runtime)), options_(std::move(options)) {
  if (!options_.tool_set.empty()) {
    auto set = ToolSet(options_.tool_set);
    tools_status_ = set.ok() ? merge_tools(*set) : set.status();
  }
  if (tools_status_.ok()) tools_status_ = merge_tools(options_.extra_tools);
  if (!tools_status_.ok()) tools_.clear();
}

RepoEnv::~RepoEnv() { close(); }

Result<Observation> RepoEnv::reset() {
  drop_stash();
  if (started_) {
    started_ = false;
    if (Status s = runtime_->stop(); !s.ok()) return s.WithContext("removing the previous sandbox");
  }
  done_ = false;
  steps_ = 0;
  installed_.clear();
  if (!tools_status_.ok()) return tools_status_.WithContext("reset " + task_.instance_id);
  SandboxSpec spec;
  spec.image = task_.image;
  spec.task_id = task_.instance_id;
  const bool local = runtime_->name() == "local";
  // Host directories build the sandbox only where there is no image.
  if (local && !task_.local_repo.empty()) spec.copy_in.emplace_back(task_.local_repo, "/testbed");
  if (local && !task_.local_tests.empty()) spec.copy_in.emplace_back(task_.local_tests, "/root/r2e_tests");
  if (local && task_.local_repo.empty()) {
    return Status::InvalidArgument("task " + task_.instance_id +
                                   " has no `local_repo`, which the local runtime needs (it cannot run "
                                   "image `" + task_.image + "`); add one or use a container runtime");
  }
  if (Status s = runtime_->start(spec); !s.ok()) return s.WithContext("reset " + task_.instance_id);
  started_ = true;
  Status s = setup();
  if (s.ok()) s = stash_hidden_tests();
  if (s.ok()) {
    std::vector<ToolFile> files;
    for (const auto& t : tools_) files.push_back(t.first);
    s = install_tools(files);
  }
  if (!s.ok()) {
    started_ = false;
    installed_.clear();
    drop_stash();
    runtime_->stop();
    return s.WithContext("reset " + task_.instance_id);
  }
  Observation obs;
  obs.text = task_instruction();
  return obs;
}

Status RepoEnv::setup() {
  ExecOptions o;
  o.timeout = std::chrono::seconds(300);
  auto run_setup = [&](const std::string& script, const std::string& what) -> Status {
    auto r = runtime_->exec(script, o);
    if (!r.ok()) return r.status().WithContext(what);
    if (!r->success()) {
      return Status::Internal(what + " failed with exit code " + std::to_string(r->exit_code) +
                              (r->timed_out ? " (timed out)" : "") + ": " +
                              SanitizeUtf8(internal::Trim(r->output)));
    }
    return Status::OK();
  };
  R2E_RETURN_IF_ERROR(run_setup(internal::SetupScript(task_, options_.hide_tests), "sandbox setup"));
  for (const auto& cmd : options_.extra_setup) {
    R2E_RETURN_IF_ERROR(run_setup(cmd, "extra setup command `" + cmd + "`"));
  }
  return Status::OK();
}

namespace {
constexpr std::string_view kHiddenTests = "/root/r2e_tests";
constexpr std::string_view kHiddenRunner = "/root/run_tests.sh";
constexpr std::string_view kRemoveHidden = "rm -rf /root/r2e_tests /root/run_tests.sh";
}  // namespace

Status RepoEnv::stash_hidden_tests() {
  drop_stash();
  if (task_.kind != TaskKind::kR2E || !options_.hide_tests || !options_.remove_hidden_tests) {
    return Status::OK();
  }
  ExecOptions o;
  o.timeout = std::chrono::seconds(60);
  auto present = runtime_->exec(
      "if [ -e /root/r2e_tests ]; then echo tests; fi; if [ -e /root/run_tests.sh ]; then echo runner; fi", o);
  if (!present.ok()) return present.status().WithContext("looking for the hidden tests");
  const bool tests = present->output.find("tests") != std::string::npos;
  const bool runner = present->output.find("runner") != std::string::npos;
  if (!tests && !runner) return Status::OK();
  std::string tmpl = (std::filesystem::temp_directory_path() / "r2e-hidden-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::Unavailable("cannot create a private directory for the hidden tests under " +
                               std::filesystem::temp_directory_path().string());
  }
  stash_dir_ = tmpl;
  if (tests) {
    R2E_RETURN_IF_ERROR(runtime_->download(std::string(kHiddenTests), stash_dir_ / "r2e_tests")
                            .WithContext("copying the hidden tests out of the sandbox"));
    stashed_tests_ = true;
  }
  if (runner) {
    R2E_RETURN_IF_ERROR(runtime_->download(std::string(kHiddenRunner), stash_dir_ / "run_tests.sh")
                            .WithContext("copying the hidden test runner out of the sandbox"));
    stashed_runner_ = true;
  }
  auto removed = runtime_->exec(kRemoveHidden, o);
  if (!removed.ok()) return removed.status().WithContext("removing the hidden tests from the sandbox");
  if (!removed->success()) {
    return Status::Internal("removing the hidden tests from the sandbox failed: " +
                            SanitizeUtf8(internal::Trim(removed->output)));
  }
  return Status::OK();
}

Status RepoEnv::restore_hidden_tests() {
  if (!stashed_tests_ && !stashed_runner_) return Status::OK();
  ExecOptions o;
  o.timeout = std::chrono::seconds(60);
  // Whatever the agent put at these paths goes; the originals come back.
  auto removed = runtime_->exec(kRemoveHidden, o);
  if (!removed.ok()) return removed.status().WithContext("restoring the hidden tests");
  if (stashed_tests_) {
    R2E_RETURN_IF_ERROR(runtime_->upload(stash_dir_ / "r2e_tests", std::string(kHiddenTests))
                            .WithContext("restoring the hidden tests"));
  }
  if (stashed_runner_) {
    R2E_RETURN_IF_ERROR(runtime_->upload(stash_dir_ / "run_tests.sh", std::string(kHiddenRunner))
                            .WithContext("restoring the hidden test runner"));
  }
  return Status::OK();
}

void RepoEnv::hide_hidden_tests() {
  if (!stashed_tests_ && !stashed_runner_) return;
  ExecOptions o;
  o.timeout = std::chrono::seconds(60);
  (void)runtime_->exec(kRemoveHidden, o);
}

void RepoEnv::drop_stash() {
  if (!stash_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(stash_dir_, ec);
    stash_dir_.clear();
  }
  stashed_tests_ = stashed_runner_ = false;
}

Result<StepResult> RepoEnv::step(std::string_view action_text, std::chrono::seconds timeout) {
  return step(ParseAction(action_text), timeout);
}

Result<StepResult> RepoEnv::step(const Action& action, std::chrono::seconds timeout) {
  if (!started_) return Status::FailedPrecondition("step() before reset(): call reset() first");
  const auto started = Clock::now();
  if (timeout.count() <= 0) timeout = options_.step_timeout;
  StepResult out;
  Observation& obs = out.observation;
  obs.tool = action.function_name;
  ++steps_;

  if (action.empty()) {
    obs.text = std::string(kNoFunctionCallReminder);
  } else if (action.is_finish()) {
    obs.text = std::string(kFinishedText);
    obs.finished = true;
    out.done = true;
  } else if (const InstalledTool* tool = installed(action.function_name); tool == nullptr) {
    std::string names;
    for (const auto& t : installed_) names += (names.empty() ? "" : ", ") + t.description.name;
    obs.text = "Error: unknown function `" + ShortName(action.function_name) +
               "`. Available functions: " + (names.empty() ? "none" : names) + ".";
    obs.exit_code = 1;
  } else if (auto cmd = ActionToCommand(action); !cmd.ok()) {
    obs.text = "Error: cannot run `" + ShortName(action.function_name) +
               "`: " + cmd.status().message() + ".";
    obs.exit_code = 2;
  } else {
    std::string command;
    for (const auto& t : installed_) {
      if (!t.sourced.empty()) command += ". " + ShellQuote(shell_path(t.sourced)) + "; ";
    }
    command += *cmd;
    auto r = runtime_->exec(command, tool_exec_options(timeout));
    if (!r.ok()) return r.status().WithContext("step " + std::to_string(steps_));
    obs = IsBashTool(tool->description.name) ? BashObservation(tool->description.name, *r, timeout)
                                             : ToolObservation(tool->description.name, *r, timeout);
  }
  done_ = done_ || out.done;
  const double total = Seconds(Clock::now() - started).count();
  out.info = {{"total_time", total}, {"exit_code", obs.exit_code}, {"timed_out", obs.timed_out},
              {"tool", SanitizeUtf8(obs.tool)}, {"step", steps_}};
  if (out.done) {
    if (auto result = action.parameter("result")) out.info["result"] = SanitizeUtf8(*result);
  }
  return out;
}

Status RepoEnv::merge_tools(const std::vector<ToolFile>& files) {
  std::vector<std::pair<ToolFile, ToolDescription>> described;
  for (const ToolFile& f : files) {
    R2E_ASSIGN_OR_RETURN(ToolDescription d, DescribeTool(f));
    described.emplace_back(f, std::move(d));
  }
  for (auto& entry : described) {
    auto same = std::find_if(tools_.begin(), tools_.end(),
                             [&](const auto& t) { return t.second.name == entry.second.name; });
    if (same != tools_.end()) tools_.erase(same);
    tools_.push_back(std::move(entry));
  }
  return Status::OK();
}

Status RepoEnv::install_tools(const std::vector<ToolFile>& files) {
  if (files.empty()) return Status::OK();
  AddCommandsOptions o;
  o.bin_dir = options_.tools_bin_dir;
  R2E_ASSIGN_OR_RETURN(std::vector<InstalledTool> added, AddCommands(*runtime_, files, o));
  for (InstalledTool& t : added) {
    auto same = std::find_if(installed_.begin(), installed_.end(), [&](const InstalledTool& i) {
      return i.description.name == t.description.name;
    });
    if (same != installed_.end()) installed_.erase(same);
    installed_.push_back(std::move(t));
  }
  return Status::OK();
}

Status RepoEnv::add_commands(const std::vector<ToolFile>& files) {
  // Validate everything before changing anything.
  for (const ToolFile& f : files) R2E_RETURN_IF_ERROR(DescribeTool(f).status());
  if (started_) R2E_RETURN_IF_ERROR(install_tools(files));
  return merge_tools(files);
}

std::vector<ToolDescription> RepoEnv::tools() const {
  std::vector<ToolDescription> out;
  for (const auto& t : tools_) out.push_back(t.second);
  return out;
}

const InstalledTool* RepoEnv::installed(std::string_view name) const {
  for (const auto& t : installed_) {
    if (t.description.name == name) return &t;
  }
  return nullptr;
}

// Without bubblewrap the local sandbox's /root is a host directory that
// commands reach by its host path (isolated sandboxes and containers see the
// sandbox paths themselves).
std::string RepoEnv::shell_path(const std::string& sandbox_path) const {
  if (auto* local = dynamic_cast<LocalRuntime*>(runtime_.get()); local && !local->isolated()) {
    if (auto host = local->host_path(sandbox_path); host.ok()) return host->string();
  }
  return sandbox_path;
}

ExecOptions RepoEnv::tool_exec_options(std::chrono::seconds timeout) const {
  ExecOptions o;
  o.timeout = timeout;
  std::string bin = installed_.empty() ? "" : installed_.front().executable;
  if (bin.empty() && !installed_.empty()) bin = installed_.front().sourced;
  bin = bin.substr(0, bin.rfind('/') == std::string::npos ? 0 : bin.rfind('/'));
  if (const std::string shown = shell_path(bin); !bin.empty() && shown != bin) {
    std::string path = shown;
    for (const auto& [k, v] : ShellSessionOptions::DefaultEnv()) {
      if (k == "PATH") path += ":" + v;
    }
    o.env.emplace_back("PATH", path);
  }
  return o;
}

Result<ExecResult> RepoEnv::run(std::string_view command, std::chrono::seconds timeout) {
  if (!started_) return Status::FailedPrecondition("run() before reset(): call reset() first");
  ExecOptions o;
  o.timeout = timeout.count() > 0 ? timeout : std::chrono::seconds(120);
  return runtime_->exec(command, o);
}

Result<GradeResult> RepoEnv::grade() {
  if (!started_) return Status::FailedPrecondition("compute_reward() before reset(): call reset() first");
  R2E_ASSIGN_OR_RETURN(auto grader, MakeGrader(task_.kind, options_.rules));
  GradeOptions o;
  o.timeout = options_.reward_timeout;
  R2E_RETURN_IF_ERROR(restore_hidden_tests());
  auto graded = grader->grade(*runtime_, task_, o);
  // The episode may go on after a reward: the tests leave again.
  hide_hidden_tests();
  return graded;
}

Result<double> RepoEnv::compute_reward() {
  R2E_ASSIGN_OR_RETURN(GradeResult g, grade());
  return g.reward;
}

Status RepoEnv::close() {
  started_ = false;
  installed_.clear();
  drop_stash();
  return runtime_ ? runtime_->stop() : Status::OK();
}

}  // namespace r2e
