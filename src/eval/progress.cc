// Human progress of a batch evaluation: one line per instance, or a
// progress bar redrawn in place with the errors above it.
#include <cstdint>
#include <cstdio>
#include <string>

#include "eval/eval_internal.h"
#include "r2e/evaluation.h"

namespace r2e::internal {
namespace {

std::string FormatDuration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  const auto s = static_cast<std::int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

}  // namespace

EvalProgress::EvalProgress(const EvalOptions& options, std::size_t total)
    : out_(options.progress), bar_(options.progress_bar), total_(total), t0_(EvalClock::now()) {}

void EvalProgress::Finished(const InstanceResult& r) {
  std::lock_guard<std::mutex> lock(mu_);
  ++done_;
  if (r.outcome == InstanceOutcome::kResolved) ++resolved_;
  if (r.outcome == InstanceOutcome::kUnresolved) ++unresolved_;
  if (r.outcome == InstanceOutcome::kError) ++errors_;
  if (out_ == nullptr) return;
  std::string line = "[" + std::to_string(done_) + "/" + std::to_string(total_) + "] " +
                     r.instance_id + ": " + std::string(InstanceOutcomeName(r.outcome)) + " (" +
                     Fixed(r.duration.count(), 1) + "s)";
  if (!r.error.empty()) line += ": " + LastLines(r.error, 1);
  if (bar_) {
    // Errors stay on screen above the bar; the rest only updates it.
    if (r.outcome == InstanceOutcome::kError) *out_ << "\r\x1b[K" << line << "\n";
    DrawLocked();
  } else {
    *out_ << "eval: " << line << "\n" << std::flush;
  }
}

void EvalProgress::Redraw() {
  std::lock_guard<std::mutex> lock(mu_);
  if (out_ != nullptr && bar_) DrawLocked();
}

void EvalProgress::Message(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  if (out_ == nullptr) return;
  if (bar_) *out_ << "\r\x1b[K";
  *out_ << "eval: " << text << "\n" << std::flush;
}

void EvalProgress::End() {
  std::lock_guard<std::mutex> lock(mu_);
  if (out_ != nullptr && bar_ && drawn_) *out_ << "\n" << std::flush;
}

void EvalProgress::DrawLocked() {
  constexpr int kWidth = 24;
  const double elapsed = SecondsSince(t0_);
  const int filled = total_ == 0 ? kWidth : static_cast<int>(kWidth * done_ / total_);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  std::string eta = "?";
  if (done_ >= total_) {
    eta = "0:00";
  } else if (rate > 0) {
    eta = FormatDuration(static_cast<double>(total_ - done_) / rate);
  }
  *out_ << "\r\x1b[K[" << bar << "] " << done_ << "/" << total_ << "  resolved " << resolved_
        << "  unresolved " << unresolved_ << "  errors " << errors_ << "  "
        << Fixed(rate * 60.0, 1) << "/min  elapsed " << FormatDuration(elapsed) << "  ETA " << eta
        << std::flush;
  drawn_ = true;
}

}  // namespace r2e::internal
