// `r2e bench reset`: reset latency from a warm pool against a cold
// create+start+setup, on the same backend in the same run. Output contract:
// shared/spec/cli.md.
#ifndef R2E_BENCH_RESET_BENCH_H_
#define R2E_BENCH_RESET_BENCH_H_

#include <ostream>
#include <string>

#include "r2e/status.h"

namespace r2e::bench {

struct ResetBenchOptions {
  std::string runtime = "docker";  // docker, kube (with the options below) or local (on an image)
  std::string image;               // empty: the demo task's image
  std::string kubeconfig, context, kube_namespace;
  int n = 30;                      // measured resets per variant
};

// Prints one JSON line per variant (pool, cold) and a ratio line to `out`.
// With runtime "local": RunLocalImageResetBench.
Status RunResetBench(const ResetBenchOptions& options, std::ostream& out);

// The local runtime on an image (options.image, or the demo image written
// with `docker save`): first unpack, bare sandbox start on each writable
// layer, cold reset() on the overlay, disk per sandbox, and the docker
// runtime's cold reset of the demo image as the baseline.
Status RunLocalImageResetBench(const ResetBenchOptions& options, std::ostream& out);

}  // namespace r2e::bench

#endif  // R2E_BENCH_RESET_BENCH_H_
