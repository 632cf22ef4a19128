// DockerRuntime against a real dockerd (scripts/start-dockerd.sh) and the
// offline test images (scripts/build-test-images.sh). Skips when either is
// missing, so the unit suite stays runnable anywhere.
#include "r2e/docker_runtime.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "docker/docker_client.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kBase = "r2e-test/base:bookworm";
constexpr const char* kDemo = "r2e-demo/textstats:latest";

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

// Containers of this test process that are still there.
std::vector<nlohmann::json> OurContainers() {
  auto list = Client()->list_containers({"r2e.managed=1", "r2e.owner.pid=" + std::to_string(::getpid())});
  return list.ok() ? *list : std::vector<nlohmann::json>{};
}

class DockerRuntimeTest : public ::testing::Test {
 protected:
  void TearDown() override {
    rt_.reset();
    if (Client()) {
      EXPECT_TRUE(OurContainers().empty()) << "a test leaked a container";
    }
  }
  void Start(DockerRuntimeOptions o = {}, std::string image = kBase) {
    rt_ = std::make_unique<DockerRuntime>(o);
    SandboxSpec spec;
    spec.image = image;
    spec.task_id = "docker-test";
    Status s = rt_->start(spec);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ExecResult Run(std::string_view cmd, std::chrono::milliseconds timeout = 30s) {
    ExecOptions o;
    o.timeout = timeout;
    auto r = rt_->exec(cmd, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ExecResult{};
  }
  std::unique_ptr<DockerRuntime> rt_;
};

TEST_F(DockerRuntimeTest, LifecycleLabelsAndSessionExec) {
  REQUIRE_IMAGE(kBase);
  Start();
  auto info = Client()->inspect_container(rt_->container_id());
  ASSERT_TRUE(info.ok());
  const auto& labels = (*info)["Config"]["Labels"];
  EXPECT_EQ(labels["r2e.managed"], "1");
  EXPECT_EQ(labels["r2e.task"], "docker-test");
  EXPECT_EQ(labels["r2e.owner.pid"], std::to_string(::getpid()));
  EXPECT_FALSE(labels["r2e.expires"].get<std::string>().empty());
  EXPECT_TRUE((*info)["HostConfig"]["AutoRemove"].get<bool>());
  EXPECT_TRUE(rt_->alive());

  auto r = Run("echo out; echo err >&2; exit 5");
  EXPECT_EQ(r.output, "out\nerr\n");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(Run("pwd").output, "/testbed\n");
  EXPECT_EQ(Run("cd /; export A=1").exit_code, 0);
  EXPECT_EQ(Run("pwd; echo ${A:-unset}").output, "/testbed\nunset\n");

  const std::string id = rt_->container_id();
  ASSERT_TRUE(rt_->stop().ok());
  EXPECT_EQ(Client()->inspect_container(id).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(rt_->alive());
  EXPECT_TRUE(rt_->stop().ok());
}

TEST_F(DockerRuntimeTest, TimeoutKillsTreeBoundedOutputAndRestart) {
  REQUIRE_IMAGE(kBase);
  Start();
  auto t0 = std::chrono::steady_clock::now();
  auto r = Run("echo begin; (sleep 1000 &); trap '' TERM; sleep 1000", 2s);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.output.rfind("begin\n", 0), 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);  // not the 1000 s of the command
  auto big = Run("head -c 200000000 /dev/zero | tr '\\0' y; echo; echo END", 120s);
  EXPECT_EQ(big.exit_code, 0);
  EXPECT_GT(big.truncated_bytes, 190000000u);
  EXPECT_LT(big.output.size(), 300000u);
  EXPECT_EQ(big.output.substr(big.output.size() - 4), "END\n");
  EXPECT_EQ(Run("echo back").output, "back\n");
}

// What an agent can run to end its own episode: none of it ends the sandbox.
// The step that ran it may report the session's death; the next one works.
TEST_F(DockerRuntimeTest, KillingEverythingCannotEndTheSandbox) {
  REQUIRE_IMAGE(kBase);
  Start();
  const std::string id = rt_->container_id();
  ASSERT_TRUE(rt_->write_file("/testbed/kept.txt", "kept\n").ok());
  for (const char* kill : {"kill -9 -1", "kill -9 1", "pkill -9 -f .", "kill -9 -1; kill -9 1; pkill -9 -f ."}) {
    SCOPED_TRACE(kill);
    auto killed = rt_->exec(kill);  // the session's own shell dies too
    if (!killed.ok()) {
      EXPECT_EQ(killed.status().code(), StatusCode::kUnavailable) << killed.status().ToString();
    }
    auto after = rt_->exec("cat /testbed/kept.txt; ps -o pid= -p 1 | tr -d ' '");
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    EXPECT_EQ(after->output, "kept\n1\n");
    EXPECT_TRUE(rt_->alive());
    EXPECT_EQ(rt_->container_id(), id);
  }
}

TEST_F(DockerRuntimeTest, TheGuardReapsOrphans) {
  REQUIRE_IMAGE(kBase);
  Start();
  // Processes whose parent exits at once: PID 1 inherits them, and they end
  // soon after. Without reaping they would stay as zombies.
  ASSERT_EQ(Run("for i in 1 2 3 4 5; do sh -c 'sleep 0.2 & exit 0'; done; echo started").output, "started\n");
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string zombies;
  do {
    std::this_thread::sleep_for(200ms);
    zombies = Run("ps -eo stat= | grep -c '^Z' || true").output;
  } while (zombies != "0\n" && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(zombies, "0\n") << Run("ps -eo pid,ppid,stat,args").output;
}

TEST_F(DockerRuntimeTest, TheLifetimeHoldsAfterTheAgentKilledTheGuardsSleep) {
  REQUIRE_IMAGE(kBase);
  DockerRuntimeOptions o;
  o.max_lifetime = 10s;
  // Taken before the start: the guard starts later, so its lifetime ends at
  // least 10 s after this (less at most the 1 s /proc/uptime resolution).
  const auto started = std::chrono::steady_clock::now();
  Start(o);
  const std::string id = rt_->container_id();
  // Killing the guard's sleep again and again, in one step (few round trips
  // on a loaded machine), neither ends the container nor stretches its
  // lifetime.
  (void)rt_->exec("for i in 1 2 3; do pkill -9 sleep; sleep 0.3; done; kill -9 -1");
  auto alive = rt_->exec("echo alive");
  ASSERT_TRUE(alive.ok()) << alive.status().ToString();
  EXPECT_EQ(alive->output, "alive\n");
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() - started < 70s) {
    std::this_thread::sleep_for(250ms);
    gone = Client()->inspect_container(id).status().code() == StatusCode::kNotFound;
  }
  EXPECT_TRUE(gone) << "the container outlived its lifetime";
  EXPECT_GE(std::chrono::steady_clock::now() - started, 9s) << "the container ended before its lifetime";
  rt_->stop();
}

TEST_F(DockerRuntimeTest, ReportsTheLimitsTheDaemonDidNotApply) {
  REQUIRE_IMAGE(kBase);
  DockerRuntimeOptions o;
  o.pids_limit = 300;
  o.memory_bytes = 512LL << 20;
  Start(o);
  auto info = Client()->inspect_container(rt_->container_id());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const std::vector<std::string> dropped = rt_->unenforced_limits();
  // Whatever the daemon does (Docker applies both; rootless Podman without
  // cgroup delegation neither), the report matches the container.
  for (const auto& [field, wanted] : {std::pair<std::string, std::int64_t>{"PidsLimit", o.pids_limit},
                                      std::pair<std::string, std::int64_t>{"Memory", o.memory_bytes}}) {
    const bool applied = (*info)["HostConfig"].value(field, std::int64_t{0}) == wanted;
    const bool reported =
        std::find(dropped.begin(), dropped.end(), field + "=" + std::to_string(wanted)) != dropped.end();
    EXPECT_NE(applied, reported) << field;
  }
  ASSERT_TRUE(rt_->stop().ok());
  EXPECT_TRUE(rt_->unenforced_limits().empty());
}

TEST_F(DockerRuntimeTest, ForkBombIsContainedByThePidsLimit) {
  REQUIRE_IMAGE(kBase);
  DockerRuntimeOptions o;
  o.pids_limit = 200;
  Start(o);
  if (!rt_->unenforced_limits().empty()) {
    // No fork bomb where nothing contains it.
    GTEST_SKIP() << "the daemon applies no pids limit here (a rootless daemon without cgroup delegation)";
  }
  // The bomb backgrounds itself, so the step returns at once; the pids limit
  // keeps it inside the container, and the sandbox is then spent: stop()
  // removes it promptly and a fresh start works.
  auto t0 = std::chrono::steady_clock::now();
  ExecOptions eo;
  eo.timeout = 3s;
  auto r = rt_->exec("bomb() { bomb | bomb & }; bomb", eo);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  (void)r;
  auto info = Client()->inspect_container(rt_->container_id());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)["HostConfig"]["PidsLimit"], 200);
  t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(rt_->stop().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);
  Start();
  EXPECT_EQ(Run("echo alive").output, "alive\n");
}

// Names for an image, as the rollout bench gives each task: the new name
// is the same image, and removing it leaves the original.
TEST_F(DockerRuntimeTest, TagAndUntagAnImageName) {
  REQUIRE_IMAGE(kBase);
  const std::string name = "r2e-test/tagged-" + std::to_string(::getpid()) + ":copy";
  ASSERT_TRUE(DockerRuntime::TagImage(kBase, name).ok());
  auto tagged = Client()->inspect_image(name);
  ASSERT_TRUE(tagged.ok()) << tagged.status().ToString();
  EXPECT_EQ(tagged->value("Id", ""), Client()->inspect_image(kBase)->value("Id", ""));
  // A name without a tag is "latest".
  const std::string bare = "r2e-test/tagged-" + std::to_string(::getpid());
  ASSERT_TRUE(DockerRuntime::TagImage(kBase, bare).ok());
  EXPECT_TRUE(HaveImage(bare + ":latest"));

  ASSERT_TRUE(DockerRuntime::UntagImage(name).ok());
  ASSERT_TRUE(DockerRuntime::UntagImage(bare).ok());
  EXPECT_EQ(Client()->inspect_image(name).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(HaveImage(kBase));
  EXPECT_TRUE(DockerRuntime::UntagImage(name).ok()) << "an absent name is already removed";

  Status absent = DockerRuntime::TagImage("r2e-test/no-such-image:never", name);
  EXPECT_EQ(absent.code(), StatusCode::kNotFound) << absent.ToString();
}

TEST_F(DockerRuntimeTest, PerCommandExecMode) {
  REQUIRE_IMAGE(kBase);
  DockerRuntimeOptions o;
  o.exec_mode = DockerRuntimeOptions::ExecMode::kPerCommand;
  Start(o);
  auto r = Run("echo hi; exit 3");
  EXPECT_EQ(r.output, "hi\n");
  EXPECT_EQ(r.exit_code, 3);
  auto t0 = std::chrono::steady_clock::now();
  auto slow = Run("sleep 100", 1s);
  EXPECT_TRUE(slow.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);  // not the 100 s of the command
}

TEST_F(DockerRuntimeTest, FilesRoundTrip) {
  REQUIRE_IMAGE(kBase);
  Start();
  ASSERT_TRUE(rt_->write_file("/root/new/dir/f.txt", "hello\n", 0600).ok());
  EXPECT_EQ(Run("cat /root/new/dir/f.txt; stat -c %a /root/new/dir/f.txt").output, "hello\n600\n");
  EXPECT_EQ(*rt_->read_file("/root/new/dir/f.txt"), "hello\n");
  EXPECT_EQ(rt_->read_file("/nope").status().code(), StatusCode::kNotFound);
  fs::path dir = fs::temp_directory_path() / ("r2e-docker-up-" + std::to_string(::getpid()));
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "sub" / "a.txt") << "A";
  ASSERT_TRUE(rt_->upload(dir, "/tmp/up").ok());
  EXPECT_EQ(Run("cat /tmp/up/sub/a.txt").output, "A");
  fs::path back = fs::temp_directory_path() / ("r2e-docker-down-" + std::to_string(::getpid()));
  ASSERT_TRUE(rt_->download("/tmp/up", back).ok());
  std::ifstream in(back / "sub" / "a.txt");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), {}), "A");
  fs::remove_all(dir);
  fs::remove_all(back);
}

TEST_F(DockerRuntimeTest, StartFailuresLeaveNothing) {
  if (!Client()) GTEST_SKIP() << "no Docker daemon";
  DockerRuntimeOptions o;
  o.pull = DockerRuntimeOptions::Pull::kNever;
  DockerRuntime rt(o);
  SandboxSpec spec;
  spec.image = "r2e-test/does-not-exist:nope";
  Status s = rt.start(spec);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("does-not-exist"), std::string::npos);
  spec.image = "Not A Valid Image!!";
  EXPECT_FALSE(rt.start(spec).ok());
  DockerRuntimeOptions bad;
  bad.socket_path = "/nonexistent/docker.sock";
  DockerRuntime nowhere(bad);
  spec.image = kBase;
  EXPECT_EQ(nowhere.start(spec).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(OurContainers().empty());
}

TEST_F(DockerRuntimeTest, StopRacingWithExecsNeverCrashes) {
  REQUIRE_IMAGE(kBase);
  for (int round = 0; round < 3; ++round) {
    Start();
    std::atomic<bool> done{false};
    std::thread runner([&] {
      while (!done) {
        auto r = rt_->exec("echo x");
        if (!r.ok()) {
          const StatusCode c = r.status().code();
          EXPECT_TRUE(c == StatusCode::kCancelled || c == StatusCode::kFailedPrecondition ||
                      c == StatusCode::kUnavailable)
              << r.status().ToString();
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + 40 * round));
    EXPECT_TRUE(rt_->stop().ok());
    std::this_thread::sleep_for(20ms);
    done = true;
    runner.join();
    rt_.reset();
  }
}

TEST_F(DockerRuntimeTest, ContainerRemovedBehindOurBack) {
  REQUIRE_IMAGE(kBase);
  Start();
  ASSERT_TRUE(Client()->remove_container(rt_->container_id(), true).ok());
  auto r = rt_->exec("echo hi");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(rt_->alive());
  EXPECT_TRUE(rt_->stop().ok());
}

TEST_F(DockerRuntimeTest, LifetimeGuardRemovesTheContainer) {
  REQUIRE_IMAGE(kBase);
  DockerRuntimeOptions o;
  o.max_lifetime = 2s;
  Start(o);
  const std::string id = rt_->container_id();
  bool gone = false;
  for (int i = 0; i < 60 && !gone; ++i) {
    std::this_thread::sleep_for(250ms);
    gone = Client()->inspect_container(id).status().code() == StatusCode::kNotFound;
  }
  EXPECT_TRUE(gone);
  rt_->stop();
}

TEST_F(DockerRuntimeTest, CleanupRemovesTheContainerOfAKilledOwner) {
  REQUIRE_IMAGE(kBase);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    DockerRuntime rt;
    SandboxSpec spec;
    spec.image = kBase;
    std::string name = rt.start(spec).ok() ? rt.container_name() : "";
    name += "\n";
    [[maybe_unused]] auto n = ::write(fds[1], name.data(), name.size());
    pause();
    _exit(0);
  }
  ::close(fds[1]);
  std::string name;
  char c;
  while (::read(fds[0], &c, 1) == 1 && c != '\n') name += c;
  ::close(fds[0]);
  ASSERT_FALSE(name.empty());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  // From the kill on, any reaper on this host may remove the container (a
  // test running beside this one, PrepareSandboxes): only that it is gone
  // after this cleanup is asserted, not which reaper removed it.
  auto report = CleanupSandboxes({});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(Client()->inspect_container(name).status().code(), StatusCode::kNotFound);
}

// A dry run names what it would remove and removes nothing. Checked with
// `all` on a live container, which no other reaper on the host removes.
TEST_F(DockerRuntimeTest, CleanupDryRunRemovesNothing) {
  REQUIRE_IMAGE(kBase);
  DockerRuntime rt;
  SandboxSpec spec;
  spec.image = kBase;
  ASSERT_TRUE(rt.start(spec).ok());
  CleanupOptions dry;
  dry.dry_run = true;
  dry.all = true;
  auto report = CleanupSandboxes(dry);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_NE(std::find(report->removed.begin(), report->removed.end(), rt.container_name()),
            report->removed.end());
  EXPECT_TRUE(Client()->inspect_container(rt.container_name()).ok());
  dry.all = false;
  report = CleanupSandboxes(dry);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(std::find(report->removed.begin(), report->removed.end(), rt.container_name()),
            report->removed.end())
      << "a live owner's container is not an orphan";
  EXPECT_TRUE(rt.stop().ok());
}

TEST_F(DockerRuntimeTest, CleanupNeverTouchesContainersWithoutOurLabel) {
  REQUIRE_IMAGE(kBase);
  nlohmann::json config = {{"Image", kBase}, {"Cmd", {"sleep", "60"}}, {"Labels", {{"r2e.test", "1"}}}};
  auto id = Client()->create_container(config, "r2e-foreign-" + std::to_string(::getpid()));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  CleanupOptions all;
  all.all = true;
  all.dry_run = true;
  auto report = CleanupSandboxes(all);
  ASSERT_TRUE(report.ok());
  for (const auto& n : report->removed) EXPECT_NE(n, "r2e-foreign-" + std::to_string(::getpid()));
  Client()->remove_container(*id, true);
}

Task DemoTask() {
  auto tasks = LoadTasks(std::string(R2E_SOURCE_DIR) + "/examples/tasks/demo.jsonl");
  return tasks.ok() ? tasks->front() : Task{};
}

TEST_F(DockerRuntimeTest, DemoEpisodeEarnsOneScriptedAndZeroNoop) {
  REQUIRE_IMAGE(kDemo);
  Task task = DemoTask();
  RepoEnvOptions o;
  o.runtime = DockerRuntimeFactory();
  auto env = RepoEnv::Create(task, o).value();
  ASSERT_TRUE(env->reset().ok());
  auto hidden = env->run("test -e /testbed/r2e_tests || test -e /testbed/run_tests.sh");
  ASSERT_TRUE(hidden.ok());
  EXPECT_NE(hidden->exit_code, 0) << "hidden tests are visible to the agent";
  auto zero = env->compute_reward();
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(*zero, 0.0);
  for (const auto& a : task.row.at("scripted_actions")) {
    auto r = env->step(a.get<std::string>());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  auto one = env->compute_reward();
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, 1.0);
  EXPECT_TRUE(env->close().ok());
}

}  // namespace
}  // namespace r2e
