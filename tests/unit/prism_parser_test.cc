// parse_log_prismjs against what the harness's Python gives: each row's
// expected map or exception was produced by running the harness's
// `parse_log_prismjs` (SWE-bench v5.0.1) on the row's log with Python 3.11.
// The parser reads mocha's JSON as a stream, so these pin the Python's dict
// and type semantics: duplicate keys, wrong types at every level, and the
// order in which the loops would raise.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "r2e/log_parsers.h"

namespace r2e {
namespace {

constexpr std::string_view kPrismCommand =
    "+ ./node_modules/.bin/mocha tests/run.js --reporter json\n";

struct PrismCase {
  const char* name;
  const char* report;  // between the command line and a trailing line
  StatusMap want;
  std::string want_error;  // the Python exception, or empty
};

Result<StatusMap> ParsePrism(std::string_view log) {
  LogParserSpec spec;
  spec.rules = GradingRules::kV5;
  return ParseLog("parse_log_prismjs", log, spec);
}

TEST(PrismParser, MatchesThePython) {
  const PrismCase cases[] = {
      {"Lists",
       R"({"stats":{"passes":2},"failures":[{"fullTitle":"a"}],"passes":[{"fullTitle":"b"},{"fullTitle":"a"}]})",
       {{"a", "PASSED"}, {"b", "PASSED"}},
       ""},
      {"DuplicateListKeepsLast",
       R"({"failures":[],"passes":[{"fullTitle":"x"}],"passes":[{"fullTitle":"y"}]})",
       {{"y", "PASSED"}},
       ""},
      {"DuplicateTitleKeepsLast",
       R"({"failures":[],"passes":[{"fullTitle":"x","fullTitle":"y"}]})",
       {{"y", "PASSED"}},
       ""},
      {"DeeperKeysAreNotLists",
       R"({"stats":{"failures":3,"passes":[{"fullTitle":"no"}]},"failures":[],"passes":[{"fullTitle":"t","err":{"fullTitle":"no"}}]})",
       {{"t", "PASSED"}},
       ""},
      {"EmptyDictAndString", R"({"failures":{},"passes":""})", {}, ""},
      {"MissingFailures", R"({"passes":[]})", {}, "KeyError: 'failures'"},
      {"MissingPasses", R"({"failures":[{"fullTitle":"a"}]})", {}, "KeyError: 'passes'"},
      {"FailuresBeforePasses",
       R"({"passes":5,"failures":3})",
       {},
       "TypeError: 'int' object is not iterable"},
      {"ListIsDict",
       R"({"failures":{"k":1},"passes":[]})",
       {},
       "TypeError: string indices must be integers, not 'str'"},
      {"ListIsString",
       R"({"failures":[],"passes":"ab"})",
       {},
       "TypeError: string indices must be integers, not 'str'"},
      {"ListIsNull",
       R"({"failures":null,"passes":[]})",
       {},
       "TypeError: 'NoneType' object is not iterable"},
      {"ListIsFloat",
       R"({"failures":[],"passes":1.5})",
       {},
       "TypeError: 'float' object is not iterable"},
      {"EntryIsInt",
       R"({"failures":[],"passes":[{"fullTitle":"a"},7]})",
       {},
       "TypeError: 'int' object is not subscriptable"},
      {"EntryIsNull",
       R"({"failures":[null],"passes":[]})",
       {},
       "TypeError: 'NoneType' object is not subscriptable"},
      {"EntryIsBool",
       R"({"failures":[true],"passes":[]})",
       {},
       "TypeError: 'bool' object is not subscriptable"},
      {"EntryIsList",
       R"({"failures":[[{"fullTitle":"x"}]],"passes":[]})",
       {},
       "TypeError: list indices must be integers or slices, not str"},
      {"EntryIsString",
       R"({"failures":["s"],"passes":[]})",
       {},
       "TypeError: string indices must be integers, not 'str'"},
      {"EntryWithoutTitle",
       R"({"failures":[],"passes":[{"fullTitle":"a"},{"title":"x"},5]})",
       {},
       "KeyError: 'fullTitle'"},
      {"TitleIsDict",
       R"({"failures":[{"fullTitle":{"a":1}}],"passes":[]})",
       {},
       "TypeError: unhashable type: 'dict'"},
      {"TitleIsList",
       R"({"failures":[{"fullTitle":[1]}],"passes":[]})",
       {},
       "TypeError: unhashable type: 'list'"},
      {"LaterTitleMends",
       R"({"failures":[{"fullTitle":[1],"fullTitle":"ok"}],"passes":[]})",
       {{"ok", "FAILED"}},
       ""},
      {"LaterListMends", R"({"failures":7,"failures":[],"passes":[]})", {}, ""},
      {"DictListWithNestedTitle",
       R"({"failures":{"a":{"fullTitle":"x"}},"passes":[]})",
       {},
       "TypeError: string indices must be integers, not 'str'"},
  };
  for (const PrismCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string log = std::string(kPrismCommand) + "noise\n" + c.report + "\ntrailer\n";
    const Result<StatusMap> got = ParsePrism(log);
    if (c.want_error.empty()) {
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(*got, c.want);
    } else {
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(got.status().message(), "parse_log_prismjs: " + c.want_error);
    }
  }
}

// Each run of the command adds its report; a later one overwrites.
TEST(PrismParser, ReadsEveryRun) {
  const std::string log = std::string(kPrismCommand) +
                          R"({"failures":[{"fullTitle":"a"}],"passes":[{"fullTitle":"b"}]})" +
                          "\n" + std::string(kPrismCommand) +
                          R"({"failures":[],"passes":[{"fullTitle":"a"}]})";
  const Result<StatusMap> got = ParsePrism(log);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (StatusMap{{"a", "PASSED"}, {"b", "PASSED"}}));
}

// A title that is not a string is a key no test name equals, but the map is
// not empty: its JSON text stands in for it.
TEST(PrismParser, NonStringTitleKeepsTheMapNonEmpty) {
  const Result<StatusMap> got =
      ParsePrism(std::string(kPrismCommand) +
                 R"({"failures":[{"fullTitle":1.5}],"passes":[{"fullTitle":null}]})");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (StatusMap{{"1.5", "FAILED"}, {"null", "PASSED"}}));
}

// json.loads' message, with Python's position, when the text is not JSON:
// here no brace follows the command, so the text between gets one each side;
// a report cut short; a second document after the first.
TEST(PrismParser, TextThatIsNotJsonIsTheDecodeError) {
  Result<StatusMap> got = ParsePrism(
      std::string(kPrismCommand).substr(0, kPrismCommand.size() - 1) + "\nno json here\n");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(
      got.status().message(),
      "parse_log_prismjs: JSONDecodeError: Expecting property name enclosed in double quotes: "
      "line 2 column 1 (char 2)");
  got = ParsePrism(std::string(kPrismCommand) + R"({"failures":[], "passes": [{"fullTitle": "a"})");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(
      got.status().message(),
      "parse_log_prismjs: JSONDecodeError: Expecting ',' delimiter: line 1 column 46 (char 45)");
  got = ParsePrism(std::string(kPrismCommand) + R"({"failures":[],"passes":[]} {"x":1})");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(),
            "parse_log_prismjs: JSONDecodeError: Extra data: line 1 column 29 (char 28)");
}

}  // namespace
}  // namespace r2e
