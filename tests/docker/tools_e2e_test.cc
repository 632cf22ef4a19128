// Tools in a container: RepoEnv on the docker runtime installs the r2egym
// set into /usr/local/bin of the demo image, and file_editor, search and
// execute_bash work there; a user tool arrives through add_commands; in an
// image without python3 the tools run on r2e-python with the same outputs.
// Skips when the daemon or image r2e-demo/textstats:latest is missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "docker/docker_client.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/task.h"
#include "r2e/tools.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kImage = "r2e-demo/textstats:latest";

bool HaveDaemonAndImage(std::string* why) {
  auto client = docker::DockerClient::Connect();
  if (!client.ok()) {
    *why = "no Docker daemon answers (scripts/start-dockerd.sh)";
    return false;
  }
  if (!(*client)->inspect_image(kImage).ok()) {
    *why = std::string(kImage) + " missing (scripts/build-test-images.sh)";
    return false;
  }
  return true;
}

class ToolsDockerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!HaveDaemonAndImage(&why)) GTEST_SKIP() << why;
    auto tasks = LoadTasks(fs::path(R2E_SOURCE_DIR) / "examples/tasks/demo.jsonl");
    ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
    RepoEnvOptions o;
    o.runtime = DockerRuntimeFactory();
    auto env = RepoEnv::Create(tasks->front(), o);
    ASSERT_TRUE(env.ok()) << env.status().ToString();
    env_ = std::move(env).value();
    auto obs = env_->reset();
    ASSERT_TRUE(obs.ok()) << obs.status().ToString();
  }

  std::string Step(std::string_view xml) {
    auto r = env_->step(xml);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->observation.text : "";
  }

  std::unique_ptr<RepoEnv> env_;
};

TEST_F(ToolsDockerTest, InstalledIntoUsrLocalBin) {
  auto r = env_->run("command -v file_editor search execute_bash finish");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output,
            "/usr/local/bin/file_editor\n/usr/local/bin/search\n/usr/local/bin/execute_bash\n/usr/"
            "local/bin/finish\n");
  auto mode = env_->run("stat -c %a /usr/local/bin/file_editor");
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(mode->output, "755\n");
}

TEST_F(ToolsDockerTest, FileEditorViewAndStrReplace) {
  EXPECT_EQ(Step("<function=file_editor>\n<parameter=command>view</parameter>\n"
                 "<parameter=path>/testbed/textstats/stats.py</parameter>\n"
                 "<parameter=view_range>[31, 32]</parameter>\n</function>"),
            "Execution output of [file_editor]:\n"
            "Here's the result of running `cat -n` on the file: /testbed/textstats/stats.py:\n"
            "    31     if window >= len(values):\n    32         return []\n");
  EXPECT_THAT(Step("<function=file_editor>\n<parameter=command>view</parameter>\n"
                   "<parameter=path>/testbed</parameter>\n</function>"),
              HasSubstr("/testbed/textstats/stats.py\n"));
  std::string out = Step(
      "<function=file_editor>\n<parameter=command>str_replace</parameter>\n"
      "<parameter=path>/testbed/textstats/stats.py</parameter>\n"
      "<parameter=old_str>if window >= len(values):</parameter>\n"
      "<parameter=new_str>if window > len(values):</parameter>\n</function>");
  EXPECT_THAT(
      out,
      StartsWith("Execution output of [file_editor]:\nThe file /testbed/textstats/stats.py has "
                 "been edited."));
  EXPECT_THAT(out, HasSubstr("    31\t    if window > len(values):\n"));
  EXPECT_THAT(Step("<function=file_editor>\n<parameter=command>str_replace</parameter>\n"
                   "<parameter=path>/testbed/textstats/stats.py</parameter>\n"
                   "<parameter=old_str>if not "
                   "values:</parameter>\n<parameter=new_str>x</parameter>\n</function>"),
              HasSubstr("ERROR: Multiple occurrences of 'if not values:'"));
  // The edit fixes the bug: the hidden tests now pass.
  auto reward = env_->compute_reward();
  ASSERT_TRUE(reward.ok()) << reward.status().ToString();
  EXPECT_EQ(*reward, 1.0);
  // Undo persists in the container.
  EXPECT_THAT(Step("<function=file_editor>\n<parameter=command>undo_edit</parameter>\n"
                   "<parameter=path>/testbed/textstats/stats.py</parameter>\n</function>"),
              HasSubstr("undone successfully"));
  auto line = env_->run("sed -n 31p /testbed/textstats/stats.py");
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->output, "    if window >= len(values):\n");
}

TEST_F(ToolsDockerTest, SearchAndExecuteBash) {
  EXPECT_EQ(
      Step("<function=search>\n<parameter=search_term>def moving_average</parameter>\n</function>"),
      "Execution output of [search]:\nFound 1 matches for \"def moving_average\" in /testbed:\n"
      "./textstats/stats.py (1 matches)\nEnd of matches for \"def moving_average\" in /testbed\n");
  EXPECT_EQ(Step("<function=search>\n<parameter=search_term>moving_average</parameter>\n"
                 "<parameter=path>/testbed/textstats/stats.py</parameter>\n</function>"),
            "Execution output of [search]:\nMatches for \"moving_average\" in "
            "/testbed/textstats/stats.py:\n"
            "22:def moving_average(values, window):\n");
  EXPECT_EQ(Step("<function=execute_bash>\n<parameter=cmd>python3 -c 'print(6 * "
                 "7)'</parameter>\n</function>"),
            "Exit code: 0\nExecution output of [execute_bash]:\n[STDOUT]\n\n42 \n\n[STDERR]\n\n\n");
  EXPECT_THAT(Step("<function=execute_bash>\n<parameter=cmd>git status</parameter>\n</function>"),
              HasSubstr("Bash command 'git' is not allowed."));
}

TEST_F(ToolsDockerTest, UserToolThroughAddCommands) {
  ASSERT_TRUE(
      env_->add_commands(
              {{"shout.py",
                "#!/usr/bin/env python3\nimport sys\nprint(' '.join(sys.argv[1:]).upper())\n"},
               {"greet.sh", "greet() { echo \"hello $1\"; }\n"}})
          .ok());
  EXPECT_EQ(Step("<function=shout>\n<parameter=command>it's $(fine)</parameter>\n</function>"),
            "Execution output of [shout]:\nIT'S $(FINE)\n");
  EXPECT_EQ(Step("<function=greet>\n<parameter=command>container</parameter>\n</function>"),
            "Execution output of [greet]:\nhello container\n");
  std::vector<std::string> names;
  for (const auto& t : env_->tools()) names.push_back(t.name);
  EXPECT_THAT(names,
              ElementsAre("file_editor", "search", "execute_bash", "finish", "shout", "greet"));
}

// An image without python3 (r2e-test/nopython): the tools run on r2e-python,
// served by the tool server running on it too, and every step's observation
// and info equals the same step's on the image with Python, but for which
// interpreter ran; an added Python tool runs on it as well. The scaffold's
// tools are served: the tool server runs on r2e-python too.
TEST(ToolsDockerPythonlessTest, ToolsRunOnBundledPythonWithTheSameOutputs) {
  std::string why;
  if (!HaveDaemonAndImage(&why)) GTEST_SKIP() << why;
  if (!docker::DockerClient::Connect().value()->inspect_image("r2e-test/nopython:latest").ok()) {
    GTEST_SKIP() << "r2e-test/nopython:latest missing (scripts/build-test-images.sh)";
  }
  if (!BundledPythonAvailable()) GTEST_SKIP() << "this build has no r2e-python";
  auto tasks = LoadTasks(fs::path(R2E_SOURCE_DIR) / "examples/tasks/demo.jsonl");
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  const std::vector<std::string> steps = {
      "<function=file_editor>\n<parameter=command>view</parameter>\n"
      "<parameter=path>/testbed/textstats/stats.py</parameter>\n</function>",
      "<function=file_editor>\n<parameter=command>view</parameter>\n"
      "<parameter=path>/testbed/textstats/stats.py</parameter>\n"
      "<parameter=view_range>[20, 40]</parameter>\n</function>",
      "<function=search>\n<parameter=search_term>def moving_average</parameter>\n</function>",
      "<function=file_editor>\n<parameter=command>str_replace</parameter>\n"
      "<parameter=path>/testbed/textstats/stats.py</parameter>\n"
      "<parameter=old_str>if window >= len(values):</parameter>\n"
      "<parameter=new_str>if window > len(values):</parameter>\n</function>",
      "<function=file_editor>\n<parameter=command>create</parameter>\n"
      "<parameter=path>/testbed/notes/b\u00e4d.py</parameter>\n"
      "<parameter=file_text>def f(:\n    return 1\n</parameter>\n"
      "<parameter=enable_linting>True</parameter>\n</function>",
      "<function=file_editor>\n<parameter=command>undo_edit</parameter>\n"
      "<parameter=path>/testbed/textstats/stats.py</parameter>\n</function>",
      "<function=file_editor>\n<parameter=command>view</parameter>\n"
      "<parameter=path>/testbed/README.md</parameter>\n</function>",
      "<function=execute_bash>\n<parameter=cmd>ls textstats; echo oops >&2; exit 3</parameter>\n</function>",
      "<function=search>\n<parameter=search_term>window</parameter>\n"
      "<parameter=path>/testbed/textstats/stats.py</parameter>\n</function>",
      "<function=shout>\n<parameter=command>on which python?</parameter>\n</function>",
  };
  struct Run {
    std::vector<std::string> observations;
    std::vector<std::optional<ToolPython>> pythons;
    std::vector<std::optional<ToolPath>> paths;  // served or plain
    std::string python3;
  };
  auto run = [&](const std::string& image) {
    Run out;
    RepoEnvOptions o;
    o.runtime = DockerRuntimeFactory();
    Task task = tasks->front();
    task.image = image;
    auto env = RepoEnv::Create(task, o);
    EXPECT_TRUE(env.ok()) << env.status().ToString();
    if (!env.ok()) return out;
    auto obs = (*env)->reset();
    EXPECT_TRUE(obs.ok()) << obs.status().ToString();
    EXPECT_TRUE((*env)
                    ->add_commands({{"shout.py",
                                     "#!/usr/bin/env python3\nimport sys\nprint(' '.join(sys.argv[1:]).upper())\n"}})
                    .ok());
    for (const std::string& step : steps) {
      auto r = (*env)->step(step);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return out;
      out.observations.push_back(r->observation.text);
      out.pythons.push_back(r->info.tool_python);
      out.paths.push_back(r->info.tool_path);
    }
    auto probe = (*env)->run("command -v python3 || echo none");
    if (probe.ok()) out.python3 = probe->output;
    (void)(*env)->close();
    return out;
  };
  const Run with = run(kImage);
  const Run without = run("r2e-test/nopython:latest");
  ASSERT_EQ(with.observations.size(), steps.size());
  ASSERT_EQ(without.observations.size(), steps.size());
  EXPECT_EQ(without.python3, "none\n");
  EXPECT_NE(with.python3, "none\n");
  for (std::size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE(steps[i]);
    EXPECT_EQ(without.observations[i], with.observations[i]);
    EXPECT_EQ(with.pythons[i], ToolPython::kSandbox);
    EXPECT_EQ(without.pythons[i], ToolPython::kBundled);
  }
  // The scaffold's tools were served (one interpreter per sandbox), also on
  // r2e-python: calls run plainly only while the server starts.
  EXPECT_TRUE(std::any_of(without.paths.begin(), without.paths.end(),
                          [](const auto& p) { return p == ToolPath::kServed; }));
  EXPECT_THAT(without.observations[4], HasSubstr("invalid syntax"));  // ast, on r2e-python too
  EXPECT_EQ(without.observations.back(), "Execution output of [shout]:\nON WHICH PYTHON?\n");
}

// An image whose User is not root (r2e-test/imguser, USER agent): commands
// run as that user, the tools install although /usr/local/bin is root's (the
// directories r2e makes there are the user's), and the tool server, running
// as the user, serves them.
TEST(ToolsDockerUserTest, ToolsInstallAndAreServedOnAnImageRunAsAnotherUser) {
  std::string why;
  if (!HaveDaemonAndImage(&why)) GTEST_SKIP() << why;
  constexpr const char* kUserImage = "r2e-test/imguser:latest";
  if (!docker::DockerClient::Connect().value()->inspect_image(kUserImage).ok()) {
    GTEST_SKIP() << kUserImage << " missing (scripts/build-test-images.sh)";
  }
  DockerRuntimeOptions docker;
  docker.image = kUserImage;
  auto made = DockerRuntimeFactory(docker)();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Runtime& rt = **made;
  SandboxSpec spec;
  spec.task_id = "tools-as-user";
  ASSERT_TRUE(rt.start(spec).ok());
  struct Stopper {
    Runtime& rt;
    ~Stopper() { (void)rt.stop(); }
  } stopper{rt};
  auto id = rt.exec("id -u");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->output, "1234\n");
  auto files = ToolSet("r2egym");
  ASSERT_TRUE(files.ok());
  auto installed = AddCommands(rt, *files);
  ASSERT_TRUE(installed.ok()) << installed.status().ToString();
  ExecOptions wait;
  wait.timeout = std::chrono::seconds(60);
  ASSERT_TRUE(StartToolServer(rt, *installed, wait, /*wait=*/true).ok());
  const auto bash = std::find_if(installed->begin(), installed->end(),
                                 [](const InstalledTool& t) { return t.description.name == "execute_bash"; });
  ASSERT_NE(bash, installed->end());
  auto called = CallTool(rt, *installed, *bash, "execute_bash --cmd 'id -un; echo hi > /testbed/by_agent.txt'");
  ASSERT_TRUE(called.ok()) << called.status().ToString();
  EXPECT_EQ(called->path, ToolPath::kServed);
  EXPECT_THAT(called->result.output, HasSubstr("[STDOUT]\n\nagent"));
  const std::string bin = bash->executable.substr(0, bash->executable.rfind('/'));
  auto owner = rt.exec("stat -c %U /testbed/by_agent.txt " + bin + "/.r2e-tools");
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->output, "agent\nagent\n");
}

}  // namespace
}  // namespace r2e
