// RepoEnv: a Gym-style environment over one task's repository in a sandbox.
//
//   auto env = r2e::RepoEnv::Create(task, {}).value();
//   auto first = env->reset();                  // fresh sandbox, set up
//   auto r = env->step(r2e::ParseAction(text)); // observation, reward, done
//   double reward = env->compute_reward().value();
//   env->close();
//
// Ownership: RepoEnv owns its Runtime and the sandbox in it. close() (also
// run by the destructor, which never throws) removes the sandbox.
// Thread-safety: one thread at a time; use EnvPool for many environments.
// Errors: an agent's mistakes (unknown tool, failing or timed-out command)
// are observations; a Status error means the environment itself failed
// (sandbox could not start, died, or step() before reset()).
#ifndef R2E_REPO_ENV_H_
#define R2E_REPO_ENV_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/action.h"
#include "r2e/docker_runtime.h"
#include "r2e/grader.h"
#include "r2e/local_runtime.h"
#include "r2e/observation.h"
#include "r2e/runtime.h"
#include "r2e/status.h"
#include "r2e/task.h"
#include "r2e/tools.h"

namespace r2e {

struct RepoEnvOptions {
  // Backend used by Create(): "local" (default) or another runtime's name.
  std::string runtime = "local";
  LocalRuntimeOptions local;
  DockerRuntimeOptions docker;

  // Per-step command timeout (the scaffold's default).
  std::chrono::seconds step_timeout{90};
  // Bound on compute_reward()'s test run.
  std::chrono::seconds reward_timeout{300};
  // SWE-bench grading rules: classic (harness v4.1.0) or v5.
  GradingRules rules = GradingRules::kClassic;
  // Extra commands run once after the kind's setup (e.g. installs). A
  // failing one fails reset().
  std::vector<std::string> extra_setup;
  // The R2E test folder and script (moved under /root at setup).
  bool hide_tests = true;
  // R2E, with hide_tests: after setup the hidden tests (/root/r2e_tests) and
  // their runner (/root/run_tests.sh) are copied out of the sandbox into a
  // private host directory and deleted in it, so the agent can neither read
  // them nor edit them to earn a reward; grade() puts the originals back
  // (replacing whatever the agent left there) for the test run only. Off
  // leaves them in the sandbox (R2E-Gym's behaviour; for callers that grade
  // with a Grader directly, with no agent in the sandbox).
  bool remove_hidden_tests = true;

  // Tools installed at every reset(), after setup: the named set ("r2egym",
  // "sweagent", "openhands"; empty: none), then extra_tools (a file of the
  // same command name replaces the set's). Only these, and those given to
  // add_commands(), can be called by actions.
  std::string tool_set = "r2egym";
  std::vector<ToolFile> extra_tools;
  // Where the tools go in the sandbox; empty: see AddCommandsOptions.
  std::string tools_bin_dir;
};

struct StepResult {
  Observation observation;
  double reward = 0.0;  // 0 per step unless a grader supplies one
  bool done = false;
  // total_time (s), exit_code, timed_out, ...
  nlohmann::json info;
};

class RepoEnv {
 public:
  // Uses the runtime named by options.runtime.
  static Result<std::unique_ptr<RepoEnv>> Create(Task task, RepoEnvOptions options = {});
  // Uses the given runtime (e.g. a FaultRuntime in tests).
  RepoEnv(Task task, std::unique_ptr<Runtime> runtime, RepoEnvOptions options = {});
  ~RepoEnv();
  RepoEnv(const RepoEnv&) = delete;
  RepoEnv& operator=(const RepoEnv&) = delete;

  // Starts a fresh sandbox (removing the previous one), runs the task
  // kind's setup, and returns the initial observation (the instruction).
  Result<Observation> reset();

  // One agent action. Only installed tools run, through ActionToCommand:
  // execute_bash/bash give BashObservation texts, other tools
  // ToolObservation texts, finish/submit (Action::is_finish) ends the
  // episode without running anything. An empty action, an unknown tool or
  // a parameter that cannot be passed (NUL byte) is an observation.
  Result<StepResult> step(const Action& action, std::chrono::seconds timeout = std::chrono::seconds(0));
  Result<StepResult> step(std::string_view action_text, std::chrono::seconds timeout = std::chrono::seconds(0));

  // Runs a command directly (not an agent action): the scaffold's run_action.
  Result<ExecResult> run(std::string_view command, std::chrono::seconds timeout = std::chrono::seconds(0));

  // Runs the hidden tests and grades them; the reward is 1 or 0.
  Result<double> compute_reward();
  // The same, with the whole grade (log, status map, report).
  Result<GradeResult> grade();

  // Removes the sandbox. Idempotent.
  Status close();

  // Adds tools (see AddCommands). Installed now when the sandbox is up, and
  // at every later reset(). InvalidArgument for a file DescribeTool rejects
  // (nothing is added then); a runtime error when installing fails.
  Status add_commands(const std::vector<ToolFile>& files);
  // The tools actions can call, in the order added (available before reset()).
  std::vector<ToolDescription> tools() const;

  std::string task_instruction() const { return task_.Instruction(); }
  const Task& task() const { return task_; }
  bool check_done() const { return done_; }
  Runtime& runtime() { return *runtime_; }
  int steps() const { return steps_; }

 private:
  Status setup();
  // remove_hidden_tests: copies the hidden tests out of the sandbox and
  // deletes them there; restore puts them back, hide deletes them again.
  Status stash_hidden_tests();
  Status restore_hidden_tests();
  void hide_hidden_tests();
  void drop_stash();
  Status install_tools(const std::vector<ToolFile>& files);
  // Adds files to tools_ (replacing same-named ones); InvalidArgument for a bad file.
  Status merge_tools(const std::vector<ToolFile>& files);
  const InstalledTool* installed(std::string_view name) const;
  ExecOptions tool_exec_options(std::chrono::seconds timeout) const;
  std::string shell_path(const std::string& sandbox_path) const;

  Task task_;
  std::unique_ptr<Runtime> runtime_;
  RepoEnvOptions options_;
  bool started_ = false;
  bool done_ = false;
  int steps_ = 0;
  // The tools in the order added, with their descriptions; tools_status_ holds
  // an error of options.tool_set / extra_tools, reported by reset().
  std::vector<std::pair<ToolFile, ToolDescription>> tools_;
  Status tools_status_;
  std::vector<InstalledTool> installed_;  // in the current sandbox
  // Host directory holding the hidden tests while the agent works (empty: none).
  std::filesystem::path stash_dir_;
  bool stashed_tests_ = false;
  bool stashed_runner_ = false;
};

// The runtime of a given name: "local" or "docker" ("kube" arrives with its backend).
Result<std::unique_ptr<Runtime>> MakeRuntime(std::string_view name, const RepoEnvOptions& options);

}  // namespace r2e

#endif  // R2E_REPO_ENV_H_
