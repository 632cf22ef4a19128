// The r2e command line; the contract is shared/spec/cli.md. Human progress
// goes to stderr, machine-readable results to stdout.
#include <csignal>
#include <string_view>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "grade_bench.h"
#include "python_step_bench.h"
#include "r2e/runtimes.h"
#include "reset_bench.h"
#include "reward_bench.h"
#include "rollout_bench.h"
#include "snapshot_bench.h"
#include "step_bench.h"
#include "throughput_bench.h"
#include "tools_bench.h"

#include <iostream>

// --rules of `r2e grade` and `r2e eval`.
constexpr char kRulesHelp[] =
    "SWE-bench rules: auto (v5 for 5.x rows, those with eval_script, log_parser or eval_type; "
    "else classic), classic (harness v4.1.0) or v5";

int main(int argc, char** argv) {
  // A peer that hangs up (an https model endpoint, a dying daemon) must be an
  // error return, not a process-killing SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"r2e: sandboxed repository environments for agents and RL trainers"};
  app.require_subcommand(1);
  r2e::cli::CommonOptions common;
  auto add_common = [&common](CLI::App* cmd) {
    cmd->add_option("--runtime", common.runtime, "Sandbox backend: local, docker or kube")
        ->check(CLI::IsMember(r2e::RuntimeNames()))
        ->capture_default_str();
    cmd->add_option("--image", common.image,
                    "Use this image instead of the task's (local runtime: also docker-archive:PATH or oci:PATH[:TAG])");
    cmd->add_flag("--use-task-image", common.use_task_image,
                  "--runtime local: run each task's own image (docker_image) from the image cache, no daemon");
    cmd->add_option("--registry-ca", common.registry_ca, "--runtime local: PEM CA file for registries' TLS");
    cmd->add_option("--insecure-registry", common.insecure_registries,
                    "--runtime local: a registry (HOST:PORT) that may answer plain HTTP (repeatable)");
    cmd->add_option("--docker-config", common.docker_config,
                    "--runtime local: Docker's config.json with registry credentials (default: ~/.docker/config.json)");
    cmd->add_option("--kubeconfig", common.kubeconfig,
                    "--runtime kube: kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)");
    cmd->add_option("--context", common.context, "--runtime kube: kubeconfig context (default: current)");
    cmd->add_option("--namespace", common.kube_namespace, "--runtime kube: namespace (default: the context's)");
    cmd->add_flag("-v,--verbose", common.verbose, "Print more detail");
    cmd->add_option("--log-level", common.log_level, "trace, debug, info, warn, error or off")
        ->capture_default_str();
  };

  auto add_rows = [](CLI::App* cmd, r2e::cli::RowOptions& rows) {
    cmd->add_option("--kind", rows.kind,
                    "Task kind of every row: swebench, swesmith or r2e (default: from each row's "
                    "kind or fields)");
    cmd->add_option("--image-namespace", rows.image_namespace,
                    "SWE-bench rows without an image: registry namespace of "
                    "<ns>/sweb.eval.<arch>.<id>:<tag> (\"\" or none: locally built sweb.eval... images)")
        ->capture_default_str();
    cmd->add_option("--instance-image-tag", rows.instance_image_tag,
                    "SWE-bench rows without an image: the image tag")
        ->capture_default_str();
    cmd->add_option("--image-arch", rows.image_arch, "Derived image names: x86_64 or arm64")
        ->check(CLI::IsMember({"x86_64", "arm64"}))
        ->capture_default_str();
    cmd->add_flag("!--no-swesmith-image-map", rows.swesmith_image_map,
                  "Use SWE-smith image names as the row gives them (swesmith.x86_64...), not "
                  "jyangballin/swesmith.x86_64...:latest");
  };

  r2e::cli::RunOptions run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run one episode per selected task");
  add_common(run_cmd);
  run_cmd->add_option("--tasks", run.tasks, "Dataset file (JSON array or JSONL)")->required();
  add_rows(run_cmd, run.rows);
  run_cmd->add_option("--instance-id", run.instance_id, "Run only this instance");
  run_cmd->add_option("--agent", run.agent,
                      "scripted (replays the row's scripted_actions), noop, or llm (a model "
                      "behind --base-url)")
      ->check(CLI::IsMember({"scripted", "noop", "llm"}))
      ->capture_default_str();
  run_cmd->add_option("--base-url", run.base_url,
                      "--agent llm: OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1");
  run_cmd->add_option("--model", run.model, "--agent llm: the model name");
  run_cmd->add_option("--api-key", run.api_key,
                      "--agent llm: API key (default: $R2E_API_KEY, then $OPENAI_API_KEY)");
  run_cmd->add_flag("--xml", run.xml,
                    "--agent llm: actions as <function=...> text, not tool calls");
  run_cmd->add_option("--max-tokens", run.max_tokens,
                      "--agent llm: token limit per episode (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run_cmd->add_option("--time-limit", run.time_limit_s,
                      "--agent llm: seconds per episode (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run_cmd->add_option("--prompt", run.prompt,
                      "--agent llm: the R2E-Gym scaffold's prompts, history and step limits: "
                      "r2egym, openhands, sweagent, v1, or a config such as "
                      "r2egym/edit_non_fn_calling");
  run_cmd->add_option("--max-steps", run.max_steps,
                      "Step limit per episode; with --prompt the soft limit the steps-remaining "
                      "message counts down from (default there: 40)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run_cmd->add_option("--max-steps-absolute", run.max_steps_absolute,
                      "--agent llm: hard step limit per episode")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run_cmd->add_option("--max-context-tokens", run.max_context_tokens,
                      "--agent llm: end after a reply whose total_tokens reach this (0: none; "
                      "default 65536 with --prompt, else 0)")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--out", run.out, "Directory for trajectories (<instance_id>.jsonl)");
  run_cmd->add_option("--step-timeout", run.step_timeout_s, "Seconds per step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run_cmd->add_option("--reward-timeout", run.reward_timeout_s, "Seconds for the hidden tests")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  r2e::cli::ToolRunOptions tool_run;
  CLI::App* tool_cmd = app.add_subcommand("tool", "Run one agent tool by hand");
  tool_cmd->require_subcommand(1);
  CLI::App* tool_run_cmd = tool_cmd->add_subcommand(
      "run", "Copy --repo to /testbed of a fresh sandbox, run TOOL ARG... there as a step runs it, "
             "print {stdout, stderr, exit_code, changed_files}");
  add_common(tool_run_cmd);
  tool_run_cmd->add_option("--set", tool_run.set, "Tool set: r2egym, openhands, sweagent, v1 or r2e")
      ->capture_default_str();
  tool_run_cmd->add_option("--repo", tool_run.repo, "Directory copied to /testbed")->required();
  tool_run_cmd->add_option("--timeout", tool_run.timeout_s, "Seconds for the call")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  tool_run_cmd->add_flag("!--no-server", tool_run.serve, "Run the tool as a plain command, not through the tool server");
  // TOOL ARG... after `--` are taken verbatim, before CLI11 sees them (it would
  // read "[1, 3]" as a list of two values).
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string_view(argv[i]) == "tool" && std::string_view(argv[i + 1]) == "run") {
      for (int k = i + 2; k < argc; ++k) {
        if (std::string_view(argv[k]) != "--") continue;
        tool_run.argv.assign(argv + k + 1, argv + argc);
        argc = k;
        break;
      }
      break;
    }
  }

  r2e::cli::CleanupCommandOptions cleanup;
  CLI::App* cleanup_cmd = app.add_subcommand("cleanup", "Remove our expired or orphaned sandboxes");
  add_common(cleanup_cmd);
  cleanup_cmd->add_flag("--all", cleanup.all, "Remove every sandbox with our label");
  cleanup_cmd->add_flag("--dry-run", cleanup.dry_run, "Only report what would be removed");

  r2e::cli::ImageCommandOptions image_cmd_options;
  CLI::App* image_cmd = app.add_subcommand("image", "The local runtime's image cache (no daemon): pull, ls, rm, prune");
  image_cmd->require_subcommand(1);
  image_cmd->add_option("--cache", image_cmd_options.cache_dir,
                        "Cache directory (default: $R2E_IMAGE_CACHE, else ~/.cache/r2e/images)");
  image_cmd->add_option("--registry-ca", image_cmd_options.registry_ca, "PEM CA file for registries' TLS");
  image_cmd->add_option("--insecure-registry", image_cmd_options.insecure_registries,
                        "A registry (HOST:PORT) that may answer plain HTTP (repeatable)");
  image_cmd->add_option("--docker-config", image_cmd_options.docker_config,
                        "Docker's config.json with registry credentials (default: ~/.docker/config.json)");
  CLI::App* image_pull = image_cmd->add_subcommand(
      "pull", "Unpack images into the cache: HOST[:PORT]/NAME[:TAG|@DIGEST], docker-archive:PATH[:REPO:TAG] or oci:PATH[:TAG]");
  image_pull->add_option("images", image_cmd_options.images, "Image references")->required();
  CLI::App* image_ls = image_cmd->add_subcommand("ls", "List the cached images");
  image_ls->add_flag("--json", image_cmd_options.json, "One JSON object per line (the default when not a terminal)");
  CLI::App* image_rm = image_cmd->add_subcommand("rm", "Remove cached images (by reference or ID prefix; an image goes with all its references)");
  image_rm->add_option("images", image_cmd_options.images, "References or IDs")->required();
  CLI::App* image_prune = image_cmd->add_subcommand("prune", "Remove images not in use, least recently used first");
  image_prune->add_flag("--all", image_cmd_options.all, "Every image not in use");
  image_prune->add_option("--keep-bytes", image_cmd_options.keep_bytes,
                          "Keep the most recently used images up to this many bytes");
  // `r2e image pull --registry-ca CA REF` as well as `r2e image --registry-ca CA pull REF`.
  for (CLI::App* sub : {image_pull, image_ls, image_rm, image_prune}) sub->fallthrough();

  r2e::cli::GradeCommandOptions grade;
  CLI::App* grade_cmd = app.add_subcommand("grade", "Grade a saved test log, no sandbox");
  grade_cmd->add_option("--task", grade.task, "The dataset row (JSON object or one-line JSONL)")
      ->required();
  grade_cmd->add_option("--log", grade.log, "The test log to grade")->required();
  grade_cmd->add_option("--rules", grade.rules, kRulesHelp)
      ->capture_default_str();
  grade_cmd->add_flag("--status-map", grade.status_map, "Print the parsed {test: status} map");
  grade_cmd->add_option("--kind", grade.kind, "Kind if the row has none: swebench, swesmith, r2e");
  grade_cmd->add_option("--instance-id", grade.instance_id, "Pick this row from a file of several");
  grade_cmd->add_option("--log-level", common.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();

  r2e::cli::EvalCommandOptions eval;
  CLI::App* eval_cmd =
      app.add_subcommand("eval", "Evaluate predictions: SWE-bench-style reports and run summary");
  add_common(eval_cmd);
  eval_cmd->add_option("--dataset", eval.dataset, "Dataset file (JSON array or JSONL)")->required();
  add_rows(eval_cmd, eval.rows);
  eval_cmd
      ->add_option("--predictions", eval.predictions,
                   "Predictions file (JSON list, JSON object keyed by id, or JSONL), or `gold`")
      ->required();
  eval_cmd
      ->add_option("--workers", eval.workers, "Instances at once (default: from cores and memory)")
      ->check(CLI::NonNegativeNumber);
  eval_cmd->add_option("--timeout", eval.timeout_s, "Seconds per instance")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  eval_cmd->add_option("--run-id", eval.run_id,
                       "Run id; a rerun with the same id resumes (default: eval-<date>-<time>)");
  eval_cmd->add_option("--report-dir", eval.report_dir, "Where {run_id}/{model}/{instance_id}/ go")
      ->capture_default_str();
  eval_cmd->add_option("--rules", eval.rules, kRulesHelp)->capture_default_str();
  eval_cmd->add_option("--instance-ids", eval.instance_ids, "Evaluate only these instances")
      ->delimiter(',');
  eval_cmd->add_flag("--pull", eval.pull, "Docker: pull missing images before the run");

  r2e::bench::StepBenchOptions step_bench;
  CLI::App* bench_cmd = app.add_subcommand("bench", "Measure a figure against its baseline in the same run");
  bench_cmd->require_subcommand(1);
  CLI::App* bench_step = bench_cmd->add_subcommand("step", "Step overhead: persistent session vs one exec per command");
  add_common(bench_step);
  bench_step->add_option("--n", step_bench.n, "Measured commands per variant")->check(CLI::PositiveNumber)->capture_default_str();
  bench_step->add_flag("--python", step_bench.python,
                       "Instead: the Python side's cost per step of `import r2e` (target: at most 50 us p50)");
  r2e::bench::ResetBenchOptions reset_bench;
  CLI::App* bench_reset = bench_cmd->add_subcommand("reset", "Reset latency: warm pool vs cold create+start+setup");
  add_common(bench_reset);
  bench_reset->add_option("--n", reset_bench.n, "Measured resets per variant")->check(CLI::PositiveNumber)->capture_default_str();
  r2e::bench::RewardBenchOptions reward_bench;
  CLI::App* bench_reward =
      bench_cmd->add_subcommand("reward", "compute_reward() cost: in the agent's sandbox vs a fresh one (pool off and on)");
  add_common(bench_reward);
  bench_reward->add_option("--n", reward_bench.n, "Measured grades per variant")->check(CLI::PositiveNumber)->capture_default_str();
  r2e::bench::ThroughputBenchOptions throughput_bench;
  CLI::App* bench_throughput = bench_cmd->add_subcommand("throughput", "Steps per second of many environments in one process");
  add_common(bench_throughput);
  bench_throughput->add_option("--n", throughput_bench.n, "Total steps")->check(CLI::PositiveNumber)->capture_default_str();
  bench_throughput->add_option("--envs", throughput_bench.envs, "Environments at once")->check(CLI::PositiveNumber)->capture_default_str();
  bench_throughput->add_option("--mix", throughput_bench.mix, "Steps: true (the layer alone) or tools (real tool calls)")
      ->check(CLI::IsMember({"true", "tools"}))->capture_default_str();
  r2e::bench::ToolsBenchOptions tools_bench;
  CLI::App* bench_tools = bench_cmd->add_subcommand(
      "tools", "Real tool calls through RepoEnv::step: served vs a new interpreter (and, on docker, a new exec) per call");
  add_common(bench_tools);
  bench_tools->add_option("--n", tools_bench.n, "Measured calls per tool and variant")->check(CLI::PositiveNumber)->capture_default_str();
  r2e::bench::RolloutBenchOptions rollout_bench;
  CLI::App* bench_rollout = bench_cmd->add_subcommand(
      "rollout", "GRPO-shaped rollouts (tasks x group, tool steps and a grade each): scheduler vs a cold env per rollout");
  add_common(bench_rollout);
  bench_rollout->add_option("--tasks", rollout_bench.tasks, "Distinct tasks")->check(CLI::PositiveNumber)->capture_default_str();
  bench_rollout->add_option("--group", rollout_bench.group, "Rollouts per task")->check(CLI::PositiveNumber)->capture_default_str();
  bench_rollout->add_option("--steps", rollout_bench.steps, "Tool steps per rollout")->check(CLI::NonNegativeNumber)->capture_default_str();
  bench_rollout->add_option("--workers", rollout_bench.workers, "Rollouts run at once")->check(CLI::PositiveNumber)->capture_default_str();
  bench_rollout->add_option("--max-live", rollout_bench.max_live, "Scheduler's live-sandbox cap (0: twice the workers)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  bench_rollout->add_option("--max-starts", rollout_bench.max_starts, "Scheduler's concurrent starts (0: min(workers, 4))")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  bench_rollout->add_flag("--reuse", rollout_bench.reuse, "Also the scheduler reusing released sandboxes (fast reset)");
  bench_rollout->add_option("--grade-in", rollout_bench.grade_in, "Where rewards are graded: fresh or agent")
      ->check(CLI::IsMember({"fresh", "agent"}))->capture_default_str();
  bench_rollout->add_option("--metrics-port", rollout_bench.metrics_port,
                            "Serve the scheduler's stats (Prometheus text) on 127.0.0.1:PORT/metrics (0: a free port)")
      ->check(CLI::Range(0, 65535));
  r2e::bench::SnapshotBenchOptions snapshot_bench;
  CLI::App* bench_snapshot = bench_cmd->add_subcommand(
      "snapshot", "RepoEnv snapshot/restore/fork latency (demo and a generated large repository) vs reset + replay");
  add_common(bench_snapshot);
  bench_snapshot->add_option("--n", snapshot_bench.n, "Snapshot/restore rounds per repository")
      ->check(CLI::PositiveNumber)->capture_default_str();
  bench_snapshot->add_option("--forks", snapshot_bench.forks, "Forks per repository")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  bench_snapshot->add_option("--large-files", snapshot_bench.large_files, "Files of the generated repository (0: skip it)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  bench_snapshot->add_option("--large-mb", snapshot_bench.large_mb, "Its total size in MB")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  r2e::bench::GradeBenchOptions grade_bench;
  CLI::App* bench_grade = bench_cmd->add_subcommand("grade", "Log parser time on a generated 10 MB test log");
  bench_grade->add_option("--n", grade_bench.n, "Parses per parser")->check(CLI::PositiveNumber)->capture_default_str();
  bench_grade->add_option("--parser", grade_bench.parser,
                          "Of the non-Python parsers, time only this one (e.g. parse_log_jest)");
  bench_grade->add_option("--log-bytes", grade_bench.log_bytes, "Size of each generated log")
      ->check(CLI::PositiveNumber)->capture_default_str();

  r2e::cli::SoakOptions soak;
  CLI::App* soak_cmd = app.add_subcommand("soak", "Run many episodes with a chaotic agent and report leaks");
  add_common(soak_cmd);
  soak_cmd->add_option("--episodes", soak.episodes, "Episodes to run")->check(CLI::PositiveNumber)->capture_default_str();
  soak_cmd->add_option("--duration", soak.duration_s, "Stop after this many seconds (0: no limit)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  soak_cmd->add_option("--max-steps", soak.max_steps, "Chaotic steps per episode")->check(CLI::PositiveNumber)->capture_default_str();
  soak_cmd->add_option("--concurrency", soak.concurrency, "Environments at once")->check(CLI::PositiveNumber)->capture_default_str();
  soak_cmd->add_option("--tasks", soak.tasks, "Dataset file (default: the demo task)");
  soak_cmd->add_option("--seed", soak.seed, "Random seed (0: from the clock)");
  soak_cmd->add_option("--step-timeout", soak.step_timeout_s, "Seconds per step")
      ->check(CLI::PositiveNumber)->capture_default_str();
  soak_cmd->add_option("--pids-limit", soak.pids_limit, "Docker: pids limit per sandbox (0: none; no fork bombs then)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  soak_cmd->add_flag("--skip-if-unavailable", soak.skip_unavailable,
                     "Exit 77 when no sandbox can start here (no daemon or image), for ctest");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  spdlog::set_level(spdlog::level::from_str(common.verbose ? "debug" : common.log_level));
  auto dispatch = [&]() -> int {
    if (*run_cmd) {
      run.max_steps_given = run_cmd->count("--max-steps") > 0;
      return r2e::cli::RunEpisodes(common, run);
    }
    if (*cleanup_cmd) return r2e::cli::Cleanup(common, cleanup);
    if (*tool_run_cmd) {
      if (tool_run.argv.empty()) {
        std::cerr << "r2e tool run: give the tool after --: r2e tool run --repo DIR -- TOOL ARG...\n";
        return 2;
      }
      return r2e::cli::ToolRun(common, tool_run);
    }
    if (*grade_cmd) return r2e::cli::Grade(grade);
    if (*image_cmd) {
      for (CLI::App* sub : {image_pull, image_ls, image_rm, image_prune}) {
        if (*sub) image_cmd_options.action = sub->get_name();
      }
      return r2e::cli::Image(image_cmd_options);
    }
    if (*eval_cmd) return r2e::cli::Eval(common, eval);
    if (*soak_cmd) return r2e::cli::Soak(common, soak);
    // `r2e bench <what>`'s exit code: 0, or 1 after the error on stderr (2 for
    // an InvalidArgument where `usage_rc` says so).
    auto bench_result = [](const char* what, const r2e::Status& s, int usage_rc = 2) {
      if (s.ok()) return 0;
      std::cerr << "r2e bench " << what << ": " << s.ToString() << "\n";
      return s.code() == r2e::StatusCode::kInvalidArgument ? usage_rc : 1;
    };
    // The --runtime kube connection options, for the benches that take them.
    auto kube_options = [&common](auto& bench) {
      bench.kubeconfig = common.kubeconfig;
      bench.context = common.context;
      bench.kube_namespace = common.kube_namespace;
    };
    if (*bench_reset) {
      reset_bench.runtime = common.runtime;
      reset_bench.image = common.image;
      kube_options(reset_bench);
      return bench_result("reset", r2e::bench::RunResetBench(reset_bench, std::cout));
    }
    if (*bench_reward) {
      if (!common.image.empty()) {
        std::cerr << "r2e bench reward: --image is not used (the bench grades the demo task in its own image)\n";
        return 2;
      }
      reward_bench.runtime = common.runtime;
      return bench_result("reward", r2e::bench::RunRewardBench(reward_bench, std::cout));
    }
    if (*bench_throughput) {
      throughput_bench.runtime = common.runtime;
      throughput_bench.image = common.image;
      kube_options(throughput_bench);
      return bench_result("throughput", r2e::bench::RunThroughputBench(throughput_bench, std::cout));
    }
    if (*bench_tools) {
      tools_bench.runtime = common.runtime;
      tools_bench.image = common.image;
      return bench_result("tools", r2e::bench::RunToolsBench(tools_bench, std::cout));
    }
    if (*bench_rollout) {
      rollout_bench.runtime = common.runtime;
      return bench_result("rollout", r2e::bench::RunRolloutBench(rollout_bench, std::cout));
    }
    if (*bench_snapshot) {
      snapshot_bench.runtime = common.runtime;
      kube_options(snapshot_bench);
      return bench_result("snapshot", r2e::bench::RunSnapshotBench(snapshot_bench, std::cout));
    }
    if (*bench_grade) {
      return bench_result("grade", r2e::bench::RunGradeBench(grade_bench, std::cout), 1);
    }
    if (*bench_step) {
      step_bench.runtime = common.runtime;
      kube_options(step_bench);
      if (!common.image.empty()) step_bench.image = common.image;
      if (step_bench.python) return bench_result("step", r2e::bench::RunPythonStepBench(step_bench, std::cout), 1);
      return bench_result("step", r2e::bench::RunStepBench(step_bench, std::cout), 1);
    }
    return 2;
  };
  // Commands that hold sandboxes remove them on SIGINT, SIGTERM and SIGHUP,
  // then exit 128 + the signal (cli/stop_signals.h); `grade`, `cleanup` and
  // `bench grade` hold none and keep the default (end at once).
  if (*grade_cmd || *cleanup_cmd || *bench_grade || *image_cmd) return dispatch();
  std::string name = "r2e";
  for (CLI::App* cmd = &app; !cmd->get_subcommands().empty();) {
    cmd = cmd->get_subcommands().front();
    name += " " + cmd->get_name();
  }
  r2e::cli::StopSignals stop_signals(name);
  return r2e::cli::ExitStatus(dispatch());
}
