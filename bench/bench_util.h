// Helpers the reset and throughput benchmarks share (header-only: the bench
// sources are compiled into the r2e program, see src/cli/CMakeLists.txt).
#ifndef R2E_BENCH_BENCH_UTIL_H_
#define R2E_BENCH_BENCH_UTIL_H_

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "docker/docker_client.h"
#include "r2e/status.h"

namespace r2e::bench {

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, mean = 0;
};

inline Percentiles Summarize(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))]; };
  double sum = 0;
  for (double x : v) sum += x;
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.mean = sum / v.size();
  return p;
}

inline void AddPercentiles(nlohmann::json& line, const Percentiles& p) {
  line["p50_ms"] = p.p50;
  line["p90_ms"] = p.p90;
  line["p99_ms"] = p.p99;
  line["mean_ms"] = p.mean;
}

// VmRSS of this process in KiB (0 when /proc cannot tell).
inline long RssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// Containers labelled r2e.managed=1 that this process owns (all states), or
// -1 when the daemon cannot be asked.
inline int CountOurContainers() {
  auto client = docker::DockerClient::Connect();
  if (!client.ok()) return -1;
  auto list = (*client)->list_containers({"r2e.managed=1", "r2e.owner.pid=" + std::to_string(::getpid())});
  return list.ok() ? static_cast<int>(list->size()) : -1;
}

}  // namespace r2e::bench

#endif  // R2E_BENCH_BENCH_UTIL_H_
