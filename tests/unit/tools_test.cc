// Tools: the shipped scripts run for real in a LocalRuntime sandbox holding
// the demo repository, the description parser and OpenAI schema, the
// action-to-command conversion against hostile values (asserted by the argv
// that reaches a tool), and RepoEnv's tool dispatch.
#include "r2e/tools.h"
#include "cpu_time.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "r2e/local_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/shell_quote.h"

namespace r2e {
namespace {

// Bound on the CPU time of describing a pathological file (about 2 s, 10 s
// under ASan); a quadratic scan would take many minutes.
constexpr auto kPathologicalBound = std::chrono::seconds(30);

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const fs::path kDemoRepo = fs::path(R2E_SOURCE_DIR) / "examples/tasks/demo/repo";
const fs::path kScripts = fs::path(R2E_SOURCE_DIR) / "src/tools/scripts/r2e";
// The two editors as they were written before they were generated from one
// source (scripts/r2e/editor.py): the generated scripts must equal them.
const fs::path kEditorGoldens = fs::path(R2E_SOURCE_DIR) / "tests/data/tool_scripts";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Prints its arguments as a JSON list: what reached the tool.
const ToolFile kArgvEcho{"argv_echo.py",
                         "#!/usr/bin/env python3\n"
                         "\"\"\"Prints its arguments.\"\"\"\n"
                         "import json, sys\n"
                         "sys.stdout.write(json.dumps(sys.argv[1:]))\n"};

ToolDescription Describe(const ToolFile& f) {
  auto d = DescribeTool(f);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : ToolDescription{};
}

// r2e's own tools (set "r2e"), which most tests here exercise.
std::vector<ToolFile> R2eTools() {
  auto files = ToolSet("r2e");
  EXPECT_TRUE(files.ok()) << files.status().ToString();
  return files.ok() ? *files : std::vector<ToolFile>{};
}

ToolDescription DescribeBuiltin(const std::string& file) {
  for (const ToolFile& f : R2eTools()) {
    if (f.name == file) return Describe(f);
  }
  ADD_FAILURE() << file << " is not embedded";
  return {};
}

const ToolArgument* Arg(const ToolDescription& d, std::string_view name) {
  for (const auto& a : d.arguments) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Action Act(std::string name, std::vector<std::pair<std::string, std::string>> params) {
  Action a;
  a.function_name = std::move(name);
  a.parameters = std::move(params);
  return a;
}

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
// Description parser and schema

TEST(ToolDescriptionTest, FileEditor) {
  ToolDescription d = DescribeBuiltin("file_editor.py");
  EXPECT_EQ(d.name, "file_editor");
  EXPECT_THAT(d.docstring,
              StartsWith("Custom editing tool for viewing, creating and editing files.\n* "));
  EXPECT_THAT(d.docstring, HasSubstr("`undo_edit` reverts"));
  std::vector<std::string> names;
  for (const auto& a : d.arguments) names.push_back(a.name);
  EXPECT_THAT(names, ElementsAre("command", "path", "file_text", "old_str", "new_str",
                                 "insert_line", "view_range", "concise", "enable_linting"));
  const ToolArgument* command = Arg(d, "command");
  EXPECT_TRUE(command->positional);
  EXPECT_TRUE(command->required);
  EXPECT_THAT(command->choices,
              ElementsAre("view", "create", "str_replace", "insert", "undo_edit"));
  EXPECT_TRUE(Arg(d, "path")->required);
  EXPECT_FALSE(Arg(d, "path")->positional);
  EXPECT_FALSE(Arg(d, "file_text")->required);
  EXPECT_EQ(Arg(d, "file_text")->type, "string");
  EXPECT_EQ(Arg(d, "insert_line")->type, "integer");
  EXPECT_EQ(Arg(d, "view_range")->type, "array");  // from `def parse_view_range(text) -> list`
  EXPECT_EQ(Arg(d, "concise")->type, "boolean");   // from `def parse_flag(text) -> bool`
  EXPECT_EQ(Arg(d, "enable_linting")->type, "boolean");
  EXPECT_THAT(Arg(d, "view_range")->description, HasSubstr("`[start_line, -1]`"));

  ToolDescription s = DescribeBuiltin("str_replace_editor.py");
  EXPECT_EQ(s.name, "str_replace_editor");
  EXPECT_THAT(Arg(s, "command")->choices, ElementsAre("view", "create", "str_replace", "insert"));
  EXPECT_THAT(s.docstring, Not(HasSubstr("undo")));
}

TEST(ToolDescriptionTest, SearchExecuteBashFinishSubmit) {
  ToolDescription search = DescribeBuiltin("search.py");
  ASSERT_EQ(search.arguments.size(), 2u);
  EXPECT_EQ(search.arguments[0].name, "search_term");
  EXPECT_TRUE(search.arguments[0].required);
  EXPECT_EQ(search.arguments[1].name, "path");
  EXPECT_FALSE(search.arguments[1].required);

  ToolDescription bash = DescribeBuiltin("execute_bash.py");
  ASSERT_EQ(bash.arguments.size(), 2u) << "the --command alias is hidden with argparse.SUPPRESS";
  EXPECT_EQ(bash.arguments[0].name, "cmd");
  EXPECT_FALSE(bash.arguments[0].required);
  EXPECT_EQ(bash.arguments[1].name, "command");
  EXPECT_TRUE(bash.arguments[1].positional);
  EXPECT_FALSE(bash.arguments[1].required);
  EXPECT_THAT(bash.docstring, HasSubstr("`git`, `ipython`, `jupyter` or `nohup`"));

  ToolDescription finish = DescribeBuiltin("finish.py");
  ASSERT_EQ(finish.arguments.size(), 2u);
  EXPECT_TRUE(finish.arguments[0].required);
  EXPECT_THAT(finish.arguments[0].choices, ElementsAre("submit"));
  EXPECT_EQ(finish.arguments[1].name, "result");
  EXPECT_FALSE(finish.arguments[1].required);

  ToolDescription submit = DescribeBuiltin("submit.py");
  EXPECT_TRUE(submit.arguments.empty());
  EXPECT_THAT(submit.docstring, StartsWith("Submit the work"));
}

TEST(ToolDescriptionTest, PythonLiteralsAndArgparseForms) {
  ToolFile f{"tricky.py", R"PY(#!/usr/bin/env python3
# -*- coding: utf-8 -*-
'''Line one \
continued.

    Indented detail with a tab\tand \u00e9 and \x41.
'''
import argparse, typing

def parse_pair(text) -> typing.List[int]:
    return [1, 2]

def unknown(text):
    return text

TEXT = "not add_argument('--fake')"  # add_argument('--comment')
p = argparse.ArgumentParser(description="ignored: the module docstring wins")
p.add_argument('--alpha', '-a', type=int, required=True,
               help='first ' "half, "
                    r'raw\n')
p.add_argument("-b", action="store_true", help="""Short
    option.""")
p.add_argument("--pair", type=parse_pair, help="A pair.")
p.add_argument("--free", type=unknown, help="Free text (%(default)s).")
p.add_argument("--many", nargs="+", type=float)
p.add_argument("--mode", choices=("fast", "slow"), default="fast")
p.add_argument("--hidden", help=argparse.SUPPRESS)
p.add_argument("--alpha", help="duplicate: the first wins")
p.add_argument("target", nargs="?")
p.add_argument("items", nargs="*")
p.add_argument("--count", action="count", required=False)
sub = p.add_argument_group("more")
sub.add_argument(
    "--grouped",   # a comment inside the call
    default=None,
    help=("parenthesized " + "expression"),
)
)PY"};
  ToolDescription d = Describe(f);
  EXPECT_EQ(d.name, "tricky");
  EXPECT_EQ(d.docstring, "Line one continued.\n\nIndented detail with a tab\tand \xc3\xa9 and A.");
  std::vector<std::string> names;
  for (const auto& a : d.arguments) names.push_back(a.name);
  EXPECT_THAT(names, ElementsAre("alpha", "b", "pair", "free", "many", "mode", "target", "items",
                                 "count", "grouped"));
  EXPECT_EQ(Arg(d, "alpha")->type, "integer");
  EXPECT_TRUE(Arg(d, "alpha")->required);
  EXPECT_EQ(Arg(d, "alpha")->description, "first half, raw\\n");
  EXPECT_EQ(Arg(d, "b")->type, "boolean");
  EXPECT_EQ(Arg(d, "b")->description, "Short\noption.");
  EXPECT_EQ(Arg(d, "pair")->type, "array");
  EXPECT_EQ(Arg(d, "pair")->item_type, "integer");
  EXPECT_EQ(Arg(d, "free")->type, "string");
  EXPECT_EQ(Arg(d, "many")->type, "array");
  EXPECT_EQ(Arg(d, "many")->item_type, "number");
  EXPECT_THAT(Arg(d, "mode")->choices, ElementsAre("fast", "slow"));
  EXPECT_TRUE(Arg(d, "target")->positional);
  EXPECT_FALSE(Arg(d, "target")->required);
  EXPECT_FALSE(Arg(d, "items")->required);
  EXPECT_EQ(Arg(d, "count")->type, "integer");
  EXPECT_EQ(Arg(d, "grouped")->description, "") << "a non-literal help is ignored";
}

TEST(ToolDescriptionTest, DocstringFallbacks) {
  // No docstring: the parser's description.
  ToolDescription a = Describe(
      {"a.py", "import argparse\np = argparse.ArgumentParser(description='From the parser.')\n"});
  EXPECT_EQ(a.docstring, "From the parser.");
  EXPECT_TRUE(a.arguments.empty());
  // A string that is not the first statement is no docstring.
  EXPECT_EQ(Describe({"b.py", "x = 1\n'''not a docstring'''\n"}).docstring, "");
  // The scaffold's structured block, when there are no add_argument calls.
  ToolDescription c = Describe({"c.py", R"PY("""
Description: Edit files.

Parameters:
  (1) command (string, required): The command to run.
Allowed values: [`view`, `create`]
  (2) path (string, required): Absolute path,
      continued here.
  (3) view_range (array, optional): Range.
  4. **search_term** (`string`, required): Term.
  --flag (boolean, optional): A flag.
"""
import sys
)PY"});
  ASSERT_EQ(c.arguments.size(), 5u);
  EXPECT_TRUE(c.arguments[0].positional);
  EXPECT_TRUE(c.arguments[0].required);
  EXPECT_THAT(c.arguments[0].choices, ElementsAre("view", "create"));
  EXPECT_EQ(c.arguments[1].description, "Absolute path, continued here.");
  EXPECT_EQ(c.arguments[2].type, "array");
  EXPECT_FALSE(c.arguments[2].required);
  EXPECT_EQ(c.arguments[3].name, "search_term");
  EXPECT_TRUE(c.arguments[3].required);
  EXPECT_EQ(c.arguments[4].name, "flag");
  EXPECT_EQ(c.arguments[4].type, "boolean");
  EXPECT_FALSE(c.arguments[4].positional);
  // Shell files: the leading comment block.
  ToolDescription sh = Describe({"goto.sh",
                                 "#!/bin/bash\n# Moves the window.\n#\n# Arguments:\n#   line "
                                 "(integer, required): Target.\ngoto() { :; }\n# later comment\n"});
  EXPECT_EQ(sh.name, "goto");
  EXPECT_EQ(sh.docstring, "Moves the window.\n\nArguments:\n  line (integer, required): Target.");
  ASSERT_EQ(sh.arguments.size(), 1u);
  EXPECT_EQ(sh.arguments[0].type, "integer");
  // Garbage parses to something, never crashes, and stays valid UTF-8.
  ToolDescription g =
      Describe({"g.py", std::string("\"\"\"\xff\xfe unterminated\nadd_argument(((('\x80")});
  EXPECT_EQ(g.name, "g");
  EXPECT_NO_THROW((void)g.OpenAiSchema().dump());
  // Pathological nesting and unclosed calls stay cheap.
  std::string deep = "import argparse\np.add_argument('--x', choices=" + std::string(100000, '[') +
                     std::string(100000, ']') + ")\n";
  for (int i = 0; i < 20000; ++i) deep += "p.add_argument('--y" + std::to_string(i) + "'(\n";
  const auto t0 = r2e::testing_util::ThreadCpuTime();
  ToolDescription p = Describe({"deep.py", deep});
  EXPECT_LT(r2e::testing_util::ThreadCpuTime() - t0, kPathologicalBound);
  EXPECT_EQ(p.arguments.size(), 1u);
}

TEST(ToolDescriptionTest, OpenAiSchema) {
  ToolFile f{"pick.py", R"PY("""Picks things."""
import argparse
def rng(t) -> list: return t
p = argparse.ArgumentParser()
p.add_argument("command", choices=["one", "two"], help="What to do.")
p.add_argument("--count", type=int, choices=[1, 2], help="How many.")
p.add_argument("--range", type=rng, help="Range.")
p.add_argument("--name", required=True, help="Name.")
)PY"};
  const std::string expected =
      R"({"type":"function","function":{"name":"pick","description":"Picks things.","parameters":{)"
      R"("type":"object","properties":{)"
      R"("command":{"type":"string","description":"What to do.","enum":["one","two"]},)"
      R"("count":{"type":"integer","description":"How many.","enum":[1,2]},)"
      R"("range":{"type":"array","description":"Range.","items":{"type":"string"}},)"
      R"("name":{"type":"string","description":"Name."}},)"
      R"("required":["command","name"]}}})";
  EXPECT_EQ(Describe(f).OpenAiSchema().dump(), expected);
  nlohmann::json plain = Describe(f).OpenAiSchema();  // converts to the sorted json type
  EXPECT_EQ(plain["function"]["name"], "pick");

  // Every shipped tool gives a schema an OpenAI endpoint accepts.
  std::vector<ToolFile> every;
  for (const std::string& set : ToolSetNames()) {
    const std::vector<ToolFile> files = ToolSet(set).value();
    every.insert(every.end(), files.begin(), files.end());
  }
  for (const ToolFile& file : every) {
    auto schema = Describe(file).OpenAiSchema();
    EXPECT_EQ(schema["type"], "function");
    EXPECT_FALSE(schema["function"]["description"].get<std::string>().empty()) << file.name;
    for (const auto& [k, v] : schema["function"]["parameters"]["properties"].items()) {
      if (v["type"] == "array") {
        EXPECT_TRUE(v.contains("items")) << file.name << " " << k;
      }
    }
  }
}

TEST(ToolDescriptionTest, PromptText) {
  std::vector<ToolDescription> tools = {Describe({"pick.py", R"PY("""Picks."""
import argparse
p = argparse.ArgumentParser()
p.add_argument("command", choices=["one", "two"], help="What to do.")
p.add_argument("--n", type=int, help="How many.")
)PY"}),
                                        Describe({"done.py", "\"\"\"Ends.\"\"\"\n"})};
  EXPECT_EQ(ToolsPromptText(tools),
            "---- BEGIN FUNCTION #1: pick ----\n"
            "Description: Picks.\n\n"
            "Parameters:\n"
            "  (1) command (string, required): What to do.\n"
            "Allowed values: [`one`, `two`]\n"
            "  (2) n (integer, optional): How many.\n"
            "---- END FUNCTION #1 ----\n\n"
            "---- BEGIN FUNCTION #2: done ----\n"
            "Description: Ends.\n\n"
            "No parameters are required for this function.\n"
            "---- END FUNCTION #2 ----");
}

TEST(ToolObservationTest, ScaffoldTextWithoutLineTruncation) {
  ExecResult ok;
  ok.exit_code = 0;
  ok.output = "\x1b[31mred\x1b[0m\r\n";
  for (int i = 0; i < 100; ++i) ok.output += "line " + std::to_string(i) + "\n";
  Observation obs = ToolObservation("search", ok, 90s);
  EXPECT_THAT(obs.text, StartsWith("Execution output of [search]:\nred\nline 0\n"));
  EXPECT_THAT(obs.text, HasSubstr("line 50\n")) << "other tools are not line-truncated";

  ExecResult failed;
  failed.exit_code = 1;
  failed.output = "\x1b[1mERROR\x1b[0m: \xff\n";
  obs = ToolObservation("file_editor", failed, 90s);
  EXPECT_EQ(obs.text, "Execution output of [file_editor]:\n\x1b[1mERROR\x1b[0m: \xef\xbf\xbd\n");

  ExecResult slow;
  slow.exit_code = 137;
  slow.timed_out = true;
  slow.output = "partial\n";
  obs = ToolObservation("file_editor", slow, 5s);
  EXPECT_EQ(
      obs.text,
      "Execution output of [file_editor]:\nThe command took too long to execute (>5s)\npartial\n");
}

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
      Run("cmp " + path + " - <<'EOF'\n" + ReadFile(kDemoRepo / "textstats/stats.py") + "EOF"), "");
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

// ---------------------------------------------------------------------------
// RepoEnv's tool dispatch

Task DemoTask() {
  auto tasks = LoadTasks(std::string(R2E_SOURCE_DIR) + "/examples/tasks/demo.jsonl");
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  return tasks.ok() ? tasks->front() : Task{};
}

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
