// SWE-bench grading (r2e/swebench.h and MakeSweBenchGrader): the log -> status
// map rules (fatal and missing markers, slicing, whole-log fallback, the v5
// suite-ran and exit-code checks), the status map -> report rules (skipped,
// xfail, missing, fail-only, cut ids, FULL/PARTIAL/NO), the exact report.json
// shape, the eval script text, the patch-apply cascade run with bash, and the
// grader on the demo SWE-bench row (grade_log, and grade() against a
// scripted runtime double).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "r2e/grader.h"
#include "r2e/swebench.h"
#include "r2e/task.h"
#include "swebench_test_util.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using Names = std::vector<std::string>;
using test_util::Output;
using test_util::ScriptedRuntime;
using test_util::TempRepo;

const fs::path kDemoRow = fs::path(R2E_SOURCE_DIR) / "examples" / "tasks" / "demo-swebench.jsonl";

constexpr char kStart[] = "+ : '>>>>> Start Test Output'\n";
constexpr char kEnd[] = "+ : '>>>>> End Test Output'\n";

std::string Marked(std::string_view body) {
  return std::string("+ git apply -v -\n") + kStart + std::string(body) + kEnd;
}

// The tail of a real run of the SWE-bench eval script on the demo task in
// r2e-demo/textstats-swebench, with the gold patch applied (from the diff on).
constexpr char kFixedLog[] =
    R"LOG(+ git -c core.fileMode=false diff f8fabaa1ef2cd4a011c370e8c58efc0bc12e3077
diff --git a/textstats/stats.py b/textstats/stats.py
index 580657c..7e599ba 100644
--- a/textstats/stats.py
+++ b/textstats/stats.py
@@ -28,7 +28,7 @@ def moving_average(values, window):
     if window <= 0:
         raise ValueError("window must be positive")
     values = list(values)
-    if window >= len(values):
+    if window > len(values):
         return []
     total = sum(values[:window])
     averages = [total / window]
+ '[' -f /opt/miniconda3/bin/activate ']'
+ rm -f tests/hidden/test_stats.py tests/hidden/test_words.py
+ git apply -v -
Checking patch tests/hidden/test_stats.py...
Checking patch tests/hidden/test_words.py...
Applied patch tests/hidden/test_stats.py cleanly.
Applied patch tests/hidden/test_words.py cleanly.
+ : '>>>>> Start Test Output'
+ pytest -rA tests/hidden/test_stats.py tests/hidden/test_words.py
============================= test session starts ==============================
platform linux -- Python 3.11.2, pytest-7.2.1, pluggy-1.0.0+repack
rootdir: /testbed
collected 11 items

tests/hidden/test_stats.py .......                                       [ 63%]
tests/hidden/test_words.py ....                                          [100%]

==================================== PASSES ====================================
=========================== short test summary info ============================
PASSED tests/hidden/test_stats.py::test_mean_of_floats
PASSED tests/hidden/test_stats.py::test_median_even_length
PASSED tests/hidden/test_stats.py::test_moving_average_window_equals_length
PASSED tests/hidden/test_stats.py::TestMovingAverage::test_sliding_windows
PASSED tests/hidden/test_stats.py::TestMovingAverage::test_single_value
PASSED tests/hidden/test_stats.py::TestMovingAverage::test_window_longer_than_data
PASSED tests/hidden/test_stats.py::TestMovingAverage::test_rejects_non_positive_window
PASSED tests/hidden/test_words.py::test_word_count[hello world-2]
PASSED tests/hidden/test_words.py::test_word_count[  spaced   out  text -3]
PASSED tests/hidden/test_words.py::test_word_count[-0]
PASSED tests/hidden/test_words.py::test_top_words_breaks_ties_alphabetically
============================== 11 passed in 0.02s ==============================
+ : '>>>>> End Test Output'
+ rm -f tests/hidden/test_stats.py tests/hidden/test_words.py
)LOG";

// The same on the buggy code.
constexpr char kBuggyLog[] =
    R"LOG(+ git -c core.fileMode=false diff f8fabaa1ef2cd4a011c370e8c58efc0bc12e3077
+ '[' -f /opt/miniconda3/bin/activate ']'
+ rm -f tests/hidden/test_stats.py tests/hidden/test_words.py
+ git apply -v -
Checking patch tests/hidden/test_stats.py...
Checking patch tests/hidden/test_words.py...
Applied patch tests/hidden/test_stats.py cleanly.
Applied patch tests/hidden/test_words.py cleanly.
+ : '>>>>> Start Test Output'
+ pytest -rA tests/hidden/test_stats.py tests/hidden/test_words.py
============================= test session starts ==============================
platform linux -- Python 3.11.2, pytest-7.2.1, pluggy-1.0.0+repack
rootdir: /testbed
collected 11 items

tests/hidden/test_stats.py ..F.F..                                       [ 63%]
tests/hidden/test_words.py ....                                          [100%]

=================================== FAILURES ===================================
___________________ test_moving_average_window_equals_length ___________________

    def test_moving_average_window_equals_length():
        # One full window: exactly one average, not an empty list.
>       assert moving_average([2, 4, 6], 3) == [4.0]
E       assert [] == [4.0]
E         Right contains one more item: 4.0
E         Use -v to get more diff

tests/hidden/test_stats.py:16: AssertionError
_____________________ TestMovingAverage.test_single_value ______________________

self = <test_stats.TestMovingAverage object at 0x7f77f4b29b50>

    def test_single_value(self):
>       assert moving_average([7], 1) == [7.0]
E       assert [] == [7.0]
E         Right contains one more item: 7.0
E         Use -v to get more diff

tests/hidden/test_stats.py:24: AssertionError
==================================== PASSES ====================================
=========================== short test summary info ============================
PASSED tests/hidden/test_stats.py::test_mean_of_floats
PASSED tests/hidden/test_stats.py::test_median_even_length
PASSED tests/hidden/test_stats.py::TestMovingAverage::test_sliding_windows
PASSED tests/hidden/test_stats.py::TestMovingAverage::test_window_longer_than_data
PASSED tests/hidden/test_stats.py::TestMovingAverage::test_rejects_non_positive_window
PASSED tests/hidden/test_words.py::test_word_count[hello world-2]
PASSED tests/hidden/test_words.py::test_word_count[  spaced   out  text -3]
PASSED tests/hidden/test_words.py::test_word_count[-0]
PASSED tests/hidden/test_words.py::test_top_words_breaks_ties_alphabetically
FAILED tests/hidden/test_stats.py::test_moving_average_window_equals_length
FAILED tests/hidden/test_stats.py::TestMovingAverage::test_single_value - ass...
========================= 2 failed, 9 passed in 0.03s ==========================
+ : '>>>>> End Test Output'
+ rm -f tests/hidden/test_stats.py tests/hidden/test_words.py
)LOG";

const Names kDemoF2P = {
    "tests/hidden/test_stats.py::test_moving_average_window_equals_length",
    "tests/hidden/test_stats.py::TestMovingAverage::test_single_value",
};
const Names kDemoP2P = {
    "tests/hidden/test_stats.py::test_mean_of_floats",
    "tests/hidden/test_stats.py::test_median_even_length",
    "tests/hidden/test_stats.py::TestMovingAverage::test_sliding_windows",
    "tests/hidden/test_stats.py::TestMovingAverage::test_window_longer_than_data",
    "tests/hidden/test_stats.py::TestMovingAverage::test_rejects_non_positive_window",
    "tests/hidden/test_words.py::test_word_count[hello",
    "tests/hidden/test_words.py::test_word_count[",
    "tests/hidden/test_words.py::test_word_count[-0]",
    "tests/hidden/test_words.py::test_top_words_breaks_ties_alphabetically",
};

Task DemoTask() {
  auto tasks = LoadTasks(kDemoRow);
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  if (!tasks.ok() || tasks->empty()) return Task{};
  return tasks->front();
}

Task MakeTask(Names f2p, Names p2p, std::string repo = "pallets/flask") {
  Task task;
  task.instance_id = "owner__repo-1";
  task.kind = TaskKind::kSweBench;
  task.repo = std::move(repo);
  task.fail_to_pass = std::move(f2p);
  task.pass_to_pass = std::move(p2p);
  return task;
}

// ---------------------------------------------------------------------------
// Log -> status map

struct LogCase {
  std::string name;
  std::string log;
  GradingRules rules;
  bool found;
  StatusMap map;
};

std::string PrintLogCase(const ::testing::TestParamInfo<LogCase>& info) { return info.param.name; }

class SweBenchLogTest : public ::testing::TestWithParam<LogCase> {};

TEST_P(SweBenchLogTest, StatusMap) {
  const LogCase& c = GetParam();
  auto eval = EvalSweBenchLog("parse_log_pytest", c.log, c.rules);
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  EXPECT_EQ(eval->found, c.found) << eval->reason;
  EXPECT_EQ(eval->status_map, c.map);
  if (!c.found) {
    EXPECT_FALSE(eval->reason.empty());
  }
}

const auto kClassic = GradingRules::kClassic;
const auto kV5 = GradingRules::kV5;

INSTANTIATE_TEST_SUITE_P(
    SweBenchLogRules, SweBenchLogTest,
    ::testing::Values(
        LogCase{"FatalPatchApplyFailed",
                ">>>>> Patch Apply Failed:\nerror\n" + Marked("PASSED a.py::t\n"),
                kClassic,
                false,
                {}},
        LogCase{"FatalResetFailed",
                ">>>>> Reset Failed\n" + Marked("PASSED a.py::t\n"),
                kClassic,
                false,
                {}},
        LogCase{"FatalTestsErrored",
                Marked("PASSED a.py::t\n") + ">>>>> Tests Errored\n",
                kClassic,
                false,
                {}},
        LogCase{"FatalTimedOutAfterEnd",
                Marked("PASSED a.py::t\n") + ">>>>> Tests Timed Out\n",
                kV5,
                false,
                {}},
        LogCase{"MissingStart", std::string("PASSED a.py::t\n") + kEnd, kClassic, false, {}},
        LogCase{"MissingEnd", std::string(kStart) + "PASSED a.py::t\n", kClassic, false, {}},
        LogCase{"MissingBoth", "PASSED a.py::t\n", kV5, false, {}},
        LogCase{"OnlyBetweenMarkers",
                "PASSED a.py::before\n" + Marked("PASSED a.py::t\nFAILED a.py::u - boom\n") +
                    "PASSED a.py::after\n",
                kClassic,
                true,
                {{"a.py::t", "PASSED"}, {"a.py::u", "FAILED"}}},
        LogCase{"LaterLineWins",
                Marked("FAILED a.py::t\nPASSED a.py::t\n"),
                kClassic,
                true,
                {{"a.py::t", "PASSED"}}},
        LogCase{"EmptySliceParsesWholeLog",
                "PASSED a.py::before\n" + Marked("collected 0 items\n") + "ERROR a.py::after\n",
                kClassic,
                true,
                {{"a.py::before", "PASSED"}, {"a.py::after", "ERROR"}}},
        LogCase{"SecondStartEndsTheSlice",
                std::string(kStart) + "PASSED a.py::x\n" + kStart + "PASSED a.py::y\n" + kEnd,
                kClassic,
                true,
                {{"a.py::x", "PASSED"}}},
        LogCase{"EndBeforeStartStillCounts",
                std::string(kEnd) + kStart + "PASSED a.py::x\n",
                kClassic,
                true,
                {{"a.py::x", "PASSED"}}},
        LogCase{"ClassicEmptyMapIsFound", Marked("no tests ran in 0.01s\n"), kClassic, true, {}},
        LogCase{
            "V5EmptyMapWithoutSuiteIsNotFound", Marked("no tests ran in 0.01s\n"), kV5, false, {}},
        LogCase{"V5EmptyMapWithSuiteRanIsFound", Marked("  3 passing (20ms)\n"), kV5, true, {}},
        LogCase{
            "V5ExitCodeSpoof",
            Marked("PASSED a.py::t\n+ echo '>>>>> Test Exit Code: 1'\n>>>>> Test Exit Code: 1\n"),
            kV5,
            false,
            {}},
        LogCase{"ClassicIgnoresExitCode",
                Marked("PASSED a.py::t\n>>>>> Test Exit Code: 1\n"),
                kClassic,
                true,
                {{"a.py::t", "PASSED"}}},
        LogCase{"V5ExitCodeWithFailure",
                Marked("PASSED a.py::t\nFAILED a.py::u\n>>>>> Test Exit Code: 1\n"),
                kV5,
                true,
                {{"a.py::t", "PASSED"}, {"a.py::u", "FAILED"}}},
        LogCase{"V5ExitCodeWithError",
                Marked("PASSED a.py::t\nERROR a.py::u\n>>>>> Test Exit Code: 2\n"),
                kV5,
                true,
                {{"a.py::t", "PASSED"}, {"a.py::u", "ERROR"}}},
        LogCase{"V5ExitCodeZero",
                Marked("PASSED a.py::t\n>>>>> Test Exit Code: 0\n"),
                kV5,
                true,
                {{"a.py::t", "PASSED"}}},
        // The harness reads the first exit-code line only (re.search).
        LogCase{"V5FirstExitCodeCounts",
                Marked("PASSED a.py::t\n>>>>> Test Exit Code: 0\n>>>>> Test Exit Code:\n  -9\n"),
                kV5,
                true,
                {{"a.py::t", "PASSED"}}},
        LogCase{"V5FirstNonZeroExitCodeCounts",
                Marked("PASSED a.py::t\n>>>>> Test Exit Code:\n  -9\n>>>>> Test Exit Code: 0\n"),
                kV5,
                false,
                {}},
        // ...and only when the map claims something: an empty map whose suite
        // ran stays found whatever the exit status.
        LogCase{"V5EmptyMapIgnoresExitCode",
                Marked("  3 passing (20ms)\n>>>>> Test Exit Code: 1\n"),
                kV5,
                true,
                {}},
        LogCase{"V5SkippedNumericIdDropped",
                Marked("SKIPPED [1] a.py:3: no db\nPASSED a.py::t\n"),
                kV5,
                true,
                {{"a.py::t", "PASSED"}}}),
    PrintLogCase);

TEST(SweBenchLog, UsesTheTasksParser) {
  Task task = MakeTask({}, {}, "django/django");
  const std::string log = Marked(
      "test_get_by_id (admin_views.tests.AdminViewTest) ... ok\n"
      "test_delete (admin_views.tests.AdminViewTest) ... FAIL\n");
  EXPECT_EQ(SweBenchParserName(task), "parse_log_django");
  auto eval = EvalSweBenchLog(task, log);
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  EXPECT_TRUE(eval->found);
  EXPECT_EQ(eval->status_map,
            (StatusMap{{"test_get_by_id (admin_views.tests.AdminViewTest)", "PASSED"},
                       {"test_delete (admin_views.tests.AdminViewTest)", "FAILED"}}));

  // A v5 row names its parser; it wins over the repository's.
  task.log_parser = "parse_log_pytest";
  EXPECT_EQ(SweBenchParserName(task), "parse_log_pytest");
  auto by_field = EvalSweBenchLog(task, Marked("PASSED a.py::t\n"));
  ASSERT_TRUE(by_field.ok());
  EXPECT_EQ(by_field->status_map, (StatusMap{{"a.py::t", "PASSED"}}));

  task.log_parser = "parse_log_no_such_thing";
  auto unknown = EvalSweBenchLog(task, Marked("PASSED a.py::t\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("owner__repo-1"), std::string::npos);

  // Unknown repositories get the harness's pytest parser.
  EXPECT_EQ(SweBenchParserName(MakeTask({}, {}, "someone/unknown")), "parse_log_pytest");
}

TEST(SweBenchLog, NeverCrashesOnOddLogs) {
  static constexpr char kBinary[] = "\0\xff\xfe>>>>> Start Test Output\n\x01PASSED\0x\n";
  const std::string binary(kBinary, sizeof kBinary - 1);
  for (const std::string& log :
       {std::string(), std::string(kStart), std::string(kEnd), binary,
        std::string(kStart) + "PASSED a.py::t", std::string(100000, '\n') + kStart + kEnd}) {
    for (GradingRules rules : {kClassic, kV5}) {
      auto eval = EvalSweBenchLog("parse_log_pytest", log, rules);
      EXPECT_TRUE(eval.ok());
    }
  }
}

struct SignatureCase {
  std::string text;
  bool ran;
};

TEST(SweBenchLog, SuiteRanSignatures) {
  const std::vector<SignatureCase> cases = {
      {"Executed 3 of 5 SUCCESS", true},
      {"Executed 0 of 5", false},
      {"Executed 10 of 10 (skipped 1)", true},
      {"Executed 3 of x", false},
      {"TOTAL: 4 SUCCESS", true},
      {"TOTAL: 2 FAILED", true},
      {"TOTAL: 0 SUCCESS", false},
      {"TOTAL: 4 PASSED", false},
      {"  12 passing (3s)", true},
      {"  0 passing (3s)", false},
      {"  10 passing", true},
      {"passing", false},
      {"Tests:       1 failed, 4 passed, 5 total", true},
      {"Tests:\n  7 passed", true},
      {"Tests: 0 passed", false},
      {"Tests:5 passed", false},
      {"Test Suites: 1 failed, 2 passed, 3 total", true},
      {"Test Suites: 3 total", true},
      {"Test Suites: 0 total", false},
      {"Test Suites: 1 failed, 0 total", false},
      {"# tests 4\n# pass 4", true},
      {"ok\n# tests 0", false},
      {"see # tests 4", false},
      {"5 specs, 0 failures", true},
      {"1 spec, 1 failure", true},
      {"0 specs, 0 failures", false},
      {"5 specs, failures", false},
      {"test 'adds': ok\nnext", true},
      {"test 'adds': ok", true},
      {"test 'adds': ok!", false},
      {"", false},
      {"PASSED a.py::t", false},
  };
  for (const auto& c : cases) EXPECT_EQ(SweBenchSuiteRan(c.text), c.ran) << "text: " << c.text;
}

TEST(SweBenchLog, ExitCodes) {
  EXPECT_EQ(SweBenchTestExitCodes(">>>>> Test Exit Code: 0\n"), (std::vector<long long>{0}));
  EXPECT_EQ(SweBenchTestExitCodes("+ echo '>>>>> Test Exit Code: 1'\n>>>>> Test Exit Code:1"),
            (std::vector<long long>{1, 1}));
  EXPECT_EQ(SweBenchTestExitCodes(">>>>> Test Exit Code:\t-15"), (std::vector<long long>{-15}));
  EXPECT_TRUE(SweBenchTestExitCodes(">>>>> Test Exit Code: x").empty());
  EXPECT_TRUE(SweBenchTestExitCodes(">>>>> Test Exit Code 3").empty());
  auto huge = SweBenchTestExitCodes(">>>>> Test Exit Code: 99999999999999999999999");
  ASSERT_EQ(huge.size(), 1u);
  EXPECT_NE(huge[0], 0);
}

// ---------------------------------------------------------------------------
// Status map -> report

struct GradeCase {
  std::string name;
  StatusMap map;
  Names f2p;
  Names p2p;
  SweBenchEvalType type;
  GradingRules rules;
  Names f2p_success, f2p_failure, p2p_success, p2p_failure;
  ResolvedStatus resolution;
};

std::string PrintGradeCase(const ::testing::TestParamInfo<GradeCase>& info) {
  return info.param.name;
}

class SweBenchGradeTest : public ::testing::TestWithParam<GradeCase> {};

TEST_P(SweBenchGradeTest, Buckets) {
  const GradeCase& c = GetParam();
  SweBenchTestsReport r = GradeSweBenchTests(c.map, c.f2p, c.p2p, c.type, c.rules);
  EXPECT_EQ(r.fail_to_pass.success, c.f2p_success);
  EXPECT_EQ(r.fail_to_pass.failure, c.f2p_failure);
  EXPECT_EQ(r.pass_to_pass.success, c.p2p_success);
  EXPECT_EQ(r.pass_to_pass.failure, c.p2p_failure);
  EXPECT_TRUE(r.fail_to_fail.success.empty() && r.fail_to_fail.failure.empty());
  EXPECT_TRUE(r.pass_to_fail.success.empty() && r.pass_to_fail.failure.empty());
  EXPECT_EQ(ResolvedStatusName(SweBenchResolution(r)), ResolvedStatusName(c.resolution));
}

const auto kPF = SweBenchEvalType::kPassAndFail;
const auto kFO = SweBenchEvalType::kFailOnly;
const auto kFull = ResolvedStatus::kFull;
const auto kPartial = ResolvedStatus::kPartial;
const auto kNo = ResolvedStatus::kNo;

// clang-format off
// Columns: name, status map, FAIL_TO_PASS, PASS_TO_PASS, eval type, rules,
// then the expected F2P success, F2P failure, P2P success, P2P failure and
// resolution.
INSTANTIATE_TEST_SUITE_P(
    SweBenchGradeRules, SweBenchGradeTest,
    ::testing::Values(
        GradeCase{"AllPass", {{"a", "PASSED"}, {"b", "PASSED"}, {"c", "PASSED"}}, {"a", "b"}, {"c"},
                  kPF, kClassic, {"a", "b"}, {}, {"c"}, {}, kFull},
        GradeCase{"XfailCountsAsPassed", {{"a", "XFAIL"}, {"c", "PASSED"}}, {"a"}, {"c"}, kPF,
                  kClassic, {"a"}, {}, {"c"}, {}, kFull},
        GradeCase{"MissingIsFailure", {{"a", "PASSED"}, {"c", "PASSED"}}, {"a", "m"}, {"c"}, kPF,
                  kClassic, {"a"}, {"m"}, {"c"}, {}, kPartial},
        GradeCase{"MissingP2PIsFailure", {{"a", "PASSED"}}, {"a"}, {"c"}, kPF, kClassic, {"a"}, {},
                  {}, {"c"}, kNo},
        GradeCase{"ErrorIsFailure", {{"a", "ERROR"}, {"c", "PASSED"}}, {"a"}, {"c"}, kPF, kClassic,
                  {}, {"a"}, {"c"}, {}, kNo},
        GradeCase{"NamesAreCaseSensitive", {{"A", "PASSED"}}, {"a"}, {}, kPF, kClassic, {}, {"a"},
                  {}, {}, kNo},
        GradeCase{"ClassicSkippedF2PIsNeither",
                  {{"a", "SKIPPED"}, {"b", "PASSED"}, {"c", "PASSED"}}, {"a", "b"}, {"c"}, kPF,
                  kClassic, {"b"}, {}, {"c"}, {}, kFull},
        GradeCase{"ClassicAllF2PSkippedIsFull", {{"a", "SKIPPED"}, {"c", "PASSED"}}, {"a"}, {"c"},
                  kPF, kClassic, {}, {}, {"c"}, {}, kFull},
        GradeCase{"V5SkippedF2PIsFailure", {{"a", "SKIPPED"}, {"b", "PASSED"}, {"c", "PASSED"}},
                  {"a", "b"}, {"c"}, kPF, kV5, {"b"}, {"a"}, {"c"}, {}, kPartial},
        GradeCase{"ClassicSkippedP2PIsNeither", {{"a", "PASSED"}, {"c", "SKIPPED"}}, {"a"}, {"c"},
                  kPF, kClassic, {"a"}, {}, {}, {}, kFull},
        GradeCase{"V5SkippedP2PIsKept", {{"a", "PASSED"}, {"c", "SKIPPED"}}, {"a"}, {"c"}, kPF, kV5,
                  {"a"}, {}, {"c"}, {}, kFull},
        GradeCase{"V5MissingP2PStillFails", {{"a", "PASSED"}}, {"a"}, {"c"}, kPF, kV5, {"a"}, {}, {},
                  {"c"}, kNo},
        GradeCase{"BrokenP2PIsNo", {{"a", "PASSED"}, {"c", "FAILED"}}, {"a"}, {"c"}, kPF, kClassic,
                  {"a"}, {}, {}, {"c"}, kNo},
        GradeCase{"NoF2PPassesIsNo", {{"a", "FAILED"}, {"b", "FAILED"}, {"c", "PASSED"}},
                  {"a", "b"}, {"c"}, kPF, kClassic, {}, {"a", "b"}, {"c"}, {}, kNo},
        GradeCase{"SomeF2PPassIsPartial", {{"a", "PASSED"}, {"b", "FAILED"}, {"c", "PASSED"}},
                  {"a", "b"}, {"c"}, kPF, kClassic, {"a"}, {"b"}, {"c"}, {}, kPartial},
        GradeCase{"PartialNeedsP2P", {{"a", "PASSED"}, {"b", "FAILED"}, {"c", "FAILED"}},
                  {"a", "b"}, {"c"}, kPF, kClassic, {"a"}, {"b"}, {}, {"c"}, kNo},
        GradeCase{"EmptyGroupsScoreOne", {}, {}, {}, kPF, kClassic, {}, {}, {}, {}, kFull},
        GradeCase{"GoldOrderIsKept", {{"z", "PASSED"}, {"a", "PASSED"}, {"m", "FAILED"}},
                  {"z", "m", "a"}, {}, kPF, kClassic, {"z", "a"}, {"m"}, {}, {}, kPartial},
        GradeCase{"FailOnlyCountsOnlyFailed",
                  {{"a", "ERROR"}, {"b", "SKIPPED"}, {"c", "FAILED"}, {"d", "PASSED"}},
                  {"a", "b", "m"}, {"c", "d"}, kFO, kClassic, {"a", "b", "m"}, {}, {"d"}, {"c"},
                  kNo},
        GradeCase{"FailOnlyFull", {{"c", "PASSED"}}, {"a"}, {"c"}, kFO, kV5, {"a"}, {}, {"c"}, {},
                  kFull},
        GradeCase{"FailOnlyFailedF2P", {{"a", "FAILED"}, {"b", "PASSED"}}, {"a", "b"}, {}, kFO,
                  kClassic, {"b"}, {"a"}, {}, {}, kPartial},
        GradeCase{"V5CutIdMatchesAgreeingKeys",
                  {{"t.py::f[hello world-2]", "PASSED"}, {"t.py::f[hello there-3]", "XFAIL"}},
                  {"t.py::f[hello"}, {}, kPF, kV5, {"t.py::f[hello"}, {}, {}, {}, kFull},
        GradeCase{"V5CutIdKeysDisagree",
                  {{"t.py::f[hello world-2]", "PASSED"}, {"t.py::f[hello there-3]", "FAILED"}},
                  {"t.py::f[hello"}, {}, kPF, kV5, {}, {"t.py::f[hello"}, {}, {}, kNo},
        GradeCase{"V5CutIdAllFailing",
                  {{"t.py::f[a b]", "FAILED"}, {"t.py::f[a c]", "ERROR"}}, {"t.py::f[a"}, {}, kPF,
                  kV5, {}, {"t.py::f[a"}, {}, {}, kNo},
        GradeCase{"V5CutIdSkippedP2PKept",
                  {{"t.py::f[x y]", "SKIPPED"}, {"t.py::f[x z]", "SKIPPED"}, {"a", "PASSED"}},
                  {"a"}, {"t.py::f[x"}, kPF, kV5, {"a"}, {}, {"t.py::f[x"}, {}, kFull},
        GradeCase{"V5CutIdNoKeysIsMissing", {{"t.py::g[a b]", "PASSED"}}, {"t.py::f[a"}, {}, kPF,
                  kV5, {}, {"t.py::f[a"}, {}, {}, kNo},
        GradeCase{"V5ExactKeyWinsOverPrefix",
                  {{"t.py::f[a", "FAILED"}, {"t.py::f[a b]", "PASSED"}}, {"t.py::f[a"}, {}, kPF,
                  kV5, {}, {"t.py::f[a"}, {}, {}, kNo},
        GradeCase{"V5BalancedNameIsNotCut", {{"t.py::f[a]x", "PASSED"}}, {"t.py::f[a]"}, {}, kPF,
                  kV5, {}, {"t.py::f[a]"}, {}, {}, kNo},
        GradeCase{"ClassicHasNoCutIds",
                  {{"t.py::f[hello world-2]", "PASSED"}, {"t.py::f[hello there-3]", "PASSED"}},
                  {"t.py::f[hello"}, {}, kPF, kClassic, {}, {"t.py::f[hello"}, {}, {}, kNo}),
    PrintGradeCase);
// clang-format on

TEST(SweBenchReport, Scores) {
  SweBenchTestsReport r;
  EXPECT_EQ(SweBenchFailToPassScore(r), 1.0);
  EXPECT_EQ(SweBenchPassToPassScore(r), 1.0);
  r.fail_to_pass.success = {"a"};
  r.fail_to_pass.failure = {"b", "c", "d"};
  r.pass_to_pass.failure = {"e"};
  EXPECT_DOUBLE_EQ(SweBenchFailToPassScore(r), 0.25);
  EXPECT_EQ(SweBenchPassToPassScore(r), 0.0);
  EXPECT_EQ(ResolvedStatusName(ResolvedStatus::kFull), "RESOLVED_FULL");
  EXPECT_EQ(ResolvedStatusName(ResolvedStatus::kPartial), "RESOLVED_PARTIAL");
  EXPECT_EQ(ResolvedStatusName(ResolvedStatus::kNo), "RESOLVED_NO");
}

TEST(SweBenchReport, EvalTypes) {
  for (const char* repo : {"chartjs/Chart.js", "processing/p5.js", "markedjs/marked"}) {
    EXPECT_TRUE(IsSweBenchFailOnlyRepo(repo)) << repo;
    EXPECT_EQ(SweBenchEvalTypeFor(MakeTask({}, {}, repo)), kFO) << repo;
  }
  EXPECT_FALSE(IsSweBenchFailOnlyRepo("chartjs/chart.js"));
  EXPECT_EQ(SweBenchEvalTypeFor(MakeTask({}, {}, "django/django")), kPF);

  Task row_says = MakeTask({}, {}, "someone/jsrepo");
  row_says.eval_type = "fail_only";
  EXPECT_EQ(SweBenchEvalTypeFor(row_says, kV5), kFO);
  EXPECT_EQ(SweBenchEvalTypeFor(row_says, kClassic), kPF);  // classic goes by the repo list
  Task row_overrides = MakeTask({}, {}, "chartjs/Chart.js");
  row_overrides.eval_type = "PASS_AND_FAIL";
  EXPECT_EQ(SweBenchEvalTypeFor(row_overrides, kV5), kPF);
  EXPECT_EQ(SweBenchEvalTypeFor(row_overrides, kClassic), kFO);
  row_overrides.eval_type = "sometimes";
  EXPECT_EQ(SweBenchEvalTypeFor(row_overrides, kV5), kFO);
}

TEST(SweBenchReport, ExactShapeWhenResolved) {
  Task task = MakeTask({"a", "b"}, {"c", "s"});
  SweBenchLogEval eval;
  eval.found = true;
  eval.status_map = {{"a", "PASSED"}, {"b", "XFAIL"}, {"c", "PASSED"}, {"s", "SKIPPED"}};
  bool resolved = false;
  json report = MakeSweBenchReport(task, eval, kClassic, false, &resolved);
  EXPECT_TRUE(resolved);
  const json expected = json::parse(R"({
    "owner__repo-1": {
      "patch_is_None": false,
      "patch_exists": true,
      "patch_successfully_applied": true,
      "resolved": true,
      "tests_status": {
        "FAIL_TO_PASS": {"success": ["a", "b"], "failure": []},
        "PASS_TO_PASS": {"success": ["c"], "failure": []},
        "FAIL_TO_FAIL": {"success": [], "failure": []},
        "PASS_TO_FAIL": {"success": [], "failure": []}
      }
    }
  })");
  EXPECT_EQ(report, expected) << report.dump(2);
}

TEST(SweBenchReport, ExactShapeWhenNotResolved) {
  Task task = MakeTask({"a", "b"}, {"c"});
  SweBenchLogEval eval;
  eval.found = true;
  eval.status_map = {{"a", "PASSED"}, {"c", "FAILED"}};
  bool resolved = true;
  json report = MakeSweBenchReport(task, eval, kClassic, false, &resolved);
  EXPECT_FALSE(resolved);
  const json expected = json::parse(R"({
    "owner__repo-1": {
      "patch_is_None": false,
      "patch_exists": true,
      "patch_successfully_applied": true,
      "resolved": false,
      "tests_status": {
        "FAIL_TO_PASS": {"success": ["a"], "failure": ["b"]},
        "PASS_TO_PASS": {"success": [], "failure": ["c"]},
        "FAIL_TO_FAIL": {"success": [], "failure": []},
        "PASS_TO_FAIL": {"success": [], "failure": []}
      }
    }
  })");
  EXPECT_EQ(report, expected) << report.dump(2);
}

TEST(SweBenchReport, NotFoundStopsAtPatchExists) {
  Task task = MakeTask({"a"}, {});
  SweBenchLogEval eval;  // found = false
  bool resolved = true;
  json report = MakeSweBenchReport(task, eval, kClassic, false, &resolved);
  EXPECT_FALSE(resolved);
  EXPECT_EQ(report, json::parse(R"({"owner__repo-1": {"patch_is_None": false,
      "patch_exists": true, "patch_successfully_applied": false, "resolved": false}})"));
  // The harness's key order, with its 4-space indent.
  EXPECT_EQ(FormatSweBenchReport(report),
            "{\n"
            "    \"owner__repo-1\": {\n"
            "        \"patch_is_None\": false,\n"
            "        \"patch_exists\": true,\n"
            "        \"patch_successfully_applied\": false,\n"
            "        \"resolved\": false\n"
            "    }\n"
            "}");
}

TEST(SweBenchReport, NullPatchStopsAtPatchIsNone) {
  Task task = MakeTask({"a"}, {});
  SweBenchLogEval eval;
  eval.found = true;
  eval.status_map = {{"a", "PASSED"}};
  json report = MakeSweBenchReport(task, eval, kClassic, /*patch_is_none=*/true);
  EXPECT_EQ(report, json::parse(R"({"owner__repo-1": {"patch_is_None": true,
      "patch_exists": false, "patch_successfully_applied": false, "resolved": false}})"));
}

TEST(SweBenchReport, FormatKeepsTheHarnessOrder) {
  Task task = MakeTask({"b", "a"}, {"c"});
  SweBenchLogEval eval;
  eval.found = true;
  eval.status_map = {{"a", "PASSED"}, {"b", "PASSED"}, {"c", "PASSED"}};
  const std::string text = FormatSweBenchReport(MakeSweBenchReport(task, eval));
  std::size_t last = 0;
  for (const char* key :
       {"\"patch_is_None\"", "\"patch_exists\"", "\"patch_successfully_applied\"", "\"resolved\"",
        "\"tests_status\"", "\"FAIL_TO_PASS\"", "\"success\"", "\"b\"", "\"a\"", "\"failure\"",
        "\"PASS_TO_PASS\"", "\"FAIL_TO_FAIL\"", "\"PASS_TO_FAIL\""}) {
    std::size_t at = text.find(key, last);
    ASSERT_NE(at, std::string::npos) << key << " out of order in\n" << text;
    last = at;
  }
  EXPECT_EQ(json::parse(text), MakeSweBenchReport(task, eval));
}

// ---------------------------------------------------------------------------
// The patch-apply cascade, run with bash

constexpr char kOriginal[] = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";
constexpr char kCleanPatch[] = R"(diff --git a/f.txt b/f.txt
--- a/f.txt
+++ b/f.txt
@@ -2,5 +2,5 @@
 two
 three
 four
-five
+FIVE
 six
 seven
)";

TEST(SweBenchApplyPatch, FirstCommandApplies) {
  TempRepo repo;
  repo.Write("f.txt", kOriginal);
  repo.Write("p.diff", kCleanPatch);
  std::string out;
  const int rc = repo.Bash(
      SweBenchApplyPatchCommand((repo.dir() / "p.diff").string(), repo.dir().string()), &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(out.starts_with(">>>>> Applied Patch:\n")) << out;
  EXPECT_EQ(repo.Read("f.txt"), "one\ntwo\nthree\nfour\nFIVE\nsix\nseven\n");
}

TEST(SweBenchApplyPatch, FallsBackToPatchWithFuzz) {
  TempRepo repo;
  // A context line differs: git apply refuses, `patch --fuzz` applies.
  repo.Write("f.txt", "one\nTWO\nthree\nfour\nfive\nsix\nseven\n");
  repo.Write("p.diff", kCleanPatch);
  std::string out;
  const int rc = repo.Bash(
      SweBenchApplyPatchCommand((repo.dir() / "p.diff").string(), repo.dir().string()), &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("Failed to apply patch to container: git apply --verbose\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Failed to apply patch to container: git apply --verbose --reject\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(">>>>> Applied Patch:\n"), std::string::npos) << out;
  EXPECT_EQ(repo.Read("f.txt"), "one\nTWO\nthree\nfour\nFIVE\nsix\nseven\n");
}

TEST(SweBenchApplyPatch, AllFailIsPatchApplyFailed) {
  TempRepo repo;
  repo.Write("f.txt", "completely\ndifferent\n");
  repo.Write("p.diff", kCleanPatch);
  std::string out;
  const int rc = repo.Bash(
      SweBenchApplyPatchCommand((repo.dir() / "p.diff").string(), repo.dir().string()), &out);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find(">>>>> Patch Apply Failed:\n"), std::string::npos) << out;
  EXPECT_EQ(out.find(">>>>> Applied Patch"), std::string::npos) << out;
  // Such a log is "not found" whatever follows.
  auto eval = EvalSweBenchLog("parse_log_pytest", out + Marked("PASSED a.py::t\n"));
  ASSERT_TRUE(eval.ok());
  EXPECT_FALSE(eval->found);
}

// ---------------------------------------------------------------------------
// The grader

TEST(SweBenchGrader, GradeLogOnTheDemoRow) {
  Task task = DemoTask();
  ASSERT_EQ(task.kind, TaskKind::kSweBench);
  ASSERT_EQ(task.fail_to_pass, kDemoF2P);
  ASSERT_EQ(task.pass_to_pass, kDemoP2P);
  auto grader = MakeGrader(task.kind);
  ASSERT_TRUE(grader.ok());
  EXPECT_EQ((*grader)->name(), "swebench");

  auto fixed = (*grader)->grade_log(task, kFixedLog);
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->reward, 1.0);
  EXPECT_TRUE(fixed->resolved);
  EXPECT_FALSE(fixed->timed_out);
  EXPECT_EQ(fixed->log, kFixedLog);
  EXPECT_EQ(fixed->status_map.size(), 11u);
  EXPECT_EQ(fixed->status_map.at("tests/hidden/test_words.py::test_word_count["), "PASSED");
  json tests = {{"FAIL_TO_PASS", {{"success", kDemoF2P}, {"failure", json::array()}}},
                {"PASS_TO_PASS", {{"success", kDemoP2P}, {"failure", json::array()}}},
                {"FAIL_TO_FAIL", {{"success", json::array()}, {"failure", json::array()}}},
                {"PASS_TO_FAIL", {{"success", json::array()}, {"failure", json::array()}}}};
  json expected = {{task.instance_id,
                    {{"patch_is_None", false},
                     {"patch_exists", true},
                     {"patch_successfully_applied", true},
                     {"resolved", true},
                     {"tests_status", tests}}}};
  EXPECT_EQ(fixed->report, expected) << fixed->report.dump(2);

  auto buggy = (*grader)->grade_log(task, kBuggyLog);
  ASSERT_TRUE(buggy.ok()) << buggy.status().ToString();
  EXPECT_EQ(buggy->reward, 0.0);
  EXPECT_FALSE(buggy->resolved);
  tests["FAIL_TO_PASS"] = {{"success", json::array()}, {"failure", kDemoF2P}};
  expected[task.instance_id]["resolved"] = false;
  expected[task.instance_id]["tests_status"] = tests;
  EXPECT_EQ(buggy->report, expected) << buggy->report.dump(2);

  // v5 agrees on both logs.
  auto v5 = MakeGrader(task.kind, kV5);
  ASSERT_TRUE(v5.ok());
  EXPECT_EQ((*v5)->grade_log(task, kFixedLog)->reward, 1.0);
  EXPECT_EQ((*v5)->grade_log(task, kBuggyLog)->reward, 0.0);

  // A log cut before the End marker is not found.
  std::string cut(kFixedLog);
  cut.resize(cut.find("+ : '>>>>> End Test Output'"));
  auto truncated = (*grader)->grade_log(task, cut);
  ASSERT_TRUE(truncated.ok());
  EXPECT_EQ(truncated->reward, 0.0);
  EXPECT_TRUE(truncated->status_map.empty());
  EXPECT_EQ(truncated->report[task.instance_id],
            json::parse(R"({"patch_is_None": false, "patch_exists": true,
                "patch_successfully_applied": false, "resolved": false})"));
}

TEST(SweBenchGrader, RefusesRowsWithNothingToGrade) {
  Task task = MakeTask({}, {});
  auto grader = MakeSweBenchGrader();
  auto graded = grader->grade_log(task, Marked(""));
  ASSERT_FALSE(graded.ok());
  EXPECT_EQ(graded.status().code(), StatusCode::kInvalidArgument);
}

TEST(SweBenchGrader, GradeRunsTheEvalScript) {
  Task task = DemoTask();
  ScriptedRuntime rt;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    if (cmd.find("bash /root/r2e_eval.sh") != std::string_view::npos) return Output(kFixedLog);
    return Output("");
  };
  auto grader = MakeSweBenchGrader();
  auto graded = grader->grade(rt, task, GradeOptions{});
  ASSERT_TRUE(graded.ok()) << graded.status().ToString();
  EXPECT_EQ(graded->reward, 1.0);
  EXPECT_TRUE(graded->resolved);
  EXPECT_EQ(graded->log, kFixedLog);
  ASSERT_TRUE(rt.files.contains("/root/r2e_eval.sh"));
  // The demo row has no 5.x fields: the classic (v4.1.0) script runs.
  auto script = MakeSweBenchEvalScript(task);
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  EXPECT_EQ(rt.files["/root/r2e_eval.sh"], *script);
  // The hidden tests are created by the test patch: v4.1.0's reset has no
  // file to check out (`git checkout <base> ` alone) and removes nothing.
  EXPECT_NE(rt.files["/root/r2e_eval.sh"].find("git checkout " + task.base_commit +
                                               " \ngit apply -v - <<'EOF_114329324912'\n"),
            std::string::npos);
  EXPECT_EQ(rt.files["/root/r2e_eval.sh"].find("rm -f"), std::string::npos);
  ASSERT_FALSE(rt.commands.empty());
  EXPECT_TRUE(rt.commands.front().starts_with("bash /root/r2e_eval.sh"));
  // After the run the grader removes the script and the created test files,
  // so no hidden test stays behind in the sandbox.
  ASSERT_GE(rt.commands.size(), 2u);
  EXPECT_NE(rt.commands[1].find("rm -f 'tests/hidden/test_stats.py' 'tests/hidden/test_words.py'"),
            std::string::npos)
      << rt.commands[1];
  EXPECT_NE(rt.commands[1].find("/root/r2e_eval.sh"), std::string::npos);
  EXPECT_GE(graded->duration.count(), 0);
}

TEST(SweBenchGrader, ScriptOptions) {
  Task task = DemoTask();
  ScriptedRuntime rt;
  SweBenchEvalScriptOptions options;
  options.guard_conda_activation = true;
  options.remove_created_test_files = true;
  auto graded = MakeSweBenchGrader(std::nullopt, options)->grade(rt, task, GradeOptions{});
  ASSERT_TRUE(graded.ok()) << graded.status().ToString();
  const std::string& script = rt.files["/root/r2e_eval.sh"];
  EXPECT_EQ(script, *MakeSweBenchEvalScript(task, GradingRules::kClassic, options));
  EXPECT_NE(script.find("\nif [ -f /opt/miniconda3/bin/activate ]; then "), std::string::npos);
  EXPECT_NE(script.find("\nrm -f tests/hidden/test_stats.py tests/hidden/test_words.py\n"
                        "git apply -v -"),
            std::string::npos)
      << script;
}

TEST(SweBenchGrader, GradeReadsTheLogFileWhenOutputWasCut) {
  Task task = DemoTask();
  ScriptedRuntime rt;
  rt.files["/tmp/r2e_swebench_"] = kFixedLog;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    if (cmd.find("bash /root/r2e_eval.sh") != std::string_view::npos) {
      return Output("head...\n[12345 bytes dropped]\n...tail", false, 12345);
    }
    return Output("");
  };
  auto graded = MakeSweBenchGrader()->grade(rt, task, GradeOptions{});
  ASSERT_TRUE(graded.ok()) << graded.status().ToString();
  EXPECT_EQ(graded->log, kFixedLog);
  EXPECT_EQ(graded->reward, 1.0);
}

TEST(SweBenchGrader, TimeoutIsRewardZero) {
  Task task = DemoTask();
  ScriptedRuntime rt;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    // Everything passed before the kill, but a timed-out run never counts.
    if (cmd.find("bash /root/r2e_eval.sh") != std::string_view::npos) {
      return Output(kFixedLog, /*timed_out=*/true);
    }
    return Output("");
  };
  GradeOptions options;
  options.timeout = 7s;
  auto graded = MakeSweBenchGrader()->grade(rt, task, options);
  ASSERT_TRUE(graded.ok()) << graded.status().ToString();
  EXPECT_EQ(graded->reward, 0.0);
  EXPECT_FALSE(graded->resolved);
  EXPECT_TRUE(graded->timed_out);
  EXPECT_TRUE(graded->log.ends_with(">>>>> Tests Timed Out\n")) << graded->log;
  EXPECT_NE(graded->log.find("Timeout error: 7 seconds exceeded."), std::string::npos);
  const json& inst = graded->report[task.instance_id];
  EXPECT_EQ(inst["timed_out"], true);
  EXPECT_EQ(inst["timeout"], 7);
  EXPECT_EQ(inst["resolved"], false);
  EXPECT_EQ(inst["patch_successfully_applied"], false);
  // The script was killed before its final reset: the grader resets.
  bool reset = false;
  for (const auto& c : rt.commands) {
    reset = reset || c.find("rm -f 'tests/hidden/test_stats.py' 'tests/hidden/test_words.py'") !=
                         std::string::npos;
  }
  EXPECT_TRUE(reset);
}

TEST(SweBenchGrader, SandboxErrorsAreErrors) {
  Task task = DemoTask();
  ScriptedRuntime rt;
  rt.on_exec = [](std::string_view) -> Result<ExecResult> {
    return Status::Unavailable("the sandbox died");
  };
  auto graded = MakeSweBenchGrader()->grade(rt, task, GradeOptions{});
  ASSERT_FALSE(graded.ok());
  EXPECT_EQ(graded.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(graded.status().message().find(task.instance_id), std::string::npos);
}

}  // namespace
}  // namespace r2e
