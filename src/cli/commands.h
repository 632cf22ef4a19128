// Subcommands of the r2e program. Each returns the process exit status:
// 0 success, 1 the job ran and failed (infrastructure), 2 bad arguments or input;
// main() makes it 128 + N after stop signal N (cli/stop_signals.h).
#ifndef R2E_CLI_COMMANDS_H_
#define R2E_CLI_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "r2e/status.h"
#include "r2e/task.h"

namespace r2e {
struct RuntimeOptions;
}

namespace r2e::cli {

struct CommonOptions {
  std::string runtime = "local";
  std::string image;
  // --runtime local: run each task's image (docker_image) from the image
  // cache; --image alone implies it.
  bool use_task_image = false;
  // --runtime local on registry images: a CA file for their TLS, hosts that
  // may answer plain HTTP, Docker's config.json for credentials.
  std::string registry_ca;
  std::vector<std::string> insecure_registries;
  std::string docker_config;
  std::string log_level = "info";
  bool verbose = false;
  // --runtime kube: kubeconfig file (empty: $KUBECONFIG, ~/.kube/config, then
  // in-cluster), context (empty: current-context) and namespace (empty: the
  // context's, then "default").
  std::string kubeconfig;
  std::string context;
  std::string kube_namespace;
};

// How dataset rows are read (`r2e run`, `r2e eval`): see TaskParseOptions.
struct RowOptions {
  std::string kind;                          // empty: from the row
  std::string image_namespace = "swebench";  // SWE-bench images; "" or none: local names
  std::string instance_image_tag = "latest";
  std::string image_arch = "x86_64";
  bool swesmith_image_map = true;
};

// The row options and --image as TaskParseOptions; InvalidArgument for a bad --kind.
Result<TaskParseOptions> MakeTaskParseOptions(const CommonOptions& common, const RowOptions& rows);

struct RunOptions {
  RowOptions rows;
  std::string tasks;
  std::string instance_id;
  std::string agent = "scripted";
  int max_steps = 50;
  std::string out;
  int step_timeout_s = 90;
  int reward_timeout_s = 300;
  // --agent llm: an OpenAI-compatible chat-completions endpoint (r2e/llm_agent.h).
  std::string base_url;
  std::string model;
  std::string api_key;       // empty: $R2E_API_KEY, then $OPENAI_API_KEY
  bool xml = false;          // actions from the reply text instead of tool calls
  long long max_tokens = 0;  // total tokens per episode (from usage); 0: none
  int time_limit_s = 0;      // wall time per episode; 0: none
  // --agent llm --prompt: the scaffold's prompts (r2e/scaffold_prompts.h);
  // max_steps is then the soft limit (40 unless given), max_steps_absolute
  // the hard one, and max_context_tokens defaults to the scaffold's 65536.
  std::string prompt;
  bool max_steps_given = false;
  int max_steps_absolute = 50;
  long long max_context_tokens = -1;  // -1: the default
};

int RunEpisodes(const CommonOptions& common, const RunOptions& run);

// The backends' options the common flags set (--kubeconfig, --context,
// --namespace: kube's), for MakeRuntimeFactory(common.runtime, ...).
RuntimeOptions RuntimeOptionsFor(const CommonOptions& common);

struct ToolRunOptions {
  std::string set = "r2egym";     // tool set (r2e/tools.h ToolSet)
  std::string repo;               // host directory copied to /testbed
  std::vector<std::string> argv;  // TOOL ARG...
  int timeout_s = 90;
  bool serve = true;              // through the tool server (false: a plain command)
};

// `r2e tool run`: prints {"stdout", "stderr", "exit_code", "changed_files",
// "timed_out", "tool_path"}; 0 when the tool ran (whatever its exit code), 2
// for bad arguments, 1 when the sandbox failed.
int ToolRun(const CommonOptions& common, const ToolRunOptions& run);

struct CleanupCommandOptions {
  bool all = false;
  bool dry_run = false;
};

int Cleanup(const CommonOptions& common, const CleanupCommandOptions& cleanup);

// `r2e image pull|ls|rm|prune`: the local runtime's image cache (r2e/image_store.h).
struct ImageCommandOptions {
  std::string action;               // pull, ls, rm or prune
  std::vector<std::string> images;  // pull, rm: references or IDs
  std::string cache_dir;            // empty: the store's default
  bool all = false;                 // prune: every image not in use
  std::uint64_t keep_bytes = 0;     // prune: keep this many bytes of the most recent images
  bool json = false;                // ls: one JSON object per line
  std::string registry_ca;          // as CommonOptions
  std::vector<std::string> insecure_registries;
  std::string docker_config;
};

int Image(const ImageCommandOptions& options);

struct GradeCommandOptions {
  std::string task;         // a dataset row: JSON object, or JSON array / JSONL with --instance-id
  std::string log;          // the saved test log
  std::string rules = "auto";
  bool status_map = false;  // print the parsed {test: status} map instead of the report
  std::string kind;         // override the row's kind (swebench, swesmith, r2e)
  std::string instance_id;  // pick this row from a file of several
};

// Grades a saved log without a sandbox: 0 when graded (even when not
// resolved), 2 for bad input, 1 otherwise.
int Grade(const GradeCommandOptions& grade);

struct EvalCommandOptions {
  RowOptions rows;
  std::string dataset;      // dataset file (JSON array or JSONL)
  std::string predictions;  // predictions file, or "gold" for each row's patch
  int workers = 0;          // 0: from cores and memory
  int timeout_s = 1800;     // per instance
  std::string run_id;       // empty: eval-<date>-<time>
  std::string report_dir = "logs/run_evaluation";
  std::string rules = "auto";
  std::vector<std::string> instance_ids;
  bool pull = false;        // docker: pull missing images first
};

// Evaluates predictions in sandboxes and prints the run summary: 0 when the
// run completed (even with unresolved or errored instances), 2 for bad
// input, 1 when the run as a whole failed, 128 + N when stopped by signal N
// (cli/stop_signals.h).
int Eval(const CommonOptions& common, const EvalCommandOptions& eval);

struct SoakOptions {
  int episodes = 20;        // episodes to run (the soak stops at whichever limit comes first)
  int duration_s = 0;       // wall-clock limit in seconds; 0: none
  int max_steps = 30;       // chaotic steps per episode
  int concurrency = 2;      // environments at once
  std::string tasks;        // dataset file; empty: the demo task
  unsigned seed = 0;        // 0: from the clock (printed in the summary)
  int step_timeout_s = 5;   // per-step timeout; "sleep past the timeout" actions sleep longer
  int pids_limit = 256;     // docker: the sandbox's pids limit (fork bombs stay inside it)
  bool skip_unavailable = false;  // exit 77 when the runtime cannot start a sandbox here (ctest skip)
};

// Runs the chaotic-agent soak and prints its JSON summary (shared/spec/cli.md):
// 0 when it ran and nothing leaked, 1 otherwise, 2 for bad input.
int Soak(const CommonOptions& common, const SoakOptions& soak);

}  // namespace r2e::cli

#endif  // R2E_CLI_COMMANDS_H_
