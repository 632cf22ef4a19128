// `r2e bench reward`: what compute_reward() costs where it grades: in the
// agent's sandbox, in a fresh sandbox started for the grade, and in a fresh
// sandbox taken from a warm pool, on the same backend in the same run.
#ifndef R2E_BENCH_REWARD_BENCH_H_
#define R2E_BENCH_REWARD_BENCH_H_

#include <ostream>
#include <string>

#include "r2e/status.h"

namespace r2e::bench {

struct RewardBenchOptions {
  std::string runtime = "local";  // local or docker
  int n = 10;                     // measured grades per variant
};

// Prints one JSON line per variant (agent, fresh, fresh_pool) and a ratio
// line to `out`. Every grade must give reward 1 (the demo task, fixed).
Status RunRewardBench(const RewardBenchOptions& options, std::ostream& out);

}  // namespace r2e::bench

#endif  // R2E_BENCH_REWARD_BENCH_H_
