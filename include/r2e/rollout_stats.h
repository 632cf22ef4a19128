// RolloutStats: what a RolloutScheduler has done and where the time went,
// as a struct, as JSON, and in the Prometheus text format.
#ifndef R2E_ROLLOUT_STATS_H_
#define R2E_ROLLOUT_STATS_H_

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace r2e {

// Latency of one phase, in milliseconds. count and sum_ms cover every
// sample; the quantiles cover the most recent ones (at most 100,000).
struct PhaseLatency {
  long long count = 0;
  double sum_ms = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};

// Calls by outcome (RolloutOutcome: ok, agent_error, infra_error).
struct OutcomeCounts {
  long long ok = 0, agent_error = 0, infra_error = 0;
};

struct RolloutStats {
  int live = 0;        // sandboxes alive (preparing + ready + handed out + closing)
  int preparing = 0;   // resets under way
  int ready = 0;       // prepared, waiting for acquire()
  int handed_out = 0;  // acquired, not released
  int pending = 0;     // submitted rollouts not yet prepared
  long long submitted = 0;       // rollouts submitted
  long long prepared = 0;        // successful resets
  long long retried = 0;         // failed resets tried again
  long long infra_errors = 0;    // rollouts handed out as kInfraError
  long long cancelled = 0;       // rollouts dropped by cancel()
  long long released = 0;        // environments released
  long long reused = 0;          // rollouts prepared by a fast reset of a released environment
  // The episodes of released environments (RepoEnv::episode_timings): their
  // steps and grades by outcome.
  OutcomeCounts steps, grades;
  PhaseLatency pull;             // fetch_image, per distinct image
  PhaseLatency reset;            // a rollout's successful reset(), on the preparing thread
  PhaseLatency start;            //   of which: sandbox created and started (RepoEnv::last_reset_timings)
  PhaseLatency setup;            //   the task's setup
  PhaseLatency tools;            //   the tools installed
  PhaseLatency acquire_wait;     // what acquire() made the trainer wait
  PhaseLatency first_step;       // an episode's first step() (of released environments)
  PhaseLatency step;             // every step()
  PhaseLatency grade;            // every grade() / compute_reward() that graded
  PhaseLatency teardown;         // closing a released environment
};

// {"live": ..., "steps": {"ok", "agent_error", "infra_error"}, ...,
//  "reset": {"count", "sum_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms"}, ...}.
nlohmann::json ToJson(const RolloutStats& stats);

// The Prometheus text exposition format (version 0.0.4), every metric
// named `prefix` + "_" + what it counts: gauges for the sandboxes by state,
// counters (`_total`) for the rollouts and for steps and grades by outcome
// (label outcome=), and one summary `_phase_seconds` (label phase=, with
// quantiles 0.5, 0.9 and 0.99, _sum and _count).
std::string PrometheusText(const RolloutStats& stats, std::string_view prefix = "r2e_rollout");

}  // namespace r2e

#endif  // R2E_ROLLOUT_STATS_H_
