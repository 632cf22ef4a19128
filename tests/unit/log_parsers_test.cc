// Log parsers: a table of log lines written from shared/spec/grading.md for
// every rule and corner of every parser (expected maps checked against the
// harnesses' own Python; the rows are in log_parsers_cases_pytest.h and
// log_parsers_cases_more.h), the registry, and arbitrary bytes. Golden
// SWE-smith logs: log_parsers_golden_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "log_parsers_cases_more.h"
#include "log_parsers_cases_pytest.h"
#include "log_parsers_test_util.h"
#include "r2e/log_parsers.h"

namespace r2e {
namespace {

using log_parsers_test_util::ParserCase;

const std::vector<ParserCase>& Cases() {
  static const auto* cases = [] {
    auto* all = new std::vector<ParserCase>(log_parsers_test_util::PytestParserCases());
    for (ParserCase& c : log_parsers_test_util::MoreParserCases()) all->push_back(std::move(c));
    return all;
  }();
  return *cases;
}

class LogParserTable : public testing::TestWithParam<ParserCase> {};

TEST_P(LogParserTable, Parses) {
  const ParserCase& c = GetParam();
  Result<StatusMap> got = ParseLog(c.parser, c.log, c.rules);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, c.want);
}

INSTANTIATE_TEST_SUITE_P(LogParser, LogParserTable, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<ParserCase>& param_info) {
                           return std::string(param_info.param.label);
                         });

TEST(LogParserTableCoverage, TenCasesPerParser) {
  for (const char* parser :
       {"parse_log_pytest", "parse_log_pytest_options", "parse_log_pytest_v2", "parse_log_django",
        "parse_log_seaborn", "parse_log_sympy", "parse_log_matplotlib", "parse_log_swesmith_pytest",
        "parse_log_swesmith_gotest", "parse_log_cargo"}) {
    const auto n = std::count_if(Cases().begin(), Cases().end(), [&](const ParserCase& c) {
      return std::string_view(c.parser) == parser;
    });
    EXPECT_GE(n, 10) << parser;
  }
}

// The v5 rules only change the parsers the spec says they change.
TEST(LogParserRules, ClassicAndV5AgreeElsewhere) {
  const std::string log =
      "PASSED a\nFAILED b - x\nSKIPPED [1] c.py:3: r\nt PASSED\nu v FAILED\ntest_s ok\n"
      "x ... ok\n--- PASS: TestG (0.0s)\ntest r ... ok\nFAILED\n";
  for (const char* parser :
       {"parse_log_django", "parse_log_sympy", "parse_log_matplotlib", "parse_log_seaborn",
        "parse_log_swesmith_pytest", "parse_log_swesmith_gotest", "parse_log_cargo"}) {
    EXPECT_EQ(*ParseLog(parser, log, GradingRules::kClassic),
              *ParseLog(parser, log, GradingRules::kV5))
        << parser;
  }
  for (const char* parser :
       {"parse_log_pytest", "parse_log_pytest_options", "parse_log_pytest_v2"}) {
    EXPECT_NE(*ParseLog(parser, log, GradingRules::kClassic),
              *ParseLog(parser, log, GradingRules::kV5))
        << parser;
  }
}

// ---------------------------------------------------------------------------
// Registry.

constexpr const char* kCanonical[] = {"parse_log_pytest",          "parse_log_pytest_options",
                                      "parse_log_pytest_v2",       "parse_log_django",
                                      "parse_log_seaborn",         "parse_log_sympy",
                                      "parse_log_matplotlib",      "parse_log_swesmith_pytest",
                                      "parse_log_swesmith_gotest", "parse_log_cargo"};

TEST(ParseLogRegistry, UnknownNameIsNotFound) {
  Result<StatusMap> got = ParseLog("parse_log_nonesuch", "PASSED a");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("parse_log_nonesuch"), std::string::npos);
  EXPECT_NE(got.status().message().find("parse_log_django"), std::string::npos);
  EXPECT_EQ(ParseLog("", "").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseLog("PARSE_LOG_PYTEST", "").status().code(), StatusCode::kNotFound);
}

// Spec values that the parsers dispatching on the spec (jekyll,
// immutable_js, next, lighthouse) know.
LogParserSpec KnownSpecFor(std::string_view parser) {
  LogParserSpec spec;
  spec.instance_id = parser == "parse_log_immutable_js" ? "immutable-js__immutable-js-2006"
                                                        : "jekyll__jekyll-9141";
  spec.version = "10.0";
  return spec;
}

TEST(ParseLogRegistry, ListsEveryParser) {
  const std::vector<std::string> names = LogParserNames();
  for (const char* name : kCanonical) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  for (const std::string& name : names) {
    Result<StatusMap> got = ParseLog(name, "", KnownSpecFor(name));
    ASSERT_TRUE(got.ok()) << name << ": " << got.status().ToString();
    EXPECT_TRUE(got->empty()) << name;
  }
}

// Where the harness raises on the spec, ParseLog refuses with its message.
TEST(ParseLogRegistry, SpecValuesTheHarnessRejects) {
  LogParserSpec spec;
  spec.instance_id = "jekyll__jekyll-1234";
  auto jekyll = ParseLog("parse_log_jekyll", "", spec);
  ASSERT_FALSE(jekyll.ok());
  EXPECT_EQ(jekyll.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(jekyll.status().message().find("jekyll__jekyll-1234"), std::string::npos)
      << jekyll.status().ToString();
  spec.instance_id = "immutable-js__immutable-js-1";
  EXPECT_EQ(ParseLog("parse_log_immutable_js", "", spec).status().code(),
            StatusCode::kInvalidArgument);
  spec.version = "next";
  EXPECT_EQ(ParseLog("parse_log_lighthouse", "", spec).status().code(),
            StatusCode::kInvalidArgument);
}

// SWE-bench's per-repository aliases name the same parsers (a v5 row's
// `log_parser` may use either).
TEST(ParseLogRegistry, AliasesMatchTheirParser) {
  const std::string log =
      "PASSED t[/tmp/x/m.py]\nFAILED u - boom\n\x1b[32mPASSED\x1b[0m v\nw PASSED\nSKIPPED [2] x\n";
  const std::pair<const char*, const char*> aliases[] = {
      {"parse_log_astroid", "parse_log_pytest"},
      {"parse_log_flask", "parse_log_pytest"},
      {"parse_log_marshmallow", "parse_log_pytest"},
      {"parse_log_pvlib", "parse_log_pytest"},
      {"parse_log_pyvista", "parse_log_pytest"},
      {"parse_log_sqlfluff", "parse_log_pytest"},
      {"parse_log_xarray", "parse_log_pytest"},
      {"parse_log_pydicom", "parse_log_pytest_options"},
      {"parse_log_requests", "parse_log_pytest_options"},
      {"parse_log_pylint", "parse_log_pytest_options"},
      {"parse_log_astropy", "parse_log_pytest_v2"},
      {"parse_log_scikit", "parse_log_pytest_v2"},
      {"parse_log_sphinx", "parse_log_pytest_v2"},
  };
  for (const auto& [alias, parser] : aliases) {
    for (GradingRules rules : {GradingRules::kClassic, GradingRules::kV5}) {
      Result<StatusMap> a = ParseLog(alias, log, rules);
      ASSERT_TRUE(a.ok()) << alias;
      EXPECT_EQ(*a, *ParseLog(parser, log, rules)) << alias;
    }
  }
}

TEST(ParseLogRegistry, SweBenchRepoMap) {
  const std::pair<const char*, const char*> map[] = {
      {"astropy/astropy", "parse_log_pytest_v2"},
      {"django/django", "parse_log_django"},
      {"marshmallow-code/marshmallow", "parse_log_pytest"},
      {"matplotlib/matplotlib", "parse_log_matplotlib"},
      {"mwaskom/seaborn", "parse_log_seaborn"},
      {"pallets/flask", "parse_log_pytest"},
      {"psf/requests", "parse_log_pytest_options"},
      {"pvlib/pvlib-python", "parse_log_pytest"},
      {"pydata/xarray", "parse_log_pytest"},
      {"pydicom/pydicom", "parse_log_pytest_options"},
      {"pylint-dev/astroid", "parse_log_pytest"},
      {"pylint-dev/pylint", "parse_log_pytest_options"},
      {"pytest-dev/pytest", "parse_log_pytest"},
      {"pyvista/pyvista", "parse_log_pytest"},
      {"scikit-learn/scikit-learn", "parse_log_pytest_v2"},
      {"sqlfluff/sqlfluff", "parse_log_pytest"},
      {"sphinx-doc/sphinx", "parse_log_pytest_v2"},
      {"sympy/sympy", "parse_log_sympy"},
  };
  for (const auto& [repo, parser] : map) EXPECT_EQ(SweBenchParserForRepo(repo), parser) << repo;
  // Unknown repositories (and near misses: the map is exact) get the default.
  EXPECT_EQ(SweBenchParserForRepo("example/unknown"), "parse_log_pytest");
  EXPECT_EQ(SweBenchParserForRepo(""), "parse_log_pytest");
  EXPECT_EQ(SweBenchParserForRepo("Django/django"), "parse_log_pytest");
  EXPECT_EQ(SweBenchParserForRepo("django/django "), "parse_log_pytest");
  for (const auto& [repo, parser] : map)
    EXPECT_TRUE(ParseLog(SweBenchParserForRepo(repo), "").ok());
}

TEST(ParseLogRegistry, GradingRulesByName) {
  ASSERT_TRUE(ParseGradingRules("classic").ok());
  EXPECT_EQ(*ParseGradingRules("classic"), GradingRules::kClassic);
  ASSERT_TRUE(ParseGradingRules("v5").ok());
  EXPECT_EQ(*ParseGradingRules("v5"), GradingRules::kV5);
  for (const char* bad : {"", "V5", "Classic", "v4", "classic ", "5"}) {
    Result<GradingRules> got = ParseGradingRules(bad);
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

// ---------------------------------------------------------------------------
// Bad input: never a crash, whatever the bytes.

TEST(LogParserRobustness, ArbitraryBytes) {
  std::mt19937 rng(1234);
  // Random bytes, then bytes biased towards what the parsers look for.
  std::string noise(1 << 20, '\0');
  for (char& c : noise) c = static_cast<char>(rng() & 0xFF);
  const std::string alphabet =
      " \t\r\n.-_[]:/0123456789mPASSEDFAILOKok\x1b\xc2\xa0\xe2\x80\x83\x85";
  std::string biased(1 << 19, '\0');
  for (char& c : biased) c = alphabet[rng() % alphabet.size()];
  const std::vector<std::string> logs = {
      noise,
      biased,
      std::string(2 << 20, '.'),                    // one long line of dots
      std::string(1 << 20, ' ') + "... ok",         // long whitespace run
      "FAILED\nFAIL:\nERROR:\nPASSED\n PASSED \n",  // lines too short to split
      "PASSED a\xe2\x80",                           // truncated UTF-8 at the end
      std::string("PASSED a\0b\nFAILED \0", 19),    // NUL bytes
      "x ... Testing against Django installed in " + std::string(1 << 18, 'y'),
  };
  for (const std::string& name : LogParserNames()) {
    // Only where the harness itself raises may a parser refuse: its XML
    // (doctest) and JSON (prismjs) decoders, and the two parsers the
    // harness's own code crashes in on some lines (calypso, karma).
    LogParserSpec spec = KnownSpecFor(name);
    const bool may_refuse = name == "parse_log_doctest" || name == "parse_log_prismjs" ||
                            name == "parse_log_calypso" || name == "parse_log_karma";
    for (GradingRules rules : {GradingRules::kClassic, GradingRules::kV5}) {
      spec.rules = rules;
      for (const std::string& log : logs) {
        const Result<StatusMap> got = ParseLog(name, log, spec);
        if (may_refuse && !got.ok()) {
          EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << name;
        } else {
          EXPECT_TRUE(got.ok()) << name << ": " << got.status().ToString();
        }
      }
    }
  }
}

}  // namespace
}  // namespace r2e
