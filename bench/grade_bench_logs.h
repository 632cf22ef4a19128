// Generated test logs for `r2e bench grade`: one per non-Python SWE-bench
// parser, in its runner's output format, of a requested size.
#ifndef R2E_BENCH_GRADE_BENCH_LOGS_H_
#define R2E_BENCH_GRADE_BENCH_LOGS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "r2e/log_parsers.h"

namespace r2e::bench {

struct BenchLog {
  std::string parser;
  LogParserSpec spec;  // what the parser reads besides the log (v5 rules)
  std::string log;
};

// Deterministic: the same bytes on every call. Each log is about `bytes` long
// and parses to many tests, passing and failing.
std::vector<BenchLog> MultilingualBenchLogs(std::size_t bytes);

}  // namespace r2e::bench

#endif  // R2E_BENCH_GRADE_BENCH_LOGS_H_
