// The SWE-smith grader's grade_log: against SWE-smith's own golden logs and
// reports, and the slicing and grading rules on logs written here. grade()
// in a sandbox: swesmith_grader_sandbox_test.cc.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "r2e/grader.h"
#include "r2e/task.h"
#include "swesmith_grading_test_util.h"
#include "test_files.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using swesmith_test_util::Group;
using swesmith_test_util::kAllPass;
using swesmith_test_util::kXTask;
using swesmith_test_util::MakeTask;
using swesmith_test_util::Names;
using swesmith_test_util::PytestLog;
using swesmith_test_util::Report;
using swesmith_test_util::Strings;

const fs::path kSwesmithLogs = fs::path(R2E_SHARED_DIR) / "fixtures" / "swesmith";

using test_util::ReadFile;

nlohmann::json ReadJson(const fs::path& path) {
  return nlohmann::json::parse(ReadFile(path), nullptr, /*allow_exceptions=*/false);
}

// ---------------------------------------------------------------------------
// Golden data: SWE-smith's own evaluation runs.

// The instances of fixtures/swesmith/run_evaluation, the fixture's `resolved`,
// and the names that move from a `success` list to `failure` because the
// fixture's older rule counted a test missing from the log as passed (we
// require an explicit PASSED/XFAIL). None move: every name those reports list
// as a success is present in its log as PASSED or XFAIL, so on these logs the
// two rules agree on every list and on `resolved`.
struct Golden {
  const char* instance;
  bool resolved;
  std::set<std::string> moved;
};
const Golden kGolden[] = {
    {"getmoto__moto.694ce1f4.pr_7331", true, {}},
    {"pandas-dev__pandas.95280573.pr_53652", true, {}},
    {"pandas-dev__pandas.95280573.pr_53856", false, {}},
    {"pydantic__pydantic.acb0f10f.pr_8316", true, {}},
};

TEST(SweSmithGradingTest, GoldenLogsReproduceTheFixtureLists) {
  const fs::path dir = kSwesmithLogs / "run_evaluation";
  if (!fs::exists(dir)) GTEST_SKIP() << "no golden data at " << dir;
  for (const Golden& g : kGolden) {
    SCOPED_TRACE(g.instance);
    const fs::path log_path = dir / g.instance / "test_output.txt";
    const nlohmann::json fixture = ReadJson(dir / g.instance / "report.json");
    ASSERT_TRUE(fixture.is_object()) << dir / g.instance / "report.json";
    const nlohmann::json& want = fixture["tests_status"];

    // The task: each group's success + failure, as the instance listed them.
    auto listed = [&](const char* group) {
      Names all = Strings(want[group]["success"]);
      Names failure = Strings(want[group]["failure"]);
      all.insert(all.end(), failure.begin(), failure.end());
      return all;
    };
    Task task = MakeTask(listed("FAIL_TO_PASS"), listed("PASS_TO_PASS"), g.instance);
    auto r = MakeSweSmithGrader()->grade_log(task, ReadFile(log_path));
    ASSERT_TRUE(r.ok()) << r.status().ToString();

    std::set<std::string> moved;
    for (const char* group : {"FAIL_TO_PASS", "PASS_TO_PASS"}) {
      for (const auto& name : Strings(want[group]["success"])) {
        auto it = r->status_map.find(name);
        if (it == r->status_map.end() || (it->second != "PASSED" && it->second != "XFAIL")) {
          moved.insert(name);
        }
      }
    }
    EXPECT_EQ(moved, g.moved);

    for (const char* group : {"FAIL_TO_PASS", "PASS_TO_PASS", "FAIL_TO_FAIL", "PASS_TO_FAIL"}) {
      SCOPED_TRACE(group);
      Names success;
      Names failure;
      for (const auto& name : Strings(want[group]["success"])) {
        (g.moved.contains(name) ? failure : success).push_back(name);
      }
      for (const auto& name : Strings(want[group]["failure"])) failure.push_back(name);
      EXPECT_EQ(Group(*r, task, group, "success"), success);
      EXPECT_EQ(Group(*r, task, group, "failure"), failure);
    }

    const nlohmann::json& ours = Report(*r, task);
    EXPECT_EQ(r->resolved, g.resolved);
    EXPECT_EQ(fixture["resolved"], g.resolved);
    EXPECT_EQ(ours["resolved"], g.resolved);
    EXPECT_EQ(r->reward, g.resolved ? 1.0 : 0.0);
    EXPECT_EQ(ours["patch_is_None"], fixture["patch_is_None"]);
    EXPECT_EQ(ours["patch_exists"], fixture["patch_exists"]);
    // The fixture's harness never set patch_successfully_applied; we set it
    // when the markers were found and no fatal marker was.
    EXPECT_EQ(fixture["patch_successfully_applied"], false);
    EXPECT_EQ(ours["patch_successfully_applied"], true);
    // Same keys, except the harness's model name (a prediction field).
    for (auto it = fixture.begin(); it != fixture.end(); ++it) {
      if (it.key() != "model_name_or_path") {
        EXPECT_TRUE(ours.contains(it.key())) << it.key();
      }
    }
    EXPECT_EQ(ours.size(), fixture.size() - 1);
  }
}

// The 53856 run: every FAIL_TO_PASS test errored; its log also holds FAILED,
// SKIPPED and XFAIL tests, and the 595 PASS_TO_PASS tests all passed.
TEST(SweSmithGradingTest, GoldenUnresolvedRunFailsOnlyFailToPass) {
  const fs::path dir = kSwesmithLogs / "run_evaluation" / "pandas-dev__pandas.95280573.pr_53856";
  if (!fs::exists(dir)) GTEST_SKIP() << "no golden data at " << dir;
  const nlohmann::json want = ReadJson(dir / "report.json")["tests_status"];
  Names f2p = Strings(want["FAIL_TO_PASS"]["failure"]);
  Names p2p = Strings(want["PASS_TO_PASS"]["success"]);
  Task task = MakeTask(f2p, p2p, "pandas-dev__pandas.95280573.pr_53856");
  auto r = MakeSweSmithGrader()->grade_log(task, ReadFile(dir / "test_output.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_EQ(Group(*r, task, "FAIL_TO_PASS", "failure").size(), 28u);
  EXPECT_EQ(Group(*r, task, "PASS_TO_PASS", "success").size(), 595u);
  for (const auto& name : f2p) {
    auto it = r->status_map.find(name);
    ASSERT_NE(it, r->status_map.end()) << name;
    EXPECT_TRUE(it->second == "FAILED" || it->second == "ERROR") << name << " " << it->second;
  }
}

// A complete SWE-smith task instance (PASS_TO_PASS is a JSON-encoded string).
Result<Task> PandasTask() {
  const fs::path path = kSwesmithLogs / "pandas-dev__pandas.95280573.pr_53652.json";
  nlohmann::json row = ReadJson(path);
  if (!row.is_object()) return Status::NotFound("cannot read " + path.string());
  return ParseTask(row);
}

TEST(SweSmithGradingTest, PandasTaskInstanceParsesAndGradesItsLogs) {
  if (!fs::exists(kSwesmithLogs / "pandas-dev__pandas.95280573.pr_53652.json")) {
    GTEST_SKIP() << "no golden data under " << kSwesmithLogs;
  }
  auto task = PandasTask();
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->kind, TaskKind::kSweSmith);
  EXPECT_EQ(task->instance_id, "pandas-dev__pandas.95280573.pr_53652");
  EXPECT_EQ(task->base_commit, "d1c5199b6a9d7ae9382d26ee2859b837107165e7");
  ASSERT_EQ(task->fail_to_pass.size(), 2u);
  ASSERT_EQ(task->pass_to_pass.size(), 9u);
  auto grader = MakeSweSmithGrader();

  // The evaluation run of a correct fix.
  auto fixed = grader->grade_log(
      *task, ReadFile(kSwesmithLogs / "run_evaluation" / task->instance_id / "test_output.txt"));
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->reward, 1.0) << fixed->report.dump(2);
  EXPECT_EQ(Group(*fixed, *task, "FAIL_TO_PASS", "success"), task->fail_to_pass);
  EXPECT_EQ(Group(*fixed, *task, "PASS_TO_PASS", "success"), task->pass_to_pass);

  // Validation: the log with the bug in place is the untouched repository an
  // agent starts from: both FAIL_TO_PASS tests fail, reward 0.
  auto untouched =
      grader->grade_log(*task, ReadFile(kSwesmithLogs / "run_validation" / "test_output.txt"));
  ASSERT_TRUE(untouched.ok()) << untouched.status().ToString();
  EXPECT_EQ(untouched->reward, 0.0);
  EXPECT_FALSE(untouched->resolved);
  EXPECT_EQ(Group(*untouched, *task, "FAIL_TO_PASS", "failure"), task->fail_to_pass);
  EXPECT_EQ(Group(*untouched, *task, "PASS_TO_PASS", "success"), task->pass_to_pass);
  EXPECT_EQ(Report(*untouched, *task)["patch_successfully_applied"], true);

  // The log before the bug was introduced passes everything.
  auto clean =
      grader->grade_log(*task, ReadFile(kSwesmithLogs / "run_validation" / "test_output_pre_gold.txt"));
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  EXPECT_EQ(clean->reward, 1.0);
}

// ---------------------------------------------------------------------------
// Rules on logs written here.

void ExpectNotFound(const Result<GradeResult>& r, const Task& task) {
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_FALSE(r->resolved);
  EXPECT_TRUE(r->status_map.empty());
  // A repository without a profile also carries the warning.
  nlohmann::json rep = Report(*r, task);
  rep.erase("warnings");
  EXPECT_EQ(rep, (nlohmann::json{{"patch_is_None", false},
                                 {"patch_exists", true},
                                 {"patch_successfully_applied", false},
                                 {"resolved", false}}))
      << rep.dump();
}

TEST(SweSmithGradingTest, AllExplicitPassesResolve) {
  auto r = MakeSweSmithGrader()->grade_log(kXTask, PytestLog(kAllPass));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 1.0);
  EXPECT_TRUE(r->resolved);
  EXPECT_EQ(r->status_map.size(), 3u);
  EXPECT_FALSE(r->timed_out);
  const nlohmann::json& rep = Report(*r, kXTask);
  EXPECT_EQ(rep["patch_successfully_applied"], true);
  EXPECT_EQ(rep["resolved"], true);
  EXPECT_EQ(Strings(rep["tests_status"]["FAIL_TO_PASS"]["success"]), kXTask.fail_to_pass);
  EXPECT_EQ(Strings(rep["tests_status"]["PASS_TO_PASS"]["success"]), kXTask.pass_to_pass);
  for (const char* g : {"FAIL_TO_FAIL", "PASS_TO_FAIL"}) {
    EXPECT_EQ(rep["tests_status"][g], (nlohmann::json{{"success", nlohmann::json::array()},
                                                      {"failure", nlohmann::json::array()}}));
  }
}

TEST(SweSmithGradingTest, TimedOutLogIsNothing) {
  std::string log = PytestLog(kAllPass) + "\n\n>>>>> Tests Timed Out: 90 seconds exceeded";
  ExpectNotFound(MakeSweSmithGrader()->grade_log(kXTask, log), kXTask);
}

TEST(SweSmithGradingTest, PatchApplyFailedAnywhereIsNothing) {
  ExpectNotFound(MakeSweSmithGrader()->grade_log(
                     kXTask, ">>>>> Patch Apply Failed:\nerror\n" + PytestLog(kAllPass)),
                 kXTask);
  // Even inside the test output.
  ExpectNotFound(MakeSweSmithGrader()->grade_log(
                     kXTask, PytestLog(std::string(kAllPass) + "\n>>>>> Patch Apply Failed")),
                 kXTask);
}

TEST(SweSmithGradingTest, MissingOrMisplacedMarkersAreNotFound) {
  auto grader = MakeSweSmithGrader();
  const std::string body(kAllPass);
  // No markers at all: a bare pytest log is not graded.
  ExpectNotFound(grader->grade_log(kXTask, body), kXTask);
  // Only one of the two.
  ExpectNotFound(grader->grade_log(kXTask, "+ : '>>>>> Start Test Output'\n" + body), kXTask);
  ExpectNotFound(grader->grade_log(kXTask, body + "\n+ : '>>>>> End Test Output'\n"), kXTask);
  // The marker text without its xtrace form (no `set -x`).
  ExpectNotFound(
      grader->grade_log(kXTask, ">>>>> Start Test Output\n" + body + "\n>>>>> End Test Output\n"),
      kXTask);
  // End before start (SWE-smith raises here; we never crash).
  ExpectNotFound(grader->grade_log(kXTask, "+ : '>>>>> End Test Output'\n" + body +
                                               "\n+ : '>>>>> Start Test Output'\n"),
                 kXTask);
  // Empty and binary logs.
  ExpectNotFound(grader->grade_log(kXTask, ""), kXTask);
  ExpectNotFound(grader->grade_log(kXTask, std::string("\0\xff\xfe\n", 4)), kXTask);
}

TEST(SweSmithGradingTest, OnlyTheFirstStartToFirstEndSliceCounts) {
  // A passing line after the first end marker is ignored, so the failure stands.
  std::string log = PytestLog(
                        "tests/test_x.py::test_a FAILED\n"
                        "tests/test_x.py::TestK::test_b[1] PASSED\n"
                        "tests/test_x.py::test_c PASSED") +
                    "+ : '>>>>> Start Test Output'\ntests/test_x.py::test_a PASSED\n"
                    "+ : '>>>>> End Test Output'\n";
  auto r = MakeSweSmithGrader()->grade_log(kXTask, log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status_map.at("tests/test_x.py::test_a"), "FAILED");
  EXPECT_EQ(r->reward, 0.0);
}

// The scaffold's defect: SWE-smith grading there matched names by
// substring, so `test_a` passed when `test_ab` did.
TEST(SweSmithGradingTest, SubstringLookalikeNamesDoNotMatch) {
  Task task = MakeTask({"tests/test_x.py::test_a"}, {"tests/test_x.py::test_b[1]"});
  auto grader = MakeSweSmithGrader();

  auto only_lookalike = grader->grade_log(task, PytestLog("tests/test_x.py::test_ab PASSED\n"
                                                          "tests/test_x.py::test_a_slow PASSED\n"
                                                          "tests/test_x.py::test_b[10] PASSED\n"
                                                          "tests/test_x.py::test_b PASSED\n"
                                                          "tests/test_x.py::test_b[1]x PASSED\n"
                                                          "x/tests/test_x.py::test_a PASSED\n"));
  ASSERT_TRUE(only_lookalike.ok()) << only_lookalike.status().ToString();
  EXPECT_EQ(only_lookalike->reward, 0.0);
  EXPECT_EQ(Group(*only_lookalike, task, "FAIL_TO_PASS", "failure"), task.fail_to_pass);
  EXPECT_EQ(Group(*only_lookalike, task, "PASS_TO_PASS", "failure"), task.pass_to_pass);

  auto lookalike_passes = grader->grade_log(task, PytestLog("tests/test_x.py::test_a FAILED\n"
                                                            "tests/test_x.py::test_ab PASSED\n"
                                                            "tests/test_x.py::test_b[1] PASSED\n"));
  ASSERT_TRUE(lookalike_passes.ok());
  EXPECT_EQ(lookalike_passes->reward, 0.0);

  // Names are case-sensitive.
  auto upper = grader->grade_log(task, PytestLog("tests/test_x.py::TEST_A PASSED\n"
                                                 "tests/test_x.py::test_b[1] PASSED\n"));
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(upper->reward, 0.0);
}

TEST(SweSmithGradingTest, MissingTestIsAFailureNotAPass) {
  // The older SWE-smith rule counted a missing test as passed and would
  // resolve this; explicit passes do not.
  auto r = MakeSweSmithGrader()->grade_log(kXTask,
                                           PytestLog("tests/test_x.py::test_c PASSED\n"
                                                     "tests/test_x.py::TestK::test_b[1] PASSED\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_EQ(Group(*r, kXTask, "FAIL_TO_PASS", "failure"), Names{"tests/test_x.py::test_a"});
  EXPECT_EQ(Group(*r, kXTask, "FAIL_TO_PASS", "success"),
            Names{"tests/test_x.py::TestK::test_b[1]"});
}

TEST(SweSmithGradingTest, StatusesFollowTheClassicRule) {
  auto grader = MakeSweSmithGrader();
  // XFAIL counts as a pass.
  auto xfail = grader->grade_log(kXTask, PytestLog("tests/test_x.py::test_a XFAIL\n"
                                                   "tests/test_x.py::TestK::test_b[1] PASSED\n"
                                                   "tests/test_x.py::test_c XFAIL\n"));
  ASSERT_TRUE(xfail.ok());
  EXPECT_EQ(xfail->reward, 1.0);
  // ERROR is a failure.
  auto error = grader->grade_log(kXTask, PytestLog("tests/test_x.py::test_a PASSED\n"
                                                   "tests/test_x.py::TestK::test_b[1] PASSED\n"
                                                   "tests/test_x.py::test_c ERROR\n"));
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(error->reward, 0.0);
  EXPECT_EQ(Group(*error, kXTask, "PASS_TO_PASS", "failure"), Names{"tests/test_x.py::test_c"});
  // SKIPPED is neither: it leaves the group's score to the other tests.
  auto skipped = grader->grade_log(kXTask, PytestLog("tests/test_x.py::test_a SKIPPED\n"
                                                     "tests/test_x.py::TestK::test_b[1] PASSED\n"
                                                     "tests/test_x.py::test_c PASSED\n"));
  ASSERT_TRUE(skipped.ok());
  EXPECT_TRUE(Group(*skipped, kXTask, "FAIL_TO_PASS", "failure").empty());
  EXPECT_EQ(Group(*skipped, kXTask, "FAIL_TO_PASS", "success"),
            Names{"tests/test_x.py::TestK::test_b[1]"});
  EXPECT_EQ(skipped->reward, 1.0);
  // PARTIAL (some FAIL_TO_PASS pass) is not resolved.
  auto partial = grader->grade_log(kXTask, PytestLog("tests/test_x.py::test_a FAILED\n"
                                                     "tests/test_x.py::TestK::test_b[1] PASSED\n"
                                                     "tests/test_x.py::test_c PASSED\n"));
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->resolved);
  EXPECT_EQ(partial->reward, 0.0);
  EXPECT_EQ(Report(*partial, kXTask)["resolved"], false);
  // A later line for the same test wins.
  auto rerun = grader->grade_log(kXTask, PytestLog("tests/test_x.py::test_a FAILED\n"
                                                   "tests/test_x.py::TestK::test_b[1] PASSED\n"
                                                   "tests/test_x.py::test_c PASSED\n"
                                                   "tests/test_x.py::test_a PASSED\n"));
  ASSERT_TRUE(rerun.ok());
  EXPECT_EQ(rerun->reward, 1.0);
}

TEST(SweSmithGradingTest, UntouchedRepositoryIsZero) {
  auto r =
      MakeSweSmithGrader()->grade_log(kXTask, PytestLog("tests/test_x.py::test_a FAILED\n"
                                                        "tests/test_x.py::TestK::test_b[1] FAILED\n"
                                                        "tests/test_x.py::test_c PASSED\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_EQ(Group(*r, kXTask, "FAIL_TO_PASS", "failure"), kXTask.fail_to_pass);
}

// The default command runs only the FAIL_TO_PASS files, so (as SWE-smith's
// harness does) the lists are cut to tests in those files: a PASS_TO_PASS
// test elsewhere was not run and is neither a success nor a failure.
TEST(SweSmithGradingTest, TestsOutsideTheRunFilesAreLeftOut) {
  Task task = MakeTask(
      {"tests/test_x.py::test_a"},
      {"tests/test_x.py::test_c", "tests/test_other.py::test_z", "tests/test_x.pyc::test_q"});
  auto r = MakeSweSmithGrader()->grade_log(task, PytestLog("tests/test_x.py::test_a PASSED\n"
                                                           "tests/test_x.py::test_c PASSED\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reward, 1.0);
  EXPECT_EQ(Group(*r, task, "PASS_TO_PASS", "success"), Names{"tests/test_x.py::test_c"});
  EXPECT_TRUE(Group(*r, task, "PASS_TO_PASS", "failure").empty());

  // With a row `test_cmd` the command is the row's: nothing is left out.
  task.row["test_cmd"] = "pytest -v tests";
  auto whole = MakeSweSmithGrader()->grade_log(task, PytestLog("tests/test_x.py::test_a PASSED\n"
                                                               "tests/test_x.py::test_c PASSED\n"));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->reward, 0.0);
  EXPECT_EQ(Group(*whole, task, "PASS_TO_PASS", "failure"),
            (Names{"tests/test_other.py::test_z", "tests/test_x.pyc::test_q"}));
}

TEST(SweSmithGradingTest, GoLogIsReadWithTheGoParser) {
  const fs::path path =
      kSwesmithLogs / "test_output" / "gin-gonic__gin.3c12d2a8.lm_rewrite__4pb48n1g.txt";
  if (!fs::exists(path)) GTEST_SKIP() << "no golden data at " << path;
  const std::string log = ReadFile(path);
  auto grader = MakeSweSmithGrader();

  Task failing = MakeTask({"TestRouteStaticNoListing"}, {"TestBasicAuth"});
  auto r = grader->grade_log(failing, log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status_map.at("TestBasicAuth"), "PASSED");
  EXPECT_EQ(r->status_map.at("TestRouteStaticNoListing"), "FAILED");
  EXPECT_EQ(r->reward, 0.0);
  // Go names carry no file: nothing is left out of the lists.
  EXPECT_EQ(Group(*r, failing, "PASS_TO_PASS", "success"), Names{"TestBasicAuth"});

  Task passing = MakeTask({"TestBasicAuthFails"}, {"TestBasicAuth"});
  auto ok = grader->grade_log(passing, log);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->reward, 1.0);
}

TEST(SweSmithGradingTest, RowLogParserOverridesTheProfile) {
  Task task = kXTask;
  task.log_parser = "parse_log_gotest";
  auto r = MakeSweSmithGrader()->grade_log(task, PytestLog(kAllPass));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 0.0);  // the Go parser reads nothing from a pytest log

  task.log_parser = "parse_log_no_such_parser";
  auto unknown = MakeSweSmithGrader()->grade_log(task, PytestLog(kAllPass));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST(SweSmithGradingTest, EmptyFailToPassIsInvalidNotAFreeReward) {
  // The rule scores an empty group as 1: such a row would reward an
  // untouched repository.
  Task task = MakeTask({}, {"tests/test_x.py::test_c"});
  auto r = MakeSweSmithGrader()->grade_log(task, PytestLog("tests/test_x.py::test_c PASSED"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(SweSmithGradingTest, MakeGraderPicksIt) {
  auto g = MakeGrader(TaskKind::kSweSmith);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ((*g)->name(), "swesmith");
}

}  // namespace
}  // namespace r2e
