// DockerClient against a real dockerd (scripts/start-dockerd.sh). Tests skip
// when no daemon answers; those that need a container skip when the test
// image (scripts/build-test-images.sh, or $R2E_DOCKER_TEST_IMAGE) is missing.
// Every container carries the label r2e.test=1 and is removed in TearDown.
// What needs no daemon (status mapping, DOCKER_HOST, a stand-in daemon) is in
// docker_client_offline_test.cc.
#include "docker/docker_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "archive/tar.h"
#include "core/text.h"

namespace r2e::docker {
namespace {

using namespace std::chrono_literals;

std::string TestImage() {
  const char* env = std::getenv("R2E_DOCKER_TEST_IMAGE");
  return env != nullptr && *env != '\0' ? env : "r2e-test/base:bookworm";
}

// Reads from `s` until `want` appears in the output, EOF, or the deadline.
std::string ReadUntil(ByteStream& s, std::string_view want, Clock::time_point deadline,
                      Status* status = nullptr) {
  std::string out;
  char buf[4096];
  while (out.find(want) == std::string::npos) {
    auto n = s.read_some(buf, sizeof buf, deadline);
    if (!n.ok()) {
      if (status != nullptr) *status = n.status();
      break;
    }
    if (*n == 0) break;
    out.append(buf, *n);
  }
  return out;
}

class DockerClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = DockerClient::Connect();
    if (!c.ok()) GTEST_SKIP() << "no Docker daemon: " << c.status().ToString();
    client_ = std::move(c).value();
    run_label_ = "r2e.test.run=" + internal::RandomHex(6);
  }

  void TearDown() override {
    if (!client_) return;
    for (const auto& id : created_) {
      EXPECT_TRUE(client_->remove_container(id, true).ok());
    }
    // Anything of this run that escaped the list (e.g. a create that failed late).
    auto left = client_->list_containers({"r2e.test=1", run_label_});
    if (left.ok()) {
      for (const auto& c : *left) client_->remove_container(c["Id"].get<std::string>(), true);
    }
  }

  bool HaveImage() { return client_ && client_->inspect_image(TestImage()).ok(); }

  nlohmann::json Config(std::vector<std::string> cmd = {"sleep", "300"}) {
    auto eq = run_label_.find('=');
    return {{"Image", TestImage()},
            {"Cmd", cmd},
            {"Labels", {{"r2e.test", "1"}, {run_label_.substr(0, eq), run_label_.substr(eq + 1)}}},
            {"HostConfig", {{"Init", true}, {"NetworkMode", "none"}}}};
  }

  // Whether the socket is Podman's Docker-compatible service.
  bool DaemonIsPodman() {
    auto version = client_->request("GET", "/version");
    return version.ok() && version->body.find("Podman") != std::string::npos;
  }

  // Creates (and records for removal) a container; started unless asked not to.
  std::string MakeContainer(const std::string& name = {}, bool start = true) {
    auto id = client_->create_container(Config(), name);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!id.ok()) return {};
    created_.push_back(*id);
    if (start) {
      Status s = client_->start_container(*id);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    return *id;
  }

  std::unique_ptr<DockerClient> client_;
  std::vector<std::string> created_;
  std::string run_label_;
};

#define REQUIRE_IMAGE()                                                \
  do {                                                                 \
    if (!HaveImage())                                                  \
      GTEST_SKIP() << "test image " << TestImage() << " is not built " \
                   << "(scripts/build-test-images.sh)";                \
  } while (0)

// --- daemon

TEST_F(DockerClientTest, PingAndVersion) {
  EXPECT_FALSE(client_->socket_path().empty());
  const std::string& v = client_->api_version();
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v.rfind("1.", 0), 0u) << v;
  auto res = client_->request("GET", "/version");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  auto j = nlohmann::json::parse(res->body);
  EXPECT_TRUE(j.contains("ApiVersion"));

  // An explicit version is used as given.
  ClientOptions o;
  o.api_version = "1.40";
  auto c = DockerClient::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->api_version(), "1.40");
  EXPECT_TRUE((*c)->request("GET", "/info").ok());
}

TEST_F(DockerClientTest, RequestRejectsBadInput) {
  EXPECT_EQ(client_->request("FROB", "/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->request("GET", "version").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DockerClientTest, InspectImage) {
  auto missing = client_->inspect_image("r2e-test/no-such-image:none");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("r2e-test/no-such-image:none"), std::string::npos);

  REQUIRE_IMAGE();
  auto found = client_->inspect_image(TestImage());
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_TRUE((*found)["Id"].is_string());
}

TEST_F(DockerClientTest, PullFailsCleanlyOffline) {
  // No registry is reachable here; the failure must be a Status, quickly.
  std::vector<std::string> lines;
  Status s = client_->pull_image("r2e-test/never-published:none",
                                 [&](const std::string& l) { lines.push_back(l); });
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kNotFound)
      << s.ToString();
  EXPECT_NE(s.message().find("r2e-test/never-published"), std::string::npos) << s.ToString();
}

TEST_F(DockerClientTest, ContainerLifecycle) {
  REQUIRE_IMAGE();
  std::string id = MakeContainer();
  ASSERT_FALSE(id.empty());

  auto info = client_->inspect_container(id);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE((*info)["State"]["Running"].get<bool>());
  EXPECT_EQ((*info)["Config"]["Labels"]["r2e.test"], "1");
  EXPECT_TRUE(client_->start_container(id).ok());  // 304: already running

  auto listed = client_->list_containers({"r2e.test=1", run_label_});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0]["Id"], id);
  auto none = client_->list_containers({run_label_ + "-other"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  Status s = client_->stop_container(id, 5);
  ASSERT_TRUE(s.ok()) << s.ToString();
  info = client_->inspect_container(id);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE((*info)["State"]["Running"].get<bool>());
  EXPECT_TRUE(client_->stop_container(id, 1).ok());  // 304: already stopped
  // A stopped container is still listed with all=1.
  listed = client_->list_containers({run_label_});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);

  EXPECT_TRUE(client_->remove_container(id, true).ok());
  auto gone = client_->inspect_container(id);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(client_->remove_container(id, true).ok());  // 404 is fine
}

TEST_F(DockerClientTest, KillAndNotRunning) {
  REQUIRE_IMAGE();
  std::string id = MakeContainer();
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(client_->kill_container(id).ok());
  // The kill is asynchronous: wait for the container to stop.
  for (int i = 0; i < 200; ++i) {
    auto info = client_->inspect_container(id);
    ASSERT_TRUE(info.ok());
    if (!(*info)["State"]["Running"].get<bool>()) break;
    std::this_thread::sleep_for(10ms);
  }
  Status s = client_->kill_container(id);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  auto exec = client_->exec_create(id, {"true"}, {}, "", false);
  ASSERT_FALSE(exec.ok());
  EXPECT_EQ(exec.status().code(), StatusCode::kFailedPrecondition) << exec.status().ToString();
  auto run = client_->exec_run(id, {"true"}, {}, "", 5s);
  EXPECT_EQ(run.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(DockerClientTest, RemoveReturnsOnlyWhenAnAutoRemoveInProgressIsDone) {
  // A container whose main process ends is removed by the daemon itself
  // (AutoRemove); a removal asked for meanwhile gets 409 "already in
  // progress". remove_container() waits for that removal, so a leak check
  // right after it never finds the container (issue 18: a soak reported a
  // leak under load).
  REQUIRE_IMAGE();
  for (int round = 0; round < 5; ++round) {
    nlohmann::json cfg = Config();
    cfg["HostConfig"]["AutoRemove"] = true;
    auto id = client_->create_container(cfg, "");
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ASSERT_TRUE(client_->start_container(*id).ok());
    const Status killed = client_->kill_container(*id);  // the daemon starts removing it
    ASSERT_TRUE(killed.ok()) << "round " << round << ": " << killed.ToString();
    Status removed = client_->remove_container(*id, true);
    ASSERT_TRUE(removed.ok()) << removed.ToString();
    auto info = client_->inspect_container(*id);
    EXPECT_EQ(info.status().code(), StatusCode::kNotFound) << "round " << round << ": still there after removal";
  }
}

TEST_F(DockerClientTest, NameConflictIsAlreadyExists) {
  REQUIRE_IMAGE();
  std::string name = "r2e-client-test-" + internal::RandomHex(4);
  std::string id = MakeContainer(name, /*start=*/false);
  ASSERT_FALSE(id.empty());
  auto again = client_->create_container(Config(), name);
  if (again.ok()) created_.push_back(*again);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().ToString();
  EXPECT_NE(again.status().message().find(name), std::string::npos);

  auto bad = client_->create_container(Config(), "bad name!");
  if (bad.ok()) created_.push_back(*bad);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status().ToString();

  auto cfg = Config();
  cfg["Image"] = "r2e-test/no-such-image:none";
  auto missing = client_->create_container(cfg, "");
  if (missing.ok()) created_.push_back(*missing);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
}

TEST_F(DockerClientTest, ExecRunExitCodesAndStreams) {
  REQUIRE_IMAGE();
  std::string id = MakeContainer();
  ASSERT_FALSE(id.empty());

  auto r = client_->exec_run(id, {"bash", "-c", "exit 3"}, {}, "", 30s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->timed_out);

  r = client_->exec_run(id, {"bash", "-c", "echo out; echo err >&2; echo out2"}, {}, "", 30s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->stdout_data, "out\nout2\n");
  EXPECT_EQ(r->stderr_data, "err\n");

  r = client_->exec_run(id, {"bash", "-c", "echo \"$FOO $(pwd)\""}, {"FOO=bar"}, "/tmp", 30s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stdout_data, "bar /tmp\n");

  // Interleaved streams over many frames stay apart and complete.
  r = client_->exec_run(
      id, {"bash", "-c", "for ((i=1;i<=2000;i++)); do echo o$i; echo e$i >&2; done"}, {}, "", 60s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string want_out;
  std::string want_err;
  for (int i = 1; i <= 2000; ++i) {
    want_out += "o" + std::to_string(i) + "\n";
    want_err += "e" + std::to_string(i) + "\n";
  }
  EXPECT_TRUE(r->stdout_data == want_out) << r->stdout_data.size() << " vs " << want_out.size();
  EXPECT_TRUE(r->stderr_data == want_err) << r->stderr_data.size() << " vs " << want_err.size();

  // 4 MB in one stream.
  r = client_->exec_run(
      id,
      {"bash", "-c",
       "x=$(printf '%1024s' ''); for ((i=0;i<4096;i++)); do printf '%s' \"$x\"; done"},
      {}, "", 60s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stdout_data.size(), 4u << 20);
  EXPECT_EQ(r->exit_code, 0);

  // A missing program: the daemon still starts the exec; exit code 126/127.
  r = client_->exec_run(id, {"/no/such/program"}, {}, "", 30s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->exit_code == 126 || r->exit_code == 127) << r->exit_code;
}

TEST_F(DockerClientTest, ExecRunTimeout) {
  REQUIRE_IMAGE();
  std::string id = MakeContainer();
  ASSERT_FALSE(id.empty());
  auto start = Clock::now();
  auto r = client_->exec_run(id, {"bash", "-c", "echo started; sleep 30"}, {}, "", 700ms);
  auto took = Clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->stdout_data, "started\n");  // partial output is kept
  EXPECT_LT(took, 5s);
  EXPECT_GE(took, 600ms);
}

TEST_F(DockerClientTest, ExecAttachCat) {
  REQUIRE_IMAGE();
  std::string id = MakeContainer();
  ASSERT_FALSE(id.empty());
  auto exec = client_->exec_create(id, {"cat"}, {}, "", true);
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  auto stream = client_->exec_attach(*exec);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  ByteStream& s = **stream;

  auto deadline = Clock::now() + 10s;
  ASSERT_TRUE(s.write("hello\n", deadline).ok());
  EXPECT_EQ(ReadUntil(s, "hello\n", deadline), "hello\n");

  // Nothing more to read: a short deadline passes.
  char buf[16];
  auto t = s.read_some(buf, sizeof buf, Clock::now() + 200ms);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kTimeout);

  // Larger than a frame and a socket buffer, echoed back whole.
  std::string big;
  for (int i = 0; big.size() < 300000; ++i) big += "line " + std::to_string(i) + "\n";
  std::string got;
  std::thread writer([&] { EXPECT_TRUE(s.write(big, Clock::now() + 20s).ok()); });
  while (got.size() < big.size()) {
    char b[65536];
    auto n = s.read_some(b, sizeof b, Clock::now() + 20s);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    got.append(b, *n);
  }
  writer.join();
  EXPECT_TRUE(got == big) << got.size() << " of " << big.size();

  // Half-closing ends cat: EOF, then exit code 0.
  s.close_write();
  Status st;
  std::string rest = ReadUntil(s, "\x01never", Clock::now() + 10s, &st);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(rest, "");
  for (int i = 0; i < 200; ++i) {
    auto info = client_->exec_inspect(*exec);
    ASSERT_TRUE(info.ok());
    if (!(*info)["Running"].get<bool>()) {
      EXPECT_EQ((*info)["ExitCode"], 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  s.close();
}

TEST_F(DockerClientTest, ExecAttachMergesStdoutAndStderr) {
  REQUIRE_IMAGE();
  std::string id = MakeContainer();
  ASSERT_FALSE(id.empty());
  auto exec = client_->exec_create(
      id, {"bash", "-c", "read x; echo got $x; echo err >&2; echo done"}, {}, "/", true);
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  auto stream = client_->exec_attach(*exec);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  auto deadline = Clock::now() + 10s;
  ASSERT_TRUE((*stream)->write("abc\n", deadline).ok());
  // Everything up to EOF (the process exits after "done").
  Status st;
  std::string out = ReadUntil(**stream, "\x01never", deadline, &st);
  EXPECT_TRUE(st.ok()) << st.ToString();
  // stdout and stderr are separate pipes in the daemon: their relative
  // order is not kept, only each one's own order.
  EXPECT_NE(out.find("got abc\n"), std::string::npos) << out;
  EXPECT_NE(out.find("err\n"), std::string::npos) << out;
  EXPECT_LT(out.find("got abc\n"), out.find("done\n")) << out;
  EXPECT_EQ(out.size(), std::string("got abc\nerr\ndone\n").size()) << out;
}

TEST_F(DockerClientTest, ExecAttachCloseWakesABlockedRead) {
  REQUIRE_IMAGE();
  std::string id = MakeContainer();
  ASSERT_FALSE(id.empty());
  auto exec = client_->exec_create(id, {"cat"}, {}, "", true);
  ASSERT_TRUE(exec.ok());
  auto stream = client_->exec_attach(*exec);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  ByteStream* s = stream->get();
  std::thread closer([s] {
    std::this_thread::sleep_for(200ms);
    s->close();
  });
  auto start = Clock::now();
  char buf[16];
  auto r = s->read_some(buf, sizeof buf, Clock::now() + 20s);
  closer.join();
  EXPECT_LT(Clock::now() - start, 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_FALSE(s->write("x", Clock::now() + 1s).ok());
}

TEST_F(DockerClientTest, ExecAttachUnknownExecIsNotFound) {
  auto stream = client_->exec_attach("0123456789abcdef0123456789abcdef");
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().code(), StatusCode::kNotFound) << stream.status().ToString();
}

TEST_F(DockerClientTest, ArchiveRoundTrip) {
  REQUIRE_IMAGE();
  std::string id = MakeContainer();
  ASSERT_FALSE(id.empty());
  std::string content = "hello from the host\n";
  for (int i = 0; i < 20000; ++i) content += "filler line " + std::to_string(i) + "\n";
  auto tar = archive::TarFile("greeting.txt", content, 0640);
  ASSERT_TRUE(tar.ok()) << tar.status().ToString();

  Status s = client_->put_archive(id, "/tmp", *tar);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto back = client_->get_archive(id, "/tmp/greeting.txt");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  auto file = archive::FirstFileContent(*back);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(*file == content) << file->size() << " vs " << content.size();

  Status missing_dir = client_->put_archive(id, "/no/such/dir", *tar);
  if (DaemonIsPodman()) {
    // Podman creates the missing directories (docs/architecture.md, "Podman").
    EXPECT_TRUE(missing_dir.ok()) << missing_dir.ToString();
    EXPECT_TRUE(client_->get_archive(id, "/no/such/dir/greeting.txt").ok());
  } else {
    EXPECT_EQ(missing_dir.code(), StatusCode::kNotFound) << missing_dir.ToString();
  }
  auto missing_file = client_->get_archive(id, "/tmp/no-such-file");
  EXPECT_EQ(missing_file.status().code(), StatusCode::kNotFound);
}

TEST_F(DockerClientTest, CommitMakesAnImage) {
  REQUIRE_IMAGE();
  std::string id = MakeContainer();
  ASSERT_FALSE(id.empty());
  auto r = client_->exec_run(id, {"bash", "-c", "echo snap > /tmp/marker"}, {}, "", 30s);
  ASSERT_TRUE(r.ok());
  std::string tag = "t" + internal::RandomHex(4);
  auto image = client_->commit(id, "r2e-test/client-commit", tag);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->rfind("sha256:", 0), 0u) << *image;
  std::string ref = "r2e-test/client-commit:" + tag;
  auto info = client_->inspect_image(ref);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  auto del = client_->request("DELETE", "/images/" + ref + "?force=1");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->status, 200) << del->body;

  auto bad = client_->commit("no-such-container-r2e", "r2e-test/client-commit", tag);
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
}

TEST_F(DockerClientTest, ConcurrentRequests) {
  // Each request has its own connection: threads do not wait on each other.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (client_->request("GET", "/_ping").ok()) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 80);
}

}  // namespace
}  // namespace r2e::docker
