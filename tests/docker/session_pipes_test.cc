// The Docker session's fast path: named pipes in a host directory that is
// bind-mounted read-only into the container (src/docker/fifo_session.h), and
// the fallback to the daemon's exec stream when the pipes cannot be used.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "docker/docker_client.h"
#include "docker/fifo_session.h"
#include "r2e/docker_runtime.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kBase = "r2e-test/base:bookworm";

std::shared_ptr<docker::DockerClient> Client() {
  static std::shared_ptr<docker::DockerClient> client = [] {
    auto c = docker::DockerClient::Connect();
    return c.ok() ? std::shared_ptr<docker::DockerClient>(std::move(c).value()) : nullptr;
  }();
  return client;
}

#define REQUIRE_BASE_IMAGE()                                                                    \
  do {                                                                                          \
    if (!Client()) GTEST_SKIP() << "no Docker daemon answers (scripts/start-dockerd.sh)";       \
    if (!Client()->inspect_image(kBase).ok()) GTEST_SKIP() << kBase << " missing";              \
  } while (0)

Result<ExecResult> RunIn(DockerRuntime& rt, std::string_view cmd) {
  ExecOptions o;
  o.timeout = 20s;
  return rt.exec(cmd, o);
}

SandboxSpec Spec() {
  SandboxSpec spec;
  spec.image = kBase;
  spec.task_id = "session-pipes-test";
  return spec;
}

TEST(DockerSessionPipes, DefaultSessionUsesPipesTheAgentCannotTouch) {
  REQUIRE_BASE_IMAGE();
  DockerRuntime rt;
  ASSERT_TRUE(rt.start(Spec()).ok());
  const fs::path dir = docker::DefaultFifoRoot() / rt.container_name();
  EXPECT_TRUE(fs::is_directory(dir)) << dir;
  auto info = Client()->inspect_container(rt.container_id());
  ASSERT_TRUE(info.ok());
  // The container's mounts as both Docker and Podman report them.
  const auto& mounts = (*info)["Mounts"];
  ASSERT_TRUE(mounts.is_array() && mounts.size() == 1) << mounts.dump();
  EXPECT_EQ(mounts[0]["Source"], dir.string());
  EXPECT_FALSE(mounts[0]["RW"].get<bool>()) << mounts.dump();

  // The session loop's stdin and stdout are the pipes, and their names are
  // gone once both ends are open: nothing for the agent to open or replace.
  auto fds = RunIn(rt, "readlink /proc/$$/fd/0 /proc/self/fd/1; ls -A /run/r2e-session | wc -l");
  ASSERT_TRUE(fds.ok()) << fds.status().ToString();
  EXPECT_NE(fds->output.find("/run/r2e-session/in."), std::string::npos) << fds->output;
  EXPECT_NE(fds->output.find("/run/r2e-session/out."), std::string::npos) << fds->output;
  EXPECT_EQ(fds->output.substr(fds->output.rfind('\n', fds->output.size() - 2) + 1), "0\n");
  auto write = RunIn(rt, "touch /run/r2e-session/x");
  ASSERT_TRUE(write.ok());
  EXPECT_NE(write->exit_code, 0) << "the host directory must be read-only inside";

  // Output framing, exit codes and a restarted session all work over pipes.
  auto r = RunIn(rt, "printf 'a\\0b'; echo err >&2; exit 3");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, std::string("a\0berr\n", 7));
  EXPECT_EQ(r->exit_code, 3);
  ASSERT_TRUE(RunIn(rt, "kill -9 $$").ok());  // the loop itself dies: next exec restarts it
  auto after = RunIn(rt, "echo again");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->output, "again\n");

  ASSERT_TRUE(rt.stop().ok());
  EXPECT_FALSE(fs::exists(dir)) << "stop() must remove the pipe directory";
}

TEST(DockerSessionPipes, UnusableDirectoryFallsBackToTheExecStream) {
  REQUIRE_BASE_IMAGE();
  DockerRuntimeOptions o;
  o.session_dir = "/proc/r2e-cannot-exist";  // mkdir fails: no mount, the exec stream is used
  DockerRuntime rt(o);
  ASSERT_TRUE(rt.start(Spec()).ok());
  auto info = Client()->inspect_container(rt.container_id());
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE((*info)["Mounts"].is_null() || (*info)["Mounts"].empty()) << (*info)["Mounts"].dump();
  auto r = RunIn(rt, "readlink /proc/$$/fd/0; echo ok");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output.find("/run/r2e-session"), std::string::npos) << r->output;
  EXPECT_NE(r->output.find("ok\n"), std::string::npos);

  // Requiring pipes where they cannot be made fails start() and leaves nothing.
  o.session_transport = DockerRuntimeOptions::SessionTransport::kPipes;
  DockerRuntime strict(o);
  Status s = strict.start(Spec());
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(strict.container_id().empty());
}

TEST(DockerSessionPipes, PipesTheContainerDoesNotSeeFailFast) {
  REQUIRE_BASE_IMAGE();
  // A container without the mount: the wrapper cannot open the pipes and
  // exits; OpenFifoSession says so instead of waiting for a shell.
  DockerRuntimeOptions o;
  o.session_transport = DockerRuntimeOptions::SessionTransport::kExec;
  DockerRuntime rt(o);
  ASSERT_TRUE(rt.start(Spec()).ok());
  const fs::path dir = fs::temp_directory_path() / ("r2e-pipes-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto t0 = std::chrono::steady_clock::now();
  auto stream = docker::OpenFifoSession(*Client(), rt.container_id(), dir, {"bash", "-c", "echo hi"}, {}, "/",
                                        false, 20s);
  EXPECT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().code(), StatusCode::kUnavailable) << stream.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  EXPECT_TRUE(fs::is_empty(dir)) << "the pipe names must be removed on failure";
  fs::remove_all(dir);
}

TEST(DockerSessionPipes, CleanupRemovesPipeDirectoriesOfGoneContainers) {
  REQUIRE_BASE_IMAGE();
  const fs::path root = docker::DefaultFifoRoot();
  const fs::path stale = root / ("r2e-gone-" + std::to_string(::getpid()));
  const fs::path young = root / ("r2e-young-" + std::to_string(::getpid()));
  fs::create_directories(stale);
  fs::create_directories(young);
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::minutes(5));
  auto report = CleanupSandboxes();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(fs::exists(stale)) << "a directory without a container is removed";
  EXPECT_TRUE(fs::exists(young)) << "a fresh directory may belong to a container being created";
  fs::remove_all(young);
}

}  // namespace
}  // namespace r2e
