// What RepoEnv and the task warm pools share: the sandbox a task needs, its
// setup, its tools, and the in-place restore of a fast reset.
#ifndef R2E_ENV_TASK_PREP_H_
#define R2E_ENV_TASK_PREP_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r2e/repo_env.h"
#include "r2e/warm_pool.h"

namespace r2e::internal {

// The variable that marks the processes of one episode (fast reset kills them).
inline constexpr const char* kEpisodeVar = "R2E_EPISODE";

// options.runtime, or LocalRuntimeFactory() when it is empty.
RuntimeFactory FactoryOf(const RepoEnvOptions& options);

// The spec reset() starts a sandbox of `runtime` with (a runtime that uses
// no image: the task's directories).
Result<SandboxSpec> SandboxSpecFor(const Task& task, const Runtime& runtime);

// The task kind's setup script, then options.extra_setup.
Status RunSetup(Runtime& runtime, const Task& task, const RepoEnvOptions& options);

// options.tool_set then options.extra_tools (a later file of the same command
// name replaces an earlier one).
Result<std::vector<ToolFile>> ToolFilesFor(const RepoEnvOptions& options);

// How the tools are installed for `task` (options.tools_bin_dir and
// tool_python); kAuto's answer is kept per runtime and image.
AddCommandsOptions ToolInstallOptions(const Task& task, const RepoEnvOptions& options, const Runtime& runtime);

// What a sandbox was prepared for: task, image, runtime (its sandbox_key()),
// setup and tools.
std::string PoolKey(const Task& task, const RepoEnvOptions& options, const Runtime& runtime);

class HiddenTests;
// What a task pool's preparer hands over with a sandbox (its attachment):
// the hidden tests it copied out (null: none), and for
// GradeIn::kFreshSandbox the working tree as prepared (WorkingTreeId), so
// that a warm reset records nothing itself; with options.prime_snapshots,
// the base of the snapshot store it primed ("" for none).
struct PreparedSandbox {
  std::shared_ptr<HiddenTests> hidden;
  std::string grade_base;
  Status grade_base_status = Status::FailedPrecondition("not recorded");
  std::string snapshot_base;
};

Result<std::shared_ptr<WarmPool>> MakeTaskPool(const Task& task, const RepoEnvOptions& options,
                                               WarmPoolOptions pool_options);

// The repository right after setup: HEAD, the sha256 of `git status
// --porcelain --ignored`, and that listing's ignored entries.
struct PristineState {
  std::string head;
  std::string status_hash;
  std::vector<std::string> ignored;
};
// Prints "R2E-PRISTINE <HEAD> <hash>" and one "R2E-IGNORED <path>" per entry.
std::string PristineScript();
Result<PristineState> ParsePristine(const ExecResult& r);

// Kills the processes carrying `token` in kEpisodeVar, resets /testbed to
// the pristine HEAD (`git reset --hard`, `git clean -ffd`, and removes ignored
// entries that were not there after setup, such as a test run's caches),
// checks HEAD, the status hash and the tool files, prints "R2E-RESTORED ok"
// and ends the session shell (so the next command gets a fresh one).
// CheckRestore tells whether that all happened.
std::string RestoreScript(const PristineState& pristine, const std::string& token,
                          const std::vector<std::string>& tool_paths);
Status CheckRestore(const ExecResult& r);

// bash lines (for `exec bash -c`) shared by the in-place restores (fast
// reset, snapshots): kill every process whose environment carries
// kEpisodeVar=token, twice (a child forked during the first walk); and end
// the session shell this command runs under, then exit 0, so that the next
// command gets a fresh shell.
std::string KillEpisodeSnippet(const std::string& token);
std::string EndSessionShellSnippet();

}  // namespace r2e::internal

#endif  // R2E_ENV_TASK_PREP_H_
