// `r2e bench grade`: how long the log parsers take on a generated 10 MB test
// log: the Python parsers on pytest output, every other SWE-bench parser on
// its runner's format (target: under 100 ms each). Output contract: shared/spec/cli.md.
#ifndef R2E_BENCH_GRADE_BENCH_H_
#define R2E_BENCH_GRADE_BENCH_H_

#include <ostream>
#include <string>

#include "r2e/status.h"

namespace r2e::bench {

struct GradeBenchOptions {
  int n = 10;                             // parses per parser
  std::size_t log_bytes = 10 * 1024 * 1024;
  std::string parser;                     // non-empty: of the other languages', only this one
};

// One JSON line per parser: {"bench":"grade","parser",...,"log_bytes","tests","p50_ms",...}.
Status RunGradeBench(const GradeBenchOptions& options, std::ostream& out);

}  // namespace r2e::bench

#endif  // R2E_BENCH_GRADE_BENCH_H_
