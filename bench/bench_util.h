// Helpers the reset and throughput benchmarks share (header-only: the bench
// sources are compiled into the r2e program, see src/cli/CMakeLists.txt).
#ifndef R2E_BENCH_BENCH_UTIL_H_
#define R2E_BENCH_BENCH_UTIL_H_

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/docker_runtime.h"
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
  auto own = DockerRuntime::OwnContainers();
  return own.ok() ? static_cast<int>(own->size()) : -1;
}

// CPU seconds (user + system) a process has used; 0 when unreadable.
inline double ProcessCpuSeconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::strtod(field.c_str(), nullptr);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// CPU seconds used so far by the Docker daemons on this host (dockerd,
// containerd and the per-container shims), which relay every session byte.
inline double DockerDaemonsCpuSeconds() {
  double total = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "comm");
    std::string comm;
    std::getline(in, comm);
    if (comm == "dockerd" || comm == "containerd" || comm.rfind("containerd-shim", 0) == 0) {
      total += ProcessCpuSeconds(std::strtol(name.c_str(), nullptr, 10));
    }
  }
  return total;
}

// CPU seconds used by one container's processes (cgroup v1 cpuacct or v2
// cpu.stat, cgroupfs or systemd driver); -1 when none of those is readable.
inline double ContainerCpuSeconds(const std::string& id) {
  for (const std::string& p : {"/sys/fs/cgroup/cpuacct/docker/" + id + "/cpuacct.usage",
                              "/sys/fs/cgroup/cpu,cpuacct/docker/" + id + "/cpuacct.usage"}) {
    std::ifstream in(p);
    double ns = 0;
    if (in >> ns) return ns / 1e9;
  }
  for (const std::string& p : {"/sys/fs/cgroup/docker/" + id + "/cpu.stat",
                              "/sys/fs/cgroup/system.slice/docker-" + id + ".scope/cpu.stat"}) {
    std::ifstream in(p);
    std::string key;
    double us = 0;
    while (in >> key >> us) {
      if (key == "usage_usec") return us / 1e6;
    }
  }
  return -1;
}

// The 1-minute load average (what else competed for the CPUs).
inline double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double l = 0;
  in >> l;
  return l;
}

}  // namespace r2e::bench

#endif  // R2E_BENCH_BENCH_UTIL_H_
