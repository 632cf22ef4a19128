// SWE-smith profiles as data: the built-in table and its lookup, the command
// the grader builds for the special repositories (checked against what
// SWE-smith's get_test_cmd / get_test_command_mypy build for the same row
// shapes), their parsers, and the verdicts on logs of those shapes.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "grading/swesmith_plan.h"
#include "r2e/grader.h"
#include "r2e/log_parsers.h"
#include "r2e/swesmith_profiles.h"
#include "r2e/task.h"
#include "scripted_runtime.h"
#include "test_files.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Names = std::vector<std::string>;
using internal::PlanSweSmithTests;
using internal::SweSmithPlan;

const fs::path kSwesmithFixtures = fs::path(R2E_SHARED_DIR) / "fixtures" / "swesmith";
constexpr std::string_view kPy = "pytest --disable-warnings --color=no --tb=no --verbose";

using test_util::ReadFile;

// A SWE-smith row as the dataset publishes it (repo is the mirror name).
Task Row(std::string id, Names f2p, Names p2p) {
  Task task;
  task.instance_id = std::move(id);
  task.kind = TaskKind::kSweSmith;
  task.repo = "swesmith/" + task.instance_id.substr(0, task.instance_id.rfind('.'));
  task.base_commit = "0123456789abcdef0123456789abcdef01234567";
  task.fail_to_pass = std::move(f2p);
  task.pass_to_pass = std::move(p2p);
  task.row = nlohmann::json::object();
  return task;
}

SweSmithPlan Plan(const Task& task) {
  auto plan = PlanSweSmithTests(task, /*go_repo=*/false);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : SweSmithPlan{};
}

// The log the run script writes: xtrace, markers, the command's output.
std::string Log(std::string_view command, std::string_view body) {
  std::string log = "+ cd /testbed\n+ : '>>>>> Start Test Output'\n+ ";
  log += command;
  log += "\n";
  log += body;
  log += "\n+ : '>>>>> End Test Output'\n";
  return log;
}

Names List(const GradeResult& r, const Task& task, const char* group, const char* list) {
  Names out;
  for (const auto& v : r.report.at(task.instance_id)["tests_status"][group][list]) {
    out.push_back(v.get<std::string>());
  }
  return out;
}

// ---------------------------------------------------------------------------
// The table.

TEST(SweSmithProfilesTest, BuiltInTableHasEveryRepositoryWithKnownParsers) {
  const auto& all = SweSmithProfiles();
  // 134 Python repositories of cf2e649's MAP_REPO_TO_SPECS + 2 of the later
  // profiles, 87 Go repositories of the GoProfile list.
  ASSERT_EQ(all.size(), 223u);
  int python = 0;
  int go = 0;
  for (const auto& p : all) {
    SCOPED_TRACE(p.key);
    (p.language == "python" ? python : go) += 1;
    EXPECT_TRUE(ParseLog(p.log_parser, "").ok());
    EXPECT_FALSE(p.source.empty());
    EXPECT_GT(p.timeout.count(), 0);
    if (p.language == "go") {
      EXPECT_EQ(p.test_cmd, "go test -v ./...");
      EXPECT_EQ(p.log_parser, "parse_log_gotest");
    }
  }
  EXPECT_EQ(python, 136);
  EXPECT_EQ(go, 87);
}

TEST(SweSmithProfilesTest, SpecialRepositoriesCarryTheirQuirks) {
  auto find = [](std::string_view key) -> const SweSmithProfile* {
    for (const auto& p : SweSmithProfiles()) {
      if (p.key == key) return &p;
    }
    return nullptr;
  };
  using Sel = SweSmithProfile::Selection;
  const SweSmithProfile* mypy = find("python__mypy.e93f06ce");
  ASSERT_NE(mypy, nullptr);
  EXPECT_EQ(mypy->test_cmd, "pytest --color=no -rA -k");
  EXPECT_EQ(mypy->selection, Sel::kMypyK);
  EXPECT_EQ(mypy->log_parser, "parse_log_swesmith_mypy");
  const SweSmithProfile* pydantic = find("pydantic__pydantic.acb0f10f");
  ASSERT_NE(pydantic, nullptr);
  EXPECT_EQ(pydantic->test_cmd, "/root/.local/bin/uv run " + std::string(kPy));
  EXPECT_EQ(pydantic->selection, Sel::kSuite);
  const SweSmithProfile* jax = find("jax-ml__jax.ebd90e06");
  ASSERT_NE(jax, nullptr);
  EXPECT_EQ(jax->test_cmd, std::string(kPy) + " -n auto");
  EXPECT_EQ(jax->selection, Sel::kTestFiles);
  const SweSmithProfile* mido = find("mido__mido.a0158ff9");
  ASSERT_NE(mido, nullptr);
  EXPECT_EQ(mido->test_cmd, std::string(kPy) + " -rs -c /dev/null");
  EXPECT_EQ(mido->test_files, SweSmithProfile::TestFiles::kPytestStripDev);
  const SweSmithProfile* nats = find("nats-io__nats-server.2ee2e24c");
  ASSERT_NE(nats, nullptr);
  EXPECT_EQ(nats->timeout, 120s);
}

TEST(SweSmithProfilesTest, ParseRejectsBadRowsAndNamesThem) {
  const std::string good =
      R"({"key": "a__b.0123abcd", "repo": "a/b", "commit": "0123abcdef", "language": "python",
          "test_cmd": "pytest", "log_parser": "parse_log_swesmith_pytest", "selection": "suite",
          "test_files": "pytest", "timeout": 90, "source": "test"})";
  auto ok = ParseSweSmithProfiles(R"({"profiles": [)" + good + "]}");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), 1u);

  auto bad = [&](std::string_view from, std::string_view to, std::string_view why) {
    std::string row = good;
    row.replace(row.find(from), from.size(), to);
    auto r = ParseSweSmithProfiles(R"({"profiles": [)" + row + "]}");
    ASSERT_FALSE(r.ok()) << row;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("a__b"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
  };
  bad(R"("suite")", R"("everything")", "selection");
  bad("parse_log_swesmith_pytest", "parse_log_nope", "log_parser");
  bad(R"("a/b")", R"("a/c")", "should be \"a__c.0123abcd\"");
  bad(R"("timeout": 90)", R"("timeout": 0)", "timeout");
  bad(R"("test_files": "pytest")", R"("test_files": 3)", "test_files");

  auto dup = ParseSweSmithProfiles(R"({"profiles": [)" + good + "," + good + "]}");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate key"), std::string::npos);
  EXPECT_FALSE(ParseSweSmithProfiles("[]").ok());
  EXPECT_FALSE(ParseSweSmithProfiles("{").ok());
}

TEST(SweSmithProfilesTest, LookupByRepoInstanceIdOrImage) {
  Task task;
  task.kind = TaskKind::kSweSmith;
  task.repo = "swesmith/pandas-dev__pandas.95280573";
  ASSERT_NE(FindSweSmithProfile(task), nullptr);
  EXPECT_EQ(FindSweSmithProfile(task)->repo, "pandas-dev/pandas");

  task.repo.clear();
  task.instance_id = "cool-RR__PySnooper.57472b46.combine_file__64znr9hf";
  EXPECT_EQ(SweSmithProfileKey(task), "cool-RR__PySnooper.57472b46");
  ASSERT_NE(FindSweSmithProfile(task), nullptr);

  // The harness's image names are lower-case.
  task.instance_id = "x";
  task.image = "jyangballin/swesmith.x86_64.cool-rr_1776_pysnooper.57472b46:latest";
  EXPECT_EQ(SweSmithProfileKey(task), "cool-rr__pysnooper.57472b46");
  ASSERT_NE(FindSweSmithProfile(task), nullptr);
  EXPECT_EQ(FindSweSmithProfile(task)->repo, "cool-RR/PySnooper");
  // The older rows' image_name.
  task.image = "swesmith.x86_64.pandas-dev__pandas.95280573";
  ASSERT_NE(FindSweSmithProfile(task), nullptr);

  task.image = "r2e-demo/textstats-swesmith:latest";
  EXPECT_EQ(SweSmithProfileKey(task), "");
  EXPECT_EQ(FindSweSmithProfile(task), nullptr);
  task.repo = "swesmith/someone__unknown.0123abcd";
  EXPECT_EQ(SweSmithProfileKey(task), "someone__unknown.0123abcd");
  EXPECT_EQ(FindSweSmithProfile(task), nullptr);
}

// ---------------------------------------------------------------------------
// The harness's commands for real row shapes (RepoProfile.get_test_cmd
// without --f2p_only; get_test_command_mypy).

TEST(SweSmithHarnessCommandTest, MinTestingRunsTheFailToPassThenPassToPassFiles) {
  // The fixture's complete instance row: min_testing, so f2p_files +
  // p2p_files, each sorted and unique, concatenated (the same file twice).
  const fs::path row = kSwesmithFixtures / "pandas-dev__pandas.95280573.pr_53652.json";
  if (!fs::exists(row)) GTEST_SKIP() << "no fixture at " << row;
  auto task = ParseTask(nlohmann::json::parse(ReadFile(row)));
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  const SweSmithPlan plan = Plan(*task);
  ASSERT_NE(plan.profile, nullptr);
  EXPECT_EQ(plan.command, std::string(kPy) +
                              " pandas/tests/indexing/test_datetime.py"
                              " pandas/tests/indexing/test_datetime.py");
  EXPECT_EQ(plan.parser, "parse_log_swesmith_pytest");
  EXPECT_EQ(plan.restore_files, Names{"pandas/tests/indexing/test_datetime.py"});
  EXPECT_EQ(plan.timeout, 90s);
  EXPECT_TRUE(plan.graded_prefixes.empty());
  EXPECT_TRUE(plan.warning.empty());
}

TEST(SweSmithHarnessCommandTest, JaxAppendsItsFilesAfterNAuto) {
  Task task = Row("jax-ml__jax.ebd90e06.func_pm_op_swap__abc",
                  {"tests/lax_test.py::LaxTest::testAdd", "tests/api_test.py::APITest::testJit"},
                  {"tests/api_test.py::APITest::testGrad", "tests/core_test.py::CoreTest::testX"});
  EXPECT_EQ(Plan(task).command, std::string(kPy) +
                                    " -n auto tests/api_test.py tests/lax_test.py"
                                    " tests/api_test.py tests/core_test.py");
}

TEST(SweSmithHarnessCommandTest, SuiteProfilesRunTheirCommandAsIs) {
  Task pydantic = Row("pydantic__pydantic.acb0f10f.pr_8316", {"tests/test_utils.py::test_a"},
                      {"tests/test_main.py::test_b"});
  EXPECT_EQ(Plan(pydantic).command, "/root/.local/bin/uv run " + std::string(kPy));
  EXPECT_EQ(Plan(pydantic).restore_files, (Names{"tests/test_main.py", "tests/test_utils.py"}));

  // pytest -c /dev/null: the node ids start with ../dev/; the files do not.
  Task mido = Row("mido__mido.a0158ff9.combine_file__x", {"../dev/tests/test_ports.py::test_close"},
                  {"../dev/tests/test_frozen.py::test_a"});
  const SweSmithPlan mp = Plan(mido);
  EXPECT_EQ(mp.command, std::string(kPy) + " -rs -c /dev/null");
  EXPECT_EQ(mp.restore_files, (Names{"tests/test_frozen.py", "tests/test_ports.py"}));

  Task tornado = Row("tornadoweb__tornado.d5ac65c1.lm_rewrite__q",
                     {"test_get_argument (tornado.test.web_test.GetArgumentsTest)"},
                     {"test_x (tornado.test.httputil_test.ParseRequestStartLineTest)"});
  const SweSmithPlan tp = Plan(tornado);
  EXPECT_EQ(tp.command, "python -m tornado.test --verbose");
  EXPECT_EQ(tp.parser, "parse_log_swesmith_tornado");
  EXPECT_EQ(tp.restore_files, (Names{"tornado/test/httputil_test.py", "tornado/test/web_test.py"}));

  Task slugify =
      Row("un33k__python-slugify.872b3750.func_basic__z", {"test_x (__main__.TestSlugify)"}, {});
  EXPECT_EQ(Plan(slugify).command, "python test.py --verbose");
  EXPECT_EQ(Plan(slugify).restore_files, Names{"test.py"});
}

TEST(SweSmithHarnessCommandTest, MypyBuildsKFromTheFailToPassCaseNames) {
  Task task = Row("python__mypy.e93f06ce.pr_15271",
                  {"mypy/test/testcheck.py::TypeCheckSuite::check-narrowing.test::testNarrowA",
                   "mypy/test/testcheck.py::TypeCheckSuite::check-classes.test::testClassB"},
                  {"mypy/test/testcheck.py::TypeCheckSuite::check-classes.test::testOther"});
  const SweSmithPlan plan = Plan(task);
  EXPECT_EQ(plan.command, "pytest --color=no -rA -k \"testNarrowA or testClassB\"");
  EXPECT_EQ(plan.parser, "parse_log_swesmith_mypy");
  EXPECT_TRUE(plan.p2p_only_when_seen);
  // One case: still -k "<case>" (the older harness; the newer one drops a
  // lone key and leaves pytest a bare -k).
  task.fail_to_pass = {"mypy/test/testcheck.py::TypeCheckSuite::check-x.test::testOnly"};
  EXPECT_EQ(Plan(task).command, "pytest --color=no -rA -k \"testOnly\"");
  // Characters special in double quotes reach pytest unchanged.
  task.fail_to_pass = {"a.py::t$x\"y"};
  EXPECT_EQ(Plan(task).command, "pytest --color=no -rA -k \"t\\$x\\\"y\"");
}

TEST(SweSmithHarnessCommandTest, GoProfilesRunGoTestWithoutCount) {
  Task task = Row("gin-gonic__gin.3c12d2a8.lm_rewrite__4pb48n1g", {"TestRouteStaticNoListing"},
                  {"TestBasicAuth"});
  const SweSmithPlan plan = Plan(task);
  EXPECT_EQ(plan.command, "go test -v ./...");
  EXPECT_TRUE(plan.go);
  EXPECT_EQ(plan.parser, "parse_log_swesmith_gotest");
  EXPECT_TRUE(plan.restore_files.empty());
  EXPECT_FALSE(internal::SweSmithNeedsGoProbe(task));
}

TEST(SweSmithHarnessCommandTest, UnknownRepositoryKeepsTheDefaultWithAWarning) {
  Task task = Row("someone__unknown.0123abcd.func_x", {"tests/test_b.py::t", "tests/test_a.py::u"},
                  {"tests/test_c.py::v"});
  EXPECT_TRUE(internal::SweSmithNeedsGoProbe(task));
  const SweSmithPlan plan = Plan(task);
  EXPECT_EQ(plan.profile, nullptr);
  EXPECT_EQ(plan.command, std::string(kPy) + " 'tests/test_a.py' 'tests/test_b.py'");
  EXPECT_EQ(plan.graded_prefixes, (Names{"tests/test_a.py", "tests/test_b.py"}));
  EXPECT_EQ(plan.timeout, 0s);
  EXPECT_NE(plan.warning.find("no SWE-smith profile for someone__unknown.0123abcd"),
            std::string::npos)
      << plan.warning;
  EXPECT_NE(plan.warning.find("swesmith_profiles.json"), std::string::npos);
  auto go = PlanSweSmithTests(task, /*go_repo=*/true);
  ASSERT_TRUE(go.ok());
  EXPECT_EQ(go->command, "go test -v -count=1 ./...");
  EXPECT_FALSE(go->warning.empty());
}

// ---------------------------------------------------------------------------
// The parsers of the special profiles, on lines of their tools' output.

TEST(SweSmithParsersTest, MypyTakesTheLastTokenOfAnyLineWithAStatus) {
  auto m = ParseLog("parse_log_swesmith_mypy",
                    "mypy/test/testcheck.py::TypeCheckSuite::check-x.test::testA PASSED [ 50%]\n"
                    "PASSED mypy/test/testcheck.py::TypeCheckSuite::check-x.test::testA\n"
                    "FAILED mypy/test/testcheck.py::TypeCheckSuite::check-x.test::testB - boom\n"
                    "PASSED and FAILED mypy/t.py::c\n"
                    "nothing here\n");
  ASSERT_TRUE(m.ok());
  // The progress line's last token is its percentage (a quirk kept).
  EXPECT_EQ(*m,
            (StatusMap{{"50%]", "PASSED"},
                       {"mypy/test/testcheck.py::TypeCheckSuite::check-x.test::testA", "PASSED"},
                       {"boom", "FAILED"},
                       {"mypy/t.py::c", "PASSED"}}));
}

TEST(SweSmithParsersTest, TornadoReadsUnittestVerboseLines) {
  auto m = ParseLog("parse_log_swesmith_tornado",
                    "test_a (tornado.test.web_test.T) ... ok\n"
                    "test_b (tornado.test.web_test.T) ... skipped 'no ipv6'\n"
                    "test_c (tornado.test.web_test.T) ... FAIL\n"
                    "FAIL: test_c (tornado.test.web_test.T)\n"
                    "ERROR: test_d (tornado.test.web_test.T)\n"
                    "test_e ... ok\r\n");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (StatusMap{{"test_a (tornado.test.web_test.T)", "PASSED"},
                           {"test_b (tornado.test.web_test.T)", "SKIPPED"},
                           {"test_c (tornado.test.web_test.T)", "FAILED"},
                           {"test_d (tornado.test.web_test.T)", "FAILED"}}));
}

TEST(SweSmithParsersTest, ParamikoAndAutogradReadStatusFirstLines) {
  auto p = ParseLog("parse_log_swesmith_paramiko",
                    "PASSED tests/test_client.py::test_a\nFAILED tests/test_x.py::test_b - E\n"
                    "PASSED\n tests/x PASSED\nERROR tests/test_y.py\n");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (StatusMap{{"tests/test_client.py::test_a", "PASSED"},
                           {"tests/test_x.py::test_b", "FAILED"},
                           {"tests/test_y.py", "ERROR"}}));
  auto a = ParseLog("parse_log_swesmith_autograd",
                    "[gw0] PASSED tests/test_a.py::test_x\n[gw12] PASSED tests/test_a.py::test_y\n"
                    "[gw3] FAILED tests/test_b.py::test_z\n[gw1] [ 50%] PASSED tests/t.py::w\n");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (StatusMap{{"tests/test_a.py::test_x", "PASSED"},
                           {"tests/test_b.py::test_z", "FAILED"}}));
}

TEST(SweSmithParsersTest, SlugifyAcceptsOnlyItsNameCharacters) {
  auto m = ParseLog("parse_log_swesmith_slugify",
                    "test_accented_text (__main__.TestSlugify) ... ok\n"
                    "test_b (__main__.TestSlugify) ... FAIL\n"
                    "test_c (__main__.TestSlugify) ... ERROR\n"
                    "test_d [x] (__main__.T) ... ok\n"
                    "test_e (__main__.T)  ... ok\n"
                    "test_f (__main__.T) ...  ok\n");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (StatusMap{{"test_accented_text (__main__.TestSlugify)", "PASSED"},
                           {"test_b (__main__.TestSlugify)", "FAILED"},
                           {"test_c (__main__.TestSlugify)", "ERROR"},
                           {"test_e (__main__.T) ", "PASSED"}}));
}

// ---------------------------------------------------------------------------
// Verdicts on logs of each special repository's shape.

TEST(SweSmithProfileGradingTest, MypyGradesTheSelectedCasesAndTheP2PThatRan) {
  Task task = Row("python__mypy.e93f06ce.pr_15271",
                  {"mypy/test/testcheck.py::TypeCheckSuite::check-x.test::testA"},
                  {"mypy/test/testcheck.py::TypeCheckSuite::check-x.test::testAOther",
                   "mypy/test/testcheck.py::TypeCheckSuite::check-y.test::testNotRun"});
  const std::string cmd = "pytest --color=no -rA -k testA";
  // -k testA also ran testAOther (a substring match); testNotRun did not run.
  auto pass = MakeSweSmithGrader()->grade_log(
      task, Log(cmd,
                "PASSED mypy/test/testcheck.py::TypeCheckSuite::check-x.test::testA\n"
                "PASSED mypy/test/testcheck.py::TypeCheckSuite::check-x.test::testAOther\n"));
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_TRUE(pass->resolved) << pass->report.dump(2);
  EXPECT_EQ(List(*pass, task, "PASS_TO_PASS", "success"), Names{task.pass_to_pass[0]});
  EXPECT_TRUE(pass->warnings.empty());

  auto broke = MakeSweSmithGrader()->grade_log(
      task, Log(cmd,
                "PASSED mypy/test/testcheck.py::TypeCheckSuite::check-x.test::testA\n"
                "FAILED mypy/test/testcheck.py::TypeCheckSuite::check-x.test::testAOther\n"));
  ASSERT_TRUE(broke.ok());
  EXPECT_FALSE(broke->resolved);
  auto f2p_missing = MakeSweSmithGrader()->grade_log(task, Log(cmd, "no tests ran\n"));
  ASSERT_TRUE(f2p_missing.ok());
  EXPECT_FALSE(f2p_missing->resolved);  // explicit passes: a missing F2P fails
}

TEST(SweSmithProfileGradingTest, MidoNodeIdsKeepTheirDevPrefix) {
  Task task = Row("mido__mido.a0158ff9.combine_file__x", {"../dev/tests/test_ports.py::test_close"},
                  {"../dev/tests/test_frozen.py::test_a"});
  const std::string cmd = std::string(kPy) + " -rs -c /dev/null";
  auto r = MakeSweSmithGrader()->grade_log(
      task, Log(cmd,
                "../dev/tests/test_frozen.py::test_a PASSED                     [ 50%]\n"
                "../dev/tests/test_ports.py::test_close PASSED                  [100%]\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->resolved) << r->report.dump(2);
}

TEST(SweSmithProfileGradingTest, NAutoWorkerLinesAreNotReadBySweSmithsParser) {
  // pytest-xdist's verbose lines start with the worker ("[gw0] [ 50%] PASSED
  // name"), which SWE-smith's default parser (^(\S+)\s+STATUS) does not read:
  // its verdict on such a log is "not resolved", and so is ours.
  Task task =
      Row("jax-ml__jax.ebd90e06.func_pm_op_swap__abc", {"tests/lax_test.py::LaxTest::testAdd"}, {});
  const std::string cmd = std::string(kPy) + " -n auto tests/lax_test.py";
  auto xdist = MakeSweSmithGrader()->grade_log(
      task, Log(cmd, "[gw0] [100%] PASSED tests/lax_test.py::LaxTest::testAdd\n"));
  ASSERT_TRUE(xdist.ok());
  EXPECT_TRUE(xdist->status_map.empty());
  EXPECT_FALSE(xdist->resolved);
  auto plain = MakeSweSmithGrader()->grade_log(
      task, Log(cmd, "tests/lax_test.py::LaxTest::testAdd PASSED\n"));
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->resolved);
}

TEST(SweSmithProfileGradingTest, SuiteRunGradesPassToPassInEveryFile) {
  // The profile runs the whole suite, so a PASS_TO_PASS test in a file with
  // no FAIL_TO_PASS test is graded (the default command would not run it).
  Task task = Row("pydantic__pydantic.acb0f10f.pr_8316", {"tests/test_utils.py::test_a"},
                  {"tests/test_main.py::test_b"});
  const std::string cmd = "/root/.local/bin/uv run " + std::string(kPy);
  auto broke = MakeSweSmithGrader()->grade_log(
      task, Log(cmd, "tests/test_main.py::test_b FAILED\ntests/test_utils.py::test_a PASSED\n"));
  ASSERT_TRUE(broke.ok());
  EXPECT_FALSE(broke->resolved);
  EXPECT_EQ(List(*broke, task, "PASS_TO_PASS", "failure"), Names{"tests/test_main.py::test_b"});
  auto ok = MakeSweSmithGrader()->grade_log(
      task, Log(cmd, "tests/test_main.py::test_b PASSED\ntests/test_utils.py::test_a PASSED\n"));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->resolved);

  // A log of a run over the FAIL_TO_PASS file only (the older harness,
  // --f2p_only) grades the tests that run covered, as the harness did.
  auto f2p_only = MakeSweSmithGrader()->grade_log(
      task, Log(cmd + " tests/test_utils.py", "tests/test_utils.py::test_a PASSED\n"));
  ASSERT_TRUE(f2p_only.ok());
  EXPECT_TRUE(f2p_only->resolved) << f2p_only->report.dump(2);
  EXPECT_TRUE(List(*f2p_only, task, "PASS_TO_PASS", "failure").empty());
}

TEST(SweSmithProfileGradingTest, GinGoldenLog) {
  const fs::path log =
      kSwesmithFixtures / "test_output" / "gin-gonic__gin.3c12d2a8.lm_rewrite__4pb48n1g.txt";
  if (!fs::exists(log)) GTEST_SKIP() << "no fixture at " << log;
  const std::string text = ReadFile(log);
  Task broken = Row("gin-gonic__gin.3c12d2a8.lm_rewrite__4pb48n1g", {"TestRouteStaticNoListing"},
                    {"TestBasicAuth", "TestContextFormFile"});
  auto r = MakeSweSmithGrader()->grade_log(broken, text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->resolved);
  EXPECT_EQ(List(*r, broken, "FAIL_TO_PASS", "failure"), Names{"TestRouteStaticNoListing"});
  EXPECT_EQ(List(*r, broken, "PASS_TO_PASS", "success"),
            (Names{"TestBasicAuth", "TestContextFormFile"}));
  EXPECT_TRUE(r->warnings.empty());
  Task fine = Row("gin-gonic__gin.3c12d2a8.lm_rewrite__4pb48n1g", {"TestBasicAuthFails"},
                  {"TestBasicAuth"});
  auto ok = MakeSweSmithGrader()->grade_log(fine, text);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->resolved);
}

TEST(SweSmithProfileGradingTest, UnknownRepositoryWarnsInTheResultAndReport) {
  Task task = Row("someone__unknown.0123abcd.func_x", {"tests/test_a.py::t"}, {});
  auto r = MakeSweSmithGrader()->grade_log(
      task, Log(std::string(kPy) + " 'tests/test_a.py'", "tests/test_a.py::t PASSED\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->resolved);  // graded, not a silent 0
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("someone__unknown.0123abcd"), std::string::npos);
  EXPECT_EQ(r->report.at(task.instance_id)["warnings"], nlohmann::json::array({r->warnings[0]}));
}

// ---------------------------------------------------------------------------
// grade(): the script and the bound it runs with.

using RecordingRuntime = test_util::ScriptedRuntime;

TEST(SweSmithProfileGradingTest, GradeRunsTheProfileCommandWithinItsTimeout) {
  Task task = Row("jax-ml__jax.ebd90e06.func_pm_op_swap__abc",
                  {"tests/lax_test.py::LaxTest::testAdd"}, {"tests/api_test.py::APITest::testJit"});
  const std::string cmd = std::string(kPy) + " -n auto tests/lax_test.py tests/api_test.py";
  RecordingRuntime rt;
  rt.on_exec = [&](std::string_view c) {
    ExecResult r;
    r.exit_code = 0;
    if (c.find("r2e_swesmith_eval.sh") != std::string_view::npos) {
      r.output = Log(cmd,
                     "tests/lax_test.py::LaxTest::testAdd PASSED\n"
                     "tests/api_test.py::APITest::testJit PASSED\n");
    }
    return r;
  };
  auto r = MakeSweSmithGrader()->grade(rt, task, GradeOptions{.timeout = 300s});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->resolved) << r->report.dump(2);
  for (const auto& c : rt.commands) EXPECT_EQ(c.find("go.mod"), std::string::npos) << c;
  const std::string& script = rt.files.at("/root/r2e_swesmith_eval.sh");
  EXPECT_NE(script.find("\n: '>>>>> Start Test Output'\n" + cmd + "\n: '>>>>> End Test Output'\n"),
            std::string::npos)
      << script;
  // The profile's 90 s bound, tighter than the caller's 300 s.
  bool ran = false;
  for (std::size_t i = 0; i < rt.commands.size(); ++i) {
    if (rt.commands[i].find("r2e_swesmith_eval.sh") == std::string::npos) continue;
    ran = true;
    EXPECT_EQ(rt.options[i].timeout, 90s);
  }
  EXPECT_TRUE(ran);
  // The caller's bound wins when it is tighter; a timeout reports the bound.
  rt.on_exec = [](std::string_view c) {
    ExecResult e;
    e.exit_code = c.find("r2e_swesmith_eval.sh") != std::string_view::npos ? 137 : 0;
    e.timed_out = e.exit_code == 137;
    return e;
  };
  auto slow = MakeSweSmithGrader()->grade(rt, task, GradeOptions{.timeout = 7s});
  ASSERT_TRUE(slow.ok());
  EXPECT_TRUE(slow->timed_out);
  EXPECT_EQ(slow->report.at(task.instance_id)["timeout"], 7);
}

}  // namespace
}  // namespace r2e
