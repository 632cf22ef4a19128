#include "r2e/repo_env.h"

#include <algorithm>

#include "core/enum_names.h"
#include "core/text.h"
#include "env/hidden_tests.h"
#include "env/task_prep.h"
#include "r2e/runtimes.h"
#include "r2e/session.h"
#include "r2e/warm_pool.h"

namespace r2e {
namespace {

// At most `max` bytes of a name for a message, valid UTF-8.
std::string ShortName(std::string_view name, std::size_t max = 200) {
  if (name.size() <= max) return SanitizeUtf8(name);
  return SanitizeUtf8(name.substr(0, max)) + "...";
}

}  // namespace

std::string_view HiddenTestModeName(HiddenTestMode mode) {
  using enum HiddenTestMode;
  static constexpr internal::EnumName<HiddenTestMode> kNames[] = {
      {kLeaveInPlace, "leave"}, {kMoveUnderRoot, "move"}, {kRemoveFromSandbox, "remove"}};
  return internal::NameOf(mode, kNames, "remove");
}

std::string_view ResetKindName(ResetKind kind) {
  using enum ResetKind;
  static constexpr internal::EnumName<ResetKind> kNames[] = {
      {kNone, "none"}, {kCold, "cold"}, {kWarm, "warm"}, {kFast, "fast"}};
  return internal::NameOf(kind, kNames, "none");
}

nlohmann::json ToJson(const StepInfo& info) {
  nlohmann::json out = {{"total_time", info.total_time.count()},
                        {"exit_code", info.exit_code},
                        {"timed_out", info.timed_out},
                        {"tool", info.tool},
                        {"step", info.step}};
  if (info.tool_path) out["tool_path"] = ToolPathName(*info.tool_path);
  if (info.tool_direct) out["tool_direct"] = true;
  if (info.tool_python) out["tool_python"] = ToolPythonName(*info.tool_python);
  if (info.result) out["result"] = *info.result;
  if (info.reward_time) out["reward_time"] = info.reward_time->count();
  return out;
}

Result<std::unique_ptr<RepoEnv>> RepoEnv::Create(Task task, RepoEnvOptions options) {
  if (!options.tool_set.empty()) R2E_RETURN_IF_ERROR(ToolSet(options.tool_set).status());
  for (const ToolFile& f : options.extra_tools) R2E_RETURN_IF_ERROR(DescribeTool(f).status());
  R2E_ASSIGN_OR_RETURN(auto runtime, internal::FactoryOf(options)());
  return std::make_unique<RepoEnv>(std::move(task), std::move(runtime), std::move(options));
}

RepoEnv::RepoEnv(Task task, std::unique_ptr<Runtime> runtime, RepoEnvOptions options)
    : task_(std::move(task)), runtime_(std::move(runtime)), options_(std::move(options)) {
  if (runtime_) pool_key_ = internal::PoolKey(task_, options_, *runtime_);
  if (!options_.tool_set.empty()) {
    auto set = ToolSet(options_.tool_set);
    tools_status_ = set.ok() ? merge_tools(*set) : set.status();
  }
  if (tools_status_.ok()) tools_status_ = merge_tools(options_.extra_tools);
  if (!tools_status_.ok()) tools_.clear();
}

RepoEnv::~RepoEnv() { close(); }

Observation RepoEnv::initial_observation() const {
  Observation obs;
  obs.text = task_instruction();
  return obs;
}

namespace {
double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

Result<Observation> RepoEnv::reset() {
  const auto t0 = std::chrono::steady_clock::now();
  timings_ = {};
  episode_ = {};
  forget_snapshots();
  auto r = reset_sandbox();
  if (r.ok()) {
    timings_.total_ms = MsSince(t0);
    last_reset_timings_ = timings_;
  }
  return r;
}

Result<Observation> RepoEnv::reset_sandbox() {
  done_ = false;
  steps_ = 0;
  if (!tools_status_.ok()) {
    if (started_) {
      started_ = false;
      installed_.clear();
      runtime_->stop();
    }
    return tools_status_.WithContext("reset " + task_.instance_id);
  }
  if (options_.warm_pool && options_.warm_pool->options().key != pool_key_) {
    return Status::InvalidArgument("reset " + task_.instance_id +
                                   ": options.warm_pool was made for another task or other options; "
                                   "make it with RepoEnv::MakeWarmPool(task, options, ...)");
  }
  if (options_.fast_reset && started_ && fast_reset_allowed()) {
    const auto t0 = std::chrono::steady_clock::now();
    Status s = restore_in_place();
    timings_.restore_ms = MsSince(t0);
    last_fast_reset_error_ = s;
    if (s.ok()) {
      last_reset_kind_ = ResetKind::kFast;
      start_tool_server();
      return initial_observation();
    }
  }
  if (options_.warm_pool) {
    bool fell_back = false;
    auto r = start_warm(fell_back);
    if (!fell_back) return r;
  }
  return start_cold();
}

Result<Observation> RepoEnv::reset(Task task, std::shared_ptr<WarmPool> warm_pool) {
  if (started_) {
    started_ = false;
    installed_.clear();
    if (Status s = runtime_->stop(); !s.ok()) return s.WithContext("removing the sandbox of " + task_.instance_id);
  }
  // Nothing of the old task's sandbox carries over.
  pristine_.reset();
  hidden_.reset();
  grade_base_ = Status::FailedPrecondition("no reset() yet");
  last_reset_kind_ = ResetKind::kNone;
  last_fast_reset_error_ = Status::OK();
  task_ = std::move(task);
  options_.warm_pool = std::move(warm_pool);
  if (runtime_) pool_key_ = internal::PoolKey(task_, options_, *runtime_);
  return reset();
}

Result<Observation> RepoEnv::start_warm(bool& fell_back) {
  const auto t0 = std::chrono::steady_clock::now();
  auto taken = options_.warm_pool->acquire(options_.warm_pool_timeout);
  timings_.start_ms = MsSince(t0);
  if (!taken.ok()) {
    fell_back = true;  // the pool is empty, broken or shut down: start one ourselves
    return taken.status();
  }
  started_ = false;
  std::unique_ptr<Runtime> previous;
  {
    std::lock_guard<std::mutex> lock(runtime_mu_);
    previous = std::move(runtime_);
    runtime_ = std::move(taken->runtime);
  }
  // Deleted in the background: the episode does not wait for it.
  options_.warm_pool->retire(std::move(previous));
  installed_ = std::move(taken->tools);
  started_ = true;
  episode_token_ = internal::RandomHex(8);
  // The pool copied the hidden tests out while preparing the sandbox.
  auto prepared = std::static_pointer_cast<internal::PreparedSandbox>(std::move(taken->attachment));
  hidden_ = prepared ? prepared->hidden : nullptr;
  snapshot_base_ = prepared ? prepared->snapshot_base : "";
  if (prepared && prepared->grade_base_status.ok()) {
    grade_base_ = prepared->grade_base;
  } else {
    record_grade_base();  // a pool made for GradeIn::kAgentSandbox records none
  }
  const auto t_tools = std::chrono::steady_clock::now();
  Status s = install_tools(added_tools_);
  timings_.tools_ms = MsSince(t_tools);
  if (s.ok() && options_.fast_reset) s = record_pristine();
  if (!s.ok()) {
    started_ = false;
    installed_.clear();
    runtime_->stop();
    return s.WithContext("reset " + task_.instance_id + " (warm sandbox)");
  }
  start_tool_server();
  last_reset_kind_ = ResetKind::kWarm;
  return initial_observation();
}

Result<Observation> RepoEnv::start_cold() {
  hidden_.reset();
  if (started_) {
    started_ = false;
    installed_.clear();
    if (Status s = runtime_->stop(); !s.ok()) return s.WithContext("removing the previous sandbox");
  }
  installed_.clear();
  auto spec = internal::SandboxSpecFor(task_, *runtime_);
  if (!spec.ok()) return spec.status();
  auto t0 = std::chrono::steady_clock::now();
  if (Status s = runtime_->start(*spec); !s.ok()) return s.WithContext("reset " + task_.instance_id);
  timings_.start_ms = MsSince(t0);
  started_ = true;
  episode_token_ = internal::RandomHex(8);
  t0 = std::chrono::steady_clock::now();
  Status s = setup();
  if (s.ok() && internal::RemovesHiddenTests(task_, options_)) {
    auto taken = internal::HiddenTests::TakeOut(*runtime_, task_);
    if (taken.ok()) hidden_ = std::move(taken).value();
    s = taken.status();
  }
  timings_.setup_ms = MsSince(t0);
  if (s.ok()) {
    std::vector<ToolFile> files;
    for (const auto& t : tools_) files.push_back(t.first);
    t0 = std::chrono::steady_clock::now();
    s = install_tools(files);
    timings_.tools_ms = MsSince(t0);
  }
  if (s.ok() && options_.fast_reset) s = record_pristine();
  if (!s.ok()) {
    started_ = false;
    installed_.clear();
    runtime_->stop();
    return s.WithContext("reset " + task_.instance_id);
  }
  record_grade_base();
  // Last, so that the base is the state the episode starts from (as a warm pool's).
  if (Status primed = prime_snapshots(); !primed.ok()) {
    started_ = false;
    installed_.clear();
    runtime_->stop();
    return primed.WithContext("reset " + task_.instance_id + ": priming the snapshot store");
  }
  start_tool_server();
  last_reset_kind_ = ResetKind::kCold;
  return initial_observation();
}

Status RepoEnv::setup() { return internal::RunSetup(*runtime_, task_, options_); }

Result<StepResult> RepoEnv::step(std::string_view action_text, std::optional<std::chrono::seconds> timeout) {
  return step(ParseResponse(action_text), timeout);
}

Result<std::chrono::seconds> RepoEnv::command_timeout(const char* call,
                                                      std::optional<std::chrono::seconds> timeout) const {
  if (!timeout) return options_.step_timeout;
  if (timeout->count() <= 0) {
    return Status::InvalidArgument(std::string(call) + ": the timeout must be positive, got " +
                                   std::to_string(timeout->count()) +
                                   " s; pass std::nullopt for options.step_timeout");
  }
  return *timeout;
}

Result<StepResult> RepoEnv::step(const Action& action, std::optional<std::chrono::seconds> timeout) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_step(action, timeout);
  episode_.step_ms.push_back(MsSince(t0));
  if (!r.ok()) {
    ++episode_.failed_steps;
  } else if (r->info.timed_out || r->info.exit_code != 0) {
    ++episode_.agent_error_steps;
  }
  return r;
}

Result<StepResult> RepoEnv::run_step(const Action& action, std::optional<std::chrono::seconds> timeout_arg) {
  if (!started_) return Status::FailedPrecondition("step() before reset(): call reset() first");
  R2E_ASSIGN_OR_RETURN(const std::chrono::seconds timeout, command_timeout("step()", timeout_arg));
  const auto started = Clock::now();
  StepResult out;
  StepInfo& info = out.info;
  info.tool = SanitizeUtf8(action.function_name);
  info.step = ++steps_;

  // The scaffold's RepoEnv.step: any name holding finish/submit ends the
  // episode, whatever ran; the texts are its Observation's.
  out.done = action.is_finish();
  if (action.empty()) {
    out.observation.text = std::string(kNoFunctionCallReminder);
  } else if (action.is_exact_finish()) {
    // The scaffold runs `echo '<<<Finished>>>'` (when the name is one of
    // its tools) and shows kFinishedText either way: nothing to run.
    out.observation.text = std::string(kFinishedText);
  } else if (const InstalledTool* tool = installed(action.function_name); tool == nullptr) {
    // Not a tool of this env: the scaffold's run_action fails its check and
    // shows an empty output with code -1.
    out.observation.text = ObservationText(action.function_name, "", "-1");
    info.exit_code = -1;
  } else if (auto cmd = ActionToCommand(action);
             !cmd.ok() || cmd->find('\0') != std::string::npos) {
    const std::string why =
        cmd.ok() ? "a parameter contains a NUL byte, which cannot be passed to a command"
                 : cmd.status().message();
    out.observation.text = "Error: cannot run `" + ShortName(action.function_name) + "`: " + why + ".";
    info.exit_code = 2;
  } else {
    ToolCallOptions call;
    call.exec = tool_exec_options(timeout);
    call.serve = options_.tool_server;
    call.link = options_.direct_tool_calls ? &tool_link_ : nullptr;
    auto called = CallTool(*runtime_, installed_, *tool, *cmd, call);
    if (!called.ok()) return called.status().WithContext("step " + std::to_string(steps_));
    const ExecResult& r = called->result;
    out.observation = StepObservation(tool->description.name, r, timeout);
    info.exit_code = r.exit_code;
    info.timed_out = r.timed_out;
    info.truncated_bytes = r.truncated_bytes;
    info.duration = r.duration;
    info.tool_path = called->path;
    info.tool_direct = called->direct;
    if (tool->python != ToolPython::kNone) info.tool_python = tool->python;
  }
  done_ = done_ || out.done;
  if (out.done) {
    if (auto result = action.parameter("result")) info.result = SanitizeUtf8(*result);
  }
  info.total_time = Clock::now() - started;
  if (options_.reward_fn) {
    try {
      out.reward = options_.reward_fn(*this, action, out);
    } catch (const std::exception& e) {
      return Status::Internal("step " + std::to_string(steps_) + ": reward_fn threw: " + e.what());
    } catch (...) {
      return Status::Internal("step " + std::to_string(steps_) + ": reward_fn threw");
    }
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
  AddCommandsOptions o = internal::ToolInstallOptions(task_, options_, *runtime_);
  // The Python the tools already installed run on, if any: one interpreter per sandbox.
  for (const InstalledTool& t : installed_) {
    if (t.python != ToolPython::kNone) o.python = t.python;
  }
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
  for (const ToolFile& f : files) added_tools_.push_back(f);
  return merge_tools(files);
}

std::vector<ToolDescription> RepoEnv::tools() const {
  std::vector<ToolDescription> out;
  for (const auto& t : tools_) out.push_back(t.second);
  return out;
}

std::vector<nlohmann::ordered_json> RepoEnv::tool_schemas() const {
  std::vector<nlohmann::ordered_json> out;
  std::vector<bool> offered(tools_.size(), false);
  auto set = ToolSet(options_.tool_set);
  auto schemas = ToolSetSchemas(options_.tool_set);
  if (!options_.tool_set.empty() && set.ok() && schemas.ok()) {
    auto own = [&](const ToolFile& f) {
      return std::any_of(set->begin(), set->end(), [&](const ToolFile& s) {
        return s.name == f.name && s.content == f.content;
      });
    };
    for (const auto& schema : *schemas) {
      const std::string name =
          schema.value("function", nlohmann::ordered_json::object()).value("name", "");
      for (std::size_t i = 0; i < tools_.size(); ++i) {
        if (!offered[i] && tools_[i].second.name == name && own(tools_[i].first)) {
          out.push_back(schema);
          offered[i] = true;
        }
      }
    }
  }
  for (std::size_t i = 0; i < tools_.size(); ++i) {
    if (!offered[i]) out.push_back(tools_[i].second.OpenAiSchema());
  }
  return out;
}

const InstalledTool* RepoEnv::installed(std::string_view name) const {
  for (const auto& t : installed_) {
    if (t.description.name == name) return &t;
  }
  return nullptr;
}

void RepoEnv::start_tool_server() {
  tool_link_ = ToolServerLink{};  // a new episode: what served calls kept is taken again
  if (!options_.tool_server || defer_tool_server_) return;
  // The server must outlive the episode: not marked as one of its processes.
  ExecOptions o = tool_exec_options(std::chrono::seconds(30));
  o.env.erase(std::remove_if(o.env.begin(), o.env.end(),
                             [](const auto& kv) { return kv.first == internal::kEpisodeVar; }),
              o.env.end());
  // Returns at once; a server that does not start only means plain tool calls.
  (void)StartToolServer(*runtime_, installed_, o);
}

std::string RepoEnv::tool_server_start_script() {
  if (!options_.tool_server || runtime_->keeps_state()) return "";
  // Only for a server that needs no environment of its own.
  for (const auto& [name, value] : tool_exec_options(std::chrono::seconds(30)).env) {
    if (name != internal::kEpisodeVar) return "";
  }
  return ToolServerStartScript(*runtime_, installed_);
}

ExecOptions RepoEnv::tool_exec_options(std::chrono::seconds timeout) const {
  ExecOptions o;
  o.timeout = timeout;
  std::string bin = installed_.empty() ? "" : installed_.front().executable;
  if (bin.empty() && !installed_.empty()) bin = installed_.front().sourced;
  bin = bin.substr(0, bin.rfind('/') == std::string::npos ? 0 : bin.rfind('/'));
  if (const std::string shown = runtime_->command_path(bin); !bin.empty() && shown != bin) {
    // A sandbox without a filesystem view of its own (the local runtime
    // without bubblewrap) shows sandbox paths elsewhere: the tools'
    // directory goes first, then the session's PATH.
    std::string path = shown;
    const std::string rest = runtime_->session_path();
    path += ":" + (rest.empty() ? std::string(kScaffoldPath) : rest);
    o.env.emplace_back("PATH", path);
  }
  // The episode's processes carry its token: a fast reset or a snapshot
  // restore kills them.
  o.env.emplace_back(internal::kEpisodeVar, episode_token_);
  return o;
}

Result<ExecResult> RepoEnv::run(std::string_view command, std::optional<std::chrono::seconds> timeout) {
  if (!started_) return Status::FailedPrecondition("run() before reset(): call reset() first");
  ExecOptions o;
  R2E_ASSIGN_OR_RETURN(o.timeout, command_timeout("run()", timeout));
  o.env.emplace_back(internal::kEpisodeVar, episode_token_);
  return runtime_->exec(command, o);
}

Result<GradeResult> RepoEnv::grade() {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_grade();
  if (r.ok()) {
    episode_.grade_ms.push_back(MsSince(t0));
  } else {
    ++episode_.failed_grades;
  }
  return r;
}

Result<GradeResult> RepoEnv::run_grade() {
  if (!started_) return Status::FailedPrecondition("compute_reward() before reset(): call reset() first");
  if (options_.grade_in == GradeIn::kFreshSandbox) return grade_in_fresh_sandbox();
  R2E_ASSIGN_OR_RETURN(auto grader, MakeGrader(task_.kind, options_.rules));
  GradeOptions o;
  o.timeout = options_.reward_timeout;
  if (hidden_) R2E_RETURN_IF_ERROR(hidden_->PutBack(*runtime_));
  auto graded = grader->grade(*runtime_, task_, o);
  // The episode may go on after a reward: the tests leave again.
  if (hidden_) hidden_->Remove(*runtime_);
  return graded;
}

Result<double> RepoEnv::compute_reward() {
  R2E_ASSIGN_OR_RETURN(GradeResult g, grade());
  return g.reward;
}

Status RepoEnv::close() {
  started_ = false;
  forget_snapshots();
  installed_.clear();
  hidden_.reset();
  return runtime_ ? runtime_->stop() : Status::OK();
}

void RepoEnv::cancel() {
  std::lock_guard<std::mutex> lock(runtime_mu_);
  if (runtime_) runtime_->stop();
  if (grading_env_) grading_env_->cancel();
}

bool RepoEnv::fast_reset_allowed() const {
  if (!pristine_) return false;
  // A session that keeps cwd and variables between commands would carry them
  // into the next episode.
  return !runtime_->keeps_state();
}

Status RepoEnv::record_pristine() {
  pristine_.reset();
  ExecOptions o;
  o.timeout = std::chrono::seconds(60);
  R2E_ASSIGN_OR_RETURN(ExecResult r, runtime_->exec(internal::PristineScript(), o));
  auto state = internal::ParsePristine(r);
  // A repository that git cannot describe simply gets no fast reset.
  if (state.ok() && state->ignored.size() <= 10000) {
    pristine_ = std::make_unique<internal::PristineState>(std::move(state).value());
  }
  return Status::OK();
}

Status RepoEnv::restore_in_place() {
  std::vector<std::string> tool_paths;
  for (const auto& t : installed_) {
    if (!t.executable.empty()) tool_paths.push_back(t.executable);
    if (!t.sourced.empty()) tool_paths.push_back(t.sourced);
  }
  ExecOptions o;
  o.timeout = std::chrono::seconds(120);
  const std::string script = internal::RestoreScript(*pristine_, episode_token_, tool_paths);
  auto r = runtime_->exec(script, o);
  if (!r.ok()) return r.status().WithContext("fast reset");
  R2E_RETURN_IF_ERROR(internal::CheckRestore(*r));
  // The restore ended the session shell: start the next one now, so the
  // first step does not pay for it, and prove the sandbox still answers.
  auto probe = runtime_->exec("true", o);
  if (!probe.ok()) return probe.status().WithContext("fast reset: restarting the session");
  if (!probe->success()) return Status::Internal("fast reset: the restarted session cannot run `true`");
  episode_token_ = internal::RandomHex(8);
  return Status::OK();
}

Result<std::string> RepoEnv::WarmPoolKey(const Task& task, const RepoEnvOptions& options) {
  R2E_ASSIGN_OR_RETURN(auto runtime, internal::FactoryOf(options)());
  return internal::PoolKey(task, options, *runtime);
}

Result<std::shared_ptr<WarmPool>> RepoEnv::MakeWarmPool(const Task& task, const RepoEnvOptions& options,
                                                        const WarmPoolOptions& pool_options) {
  return internal::MakeTaskPool(task, options, pool_options);
}

}  // namespace r2e
