// The local runtime's "image environment": LocalRuntimeOptions::env is the
// sandbox's own environment (what an image's ENV is to the container
// runtimes). Commands keep it; PATH is the session's then its entries. With
// bubblewrap and without; also an episode with tool calls and grading.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "r2e/local_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/task.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string kScaffold(kScaffoldPath);

// A toolchain directory the sandbox can see: under the working directory
// (bubblewrap binds the host's directories read-only, but gives the sandbox
// its own /tmp).
class ImgBin {
 public:
  ImgBin() : dir_(fs::current_path() / ("r2e-local-imgbin-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
    Write("imgtool", "echo \"imgtool ran: $FOO\"");
    Write("ls", "echo image ls");
  }
  ~ImgBin() { fs::remove_all(dir_); }
  std::string str() const { return dir_.string(); }

 private:
  void Write(const std::string& name, const std::string& body) {
    std::ofstream(dir_ / name) << "#!/bin/sh\n" << body << "\n";
    ::chmod((dir_ / name).c_str(), 0755);
  }
  fs::path dir_;
};

class LocalImageEnvTest : public ::testing::TestWithParam<LocalRuntimeOptions::Isolation> {
 protected:
  void SetUp() override {
    if (GetParam() == LocalRuntimeOptions::Isolation::kBubblewrap && !LocalRuntime::BubblewrapAvailable()) {
      GTEST_SKIP() << "bubblewrap is not usable here";
    }
  }
  Status Start(LocalRuntimeOptions o) {
    o.isolation = GetParam();
    rt_ = std::make_unique<LocalRuntime>(o);
    SandboxSpec spec;
    spec.env = {{"SPEC_VAR", "from spec"}};
    return rt_->start(spec);
  }
  std::string Out(std::string_view cmd) {
    auto r = rt_->exec(cmd);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "<error>";
    EXPECT_EQ(r->exit_code, 0) << cmd << "\n" << r->output;
    return r->output;
  }
  ImgBin bin_;
  std::unique_ptr<LocalRuntime> rt_;
};

TEST_P(LocalImageEnvTest, CommandsKeepTheConfiguredEnvironment) {
  LocalRuntimeOptions o;
  o.read_only_binds = {bin_.str()};  // the "image's" own bin directory, on the host
  o.env = {{"PATH", bin_.str() + ":/usr/bin:/bin"}, {"FOO", "from the image"}, {"VIRTUAL_ENV", "/opt/imgvenv"},
           {"LC_ALL", "C.UTF-8"}};
  ASSERT_TRUE(Start(o).ok());
  EXPECT_EQ(Out("echo \"$FOO|$VIRTUAL_ENV|$LC_ALL|$SPEC_VAR\""), "from the image|/opt/imgvenv|C.UTF-8|from spec\n");
  EXPECT_EQ(Out("echo \"$PATH\""), kScaffold + ":" + bin_.str() + "\n");
  EXPECT_EQ(Out("imgtool; ls -d /"), "imgtool ran: from the image\n/\n");
  // HOME and TMPDIR are still the sandbox's own; nothing else is forced,
  // and nothing of the host's environment comes in.
  const std::string home = rt_->isolated() ? "/root" : (rt_->workdir() / "root").string();
  EXPECT_EQ(Out("echo \"$HOME\""), home + "\n");
  EXPECT_EQ(Out("sh -c 'echo ${TERM-unset} ${NO_COLOR-unset} ${LANG-unset} ${USER-unset}'"),
            "unset unset unset unset\n");
}

TEST_P(LocalImageEnvTest, DefaultEnvironmentAndUnusablePath) {
  ASSERT_TRUE(Start({}).ok());
  // The default: the system directories (all in the scaffold's PATH) and LANG.
  EXPECT_EQ(Out("echo \"$PATH|$LANG\""), kScaffold + "|C.UTF-8\n");
  rt_.reset();
  LocalRuntimeOptions bad;
  bad.env = {{"PATH", "/nonexistent/bin:/also/missing"}};
  ASSERT_TRUE(Start(bad).ok());
  EXPECT_EQ(Out("echo \"$PATH\""), kScaffold + ":/nonexistent/bin:/also/missing\n");
  EXPECT_EQ(Out("ls -d / && printf abc | head -c 2"), "/\nab");
}

TEST_P(LocalImageEnvTest, BadVariableNameIsAClearError) {
  LocalRuntimeOptions o;
  o.env = {{"A=B", "x"}};
  Status s = Start(o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("LocalRuntimeOptions::env"));
  EXPECT_FALSE(rt_->alive());
}

INSTANTIATE_TEST_SUITE_P(Isolation, LocalImageEnvTest,
                         ::testing::Values(LocalRuntimeOptions::Isolation::kBubblewrap,
                                           LocalRuntimeOptions::Isolation::kNone),
                         [](const auto& p) {
                           return std::string(p.param == LocalRuntimeOptions::Isolation::kNone ? "None"
                                                                                              : "Bubblewrap");
                         });

TEST(LocalImageEnvEpisodeTest, ToolCallsServedAndPlainAndGradingSeeTheEnvironment) {
  if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
  ImgBin bin;
  auto tasks = LoadTasks(std::string(R2E_SOURCE_DIR) + "/examples/tasks/demo.jsonl");
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  std::string seen[2];
  for (bool server : {true, false}) {
    RepoEnvOptions o;
    o.tool_server = server;
    LocalRuntimeOptions local;
    local.read_only_binds = {bin.str()};
    local.env = {{"PATH", bin.str() + ":/usr/bin:/bin"}, {"FOO", "from the image"}};
    o.runtime = LocalRuntimeFactory(local);
    auto env = RepoEnv::Create(tasks->front(), o);
    ASSERT_TRUE(env.ok()) << env.status().ToString();
    ASSERT_TRUE((*env)->reset().ok());
    const std::string probe = "<function=execute_bash>\n<parameter=cmd>imgtool; echo \"$PATH\"</parameter>\n</function>";
    StepResult r;
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    do {
      auto step = (*env)->step(probe);
      ASSERT_TRUE(step.ok()) << step.status().ToString();
      r = *step;
    } while (server && r.info.tool_path != ToolPath::kServed && std::chrono::steady_clock::now() < deadline);
    EXPECT_EQ(r.info.tool_path, server ? ToolPath::kServed : ToolPath::kExec);
    EXPECT_THAT(r.observation.text, HasSubstr("imgtool ran: from the image\n" + kScaffold + ":" + bin.str()));
    seen[server ? 0 : 1] = r.observation.text;
    auto fixed = (*env)->step(
        "<function=file_editor>\n<parameter=command>str_replace</parameter>\n"
        "<parameter=path>/testbed/textstats/stats.py</parameter>\n"
        "<parameter=old_str>if window >= len(values):</parameter>\n"
        "<parameter=new_str>if window > len(values):</parameter>\n</function>");
    ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
    auto reward = (*env)->compute_reward();
    ASSERT_TRUE(reward.ok()) << reward.status().ToString();
    EXPECT_EQ(*reward, 1.0);
  }
  EXPECT_EQ(seen[0], seen[1]);
}

}  // namespace
}  // namespace r2e
