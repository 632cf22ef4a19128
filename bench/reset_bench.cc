#include "reset_bench.h"

namespace r2e::bench {

Status RunResetBench(const ResetBenchOptions&, std::ostream&) {
  return Status::Unimplemented("r2e bench reset is being built (issue: rollout scale)");
}

}  // namespace r2e::bench
