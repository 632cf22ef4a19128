#include "r2e/repo_env.h"

#include <array>
#include <cctype>

#include "core/text.h"
#include "env/setup.h"

namespace r2e {
namespace {

using Seconds = std::chrono::duration<double>;

// First words the scaffold's execute_bash refuses.
constexpr std::array<std::string_view, 4> kRefusedFirstWords = {"git", "ipython", "jupyter", "nohup"};

std::string FirstWord(std::string_view cmd) {
  cmd = internal::Trim(cmd);
  std::size_t end = 0;
  while (end < cmd.size() && !std::isspace(static_cast<unsigned char>(cmd[end])) && cmd[end] != ';' &&
         cmd[end] != '&' && cmd[end] != '|') {
    ++end;
  }
  return std::string(cmd.substr(0, end));
}

bool IsBashTool(std::string_view name) { return name == "execute_bash" || name == "bash"; }

}  // namespace

Result<std::unique_ptr<RepoEnv>> RepoEnv::Create(Task task, RepoEnvOptions options) {
  R2E_ASSIGN_OR_RETURN(auto runtime, MakeRuntime(options.runtime, options));
  return std::make_unique<RepoEnv>(std::move(task), std::move(runtime), std::move(options));
}

RepoEnv::RepoEnv(Task task, std::unique_ptr<Runtime> runtime, RepoEnvOptions options)
    : task_(std::move(task)), runtime_(std::move(runtime)), options_(std::move(options)) {}

RepoEnv::~RepoEnv() { close(); }

Result<Observation> RepoEnv::reset() {
  if (started_) {
    started_ = false;
    if (Status s = runtime_->stop(); !s.ok()) return s.WithContext("removing the previous sandbox");
  }
  done_ = false;
  steps_ = 0;
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
  if (Status s = setup(); !s.ok()) {
    started_ = false;
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
  } else if (IsBashTool(action.function_name)) {
    std::string cmd = action.parameter("cmd").value_or(action.parameter("command").value_or(""));
    std::string first = FirstWord(cmd);
    bool refused = false;
    for (auto word : kRefusedFirstWords) refused = refused || first == word;
    if (internal::Trim(cmd).empty()) {
      obs.text = "Error: no command given. Pass the command in the `cmd` parameter.";
      obs.exit_code = 2;
    } else if (refused) {
      obs.text = "Bash command '" + first + "' is not allowed. Please use a different command or tool.";
      obs.exit_code = 1;
    } else {
      ExecOptions o;
      o.timeout = timeout;
      auto r = runtime_->exec(cmd, o);
      if (!r.ok()) return r.status().WithContext("step " + std::to_string(steps_));
      obs = BashObservation(action.function_name, *r, timeout);
    }
  } else {
    obs.text = "Error: unknown function `" + SanitizeUtf8(action.function_name) +
               "`. Available functions: execute_bash, finish.";
    obs.exit_code = 1;
  }
  done_ = done_ || out.done;
  const double total = Seconds(Clock::now() - started).count();
  out.info = {{"total_time", total}, {"exit_code", obs.exit_code}, {"timed_out", obs.timed_out},
              {"tool", obs.tool}, {"step", steps_}};
  return out;
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
  return grader->grade(*runtime_, task_, o);
}

Result<double> RepoEnv::compute_reward() {
  R2E_ASSIGN_OR_RETURN(GradeResult g, grade());
  return g.reward;
}

Status RepoEnv::close() {
  started_ = false;
  return runtime_ ? runtime_->stop() : Status::OK();
}

}  // namespace r2e
