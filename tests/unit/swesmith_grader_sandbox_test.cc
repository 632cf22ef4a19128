// The SWE-smith grader's grade(): its sandbox choreography (restore the test
// files, write and run the script, read the log) against a scripted runtime
// double, and end to end on a small git repository in a LocalRuntime
// sandbox.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "r2e/grader.h"
#include "r2e/local_runtime.h"
#include "r2e/task.h"
#include "scripted_runtime.h"
#include "swesmith_grading_test_util.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using swesmith_test_util::Group;
using swesmith_test_util::kAllPass;
using swesmith_test_util::kXTask;
using swesmith_test_util::MakeTask;
using swesmith_test_util::Names;
using swesmith_test_util::PytestLog;
using swesmith_test_util::Report;

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
