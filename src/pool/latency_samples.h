// Latency samples of one phase, summarised as a PhaseLatency.
#ifndef R2E_POOL_LATENCY_SAMPLES_H_
#define R2E_POOL_LATENCY_SAMPLES_H_

#include <algorithm>
#include <vector>

#include "r2e/rollout_stats.h"

namespace r2e::internal {

// The oldest half goes when the samples grow past the bound, so that a long
// training run keeps recent figures in bounded memory; count and sum cover all.
class LatencySamples {
 public:
  void add(double ms) {
    if (values_.size() >= kMaxSamples) values_.erase(values_.begin(), values_.begin() + kMaxSamples / 2);
    values_.push_back(ms);
    ++count_;
    sum_ms_ += ms;
  }
  PhaseLatency summary() const {
    PhaseLatency p;
    p.count = count_;
    p.sum_ms = sum_ms_;
    if (values_.empty()) return p;
    std::vector<double> v = values_;
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))]; };
    p.p50_ms = at(0.50);
    p.p90_ms = at(0.90);
    p.p99_ms = at(0.99);
    p.max_ms = v.back();
    return p;
  }

 private:
  static constexpr std::size_t kMaxSamples = 100000;
  std::vector<double> values_;
  long long count_ = 0;
  double sum_ms_ = 0;
};

}  // namespace r2e::internal

#endif  // R2E_POOL_LATENCY_SAMPLES_H_
