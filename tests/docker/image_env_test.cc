// The image's environment kept, on a real dockerd: r2e-test/imgenv (ENV FOO,
// VIRTUAL_ENV, JAVA_HOME, LC_ALL and PATH=/opt/imgbin:$PATH) and
// r2e-test/badpath (a PATH that reaches nothing), both the R2E demo task with
// ENV on top (scripts/build-test-images.sh). Every exec mode and session
// transport, plain runtime calls, tool calls (served and plain) and grading.
// Skips when the daemon or the images are missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "docker/docker_client.h"
#include "r2e/docker_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/task.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* kImgEnv = "r2e-test/imgenv:latest";
constexpr const char* kBadPath = "r2e-test/badpath:latest";
const std::string kScaffold(kScaffoldPath);

std::string Missing(const std::string& image) {
  auto client = docker::DockerClient::Connect();
  if (!client.ok()) return "no Docker daemon answers (scripts/start-dockerd.sh)";
  if (!(*client)->inspect_image(image).ok()) return image + " missing (scripts/build-test-images.sh)";
  return "";
}

struct Mode {
  const char* name;
  DockerRuntimeOptions::ExecMode exec_mode;
  DockerRuntimeOptions::SessionTransport transport;
};

class DockerImageEnvTest : public ::testing::TestWithParam<Mode> {
 protected:
  void Start(const std::string& image, DockerRuntimeOptions o = {}) {
    if (std::string why = Missing(image); !why.empty()) GTEST_SKIP() << why;
    o.exec_mode = GetParam().exec_mode;
    o.session_transport = GetParam().transport;
    rt_ = std::make_unique<DockerRuntime>(o);
    SandboxSpec spec;
    spec.image = image;
    spec.task_id = "image-env-test";
    spec.env = {{"SPEC_VAR", "from spec"}};
    Status s = rt_->start(spec);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::string Out(std::string_view cmd, const ExecOptions& o = {}) {
    auto r = rt_->exec(cmd, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "<error>";
    EXPECT_EQ(r->exit_code, 0) << cmd << "\n" << r->output;
    return r->output;
  }
  std::unique_ptr<DockerRuntime> rt_;
};

TEST_P(DockerImageEnvTest, CommandsSeeTheImagesVariablesAndPath) {
  DockerRuntimeOptions o;
  o.env = {{"RT_VAR", "from runtime"}};
  Start(kImgEnv, o);
  if (!rt_) return;
  EXPECT_EQ(Out("echo \"$FOO|$VIRTUAL_ENV|$JAVA_HOME|$LC_ALL|$HOME|$SPEC_VAR|$RT_VAR\""),
            "from the image|/opt/imgvenv|/opt/imgjdk|C.UTF-8|/root|from spec|from runtime\n");
  // The scaffold's PATH, then the image's entries it lacks.
  EXPECT_EQ(Out("echo \"$PATH\""), kScaffold + ":/opt/imgbin\n");
  EXPECT_EQ(Out("imgtool"), "imgtool ran: from the image\n");
  EXPECT_EQ(Out("ls -d /"), "/\n");  // the system's ls: r2e's PATH comes first
  EXPECT_EQ(Out("sh -c 'echo ${TERM-unset} ${NO_COLOR-unset} ${PYTHONDONTWRITEBYTECODE-unset} ${PAGER-unset}'"),
            "unset unset unset unset\n");
  // The loop reads UTF-8 command text by bytes even under the image's LC_ALL.
  EXPECT_EQ(Out("x='héllo ✓'; echo \"${#x} $x\""), "7 héllo ✓\n");
  ExecOptions e;
  e.env = {{"FOO", "from the command"}};
  EXPECT_EQ(Out("echo \"$FOO\"", e), "from the command\n");
}

TEST_P(DockerImageEnvTest, UnusableImagePathStillRunsCommandsAndFiles) {
  Start(kBadPath);
  if (!rt_) return;
  EXPECT_EQ(Out("echo \"$PATH\""), kScaffold + ":/nonexistent/bin:/also/missing\n");
  EXPECT_EQ(Out("ls -d / && printf abc | head -c 2 && echo \" $FOO\""), "/\nab from the image\n");
  // write_file into a directory that does not exist runs mkdir in the sandbox.
  ASSERT_TRUE(rt_->write_file("/root/new/deep/f.txt", "x\n").ok());
  EXPECT_EQ(Out("cat /root/new/deep/f.txt"), "x\n");
  auto back = rt_->read_file("/root/new/deep/f.txt");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, "x\n");
}

TEST_P(DockerImageEnvTest, IsolatedPresetIsTheEarlierFixedEnvironment) {
  DockerRuntimeOptions o;
  o.session = ShellSessionOptions::Isolated();
  Start(kImgEnv, o);
  if (!rt_) return;
  EXPECT_EQ(Out("echo \"${FOO-unset} ${VIRTUAL_ENV-unset} $SPEC_VAR\"; echo \"$PATH\"; "
                "sh -c 'echo $HOME $LANG $LC_ALL $TERM $NO_COLOR $PYTHONDONTWRITEBYTECODE'"),
            "unset unset from spec\n" + kScaffold + "\n/root C.UTF-8 C.UTF-8 dumb 1 1\n");
}

INSTANTIATE_TEST_SUITE_P(
    Modes, DockerImageEnvTest,
    ::testing::Values(Mode{"SessionPipes", DockerRuntimeOptions::ExecMode::kSession,
                           DockerRuntimeOptions::SessionTransport::kPipes},
                      Mode{"SessionExecStream", DockerRuntimeOptions::ExecMode::kSession,
                           DockerRuntimeOptions::SessionTransport::kExec},
                      Mode{"PerCommand", DockerRuntimeOptions::ExecMode::kPerCommand,
                           DockerRuntimeOptions::SessionTransport::kAuto}),
    [](const ::testing::TestParamInfo<Mode>& p) { return std::string(p.param.name); });

// Episodes: tool calls (served by the tool server and plain) see what
// commands see, and grading runs in the image's environment.
class ImageEnvEpisodeTest : public ::testing::Test {
 protected:
  std::unique_ptr<RepoEnv> Make(const std::string& image, bool tool_server) {
    if (std::string why = Missing(image); !why.empty()) {
      skip_ = why;
      return nullptr;
    }
    auto tasks = LoadTasks(fs::path(R2E_SOURCE_DIR) / "examples/tasks/demo.jsonl");
    EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
    if (!tasks.ok()) return nullptr;
    RepoEnvOptions o;
    DockerRuntimeOptions docker;
    docker.image = image;
    o.runtime = DockerRuntimeFactory(docker);
    o.tool_server = tool_server;
    auto env = RepoEnv::Create(tasks->front(), o);
    EXPECT_TRUE(env.ok()) << env.status().ToString();
    if (!env.ok()) return nullptr;
    auto obs = (*env)->reset();
    EXPECT_TRUE(obs.ok()) << obs.status().ToString();
    return obs.ok() ? std::move(env).value() : nullptr;
  }
  static StepResult Step(RepoEnv& env, std::string_view xml) {
    auto r = env.step(xml);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : StepResult{};
  }
  // Steps until the tool server serves the call (it starts in the background).
  static StepResult StepServed(RepoEnv& env, std::string_view xml) {
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < deadline) {
      StepResult r = Step(env, xml);
      if (r.info.tool_path == ToolPath::kServed) return r;
    }
    ADD_FAILURE() << "never served";
    return {};
  }
  static std::string Bash(const std::string& cmd) {
    return "<function=execute_bash>\n<parameter=cmd>" + cmd + "</parameter>\n</function>";
  }
  // Fixes the demo's bug with the file editor; the hidden tests then pass.
  static void Fix(RepoEnv& env) {
    StepResult r = Step(env,
                        "<function=file_editor>\n<parameter=command>str_replace</parameter>\n"
                        "<parameter=path>/testbed/textstats/stats.py</parameter>\n"
                        "<parameter=old_str>if window >= len(values):</parameter>\n"
                        "<parameter=new_str>if window > len(values):</parameter>\n</function>");
    EXPECT_THAT(r.observation.text, HasSubstr("has been edited"));
  }
  std::string skip_;
};

TEST_F(ImageEnvEpisodeTest, ToolCallsServedAndPlainSeeTheImagesEnvironment) {
  auto served = Make(kImgEnv, true);
  if (!skip_.empty()) GTEST_SKIP() << skip_;
  ASSERT_NE(served, nullptr);
  auto plain = Make(kImgEnv, false);
  ASSERT_NE(plain, nullptr);
  const std::string probe = Bash("echo \"$FOO|$VIRTUAL_ENV|$LC_ALL\"; imgtool; echo \"$PATH\"");
  StepResult s = StepServed(*served, probe);
  StepResult p = Step(*plain, probe);
  EXPECT_EQ(p.info.tool_path, ToolPath::kExec);
  EXPECT_THAT(s.observation.text,
              HasSubstr("from the image|/opt/imgvenv|C.UTF-8\nimgtool ran: from the image\n" + kScaffold));
  EXPECT_THAT(s.observation.text, HasSubstr(":/sbin:/bin:/opt/imgbin"));
  EXPECT_EQ(s.observation.text, p.observation.text);
  // A plain command sees the same.
  auto r = served->run("echo \"$FOO|$VIRTUAL_ENV|$LC_ALL\"; imgtool");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output, "from the image|/opt/imgvenv|C.UTF-8\nimgtool ran: from the image\n");
  // Grading runs in the image's environment too, and still reads the log.
  auto before = served->compute_reward();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(*before, 0.0);
  Fix(*served);
  auto after = served->compute_reward();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, 1.0);
}

TEST_F(ImageEnvEpisodeTest, UnusableImagePathEpisodeRunsToolsAndGrades) {
  auto env = Make(kBadPath, true);
  if (!skip_.empty()) GTEST_SKIP() << skip_;
  ASSERT_NE(env, nullptr);
  StepResult s = StepServed(*env, Bash("echo \"$FOO\"; ls -d /testbed"));
  EXPECT_THAT(s.observation.text, HasSubstr("from the image\n/testbed"));
  EXPECT_THAT(Step(*env, "<function=search>\n<parameter=search_term>def moving_average</parameter>\n</function>")
                  .observation.text,
              HasSubstr("./textstats/stats.py (1 matches)"));
  Fix(*env);
  auto reward = env->compute_reward();
  ASSERT_TRUE(reward.ok()) << reward.status().ToString();
  EXPECT_EQ(*reward, 1.0);
}

}  // namespace
}  // namespace r2e
