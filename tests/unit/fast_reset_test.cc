// RepoEnv's fast reset on the local runtime: the repository goes back to its
// state after setup in place, the episode's processes end, the session starts
// anew, and a failed check falls back to a fresh sandbox.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "r2e/fault_runtime.h"
#include "r2e/local_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "scripted_runtime.h"
#include "demo_task.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;

using test_util::DemoTask;

// Processes on this host (any pid namespace below ours) with `arg` as an argument.
int HostProcessesWithArg(const std::string& arg) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    // Read with read(2): a process may exit meanwhile (ESRCH), which
    // std::ifstream reports by throwing.
    std::string cmdline;
    if (const int fd = ::open((e.path() / "cmdline").c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
      char buf[4096];
      for (ssize_t got; (got = ::read(fd, buf, sizeof buf)) > 0;) cmdline.append(buf, static_cast<std::size_t>(got));
      ::close(fd);
    }
    std::size_t start = 0;
    while (start < cmdline.size()) {
      std::size_t end = cmdline.find('\0', start);
      if (end == std::string::npos) end = cmdline.size();
      if (cmdline.compare(start, end - start, arg) == 0) ++n;
      start = end + 1;
    }
  }
  return n;
}

std::string Sh(RepoEnv& env, const std::string& cmd) {
  auto r = env.run(cmd);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->output : "";
}

TEST(FastResetTest, RestoresTheRepositoryInPlace) {
  Task task = DemoTask();
  RepoEnvOptions options;
  options.fast_reset = true;
  auto env = RepoEnv::Create(task, options).value();
  ASSERT_TRUE(env->reset().ok());
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kCold);
  const auto dir = static_cast<LocalRuntime&>(env->runtime()).workdir();
  const std::string head = Sh(*env, "git rev-parse HEAD");
  const std::string core = Sh(*env, "cat textstats/core.py");

  // An episode that solves the task, then dirties everything it can reach.
  for (const auto& a : task.row.at("scripted_actions")) ASSERT_TRUE(env->step(a.get<std::string>()).ok());
  EXPECT_EQ(*env->compute_reward(), 1.0);
  Sh(*env, "echo junk >> textstats/core.py; rm README.md; mkdir -p newdir; echo x > newdir/f; "
            "git -c user.name=a -c user.email=a@b commit -qam agent-commit; echo y > untracked.txt");
  // A background process of the episode, outliving its command.
  Sh(*env, "sleep 1234.5 >/dev/null 2>&1 &");
  // (It runs once the forked shell has exec'd sleep.)
  for (int i = 0; i < 250 && HostProcessesWithArg("1234.5") == 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(HostProcessesWithArg("1234.5"), 1);

  auto obs = env->reset();
  ASSERT_TRUE(obs.ok()) << obs.status().ToString();
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kFast) << env->last_fast_reset_error().ToString();
  EXPECT_EQ(obs->text, env->task_instruction());
  EXPECT_EQ(static_cast<LocalRuntime&>(env->runtime()).workdir(), dir) << "fast reset replaced the sandbox";
  EXPECT_EQ(Sh(*env, "git rev-parse HEAD"), head);
  EXPECT_EQ(Sh(*env, "cat textstats/core.py"), core);
  EXPECT_EQ(Sh(*env, "ls README.md"), "README.md\n");
  EXPECT_EQ(Sh(*env, "test -e newdir || test -e untracked.txt || echo clean"), "clean\n");
  EXPECT_EQ(Sh(*env, "git status --porcelain"), "");
  EXPECT_EQ(HostProcessesWithArg("1234.5"), 0) << "a process of the previous episode survived the fast reset";
  // The task is unsolved again, and a step works.
  EXPECT_EQ(*env->compute_reward(), 0.0);
  auto step = env->step("<function=execute_bash>\n<parameter=cmd>echo ok</parameter>\n</function>");
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_NE(step->observation.text.find("ok"), std::string::npos);
  EXPECT_EQ(env->steps(), 1);
  EXPECT_FALSE(env->check_done());
}

TEST(FastResetTest, FailedCheckFallsBackToAFreshSandbox) {
  Task task = DemoTask();
  RepoEnvOptions options;
  options.fast_reset = true;
  auto env = RepoEnv::Create(task, options).value();
  ASSERT_TRUE(env->reset().ok());
  // The agent removed the tools: the check refuses the in-place restore.
  Sh(*env, "rm -f /root/.local/bin/* /usr/local/bin/file_editor 2>/dev/null; true");
  auto obs = env->reset();
  ASSERT_TRUE(obs.ok()) << obs.status().ToString();
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kCold);
  EXPECT_FALSE(env->last_fast_reset_error().ok());
  EXPECT_NE(env->last_fast_reset_error().message().find("gone"), std::string::npos)
      << env->last_fast_reset_error().ToString();
  auto step = env->step("<function=execute_bash>\n<parameter=cmd>echo ok</parameter>\n</function>");
  ASSERT_TRUE(step.ok());
  EXPECT_NE(step->observation.text.find("ok"), std::string::npos) << step->observation.text;
  // And the next fast reset works again.
  ASSERT_TRUE(env->reset().ok());
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kFast) << env->last_fast_reset_error().ToString();
}

TEST(FastResetTest, OffByDefault) {
  auto env = RepoEnv::Create(DemoTask()).value();
  ASSERT_TRUE(env->reset().ok());
  const auto dir = static_cast<LocalRuntime&>(env->runtime()).workdir();
  ASSERT_TRUE(env->reset().ok());
  EXPECT_EQ(env->last_reset_kind(), ResetKind::kCold);
  EXPECT_NE(static_cast<LocalRuntime&>(env->runtime()).workdir(), dir);
}

// Every backend reports its session's keep_state, and a wrapper passes it on.
TEST(FastResetTest, BackendsReportWhetherTheSessionKeepsState) {
  LocalRuntimeOptions local;
  DockerRuntimeOptions docker;
  KubeRuntimeOptions kube;
  EXPECT_FALSE(LocalRuntime(local).keeps_state());
  EXPECT_FALSE(DockerRuntime(docker).keeps_state());
  EXPECT_FALSE(KubeRuntime(kube).keeps_state());
  local.session.keep_state = docker.session.keep_state = kube.session.keep_state = true;
  EXPECT_TRUE(LocalRuntime(local).keeps_state());
  EXPECT_TRUE(DockerRuntime(docker).keeps_state());
  EXPECT_TRUE(KubeRuntime(kube).keeps_state());
  EXPECT_TRUE(FaultRuntime(std::make_unique<KubeRuntime>(kube)).keeps_state());
}

// A Kubernetes sandbox whose session keeps state must not be restored in
// place: the shell's cwd and variables would carry into the next episode.
// (RepoEnv once decided by the runtime's name and knew only the local and
// Docker options, so it ran a fast reset here.) The double answers as a kube
// runtime with these options would, and scripts the sandbox.
TEST(FastResetTest, RefusedWhenAKubeSessionKeepsState) {
  for (bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "keep_state" : "fresh state per command");
    KubeRuntimeOptions kube;
    kube.session.keep_state = keep;
    const KubeRuntime queried(kube);
    auto double_runtime = std::make_unique<test_util::ScriptedRuntime>();
    test_util::ScriptedRuntime& rt = *double_runtime;
    rt.runtime_name = std::string(queried.name());
    rt.keep_state = queried.keeps_state();
    rt.on_exec = [](std::string_view command) -> Result<ExecResult> {
      ExecResult r;
      r.exit_code = 0;
      if (command.find("R2E-RESTORED ok") != std::string_view::npos) {
        r.output = "R2E-RESTORED ok\n";
      } else if (command.find("R2E-PRISTINE") != std::string_view::npos) {
        r.output = "R2E-PRISTINE 0123abcd 4567ef\n";
      }
      return r;
    };
    RepoEnvOptions options;
    options.fast_reset = true;
    options.tool_set = "";
    options.tool_server = false;
    options.hidden_tests = HiddenTestMode::kMoveUnderRoot;
    RepoEnv env(DemoTask(), std::move(double_runtime), options);
    ASSERT_TRUE(env.reset().ok());
    auto second = env.reset();
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    EXPECT_EQ(env.last_reset_kind(), keep ? ResetKind::kCold : ResetKind::kFast);
    EXPECT_EQ(rt.starts, keep ? 2 : 1) << "a kept-state session needs a fresh sandbox";
  }
}

}  // namespace
}  // namespace r2e
