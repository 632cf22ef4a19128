#include "r2e/rollout_stats.h"

#include <array>
#include <cstdio>
#include <utility>

namespace r2e {
namespace {

nlohmann::json ToJson(const PhaseLatency& p) {
  return {{"count", p.count},   {"sum_ms", p.sum_ms}, {"p50_ms", p.p50_ms},
          {"p90_ms", p.p90_ms}, {"p99_ms", p.p99_ms}, {"max_ms", p.max_ms}};
}

nlohmann::json ToJson(const OutcomeCounts& c) {
  return {{"ok", c.ok}, {"agent_error", c.agent_error}, {"infra_error", c.infra_error}};
}

// The phases in the order they are shown, with their JSON and label names.
using NamedPhase = std::pair<const char*, const PhaseLatency*>;
std::array<NamedPhase, 10> Phases(const RolloutStats& s) {
  return {{{"pull", &s.pull},
           {"reset", &s.reset},
           {"start", &s.start},
           {"setup", &s.setup},
           {"tools", &s.tools},
           {"acquire_wait", &s.acquire_wait},
           {"first_step", &s.first_step},
           {"step", &s.step},
           {"grade", &s.grade},
           {"teardown", &s.teardown}}};
}

// A sample value as Prometheus reads it (a Go float).
std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

class Exposition {
 public:
  explicit Exposition(std::string_view prefix) : prefix_(prefix) {}
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP " + prefix_ + "_" + name + " " + help + "\n";
    out_ += "# TYPE " + prefix_ + "_" + name + " " + type + "\n";
  }
  void sample(const std::string& name, const std::string& labels, double value) {
    out_ += prefix_ + "_" + name + (labels.empty() ? "" : "{" + labels + "}") + " " + Number(value) + "\n";
  }
  void gauge(const char* name, const char* help, double value) {
    family(name, "gauge", help);
    sample(name, "", value);
  }
  void counter(const char* name, const char* help, double value) {
    family(name, "counter", help);
    sample(name, "", value);
  }
  void outcomes(const char* name, const char* help, const OutcomeCounts& c) {
    family(name, "counter", help);
    sample(name, "outcome=\"ok\"", static_cast<double>(c.ok));
    sample(name, "outcome=\"agent_error\"", static_cast<double>(c.agent_error));
    sample(name, "outcome=\"infra_error\"", static_cast<double>(c.infra_error));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string prefix_, out_;
};

}  // namespace

nlohmann::json ToJson(const RolloutStats& s) {
  nlohmann::json j = {{"live", s.live},
                      {"preparing", s.preparing},
                      {"ready", s.ready},
                      {"handed_out", s.handed_out},
                      {"pending", s.pending},
                      {"submitted", s.submitted},
                      {"prepared", s.prepared},
                      {"retried", s.retried},
                      {"infra_errors", s.infra_errors},
                      {"cancelled", s.cancelled},
                      {"released", s.released},
                      {"reused", s.reused},
                      {"steps", ToJson(s.steps)},
                      {"grades", ToJson(s.grades)}};
  for (const auto& [name, phase] : Phases(s)) j[name] = ToJson(*phase);
  return j;
}

std::string PrometheusText(const RolloutStats& s, std::string_view prefix) {
  Exposition e(prefix);
  e.gauge("live", "Sandboxes alive: being prepared, ready, handed out or being closed.", s.live);
  e.gauge("preparing", "Resets under way.", s.preparing);
  e.gauge("ready", "Prepared rollouts waiting for acquire().", s.ready);
  e.gauge("handed_out", "Rollouts acquired and not released.", s.handed_out);
  e.gauge("pending", "Submitted rollouts not yet prepared.", s.pending);
  e.counter("submitted_total", "Rollouts submitted.", static_cast<double>(s.submitted));
  e.counter("prepared_total", "Successful resets.", static_cast<double>(s.prepared));
  e.counter("retried_total", "Failed resets tried again on a new sandbox.", static_cast<double>(s.retried));
  e.counter("infra_errors_total", "Rollouts handed out as infra_error after the retries.",
            static_cast<double>(s.infra_errors));
  e.counter("cancelled_total", "Rollouts dropped by cancel().", static_cast<double>(s.cancelled));
  e.counter("released_total", "Environments released.", static_cast<double>(s.released));
  e.counter("reused_total", "Rollouts prepared by a fast reset of a released environment.",
            static_cast<double>(s.reused));
  e.outcomes("steps_total", "Steps of released environments' episodes, by outcome.", s.steps);
  e.outcomes("grades_total", "Grades of released environments' episodes, by outcome.", s.grades);
  e.family("phase_seconds", "summary", "Latency of each phase of a rollout.");
  for (const auto& [name, latency] : Phases(s)) {
    const std::string phase = std::string("phase=\"") + name + "\"";
    const PhaseLatency& p = *latency;
    e.sample("phase_seconds", phase + ",quantile=\"0.5\"", p.p50_ms / 1000);
    e.sample("phase_seconds", phase + ",quantile=\"0.9\"", p.p90_ms / 1000);
    e.sample("phase_seconds", phase + ",quantile=\"0.99\"", p.p99_ms / 1000);
    e.sample("phase_seconds_sum", phase, p.sum_ms / 1000);
    e.sample("phase_seconds_count", phase, static_cast<double>(p.count));
  }
  return e.take();
}

}  // namespace r2e
