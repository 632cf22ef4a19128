// `r2e bench grade`: how long the log parsers take on a generated 10 MB test
// log (target: under 100 ms for pytest). Output contract: shared/spec/cli.md.
#ifndef R2E_BENCH_GRADE_BENCH_H_
#define R2E_BENCH_GRADE_BENCH_H_

#include <ostream>

#include "r2e/status.h"

namespace r2e::bench {

struct GradeBenchOptions {
  int n = 10;                             // parses per parser
  std::size_t log_bytes = 10 * 1024 * 1024;
};

// One JSON line per parser: {"bench":"grade","parser",...,"log_bytes","tests","p50_ms",...}.
Status RunGradeBench(const GradeBenchOptions& options, std::ostream& out);

}  // namespace r2e::bench

#endif  // R2E_BENCH_GRADE_BENCH_H_
