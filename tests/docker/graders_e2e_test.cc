#include <gtest/gtest.h>

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
    o.runtime = "docker";
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
  // The tests are the original ones again.
  EXPECT_NE(Run("cat tests/test_stats.py").output.find("assert moving_average([7], 1) == [7.0]"),
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
