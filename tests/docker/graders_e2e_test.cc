// Graders end to end against a real dockerd (scripts/start-dockerd.sh) and the
// demo task images (scripts/build-test-images.sh): RepoEnv with the docker
// runtime on each flavour's demo row; the bug earns 0, the gold patch 1, and
// editing the hidden tests does not earn 1. Skips when the daemon or an
// image is missing.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "docker/docker_client.h"
#include "r2e/grader.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/task.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kTasksDir = fs::path(R2E_SOURCE_DIR) / "examples" / "tasks";

std::shared_ptr<docker::DockerClient> Client() {
  static std::shared_ptr<docker::DockerClient> client = [] {
    auto c = docker::DockerClient::Connect();
    return c.ok() ? std::shared_ptr<docker::DockerClient>(std::move(c).value()) : nullptr;
  }();
  return client;
}

bool HaveImage(const std::string& image) { return Client() && Client()->inspect_image(image).ok(); }

#define REQUIRE_IMAGE(image)                                                                   \
  do {                                                                                         \
    if (!Client()) GTEST_SKIP() << "no Docker daemon answers (scripts/start-dockerd.sh)";      \
    if (!HaveImage(image)) GTEST_SKIP() << image << " missing (scripts/build-test-images.sh)"; \
  } while (0)

// The first row of a dataset file under examples/tasks.
Task LoadRow(const std::string& file) {
  auto tasks = LoadTasks(kTasksDir / file);
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  return tasks.ok() && !tasks->empty() ? tasks->front() : Task{};
}

// A docker RepoEnv on `task`, reset.
std::unique_ptr<RepoEnv> StartEnv(const Task& task, RepoEnvOptions options = {}) {
  options.runtime = DockerRuntimeFactory();
  auto env = RepoEnv::Create(task, options);
  EXPECT_TRUE(env.ok()) << env.status().ToString();
  if (!env.ok()) return nullptr;
  auto obs = (*env)->reset();
  EXPECT_TRUE(obs.ok()) << obs.status().ToString();
  return obs.ok() ? std::move(env).value() : nullptr;
}

// Runs `command` in the env's sandbox and expects it to succeed.
void RunOk(RepoEnv& env, const std::string& command) {
  auto r = env.run(command);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->exit_code, 0) << command << "\n" << r->output;
}

// Writes `patch` to /tmp/gold.diff in the sandbox and applies it in /testbed.
void ApplyPatch(RepoEnv& env, const std::string& patch) {
  ASSERT_TRUE(env.runtime().write_file("/tmp/gold.diff", patch).ok());
  RunOk(env, "cd /testbed && git apply /tmp/gold.diff");
}

// ---------------------------------------------------------------------------
// SWE-bench

constexpr const char* kSweBenchImage = "r2e-demo/textstats-swebench:latest";

TEST(SweBenchE2E, BugIsZeroAndGoldPatchIsOne) {
  REQUIRE_IMAGE(kSweBenchImage);
  const Task task = LoadRow("demo-swebench.jsonl");
  ASSERT_EQ(task.kind, TaskKind::kSweBench);
  auto env = StartEnv(task);
  ASSERT_NE(env, nullptr);

  auto bug = env->grade();
  ASSERT_TRUE(bug.ok()) << bug.status().ToString();
  EXPECT_EQ(bug->reward, 0.0) << bug->log;
  EXPECT_FALSE(bug->timed_out);
  const auto& bug_report = bug->report[task.instance_id];
  EXPECT_EQ(bug_report["patch_successfully_applied"], true) << bug->log;
  EXPECT_EQ(bug_report["tests_status"]["FAIL_TO_PASS"]["failure"], task.fail_to_pass);
  EXPECT_EQ(bug_report["tests_status"]["PASS_TO_PASS"]["success"], task.pass_to_pass);
  // The eval script leaves the tests as it found them (the hidden tests are
  // gone) and does not stay behind itself.
  RunOk(*env,
        "test ! -e /testbed/tests/hidden/test_stats.py && "
        "test ! -e /testbed/tests/hidden/test_words.py && test ! -e /root/r2e_eval.sh");

  ApplyPatch(*env, task.patch);
  auto fixed = env->grade();
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->reward, 1.0) << "timed out: " << fixed->timed_out << "\n" << fixed->log;

  // A second grade of the same sandbox gives the same answer.
  auto again = env->grade();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->reward, 1.0) << again->log;
  EXPECT_EQ(again->status_map.size(), 11u);
  EXPECT_EQ(again->report[task.instance_id]["resolved"], true);
  EXPECT_EQ(again->report[task.instance_id]["tests_status"]["FAIL_TO_PASS"]["success"],
            task.fail_to_pass);

  // v5 rules agree.
  RepoEnvOptions v5;
  v5.rules = GradingRules::kV5;
  auto env5 = StartEnv(task, v5);
  ASSERT_NE(env5, nullptr);
  ApplyPatch(*env5, task.patch);
  auto graded5 = env5->grade();
  ASSERT_TRUE(graded5.ok()) << graded5.status().ToString();
  EXPECT_EQ(graded5->reward, 1.0) << graded5->log;
  EXPECT_NE(graded5->log.find(">>>>> Test Exit Code: 0"), std::string::npos) << graded5->log;
}

TEST(SweBenchE2E, EditingTheHiddenTestsDoesNotEarnOne) {
  REQUIRE_IMAGE(kSweBenchImage);
  const Task task = LoadRow("demo-swebench.jsonl");
  auto env = StartEnv(task);
  ASSERT_NE(env, nullptr);
  // Trivially passing tests with every graded name, at the hidden tests'
  // paths, committed so that even `git status` looks clean; the bug stays.
  RunOk(*env,
        "cd /testbed && mkdir -p tests/hidden && cat > tests/hidden/test_stats.py <<'EOF'\n"
        "def test_mean_of_floats(): pass\n"
        "def test_median_even_length(): pass\n"
        "def test_moving_average_window_equals_length(): pass\n"
        "class TestMovingAverage:\n"
        "    def test_sliding_windows(self): pass\n"
        "    def test_single_value(self): pass\n"
        "    def test_window_longer_than_data(self): pass\n"
        "    def test_rejects_non_positive_window(self): pass\n"
        "EOF\n"
        "cat > tests/hidden/test_words.py <<'EOF'\n"
        "import pytest\n"
        "@pytest.mark.parametrize('text,expected', [('hello world', 2), ('  spaced   out  text ', "
        "3), ('', 0)])\n"
        "def test_word_count(text, expected): pass\n"
        "def test_top_words_breaks_ties_alphabetically(): pass\n"
        "EOF\n"
        "python3 -m pytest -q tests/hidden");
  // Under the classic rules this is harness v4.1.0's verdict: its reset
  // checks out only the files the test patch modifies, so the test patch
  // does not apply over the agent's files and their tests are what runs.
  auto cheat = env->grade();
  ASSERT_TRUE(cheat.ok()) << cheat.status().ToString();
  EXPECT_NE(cheat->log.find("already exists in working directory"), std::string::npos)
      << cheat->log;
  EXPECT_EQ(cheat->reward, 1.0) << cheat->log;
  // v5 rules (#539's reset) remove them first: the real tests run, 0.
  RepoEnvOptions v5;
  v5.rules = GradingRules::kV5;
  auto env5 = StartEnv(task, v5);
  ASSERT_NE(env5, nullptr);
  RunOk(*env5,
        "mkdir -p /testbed/tests/hidden && printf 'def "
        "test_moving_average_window_equals_length(): pass\\n' > "
        "/testbed/tests/hidden/test_stats.py");
  auto cheat5 = env5->grade();
  ASSERT_TRUE(cheat5.ok()) << cheat5.status().ToString();
  EXPECT_EQ(cheat5->reward, 0.0) << cheat5->log;
  EXPECT_EQ(cheat5->report[task.instance_id]["tests_status"]["FAIL_TO_PASS"]["failure"],
            task.fail_to_pass)
      << cheat5->log;

  // Committing the fake tests does not help either.
  auto fresh = StartEnv(task);
  ASSERT_NE(fresh, nullptr);
  RunOk(
      *fresh,
      "cd /testbed && mkdir -p tests/hidden && printf 'def "
      "test_moving_average_window_equals_length():"
      " pass\\n' > tests/hidden/test_stats.py && git add -A && git -c user.name=a -c user.email=a@b"
      " commit -qm tests");
  auto committed = fresh->compute_reward();
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(*committed, 0.0);
}

// A 5.x-shaped row (its own eval_script, log_parser, eval_type): the default
// rules are v5 and the row's script is what runs, wrapped to record the test
// command's exit status.
TEST(SweBenchE2E, FiveRowRunsItsOwnEvalScript) {
  REQUIRE_IMAGE(kSweBenchImage);
  Task task = LoadRow("demo-swebench.jsonl");
  task.log_parser = "parse_log_pytest";
  task.eval_type = "pass_and_fail";
  task.eval_script =
      "#!/bin/bash\nset -uxo pipefail\ncd /testbed\necho five-row-script\n"
      "rm -f tests/hidden/test_stats.py tests/hidden/test_words.py\n"
      "git apply -v - <<'EOF_114329324912'\n" +
      task.test_patch +
      "\nEOF_114329324912\n: '>>>>> Start Test Output'\n"
      "python3 -m pytest -rA tests/hidden/test_stats.py tests/hidden/test_words.py\n"
      ": '>>>>> End Test Output'\n"
      "rm -f tests/hidden/test_stats.py tests/hidden/test_words.py\n";
  auto env = StartEnv(task);
  ASSERT_NE(env, nullptr);
  auto bug = env->grade();
  ASSERT_TRUE(bug.ok()) << bug.status().ToString();
  EXPECT_EQ(bug->reward, 0.0) << bug->log;
  EXPECT_NE(bug->log.find("\nfive-row-script\n"), std::string::npos) << bug->log;
  // pytest exits 1: failures are in the log, so the run is graded.
  EXPECT_NE(bug->log.find("\n>>>>> Test Exit Code: 1\n"), std::string::npos) << bug->log;
  const auto& report = bug->report[task.instance_id];
  EXPECT_EQ(report["patch_successfully_applied"], true);
  EXPECT_EQ(report["infra_failure"], false);
  EXPECT_EQ(report["tests_status"]["FAIL_TO_PASS"]["failure"], task.fail_to_pass);

  ApplyPatch(*env, task.patch);
  auto fixed = env->grade();
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->reward, 1.0) << fixed->log;
  EXPECT_NE(fixed->log.find("\n>>>>> Test Exit Code: 0\n"), std::string::npos) << fixed->log;
  RunOk(*env, "test ! -e /testbed/tests/hidden/test_stats.py && test ! -e /root/r2e_eval.sh");
}

TEST(SweBenchE2E, WrongPatchIsZeroAndTimeoutIsZero) {
  REQUIRE_IMAGE(kSweBenchImage);
  const Task task = LoadRow("demo-swebench.jsonl");
  auto env = StartEnv(task);
  ASSERT_NE(env, nullptr);
  // "Fixes" the F2P tests but breaks a PASS_TO_PASS one.
  RunOk(*env,
        "cd /testbed && sed -i 's/if window >= len(values):/if window > len(values) or True:/'"
        " textstats/stats.py");
  auto wrong = env->grade();
  ASSERT_TRUE(wrong.ok()) << wrong.status().ToString();
  EXPECT_EQ(wrong->reward, 0.0) << wrong->log;

  RepoEnvOptions slow;
  slow.reward_timeout = 3s;
  auto env2 = StartEnv(task, slow);
  ASSERT_NE(env2, nullptr);
  ApplyPatch(*env2, task.patch);
  RunOk(*env2, "cd /testbed && sed -i '1i import time; time.sleep(60)' textstats/stats.py");
  const auto t0 = std::chrono::steady_clock::now();
  auto timed = env2->grade();
  ASSERT_TRUE(timed.ok()) << timed.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
  EXPECT_TRUE(timed->timed_out);
  EXPECT_EQ(timed->reward, 0.0);
  EXPECT_EQ(timed->report[task.instance_id]["timed_out"], true);
  // The grader put the test files back after the kill.
  RunOk(*env2, "test ! -e /testbed/tests/hidden/test_stats.py");
}

}  // namespace
}  // namespace r2e

// ---------------------------------------------------------------------------
// SweSmithE2E: the SWE-smith flavour of the demo task in Docker
// (r2e-demo/textstats-swesmith:latest, scripts/build-test-images.sh).
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "docker/docker_client.h"
#include "r2e/grader.h"
#include "r2e/repo_env.h"
#include "r2e/task.h"

namespace r2e {
namespace swesmith_e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kImage = "r2e-demo/textstats-swesmith:latest";

// Skips unless a daemon answers and the image is there.
std::string Unavailable() {
  static const std::string why = [] {
    auto client = docker::DockerClient::Connect();
    if (!client.ok()) return std::string("no Docker daemon answers (scripts/start-dockerd.sh)");
    if (!(*client)->inspect_image(kImage).ok()) {
      return std::string(kImage) + " missing (scripts/build-test-images.sh)";
    }
    return std::string();
  }();
  return why;
}

class SweSmithE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = Unavailable(); !why.empty()) GTEST_SKIP() << why;
    auto tasks = LoadTasks(std::filesystem::path(R2E_SOURCE_DIR) / "examples" / "tasks" /
                           "demo-swesmith.jsonl");
    ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
    ASSERT_EQ(tasks->size(), 1u);
    task_ = tasks->front();
    ASSERT_EQ(task_.kind, TaskKind::kSweSmith);
    RepoEnvOptions o;
    o.runtime = DockerRuntimeFactory();
    auto env = RepoEnv::Create(task_, o);
    ASSERT_TRUE(env.ok()) << env.status().ToString();
    env_ = std::move(env).value();
    auto first = env_->reset();
    ASSERT_TRUE(first.ok()) << first.status().ToString();
  }

  void TearDown() override {
    if (env_) {
      EXPECT_TRUE(env_->close().ok());
    }
  }

  ExecResult Run(const std::string& cmd) {
    auto r = env_->run(cmd);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ExecResult{};
  }

  double Reward() {
    auto r = env_->compute_reward();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : -1.0;
  }

  Task task_;
  std::unique_ptr<RepoEnv> env_;
};

TEST_F(SweSmithE2E, UntouchedIsZeroGoldPatchIsOne) {
  // reset() checked out base_commit: the bug is in place.
  ExecResult head = Run("git rev-parse HEAD");
  EXPECT_EQ(head.output.substr(0, 40), task_.base_commit);
  auto before = env_->grade();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->reward, 0.0) << before->log;
  const nlohmann::json& rep = before->report.at(task_.instance_id);
  EXPECT_EQ(rep["patch_successfully_applied"], true) << before->log;
  EXPECT_EQ(rep["tests_status"]["FAIL_TO_PASS"]["failure"].size(), 2u) << rep.dump(2);
  EXPECT_EQ(rep["tests_status"]["PASS_TO_PASS"]["success"].size(), 5u) << rep.dump(2);

  auto written = env_->runtime().write_file("/tmp/gold.diff", task_.patch);
  ASSERT_TRUE(written.ok()) << written.ToString();
  ExecResult applied = Run("git apply /tmp/gold.diff");
  ASSERT_EQ(applied.exit_code, 0) << applied.output;

  auto after = env_->grade();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->reward, 1.0) << after->log << after->report.dump(2);
  EXPECT_TRUE(after->resolved);
  EXPECT_EQ(after->status_map.size(), 7u) << after->log;
  EXPECT_EQ(Reward(), 1.0);
}

TEST_F(SweSmithE2E, EditingTheFailingTestsDoesNotEarnOne) {
  // The failing tests rewritten to pass, the code left alone, and the edit
  // committed.
  auto written =
      env_->runtime().write_file("/testbed/tests/test_stats.py",
                                 "def test_mean_of_floats():\n    pass\n\n\n"
                                 "def test_median_even_length():\n    pass\n\n\n"
                                 "def test_moving_average_window_equals_length():\n    pass\n\n\n"
                                 "class TestMovingAverage:\n"
                                 "    def test_sliding_windows(self):\n        pass\n\n"
                                 "    def test_single_value(self):\n        pass\n\n"
                                 "    def test_window_longer_than_data(self):\n        pass\n\n"
                                 "    def test_rejects_non_positive_window(self):\n        pass\n");
  ASSERT_TRUE(written.ok()) << written.ToString();
  ExecResult cheat =
      Run("python3 -m pytest -q tests/test_stats.py && git add -A && "
          "git -c user.name=a -c user.email=a@a commit -qm 'tests pass now'");
  ASSERT_EQ(cheat.exit_code, 0) << cheat.output;

  auto graded = env_->grade();
  ASSERT_TRUE(graded.ok()) << graded.status().ToString();
  EXPECT_EQ(graded->reward, 0.0) << graded->log;
  EXPECT_EQ(graded->report.at(task_.instance_id)["tests_status"]["FAIL_TO_PASS"]["failure"].size(),
            2u);
  // Graded in a fresh sandbox (the default): the agent's sandbox still holds
  // its own edits.
  EXPECT_EQ(Run("cat tests/test_stats.py").output.find("assert moving_average([7], 1) == [7.0]"),
            std::string::npos);
  EXPECT_EQ(Reward(), 0.0);
}

TEST_F(SweSmithE2E, TimeoutIsReportedAndZero) {
  Task slow = task_;
  slow.row["test_cmd"] = "sleep 60";
  const auto start = std::chrono::steady_clock::now();
  auto r = MakeSweSmithGrader()->grade(env_->runtime(), slow, GradeOptions{.timeout = 2s});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_EQ(r->report.at(task_.instance_id), (nlohmann::json{{"timed_out", true}, {"timeout", 2}}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
  // The sandbox still works afterwards.
  EXPECT_EQ(Run("true").exit_code, 0);
}

}  // namespace
}  // namespace swesmith_e2e
}  // namespace r2e
