// Tools: the action-to-command conversion against hostile values (asserted
// by the argv that reaches a tool), and the shipped scripts run for real in
// a LocalRuntime sandbox holding the demo repository (file editor, search,
// execute_bash, finish and submit).
#include "r2e/tools.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r2e/local_runtime.h"
#include "r2e/shell_quote.h"
#include "tools_test_util.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using tools_test_util::Act;
using tools_test_util::kArgvEcho;
using tools_test_util::R2eTools;

const fs::path kDemoRepo = fs::path(R2E_SOURCE_DIR) / "examples/tasks/demo/repo";

// ---------------------------------------------------------------------------
// Action -> command

TEST(ActionToCommandTest, ScaffoldLayoutAndQuoting) {
  EXPECT_EQ(*ActionToCommand(
                Act("file_editor",
                    {{"path", "/testbed/a.py"}, {"command", "view"}, {"view_range", "[1, 5]"}})),
            "file_editor view --path /testbed/a.py --view_range '[1, 5]'");
  EXPECT_EQ(*ActionToCommand(Act("execute_bash", {{"cmd", "ls -la"}})),
            "execute_bash --cmd 'ls -la'");
  // Python's shlex.quote writes ' as '"'"'.
  EXPECT_EQ(*ActionToCommand(Act("search", {{"search_term", "it's"}})),
            "search --search_term 'it'\"'\"'s'");
  EXPECT_EQ(*ActionToCommand(Act("t", {{"empty", ""}})), "t --empty ''");
  EXPECT_EQ(*ActionToCommand(Act("t", {{"a b", "x"}})), "t '--a b' x");
  EXPECT_EQ(*ActionToCommand(Act("finish", {{"command", "submit"}})), "echo '<<<Finished>>>'");
  // Only the exact names finish (the scaffold's to_bashcmd).
  EXPECT_EQ(*ActionToCommand(Act("SUBMIT", {})), "SUBMIT");
  EXPECT_EQ(*ActionToCommand(Act("finish_task", {{"command", "submit"}})), "finish_task submit");
  EXPECT_EQ(ShlexQuote("a-b_c.d/e:f,g=h+i@j%k"), "a-b_c.d/e:f,g=h+i@j%k");
  EXPECT_EQ(ShlexQuote("caf\xc3\xa9"), "'caf\xc3\xa9'");
  EXPECT_EQ(*ActionToCommand(Action{}), "");  // no function: nothing to run
  EXPECT_EQ(*ActionToCommand(Act("t", {{"", "x y"}})), "t -- 'x y'");  // as the scaffold's
  // A NUL byte is quoted like any other character (RepoEnv refuses to run it).
  EXPECT_EQ(*ActionToCommand(Act("t", {{"k", std::string("a\0b", 3)}})),
            std::string("t --k 'a\0b'", 11));
  EXPECT_EQ(*ActionToCommand(Act(std::string("t\0", 2), {})), std::string("'t\0'", 4));
}

TEST(ActionToCommandTest, FunctionCallArgumentsAsTheScaffoldPassesThem) {
  auto call = [](std::string_view args) { return ActionFromToolCall("file_editor", args).value(); };
  EXPECT_EQ(*ActionToCommand(call(
                R"({"command": "view", "path": "/a.py", "view_range": [1, 5], "concise": true})")),
            "file_editor view --path /a.py --view_range '[1, 5]' --concise True");
  EXPECT_EQ(*ActionToCommand(call(R"({"command": null, "path": "/a.py"})")),
            "file_editor --path /a.py");
  // Where the scaffold raises: a `command` that is not a string, arguments
  // that are not an object (a finish call still finishes).
  EXPECT_EQ(ActionToCommand(call(R"({"command": 5})")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ActionToCommand(call("[1]")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*ActionToCommand(ActionFromToolCall("finish", "null").value()),
            "echo '<<<Finished>>>'");
  // set_parameter keeps the typed arguments in step.
  Action a = call(R"({"command": 5})");
  a.set_parameter("command", "view");
  EXPECT_EQ(*ActionToCommand(a), "file_editor view");
}

// ---------------------------------------------------------------------------
// The tools in a sandbox

class ToolSandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
    rt_ = std::make_unique<LocalRuntime>();
    SandboxSpec spec;
    spec.copy_in = {{kDemoRepo, "/testbed"}};
    ASSERT_TRUE(rt_->start(spec).ok());
    std::vector<ToolFile> files = R2eTools();
    files.push_back(kArgvEcho);
    auto installed = AddCommands(*rt_, files);
    ASSERT_TRUE(installed.ok()) << installed.status().ToString();
    installed_ = *installed;
  }

  // Runs the action's command; returns the output and keeps the exit code.
  std::string Call(const Action& action, std::chrono::milliseconds timeout = 30s) {
    auto cmd = ActionToCommand(action);
    EXPECT_TRUE(cmd.ok()) << cmd.status().ToString();
    if (!cmd.ok()) return "";
    return Run(*cmd, timeout);
  }
  std::string Call(std::string_view xml) { return Call(ParseAction(xml)); }
  std::string Run(std::string_view cmd, std::chrono::milliseconds timeout = 30s) {
    ExecOptions o;
    o.timeout = timeout;
    auto r = rt_->exec(cmd, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    code_ = r.ok() ? r->exit_code : -1;
    return r.ok() ? r->output : "";
  }
  std::string Edit(std::vector<std::pair<std::string, std::string>> params) {
    return Call(Act("file_editor", std::move(params)));
  }
  nlohmann::json Argv(std::vector<std::pair<std::string, std::string>> params) {
    std::string out = Call(Act("argv_echo", std::move(params)));
    auto j = nlohmann::json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << out.substr(0, 500);
    return j;
  }

  std::unique_ptr<LocalRuntime> rt_;
  std::vector<InstalledTool> installed_;
  int code_ = -1;
};

TEST_F(ToolSandboxTest, InstallsExecutablesOnThePath) {
  ASSERT_EQ(installed_.size(), 7u);
  for (const auto& t : installed_) {
    EXPECT_EQ(t.kind, ToolInstall::kExecutable);
    EXPECT_EQ(t.executable, "/root/.local/bin/" + t.description.name)
        << "the local sandbox cannot write /usr/local/bin";
    EXPECT_TRUE(t.sourced.empty());
  }
  EXPECT_EQ(
      Run("command -v file_editor search execute_bash finish submit str_replace_editor"),
      "/root/.local/bin/file_editor\n/root/.local/bin/search\n/root/.local/bin/execute_bash\n"
      "/root/.local/bin/finish\n/root/.local/bin/submit\n/root/.local/bin/str_replace_editor\n");
  EXPECT_EQ(Run("stat -c %a /root/.local/bin/search"), "755\n");
  // An explicit directory.
  AddCommandsOptions o;
  o.bin_dir = "/tmp/bin";
  auto r = AddCommands(*rt_, {kArgvEcho}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].executable, "/tmp/bin/argv_echo");
  EXPECT_EQ(Run("/tmp/bin/argv_echo x"), R"(["x"])");
  // A bad file installs nothing.
  EXPECT_EQ(AddCommands(*rt_, {{"ok.py", ""}, {"bad name.py", ""}}).status().code(),
            StatusCode::kInvalidArgument);
  Run("command -v ok");
  EXPECT_NE(code_, 0);
}

TEST_F(ToolSandboxTest, SourcedAndBothKinds) {
  auto r = AddCommands(*rt_, {{"greet.sh", "greet() { echo \"hello $1\"; }\n"},
                              {"shout", "shout() { echo \"HEY $1\"; }\n"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].sourced, "/root/.local/bin/greet.sh");
  EXPECT_TRUE((*r)[0].executable.empty());
  EXPECT_EQ((*r)[1].sourced, "/root/.local/bin/shout");
  EXPECT_EQ((*r)[1].executable, "/root/.local/bin/shout");
  EXPECT_EQ(
      Run(". /root/.local/bin/greet.sh; " + *ActionToCommand(Act("greet", {{"command", "you"}}))),
      "hello you\n");
}

TEST_F(ToolSandboxTest, FileEditorViewsFilesAndDirectories) {
  std::string out = Edit({{"command", "view"}, {"path", "/testbed/textstats/stats.py"}});
  EXPECT_EQ(code_, 0);
  EXPECT_THAT(out,
              StartsWith("Here's the result of running `cat -n` on /testbed/textstats/stats.py:\n"
                         "     1\t\"\"\"Numeric summaries.\"\"\"\n     2\t\n"));
  EXPECT_THAT(out, HasSubstr("    38\t    return averages\n"));

  out = Edit(
      {{"command", "view"}, {"path", "/testbed/textstats/stats.py"}, {"view_range", "[31, 32]"}});
  EXPECT_EQ(out,
            "Here's the result of running `cat -n` on /testbed/textstats/stats.py:\n"
            "    31\t    if window >= len(values):\n    32\t        return []\n");
  out = Edit(
      {{"command", "view"}, {"path", "/testbed/textstats/stats.py"}, {"view_range", "[37, -1]"}});
  EXPECT_THAT(
      out,
      HasSubstr("    37\t        averages.append(total / window)\n    38\t    return averages\n"));
  EXPECT_THAT(out, Not(HasSubstr("    36\t")));
  out = Edit(
      {{"command", "view"}, {"path", "/testbed/textstats/stats.py"}, {"view_range", "[50, 60]"}});
  EXPECT_EQ(
      out,
      "ERROR: Invalid `view_range`: [50, 60]. Its first element `50` should be within the range "
      "of lines of the file: [1, 38].\n");
  EXPECT_EQ(code_, 1);
  out = Edit(
      {{"command", "view"}, {"path", "/testbed/textstats/stats.py"}, {"view_range", "[5, 2]"}});
  EXPECT_THAT(out, HasSubstr("Its second element `2` should be -1 (to the end) or within [5, 38]"));
  out =
      Edit({{"command", "view"}, {"path", "/testbed/textstats/stats.py"}, {"view_range", "five"}});
  EXPECT_THAT(out, HasSubstr("argument --view_range: expected two line numbers"));

  out = Edit({{"command", "view"}, {"path", "/testbed/textstats/stats.py"}, {"concise", "true"}});
  EXPECT_THAT(out, StartsWith("Here is a condensed view for file: /testbed/textstats/stats.py;"));
  EXPECT_THAT(
      out,
      HasSubstr(
          "    22\tdef moving_average(values, window):\n    23\t... eliding lines 23-38 ...\n"));

  Run("mkdir -p .cache/deep && touch .hidden_file textstats/.secret");
  out = Edit({{"command", "view"}, {"path", "/testbed"}});
  EXPECT_EQ(
      out,
      "Here's the files and directories up to 2 levels deep in /testbed, excluding hidden:\n"
      "/testbed\n/testbed/README.md\n/testbed/conftest.py\n/testbed/run_tests.sh\n/testbed/tests\n"
      "/testbed/tests/test_basic.py\n/testbed/textstats\n/testbed/textstats/__init__.py\n"
      "/testbed/textstats/core.py\n/testbed/textstats/stats.py\n");
  out = Edit({{"command", "view"}, {"path", "/testbed"}, {"view_range", "[1, 2]"}});
  EXPECT_THAT(out, HasSubstr("not allowed when `path` points to a directory"));
  EXPECT_EQ(Edit({{"command", "view"}, {"path", "/testbed/nope.py"}}),
            "ERROR: The path '/testbed/nope.py' does not exist.\n");
  // Relative paths resolve against the working directory.
  EXPECT_THAT(Edit({{"command", "view"}, {"path", "README.md"}}),
              StartsWith("Here's the result of running `cat -n` on /testbed/README.md:\n"));
}

TEST_F(ToolSandboxTest, FileEditorClipsLongResponses) {
  Run("python3 -c \"print('x' * 30000)\" > /testbed/big.txt");
  std::string out = Edit({{"command", "view"}, {"path", "/testbed/big.txt"}});
  const std::string note =
      "<response clipped><NOTE>To save on context only part of this file has been shown to you. "
      "You should "
      "retry this tool after you have searched inside the file with `grep -n` in order to find the "
      "line "
      "numbers of what you are looking for.</NOTE>";
  ASSERT_THAT(out, HasSubstr(note));
  EXPECT_EQ(out.size(), 10000 + note.size() + 1);
  Run("printf 'a\\0b' > /testbed/bin.dat");
  EXPECT_THAT(Edit({{"command", "view"}, {"path", "/testbed/bin.dat"}}),
              HasSubstr("looks like a binary file"));
}

TEST_F(ToolSandboxTest, FileEditorEditsAndUndoes) {
  const std::string path = "/testbed/textstats/stats.py";
  std::string out = Edit({{"command", "str_replace"},
                          {"path", path},
                          {"old_str", "if window >= len(values):"},
                          {"new_str", "if window > len(values):"}});
  EXPECT_EQ(code_, 0);
  EXPECT_EQ(
      out,
      "The file /testbed/textstats/stats.py has been edited. Here's the result of running `cat -n` "
      "on a "
      "snippet of /testbed/textstats/stats.py:\n"
      "    27\t    \"\"\"\n    28\t    if window <= 0:\n    29\t        raise ValueError(\"window "
      "must be "
      "positive\")\n    30\t    values = list(values)\n    31\t    if window > len(values):\n    "
      "32\t     "
      "   return []\n    33\t    total = sum(values[:window])\n    34\t    averages = [total / "
      "window]\n"
      "    35\t    for i in range(window, len(values)):\n"
      "Review the changes and make sure they are as expected. Edit the file again if necessary.\n");
  EXPECT_EQ(Run("sed -n 31p " + path), "    if window > len(values):\n");

  out = Edit(
      {{"command", "str_replace"}, {"path", path}, {"old_str", "no such text"}, {"new_str", "x"}});
  EXPECT_EQ(out,
            "ERROR: No occurrences of 'no such text' found in " + path + " for replacement.\n");
  out = Edit({{"command", "str_replace"},
              {"path", path},
              {"old_str", "if not values:"},
              {"new_str", "x"}});
  EXPECT_EQ(
      out,
      "ERROR: Multiple occurrences of 'if not values:' found in " + path +
          " (starting at lines 6, 13). Please ensure it is unique before using str_replace.\n");
  out = Edit({{"command", "str_replace"}, {"path", "/testbed/textstats"}, {"old_str", "a"}});
  EXPECT_EQ(out,
            "ERROR: The path '/testbed/textstats' is a directory. Only 'view' can be used on "
            "directories.\n");

  out = Edit(
      {{"command", "insert"}, {"path", path}, {"insert_line", "2"}, {"new_str", "import math"}});
  EXPECT_THAT(
      out,
      HasSubstr(
          "on a snippet of the edited file:\n     1\t\"\"\"Numeric summaries.\"\"\"\n     2\t\n"
          "     3\timport math\n     4\t\n     5\tdef mean(values):\n"));
  EXPECT_EQ(Run("sed -n 3p " + path), "import math\n");
  out = Edit({{"command", "insert"}, {"path", path}, {"insert_line", "99"}, {"new_str", "x"}});
  EXPECT_EQ(
      out,
      "ERROR: Invalid `insert_line` parameter: 99. It should be within the range of lines of the "
      "file: [0, 39].\n");

  // Linting refuses an edit that breaks the syntax, and leaves the file alone.
  out = Edit({{"command", "str_replace"},
              {"path", path},
              {"old_str", "return averages"},
              {"new_str", "return (averages"},
              {"enable_linting", "true"}});
  EXPECT_THAT(
      out,
      StartsWith("ERROR: Your proposed edit has introduced new syntax error(s). Please read this "
                 "error message carefully and then retry editing the file.\nERRORS:\n"));
  EXPECT_EQ(Run("grep -c 'return (averages' " + path), "0\n");

  // Undo, one edit per call, persisted between the tool's runs.
  out = Edit({{"command", "undo_edit"}, {"path", path}});
  EXPECT_THAT(out, StartsWith("Last edit to " + path +
                              " undone successfully. Here's the result of running"));
  EXPECT_EQ(Run("grep -c 'import math' " + path), "0\n");
  Edit({{"command", "undo_edit"}, {"path", path}});
  EXPECT_EQ(
      Run("cmp " + path + " - <<'EOF'\n" + tools_test_util::ReadFile(kDemoRepo / "textstats/stats.py") + "EOF"), "");
  EXPECT_EQ(code_, 0) << "two undos restore the original";
  EXPECT_EQ(Edit({{"command", "undo_edit"}, {"path", path}}),
            "ERROR: No previous edits found for " + path + " to undo.\n");
  EXPECT_EQ(Run("ls -A /root/.r2e_undo | wc -l"), "1\n") << "history lives outside /testbed";
}

TEST_F(ToolSandboxTest, FileEditorCreates) {
  std::string out = Edit(
      {{"command", "create"}, {"path", "/testbed/new/mod.py"}, {"file_text", "A = 1\nB = 2\n"}});
  EXPECT_EQ(out,
            "File created at /testbed/new/mod.py. Here's the result of running `cat -n` on "
            "/testbed/new/mod.py:\n"
            "     1\tA = 1\n     2\tB = 2\n"
            "Review the file and make sure that it is as expected. Edit the file if necessary.\n");
  EXPECT_EQ(Run("cat /testbed/new/mod.py"), "A = 1\nB = 2\n");
  EXPECT_EQ(
      Edit({{"command", "create"}, {"path", "/testbed/new/mod.py"}, {"file_text", "x"}}),
      "ERROR: File already exists at: /testbed/new/mod.py. Cannot overwrite with 'create'.\n");
  EXPECT_EQ(Edit({{"command", "create"}, {"path", "/testbed/other.py"}}),
            "ERROR: Parameter `file_text` is required for command: create.\n");
  EXPECT_THAT(Edit({{"command", "undo_edit"}, {"path", "/testbed/new/mod.py"}}),
              HasSubstr("the file it created was removed"));
  Run("test -e /testbed/new/mod.py");
  EXPECT_NE(code_, 0);
  EXPECT_THAT(Edit({{"command", "delete"}, {"path", "/testbed"}}),
              HasSubstr("invalid choice: 'delete'"));
  EXPECT_NE(code_, 0);
}

TEST_F(ToolSandboxTest, FileEditorKeepsBytesOfNonUtf8Files) {
  Run("printf 'caf\\xe9 = 1\\nx = 2\\n' > /testbed/latin.py");
  std::string out = Edit({{"command", "str_replace"},
                          {"path", "/testbed/latin.py"},
                          {"old_str", "x = 2"},
                          {"new_str", "x = 3"}});
  EXPECT_THAT(out, HasSubstr("has been edited"));
  EXPECT_EQ(Run("od -An -c /testbed/latin.py | tr -s ' '"), " c a f 351 = 1 \\n x = 3 \\n\n");
}

TEST_F(ToolSandboxTest, StrReplaceEditorHasNoUndo) {
  std::string out =
      Call(Act("str_replace_editor", {{"command", "undo_edit"}, {"path", "/testbed/README.md"}}));
  EXPECT_THAT(out, HasSubstr("invalid choice: 'undo_edit'"));
  out = Call(Act("str_replace_editor", {{"command", "str_replace"},
                                        {"path", "/testbed/README.md"},
                                        {"old_str", "Small helpers"},
                                        {"new_str", "Tiny helpers"}}));
  EXPECT_THAT(out, HasSubstr("has been edited"));
  EXPECT_EQ(Run("test -e /root/.r2e_undo || echo none"), "none\n");
}

TEST_F(ToolSandboxTest, Search) {
  std::string out =
      Call(Act("search", {{"search_term", "window"}, {"path", "/testbed/textstats/stats.py"}}));
  EXPECT_THAT(out, StartsWith("Matches for \"window\" in /testbed/textstats/stats.py:\n"
                              "22:def moving_average(values, window):\n"));
  out = Call(Act("search", {{"search_term", "def "}}));
  EXPECT_EQ(out,
            "Found 10 matches for \"def \" in /testbed:\n./tests/test_basic.py (4 matches)\n"
            "./textstats/core.py (3 matches)\n./textstats/stats.py (3 matches)\n"
            "End of matches for \"def \" in /testbed\n");
  Run("mkdir -p .hidden && echo 'def x' > .hidden/h.py && echo 'def y' > .top.py");
  EXPECT_EQ(Call(Act("search", {{"search_term", "def "}})), out)
      << "hidden files and directories are skipped";
  EXPECT_EQ(Call(Act("search", {{"search_term", "zebra"}, {"path", "textstats"}})),
            "No matches found for \"zebra\" in /testbed/textstats\n");
  EXPECT_EQ(Call(Act("search", {{"search_term", "x"}, {"path", "/nope"}})),
            "ERROR: The path '/nope' does not exist.\n");
  Run("mkdir many && for i in $(seq 101); do echo needle > many/f$i.txt; done");
  EXPECT_EQ(
      Call(Act("search", {{"search_term", "needle"}, {"path", "many"}})),
      "More than 101 files matched for \"needle\" in /testbed/many. Please narrow your search.\n");
  EXPECT_THAT(Call(Act("search", {{"path", "."}})),
              HasSubstr("the following arguments are required: --search_term"));
  // A term that looks like an option is still the term.
  EXPECT_THAT(Call(Act("search", {{"search_term", "--x"}})),
              HasSubstr("No matches found for \"--x\""));
}

TEST_F(ToolSandboxTest, ExecuteBash) {
  EXPECT_EQ(Call(Act("execute_bash", {{"cmd", "echo out; echo err >&2"}})),
            "[STDOUT]\n\nout \n\n[STDERR]\n\nerr\n");
  EXPECT_EQ(code_, 0);
  EXPECT_EQ(Call(Act("execute_bash", {{"command", "pwd"}})),
            "[STDOUT]\n\n/testbed \n\n[STDERR]\n\n\n");
  EXPECT_EQ(Call(Act("execute_bash", {{"cmd", "echo partial; exit 3"}})),
            "Error executing command:\n\n[STDOUT]\n\npartial \n\n[STDERR]\n\n\n");
  EXPECT_EQ(code_, 3);
  for (const char* word : {"git", "ipython", "jupyter", "nohup"}) {
    for (const std::string& cmd :
         {std::string(word) + " status", "  " + std::string(word), std::string(word) + ";ls"}) {
      EXPECT_EQ(Call(Act("execute_bash", {{"cmd", cmd}})),
                "Bash command '" + std::string(word) +
                    "' is not allowed. Please use a different command or tool.\n")
          << cmd;
      EXPECT_EQ(code_, 1);
    }
  }
  EXPECT_THAT(Call(Act("execute_bash", {{"cmd", "gitk --version"}})),
              Not(HasSubstr("not allowed")));
  EXPECT_EQ(Call(Act("execute_bash", {{"cmd", "  "}})),
            "ERROR: No command given. Pass the bash command to run as `cmd`.\n");
  EXPECT_EQ(code_, 2);
  EXPECT_THAT(Call(Act("execute_bash", {{"cmd", "--version"}})),
              HasSubstr("--version: command not found"));
  EXPECT_THAT(Call(Act("execute_bash", {{"cmd", "ls"}, {"command", "ls"}})), HasSubstr("not both"));
  // Bash syntax, stdin closed, a signal's exit status.
  EXPECT_EQ(Call(Act("execute_bash", {{"cmd", "[[ -d textstats ]] && echo yes; cat"}})),
            "[STDOUT]\n\nyes \n\n[STDERR]\n\n\n");
  Call(Act("execute_bash", {{"cmd", "kill -9 $$"}}));
  EXPECT_EQ(code_, 137);
}

TEST_F(ToolSandboxTest, FinishAndSubmitPrintTheMarker) {
  EXPECT_EQ(Run("finish submit --result done"), "<<<Finished>>>\n");
  EXPECT_EQ(Run("submit"), "<<<Finished>>>\n");
  EXPECT_EQ(Call(Act("finish", {{"command", "submit"}})), "<<<Finished>>>\n");
}

TEST_F(ToolSandboxTest, HostileValuesReachTheToolVerbatim) {
  const std::vector<std::string> values = {
      "it's \"quoted\"",
      "$(touch /tmp/pwned)",
      "`touch /tmp/pwned`",
      "a\nb\n\nc\n",
      "; touch /tmp/pwned; echo",
      "&& touch /tmp/pwned",
      "| touch /tmp/pwned",
      "> /tmp/pwned",
      "$HOME ${PATH} $((1+1)) $1 $@ !! !$",
      "* ? [a-z] ~ ~root {a,b}",
      "'\\''",
      "\\",
      "--flag-looking",
      "-",
      "caf\xc3\xa9 \xe2\x9c\x93",
      "\t\r\x01\x7f",
      "",
      "'",
      "')\"; touch /tmp/pwned; echo '",
  };
  for (const std::string& v : values) {
    nlohmann::json got = Argv({{"command", v}, {"key", v}});
    EXPECT_EQ(got, nlohmann::json::array({v, "--key", v})) << v;
  }
  // Keys too.
  EXPECT_EQ(Argv({{"$(touch /tmp/pwned)", "v"}, {"a'b", "w"}}),
            nlohmann::json::array({"--$(touch /tmp/pwned)", "v", "--a'b", "w"}));
  // A value as large as one argument may be arrives whole.
  const std::string big(100 * 1024, 'x');
  EXPECT_EQ(Argv({{"key", big + "'$(x)"}}), nlohmann::json::array({"--key", big + "'$(x)"}));
  // A 1 MB value is over the kernel's per-argument limit: the command fails
  // without running anything else.
  std::string huge(1 << 20, 'y');
  huge += "'; touch /tmp/pwned; echo '";
  std::string out = Call(Act("argv_echo", {{"key", huge}}));
  EXPECT_EQ(code_, 126);
  EXPECT_THAT(out, HasSubstr("Argument list too long"));
  EXPECT_LT(out.size(), 1000u);
  Run("test -e /tmp/pwned");
  EXPECT_NE(code_, 0) << "a parameter value ran as shell code";
}

}  // namespace
}  // namespace r2e
