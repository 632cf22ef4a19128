// Action parsing (the scaffold's text format), tool calls and the text form.
#include "r2e/action.h"
#include "cpu_time.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>

namespace r2e {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

TEST(ActionParseTest, ScaffoldExampleWithIndentation) {
  // The docstring example of the scaffold's Action.from_string.
  Action a = ParseAction(
      "\n    <function=file_editor>\n"
      "      <parameter=command>view</parameter>\n"
      "      <parameter=path>./sympy/tensor/array/dense_ndim_array.py</parameter>\n"
      "      <parameter=concise>True</parameter>\n"
      "    </function>\n    ");
  EXPECT_EQ(a.function_name, "file_editor");
  EXPECT_EQ(a.parameters, (Params{{"command", "view"},
                                  {"path", "./sympy/tensor/array/dense_ndim_array.py"},
                                  {"concise", "True"}}));
  EXPECT_EQ(a.thought, "");
  EXPECT_FALSE(a.empty());
  EXPECT_FALSE(a.is_finish());
}

TEST(ActionParseTest, ThoughtBeforeTheCallIsKeptStripped) {
  Action a = ParseAction(
      "  Let me look at the files first.\n\n"
      "<function=execute_bash>\n<parameter=cmd>ls -la</parameter>\n</function>");
  EXPECT_EQ(a.thought, "Let me look at the files first.");
  EXPECT_EQ(a.function_name, "execute_bash");
  EXPECT_EQ(a.parameter("cmd"), "ls -la");
}

TEST(ActionParseTest, MultiLineValueIsStrippedButKeepsInnerNewlines) {
  Action a = ParseAction(
      "<function=file_editor>\n"
      "<parameter=command>create</parameter>\n"
      "<parameter=file_text>\n"
      "def f():\n"
      "    return 1\n"
      "\n"
      "</parameter>\n"
      "</function>");
  EXPECT_EQ(a.parameter("file_text"), "def f():\n    return 1");
}

TEST(ActionParseTest, ValuesMayHoldAngleBracketsAndFakeTags) {
  Action a = ParseAction(
      "<function=execute_bash>\n"
      "<parameter=cmd>if [ 1 -lt 2 ]; then echo '<b>' > out.html 2>&1; fi; cat <<EOF\n"
      "x </function> y\n"
      "EOF</parameter>\n"
      "</function>");
  EXPECT_EQ(a.parameter("cmd"),
            "if [ 1 -lt 2 ]; then echo '<b>' > out.html 2>&1; fi; cat <<EOF\nx </function> y\nEOF");
  // A value ends at the first </parameter>, as the scaffold's non-greedy regex.
  Action b =
      ParseAction("<function=f><parameter=a>x<parameter=b>y</parameter></parameter></function>");
  EXPECT_EQ(b.parameters, (Params{{"a", "x<parameter=b>y"}}));
}

TEST(ActionParseTest, MissingFunctionCloseReadsToTheEnd) {
  Action a = ParseAction("<function=execute_bash>\n<parameter=cmd>pwd</parameter>\n");
  EXPECT_EQ(a.function_name, "execute_bash");
  EXPECT_EQ(a.parameters, (Params{{"cmd", "pwd"}}));
}

TEST(ActionParseTest, ParseActionReadsParametersAnywhereAsTheScaffoldsFromString) {
  Action a = ParseAction(
      "<function=a><parameter=x>1</parameter></function>\n"
      "Afterwards: <parameter=y>2</parameter>");
  EXPECT_EQ(a.parameters, (Params{{"x", "1"}, {"y", "2"}}));
  Action b = ParseAction(
      "<parameter=x>0</parameter><function=a><parameter=x>1</parameter><function=b><parameter=y>2</"
      "parameter>");
  EXPECT_EQ(b.function_name, "a");
  EXPECT_EQ(b.parameters, (Params{{"x", "1"}, {"y", "2"}}));
  // A name of spaces only is the empty name (the scaffold stops at that tag).
  EXPECT_EQ(ParseAction("<function= >x<function=b>").function_name, "");
}

TEST(ActionParseTest, ParseResponseTakesTheFirstBlockAndTheFirstThinkBlock) {
  const std::string reply =
      "Plan. <think>one</think> <think>two</think>\n"
      "<function=a><parameter=x>1</parameter></function>\n"
      "Afterwards: <parameter=y>2</parameter><function=b></function>";
  Action a = ParseResponse(reply);
  EXPECT_EQ(a.function_name, "a");
  EXPECT_EQ(a.parameters, (Params{{"x", "1"}}));
  EXPECT_EQ(a.thought, "<think>one</think>");
  EXPECT_EQ(AssistantHistoryContent(a),
            "<think>one</think>\n\n<function=a>\n  <parameter=x>1</parameter>\n</function>");
  Action v2 = ParseResponseV2(reply);
  EXPECT_EQ(v2.parameters, a.parameters);
  EXPECT_EQ(v2.thought, "Plan. <think>one</think> <think>two</think>");
  // The block needs `<function=` exactly and a closing tag.
  EXPECT_TRUE(ParseResponse("<function = a></function>").empty());
  EXPECT_TRUE(ParseResponse("<function=a><parameter=x>1</parameter>").empty());
  EXPECT_EQ(ParseResponseV2("  just text ").thought, "just text");
}

TEST(ActionParseTest, NoFunctionIsAnEmptyActionWithTheWholeThought) {
  Action a = ParseAction("\n  I think the bug is in utils.py.\n");
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(a.parameters.empty());
  EXPECT_EQ(a.thought, "I think the bug is in utils.py.");
  EXPECT_TRUE(ParseAction("").empty());
  EXPECT_TRUE(ParseAction("<function=>").empty());
  EXPECT_TRUE(ParseAction("<function=execute_bash").empty());
  EXPECT_TRUE(ParseAction("<functions>x</functions>").empty());
}

TEST(ActionParseTest, NameAndKeysAreStrippedAndSpacesAroundEqualsAccepted) {
  Action a =
      ParseAction("<function = \t finish \n><parameter = result >done</parameter></function>");
  EXPECT_EQ(a.function_name, "finish");
  EXPECT_EQ(a.parameter("result"), "done");
  EXPECT_TRUE(a.is_finish());
}

TEST(ActionParseTest, RepeatedKeyKeepsTheLastValueInItsFirstPlace) {
  Action a = ParseAction(
      "<function=f><parameter=a>1</parameter><parameter=b>2</parameter>"
      "<parameter=a>3</parameter></function>");
  EXPECT_EQ(a.parameters, (Params{{"a", "3"}, {"b", "2"}}));
}

TEST(ActionParseTest, UnterminatedOrMalformedParametersAreDropped) {
  Action a = ParseAction("<function=f><parameter=a>1</parameter><parameter=b>half written");
  EXPECT_EQ(a.parameters, (Params{{"a", "1"}}));
  Action b = ParseAction("<function=f><parameter=a");
  EXPECT_EQ(b.function_name, "f");
  EXPECT_TRUE(b.parameters.empty());
  Action c = ParseAction("<function=f><parameter=>x</parameter><parameter=k>v</parameter>");
  EXPECT_EQ(c.parameters, (Params{{"k", "v"}}));
  // A key of spaces only is the empty key, as the scaffold's regex reads it.
  Action d = ParseAction("<function=f><parameter= >x</parameter>");
  EXPECT_EQ(d.parameters, (Params{{"", "x"}}));
}

TEST(ActionParseTest, StripsLikePythonIncludingUnicodeSpaces) {
  Action a =
      ParseAction("<function=f><parameter=a>\xc2\xa0\r\n\x1c value \xe3\x80\x80</parameter>");
  EXPECT_EQ(a.parameter("a"), "value");
}

TEST(ActionParseTest, NeverCrashesOnRandomBytes) {
  std::mt19937 rng(7);
  const std::string pieces[] = {
      "<function=", "<parameter=", "</parameter>", "</function>", ">",    "<",
      "=",          "x",           "\n",           " ",           "\xff", std::string(1, '\0')};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    int n = static_cast<int>(rng() % 30);
    for (int k = 0; k < n; ++k) text += pieces[rng() % std::size(pieces)];
    Action a = ParseAction(text);
    for (const auto& [k, v] : a.parameters) {  // keys are stripped
      EXPECT_TRUE(k.empty() || (k.front() != ' ' && k.back() != ' ' && k.back() != '\n')) << k;
    }
  }
}

TEST(ActionParseTest, HugeAdversarialInputsParseInLinearTime) {
  const auto started = r2e::testing_util::ThreadCpuTime();
  const std::size_t n = 200000;
  std::string repeated_open;
  for (std::size_t i = 0; i < n; ++i) repeated_open += "<function=";
  EXPECT_TRUE(ParseAction(repeated_open).empty());

  std::string params = "<function=f>";
  for (std::size_t i = 0; i < n; ++i)
    params += "<parameter=k" + std::to_string(i) + ">v</parameter>";
  EXPECT_EQ(ParseAction(params).parameters.size(), n);

  std::string open_params = "<function=f>";
  for (std::size_t i = 0; i < n; ++i) open_params += "<parameter=a><parameter=";
  EXPECT_TRUE(ParseAction(open_params).parameters.empty());

  std::string fake_tags = "<function=f><parameter=a>";
  for (std::size_t i = 0; i < n; ++i) fake_tags += "<function= <parameter= ";
  EXPECT_TRUE(ParseAction(fake_tags).parameters.empty());
  // Linear parsing takes well under a second of CPU; quadratic, hours
  // (n = 200000). Loose, so that a sanitizer never fails it.
  EXPECT_LT(r2e::testing_util::ThreadCpuTime() - started, std::chrono::seconds(30));
}

TEST(ActionTest, ToXmlRoundTrips) {
  Action a;
  a.function_name = "file_editor";
  a.set_parameter("command", "str_replace");
  a.set_parameter("old_str", "if a < b:\n    x = 1");
  a.set_parameter("new_str", "if a <= b:\n    x = 2");
  EXPECT_EQ(a.ToXml(),
            "<function=file_editor>\n"
            "  <parameter=command>str_replace</parameter>\n"
            "  <parameter=old_str>if a < b:\n    x = 1</parameter>\n"
            "  <parameter=new_str>if a <= b:\n    x = 2</parameter>\n"
            "</function>");
  EXPECT_EQ(Action{}.ToXml(), "<function=>\n</function>");
  Action back = ParseAction(a.ToXml());
  EXPECT_EQ(back.function_name, a.function_name);
  EXPECT_EQ(back.parameters, a.parameters);
}

TEST(ActionTest, SetParameterReplacesInPlace) {
  Action a;
  a.set_parameter("x", "1");
  a.set_parameter("y", "2");
  a.set_parameter("x", "3");
  EXPECT_EQ(a.parameters, (Params{{"x", "3"}, {"y", "2"}}));
  EXPECT_EQ(a.parameter("x"), "3");
  EXPECT_EQ(a.parameter("z"), std::nullopt);
}

TEST(ActionTest, IsFinishMatchesFinishOrSubmitInAnyCase) {
  for (const char* name :
       {"finish", "submit", "FINISH", "Submit", "task_finished", "submit_patch"}) {
    Action a;
    a.function_name = name;
    EXPECT_TRUE(a.is_finish()) << name;
  }
  for (const char* name : {"", "execute_bash", "fin", "sub_mit"}) {
    Action a;
    a.function_name = name;
    EXPECT_FALSE(a.is_finish()) << name;
  }
}

TEST(ActionToolCallTest, ObjectArgumentsKeepOrderStringsAsIsOthersAsPythonStr) {
  auto r = ActionFromToolCall("execute_bash",
                              R"({"cmd": "echo \"hi\"\nls", "n": 3, "flag": true, "x": null,
                          "list": [1, "a", "it's"], "obj": {"z": 1.5, "a": [false, 1e16, 0.0001, 1e-05, -0.0]}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->function_name, "execute_bash");
  EXPECT_EQ(r->parameters,
            (Params{{"cmd", "echo \"hi\"\nls"},
                    {"n", "3"},
                    {"flag", "True"},
                    {"x", "None"},
                    {"list", "[1, 'a', \"it's\"]"},
                    {"obj", "{'z': 1.5, 'a': [False, 1e+16, 0.0001, 1e-05, -0.0]}"}}));
  ASSERT_TRUE(r->arguments.has_value());
  EXPECT_EQ(r->arguments->dump(),
            R"({"cmd":"echo \"hi\"\nls","n":3,"flag":true,"x":null,"list":[1,"a","it's"],)"
            R"("obj":{"z":1.5,"a":[false,1e+16,0.0001,1e-05,-0.0]}})");
  auto esc =
      ActionFromToolCall("f", R"({"k": ["a\tb\u0001\u00e9\u00a0\u2028\\", 100.0, 123456.5]})");
  ASSERT_TRUE(esc.ok());
  EXPECT_EQ(esc->parameters[0].second, "['a\\tb\\x01\xc3\xa9\\xa0\\u2028\\\\', 100.0, 123456.5]");
}

TEST(ActionToolCallTest, RepeatedKeyKeepsTheLastValue) {
  auto r = ActionFromToolCall("f", R"({"a": "1", "b": "2", "a": "3"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->parameters, (Params{{"a", "3"}, {"b", "2"}}));
}

TEST(ActionToolCallTest, EmptyArgumentsAreNotJsonAndNamesAreKeptAsSent) {
  auto r = ActionFromToolCall(" finish ", "{}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->function_name, " finish ");
  EXPECT_TRUE(r->parameters.empty());
  for (const char* args : {"", "  "}) {
    EXPECT_EQ(ActionFromToolCall("finish", args).status().code(), StatusCode::kInvalidArgument)
        << args;
  }
}

TEST(ActionToolCallTest, ReplyReadsTheFirstCallOrNone) {
  Status why;
  Action a = ActionFromReply("thinking", {{"1", "f", R"({"a": "1"})"}, {"2", "g", "{}"}}, &why);
  EXPECT_TRUE(why.ok());
  EXPECT_EQ(a.function_name, "f");
  EXPECT_EQ(a.thought, "thinking");
  Action bad = ActionFromReply("", {{"1", "f", "{"}}, &why);
  EXPECT_TRUE(bad.empty());
  EXPECT_TRUE(bad.parameters.empty());
  EXPECT_NE(why.message().find("not valid JSON"), std::string::npos);
  EXPECT_TRUE(ActionFromReply("text", {}, &why).empty());
  EXPECT_FALSE(why.ok());
}

TEST(ActionToolCallTest, DeepOrManyKeyArgumentsStayBounded) {
  std::string deep(2000, '[');
  deep += std::string(2000, ']');
  EXPECT_EQ(ActionFromToolCall("f", deep).status().code(), StatusCode::kInvalidArgument);
  std::string many = "{";
  for (int i = 0; i < 200000; ++i)
    many += (i ? ",\"k" : "\"k") + std::to_string(i % 150000) + "\": " + std::to_string(i);
  many += "}";
  const auto started = r2e::testing_util::ThreadCpuTime();
  auto r = ActionFromToolCall("f", many);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->parameters.size(), 150000u);
  EXPECT_EQ(r->parameters[0].second, "150000");  // the last value, in the first place
  // Quadratic de-duplication of 200000 keys would take hours; loose on purpose.
  EXPECT_LT(r2e::testing_util::ThreadCpuTime() - started, std::chrono::seconds(30));
}

TEST(ActionToolCallTest, BadJsonIsInvalidArgument) {
  for (const char* args : {"{", "{\"cmd\": }", "not json", "{\"a\": 1} trailing", "\xff"}) {
    auto r = ActionFromToolCall("execute_bash", args);
    ASSERT_FALSE(r.ok()) << args;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("not valid JSON"), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("execute_bash"), std::string::npos);
  }
}

TEST(ActionToolCallTest, NonObjectJsonIsAnActionWithoutParameters) {
  for (const char* args : {"[1, 2]", "\"ls\"", "3", "null", "true"}) {
    auto r = ActionFromToolCall("execute_bash", args);
    ASSERT_TRUE(r.ok()) << args;
    EXPECT_TRUE(r->parameters.empty());
    EXPECT_FALSE(r->arguments->is_object());
    // The scaffold's to_xml_string raises on it.
    EXPECT_EQ(ActionToXml(*r).status().code(), StatusCode::kInvalidArgument) << args;
  }
}

}  // namespace
}  // namespace r2e
