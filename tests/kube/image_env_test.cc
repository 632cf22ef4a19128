// The image's environment kept, on the test API server (pods are real
// containers of dockerd): r2e-test/imgenv (ENV FOO, VIRTUAL_ENV, JAVA_HOME,
// LC_ALL and PATH=/opt/imgbin:$PATH) and r2e-test/badpath (a PATH that
// reaches nothing), from scripts/build-test-images.sh. Both exec modes, file
// transfers, and an episode with tool calls and grading.
#include <gmock/gmock.h>

#include "kube_test_util.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/task.h"

namespace r2e::kubetest {
namespace {

using ::testing::HasSubstr;

constexpr const char* kImgEnv = "r2e-test/imgenv:latest";
constexpr const char* kBadPath = "r2e-test/badpath:latest";
const std::string kScaffold(kScaffoldPath);

class KubeImageEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    R2E_REQUIRE_KUBE();
    ns_ = TestNamespace();
    server_ = std::make_unique<Server>();
  }
  void TearDown() override {
    if (!server_) return;
    EXPECT_TRUE(server_->Pods(ns_).empty()) << "pods leaked in " << ns_;
  }
  // Starts `image`; a missing test image fails with its name in the error.
  std::unique_ptr<KubeRuntime> Start(const std::string& image, KubeRuntimeOptions o) {
    auto rt = std::make_unique<KubeRuntime>(o);
    SandboxSpec spec;
    spec.image = image;
    spec.task_id = "image-env-test";
    spec.env = {{"SPEC_VAR", "from spec"}};
    Status s = rt->start(spec);
    EXPECT_TRUE(s.ok()) << s.ToString() << " (scripts/build-test-images.sh builds " << image << ")";
    return s.ok() ? std::move(rt) : nullptr;
  }
  static std::string Out(KubeRuntime& rt, std::string_view cmd) {
    auto r = rt.exec(cmd);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "<error>";
    EXPECT_EQ(r->exit_code, 0) << cmd << "\n" << r->output;
    return r->output;
  }
  std::string ns_;
  std::unique_ptr<Server> server_;
};

TEST_F(KubeImageEnvTest, CommandsSeeTheImagesVariablesAndPathInBothExecModes) {
  for (auto mode : {KubeRuntimeOptions::ExecMode::kSession, KubeRuntimeOptions::ExecMode::kPerCommand}) {
    SCOPED_TRACE(mode == KubeRuntimeOptions::ExecMode::kSession ? "session" : "per command");
    KubeRuntimeOptions o = TestRuntimeOptions(ns_);
    o.exec_mode = mode;
    o.env = {{"RT_VAR", "from runtime"}};
    auto rt = Start(kImgEnv, o);
    ASSERT_NE(rt, nullptr);
    EXPECT_EQ(Out(*rt, "echo \"$FOO|$VIRTUAL_ENV|$JAVA_HOME|$LC_ALL|$SPEC_VAR|$RT_VAR\""),
              "from the image|/opt/imgvenv|/opt/imgjdk|C.UTF-8|from spec|from runtime\n");
    EXPECT_EQ(Out(*rt, "echo \"$PATH\""), kScaffold + ":/opt/imgbin\n");
    EXPECT_EQ(Out(*rt, "imgtool; ls -d /"), "imgtool ran: from the image\n/\n");
    EXPECT_EQ(Out(*rt, "sh -c 'echo ${TERM-unset} ${NO_COLOR-unset} ${PYTHONDONTWRITEBYTECODE-unset}'"),
              "unset unset unset\n");
    EXPECT_EQ(Out(*rt, "x='héllo ✓'; echo \"${#x} $x\""), "7 héllo ✓\n");
    ASSERT_TRUE(rt->stop().ok());
  }
}

TEST_F(KubeImageEnvTest, UnusableImagePathStillRunsCommandsAndFiles) {
  for (auto mode : {KubeRuntimeOptions::ExecMode::kSession, KubeRuntimeOptions::ExecMode::kPerCommand}) {
    SCOPED_TRACE(mode == KubeRuntimeOptions::ExecMode::kSession ? "session" : "per command");
    KubeRuntimeOptions o = TestRuntimeOptions(ns_);
    o.exec_mode = mode;
    auto rt = Start(kBadPath, o);
    ASSERT_NE(rt, nullptr);
    EXPECT_EQ(Out(*rt, "echo \"$PATH\""), kScaffold + ":/nonexistent/bin:/also/missing\n");
    EXPECT_EQ(Out(*rt, "ls -d / && printf abc | head -c 2 && echo \" $FOO\""), "/\nab from the image\n");
    // File transfers run mkdir, head and tar in the pod.
    ASSERT_TRUE(rt->write_file("/tmp/new/deep/f.txt", "x\n").ok());
    auto back = rt->read_file("/tmp/new/deep/f.txt");
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, "x\n");
    ASSERT_TRUE(rt->stop().ok());
  }
}

TEST_F(KubeImageEnvTest, IsolatedPresetIsTheEarlierFixedEnvironment) {
  KubeRuntimeOptions o = TestRuntimeOptions(ns_);
  o.session = ShellSessionOptions::Isolated();
  auto rt = Start(kImgEnv, o);
  ASSERT_NE(rt, nullptr);
  EXPECT_EQ(Out(*rt, "echo \"${FOO-unset} $SPEC_VAR\"; echo \"$PATH\"; sh -c 'echo $HOME $LC_ALL $TERM $NO_COLOR'"),
            "unset from spec\n" + kScaffold + "\n/root C.UTF-8 dumb 1\n");
  ASSERT_TRUE(rt->stop().ok());
}

TEST_F(KubeImageEnvTest, EpisodeToolCallsAndGradingOnBothImages) {
  auto tasks = LoadTasks(fs::path(R2E_SOURCE_DIR) / "examples/tasks/demo.jsonl");
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  for (const std::string image : {kImgEnv, kBadPath}) {
    SCOPED_TRACE(image);
    RepoEnvOptions o;
    KubeRuntimeOptions kube = TestRuntimeOptions(ns_);
    kube.workdir = "/testbed";
    kube.image = image;
    o.runtime = KubeRuntimeFactory(kube);
    auto env = RepoEnv::Create(tasks->front(), o);
    ASSERT_TRUE(env.ok()) << env.status().ToString();
    auto obs = (*env)->reset();
    ASSERT_TRUE(obs.ok()) << obs.status().ToString();
    // Until the tool server serves the call (it starts in the background).
    const std::string probe =
        "<function=execute_bash>\n<parameter=cmd>echo \"$FOO\"; echo \"$PATH\"</parameter>\n</function>";
    StepResult served;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = (*env)->step(probe);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      served = *r;
      if (r->info.tool_path == ToolPath::kServed) break;
    }
    EXPECT_EQ(served.info.tool_path, ToolPath::kServed);
    EXPECT_THAT(served.observation.text, HasSubstr("from the image\n" + kScaffold + ":"));
    auto fixed = (*env)->step(
        "<function=file_editor>\n<parameter=command>str_replace</parameter>\n"
        "<parameter=path>/testbed/textstats/stats.py</parameter>\n"
        "<parameter=old_str>if window >= len(values):</parameter>\n"
        "<parameter=new_str>if window > len(values):</parameter>\n</function>");
    ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
    EXPECT_THAT(fixed->observation.text, HasSubstr("has been edited"));
    auto reward = (*env)->compute_reward();
    ASSERT_TRUE(reward.ok()) << reward.status().ToString();
    EXPECT_EQ(*reward, 1.0);
    (*env)->close();
  }
}

}  // namespace
}  // namespace r2e::kubetest
