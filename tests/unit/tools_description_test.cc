// Tools: the description parser (docstrings, argparse forms, Python
// literals, fallbacks, and a bound on pathological files), the OpenAI schema
// and prompt text built from it, and the observation text of a tool's
// output.
#include "r2e/tools.h"
#include "cpu_time.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "r2e/observation.h"
#include "tools_test_util.h"

namespace r2e {
namespace {

// Bound on the CPU time of describing a pathological file (about 2 s, 10 s
// under ASan); a quadratic scan would take many minutes.
constexpr auto kPathologicalBound = std::chrono::seconds(30);

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using tools_test_util::R2eTools;

ToolDescription Describe(const ToolFile& f) {
  auto d = DescribeTool(f);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : ToolDescription{};
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

}  // namespace
}  // namespace r2e
