// `r2e bench throughput`: many environments stepped concurrently from one
// process through EnvPool: steps per second and client memory per
// environment. Output contract: shared/spec/cli.md.
#ifndef R2E_BENCH_THROUGHPUT_BENCH_H_
#define R2E_BENCH_THROUGHPUT_BENCH_H_

#include <ostream>
#include <string>

#include "r2e/status.h"

namespace r2e::bench {

struct ThroughputBenchOptions {
  std::string runtime = "docker";
  std::string image;  // empty: the test base image
  std::string kubeconfig, context, kube_namespace;
  int envs = 64;      // environments stepped at once
  int n = 20000;      // total steps
  // "true": a shell-function execute_bash running `true` (the environment
  // layer alone); "tools": the real r2egym tools, the four calls of
  // `r2e bench tools` in turn (what agents' steps cost).
  std::string mix = "true";
};

// Prints one JSON line {"bench": "throughput", "envs", "steps", "steps_per_s",
// "rss_per_env_kib", ...} to `out`.
Status RunThroughputBench(const ThroughputBenchOptions& options, std::ostream& out);

}  // namespace r2e::bench

#endif  // R2E_BENCH_THROUGHPUT_BENCH_H_
