#include "throughput_bench.h"

namespace r2e::bench {

Status RunThroughputBench(const ThroughputBenchOptions&, std::ostream&) {
  return Status::Unimplemented("r2e bench throughput is being built (issue: rollout scale)");
}

}  // namespace r2e::bench
