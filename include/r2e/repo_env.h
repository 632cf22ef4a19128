// RepoEnv: a Gym-style environment over one task's repository in a sandbox.
//
//   auto env = r2e::RepoEnv::Create(task, {}).value();
//   auto first = env->reset();                  // fresh sandbox, set up
//   auto r = env->step(r2e::ParseResponse(text)); // observation, reward, done, info
//   double reward = env->compute_reward().value();
//   env->close();
//
// Episodes and "done": reset() begins an episode. The episode is over (done)
// after a step whose action calls a name holding finish or submit
// (Action::is_finish), as the scaffold's RepoEnv.step decides: that step's
// StepResult::done is true, and check_done() stays true until the next
// reset(). That is the only meaning of done; step and time limits are the
// agent loop's. A step after done still runs (and its own done is its
// action's).
//
// Ownership: RepoEnv owns its Runtime and the sandbox in it. close() (also
// run by the destructor, which never throws) removes the sandbox.
// Thread-safety: one thread at a time (except cancel()); use EnvPool for
// many environments.
//
// Faster resets (both off by default; reset() then behaves as described below):
// - options.warm_pool: reset() takes a sandbox that a WarmPool created, started
//   and set up ahead (RepoEnv::MakeWarmPool), and hands the previous one to the
//   pool for deletion in the background. runtime() then refers to a different
//   Runtime object after each reset(). When the pool cannot deliver in time,
//   reset() falls back to a cold start on its own runtime.
// - options.fast_reset: reset() of a started environment restores the sandbox
//   in place instead of replacing it: it kills every process the episode's
//   commands started (each command's environment then carries
//   R2E_EPISODE=<token>), resets /testbed to the commit it had after setup
//   (`git reset --hard` + `git clean -ffd`, and removes ignored files that
//   appeared, such as a test run's caches), checks HEAD and `git status
//   --ignored` against the hashes taken right after setup, checks the tools are
//   still there, and restarts the session. Nothing outside the repository is
//   restored, so use it only for tasks whose agents do not change the
//   environment outside /testbed (installed packages, /tmp, /root, the hidden
//   tests): such changes survive into the next episode. Whenever a check
//   fails, reset() falls back to a fresh sandbox (from the warm pool when
//   there is one). Processes that scrubbed their environment (`env -i`) escape
//   the kill. Refused (fresh sandbox) when the session keeps state between
//   commands (Runtime::keeps_state(): ShellSessionOptions::keep_state).
// Errors: an agent's mistakes (unknown tool, failing or timed-out command)
// are observations; a Status error means the environment itself failed
// (sandbox could not start, died, or step() before reset()).
#ifndef R2E_REPO_ENV_H_
#define R2E_REPO_ENV_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/action.h"
#include "r2e/grader.h"
#include "r2e/observation.h"
#include "r2e/runtime.h"
#include "r2e/snapshot.h"
#include "r2e/status.h"
#include "r2e/task.h"
#include "r2e/tools.h"

namespace r2e {

class WarmPool;
struct WarmPoolOptions;
namespace internal {
struct PristineState;
class HiddenTests;
struct PackedSnapshot;
}  // namespace internal

class RepoEnv;
struct StepResult;

// Where the hidden tests and test runners are while the agent works.
enum class HiddenTestMode {
  // Where the image has them (R2E: /r2e_tests and /testbed/run_tests.sh,
  // where R2E's grader does not look: grade() then fails for R2E tasks).
  kLeaveInPlace,
  // R2E: setup moves the test folder and runner under /root (out of
  // /testbed), where the grader links them back while it runs; the agent
  // (root) can still read them. Other kinds: as kLeaveInPlace. R2E-Gym's
  // behaviour; for callers that grade with a Grader directly, with no agent
  // in the sandbox.
  kMoveUnderRoot,
  // As kMoveUnderRoot, then, every kind: the hidden tests and test runners
  // are copied out of the sandbox into a private host directory and deleted
  // in it, so the agent can neither read them nor edit them to earn a
  // reward; grade() puts the originals back (replacing whatever the agent
  // left there) for the test run only. R2E: the tests (/root/r2e_tests) and
  // their runner (/root/run_tests.sh). SWE-bench: /run_tests.sh (in R2E-Gym's
  // images it carries the test patch) and /eval.sh; the grader brings its
  // own eval script, holding the test patch, only while it runs. SWE-smith:
  // /run_tests.sh.
  kRemoveFromSandbox,
};
// "leave", "move" or "remove", for logs.
std::string_view HiddenTestModeName(HiddenTestMode mode);

// Where compute_reward() and grade() run the hidden tests.
enum class GradeIn {
  // In the agent's own sandbox, as the scaffold grades. No extra sandbox,
  // but the agent is root there and may have changed what the graders see
  // (an interpreter or pytest shim on PATH, sitecustomize.py or .pth files,
  // a process still running): see docs/reliability.md.
  kAgentSandbox,
  // In a new sandbox of the same task, made as reset() makes one (taken from
  // options.warm_pool when there is one), holding only the agent's changes
  // to /testbed: the official harness's way. The changes travel as a patch
  // (GetPatch against the working tree as reset() left it, binary-safe,
  // taken through a scratch index so the agent's sandbox is not changed).
  // A patch that does not apply grades 0 with the reason in
  // GradeResult::warnings and log; a grading sandbox that cannot be made is
  // an error (infrastructure, not a 0). Costs a sandbox start and setup per
  // grade (docs/benchmarks.md); a warm pool then needs a sandbox per grade
  // as well as per episode.
  kFreshSandbox,
};
// "agent" or "fresh", for logs.
std::string_view GradeInName(GradeIn where);

// A per-step reward (see RepoEnvOptions::reward_fn): called by step() after
// the action ran, with the environment (task(), steps(), runtime(); it may
// call run() and grade(), not step(), reset() or close()), the action and
// the step's result (reward still 0). Returns the step's reward.
using RewardFn = std::function<double(RepoEnv& env, const Action& action, const StepResult& result)>;

struct RepoEnvOptions {
  // Makes the runtimes of Create() and of MakeWarmPool(): a backend's factory
  // from runtimes.h (LocalRuntimeFactory, DockerRuntimeFactory,
  // KubeRuntimeFactory with their options, or MakeRuntimeFactory by name),
  // or one of your own. Empty: LocalRuntimeFactory() (the local runtime with
  // default options).
  RuntimeFactory runtime;

  // Command timeout of step() and run() when the call names none (the
  // scaffold's default).
  std::chrono::seconds step_timeout{90};
  // Bound on compute_reward()'s test run.
  std::chrono::seconds reward_timeout{300};
  // SWE-bench grading rules: classic (harness v4.1.0) or v5. nullopt (the
  // default): per task, v5 for 5.x-shaped rows (those carrying eval_script,
  // log_parser or eval_type), classic for the others (SweBenchRulesFor).
  std::optional<GradingRules> rules;
  // Extra commands run once after the kind's setup (e.g. installs). A
  // failing one fails reset().
  std::vector<std::string> extra_setup;
  // Where the hidden tests are while the agent works (see HiddenTestMode).
  HiddenTestMode hidden_tests = HiddenTestMode::kRemoveFromSandbox;
  // Where compute_reward() and grade() run them (see GradeIn). Grading
  // sandboxes are made by `runtime` (the local runtime when it is empty, as
  // for Create(), also for an environment given its runtime directly).
  GradeIn grade_in = GradeIn::kFreshSandbox;
  // The per-step reward, StepResult::reward; none: 0 (the scaffold's
  // calculate_reward without a grader). A step whose reward_fn throws fails
  // with Internal. EnvPoolOptions::reward_on_done replaces the reward of a
  // final step with compute_reward()'s.
  RewardFn reward_fn;

  // Tools installed at every reset(), after setup: the named set ("r2egym",
  // "sweagent", "openhands"; empty: none), then extra_tools (a file of the
  // same command name replaces the set's). Only these, and those given to
  // add_commands(), can be called by actions.
  std::string tool_set = "r2egym";
  std::vector<ToolFile> extra_tools;
  // Where the tools go in the sandbox; empty: see AddCommandsOptions.
  std::string tools_bin_dir;
  // Which Python runs the Python tools (see AddCommandsOptions::python): by
  // default the sandbox's python3 when it runs, else r2e-python, asked once
  // per runtime and image in a process (StepInfo::tool_python says which).
  ToolPython tool_python = ToolPython::kAuto;
  // Run servable tools (the scaffold sets' Python tools) through r2e's tool
  // server: one interpreter per sandbox, started in the background at reset,
  // forks a child per call with the tool already imported, so a tool step
  // costs milliseconds instead of an interpreter start. Outputs are those of
  // the plain command; when the server cannot serve a call the command runs
  // plainly (StepInfo::tool_path says which).
  // Needs bash as the session's command shell; ignored otherwise.
  bool tool_server = true;
  // Hand served calls to the server directly, not through the session, when
  // the runtime has a pipe directory (Docker over its session pipes; local
  // sandboxes not on an image): 1 to 2 ms less per tool step, same
  // outputs (StepInfo::tool_direct says which calls did). Off: through the
  // session, as on Kubernetes. See CallTool in tools.h.
  bool direct_tool_calls = true;

  // Sandboxes prepared ahead by this pool (made by RepoEnv::MakeWarmPool for
  // the same task and options; reset() fails with InvalidArgument for a pool
  // made for anything else). Null: every reset() creates its sandbox.
  std::shared_ptr<WarmPool> warm_pool;
  // How long reset() waits for a warm sandbox before starting one itself.
  std::chrono::milliseconds warm_pool_timeout{std::chrono::seconds(60)};
  // Restore the sandbox in place on reset() (see the header comment).
  bool fast_reset = false;
  // snapshot() refuses (ResourceExhausted, nothing written) when /testbed,
  // its .git included, holds more than this many bytes (SnapshotInfo::bytes).
  std::uint64_t snapshot_budget_bytes = std::uint64_t{2} << 30;  // 2 GiB
  // Prime each sandbox's snapshot store with its state at the end of
  // reset() (snapshot.h): a warm pool made from these options does it while
  // it prepares a sandbox, a cold reset() at its end (about the cost of a
  // first snapshot(): 30 ms on the demo repository, a second or more on a
  // 50 MB one). A fork() from a primed environment into a sandbox primed
  // with the same state then ships only what the episode wrote since, and
  // the host writes the changed files into it: with a warm pool, less than
  // a warm reset plus a restore (docs/benchmarks.md). For tree search and
  // best-of-N from shared prefixes; off, forks pack the whole snapshot.
  bool prime_snapshots = false;
};

// What a step did, besides what the agent is shown.
struct StepInfo {
  int step = 0;      // 1-based index in the episode (steps() after it)
  std::string tool;  // the function called, as valid UTF-8; empty for none
  // The command's exit status, the real one (137 for a timeout kill, which
  // the text shows as -1). Without a command: -1 for a name that is not an
  // installed tool, 2 for an action that cannot be run (as the text says),
  // else 0.
  int exit_code = 0;
  bool timed_out = false;
  std::uint64_t truncated_bytes = 0;       // command output the session's bound dropped
  std::chrono::milliseconds duration{0};   // the command's, 0 without one
  std::chrono::duration<double> total_time{0};  // the whole step, reward_fn not included
  // How the tool command ran; unset when the step ran none.
  std::optional<ToolPath> tool_path;
  // Which Python ran the tool (ToolPython::kSandbox or kBundled); unset for a
  // tool that is not a Python script and for a step that ran none.
  std::optional<ToolPython> tool_python;
  // A served call that skipped the session (RepoEnvOptions::direct_tool_calls).
  bool tool_direct = false;
  // The `result` parameter of the finish/submit call that ended the episode
  // (valid UTF-8), when it has one.
  std::optional<std::string> result;
  // Set by EnvPool's reward_on_done: how long compute_reward() took.
  std::optional<std::chrono::duration<double>> reward_time;
};

// The scaffold's info dict with r2e's additions, as trainers log it:
// {"total_time": s, "exit_code", "timed_out", "tool", "step"}, then
// "tool_path" (ToolPathName) when a tool command ran, "tool_direct": true
// for a served call that skipped the session, "tool_python"
// ("sandbox" or "bundled") when a Python tool ran, "result" and
// "reward_time" (s) when set.
nlohmann::json ToJson(const StepInfo& info);

struct StepResult {
  Observation observation;  // what the agent is shown
  double reward = 0.0;      // options.reward_fn's; 0 without one
  bool done = false;        // this step ended the episode (see "done" above)
  StepInfo info;
};

// How reset() got its sandbox.
enum class ResetKind {
  kNone,  // no successful reset() yet
  kCold,  // started and set up a new one
  kWarm,  // took one a WarmPool prepared
  kFast,  // restored the previous one in place (options.fast_reset)
};
// "none", "cold", "warm" or "fast", for logs and JSON.
std::string_view ResetKindName(ResetKind kind);

// Where a reset()'s time went, in milliseconds; 0 for a phase it did not run.
struct ResetTimings {
  double start_ms = 0;    // a cold sandbox created and started, or a warm one taken
  double setup_ms = 0;    // the task kind's setup and the hidden tests taken out
  double tools_ms = 0;    // the tools installed
  double restore_ms = 0;  // a fast reset's restore in place
  double total_ms = 0;    // the whole reset(), also when it fell back
};

// What the episode since the last reset() cost and how its calls went, for
// a scheduler's statistics (RolloutScheduler reads it at release()).
struct EpisodeTimings {
  std::vector<double> step_ms;  // each step()'s whole time, in order (errors too)
  int agent_error_steps = 0;    // steps whose command failed or timed out
  int failed_steps = 0;         // step() calls that returned an error Status
  std::vector<double> grade_ms; // each grade() / compute_reward() that graded
  int failed_grades = 0;        // grade() calls that returned an error Status
};

class RepoEnv {
 public:
  // Uses a runtime made by options.runtime.
  static Result<std::unique_ptr<RepoEnv>> Create(Task task, RepoEnvOptions options = {});
  // Uses the given runtime (e.g. a FaultRuntime in tests).
  RepoEnv(Task task, std::unique_ptr<Runtime> runtime, RepoEnvOptions options = {});
  ~RepoEnv();
  RepoEnv(const RepoEnv&) = delete;
  RepoEnv& operator=(const RepoEnv&) = delete;

  // Starts a fresh sandbox (removing the previous one), runs the task
  // kind's setup, and returns the initial observation (the instruction).
  Result<Observation> reset();
  // Moves this environment to another task: removes the current sandbox,
  // takes `task` (task(), the instruction and grading follow it) and
  // `warm_pool` in place of options.warm_pool (null: none; a pool must be
  // made for the new task, see MakeWarmPool), then reset() as above (never
  // fast: the sandbox is new). The tools and other options stay. When the
  // old sandbox cannot be removed, the error is returned and the
  // environment keeps its old task.
  Result<Observation> reset(Task task, std::shared_ptr<WarmPool> warm_pool = nullptr);

  // One agent action, as the scaffold's RepoEnv.step: only installed tools
  // run, through ActionToCommand and CallTool, and the text is the
  // scaffold's (StepObservation / ObservationText). A call to exactly
  // finish or submit runs nothing and reads kFinishedText; a name that is
  // not an installed tool runs nothing and reads as the scaffold shows it
  // ("Execution output of [NAME]:\n", with "Exit code: -1" first for
  // execute_bash/bash); an empty action reads kNoFunctionCallReminder. Any
  // name holding finish/submit (Action::is_finish) ends the episode (see
  // "done" above). r2e's own: an action ActionToCommand refuses or whose
  // command holds a NUL byte runs nothing and says why ("Error: cannot run
  // ..."). The text form is read by ParseResponse, as the scaffold's agent
  // reads a reply. The command's timeout is `timeout`, or
  // options.step_timeout when none is given; InvalidArgument (nothing runs)
  // for one that is not positive. options.reward_fn then gives the reward.
  Result<StepResult> step(const Action& action, std::optional<std::chrono::seconds> timeout = std::nullopt);
  Result<StepResult> step(std::string_view action_text,
                          std::optional<std::chrono::seconds> timeout = std::nullopt);

  // Runs a command directly (not an agent action, not a step): the
  // scaffold's run_action. Timeout as for step().
  Result<ExecResult> run(std::string_view command, std::optional<std::chrono::seconds> timeout = std::nullopt);

  // Runs the hidden tests and grades them, where options.grade_in says; the
  // reward is 1 or 0.
  Result<double> compute_reward();
  // The same, with the whole grade (log, status map, report).
  Result<GradeResult> grade();

  // Removes the sandbox. Idempotent.
  Status close();

  // May be called from any thread, also while another thread is in step(),
  // run() or compute_reward(): stops the sandbox, so that call returns an
  // error soon. The environment needs reset() afterwards.
  void cancel();

  // Snapshots of the episode (snapshot.h says what they capture and how).
  // snapshot() records the sandbox's state now and returns its id;
  // FailedPrecondition before reset() or after close(), Unimplemented for
  // SnapshotScope::kSandbox on a runtime that cannot (snapshot.h),
  // ResourceExhausted over options.snapshot_budget_bytes (nothing written;
  // SnapshotScope::kRepository only).
  Result<SnapshotId> snapshot(SnapshotScope scope = SnapshotScope::kRepository);
  // Puts the sandbox back in the snapshot's state: kills the episode's
  // processes, restores /testbed and its git state (a session that keeps
  // state between commands is restarted), and sets steps() and check_done()
  // to the snapshot's. A SnapshotScope::kSandbox snapshot brings back every
  // writable path but the repository snapshots' store, and ends every
  // process of the sandbox (the tool server starts again). NotFound for
  // an unknown or dropped id; FailedPrecondition when the snapshot store in
  // the sandbox is gone or damaged (the agent deleted it, the disk is full):
  // the message says so, and reset() still works.
  Status restore(SnapshotId id);
  // A new environment (same task and options, its own sandbox: a warm one
  // when options.warm_pool has one) in the snapshot's state, with that
  // snapshot under id 1 of its own (of a SnapshotScope::kSandbox snapshot:
  // with none, the origin keeps the checkpoint). This environment is not changed, but for
  // what it keeps to fork the same snapshot faster again (released by
  // drop(), reset() and close()). Fastest with options.prime_snapshots and a
  // warm pool made from the same options.
  Result<std::unique_ptr<RepoEnv>> fork(SnapshotId id);
  // Forgets the snapshot and frees what only it used in the store. NotFound
  // for an unknown id.
  Status drop(SnapshotId id);
  // The snapshots taken since the last reset() and not dropped, by id.
  std::vector<SnapshotInfo> snapshots() const;

  // How the last successful reset() got its sandbox, and why the last fast
  // reset fell back to a fresh sandbox (OK when it did not).
  ResetKind last_reset_kind() const { return last_reset_kind_; }
  // The phases of the last successful reset().
  const ResetTimings& last_reset_timings() const { return last_reset_timings_; }
  const Status& last_fast_reset_error() const { return last_fast_reset_error_; }
  // The episode's steps and grades since the last reset() began.
  const EpisodeTimings& episode_timings() const { return episode_; }

  // A warm pool whose sandboxes are what reset() would make for `task` with
  // `options` (runtimes from options.runtime, the same setup, extra setup and
  // tools); pass it as options.warm_pool. options.warm_pool itself is ignored.
  static Result<std::shared_ptr<WarmPool>> MakeWarmPool(const Task& task, const RepoEnvOptions& options,
                                                        const WarmPoolOptions& pool_options);
  // The key MakeWarmPool gives such a pool (WarmPoolOptions::key): the task,
  // the options and Runtime::sandbox_key() of a runtime options.runtime
  // makes. An environment takes sandboxes only from a pool with its own key
  // (its runtime's sandbox_key()).
  static Result<std::string> WarmPoolKey(const Task& task, const RepoEnvOptions& options);

  // Adds tools (see AddCommands). Installed now when the sandbox is up, and
  // at every later reset(). InvalidArgument for a file DescribeTool rejects
  // (nothing is added then); a runtime error when installing fails.
  Status add_commands(const std::vector<ToolFile>& files);
  // The tools actions can call, in the order added (available before reset()).
  std::vector<ToolDescription> tools() const;
  // Their function-calling definitions, as a model is offered them: first
  // ToolSetSchemas(options.tool_set) (the scaffold's for its sets, in its
  // order) for each tool still the set's own file, then OpenAiSchema() of
  // the others in tools() order.
  std::vector<nlohmann::ordered_json> tool_schemas() const;

  std::string task_instruction() const { return task_.Instruction(); }
  const Task& task() const { return task_; }
  // The scaffold's check_done(): whether a step since the last reset()
  // returned done.
  bool check_done() const { return done_; }
  // The runtime of the current sandbox (see warm_pool above: it changes at reset()).
  Runtime& runtime() { return *runtime_; }
  int steps() const { return steps_; }

 private:
  Status setup();
  // reset() but for its timing.
  Result<Observation> reset_sandbox();
  // step() and grade() but for their bookkeeping in episode_.
  Result<StepResult> run_step(const Action& action, std::optional<std::chrono::seconds> timeout);
  Result<GradeResult> run_grade();
  Result<Observation> start_cold();
  Result<Observation> start_warm(bool& fell_back);
  Status restore_in_place();
  Status record_pristine();
  bool fast_reset_allowed() const;
  Observation initial_observation() const;
  Status install_tools(const std::vector<ToolFile>& files);
  // Adds files to tools_ (replacing same-named ones); InvalidArgument for a bad file.
  Status merge_tools(const std::vector<ToolFile>& files);
  const InstalledTool* installed(std::string_view name) const;
  ExecOptions tool_exec_options(std::chrono::seconds timeout) const;
  // Checks a caller's timeout; options.step_timeout for none.
  Result<std::chrono::seconds> command_timeout(const char* call, std::optional<std::chrono::seconds> timeout) const;
  void start_tool_server();
  // What start_tool_server() runs, for a script of the sandbox's own to run
  // at its end (a fork's checkout); "" when it cannot (no server, or one
  // that needs an environment of its own).
  std::string tool_server_start_script();
  // GradeIn::kFreshSandbox: records the working tree at the end of reset(),
  // and grades the agent's patch in a new sandbox (fresh_grade.cc).
  void record_grade_base();
  Result<GradeResult> grade_in_fresh_sandbox();
  // snapshots.cc: the store's path as commands reach it, and a script's run.
  Result<ExecResult> run_snapshot_script(const std::string& script, const char* what);
  // restore(id) after the shell text `first` (run in the same script).
  Status restore_after(SnapshotId id, const std::string& first);
  void forget_snapshots();
  // fork()'s new environment, reset (from options.warm_pool when it has one)
  // with its tool server not yet started.
  Result<std::unique_ptr<RepoEnv>> make_fork_target() const;
  // fork() of a SnapshotScope::kSandbox snapshot.
  Result<std::unique_ptr<RepoEnv>> fork_sandbox(const SnapshotInfo& info);
  // Reverts the sandbox to a whole-sandbox checkpoint (this runtime's or,
  // in a fork, its origin's), then starts the tool server again.
  Status revert_to(const std::string& checkpoint);
  // Primes the store when options.prime_snapshots asks for it (sets snapshot_base_).
  Status prime_snapshots();

  Task task_;
  std::unique_ptr<Runtime> runtime_;
  RepoEnvOptions options_;
  std::string pool_key_;  // WarmPoolKey for this environment's runtime
  bool started_ = false;
  bool done_ = false;
  int steps_ = 0;
  // The tools in the order added, with their descriptions; tools_status_ holds
  // an error of options.tool_set / extra_tools, reported by reset().
  std::vector<std::pair<ToolFile, ToolDescription>> tools_;
  Status tools_status_;
  std::vector<InstalledTool> installed_;  // in the current sandbox
  ToolServerLink tool_link_;              // what served calls keep about it
  std::vector<ToolFile> added_tools_;     // by add_commands(), installed on warm sandboxes too
  std::mutex runtime_mu_;                 // guards runtime_ swaps against cancel()
  // Fast reset: the state after setup, and the token that marks the episode's processes.
  std::unique_ptr<internal::PristineState> pristine_;
  std::string episode_token_;
  ResetKind last_reset_kind_ = ResetKind::kNone;
  ResetTimings last_reset_timings_, timings_;  // the last successful reset's; the one under way
  Status last_fast_reset_error_;
  EpisodeTimings episode_;
  std::vector<SnapshotInfo> snapshots_;  // by id, since the last reset()
  SnapshotId next_snapshot_id_ = 1;
  // The primed store's base (its three tree ids), "" for an unprimed store.
  std::string snapshot_base_;
  // Thin packs of snapshots already forked, read on the host (their loose
  // objects), by id: later forks of the same snapshot reuse them.
  std::map<SnapshotId, std::shared_ptr<const internal::PackedSnapshot>> fork_packs_;
  // The listing of the base named first, as a fork read it from the store
  // (null: too large to print), for the forks of that base to check their
  // snapshots out without git; a fork's environment inherits it.
  std::pair<std::string, std::shared_ptr<const std::string>> base_listing_;
  // The runtime's checkpoints of the SnapshotScope::kSandbox snapshots, by id.
  std::map<SnapshotId, std::string> checkpoints_;
  // A fork's new environment starts its tool server after the restore, not
  // in reset(): the server's start would compete with the restore.
  bool defer_tool_server_ = false;
  // The hidden tests of the current sandbox, held on the host while the agent
  // works (null: none taken out).
  std::shared_ptr<internal::HiddenTests> hidden_;
  // GradeIn::kFreshSandbox: the tree of /testbed right after reset(), or why
  // it could not be recorded; and the environment grading now, which
  // cancel() stops too (guarded by runtime_mu_).
  Result<std::string> grade_base_ = Status::FailedPrecondition("no reset() yet");
  RepoEnv* grading_env_ = nullptr;
};

}  // namespace r2e

#endif  // R2E_REPO_ENV_H_
