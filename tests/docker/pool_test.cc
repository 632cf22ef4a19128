// The warm pool, fast reset and EnvPool against a real dockerd with the demo
// task image: a container killed while pooled, shutdown with preparations in
// flight, an environment whose container vanishes inside a batch, close()
// with commands running, and no container of ours left afterwards.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "docker/docker_client.h"
#include "r2e/docker_runtime.h"
#include "r2e/env_pool.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/warm_pool.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDemo = "r2e-demo/textstats:latest";

std::shared_ptr<docker::DockerClient> Client() {
  static std::shared_ptr<docker::DockerClient> client = [] {
    auto c = docker::DockerClient::Connect();
    return c.ok() ? std::shared_ptr<docker::DockerClient>(std::move(c).value()) : nullptr;
  }();
  return client;
}

#define REQUIRE_DEMO_IMAGE()                                                                     \
  do {                                                                                           \
    if (!Client()) GTEST_SKIP() << "no Docker daemon answers (scripts/start-dockerd.sh)";        \
    if (!Client()->inspect_image(kDemo).ok()) GTEST_SKIP() << kDemo << " missing (scripts/build-test-images.sh)"; \
  } while (0)

// Our containers (this process), optionally only the pooled ones.
std::vector<nlohmann::json> Ours(bool pooled_only = false) {
  std::vector<std::string> filters = {"r2e.managed=1", "r2e.owner.pid=" + std::to_string(::getpid())};
  if (pooled_only) filters.push_back("r2e.pool=1");
  auto list = Client()->list_containers(filters);
  std::vector<nlohmann::json> running;
  if (!list.ok()) return running;
  // A container being removed may still be listed as "removing"/"exited".
  for (auto& c : *list) {
    if (c.value("State", "") == "running" || c.value("State", "") == "created") running.push_back(c);
  }
  return running;
}

Task DemoTask() {
  auto tasks = LoadTasks(std::string(R2E_SOURCE_DIR) + "/examples/tasks/demo.jsonl");
  EXPECT_TRUE(tasks.ok());
  return tasks.ok() ? tasks->front() : Task{};
}

RepoEnvOptions DockerOptions(DockerRuntimeOptions docker = {}) {
  RepoEnvOptions o;
  o.runtime = DockerRuntimeFactory(std::move(docker));
  return o;
}

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 60s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

class PoolDockerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (Client()) {
      EXPECT_TRUE(Eventually([] { return Ours().empty(); }, 30s)) << "a test leaked a container";
    }
  }
};

TEST_F(PoolDockerTest, WarmResetsAndAContainerKilledWhilePooled) {
  REQUIRE_DEMO_IMAGE();
  Task task = DemoTask();
  RepoEnvOptions options = DockerOptions();
  WarmPoolOptions po;
  po.size = 2;
  po.health_interval = 200ms;
  auto pool = RepoEnv::MakeWarmPool(task, options, po);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  ASSERT_TRUE((*pool)->wait_ready(2, 120s).ok()) << (*pool)->stats().last_error;
  auto pooled = Ours(true);
  ASSERT_EQ(pooled.size(), 2u);
  EXPECT_EQ(pooled[0]["Labels"].value("r2e.task", ""), task.instance_id);

  // Kill one behind the pool's back: it is noticed and replaced.
  ASSERT_TRUE(Client()->remove_container(pooled[0].value("Id", ""), true).ok());
  EXPECT_TRUE(Eventually([&] { return (*pool)->stats().replaced_dead >= 1 && (*pool)->stats().ready == 2; }))
      << (*pool)->stats().last_error;

  options.warm_pool = *pool;
  auto env = RepoEnv::Create(task, options).value();
  ASSERT_TRUE(env->reset().ok());
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kWarm);
  const std::string first = static_cast<DockerRuntime&>(env->runtime()).container_id();
  for (const auto& a : task.row.at("scripted_actions")) ASSERT_TRUE(env->step(a.get<std::string>()).ok());
  EXPECT_EQ(*env->compute_reward(), 1.0);
  ASSERT_TRUE((*pool)->wait_ready(2, 120s).ok());
  // The grade took a pooled sandbox too (GradeIn::kFreshSandbox) and the
  // pool deletes it in the background: then size idle + 1 in use remain.
  EXPECT_TRUE(Eventually([] { return Ours(true).size() <= 3u; })) << "more than size idle + 1 in use";
  ASSERT_TRUE(env->reset().ok());
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kWarm);
  EXPECT_NE(static_cast<DockerRuntime&>(env->runtime()).container_id(), first);
  EXPECT_EQ(*env->compute_reward(), 0.0) << "a solved sandbox was handed out again";
  EXPECT_TRUE(Eventually([&] {
    auto info = Client()->inspect_container(first);
    return !info.ok() || !info->value("/State/Running"_json_pointer, false);
  })) << "the retired container is still running";
  env.reset();
  (*pool)->shutdown();
}

TEST_F(PoolDockerTest, ShutdownWithPreparationsInFlight) {
  REQUIRE_DEMO_IMAGE();
  RepoEnvOptions options = DockerOptions();
  options.extra_setup = {"sleep 120"};
  WarmPoolOptions po;
  po.size = 2;
  auto pool = RepoEnv::MakeWarmPool(DemoTask(), options, po).value();
  ASSERT_TRUE(Eventually([] { return Ours(true).size() == 2; })) << "preparations did not start";
  const auto start = std::chrono::steady_clock::now();
  pool->shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
  EXPECT_TRUE(Ours(true).empty());
}

// A client killed with SIGKILL while its pool holds containers: each one
// carries the labels the reaper needs (r2e cleanup finds them orphaned) and
// its lifetime guard.
TEST_F(PoolDockerTest, PooledContainersOfAKilledClientAreOrphansForCleanup) {
  REQUIRE_DEMO_IMAGE();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    DockerRuntimeOptions docker;
    docker.max_lifetime = std::chrono::seconds(600);
    RepoEnvOptions options = DockerOptions(docker);
    WarmPoolOptions po;
    po.size = 2;
    auto pool = RepoEnv::MakeWarmPool(DemoTask(), options, po);
    const char* msg = pool.ok() && (*pool)->wait_ready(2, 120s).ok() ? "ready\n" : "failed\n";
    [[maybe_unused]] auto n = ::write(fds[1], msg, std::strlen(msg));
    pause();
    _exit(0);
  }
  ::close(fds[1]);
  std::string line;
  char c;
  while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(fds[0]);
  // Listed while the client lives: no reaper takes a live owner's containers.
  auto left = Client()->list_containers({"r2e.pool=1", "r2e.owner.pid=" + std::to_string(child)});
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_EQ(line, "ready");
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 2u) << "the client's pool should hold its two containers";
  for (const auto& ct : *left) {
    const auto labels = ct.value("Labels", nlohmann::json::object());
    EXPECT_EQ(labels.value("r2e.managed", ""), "1");
    EXPECT_FALSE(labels.value("r2e.expires", "").empty());
  }
  // Orphans now: any reaper on this host may remove them (a test running
  // beside this one, PrepareSandboxes); after this one, they are gone.
  auto report = CleanupSandboxes();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const auto& ct : *left) {
    EXPECT_EQ(Client()->inspect_container(ct.value("Id", "")).status().code(),
              StatusCode::kNotFound)
        << ct["Names"][0].get<std::string>() << " is not seen as orphaned";
  }
}

TEST_F(PoolDockerTest, FastResetRestoresInPlace) {
  REQUIRE_DEMO_IMAGE();
  Task task = DemoTask();
  RepoEnvOptions options = DockerOptions();
  options.fast_reset = true;
  auto env = RepoEnv::Create(task, options).value();
  ASSERT_TRUE(env->reset().ok());
  const std::string id = static_cast<DockerRuntime&>(env->runtime()).container_id();
  for (const auto& a : task.row.at("scripted_actions")) ASSERT_TRUE(env->step(a.get<std::string>()).ok());
  EXPECT_EQ(*env->compute_reward(), 1.0);
  ASSERT_TRUE(env->run("echo x > /testbed/new.txt; sleep 1234.5 >/dev/null 2>&1 &").ok());
  EXPECT_EQ(env->run("for i in $(seq 50); do grep -qs '1234[.]5' /proc/[0-9]*/cmdline && exit 0; sleep 0.1; done; exit 1")
                ->exit_code,
            0)
      << "the background process did not start";
  ASSERT_TRUE(env->reset().ok());
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kFast) << env->last_fast_reset_error().ToString();
  EXPECT_EQ(static_cast<DockerRuntime&>(env->runtime()).container_id(), id);
  EXPECT_EQ(env->run("git status --porcelain")->output, "");
  EXPECT_NE(env->run("grep -ls '1234[.]5' /proc/[0-9]*/cmdline")->exit_code, 0) << "the episode's process survived";
  EXPECT_EQ(*env->compute_reward(), 0.0);
}

RepoEnvOptions ShellToolDockerOptions() {
  RepoEnvOptions o = DockerOptions();
  o.tool_set = "";
  o.extra_tools = {{"execute_bash.sh", "# Runs a command.\nexecute_bash() { eval \"$1\"; }\n"}};
  return o;
}

Action Bash(const std::string& cmd) {
  return ParseAction("<function=execute_bash>\n<parameter=command>" + cmd + "</parameter>\n</function>");
}

TEST_F(PoolDockerTest, EnvPoolWithAContainerRemovedInsideABatch) {
  REQUIRE_DEMO_IMAGE();
  std::vector<std::unique_ptr<RepoEnv>> envs;
  for (int i = 0; i < 4; ++i) envs.push_back(RepoEnv::Create(DemoTask(), ShellToolDockerOptions()).value());
  EnvPoolOptions o;
  o.num_threads = 2;
  auto pool = EnvPool::Create(std::move(envs), o).value();
  auto resets = pool->reset();
  ASSERT_TRUE(resets.ok());
  for (const auto& r : *resets) ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  const std::string victim = static_cast<DockerRuntime&>(pool->env(2).runtime()).container_id();
  ASSERT_TRUE(pool->send({Bash("echo 0"), Bash("echo 1"), Bash("sleep 30"), Bash("echo 3")}, {0, 1, 2, 3}).ok());
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(Client()->remove_container(victim, true).ok());
  auto batch = pool->recv(60s);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->size(), 4u);
  for (int i : {0, 1, 3}) {
    EXPECT_TRUE((*batch)[i].status.ok()) << i << ": " << (*batch)[i].status.ToString();
    EXPECT_NE((*batch)[i].step.observation.text.find(std::to_string(i)), std::string::npos);
  }
  const EnvResult& bad = (*batch)[2];
  // Either the step fails, or the command is reported as cut off by the dead shell.
  EXPECT_TRUE(!bad.status.ok() || bad.step.info.exit_code != 0) << bad.step.observation.text;
  // The failed environment comes back with a reset; the others go on.
  auto again = pool->reset({2});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)[0].status.ok()) << (*again)[0].status.ToString();
  auto more = pool->step({Bash("echo fine")}, {2});
  ASSERT_TRUE(more.ok());
  EXPECT_NE((*more)[0].step.observation.text.find("fine"), std::string::npos);

  // close() with commands running returns promptly; destroying the pool removes every container.
  ASSERT_TRUE(pool->send({Bash("sleep 60"), Bash("sleep 60"), Bash("sleep 60")}, {0, 1, 2}).ok());
  std::this_thread::sleep_for(300ms);
  const auto start = std::chrono::steady_clock::now();
  pool->close();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  pool.reset();
  EXPECT_TRUE(Ours().empty());
}

}  // namespace
}  // namespace r2e
