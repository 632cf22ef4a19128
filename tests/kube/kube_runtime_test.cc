// KubeRuntime against the test API server: pod lifecycle, the session over
// both exec subprotocols, exit codes, timeouts that kill process trees,
// bounded output, file copy, faults (images that cannot be pulled, pods that
// never schedule, dropped exec websockets, throttling) and cleanup. Every
// test checks that its namespace is empty at the end.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kube/pod.h"
#include "kube_test_util.h"

namespace r2e::kubetest {
namespace {

class KubeRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(KubeDir() / "kubeconfig")) GTEST_SKIP() << "no test API server at " << KubeDir();
    ns_ = TestNamespace();
    server_ = std::make_unique<Server>();
  }
  void TearDown() override {
    if (!server_) return;
    server_->ClearFaults(ns_);
    EXPECT_TRUE(server_->Pods(ns_).empty()) << "pods leaked in " << ns_;
  }
  std::string ns_;
  std::unique_ptr<Server> server_;
};

TEST_F(KubeRuntimeTest, LifecycleAndExitCodes) {
  KubeRuntime rt(TestRuntimeOptions(ns_));
  EXPECT_FALSE(rt.alive());
  EXPECT_EQ(rt.exec("true").status().code(), StatusCode::kFailedPrecondition);
  SandboxSpec spec = BaseSpec();
  spec.env = {{"SPEC_VAR", "from-spec"}};
  ASSERT_TRUE(rt.start(spec).ok());
  EXPECT_EQ(rt.start(spec).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(rt.alive());
  EXPECT_EQ(server_->Pods(ns_), std::vector<std::string>{rt.pod_name()});

  auto r = rt.exec("echo hello; echo err >&2; exit 7");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->output, "hello\nerr\n");
  r = rt.exec("echo $SPEC_VAR $EXTRA; pwd", {std::chrono::seconds(10), "/tmp", {{"EXTRA", "x y"}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, "from-spec x y\n/tmp\n");
  // State does not leak between commands.
  ASSERT_TRUE(rt.exec("export LEAK=1; cd /etc").ok());
  r = rt.exec("echo \"[$LEAK]\"; pwd");
  EXPECT_EQ(r->output, "[]\n/\n");
  r = rt.exec("kill -9 $$");  // the agent kills its own shell: -1, then a new session
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, -1);
  r = rt.exec("echo back");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, "back\n");

  const std::string pod = rt.pod_name();
  ASSERT_TRUE(rt.stop().ok());
  EXPECT_TRUE(rt.stop().ok());  // idempotent
  EXPECT_FALSE(rt.alive());
  EXPECT_TRUE(server_->Pods(ns_).empty());
  EXPECT_EQ(rt.exec("true").status().code(), StatusCode::kFailedPrecondition);
}

// The pod's command is the guard, PID 1 of its container (the test API
// server runs pods as Docker containers without an init): nothing the agent
// kills ends the pod.
TEST_F(KubeRuntimeTest, KillingEverythingCannotEndThePod) {
  KubeRuntime rt(TestRuntimeOptions(ns_));
  ASSERT_TRUE(rt.start(BaseSpec()).ok());
  const std::string pod = rt.pod_name();
  for (const char* kill : {"kill -9 -1", "kill -9 1", "pkill -9 -f ."}) {
    SCOPED_TRACE(kill);
    (void)rt.exec(kill);  // the session's own shell dies too
    auto after = rt.exec("echo back");
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    EXPECT_EQ(after->output, "back\n");
    EXPECT_TRUE(rt.alive());
    EXPECT_EQ(server_->Pods(ns_), std::vector<std::string>{pod});
  }
  ASSERT_TRUE(rt.stop().ok());
}

TEST_F(KubeRuntimeTest, BothExecProtocols) {
  for (const std::string proto : {"v5.channel.k8s.io", "v4.channel.k8s.io"}) {
    for (auto mode : {KubeRuntimeOptions::ExecMode::kSession, KubeRuntimeOptions::ExecMode::kPerCommand}) {
      KubeRuntimeOptions o = TestRuntimeOptions(ns_);
      o.exec_protocols = {proto};
      o.exec_mode = mode;
      KubeRuntime rt(o);
      ASSERT_TRUE(rt.start(BaseSpec()).ok());
      if (mode == KubeRuntimeOptions::ExecMode::kSession) {
        EXPECT_EQ(rt.session_protocol(), proto);
      }
      for (int code : {0, 1, 42}) {
        auto r = rt.exec("printf 'out-%s' " + std::to_string(code) + "; exit " + std::to_string(code));
        ASSERT_TRUE(r.ok()) << proto << ": " << r.status().ToString();
        EXPECT_EQ(r->exit_code, code) << proto;
        EXPECT_EQ(r->output, "out-" + std::to_string(code)) << proto;
      }
      // Files go over exec stdin (a framed tar: works without v5's stdin close).
      ASSERT_TRUE(rt.write_file("/tmp/d/f.txt", "payload\n").ok()) << proto;
      auto content = rt.read_file("/tmp/d/f.txt");
      ASSERT_TRUE(content.ok()) << content.status().ToString();
      EXPECT_EQ(*content, "payload\n");
      ASSERT_TRUE(rt.stop().ok());
    }
  }
}

TEST_F(KubeRuntimeTest, TimeoutKillsTheProcessTreeAndOutputIsBounded) {
  for (auto mode : {KubeRuntimeOptions::ExecMode::kSession, KubeRuntimeOptions::ExecMode::kPerCommand}) {
    KubeRuntimeOptions o = TestRuntimeOptions(ns_);
    o.exec_mode = mode;
    o.session.head_bytes = 1000;
    o.session.tail_bytes = 1000;
    KubeRuntime rt(o);
    ASSERT_TRUE(rt.start(BaseSpec()).ok());
    const auto t0 = std::chrono::steady_clock::now();
    ExecOptions one_second;
    one_second.timeout = std::chrono::seconds(1);
    auto r = rt.exec("echo started; (sleep 77; echo late) & sleep 78", one_second);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->timed_out);
    EXPECT_EQ(r->exit_code, 137);
    EXPECT_EQ(r->output.substr(0, 8), "started\n");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    // Nothing of that command is left running.
    auto ps = rt.exec("sleep 0.3; cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -c 'sleep 7[78]' || true");
    ASSERT_TRUE(ps.ok());
    EXPECT_EQ(ps->output, "0\n");

    r = rt.exec("head -c 200000 /dev/zero | tr '\\0' a; echo; echo END");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 0);
    EXPECT_LT(r->output.size(), 2200u);
    EXPECT_GT(r->truncated_bytes, 190000u);
    EXPECT_NE(r->output.find("END"), std::string::npos);
    ASSERT_TRUE(rt.stop().ok());
  }
}

TEST_F(KubeRuntimeTest, FileCopyBothWays) {
  const fs::path tmp = fs::temp_directory_path() / ("r2e-kubefiles-" + internal::RandomHex(4));
  fs::create_directories(tmp / "repo" / "pkg");
  std::ofstream(tmp / "repo" / "a.txt") << "alpha\n";
  std::ofstream(tmp / "repo" / "pkg" / "b.py") << "print('b')\n";
  std::string big(3 << 20, 'z');  // several websocket messages
  std::ofstream(tmp / "repo" / "big.bin", std::ios::binary) << big;
  KubeRuntime rt(TestRuntimeOptions(ns_));
  SandboxSpec spec = BaseSpec();
  spec.copy_in = {{tmp / "repo", "/work/repo"}};
  ASSERT_TRUE(rt.start(spec).ok());
  auto r = rt.exec("cat /work/repo/a.txt /work/repo/pkg/b.py; wc -c < /work/repo/big.bin");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, "alpha\nprint('b')\n" + std::to_string(big.size()) + "\n");
  ASSERT_TRUE(rt.exec("echo changed > /work/repo/a.txt; mkdir -p /work/repo/new; echo n > /work/repo/new/n").ok());
  ASSERT_TRUE(rt.download("/work/repo", tmp / "back").ok());
  EXPECT_EQ(ReadText(tmp / "back" / "a.txt"), "changed\n");
  EXPECT_EQ(ReadText(tmp / "back" / "new" / "n"), "n\n");
  EXPECT_EQ(fs::file_size(tmp / "back" / "big.bin"), big.size());
  ASSERT_TRUE(rt.write_file("/work/x/y/exec.sh", "#!/bin/sh\necho run\n", 0755).ok());
  r = rt.exec("/work/x/y/exec.sh");
  EXPECT_EQ(r->output, "run\n");
  auto missing = rt.read_file("/work/nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  ASSERT_TRUE(rt.stop().ok());
  fs::remove_all(tmp);
}

TEST_F(KubeRuntimeTest, ImageThatCannotBePulledFailsEarly) {
  server_->SetFaults({{"image_pull_fail", {{"image_regex", "no-such-image-r2e"}, {"namespace", ns_}}}});
  KubeRuntime rt(TestRuntimeOptions(ns_));
  SandboxSpec spec = BaseSpec();
  spec.image = "registry.invalid/no-such-image-r2e:1";
  const auto t0 = std::chrono::steady_clock::now();
  Status s = rt.start(spec);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_TRUE(s.message().find("ErrImagePull") != std::string::npos ||
              s.message().find("ImagePullBackOff") != std::string::npos)
      << s.message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(60));
  EXPECT_TRUE(rt.pod_name().empty());
}

TEST_F(KubeRuntimeTest, PodThatNeverSchedulesFailsEarly) {
  server_->SetFaults({{"unschedulable", {{"image_regex", "bookworm"}, {"namespace", ns_}}}});
  KubeRuntime rt(TestRuntimeOptions(ns_));
  Status s = rt.start(BaseSpec());
  server_->ClearFaults(ns_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_NE(s.message().find("Unschedulable"), std::string::npos) << s.message();
}

TEST_F(KubeRuntimeTest, StartTimeoutLeavesNothing) {
  // Unschedulable is reported early; a bound shorter than the start itself
  // must also end cleanly.
  KubeRuntimeOptions o = TestRuntimeOptions(ns_);
  o.start_timeout = std::chrono::seconds(0);
  KubeRuntime rt(o);
  Status s = rt.start(BaseSpec());
  if (!s.ok()) {
    EXPECT_EQ(s.code(), StatusCode::kTimeout) << s.ToString();
    EXPECT_NE(s.message().find("did not start running"), std::string::npos);
  }
  rt.stop();
}

TEST_F(KubeRuntimeTest, DroppedExecWebsocketReconnects) {
  KubeRuntime rt(TestRuntimeOptions(ns_));
  ASSERT_TRUE(rt.start(BaseSpec()).ok());
  ASSERT_TRUE(rt.exec("true").ok());
  // The fault drops the next exec websocket the server opens, a while after
  // it started: end the current shell so that the next command opens one.
  server_->SetFaults({{"exec_close", {{"count", 1}, {"after_ms", 1500}, {"namespace", ns_}}}});
  auto killed = rt.exec("kill -9 $$");
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(killed->exit_code, -1) << killed->output;
  auto r = rt.exec("sleep 4; echo finished");
  // The command's websocket was dropped under it: no exit status.
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, -1);
  r = rt.exec("echo again");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output, "again\n");
  ASSERT_TRUE(rt.stop().ok());
}

TEST_F(KubeRuntimeTest, ThrottlingAndServerErrorsDuringStartAndStop) {
  server_->SetFaults({{"http_429", {{"count", 4}, {"retry_after", 0}, {"namespace", ns_}}},
                      {"http_500", {{"count", 2}, {"namespace", ns_}, {"path_regex", "pods$"}}}});
  KubeRuntimeOptions o = TestRuntimeOptions(ns_);
  o.max_attempts = 6;
  KubeRuntime rt(o);
  Status s = rt.start(BaseSpec());
  ASSERT_TRUE(s.ok()) << s.ToString();
  // The 500s hit the create: checked, never a second pod.
  EXPECT_EQ(server_->Pods(ns_).size(), 1u);
  server_->SetFaults({{"http_429", {{"count", 2}, {"retry_after", 0}, {"namespace", ns_}}}});
  EXPECT_TRUE(rt.exec("true").ok());
  EXPECT_TRUE(rt.stop().ok());
}

TEST_F(KubeRuntimeTest, RuntimesWithDifferentConfigsSideBySide) {
  std::vector<std::thread> threads;
  std::vector<Status> results(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      KubeRuntime rt(TestRuntimeOptions(ns_, i % 2 ? "kubeconfig-cert" : "kubeconfig"));
      results[i] = rt.start(BaseSpec());
      if (!results[i].ok()) return;
      for (int k = 0; k < 5; ++k) {
        auto r = rt.exec("echo " + std::to_string(i * 10 + k));
        if (!r.ok() || r->output != std::to_string(i * 10 + k) + "\n") {
          results[i] = Status::Internal("wrong output");
          break;
        }
      }
      Status st = rt.stop();
      if (results[i].ok()) results[i] = st;
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(KubeRuntimeTest, CleanupReapsExpiredAndOrphanedPodsOnly) {
  auto client = server_->client();
  // An orphan: owned by a process of this host that has exited.
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  KubeRuntimeOptions o = TestRuntimeOptions(ns_);
  const auto make = [&](const std::string& name, const std::string& pid, std::time_t expires) {
    kube::PodIdentity id{name, "u", "t", host, pid, "1", expires};
    auto r = client->call("POST", "/api/v1/namespaces/" + ns_ + "/pods", "create",
                          kube::BuildPodManifest(o, "r2e-test/base:bookworm", id, {}).dump(), false);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  };
  const std::time_t now = std::time(nullptr);
  make("orphan-" + internal::RandomHex(2), std::to_string(child), now + 3600);
  make("expired-" + internal::RandomHex(2), "1", now - 10);
  // A live one: this process's own sandbox.
  KubeRuntime live(o);
  ASSERT_TRUE(live.start(BaseSpec()).ok());
  // Someone else's pod without our label is never touched.
  Json foreign = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "foreign"}}},
                  {"spec", {{"containers", {{{"name", "c"}, {"image", "r2e-test/base:bookworm"},
                                             {"command", {"sleep", "300"}}}}}}}};
  ASSERT_TRUE(client->call("POST", "/api/v1/namespaces/" + ns_ + "/pods", "create", foreign.dump()).ok());

  KubeCleanupOptions c;
  c.load.kubeconfig = (KubeDir() / "kubeconfig").string();
  c.namespace_name = ns_;
  c.dry_run = true;
  auto dry = CleanupKubeSandboxes(c);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_EQ(dry->removed.size(), 2u);
  EXPECT_EQ(server_->Pods(ns_).size(), 4u);
  c.dry_run = false;
  auto report = CleanupKubeSandboxes(c);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->removed.size(), 2u);
  EXPECT_EQ(report->kept, 1);
  for (const auto& n : report->removed) EXPECT_TRUE(n.rfind("orphan-", 0) == 0 || n.rfind("expired-", 0) == 0) << n;
  EXPECT_TRUE(live.alive());
  ASSERT_TRUE(live.stop().ok());
  // Deletion with grace 0 is asynchronous on the server: wait until only the foreign pod is left.
  for (int i = 0; i < 100 && server_->Pods(ns_).size() > 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(server_->Pods(ns_), std::vector<std::string>{"foreign"});
  client->request("DELETE", "/api/v1/namespaces/" + ns_ + "/pods/foreign", R"({"gracePeriodSeconds":0})");
  for (int i = 0; i < 100 && !server_->Pods(ns_).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace r2e::kubetest

namespace r2e::kubetest {
namespace {

// The API server restarting mid-episode, on a private server (the shared one
// must not go away under other tests): the server process is killed and
// started again on the same port; the sandbox's container survives, the
// session's websocket does not. The next command reconnects (the client
// retries while the server is down) and the pod is still deleted at the end.
TEST(KubeServerRestart, EpisodeSurvivesAnApiServerRestart) {
  const char* env = std::getenv("R2E_TEST_APISERVER_SCRIPT");
  const fs::path script = env && *env ? fs::path(env) : fs::path(R2E_SOURCE_DIR) / "scripts" / "test-apiserver.sh";
  if (!fs::exists(KubeDir() / "kubeconfig") || !fs::exists(script)) {
    GTEST_SKIP() << "needs the test API server and " << script;
  }
  const fs::path dir = fs::temp_directory_path() / ("r2e-kube-restart-" + internal::RandomHex(4));
  auto sh = [&](const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); };
  ASSERT_EQ(sh("'" + script.string() + "' start '" + dir.string() + "'"), 0);
  const std::string ns = TestNamespace();
  KubeRuntimeOptions o = TestRuntimeOptions(ns);
  o.load.kubeconfig = (dir / "kubeconfig").string();
  o.max_attempts = 10;
  o.max_backoff = std::chrono::milliseconds(1000);
  {
    KubeRuntime rt(o);
    ASSERT_TRUE(rt.start(BaseSpec()).ok());
    ASSERT_TRUE(rt.exec("echo 1 > /tmp/state").ok());
    // Kill the server (only it: the pid it recorded) and bring it back a
    // moment later, while the next command already tries to reconnect.
    const std::string pid(internal::Trim(ReadText(dir / "pid")));
    ASSERT_FALSE(pid.empty());
    ASSERT_EQ(::kill(std::stoi(pid), SIGKILL), 0);
    std::thread restart([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(800));
      sh("'" + script.string() + "' start '" + dir.string() + "'");
    });
    // Between steps (the agent thinks): the session notices its websocket
    // is gone before sending. A command already in flight when a websocket
    // drops returns -1 instead (DroppedExecWebsocketReconnects).
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto r = rt.exec("cat /tmp/state");
    restart.join();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->output, "1\n");  // the same sandbox
    EXPECT_TRUE(rt.alive());
    EXPECT_TRUE(rt.stop().ok());
  }
  KubeConfigLoadOptions lo;
  lo.kubeconfig = (dir / "kubeconfig").string();
  auto client = Client(*LoadKubeConfig(lo));
  auto list = client->call("GET", "/api/v1/namespaces/" + ns + "/pods", "list");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_TRUE((*list)["items"].empty()) << list->dump();
  sh("'" + script.string() + "' stop '" + dir.string() + "'");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace r2e::kubetest
