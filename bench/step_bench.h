// `r2e bench step`: the step overhead of a trivial command through the
// persistent session against one exec per command, on the same backend in
// the same run. Output contract: shared/spec/cli.md.
#ifndef R2E_BENCH_STEP_BENCH_H_
#define R2E_BENCH_STEP_BENCH_H_

#include <ostream>
#include <string>

#include "r2e/status.h"

namespace r2e::bench {

struct StepBenchOptions {
  std::string runtime = "local";  // local, docker or kube
  std::string image = "r2e-test/base:bookworm";
  // --runtime kube: kubeconfig file, context and namespace (empty: defaults).
  std::string kubeconfig, context, kube_namespace;
  int n = 200;                    // measured commands per variant
  int warmup = 10;
  // Measure the Python module's cost per step instead (python_step_bench.h).
  bool python = false;
};

// Prints one JSON line per variant and a ratio line to `out`.
Status RunStepBench(const StepBenchOptions& options, std::ostream& out);

}  // namespace r2e::bench

#endif  // R2E_BENCH_STEP_BENCH_H_
