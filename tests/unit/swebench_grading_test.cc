// SWE-bench grading, log -> status map (EvalSweBenchLog): fatal and missing
// markers, slicing, the whole-log fallback, the v5 suite-ran and exit-code
// checks, and the parser a task names. The status map -> report rules:
// swebench_report_test.cc; the patch-apply cascade and the grader:
// swebench_grader_test.cc.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "r2e/swebench.h"
#include "r2e/task.h"
#include "swebench_grading_test_util.h"

namespace r2e {
namespace {

using swebench_grading_test_util::kEnd;
using swebench_grading_test_util::kStart;
using swebench_grading_test_util::Marked;
using swebench_grading_test_util::kClassic;
using swebench_grading_test_util::kV5;
using swebench_grading_test_util::MakeTask;
using swebench_grading_test_util::Names;

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

}  // namespace
}  // namespace r2e
