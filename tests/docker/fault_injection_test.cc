// Fault injection across the docker stack (docs/reliability.md): the daemon
// stopped and restarted mid-episode, a container removed behind our back,
// the session's exec connection cut mid-command. Each case asserts what the
// caller sees and that no sandbox is left.
//
// The daemon cases run a PRIVATE dockerd (own socket, data root, exec root,
// pid file and bridge under a temp directory; iptables off) so that the
// shared daemon other tests use is never stopped. It needs root, dockerd,
// the docker CLI (to copy r2e-test/base:bookworm into it with save | load)
// and a free bridge name; otherwise those cases skip. Its bridge is one we
// create (never --bridge none, which makes dockerd delete the host's docker0).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "docker/docker_client.h"
#include "r2e/docker_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/rollout_scheduler.h"
#include "r2e/runtimes.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kBase = "r2e-test/base:bookworm";

Task BaseTask() {
  Task t;
  t.instance_id = "fault-injection";
  t.kind = TaskKind::kSweBench;  // no hidden-test setup: a plain repository sandbox
  t.image = kBase;
  t.problem_statement = "fault injection";
  return t;
}

std::string Bash(const std::string& cmd) {
  return "<function=execute_bash>\n<parameter=cmd>" + cmd + "</parameter>\n</function>";
}

// A dockerd of our own. Start() and Stop() may be called repeatedly; the
// destructor stops it and removes its state.
class PrivateDaemon {
 public:
  PrivateDaemon() {
    dir_ = fs::temp_directory_path() / ("r2e-dockerd-" + std::to_string(::getpid()));
    bridge_ = "r2ef" + std::to_string(::getpid() % 100000);
  }
  ~PrivateDaemon() {
    Stop();
    // Containers the daemon left (it was stopped under them) die with its
    // containerd; their state goes with the directories.
    std::string cmd = "umount -R " + (dir_ / "data").string() + " >/dev/null 2>&1; umount -R " +
                      (dir_ / "exec").string() + " >/dev/null 2>&1; ip link delete " + bridge_ +
                      " >/dev/null 2>&1";
    (void)std::system(cmd.c_str());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string socket() const { return (dir_ / "docker.sock").string(); }
  const std::string& skip_reason() const { return skip_; }

  // Sets up the bridge and directories once; empty skip_reason() when it works.
  bool Prepare() {
    if (::geteuid() != 0) return Skip("not root");
    if (std::system("command -v dockerd >/dev/null && command -v docker >/dev/null && command -v ip >/dev/null") != 0)
      return Skip("dockerd, docker or ip missing");
    fs::create_directories(dir_);
    std::string cmd = "ip link add " + bridge_ + " type bridge && ip addr add 10.213." +
                      std::to_string(::getpid() % 250) + ".1/24 dev " + bridge_ + " && ip link set " + bridge_ +
                      " up";
    if (std::system(cmd.c_str()) != 0) return Skip("cannot create bridge " + bridge_);
    return true;
  }

  bool Start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setsid();
      const std::string log = (dir_ / "dockerd.log").string();
      FILE* f = std::freopen(log.c_str(), "a", stdout);
      (void)f;
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      const std::string host = "unix://" + socket();
      const std::string data = (dir_ / "data").string(), exec = (dir_ / "exec").string();
      const std::string pidfile = (dir_ / "docker.pid").string();
      ::execlp("dockerd", "dockerd", "--host", host.c_str(), "--data-root", data.c_str(), "--exec-root",
               exec.c_str(), "--pidfile", pidfile.c_str(), "--bridge", bridge_.c_str(), "--iptables=false",
               "--ip-masq=false", "--ip-forward=false", "--shutdown-timeout", "2", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 120; ++i) {
      docker::ClientOptions o;
      o.socket_path = socket();
      o.request_timeout = 2s;
      if (docker::DockerClient::Connect(o).ok()) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return Skip("private dockerd exited at start (see " + (dir_ / "dockerd.log").string() + ")");
      }
      std::this_thread::sleep_for(500ms);
    }
    return Skip("private dockerd did not answer within 60 s");
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  bool LoadBaseImage() {
    std::string cmd = std::string("docker save ") + kBase + " | docker -H unix://" + socket() + " load >/dev/null";
    return std::system(cmd.c_str()) == 0 || Skip(std::string("cannot copy ") + kBase + " into the private daemon");
  }

  std::vector<nlohmann::json> Containers() {
    docker::ClientOptions o;
    o.socket_path = socket();
    auto c = docker::DockerClient::Connect(o);
    if (!c.ok()) return {};
    auto list = (*c)->list_containers({"r2e.managed=1"});
    return list.ok() ? *list : std::vector<nlohmann::json>{};
  }

 private:
  bool Skip(std::string why) {
    skip_ = std::move(why);
    return false;
  }
  fs::path dir_;
  std::string bridge_;
  pid_t pid_ = -1;
  std::string skip_;
};

std::shared_ptr<docker::DockerClient> SharedClient() {
  static std::shared_ptr<docker::DockerClient> client = [] {
    auto c = docker::DockerClient::Connect();
    return c.ok() ? std::shared_ptr<docker::DockerClient>(std::move(c).value()) : nullptr;
  }();
  return client;
}

bool SharedHasBase() { return SharedClient() && SharedClient()->inspect_image(kBase).ok(); }

std::vector<nlohmann::json> OurSharedContainers() {
  auto list = SharedClient()->list_containers({"r2e.managed=1", "r2e.owner.pid=" + std::to_string(::getpid())});
  return list.ok() ? *list : std::vector<nlohmann::json>{};
}

TEST(FaultInjectionTest, DaemonStoppedMidEpisodeThenRestarted) {
  if (!SharedHasBase()) GTEST_SKIP() << "no shared daemon or " << kBase << " (scripts/build-test-images.sh)";
  PrivateDaemon daemon;
  if (!daemon.Prepare() || !daemon.Start() || !daemon.LoadBaseImage()) GTEST_SKIP() << daemon.skip_reason();

  RepoEnvOptions o;
  DockerRuntimeOptions docker;
  docker.socket_path = daemon.socket();
  docker.network_mode = "none";
  o.runtime = DockerRuntimeFactory(docker);
  o.step_timeout = 20s;
  auto env = RepoEnv::Create(BaseTask(), o).value();
  {
    auto first = env->reset();
    ASSERT_TRUE(first.ok()) << first.status().ToString();
  }
  auto hi = env->step(Bash("echo hi"));
  ASSERT_TRUE(hi.ok()) << hi.status().ToString();
  EXPECT_NE(hi->observation.text.find("hi"), std::string::npos);

  // Stop the daemon while a command runs: that step ends (no hang) and the
  // next one fails with Unavailable naming the socket.
  auto running = std::async(std::launch::async, [&] { return env->step(Bash("sleep 8; echo late")); });
  std::this_thread::sleep_for(1s);
  const auto t_stop = std::chrono::steady_clock::now();
  daemon.Stop();
  ASSERT_EQ(running.wait_for(60s), std::future_status::ready) << "a step hung after the daemon stopped";
  auto cut = running.get();
  if (cut.ok()) {
    EXPECT_EQ(cut->observation.text.find("late"), std::string::npos);
  }
  auto down = env->step(Bash("echo down"));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable) << down.status().ToString();
  EXPECT_NE(down.status().message().find(daemon.socket()), std::string::npos) << down.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t_stop, 90s);
  auto no_reset = env->reset();
  ASSERT_FALSE(no_reset.ok());
  EXPECT_EQ(no_reset.status().code(), StatusCode::kUnavailable) << no_reset.status().ToString();

  // Back up: reset() gives a working sandbox again.
  ASSERT_TRUE(daemon.Start()) << daemon.skip_reason();
  auto again = env->reset();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto back = env->step(Bash("echo back"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_NE(back->observation.text.find("back"), std::string::npos);
  EXPECT_TRUE(env->close().ok());

  // Nothing of ours is left on the private daemon (the container that was
  // running when it stopped is removed by AutoRemove or by stop()).
  std::vector<nlohmann::json> left = daemon.Containers();
  for (int i = 0; i < 50 && !left.empty(); ++i) {
    std::this_thread::sleep_for(200ms);
    left = daemon.Containers();
  }
  EXPECT_TRUE(left.empty()) << nlohmann::json(left).dump();
}

// A daemon restart in the middle of a RolloutScheduler's work: rollouts
// prepared before it die under their steps (infra_error), those prepared
// while it is down are handed out as infra_error after the retries, those
// submitted after it is back succeed, and nothing is left on the daemon.
TEST(FaultInjectionTest, DaemonRestartMidBatchOfTheRolloutScheduler) {
  if (!SharedHasBase()) GTEST_SKIP() << "no shared daemon or " << kBase << " (scripts/build-test-images.sh)";
  PrivateDaemon daemon;
  if (!daemon.Prepare() || !daemon.Start() || !daemon.LoadBaseImage()) GTEST_SKIP() << daemon.skip_reason();

  RolloutSchedulerOptions o;
  DockerRuntimeOptions docker;
  docker.socket_path = daemon.socket();
  docker.network_mode = "none";
  o.env.runtime = DockerRuntimeFactory(docker);
  o.env.step_timeout = 20s;
  o.max_live = 6;
  o.max_concurrent_starts = 2;
  o.reset_retries = 1;
  o.retry_backoff = 100ms;
  auto scheduler = RolloutScheduler::Create(o).value();
  ASSERT_TRUE(scheduler->submit({{BaseTask(), 2}}).ok());
  for (int i = 0; i < 600 && scheduler->stats().ready < 2; ++i) std::this_thread::sleep_for(100ms);
  ASSERT_EQ(scheduler->stats().ready, 2) << ToJson(scheduler->stats()).dump();

  daemon.Stop();
  ASSERT_TRUE(scheduler->submit({{BaseTask(), 2}}).ok());  // prepared while the daemon is down
  std::vector<std::unique_ptr<RepoEnv>> held;
  for (int i = 0; i < 2; ++i) {  // batch 1: ready before, dead now
    auto r = scheduler->acquire(60s);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->outcome, RolloutOutcome::kOk);
    auto step = r->env->step(Bash("echo hi"));
    EXPECT_EQ(OutcomeOf(step), RolloutOutcome::kInfraError);
    EXPECT_EQ(step.status().code(), StatusCode::kUnavailable) << step.status().ToString();
    held.push_back(std::move(r->env));
  }
  for (int i = 0; i < 2; ++i) {  // batch 2: could not start
    auto r = scheduler->acquire(60s);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->batch, 2);
    EXPECT_EQ(r->outcome, RolloutOutcome::kInfraError);
    EXPECT_EQ(r->env, nullptr);
    EXPECT_EQ(r->attempts, 2);
    EXPECT_EQ(r->status.code(), StatusCode::kUnavailable) << r->status.ToString();
  }

  ASSERT_TRUE(daemon.Start()) << daemon.skip_reason();
  for (auto& env : held) scheduler->release(std::move(env));
  ASSERT_TRUE(scheduler->submit({{BaseTask(), 2}}).ok());
  for (int i = 0; i < 2; ++i) {  // batch 3: after the restart
    auto r = scheduler->acquire(120s);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->batch, 3);
    ASSERT_EQ(r->outcome, RolloutOutcome::kOk) << r->status.ToString();
    auto step = r->env->step(Bash("echo back"));
    ASSERT_TRUE(step.ok()) << step.status().ToString();
    EXPECT_NE(step->observation.text.find("back"), std::string::npos);
    scheduler->release(std::move(r->env));
  }
  scheduler->shutdown();
  const RolloutStats s = scheduler->stats();
  EXPECT_EQ(s.infra_errors, 2);
  EXPECT_EQ(s.retried, 2);
  EXPECT_EQ(s.steps.infra_error, 2);
  EXPECT_EQ(s.steps.ok, 2);
  EXPECT_EQ(s.live, 0);
  std::vector<nlohmann::json> left = daemon.Containers();
  for (int i = 0; i < 50 && !left.empty(); ++i) {
    std::this_thread::sleep_for(200ms);
    left = daemon.Containers();
  }
  EXPECT_TRUE(left.empty()) << nlohmann::json(left).dump();
}

TEST(FaultInjectionTest, ContainerRemovedBehindOurBackThenReset) {
  if (!SharedHasBase()) GTEST_SKIP() << "no daemon or " << kBase;
  {
    RepoEnvOptions o;
    DockerRuntimeOptions docker;
    docker.network_mode = "none";
    o.runtime = DockerRuntimeFactory(docker);
    auto env = RepoEnv::Create(BaseTask(), o).value();
    {
    auto first = env->reset();
    ASSERT_TRUE(first.ok()) << first.status().ToString();
  }
    auto* rt = dynamic_cast<DockerRuntime*>(&env->runtime());
    ASSERT_NE(rt, nullptr);
    ASSERT_TRUE(SharedClient()->remove_container(rt->container_id(), true).ok());
    auto gone = env->step(Bash("echo hi"));
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.status().code(), StatusCode::kUnavailable) << gone.status().ToString();
    auto again = env->reset();
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    auto back = env->step(Bash("echo back"));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_NE(back->observation.text.find("back"), std::string::npos);
  }
  EXPECT_TRUE(OurSharedContainers().empty()) << "a container leaked";
}

TEST(FaultInjectionTest, ExecConnectionCutMidCommandSessionReconnects) {
  if (!SharedHasBase()) GTEST_SKIP() << "no daemon or " << kBase;
  {
    RepoEnvOptions o;
    DockerRuntimeOptions docker;
    docker.network_mode = "none";
    o.runtime = DockerRuntimeFactory(docker);
    auto env = RepoEnv::Create(BaseTask(), o).value();
    {
    auto first = env->reset();
    ASSERT_TRUE(first.ok()) << first.status().ToString();
  }
    auto* rt = dynamic_cast<DockerRuntime*>(&env->runtime());
    ASSERT_NE(rt, nullptr);
    const std::string id = rt->container_id();
    // The session loop is the far end of the session's connection (a
    // hijacked exec, or the pipes of the fifo session): killing it (the
    // root of the session's process tree) from a second exec cuts the
    // stream mid-command; the command's own process group lives on.
    auto running = std::async(std::launch::async, [&] { return env->step(Bash("sleep 6; echo late")); });
    std::this_thread::sleep_for(1500ms);
    const auto t_cut = std::chrono::steady_clock::now();
    // (No procps in the image: match command lines under /proc; the
    // bracket keeps this shell's own command line from matching.)
    const std::string kill_session =
        "n=0; for p in /proc/[0-9]*; do pid=${p#/proc/}; "
        "if tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q 'r2e-sessio[n]'; then "
        "pp=$(awk '/^PPid:/ {print $2}' $p/status); "
        "if ! tr '\\0' ' ' < /proc/$pp/cmdline 2>/dev/null | grep -q 'r2e-sessio[n]'; then "
        "kill -9 $pid && n=$((n+1)); fi; fi; done; echo killed $n";
    auto killer = SharedClient()->exec_run(id, {"sh", "-c", kill_session}, {}, "/", 20s);
    ASSERT_TRUE(killer.ok()) << killer.status().ToString();
    EXPECT_NE(killer->stdout_data.find("killed"), std::string::npos) << killer->stdout_data << killer->stderr_data;
    EXPECT_EQ(killer->stdout_data.find("killed 0"), std::string::npos) << "no session process found";
    ASSERT_EQ(running.wait_for(30s), std::future_status::ready) << "the cut step hung";
    auto cut = running.get();
    // The step ends once the stream does (here: when the command's orphaned
    // process group closes it), with no exit status to report.
    if (cut.ok()) {
      EXPECT_EQ(cut->info.exit_code, -1) << cut->observation.text;
    } else {
      EXPECT_EQ(cut.status().code(), StatusCode::kUnavailable) << cut.status().ToString();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t_cut, 20s);
    // The next step runs in a new session on the same container.
    auto back = env->step(Bash("echo back"));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_NE(back->observation.text.find("back"), std::string::npos) << back->observation.text;
    EXPECT_EQ(rt->container_id(), id);
    EXPECT_TRUE(env->close().ok());
  }
  EXPECT_TRUE(OurSharedContainers().empty()) << "a container leaked";
}

}  // namespace
}  // namespace r2e
