// EnvPool over local RepoEnvs: request order in sync mode, first-ready in
// async mode, an environment failing inside a batch, auto reset with the
// reward, bad calls, and close() with work in flight.
#include "r2e/env_pool.h"

#include <gtest/gtest.h>

#include <thread>

#include "r2e/fault_runtime.h"
#include "r2e/local_runtime.h"
#include "demo_task.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;

using test_util::DemoTask;

// A bash tool (a shell function), so steps do not start python.
RepoEnvOptions ShellToolOptions() {
  RepoEnvOptions o;
  o.tool_set = "";
  o.extra_tools = {{"execute_bash.sh", "# Runs a command.\nexecute_bash() { eval \"$1\"; }\n"},
                   {"finish.sh", "# Ends the episode.\nfinish() { :; }\n"}};
  return o;
}

Action Bash(const std::string& cmd) {
  return ParseAction("<function=execute_bash>\n<parameter=command>" + cmd + "</parameter>\n</function>");
}

// n local environments; those listed in `faulty` run on a FaultRuntime.
std::vector<std::unique_ptr<RepoEnv>> MakeEnvs(int n, std::vector<FaultRuntime*>* faulty = nullptr) {
  std::vector<std::unique_ptr<RepoEnv>> envs;
  for (int i = 0; i < n; ++i) {
    auto fault = std::make_unique<FaultRuntime>(std::make_unique<LocalRuntime>());
    if (faulty) faulty->push_back(fault.get());
    envs.push_back(std::make_unique<RepoEnv>(DemoTask(), std::move(fault), ShellToolOptions()));
  }
  return envs;
}

TEST(EnvPoolTest, SyncModeKeepsRequestOrder) {
  auto pool = EnvPool::Create(MakeEnvs(3)).value();
  EXPECT_GE(pool->num_threads(), 1);
  EXPECT_LE(pool->num_threads(), 3);
  auto resets = pool->reset();
  ASSERT_TRUE(resets.ok()) << resets.status().ToString();
  ASSERT_EQ(resets->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*resets)[i].env_id, i);
    EXPECT_EQ((*resets)[i].kind, EnvResult::Kind::kReset);
    ASSERT_TRUE((*resets)[i].status.ok()) << (*resets)[i].status.ToString();
    ASSERT_TRUE((*resets)[i].observation.has_value());
  }
  // The slowest request is sent first; results still come back in request order.
  ASSERT_TRUE(pool->send({Bash("sleep 0.5; echo two"), Bash("echo zero"), Bash("echo one")}, {2, 0, 1}).ok());
  auto r = pool->recv();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].env_id, 2);
  EXPECT_EQ((*r)[1].env_id, 0);
  EXPECT_EQ((*r)[2].env_id, 1);
  EXPECT_NE((*r)[0].step.observation.text.find("two"), std::string::npos) << (*r)[0].step.observation.text;
  EXPECT_NE((*r)[1].step.observation.text.find("zero"), std::string::npos);
  EXPECT_EQ(pool->in_flight(), 0);
  EXPECT_EQ(pool->recv().status().code(), StatusCode::kFailedPrecondition);
}

TEST(EnvPoolTest, AsyncModeReturnsWhatIsReadyFirst) {
  EnvPoolOptions o;
  o.batch_size = 1;
  o.num_threads = 2;
  auto pool = EnvPool::Create(MakeEnvs(2), o).value();
  ASSERT_TRUE(pool->reset().ok());
  ASSERT_TRUE(pool->send({Bash("sleep 2; echo slow"), Bash("echo fast")}, {0, 1}).ok());
  auto first = pool->recv();
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].env_id, 1) << "the slow environment held back the fast one";
  // Env 1 can be stepped again while env 0 still runs.
  ASSERT_TRUE(pool->send({Bash("echo again")}, {1}).ok());
  auto second = pool->recv();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)[0].env_id, 1);
  EXPECT_NE((*second)[0].step.observation.text.find("again"), std::string::npos);
  auto third = pool->recv(30s);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ((*third)[0].env_id, 0);
  EXPECT_NE((*third)[0].step.observation.text.find("slow"), std::string::npos);
}

TEST(EnvPoolTest, AnEnvironmentErrorStaysInItsResult) {
  std::vector<FaultRuntime*> faulty;
  auto pool = EnvPool::Create(MakeEnvs(3, &faulty)).value();
  ASSERT_TRUE(pool->reset().ok());
  faulty[1]->kill_sandbox();  // env 1's sandbox vanished
  auto r = pool->step({Bash("echo a"), Bash("echo b"), Bash("echo c")}, {0, 1, 2});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_TRUE((*r)[0].status.ok());
  EXPECT_FALSE((*r)[1].status.ok());
  EXPECT_EQ((*r)[1].status.code(), StatusCode::kUnavailable) << (*r)[1].status.ToString();
  EXPECT_TRUE((*r)[2].status.ok());
  EXPECT_NE((*r)[2].step.observation.text.find("c"), std::string::npos);
  // A reset brings it back.
  faulty[1]->clear();
  auto again = pool->reset({1});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)[0].status.ok()) << (*again)[0].status.ToString();
  auto failing_reset = [&] {
    faulty[2]->fail_next(FaultRuntime::Op::kStart, Status::Unavailable("injected"));
    return pool->reset({0, 2});
  }();
  ASSERT_TRUE(failing_reset.ok());
  EXPECT_TRUE((*failing_reset)[0].status.ok());
  EXPECT_NE((*failing_reset)[1].status.message().find("injected"), std::string::npos);
}

TEST(EnvPoolTest, AutoResetWithRewardOnDone) {
  EnvPoolOptions o;
  o.auto_reset = true;
  o.reward_on_done = true;
  auto pool = EnvPool::Create(MakeEnvs(1), o).value();
  ASSERT_TRUE(pool->reset().ok());
  ASSERT_TRUE(pool->step({Bash("echo dirty > /testbed/mark")}, {0}).ok());
  auto fin = pool->step({ParseAction("<function=finish>\n<parameter=command>submit</parameter>\n</function>")}, {0});
  ASSERT_TRUE(fin.ok());
  const EnvResult& r = (*fin)[0];
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(r.step.done);
  EXPECT_EQ(r.step.reward, 0.0);  // graded before the reset: the bug is not fixed
  ASSERT_TRUE(r.observation.has_value()) << r.reset_status.ToString();
  EXPECT_EQ(r.observation->text, pool->env(0).task_instruction());
  // The new episode starts clean.
  auto check = pool->step({Bash("test -e /testbed/mark && echo dirty || echo clean")}, {0});
  ASSERT_TRUE(check.ok());
  EXPECT_NE((*check)[0].step.observation.text.find("clean"), std::string::npos);
  EXPECT_EQ(pool->env(0).steps(), 1);
}

TEST(EnvPoolTest, BadCallsQueueNothing) {
  auto pool = EnvPool::Create(MakeEnvs(2)).value();
  EXPECT_EQ(pool->send({Bash("true")}, {5}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool->send({Bash("true")}, {-1}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool->send({Bash("true"), Bash("true")}, {0}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool->send({Bash("true"), Bash("true")}, {1, 1}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool->in_flight(), 0);
  // A step before reset is that environment's error, not the pool's.
  ASSERT_TRUE(pool->send({Bash("true")}, {0}).ok());
  EXPECT_EQ(pool->send({Bash("true")}, {0}).code(), StatusCode::kInvalidArgument) << "double send accepted";
  auto r = pool->recv();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(EnvPool::Create({}).status().code(), StatusCode::kInvalidArgument);
  EnvPoolOptions too_big;
  too_big.batch_size = 3;
  EXPECT_EQ(EnvPool::Create(MakeEnvs(2), too_big).status().code(), StatusCode::kInvalidArgument);
}

TEST(EnvPoolTest, CloseWithWorkInFlight) {
  EnvPoolOptions o;
  o.num_threads = 2;
  auto pool = EnvPool::Create(MakeEnvs(3), o).value();
  ASSERT_TRUE(pool->reset().ok());
  std::vector<std::filesystem::path> dirs;
  for (int i = 0; i < 3; ++i) {
    dirs.push_back(static_cast<LocalRuntime&>(static_cast<FaultRuntime&>(pool->env(i).runtime()).target()).workdir());
  }
  // Two long commands run, the third waits in the queue.
  ASSERT_TRUE(pool->send({Bash("sleep 60"), Bash("sleep 60"), Bash("sleep 60")}, {0, 1, 2}).ok());
  std::this_thread::sleep_for(300ms);
  std::thread receiver([&] { EXPECT_EQ(pool->recv().status().code(), StatusCode::kCancelled); });
  const auto start = std::chrono::steady_clock::now();
  pool->close();
  receiver.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "close() waited for the commands";
  EXPECT_EQ(pool->send({Bash("true")}, {0}).code(), StatusCode::kCancelled);
  pool.reset();
  for (const auto& d : dirs) EXPECT_FALSE(std::filesystem::exists(d)) << d << " left behind";
}

}  // namespace
}  // namespace r2e
