// SWE-bench grading, status map -> report (GradeSweBenchTests and
// MakeSweBenchReport): skipped, xfail, missing, fail-only and cut ids,
// FULL/PARTIAL/NO, the scores and eval types, and the exact report.json
// shape and key order.
#include <cstddef>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "r2e/swebench.h"
#include "r2e/task.h"
#include "swebench_grading_test_util.h"

namespace r2e {
namespace {

using nlohmann::json;
using swebench_grading_test_util::kClassic;
using swebench_grading_test_util::kV5;
using swebench_grading_test_util::MakeTask;
using swebench_grading_test_util::Names;

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

}  // namespace
}  // namespace r2e
