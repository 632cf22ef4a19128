// FaultRuntime over a real LocalRuntime: injected failures stop calls before
// they reach the wrapped runtime, and everything else passes through.
#include "r2e/fault_runtime.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "r2e/local_runtime.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;
using Op = FaultRuntime::Op;

class FaultRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rt_ = std::make_unique<FaultRuntime>(std::make_unique<LocalRuntime>());
    ASSERT_TRUE(rt_->start({}).ok());
  }
  Result<ExecResult> Run(std::string_view cmd) {
    ExecOptions o;
    o.timeout = 20s;
    return rt_->exec(cmd, o);
  }
  std::unique_ptr<FaultRuntime> rt_;
};

TEST_F(FaultRuntimeTest, PassesCallsThroughAndCountsThem) {
  EXPECT_EQ(rt_->name(), "local");
  EXPECT_EQ(rt_->target().name(), "local");
  EXPECT_TRUE(rt_->alive());
  auto r = Run("echo hello");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output, "hello\n");
  ASSERT_TRUE(rt_->write_file("/testbed/f.txt", "content").ok());
  EXPECT_EQ(rt_->read_file("/testbed/f.txt").value_or(""), "content");
  EXPECT_EQ(rt_->calls(Op::kStart), 1);
  EXPECT_EQ(rt_->calls(Op::kExec), 1);
  EXPECT_EQ(rt_->calls(Op::kWriteFile), 1);
  EXPECT_EQ(rt_->calls(Op::kReadFile), 1);
  EXPECT_EQ(rt_->calls(Op::kUpload), 0);
}

TEST_F(FaultRuntimeTest, FailNextFailsExactlyCountCallsWithoutForwarding) {
  rt_->fail_next(Op::kExec, Status::Unavailable("daemon hiccup"), 2);
  for (int i = 0; i < 2; ++i) {
    auto r = Run("touch /testbed/ran");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status(), Status::Unavailable("daemon hiccup"));
  }
  EXPECT_EQ(rt_->calls(Op::kExec), 0);
  EXPECT_EQ(rt_->read_file("/testbed/ran").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Run("true").ok());
  EXPECT_EQ(rt_->calls(Op::kExec), 1);
  // Other operations were never affected.
  EXPECT_TRUE(rt_->write_file("/testbed/x", "x").ok());
}

TEST_F(FaultRuntimeTest, NegativeCountFailsUntilCleared) {
  rt_->fail_next(Op::kReadFile, Status::Internal("disk on fire"), -1);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(rt_->read_file("/testbed/x").status().code(), StatusCode::kInternal);
  rt_->clear();
  EXPECT_EQ(rt_->read_file("/testbed/x").status().code(),
            StatusCode::kNotFound);  // reached the runtime
  EXPECT_EQ(rt_->calls(Op::kReadFile), 1);
}

TEST_F(FaultRuntimeTest, FailExecContainingMatchesOnlyThoseCommands) {
  rt_->fail_exec_containing("run_tests.sh", Status::Timeout("grading timed out"));
  auto bad = Run("bash /root/run_tests.sh");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kTimeout);
  auto good = Run("echo fine");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->output, "fine\n");
  EXPECT_EQ(rt_->calls(Op::kExec), 1);
  rt_->clear();
  auto after = Run("echo run_tests.sh");
  ASSERT_TRUE(after.ok());
}

TEST_F(FaultRuntimeTest, KillSandboxFailsEverythingButStopUntilClear) {
  rt_->kill_sandbox();
  EXPECT_FALSE(rt_->alive());
  EXPECT_TRUE(rt_->target().alive());  // the real sandbox is still there
  const Status removed = Status::Unavailable("sandbox was removed (injected fault)");
  EXPECT_EQ(Run("echo hi").status(), removed);
  EXPECT_EQ(rt_->read_file("/testbed/x").status(), removed);
  EXPECT_EQ(rt_->write_file("/testbed/x", "x"), removed);
  EXPECT_EQ(rt_->upload(std::filesystem::temp_directory_path(), "/testbed/t"), removed);
  EXPECT_EQ(rt_->download("/testbed/x", std::filesystem::temp_directory_path() / "r2e-fault-x"),
            removed);
  EXPECT_EQ(rt_->calls(Op::kExec), 0);
  rt_->clear();
  EXPECT_TRUE(rt_->alive());
  EXPECT_TRUE(Run("true").ok());
}

TEST_F(FaultRuntimeTest, NewStartRevivesAKilledSandbox) {
  rt_->kill_sandbox();
  ASSERT_TRUE(rt_->stop().ok());
  EXPECT_FALSE(rt_->target().alive());
  ASSERT_TRUE(rt_->start({}).ok());
  EXPECT_TRUE(rt_->alive());
  EXPECT_TRUE(Run("true").ok());
  EXPECT_EQ(rt_->calls(Op::kStart), 2);
}

TEST_F(FaultRuntimeTest, StopAlwaysForwardsEvenWhenItsFaultFires) {
  rt_->fail_next(Op::kStop, Status::Unavailable("stop failed"));
  EXPECT_EQ(rt_->stop(), Status::Unavailable("stop failed"));
  EXPECT_FALSE(rt_->target().alive());  // nothing left running
  EXPECT_EQ(rt_->calls(Op::kStop), 1);
  EXPECT_TRUE(rt_->stop().ok());
}

TEST_F(FaultRuntimeTest, FailedStartDoesNotReachTheRuntime) {
  ASSERT_TRUE(rt_->stop().ok());
  rt_->fail_next(Op::kStart, Status::NotFound("no such image"));
  EXPECT_EQ(rt_->start({}).code(), StatusCode::kNotFound);
  EXPECT_FALSE(rt_->alive());
  EXPECT_EQ(rt_->calls(Op::kStart), 1);
  EXPECT_TRUE(rt_->start({}).ok());
  EXPECT_EQ(rt_->calls(Op::kStart), 2);
}

}  // namespace
}  // namespace r2e
