#include "grade_bench.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "grade_bench_logs.h"
#include "r2e/log_parsers.h"

namespace r2e::bench {
namespace {

// A pytest log with tracebacks and one line per test (the -rA summary form,
// or the --verbose form), deterministic so runs compare.
std::string MakePytestLog(std::size_t bytes, bool verbose, std::size_t& tests) {
  std::string log =
      "============================= test session starts ==============================\n";
  static const char* kStatus[] = {"PASSED",  "PASSED", "PASSED", "FAILED",
                                  "SKIPPED", "ERROR",  "XFAIL"};
  tests = 0;
  for (std::size_t i = 0; log.size() < bytes; ++i) {
    const std::string name = "tests/test_mod" + std::to_string(i % 97) + ".py::TestCase" +
                             std::to_string(i % 13) + "::test_case_" + std::to_string(i) +
                             "[param-" + std::to_string(i % 7) + "]";
    if (i % 5 == 0) {
      log += "    def test_case_" + std::to_string(i) + "():\n>       assert compute(" +
             std::to_string(i) + ") == expected\nE       AssertionError: values differ\n";
    }
    const char* status = kStatus[i % 7];
    if (verbose) {
      // pytest --verbose, as SWE-smith runs it: "<id> STATUS [ nn%]".
      log += name + " " + status + " [" + std::to_string(i % 100) + "%]\n";
    } else {
      // pytest -rA short summary, as SWE-bench runs it.
      log += status;
      log += ' ';
      log += name;
      if (status[0] == 'F') log += " - AssertionError: assert 1 == 2 - extra detail";
      log += '\n';
    }
    ++tests;
  }
  log += "========================= 1 failed, 2 passed in 3.21s =========================\n";
  return log;
}

// Parses `log` o.n times and prints one line; `tests` 0 = report what the
// parser read.
Status TimeParser(std::string_view parser, const LogParserSpec& spec, const std::string& log,
                  std::size_t tests, const GradeBenchOptions& o, std::ostream& out) {
  std::vector<double> ms;
  std::size_t parsed = 0;
  for (int i = 0; i < o.n; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto map = ParseLog(parser, log, spec);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!map.ok()) return map.status();
    parsed = map->size();
  }
  if (parsed == 0) {
    return Status::Internal("bench grade: " + std::string(parser) +
                            " read no test from its generated log");
  }
  std::sort(ms.begin(), ms.end());
  out << nlohmann::json{{"bench", "grade"},
                        {"parser", parser},
                        {"log_bytes", log.size()},
                        {"tests", tests == 0 ? parsed : tests},
                        {"parsed", parsed},
                        {"n", o.n},
                        {"p50_ms", ms[ms.size() / 2]},
                        {"max_ms", ms.back()}}
             .dump()
      << std::endl;
  return Status::OK();
}

}  // namespace

Status RunGradeBench(const GradeBenchOptions& o, std::ostream& out) {
  std::size_t summary_tests = 0, verbose_tests = 0;
  const std::string summary_log = MakePytestLog(o.log_bytes, false, summary_tests);
  const std::string verbose_log = MakePytestLog(o.log_bytes, true, verbose_tests);
  for (const char* parser : {"parse_log_pytest", "parse_log_pytest_options", "parse_log_pytest_v2",
                             "parse_log_swesmith_pytest"}) {
    const bool verbose = std::string_view(parser) == "parse_log_swesmith_pytest";
    LogParserSpec spec;
    R2E_RETURN_IF_ERROR(TimeParser(parser, spec, verbose ? verbose_log : summary_log,
                                   verbose ? verbose_tests : summary_tests, o, out));
  }
  // The other languages' parsers; `tests` is then what the parser read.
  for (const BenchLog& b : MultilingualBenchLogs(o.log_bytes)) {
    if (!o.parser.empty() && o.parser != b.parser) continue;
    R2E_RETURN_IF_ERROR(TimeParser(b.parser, b.spec, b.log, 0, o, out));
  }
  return Status::OK();
}

}  // namespace r2e::bench
