// Tools: the shipped scripts and named sets (embedded scripts equal to the
// source files, the generated editors equal to their goldens, install kinds,
// user files and directories) and RepoEnv's tool dispatch. The description
// parser and schemas: tools_description_test.cc; the tools run in a sandbox
// and the action-to-command conversion: tools_sandbox_test.cc.
#include "r2e/tools.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "r2e/local_runtime.h"
#include "r2e/repo_env.h"
#include "tools_test_util.h"
#include "demo_task.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using tools_test_util::Act;
using tools_test_util::kArgvEcho;
using tools_test_util::R2eTools;
using tools_test_util::ReadFile;

const fs::path kScripts = fs::path(R2E_SOURCE_DIR) / "src/tools/scripts/r2e";
// The two editors generated from one source (scripts/r2e/editor.py), as
// reviewed: a change to the source must update these goldens knowingly.
const fs::path kEditorGoldens = fs::path(R2E_SOURCE_DIR) / "tests/data/tool_scripts";

// ---------------------------------------------------------------------------
// Shipped files and sets

TEST(ToolFilesTest, EmbeddedScriptsAreTheSourceFiles) {
  const auto files = R2eTools();
  std::vector<std::string> names;
  for (const auto& f : files) {
    names.push_back(f.name);
    const bool editor = f.name == "file_editor.py" || f.name == "str_replace_editor.py";
    EXPECT_EQ(f.content, ReadFile((editor ? kEditorGoldens : kScripts) / f.name))
        << f.name << " differs from its " << (editor ? "golden" : "source");
    EXPECT_THAT(f.content, StartsWith("#!/usr/bin/env python3\n")) << f.name;
  }
  EXPECT_THAT(names, ElementsAre("file_editor.py", "search.py", "execute_bash.py", "finish.py",
                                 "str_replace_editor.py", "submit.py"));
}

TEST(ToolFilesTest, EditorsShareTheirImplementation) {
  auto shared = [](const std::string& text) {
    const std::size_t b = text.find("# --- shared editor implementation");
    const std::size_t e = text.find("# --- end of shared editor implementation ---");
    EXPECT_NE(b, std::string::npos);
    EXPECT_NE(e, std::string::npos);
    return text.substr(b, e - b);
  };
  std::map<std::string, std::string> editors;
  for (const auto& f : R2eTools()) editors[f.name] = f.content;
  EXPECT_EQ(shared(editors["file_editor.py"]), shared(editors["str_replace_editor.py"]));
}

TEST(ToolFilesTest, NamedSets) {
  auto names = [](std::string_view set) {
    std::vector<std::string> out;
    auto files = ToolSet(set);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    for (const auto& f : *files) out.push_back(f.tool_name());
    return out;
  };
  EXPECT_THAT(names("r2egym"), ElementsAre("file_editor", "search", "execute_bash", "finish"));
  EXPECT_THAT(names("sweagent"), ElementsAre("str_replace_editor", "execute_bash", "submit"));
  EXPECT_THAT(names("openhands"), ElementsAre("str_replace_editor", "execute_bash", "submit"));
  EXPECT_THAT(names("v1"), ElementsAre("file_editor", "search", "execute_bash", "finish"));
  EXPECT_THAT(names("r2e"), ElementsAre("file_editor", "search", "execute_bash", "finish",
                                        "str_replace_editor", "submit"));
  EXPECT_THAT(ToolSetNames(), ElementsAre("r2egym", "openhands", "v1", "r2e", "sweagent"));
  auto bad = ToolSet("swe-agent");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("r2egym, openhands, v1, r2e, sweagent"));
  // The scaffold sets' Python tools can be served; r2e's own cannot (yet).
  const std::vector<ToolFile> r2egym = ToolSet("r2egym").value();
  for (const ToolFile& f : r2egym) {
    EXPECT_NE(f.content.find("\n# r2e-tool-server: main\n"), std::string::npos) << f.name;
  }
}

TEST(ToolFilesTest, InstallKindsAndNames) {
  EXPECT_EQ(InstallKind({"t.py", "print(1)"}), ToolInstall::kExecutable);
  EXPECT_EQ(InstallKind({"t", "#!/bin/sh\necho"}), ToolInstall::kExecutable);
  EXPECT_EQ(InstallKind({"t.sh", "#!/bin/bash\nf() { :; }"}), ToolInstall::kSourced);
  EXPECT_EQ(InstallKind({"t.txt", "f() { :; }"}), ToolInstall::kBoth);
  EXPECT_EQ((ToolFile{"dir/x.py", ""}).tool_name(), "x");
  EXPECT_EQ((ToolFile{"x.sh", ""}).tool_name(), "x");
  EXPECT_EQ((ToolFile{"x.txt", ""}).tool_name(), "x.txt");
  for (const char* bad : {"", ".py", ".hidden", "-rf", "a b.py", "semi;colon", "$(x).py"}) {
    EXPECT_EQ(DescribeTool({bad, ""}).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ToolFilesTest, LoadsUserFilesAndDirectories) {
  fs::path dir = fs::temp_directory_path() / ("r2e-tools-load-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "b_tool.py") << "\"\"\"B.\"\"\"\n";
  std::ofstream(dir / "a_tool.sh") << "# A.\na_tool() { echo a; }\n";
  std::ofstream(dir / ".hidden") << "x";
  auto one = LoadToolFile(dir / "b_tool.py");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->name, "b_tool.py");
  EXPECT_EQ(one->content, "\"\"\"B.\"\"\"\n");
  auto all = LoadToolFiles({dir});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "a_tool.sh");
  EXPECT_EQ((*all)[1].name, "b_tool.py");
  EXPECT_EQ(LoadToolFile(dir / "missing.py").status().code(), StatusCode::kNotFound);
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------
// RepoEnv's tool dispatch

using test_util::DemoTask;

TEST(ToolRepoEnvTest, RunsOnlyInstalledTools) {
  auto env = RepoEnv::Create(DemoTask()).value();
  std::vector<std::string> names;
  for (const auto& t : env->tools()) names.push_back(t.name);
  EXPECT_THAT(names, ElementsAre("file_editor", "search", "execute_bash", "finish"))
      << "listed before reset";
  ASSERT_TRUE(env->reset().ok());

  auto r = env->step(
      "<function=file_editor>\n<parameter=command>view</parameter>\n"
      "<parameter=path>/testbed/textstats/stats.py</parameter>\n"
      "<parameter=view_range>[1, 1]</parameter>\n</function>");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->observation.text,
            "Execution output of [file_editor]:\n"
            "Here's the result of running `cat -n` on the file: /testbed/textstats/stats.py:\n     "
            "1 \"\"\"Numeric summaries.\"\"\"\n");
  EXPECT_EQ(r->info.tool, "file_editor");
  EXPECT_FALSE(r->done);

  r = env->step("<function=execute_bash>\n<parameter=cmd>echo hi</parameter>\n</function>");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->observation.text,
            "Exit code: 0\nExecution output of [execute_bash]:\n[STDOUT]\n\nhi \n\n[STDERR]\n\n\n");
  r = env->step("<function=execute_bash>\n<parameter=cmd>git log</parameter>\n</function>");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->observation.text,
            "Exit code: Error: Exit code 1\nExecution output of [execute_bash]:\n"
            "Bash command 'git' is not allowed. Please use a different command or tool.\n");

  r = env->step("<function=str_replace_editor>\n<parameter=command>view</parameter>\n</function>");
  ASSERT_TRUE(r.ok());
  // Not a tool of this env: the scaffold's empty output.
  EXPECT_EQ(r->observation.text, "Execution output of [str_replace_editor]:\n");
  EXPECT_EQ(r->info.exit_code, -1);
  r = env->step("no call here");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->observation.text, kNoFunctionCallReminder);
  r = env->step(Act("execute_bash", {{"cmd", std::string("echo a\0b", 8)}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->observation.text,
            "Error: cannot run `execute_bash`: a parameter contains a NUL byte, which "
            "cannot be passed to a command.");
  EXPECT_EQ(r->info.exit_code, 2);
  r = env->step(Act(std::string(5000, 'z'), {}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->observation.text, "Execution output of [" + std::string(5000, 'z') + "]:\n");
  // Any name holding finish/submit ends the episode, but only the exact
  // names read "<<< Finished >>>" (the scaffold's step and Observation).
  r = env->step(Act("FINISH", {{"command", "submit"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->observation.text, "Execution output of [FINISH]:\n");
  EXPECT_TRUE(r->done);

  r = env->step(
      "<function=finish>\n<parameter=command>submit</parameter>\n<parameter=result>ok</"
      "parameter>\n</function>");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->done);
  EXPECT_EQ(r->observation.text, kFinishedText);
  EXPECT_EQ(r->info.result, "ok");
}

TEST(ToolRepoEnvTest, ToolSetsExtraToolsAndAddCommands) {
  RepoEnvOptions o;
  o.tool_set = "sweagent";
  o.extra_tools = {kArgvEcho};
  auto env = RepoEnv::Create(DemoTask(), o).value();
  // Before reset: recorded, installed at reset.
  ASSERT_TRUE(
      env->add_commands({{"hello.sh", "# Says hello.\nhello() { echo \"hello $1\"; }\n"}}).ok());
  ASSERT_TRUE(env->reset().ok());
  std::vector<std::string> names;
  for (const auto& t : env->tools()) names.push_back(t.name);
  EXPECT_THAT(names,
              ElementsAre("str_replace_editor", "execute_bash", "submit", "argv_echo", "hello"));

  auto r = env->step(Act("hello", {{"command", "there"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->observation.text, "Execution output of [hello]:\nhello there\n");
  r = env->step(Act("argv_echo", {{"command", "a b"}, {"x", "$(id)"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->observation.text, R"x(Execution output of [argv_echo]:
["a b", "--x", "$(id)"])x");
  r = env->step(Act("file_editor", {{"command", "view"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->observation.text, "Execution output of [file_editor]:\n");

  // After reset: installed at once; a same-named file replaces the old one.
  ASSERT_TRUE(
      env->add_commands({{"argv_echo.py", "#!/usr/bin/env python3\nprint('replaced')\n"}}).ok());
  r = env->step(Act("argv_echo", {}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->observation.text, "Execution output of [argv_echo]:\nreplaced\n");
  EXPECT_EQ(env->tools().size(), 5u);
  EXPECT_EQ(env->add_commands({{"bad name", ""}}).code(), StatusCode::kInvalidArgument);
  // A timeout in a non-bash tool.
  ASSERT_TRUE(env->add_commands({{"slow.py",
                                  "#!/usr/bin/env python3\nimport time\nprint('start', "
                                  "flush=True)\ntime.sleep(30)\n"}})
                  .ok());
  r = env->step(Act("slow", {}), 1s);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->info.timed_out);
  EXPECT_EQ(r->observation.text,
            "Execution output of [slow]:\nThe command took too long to execute (>1s)\nstart\n");
  // The tools survive a reset.
  ASSERT_TRUE(env->reset().ok());
  r = env->step(Act("argv_echo", {}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->observation.text, "Execution output of [argv_echo]:\nreplaced\n");
}

TEST(ToolRepoEnvTest, BadToolOptionsFailEarly) {
  RepoEnvOptions o;
  o.tool_set = "nope";
  EXPECT_EQ(RepoEnv::Create(DemoTask(), o).status().code(), StatusCode::kInvalidArgument);
  RepoEnv env(DemoTask(), std::make_unique<LocalRuntime>(), o);
  auto r = env.reset();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("unknown tool set `nope`"));
  o.tool_set = "";
  o.extra_tools = {{"", "x"}};
  EXPECT_EQ(RepoEnv::Create(DemoTask(), o).status().code(), StatusCode::kInvalidArgument);
  // No tools at all: only finishing works.
  o.extra_tools.clear();
  auto bare = RepoEnv::Create(DemoTask(), o).value();
  ASSERT_TRUE(bare->reset().ok());
  auto step = bare->step("<function=execute_bash>\n<parameter=cmd>ls</parameter>\n</function>");
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(step->observation.text, "Exit code: -1\nExecution output of [execute_bash]:\n");
  EXPECT_TRUE(bare->step("<function=submit></function>")->done);
}

}  // namespace
}  // namespace r2e
