// `r2e bench rollout`: a GRPO-shaped workload (tasks x group size rollouts,
// each a few real tool steps and a grade) through RolloutScheduler, against
// the naive way (a new cold RepoEnv per rollout, started when the previous
// one of its worker finishes, as the R2E scaffold does) with the same number
// of workers, in the same run. Output contract: shared/spec/cli.md.
#ifndef R2E_BENCH_ROLLOUT_BENCH_H_
#define R2E_BENCH_ROLLOUT_BENCH_H_

#include <ostream>
#include <string>

#include "r2e/status.h"

namespace r2e::bench {

struct RolloutBenchOptions {
  std::string runtime = "local";  // local or docker
  int tasks = 16;                 // distinct tasks (copies of the demo task)
  int group = 8;                  // rollouts per task
  int steps = 10;                 // tool steps per rollout (view, search, execute_bash in turn)
  int workers = 4;                // rollouts the trainer runs at once
  int max_live = 0;               // scheduler's live cap; 0: twice the workers
  int max_starts = 0;             // scheduler's start cap; 0: min(workers, 4)
  bool reuse = false;             // also a third variant: the scheduler with reuse_sandboxes
  std::string grade_in = "fresh"; // fresh (the library's default) or agent (the scaffold's way)
  int metrics_port = -1;          // >= 0: the scheduler's stats in the Prometheus format on
                                  // 127.0.0.1:PORT/metrics while it runs (0: a free port); -1: off
};

// Prints one JSON line per variant
//   {"bench": "rollout", "runtime", "variant": "naive"|"scheduler"|"scheduler_reuse", "rollouts",
//    "wall_s", "rollouts_per_s", "reset_p50_ms", "reset_p99_ms", "cpu_ms_per_rollout",
//    "peak_live", "infra_errors", "leaked"}
// (the scheduler's lines also carry its "stats") and a ratio line per
// scheduler variant {"bench": "rollout", "variant", "ratio": naive wall / its wall}.
Status RunRolloutBench(const RolloutBenchOptions& options, std::ostream& out);

}  // namespace r2e::bench

#endif  // R2E_BENCH_ROLLOUT_BENCH_H_
