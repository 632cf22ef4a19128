// The SWE-bench patch-apply cascade (git apply, --reject, patch --fuzz) run
// with bash, and the grader on the demo SWE-bench row: grade_log, and grade()
// against a scripted runtime double (the eval script, the log file when the
// output was cut, timeouts, sandbox errors).
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "r2e/grader.h"
#include "r2e/swebench.h"
#include "r2e/task.h"
#include "swebench_grading_test_util.h"
#include "swebench_test_util.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using swebench_grading_test_util::kV5;
using swebench_grading_test_util::MakeTask;
using swebench_grading_test_util::Marked;
using swebench_grading_test_util::Names;
using test_util::Output;
using test_util::ScriptedRuntime;
using test_util::TempRepo;

const fs::path kDemoRow = fs::path(R2E_SOURCE_DIR) / "examples" / "tasks" / "demo-swebench.jsonl";

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

Task SweBenchGraderDemoTask() {
  auto tasks = LoadTasks(kDemoRow);
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  if (!tasks.ok() || tasks->empty()) return Task{};
  return tasks->front();
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
  Task task = SweBenchGraderDemoTask();
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
  Task task = SweBenchGraderDemoTask();
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
  Task task = SweBenchGraderDemoTask();
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
  Task task = SweBenchGraderDemoTask();
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
  Task task = SweBenchGraderDemoTask();
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
  Task task = SweBenchGraderDemoTask();
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
