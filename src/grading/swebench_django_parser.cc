// SWE-bench's parse_log_django (swebench/harness/log_parsers/python.py):
// Django's own test runner, whose results may sit on a later line than the
// test's name, and three multi-line patterns matched over the whole log.
#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

#include "core/py_text.h"
#include "grading/parsers.h"
#include "grading/status_map_builder.h"
#include "grading/swebench_internal.h"
#include "grading/test_status.h"

namespace r2e::internal {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// The three multi-line patterns, matched with re.MULTILINE over the whole log:
//   ^(.*?)\s\.\.\.\s<tail>
// `(.*?)` stays on one line; each `\s` is one whitespace character and may be
// a newline. A tail gets the position after the second `\s` and returns the
// end of the match (just after "\nok", where `$` needs a '\n' or the end of
// the log), or npos.
class DjangoTails {
 public:
  explicit DjangoTails(std::string_view log) : log_(log) {}

  // System check identified no issues \(0 silenced\)\nok$
  std::size_t SystemCheck(std::size_t p) const {
    constexpr std::string_view kLead = "System check identified no issues (0 silenced)\n";
    if (log_.substr(p, kLead.size()) != kLead) return kNpos;
    return OkAt(p + kLead.size());
  }

  // Internal\ Server\ Error:\ \/(.*)\/\nok$   ((.*) cannot cross a newline,
  // so the line must end with a second '/').
  std::size_t InternalServerError(std::size_t p) const {
    constexpr std::string_view kLead = "Internal Server Error: /";
    if (log_.substr(p, kLead.size()) != kLead) return kNpos;
    const std::size_t t = p + kLead.size();
    const std::size_t nl = log_.find('\n', t);
    if (nl == kNpos || nl == t || log_[nl - 1] != '/') return kNpos;
    return OkAt(nl + 1);
  }

  // Testing\ against\ Django\ installed\ in\ ((?s:.*?))\ silenced\)\.\nok$
  // The lazy DOTALL group ends at the first " silenced).\nok" that `$`
  // accepts. The last search is cached so that the scan stays linear
  // (callers ask with non-decreasing positions).
  std::size_t TestingAgainst(std::size_t p) {
    constexpr std::string_view kLead = "Testing against Django installed in ";
    constexpr std::string_view kEnd = " silenced).\nok";
    if (log_.substr(p, kLead.size()) != kLead) return kNpos;
    const std::size_t t = p + kLead.size();
    if (searched_from_ == kNpos || t < searched_from_ || (hit_ != kNpos && hit_ < t)) {
      searched_from_ = t;
      hit_ = kNpos;
      for (std::size_t k = log_.find(kEnd, t); k != kNpos; k = log_.find(kEnd, k + 1)) {
        const std::size_t after = k + kEnd.size();
        if (after == log_.size() || log_[after] == '\n') {
          hit_ = k;
          break;
        }
      }
    }
    return hit_ == kNpos ? kNpos : hit_ + kEnd.size();
  }

 private:
  // "ok" at `p`, then `$`.
  std::size_t OkAt(std::size_t p) const {
    if (log_.substr(p, 2) != "ok") return kNpos;
    const std::size_t end = p + 2;
    return end == log_.size() || log_[end] == '\n' ? end : kNpos;
  }

  std::string_view log_;
  std::size_t searched_from_ = kNpos;
  std::size_t hit_ = kNpos;
};

// `re.finditer(pattern, log, re.MULTILINE)` for ^(.*?)\s\.\.\.\s<tail>:
// group 1 of each match is PASSED.
template <typename Tail>
void DjangoMultiline(std::string_view log, Tail&& tail, StatusMapBuilder& out) {
  const std::size_t n = log.size();
  std::size_t line_start = 0;
  while (line_start < n) {
    std::size_t line_end = log.find('\n', line_start);
    if (line_end == kNpos) line_end = n;
    // The group ends at e (shortest first) with a whitespace character at e
    // and "..." right after it; e may be the line's '\n'. So "..." starts in
    // [line_start + 1, line_end + 1]: visit those occurrences in order.
    const std::string_view window = log.substr(0, std::min(n, line_end + 4));
    std::size_t match_end = kNpos;
    std::size_t group_end = 0;
    for (std::size_t d = window.find("...", line_start + 1); d != kNpos && d <= line_end + 1;
         d = window.find("...", d + 1)) {
      const std::size_t w1 = PySpaceLenAtEnd(log.substr(0, d));
      if (w1 == 0 || d - w1 < line_start) continue;
      const std::size_t p = d + 3;
      if (p >= n) continue;
      const std::size_t w2 = PySpaceLen(log, p);
      if (w2 == 0) continue;
      const std::size_t end = tail(p + w2);
      if (end == kNpos) continue;
      match_end = end;
      group_end = d - w1;
      break;
    }
    if (match_end == kNpos) {
      line_start = line_end + 1;
      continue;
    }
    out.Add(log.substr(line_start, group_end - line_start), kPassed);
    // The search resumes at the match end (a '\n' or the end of the log), so
    // the next `^` is the line after it: the "ok" line never starts a match.
    line_start = match_end + 1;
  }
}

}  // namespace

StatusMap ParseDjango(std::string_view log, GradingRules /*rules*/) {
  StatusMapBuilder out(log);
  std::vector<std::string_view> tokens;
  std::string_view prev_test;
  bool has_prev = false;
  constexpr std::string_view kVersionCase = "--version is equivalent to version";
  constexpr std::string_view kSitesCase =
      "Applying sites.0002_alter_domain_unique...test_no_migrations";
  constexpr std::array<std::string_view, 3> kPassSuffixes = {" ... ok", " ... OK", " ...  OK"};
  ForEachLine(log, [&](std::string_view raw) {
    std::string_view line = PyStrip(raw);
    if (Contains(line, kVersionCase)) out.Add(kVersionCase, kPassed);
    // Remembered for a result printed on a later line ("ok" alone).
    const std::size_t dots = line.find(" ... ");
    if (dots != kNpos) {
      prev_test = line.substr(0, dots);
      has_prev = true;
    }
    for (std::string_view suffix : kPassSuffixes) {
      if (!line.ends_with(suffix)) continue;
      // The harness's fix for django__django-7188: the migration line and
      // the test's result share one line.
      if (line.starts_with(kSitesCase)) line = PyStrip(line.substr(line.find("...") + 3));
      // `line.rsplit(suffix, 1)[0]`: before the last occurrence.
      out.Add(line.substr(0, line.rfind(suffix)), kPassed);
      break;
    }
    if (const std::size_t at = line.find(" ... skipped"); at != kNpos) {
      out.Add(line.substr(0, at), kSkipped);
    }
    // `split(" ... FAIL")[0]`: before the first occurrence.
    if (line.ends_with(" ... FAIL")) out.Add(line.substr(0, line.find(" ... FAIL")), kFailed);
    if (line.starts_with("FAIL:")) {
      PySplit(line, tokens, 2);
      if (tokens.size() >= 2) out.Add(tokens[1], kFailed);
    }
    if (line.ends_with(" ... ERROR")) out.Add(line.substr(0, line.find(" ... ERROR")), kError);
    if (line.starts_with("ERROR:")) {
      PySplit(line, tokens, 2);
      if (tokens.size() >= 2) out.Add(tokens[1], kError);
    }
    // Any line starting with "ok" (even "okay") passes the remembered test.
    if (line.starts_with("ok") && has_prev) out.Add(prev_test, kPassed);
  });

  DjangoTails tails(log);
  DjangoMultiline(
      log, [&](std::size_t p) { return tails.TestingAgainst(p); }, out);
  DjangoMultiline(
      log, [&](std::size_t p) { return tails.InternalServerError(p); }, out);
  DjangoMultiline(
      log, [&](std::size_t p) { return tails.SystemCheck(p); }, out);
  return out.Build();
}

}  // namespace r2e::internal
