// The R2E grader: grade_log on real pytest logs of the demo task, the
// sandbox choreography against a scripted runtime double, and grade()
// end to end in a LocalRuntime sandbox.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "r2e/grader.h"
#include "r2e/local_runtime.h"
#include "scripted_runtime.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kTasksDir = fs::path(R2E_SOURCE_DIR) / "examples" / "tasks";

// `python3 -m pytest -rA r2e_tests` on the demo repository, as shipped (bug).
constexpr char kBuggyLog[] =
    R"LOG(============================= test session starts ==============================
platform linux -- Python 3.11.2, pytest-7.2.1, pluggy-1.0.0+repack
rootdir: /testbed
collected 11 items

r2e_tests/test_stats.py ..F.F..                                          [ 63%]
r2e_tests/test_words.py ....                                             [100%]

=================================== FAILURES ===================================
___________________ test_moving_average_window_equals_length ___________________

    def test_moving_average_window_equals_length():
        # One full window: exactly one average, not an empty list.
>       assert moving_average([2, 4, 6], 3) == [4.0]
E       assert [] == [4.0]
E         Right contains one more item: 4.0
E         Use -v to get more diff

r2e_tests/test_stats.py:16: AssertionError
_____________________ TestMovingAverage.test_single_value ______________________

self = <r2e_tests.test_stats.TestMovingAverage object at 0x7f641ab32a10>

    def test_single_value(self):
>       assert moving_average([7], 1) == [7.0]
E       assert [] == [7.0]
E         Right contains one more item: 7.0
E         Use -v to get more diff

r2e_tests/test_stats.py:24: AssertionError
==================================== PASSES ====================================
=========================== short test summary info ============================
PASSED r2e_tests/test_stats.py::test_mean_of_floats
PASSED r2e_tests/test_stats.py::test_median_even_length
PASSED r2e_tests/test_stats.py::TestMovingAverage::test_sliding_windows
PASSED r2e_tests/test_stats.py::TestMovingAverage::test_window_longer_than_data
PASSED r2e_tests/test_stats.py::TestMovingAverage::test_rejects_non_positive_window
PASSED r2e_tests/test_words.py::test_word_count[hello world-2]
PASSED r2e_tests/test_words.py::test_word_count[  spaced   out  text -3]
PASSED r2e_tests/test_words.py::test_word_count[-0]
PASSED r2e_tests/test_words.py::test_top_words_breaks_ties_alphabetically
FAILED r2e_tests/test_stats.py::test_moving_average_window_equals_length - as...
FAILED r2e_tests/test_stats.py::TestMovingAverage::test_single_value - assert...
========================= 2 failed, 9 passed in 0.03s ==========================
)LOG";

// The same run after the fix.
constexpr char kFixedLog[] =
    R"LOG(============================= test session starts ==============================
platform linux -- Python 3.11.2, pytest-7.2.1, pluggy-1.0.0+repack
rootdir: /testbed
collected 11 items

r2e_tests/test_stats.py .......                                          [ 63%]
r2e_tests/test_words.py ....                                             [100%]

==================================== PASSES ====================================
=========================== short test summary info ============================
PASSED r2e_tests/test_stats.py::test_mean_of_floats
PASSED r2e_tests/test_stats.py::test_median_even_length
PASSED r2e_tests/test_stats.py::test_moving_average_window_equals_length
PASSED r2e_tests/test_stats.py::TestMovingAverage::test_sliding_windows
PASSED r2e_tests/test_stats.py::TestMovingAverage::test_single_value
PASSED r2e_tests/test_stats.py::TestMovingAverage::test_window_longer_than_data
PASSED r2e_tests/test_stats.py::TestMovingAverage::test_rejects_non_positive_window
PASSED r2e_tests/test_words.py::test_word_count[hello world-2]
PASSED r2e_tests/test_words.py::test_word_count[  spaced   out  text -3]
PASSED r2e_tests/test_words.py::test_word_count[-0]
PASSED r2e_tests/test_words.py::test_top_words_breaks_ties_alphabetically
============================== 11 passed in 0.02s ==============================
)LOG";

nlohmann::json DemoRow() {
  std::ifstream in(kTasksDir / "demo.jsonl");
  std::string line;
  std::getline(in, line);
  nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(row.is_object()) << "cannot read " << (kTasksDir / "demo.jsonl");
  return row;
}

std::string Field(const nlohmann::json& row, const char* key) {
  return row.is_object() && row.contains(key) && row[key].is_string() ? row[key].get<std::string>()
                                                                      : std::string();
}

Task R2eGraderDemoTask() {
  nlohmann::json row = DemoRow();
  Task task;
  task.instance_id = Field(row, "instance_id");
  task.kind = TaskKind::kR2E;
  task.image = Field(row, "docker_image");
  task.repo = Field(row, "repo_name");
  task.patch = Field(row, "patch");
  task.problem_statement = Field(row, "problem_statement");
  task.expected_output_json = Field(row, "expected_output_json");
  task.local_repo = kTasksDir / Field(row, "local_repo");
  task.local_tests = kTasksDir / Field(row, "local_tests");
  task.row = row;
  return task;
}

// The `cmd` of each execute_bash action of the demo's scripted episode.
std::vector<std::string> ScriptedCommands() {
  nlohmann::json row = DemoRow();
  std::vector<std::string> cmds;
  static const std::regex kCmd(R"(<parameter=cmd>([\s\S]*?)</parameter>)");
  for (const auto& action : row["scripted_actions"]) {
    std::string text = action.get<std::string>();
    std::smatch m;
    if (text.find("<function=execute_bash>") != std::string::npos &&
        std::regex_search(text, m, kCmd)) {
      cmds.push_back(m[1].str());
    }
  }
  return cmds;
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

const nlohmann::json& Report(const GradeResult& r, const Task& task) {
  return r.report.at(task.instance_id);
}

TEST(R2EGraderTest, MakeGrader) {
  auto r2e = MakeGrader(TaskKind::kR2E);
  ASSERT_TRUE(r2e.ok()) << r2e.status().ToString();
  EXPECT_EQ((*r2e)->name(), "r2e");
  EXPECT_EQ(MakeR2EGrader()->name(), "r2e");
  // Every kind has its own grader.
  auto swebench = MakeGrader(TaskKind::kSweBench);
  ASSERT_TRUE(swebench.ok()) << swebench.status().ToString();
  EXPECT_NE((*swebench)->name(), "r2e");
  auto swesmith = MakeGrader(TaskKind::kSweSmith);
  ASSERT_TRUE(swesmith.ok()) << swesmith.status().ToString();
  EXPECT_NE((*swesmith)->name(), "r2e");
  EXPECT_NE((*swesmith)->name(), (*swebench)->name());
}

TEST(R2EGraderTest, DemoTaskExpectsElevenPasses) {
  Task task = R2eGraderDemoTask();
  EXPECT_EQ(task.instance_id, "r2e-demo__textstats-1");
  nlohmann::json expected = nlohmann::json::parse(task.expected_output_json);
  ASSERT_EQ(expected.size(), 11u);
  for (const auto& [k, v] : expected.items()) EXPECT_EQ(v, "PASSED") << k;
  EXPECT_TRUE(expected.contains("TestMovingAverage.test_single_value"));
  EXPECT_TRUE(expected.contains("test_moving_average_window_equals_length"));
  EXPECT_TRUE(expected.contains("test_word_count[  spaced   out  text -3]"));
  // The expected map is exactly what the parser reads from the fixed run.
  StatusMap from_log = ParseR2ELog(kFixedLog);
  EXPECT_EQ(nlohmann::json(from_log), expected);
}

TEST(R2EGraderTest, GradeLogBuggyRunIsZero) {
  Task task = R2eGraderDemoTask();
  auto r = MakeR2EGrader()->grade_log(task, kBuggyLog);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_FALSE(r->resolved);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->log, kBuggyLog);
  EXPECT_EQ(r->status_map.size(), 11u);
  EXPECT_EQ(r->status_map.at("TestMovingAverage.test_single_value"), "FAILED");
  EXPECT_EQ(r->status_map.at("test_moving_average_window_equals_length"), "FAILED");
  const nlohmann::json& rep = Report(*r, task);
  EXPECT_EQ(rep["resolved"], false);
  EXPECT_EQ(rep["missing"], nlohmann::json::array());
  EXPECT_EQ(rep["unexpected"], nlohmann::json::array());
  nlohmann::json mismatched = {
      {"TestMovingAverage.test_single_value", {{"expected", "PASSED"}, {"got", "FAILED"}}},
      {"test_moving_average_window_equals_length", {{"expected", "PASSED"}, {"got", "FAILED"}}},
  };
  EXPECT_EQ(rep["mismatched"], mismatched);
  EXPECT_EQ(rep["expected"].size(), 11u);
  EXPECT_EQ(rep["parsed"].size(), 11u);
}

TEST(R2EGraderTest, GradeLogFixedRunIsOne) {
  Task task = R2eGraderDemoTask();
  auto r = MakeR2EGrader()->grade_log(task, kFixedLog);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 1.0);
  EXPECT_TRUE(r->resolved);
  const nlohmann::json& rep = Report(*r, task);
  EXPECT_EQ(rep["resolved"], true);
  EXPECT_EQ(rep["mismatched"], nlohmann::json::object());
  EXPECT_EQ(rep["missing"], nlohmann::json::array());
  EXPECT_EQ(rep["unexpected"], nlohmann::json::array());
  EXPECT_EQ(rep["parsed"], rep["expected"]);
}

TEST(R2EGraderTest, GradeLogCleansColoursAndCarriageReturns) {
  // A coloured run with CRLF line ends, as a pytest forced to colour prints.
  std::string log = ReplaceAll(kFixedLog, "\n", "\r\n");
  log = ReplaceAll(log, "PASSED", "\x1b[32mPASSED\x1b[0m");
  log = ReplaceAll(log, "short test summary info", "\x1b[1;36mshort test summary info\x1b[0m");
  log = ReplaceAll(log, "test_single_value", "\x1b[1mtest_single_value\x1b[0m");
  Task task = R2eGraderDemoTask();
  auto r = MakeR2EGrader()->grade_log(task, log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 1.0) << Report(*r, task).dump(2);
  EXPECT_TRUE(r->status_map.contains("TestMovingAverage.test_single_value"));
}

TEST(R2EGraderTest, GradeLogWithoutSummaryMissesEverything) {
  Task task = R2eGraderDemoTask();
  std::string log =
      "ImportError while loading conftest '/testbed/conftest.py'.\n"
      "conftest.py:3: in <module>\n    import textstats\nE   SyntaxError: invalid syntax\n";
  auto r = MakeR2EGrader()->grade_log(task, log);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_TRUE(r->status_map.empty());
  EXPECT_EQ(Report(*r, task)["missing"].size(), 11u);
}

TEST(R2EGraderTest, GradeLogExtraOrRenamedTestIsZero) {
  Task task = R2eGraderDemoTask();
  std::string extra = ReplaceAll(kFixedLog, "PASSED r2e_tests/test_stats.py::test_mean_of_floats\n",
                                 "PASSED r2e_tests/test_stats.py::test_mean_of_floats\n"
                                 "PASSED r2e_tests/test_stats.py::test_added_by_agent\n");
  auto r = MakeR2EGrader()->grade_log(task, extra);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_EQ(Report(*r, task)["unexpected"], nlohmann::json::array({"test_added_by_agent"}));

  std::string renamed = ReplaceAll(kFixedLog, "::test_mean_of_floats", "::test_mean_renamed");
  r = MakeR2EGrader()->grade_log(task, renamed);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_EQ(Report(*r, task)["missing"], nlohmann::json::array({"test_mean_of_floats"}));
  EXPECT_EQ(Report(*r, task)["unexpected"], nlohmann::json::array({"test_mean_renamed"}));
}

TEST(R2EGraderTest, GradeLogReportIsValidJsonForInvalidUtf8) {
  Task task = R2eGraderDemoTask();
  std::string log = ReplaceAll(kFixedLog, "PASSED r2e_tests/test_stats.py::test_mean_of_floats\n",
                               "PASSED r2e_tests/test_stats.py::test_mean_of_floats\n"
                               "PASSED r2e_tests/test_stats.py::test_\xff\xfe\n");
  auto r = MakeR2EGrader()->grade_log(task, log);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reward, 0.0);
  // Ill-formed bytes become U+FFFD, as R2E-Gym's decode(errors="replace").
  EXPECT_TRUE(r->status_map.contains("test_\xEF\xBF\xBD\xEF\xBF\xBD"));
  std::string dumped;
  EXPECT_NO_THROW(dumped = r->report.dump());
  EXPECT_NE(dumped.find("test_\xEF\xBF\xBD"), std::string::npos);
}

TEST(R2EGraderTest, MalformedExpectedMapIsInvalidArgument) {
  auto grader = MakeR2EGrader();
  for (std::string bad : {"", "{not json", "[\"test_a\"]", "{\"test_a\": 1}", "\"PASSED\""}) {
    Task task = R2eGraderDemoTask();
    task.expected_output_json = bad;
    auto r = grader->grade_log(task, kFixedLog);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("r2e-demo__textstats-1"), std::string::npos);
    EXPECT_NE(r.status().message().find("expected_output_json"), std::string::npos);
  }
}

TEST(R2EGraderTest, EmptyExpectedMapMatchesOnlyAnEmptyParse) {
  Task task = R2eGraderDemoTask();
  task.expected_output_json = "{}";
  auto grader = MakeR2EGrader();
  EXPECT_EQ(grader->grade_log(task, kFixedLog)->reward, 0.0);
  EXPECT_EQ(grader->grade_log(task, "no tests ran")->reward, 1.0);
}

ExecResult Exited(int code, std::string output = "") {
  ExecResult r;
  r.exit_code = code;
  r.output = std::move(output);
  return r;
}

using test_util::ScriptedRuntime;

constexpr std::string_view kRunNeedle = "bash /root/run_tests.sh";
constexpr std::string_view kLinkNeedle = "ln -sfn /root/r2e_tests /testbed/r2e_tests";
constexpr std::string_view kUnlinkNeedle = "rm -f /testbed/r2e_tests";

TEST(R2EGraderScriptedTest, LinksRunsAndUnlinksInOrder) {
  ScriptedRuntime rt;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    ExecResult r = Exited(0);
    if (cmd.find(kRunNeedle) != std::string_view::npos) r.output = kFixedLog;
    return r;
  };
  Task task = R2eGraderDemoTask();
  auto r = MakeR2EGrader()->grade(rt, task, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 1.0);
  int link = rt.IndexOf(kLinkNeedle);
  int run = rt.IndexOf(kRunNeedle);
  int unlink = rt.IndexOf(kUnlinkNeedle);
  EXPECT_GE(link, 0);
  EXPECT_LT(link, run);
  EXPECT_LT(run, unlink);
}

TEST(R2EGraderScriptedTest, RuntimeErrorDuringRunStillUnlinks) {
  ScriptedRuntime rt;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    if (cmd.find(kRunNeedle) != std::string_view::npos) {
      return Status::Unavailable("sandbox connection lost");
    }
    return Exited(0);
  };
  Task task = R2eGraderDemoTask();
  auto r = MakeR2EGrader()->grade(rt, task, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("grading r2e-demo__textstats-1"), std::string::npos)
      << r.status().ToString();
  EXPECT_GT(rt.IndexOf(kUnlinkNeedle), rt.IndexOf(kRunNeedle));
}

TEST(R2EGraderScriptedTest, TimeoutIsRewardZeroNotAnError) {
  ScriptedRuntime rt;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    ExecResult r = Exited(0);
    if (cmd.find(kRunNeedle) != std::string_view::npos) {
      // Even a complete-looking log does not count once the run timed out.
      r.output = kFixedLog;
      r.exit_code = 137;
      r.timed_out = true;
    }
    return r;
  };
  Task task = R2eGraderDemoTask();
  auto r = MakeR2EGrader()->grade(rt, task, GradeOptions{.timeout = 5s});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_FALSE(r->resolved);
  EXPECT_EQ(Report(*r, task)["resolved"], false);
  EXPECT_GT(rt.IndexOf(kUnlinkNeedle), rt.IndexOf(kRunNeedle));
}

TEST(R2EGraderScriptedTest, MissingTestScriptIsFailedPrecondition) {
  ScriptedRuntime rt;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    if (cmd.find(kLinkNeedle) != std::string_view::npos) {
      return Exited(3, "no /root/run_tests.sh\n");
    }
    return Exited(0);
  };
  auto r = MakeR2EGrader()->grade(rt, R2eGraderDemoTask(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("run_tests.sh"), std::string::npos);
  EXPECT_FALSE(rt.Ran(kRunNeedle));
}

TEST(R2EGraderScriptedTest, TruncatedOutputIsReadFromTheLogFile) {
  ScriptedRuntime rt;
  rt.files["/tmp/r2e_grade_"] = kFixedLog;
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    ExecResult r = Exited(0);
    if (cmd.find(kRunNeedle) != std::string_view::npos) {
      r.output = "=== test session starts ===\n[... 200000 bytes left out ...]\n";
      r.truncated_bytes = 200000;
    }
    return r;
  };
  auto r = MakeR2EGrader()->grade(rt, R2eGraderDemoTask(), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 1.0);
  EXPECT_EQ(r->log, kFixedLog);
}

TEST(R2EGraderScriptedTest, ExpectedMapFallsBackToTheSandboxFile) {
  ScriptedRuntime rt;
  Task task = R2eGraderDemoTask();
  rt.files["/root/expected_test_output.json"] = task.expected_output_json;
  task.expected_output_json.clear();
  rt.on_exec = [](std::string_view cmd) -> Result<ExecResult> {
    ExecResult r = Exited(0);
    if (cmd.find(kRunNeedle) != std::string_view::npos) r.output = kFixedLog;
    return r;
  };
  auto r = MakeR2EGrader()->grade(rt, task, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 1.0);

  ScriptedRuntime empty;
  auto missing = MakeR2EGrader()->grade(empty, task, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(empty.Ran(kRunNeedle));
}

// grade() end to end: the demo task in a bubblewrap sandbox.
class R2EGraderLocalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
    task_ = R2eGraderDemoTask();
    LocalRuntimeOptions o;
    o.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
    rt_ = std::make_unique<LocalRuntime>(o);
    SandboxSpec spec;
    spec.task_id = task_.instance_id;
    spec.copy_in = {{task_.local_repo, "/testbed"}, {task_.local_tests, "/root/r2e_tests"}};
    Status started = rt_->start(spec);
    ASSERT_TRUE(started.ok()) << started.ToString();
    // What the R2E setup does: hide the test script under /root.
    ASSERT_EQ(Run("mv /testbed/run_tests.sh /root/run_tests.sh").exit_code, 0);
  }

  ExecResult Run(std::string_view cmd) {
    ExecOptions o;
    o.timeout = 60s;
    auto r = rt_->exec(cmd, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ExecResult{};
  }

  bool HiddenTestsVisible() {
    return Run("test -e /testbed/r2e_tests || test -L /testbed/r2e_tests").exit_code == 0;
  }

  Task task_;
  std::unique_ptr<LocalRuntime> rt_;
};

TEST_F(R2EGraderLocalTest, BuggyRepoGradesZeroAndScriptedFixGradesOne) {
  EXPECT_FALSE(HiddenTestsVisible());
  auto grader = MakeR2EGrader();

  auto before = grader->grade(*rt_, task_, {});
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->reward, 0.0) << before->log;
  EXPECT_FALSE(before->timed_out);
  EXPECT_EQ(before->status_map.size(), 11u) << before->log;
  EXPECT_EQ(Report(*before, task_)["mismatched"].size(), 2u) << before->report.dump(2);
  EXPECT_GT(before->duration.count(), 0);
  EXPECT_FALSE(HiddenTestsVisible());

  std::vector<std::string> cmds = ScriptedCommands();
  ASSERT_FALSE(cmds.empty());
  for (const std::string& cmd : cmds) {
    ExecResult r = Run(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.output;
  }

  auto after = grader->grade(*rt_, task_, {});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->reward, 1.0) << after->log << after->report.dump(2);
  EXPECT_TRUE(after->resolved);
  EXPECT_FALSE(HiddenTestsVisible());
}

TEST_F(R2EGraderLocalTest, GoldPatchGradesOne) {
  ASSERT_TRUE(rt_->write_file("/tmp/gold.patch", task_.patch).ok());
  ExecResult applied = Run("git apply /tmp/gold.patch");
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  auto r = MakeR2EGrader()->grade(*rt_, task_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reward, 1.0) << r->log;
}

TEST_F(R2EGraderLocalTest, TimeoutGradesZeroAndRemovesTheLink) {
  ASSERT_TRUE(
      rt_->write_file("/root/run_tests.sh", "#!/bin/bash\nls /testbed/r2e_tests\nsleep 60\n").ok());
  auto start = std::chrono::steady_clock::now();
  auto r = MakeR2EGrader()->grade(*rt_, task_, GradeOptions{.timeout = 1s});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_NE(r->log.find("test_stats.py"), std::string::npos) << r->log;  // linked during the run
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  EXPECT_FALSE(HiddenTestsVisible());
}

TEST_F(R2EGraderLocalTest, AgentMadeTestDirectoryCannotStandInAndIsKept) {
  // Tests the agent wrote at /testbed/r2e_tests must not replace the hidden ones.
  ASSERT_EQ(Run("mkdir -p /testbed/r2e_tests && printf 'def test_mean_of_floats():\\n    pass\\n' "
                "> /testbed/r2e_tests/test_mine.py")
                .exit_code,
            0);
  auto r = MakeR2EGrader()->grade(*rt_, task_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status_map.size(), 11u) << r->log;
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_EQ(Run("test -d /testbed/r2e_tests && test ! -L /testbed/r2e_tests && "
                "test -f /testbed/r2e_tests/test_mine.py")
                .exit_code,
            0);
}

TEST_F(R2EGraderLocalTest, OutputBeyondTheSessionBoundIsReadInFull) {
  // 300 kB of noise before pytest: more than the session keeps, so the
  // summary must come from the log file.
  ASSERT_TRUE(rt_->write_file("/root/run_tests.sh",
                              "#!/bin/bash\ncd /testbed\n"
                              "head -c 300000 /dev/zero | tr '\\0' x | fold -w 99\n"
                              "python3 -m pytest -rA r2e_tests\n")
                  .ok());
  for (const std::string& cmd : ScriptedCommands()) Run(cmd);
  auto r = MakeR2EGrader()->grade(*rt_, task_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->log.size(), 300000u);
  EXPECT_EQ(r->reward, 1.0) << r->report.dump(2);
  EXPECT_EQ(Run("ls /tmp | grep -c r2e_grade_").output, "0\n");  // log file removed
}

TEST_F(R2EGraderLocalTest, AgentMadeSymlinkIsSetAsideAndRestored) {
  ASSERT_EQ(Run("mkdir -p /tmp/mine && ln -s /tmp/mine /testbed/r2e_tests").exit_code, 0);
  auto r = MakeR2EGrader()->grade(*rt_, task_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status_map.size(), 11u) << r->log;
  EXPECT_EQ(Run("readlink /testbed/r2e_tests").output, "/tmp/mine\n");
}

}  // namespace
}  // namespace r2e
