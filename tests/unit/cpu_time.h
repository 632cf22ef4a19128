// The calling thread's CPU time, for bounds on CPU-bound work (parsers on
// pathological input): unlike the wall clock, other load on the machine does
// not move it, so such a bound fails only when the work itself grows.
#ifndef R2E_TESTS_UNIT_CPU_TIME_H_
#define R2E_TESTS_UNIT_CPU_TIME_H_

#include <time.h>

#include <chrono>

namespace r2e::testing_util {

inline std::chrono::nanoseconds ThreadCpuTime() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace r2e::testing_util

#endif  // R2E_TESTS_UNIT_CPU_TIME_H_
