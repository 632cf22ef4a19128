// The SWE-smith grader: grade_log against SWE-smith's own golden logs and
// reports, the slicing and grading rules on logs written here, grade()'s
// sandbox choreography against a scripted runtime double, and grade() end to
// end on a small git repository in a LocalRuntime sandbox.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "r2e/grader.h"
#include "r2e/local_runtime.h"
#include "r2e/task.h"
#include "scripted_runtime.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Names = std::vector<std::string>;

const fs::path kFixtures = fs::path(R2E_SHARED_DIR) / "fixtures" / "swesmith";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

nlohmann::json ReadJson(const fs::path& path) {
  return nlohmann::json::parse(ReadFile(path), nullptr, /*allow_exceptions=*/false);
}

Names Strings(const nlohmann::json& j) {
  Names out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Task MakeTask(Names f2p, Names p2p, std::string id = "owner__repo.abc12345.pr_1") {
  Task task;
  task.instance_id = std::move(id);
  task.kind = TaskKind::kSweSmith;
  task.base_commit = "0123456789abcdef0123456789abcdef01234567";
  task.fail_to_pass = std::move(f2p);
  task.pass_to_pass = std::move(p2p);
  task.row = nlohmann::json::object();
  return task;
}

const nlohmann::json& Report(const GradeResult& r, const Task& task) {
  return r.report.at(task.instance_id);
}

Names Group(const GradeResult& r, const Task& task, const char* group, const char* list) {
  return Strings(Report(r, task)["tests_status"][group][list]);
}

// A log as our run script produces it (xtrace lines, markers, pytest -v).
std::string PytestLog(std::string_view body, std::string_view files = "tests/test_x.py") {
  std::string log =
      "+ cd /testbed\n"
      "+ : '>>>>> Start Test Output'\n"
      "+ pytest --disable-warnings --color=no --tb=no --verbose ";
  log += files;
  log +=
      "\n============================= test session starts ==============================\n"
      "collecting ... collected some items\n\n";
  log += body;
  log += "\n============================== done ==============================\n";
  log += "+ : '>>>>> End Test Output'\n";
  return log;
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
  const fs::path dir = kFixtures / "run_evaluation";
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
  const fs::path dir = kFixtures / "run_evaluation" / "pandas-dev__pandas.95280573.pr_53856";
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
  const fs::path path = kFixtures / "pandas-dev__pandas.95280573.pr_53652.json";
  nlohmann::json row = ReadJson(path);
  if (!row.is_object()) return Status::NotFound("cannot read " + path.string());
  return ParseTask(row);
}

TEST(SweSmithGradingTest, PandasTaskInstanceParsesAndGradesItsLogs) {
  if (!fs::exists(kFixtures / "pandas-dev__pandas.95280573.pr_53652.json")) {
    GTEST_SKIP() << "no golden data under " << kFixtures;
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
      *task, ReadFile(kFixtures / "run_evaluation" / task->instance_id / "test_output.txt"));
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->reward, 1.0) << fixed->report.dump(2);
  EXPECT_EQ(Group(*fixed, *task, "FAIL_TO_PASS", "success"), task->fail_to_pass);
  EXPECT_EQ(Group(*fixed, *task, "PASS_TO_PASS", "success"), task->pass_to_pass);

  // Validation: the log with the bug in place is the untouched repository an
  // agent starts from: both FAIL_TO_PASS tests fail, reward 0.
  auto untouched =
      grader->grade_log(*task, ReadFile(kFixtures / "run_validation" / "test_output.txt"));
  ASSERT_TRUE(untouched.ok()) << untouched.status().ToString();
  EXPECT_EQ(untouched->reward, 0.0);
  EXPECT_FALSE(untouched->resolved);
  EXPECT_EQ(Group(*untouched, *task, "FAIL_TO_PASS", "failure"), task->fail_to_pass);
  EXPECT_EQ(Group(*untouched, *task, "PASS_TO_PASS", "success"), task->pass_to_pass);
  EXPECT_EQ(Report(*untouched, *task)["patch_successfully_applied"], true);

  // The log before the bug was introduced passes everything.
  auto clean =
      grader->grade_log(*task, ReadFile(kFixtures / "run_validation" / "test_output_pre_gold.txt"));
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  EXPECT_EQ(clean->reward, 1.0);
}

// ---------------------------------------------------------------------------
// Rules on logs written here.

const Task kXTask = MakeTask({"tests/test_x.py::test_a", "tests/test_x.py::TestK::test_b[1]"},
                             {"tests/test_x.py::test_c"});
constexpr std::string_view kAllPass =
    "tests/test_x.py::test_a PASSED                                          [ 33%]\n"
    "tests/test_x.py::TestK::test_b[1] PASSED                                [ 66%]\n"
    "tests/test_x.py::test_c PASSED                                          [100%]";

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
      kFixtures / "test_output" / "gin-gonic__gin.3c12d2a8.lm_rewrite__4pb48n1g.txt";
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

// ---------------------------------------------------------------------------
// grade() against a scripted runtime.

ExecResult Exited(int code, std::string output = "") {
  ExecResult r;
  r.exit_code = code;
  r.output = std::move(output);
  return r;
}

using test_util::ScriptedRuntime;

constexpr std::string_view kRunNeedle = "bash /root/r2e_swesmith_eval.sh";
constexpr std::string_view kProbeNeedle = "test -f /testbed/go.mod";
constexpr std::string_view kRestoreNeedle = "restore()";
constexpr char kScript[] = "/root/r2e_swesmith_eval.sh";

Task ScriptedTask() {
  return MakeTask(
      {"tests/test_x.py::test_a", "tests/b_test.py::test_q", "tests/test_x.py::TestK::test_b[1]"},
      {"tests/test_x.py::test_c", "../outside.py::test_z", "/etc/passwd::test_y"});
}

TEST(SweSmithGraderScriptedTest, RestoresThenWritesAndRunsTheScript) {
  ScriptedRuntime rt;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    if (cmd.find(kProbeNeedle) != std::string_view::npos) return Exited(1);  // not Go
    if (cmd.find(kRunNeedle) != std::string_view::npos) {
      return Exited(0, PytestLog("tests/test_x.py::test_a PASSED\n"
                                 "tests/b_test.py::test_q PASSED\n"
                                 "tests/test_x.py::TestK::test_b[1] PASSED\n"
                                 "tests/test_x.py::test_c PASSED\n"));
    }
    return Exited(0);
  };
  Task task = ScriptedTask();
  auto r = MakeSweSmithGrader()->grade(rt, task, GradeOptions{.timeout = 42s});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 1.0) << r->report.dump(2);

  const int probe = rt.IndexOf(kProbeNeedle);
  const int restore = rt.IndexOf(kRestoreNeedle);
  const int run = rt.IndexOf(kRunNeedle);
  ASSERT_GE(probe, 0);
  EXPECT_LT(probe, restore);
  EXPECT_LT(restore, run);
  EXPECT_EQ(rt.options[static_cast<std::size_t>(run)].timeout, 42s);

  // The restore covers the unique file parts of both lists, and only safe
  // relative paths.
  const std::string& rs = rt.commands[static_cast<std::size_t>(restore)];
  EXPECT_NE(rs.find("base='0123456789abcdef0123456789abcdef01234567'"), std::string::npos) << rs;
  EXPECT_NE(rs.find("restore 'tests/b_test.py'"), std::string::npos) << rs;
  EXPECT_NE(rs.find("restore 'tests/test_x.py'"), std::string::npos) << rs;
  EXPECT_EQ(rs.find("restore 'tests/test_x.py'", rs.find("restore 'tests/test_x.py'") + 1),
            std::string::npos);
  EXPECT_EQ(rs.find("outside.py"), std::string::npos) << rs;
  EXPECT_EQ(rs.find("/etc/passwd"), std::string::npos) << rs;
  EXPECT_NE(rs.find("git checkout -q \"$base\" -- \"$1\""), std::string::npos) << rs;
  EXPECT_NE(rs.find("rm -rf -- \"$1\""), std::string::npos) << rs;

  // The run script: xtrace, the env, the markers around the command with
  // the sorted unique FAIL_TO_PASS files.
  ASSERT_TRUE(rt.files.contains(kScript));
  EXPECT_EQ(rt.modes[kScript], 0755);
  const std::string& script = rt.files[kScript];
  EXPECT_TRUE(script.starts_with("#!/bin/bash\nset -uxo pipefail\n")) << script;
  EXPECT_NE(script.find("if [ -f /opt/miniconda3/bin/activate ]; then\n"
                        "  source /opt/miniconda3/bin/activate\n"
                        "  conda activate testbed\n"
                        "elif [ -f /opt/miniconda3/envs/testbed/bin/activate ]; then\n"
                        "  source /opt/miniconda3/envs/testbed/bin/activate\n"
                        "fi\n"),
            std::string::npos)
      << script;
  EXPECT_NE(script.find("cd /testbed\n"
                        ": '>>>>> Start Test Output'\n"
                        "pytest --disable-warnings --color=no --tb=no --verbose "
                        "'tests/b_test.py' 'tests/test_x.py'\n"
                        ": '>>>>> End Test Output'\n"),
            std::string::npos)
      << script;
}

TEST(SweSmithGraderScriptedTest, GoRepositoryRunsGoTestAndRestoresTestFiles) {
  ScriptedRuntime rt;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    if (cmd.find(kRunNeedle) != std::string_view::npos) {
      return Exited(0,
                    "+ : '>>>>> Start Test Output'\n+ go test -v -count=1 ./...\n"
                    "=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n"
                    "--- PASS: TestB (0.00s)\nPASS\nok  \texample.com/m\t0.01s\n"
                    "+ : '>>>>> End Test Output'\n");
    }
    return Exited(0);  // go.mod exists
  };
  Task task = MakeTask({"TestA"}, {"TestB"});
  auto r = MakeSweSmithGrader()->grade(rt, task, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 1.0) << r->report.dump(2);
  EXPECT_NE(rt.files[kScript].find("\ngo test -v -count=1 ./...\n"), std::string::npos);
  const std::string& rs = rt.commands[static_cast<std::size_t>(rt.IndexOf(kRestoreNeedle))];
  EXPECT_NE(rs.find("'*_test.go'"), std::string::npos) << rs;
  EXPECT_EQ(rs.find("restore 'Test"), std::string::npos) << rs;  // names are not paths
}

TEST(SweSmithGraderScriptedTest, RowTestCmdOverridesTheCommand) {
  ScriptedRuntime rt;
  Task task = ScriptedTask();
  task.row["test_cmd"] = "python -m pytest -rA -v tests/";
  auto r = MakeSweSmithGrader()->grade(rt, task, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(rt.IndexOf(kProbeNeedle), -1);  // no need to look for go.mod
  EXPECT_NE(rt.files[kScript].find("\npython -m pytest -rA -v tests/\n"), std::string::npos);
  EXPECT_EQ(r->reward, 0.0);  // empty output: not found
}

TEST(SweSmithGraderScriptedTest, TimeoutReportsOnlyTheTimeout) {
  ScriptedRuntime rt;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    if (cmd.find(kRunNeedle) != std::string_view::npos) {
      // Even a complete-looking log does not count once the run timed out.
      ExecResult e = Exited(137, PytestLog(kAllPass));
      e.timed_out = true;
      return e;
    }
    return Exited(cmd.find(kProbeNeedle) != std::string_view::npos ? 1 : 0);
  };
  auto r = MakeSweSmithGrader()->grade(rt, kXTask, GradeOptions{.timeout = 5s});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_FALSE(r->resolved);
  nlohmann::json report = r->report;
  report[kXTask.instance_id].erase("warnings");  // no profile for this repository
  EXPECT_EQ(report,
            (nlohmann::json{{kXTask.instance_id, {{"timed_out", true}, {"timeout", 5}}}}));
  EXPECT_TRUE(r->log.ends_with("\n\n>>>>> Tests Timed Out: 5 seconds exceeded")) << r->log;
  // The saved log grades the same way.
  auto again = MakeSweSmithGrader()->grade_log(kXTask, r->log);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->reward, 0.0);
}

TEST(SweSmithGraderScriptedTest, FailedRestoreIsAnErrorAndRunsNothing) {
  ScriptedRuntime rt;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    if (cmd.find(kRestoreNeedle) != std::string_view::npos) {
      return Exited(4, "base_commit 0123 is not in /testbed's repository\n");
    }
    return Exited(1);
  };
  auto r = MakeSweSmithGrader()->grade(rt, kXTask, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("base_commit"), std::string::npos);
  EXPECT_EQ(rt.IndexOf(kRunNeedle), -1);
}

TEST(SweSmithGraderScriptedTest, RuntimeErrorIsAnError) {
  ScriptedRuntime rt;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    if (cmd.find(kRunNeedle) != std::string_view::npos) {
      return Status::Unavailable("sandbox connection lost");
    }
    return Exited(cmd.find(kProbeNeedle) != std::string_view::npos ? 1 : 0);
  };
  auto r = MakeSweSmithGrader()->grade(rt, kXTask, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find(kXTask.instance_id), std::string::npos);
}

TEST(SweSmithGraderScriptedTest, TruncatedOutputIsReadFromTheLogFile) {
  ScriptedRuntime rt;
  rt.files["/tmp/r2e_swesmith_"] = PytestLog(kAllPass);
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    if (cmd.find(kRunNeedle) != std::string_view::npos) {
      ExecResult e = Exited(0, "+ : '>>>>> Start Test Output'\n[... 200000 bytes left out ...]\n");
      e.truncated_bytes = 200000;
      return e;
    }
    return Exited(cmd.find(kProbeNeedle) != std::string_view::npos ? 1 : 0);
  };
  auto r = MakeSweSmithGrader()->grade(rt, kXTask, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 1.0);
  EXPECT_EQ(r->log, PytestLog(kAllPass));
}

TEST(SweSmithGraderScriptedTest, MissingBaseCommitIsInvalid) {
  ScriptedRuntime rt;
  Task task = kXTask;
  task.base_commit.clear();
  auto r = MakeSweSmithGrader()->grade(rt, task, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(rt.commands.empty());
}

// ---------------------------------------------------------------------------
// grade() end to end: a small git repository in a bubblewrap sandbox.

constexpr char kModule[] =
    "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a + b  # bug\n";
constexpr char kFixedModule[] =
    "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n";
constexpr char kTests[] =
    "from calc import add, sub\n\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_sub():\n    assert sub(5, 3) == 2\n\n\n"
    "class TestMore:\n    def test_sub_negative(self):\n        assert sub(1, 3) == -2\n";

class SweSmithGraderLocalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
    if (std::system("command -v git >/dev/null 2>&1 && command -v pytest >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "git or pytest missing";
    }
    std::string dir = (fs::temp_directory_path() / "r2e_swesmith_repo_XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    repo_ = dir;
    fs::create_directories(repo_ / "tests");
    std::ofstream(repo_ / "calc.py") << kModule;
    std::ofstream(repo_ / "conftest.py") << "";
    std::ofstream(repo_ / "tests" / "test_calc.py") << kTests;
    const std::string git = "cd '" + repo_.string() +
                            "' && git init -q && git add -A && git -c user.name=t"
                            " -c user.email=t@t commit -q -m base";
    ASSERT_EQ(std::system(git.c_str()), 0);

    task_ = MakeTask(
        {"tests/test_calc.py::test_sub", "tests/test_calc.py::TestMore::test_sub_negative"},
        {"tests/test_calc.py::test_add"}, "local__calc.00000000.1");
    LocalRuntimeOptions o;
    o.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
    rt_ = std::make_unique<LocalRuntime>(o);
    SandboxSpec spec;
    spec.task_id = task_.instance_id;
    spec.copy_in = {{repo_, "/testbed"}};
    Status started = rt_->start(spec);
    ASSERT_TRUE(started.ok()) << started.ToString();
    ExecResult head = Run("git rev-parse HEAD");
    ASSERT_EQ(head.exit_code, 0) << head.output;
    task_.base_commit = head.output.substr(0, 40);
  }

  void TearDown() override {
    if (rt_) (void)rt_->stop();
    if (!repo_.empty()) fs::remove_all(repo_);
  }

  ExecResult Run(std::string_view cmd) {
    ExecOptions o;
    o.timeout = 60s;
    auto r = rt_->exec(cmd, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ExecResult{};
  }

  Result<GradeResult> Grade() { return MakeSweSmithGrader()->grade(*rt_, task_, {}); }

  fs::path repo_;
  Task task_;
  std::unique_ptr<LocalRuntime> rt_;
};

TEST_F(SweSmithGraderLocalTest, UntouchedIsZeroAndFixIsOne) {
  auto before = Grade();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->reward, 0.0) << before->log;
  EXPECT_EQ(before->status_map.size(), 3u) << before->log;
  EXPECT_EQ(Group(*before, task_, "FAIL_TO_PASS", "failure"), task_.fail_to_pass);
  EXPECT_EQ(Group(*before, task_, "PASS_TO_PASS", "success"), task_.pass_to_pass);

  ASSERT_TRUE(rt_->write_file("/testbed/calc.py", kFixedModule).ok());
  auto after = Grade();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->reward, 1.0) << after->log;
  EXPECT_GT(after->duration.count(), 0);
}

TEST_F(SweSmithGraderLocalTest, EditedTestsAreRestoredBeforeTheRun) {
  // The agent rewrites the failing tests instead of fixing the code, and
  // commits, so that HEAD no longer has the original tests.
  ASSERT_TRUE(rt_->write_file("/testbed/tests/test_calc.py",
                              "def test_add():\n    pass\n\n\ndef test_sub():\n    pass\n\n\n"
                              "class TestMore:\n    def test_sub_negative(self):\n        pass\n")
                  .ok());
  ExecResult commit = Run("git add -A && git -c user.name=a -c user.email=a@a commit -qm cheat");
  ASSERT_EQ(commit.exit_code, 0) << commit.output;
  auto r = Grade();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 0.0) << r->log;
  EXPECT_NE(Run("cat tests/test_calc.py").output.find("assert sub(5, 3) == 2"), std::string::npos);
}

TEST_F(SweSmithGraderLocalTest, TestFileAbsentAtBaseIsRemoved) {
  // A named test file that base_commit does not have cannot be supplied by
  // the agent. (The row's command runs the whole folder, so that the other
  // tests still run without the removed file.)
  task_.fail_to_pass.push_back("tests/test_new.py::test_new");
  task_.row["test_cmd"] = "pytest --disable-warnings --color=no --tb=no --verbose tests";
  ASSERT_TRUE(rt_->write_file("/testbed/calc.py", kFixedModule).ok());
  ASSERT_TRUE(rt_->write_file("/testbed/tests/test_new.py", "def test_new():\n    pass\n").ok());
  auto r = Grade();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 0.0) << r->log;
  EXPECT_NE(Run("test -e tests/test_new.py").exit_code, 0);
  EXPECT_EQ(Group(*r, task_, "FAIL_TO_PASS", "failure"), Names{"tests/test_new.py::test_new"});
}

TEST_F(SweSmithGraderLocalTest, TimeoutIsReportedAsSuch) {
  task_.row["test_cmd"] = "sleep 30";
  auto start = std::chrono::steady_clock::now();
  auto r = MakeSweSmithGrader()->grade(*rt_, task_, GradeOptions{.timeout = 1s});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->reward, 0.0);
  nlohmann::json report = Report(*r, task_);
  report.erase("warnings");  // no profile for this repository
  EXPECT_EQ(report, (nlohmann::json{{"timed_out", true}, {"timeout", 1}}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
}

}  // namespace
}  // namespace r2e
