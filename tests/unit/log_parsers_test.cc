// Log parsers: a table of log lines written from shared/spec/grading.md for
// every rule and corner of every parser (expected maps checked against the
// harnesses' own Python), the registry, and golden SWE-smith logs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/log_parsers.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;

struct ParserCase {
  const char* label;
  const char* parser;
  GradingRules rules;
  std::string log;
  StatusMap want;
};

void PrintTo(const ParserCase& c, std::ostream* os) { *os << c.label; }

const std::vector<ParserCase>& Cases() {
  static const auto* cases = new std::vector<ParserCase>{
      {"PytestAllStatuses",
       "parse_log_pytest",
       GradingRules::kClassic,
       "PASSED tests/a.py::test_x\nFAILED tests/a.py::test_y - AssertionError: boom\nSKIPPED "
       "tests/a.py::test_z\nERROR tests/a.py::test_e\nXFAIL tests/a.py::test_f - reason",
       {{"tests/a.py::test_e", "ERROR"},
        {"tests/a.py::test_f", "XFAIL"},
        {"tests/a.py::test_x", "PASSED"},
        {"tests/a.py::test_y", "FAILED"},
        {"tests/a.py::test_z", "SKIPPED"}}},
      {"PytestNameCutAtFirstSpace",
       "parse_log_pytest",
       GradingRules::kClassic,
       "PASSED tests/a.py::test_p[a b]\nFAILED tests/a.py::test_q[x y] - boom",
       {{"tests/a.py::test_p[a", "PASSED"}, {"tests/a.py::test_q[x", "FAILED"}}},
      {"PytestFailedDashBeforeName",
       "parse_log_pytest",
       GradingRules::kClassic,
       "FAILED - tests/a.py::test_y",
       {{"tests/a.py::test_y", "FAILED"}}},
      {"PytestDashKeptOnPassedLines",
       "parse_log_pytest",
       GradingRules::kClassic,
       "PASSED - tests/a.py::test_y",
       {{"-", "PASSED"}}},
      {"PytestLaterLineOverwrites",
       "parse_log_pytest",
       GradingRules::kClassic,
       "FAILED t1\nPASSED t1\nPASSED t2\nFAILED t2",
       {{"t1", "PASSED"}, {"t2", "FAILED"}}},
      {"PytestPercentKey",
       "parse_log_pytest",
       GradingRules::kClassic,
       "PASSED [100%]\nSKIPPED [100%]",
       {{"[100%]", "SKIPPED"}}},
      {"PytestPercentKeyV5",
       "parse_log_pytest",
       GradingRules::kV5,
       "PASSED [100%]\nSKIPPED [100%]",
       {{"[100%]", "SKIPPED"}}},
      {"PytestSkipCountClassic",
       "parse_log_pytest",
       GradingRules::kClassic,
       "SKIPPED [3] tests/a.py:12: unconditional skip",
       {{"[3]", "SKIPPED"}}},
      {"PytestSkipCountV5",
       "parse_log_pytest",
       GradingRules::kV5,
       "SKIPPED [3] tests/a.py:12: unconditional skip\nPASSED [3]\nSKIPPED tests/a.py::t",
       {{"[3]", "PASSED"}, {"tests/a.py::t", "SKIPPED"}}},
      {"PytestStatusMustStartLine",
       "parse_log_pytest",
       GradingRules::kClassic,
       "  PASSED tests/a.py::t\ntests/a.py::u PASSED [ 50%]\nxPASSED v",
       {}},
      {"PytestOneTokenLines",
       "parse_log_pytest",
       GradingRules::kClassic,
       "PASSED\nFAILED\n\nERROR  ",
       {}},
      {"PytestStatusIsFirstToken",
       "parse_log_pytest",
       GradingRules::kClassic,
       "ERROR: not found: tests/x.py\nPASSEDx y",
       {{"not", "ERROR:"}, {"y", "PASSEDx"}}},
      {"PytestPythonWhitespace",
       "parse_log_pytest",
       GradingRules::kClassic,
       "PASSED\xc2\xa0tests/a.py::t\nFAILED\tb\r\nSKIPPED\xe2\x80\x83"
       "c\x1c"
       "d",
       {{"b", "FAILED"}, {"c", "SKIPPED"}, {"tests/a.py::t", "PASSED"}}},
      {"PytestNoXpass",
       "parse_log_pytest",
       GradingRules::kClassic,
       "XPASS tests/a.py::t\npassed tests/a.py::u",
       {}},
      {"OptionsPathRewrite",
       "parse_log_pytest_options",
       GradingRules::kClassic,
       "PASSED tests/test_x.py::test_stdin[/tmp/x/mymodule.py]",
       {{"tests/test_x.py::test_stdin[/mymodule.py]", "PASSED"}}},
      {"OptionsDoubleSlashKept",
       "parse_log_pytest_options",
       GradingRules::kClassic,
       "PASSED t[//a/b]",
       {{"t[//a/b]", "PASSED"}}},
      {"OptionsStarKept",
       "parse_log_pytest_options",
       GradingRules::kClassic,
       "PASSED t[/a/*.py]",
       {{"t[/a/*.py]", "PASSED"}}},
      {"OptionsRelativeKept",
       "parse_log_pytest_options",
       GradingRules::kClassic,
       "PASSED t[a/b]",
       {{"t[a/b]", "PASSED"}}},
      {"OptionsTextAfterLastBracketDropped",
       "parse_log_pytest_options",
       GradingRules::kClassic,
       "PASSED t[/x/y]z\nPASSED u[a]z",
       {{"t[/y]", "PASSED"}, {"u[a]", "PASSED"}}},
      {"OptionsFirstOpenLastClose",
       "parse_log_pytest_options",
       GradingRules::kClassic,
       "PASSED t[/a[1]/b]",
       {{"t[/b]", "PASSED"}}},
      {"OptionsNoBrackets",
       "parse_log_pytest_options",
       GradingRules::kClassic,
       "PASSED tests/a.py::t",
       {{"tests/a.py::t", "PASSED"}}},
      {"OptionsUnclosedBracket",
       "parse_log_pytest_options",
       GradingRules::kClassic,
       "PASSED t[abc\nPASSED u]x[y",
       {{"t[abc", "PASSED"}, {"u]x[y", "PASSED"}}},
      {"OptionsFailedWithMessage",
       "parse_log_pytest_options",
       GradingRules::kClassic,
       "FAILED t[/p/q.py] - assert 1 == 2",
       {{"t[/q.py]", "FAILED"}}},
      {"OptionsSlashOnly",
       "parse_log_pytest_options",
       GradingRules::kClassic,
       "PASSED t[/]\nPASSED u[/a/]",
       {{"t[/]", "PASSED"}, {"u[/]", "PASSED"}}},
      {"OptionsSkipCountV5",
       "parse_log_pytest_options",
       GradingRules::kV5,
       "SKIPPED [2] x.py:1: r\nPASSED t[/a/b.py]",
       {{"t[/b.py]", "PASSED"}}},
      {"V2ColourCodes",
       "parse_log_pytest_v2",
       GradingRules::kClassic,
       "\x1b[32mPASSED\x1b[0m tests/a.py::t\n\x1b[31mFAILED\x1b[0m tests/a.py::u - boom",
       {{"tests/a.py::t", "PASSED"}, {"tests/a.py::u", "FAILED"}}},
      {"V2BareColourCodes",
       "parse_log_pytest_v2",
       GradingRules::kClassic,
       "[1mPASSED[0m t",
       {{"t", "PASSED"}}},
      {"V2ControlCharsDeleted",
       "parse_log_pytest_v2",
       GradingRules::kClassic,
       "PASSED\tt\nPASSED u\r\nPASSED\x01 v",
       {{"u", "PASSED"}, {"v", "PASSED"}}},
      {"V2NameFirst",
       "parse_log_pytest_v2",
       GradingRules::kClassic,
       "tests/a.py::t PASSED",
       {{"tests/a.py::t", "PASSED"}}},
      {"V2NameFirstQuirkClassic",
       "parse_log_pytest_v2",
       GradingRules::kClassic,
       "a b FAILED",
       {{"a", "b"}}},
      {"V2NameFirstJoinedV5",
       "parse_log_pytest_v2",
       GradingRules::kV5,
       "a b FAILED\ntests/a.py::t PASSED",
       {{"a b", "FAILED"}, {"tests/a.py::t", "PASSED"}}},
      {"V2FailedMessageClassic",
       "parse_log_pytest_v2",
       GradingRules::kClassic,
       "FAILED tests/a.py::t[a b] - assert x - y",
       {{"tests/a.py::t[a", "FAILED"}}},
      {"V2FailedMessageV5",
       "parse_log_pytest_v2",
       GradingRules::kV5,
       "FAILED tests/a.py::t[a b] - assert x - y",
       {{"tests/a.py::t[a b]", "FAILED"}}},
      {"V2SpacesJoinedV5",
       "parse_log_pytest_v2",
       GradingRules::kV5,
       "PASSED  t[a   b]",
       {{"t[a b]", "PASSED"}}},
      {"V2DigitsMInName",
       "parse_log_pytest_v2",
       GradingRules::kClassic,
       "PASSED t[10m]",
       {{"t]", "PASSED"}}},
      {"V2StartTakesPrecedence",
       "parse_log_pytest_v2",
       GradingRules::kClassic,
       "PASSED x FAILED",
       {{"x", "PASSED"}}},
      {"V2OneTokenEndingWithStatus",
       "parse_log_pytest_v2",
       GradingRules::kClassic,
       "xPASSED\nPASSED",
       {}},
      {"V2TrailingSpaceDefeatsEnd",
       "parse_log_pytest_v2",
       GradingRules::kClassic,
       "t PASSED \nu PASSED [ 50%]",
       {}},
      {"V2LaterLineOverwrites",
       "parse_log_pytest_v2",
       GradingRules::kClassic,
       "FAILED t\nt PASSED",
       {{"t", "PASSED"}}},
      {"DjangoOk",
       "parse_log_django",
       GradingRules::kClassic,
       "test_a (m.T) ... ok",
       {{"test_a (m.T)", "PASSED"}}},
      {"DjangoOkSuffixes",
       "parse_log_django",
       GradingRules::kClassic,
       "test_a (m.T) ... OK\ntest_b (m.T) ...  OK\ntest_c (m.T) ... okay",
       {{"test_a (m.T)", "PASSED"}, {"test_b (m.T)", "PASSED"}}},
      {"DjangoSkipped",
       "parse_log_django",
       GradingRules::kClassic,
       "test_b (m.T) ... skipped 'no db'",
       {{"test_b (m.T)", "SKIPPED"}}},
      {"DjangoFail",
       "parse_log_django",
       GradingRules::kClassic,
       "test_c (m.T) ... FAIL\nFAIL: test_d (m.T)\n----",
       {{"test_c (m.T)", "FAILED"}, {"test_d", "FAILED"}}},
      {"DjangoError",
       "parse_log_django",
       GradingRules::kClassic,
       "test_c (m.T) ... ERROR\nERROR: test_e (m.T)",
       {{"test_c (m.T)", "ERROR"}, {"test_e", "ERROR"}}},
      {"DjangoDocstringName",
       "parse_log_django",
       GradingRules::kClassic,
       "test_d (m.T)\nChecks the docstring case. ... ok",
       {{"Checks the docstring case.", "PASSED"}}},
      {"DjangoResultOnLaterLine",
       "parse_log_django",
       GradingRules::kClassic,
       "test_e (m.T) ... Creating table x\nok\ntest_f (m.T) ... output\nokay then",
       {{"test_e (m.T)", "PASSED"}, {"test_f (m.T)", "PASSED"}}},
      {"DjangoSitesMigration",
       "parse_log_django",
       GradingRules::kClassic,
       "Applying sites.0002_alter_domain_unique...test_no_migrations (migrations.test_x.T) ... ok",
       {{"test_no_migrations (migrations.test_x.T)", "PASSED"}}},
      {"DjangoVersionCase",
       "parse_log_django",
       GradingRules::kClassic,
       "Usage: --version is equivalent to version (x)",
       {{"--version is equivalent to version", "PASSED"}}},
      {"DjangoSystemCheckMultiline",
       "parse_log_django",
       GradingRules::kClassic,
       "test_g (m.T)\n... System check identified no issues (0 silenced)\nok",
       {{"test_g (m.T)", "PASSED"}}},
      {"DjangoTestingAgainstMultiline",
       "parse_log_django",
       GradingRules::kClassic,
       "test_h (m.T)\t...\tTesting against Django installed in '/django' with up to 8 "
       "processes\nFound 1 test(s).\nSystem check identified no issues (0 silenced).\nok\ntest_i "
       "(m.T)\t...\tInternal Server Error: /admin/x/\nok",
       {{"test_h (m.T)", "PASSED"}, {"test_i (m.T)", "PASSED"}}},
      {"DjangoMultilineNeedsOkAlone",
       "parse_log_django",
       GradingRules::kClassic,
       "test_j (m.T)\t...\tSystem check identified no issues (0 silenced)\nokay\ntest_k "
       "(m.T)\t...\tInternal Server Error: /a\nok",
       {}},
      {"DjangoLaterLineOverwrites",
       "parse_log_django",
       GradingRules::kClassic,
       "test_k (m.T) ... FAIL\ntest_k (m.T) ... ok\ntest_l (m.T) ... ok\nFAIL: test_l (m.T)",
       {{"test_k (m.T)", "PASSED"}, {"test_l", "FAILED"}, {"test_l (m.T)", "PASSED"}}},
      {"DjangoShortFailLine", "parse_log_django", GradingRules::kClassic, "FAIL:\nERROR:", {}},
      {"DjangoStripped",
       "parse_log_django",
       GradingRules::kClassic,
       "   test_m (m.T) ... ok   \r",
       {{"test_m (m.T)", "PASSED"}}},
      {"SeabornFailedSecondToken",
       "parse_log_seaborn",
       GradingRules::kClassic,
       "FAILED tests/a.py::t - x",
       {{"tests/a.py::t", "FAILED"}}},
      {"SeabornNoDashReplacement",
       "parse_log_seaborn",
       GradingRules::kClassic,
       "FAILED - tests/a.py::t",
       {{"-", "FAILED"}}},
      {"SeabornNameFirst",
       "parse_log_seaborn",
       GradingRules::kClassic,
       "tests/a.py::t PASSED [ 50%]",
       {{"tests/a.py::t", "PASSED"}}},
      {"SeabornPassedNotSecond", "parse_log_seaborn", GradingRules::kClassic, "a b PASSED c", {}},
      {"SeabornSummaryPassed",
       "parse_log_seaborn",
       GradingRules::kClassic,
       "PASSED tests/a.py::t",
       {{"tests/a.py::t", "PASSED"}}},
      {"SeabornFailedFirst",
       "parse_log_seaborn",
       GradingRules::kClassic,
       "FAILED x PASSED y",
       {{"x", "FAILED"}}},
      {"SeabornPassedPassed",
       "parse_log_seaborn",
       GradingRules::kClassic,
       "PASSED PASSED x",
       {{"PASSED", "PASSED"}}},
      {"SeabornOtherStatusesIgnored",
       "parse_log_seaborn",
       GradingRules::kClassic,
       "ERROR t\nSKIPPED t2\nXFAIL t3\nt4 FAILED [ 9%]",
       {}},
      {"SeabornNoTrailingSpace",
       "parse_log_seaborn",
       GradingRules::kClassic,
       "tests/a.py::t PASSED",
       {}},
      {"SeabornShortLines",
       "parse_log_seaborn",
       GradingRules::kClassic,
       "FAILED\nPASSED\n PASSED ",
       {}},
      {"SeabornShortLinesV5",
       "parse_log_seaborn",
       GradingRules::kV5,
       "FAILED\nPASSED\n PASSED \nFAILED t",
       {{"t", "FAILED"}}},
      {"SeabornLaterLineOverwrites",
       "parse_log_seaborn",
       GradingRules::kClassic,
       "FAILED t\nPASSED t",
       {{"t", "PASSED"}}},
      {"SympyFailureHeader",
       "parse_log_sympy",
       GradingRules::kClassic,
       "________________ sympy/core/tests/test_basic.py:test_foo ________________",
       {{"sympy/core/tests/test_basic.py:test_foo", "FAILED"}}},
      {"SympyResultLines",
       "parse_log_sympy",
       GradingRules::kClassic,
       "test_bar E\ntest_baz F\ntest_qux ok",
       {{"test_bar", "ERROR"}, {"test_baz", "FAILED"}, {"test_qux", "PASSED"}}},
      {"SympyStripped",
       "parse_log_sympy",
       GradingRules::kClassic,
       "   test_baz ok   \r",
       {{"test_baz", "PASSED"}}},
      {"SympyNameIsFirstToken",
       "parse_log_sympy",
       GradingRules::kClassic,
       "test_qux took 3s ok\ntest_sq[1] ok",
       {{"test_qux", "PASSED"}, {"test_sq[1]", "PASSED"}}},
      {"SympyMustStartWithTest",
       "parse_log_sympy",
       GradingRules::kClassic,
       "  atest_x ok\nTest_y ok",
       {}},
      {"SympyHeaderWithoutUnderscores",
       "parse_log_sympy",
       GradingRules::kClassic,
       " sympy/x.py:test_y ",
       {{"sympy/x.py:test_y", "FAILED"}}},
      {"SympyHeaderLastPyColon",
       "parse_log_sympy",
       GradingRules::kClassic,
       "___ a.py:b c.py:d ___",
       {{"a.py:b c.py:d", "FAILED"}}},
      {"SympyHeaderNeedsTrailingSpace",
       "parse_log_sympy",
       GradingRules::kClassic,
       "___ a.py:b\n__a.py:b c",
       {}},
      {"SympyHeaderAndLine",
       "parse_log_sympy",
       GradingRules::kClassic,
       "_____ sympy/a/tests/test_x.py:test_y _____\ntest_y F",
       {{"sympy/a/tests/test_x.py:test_y", "FAILED"}, {"test_y", "FAILED"}}},
      {"SympyLaterLineOverwrites",
       "parse_log_sympy",
       GradingRules::kClassic,
       "test_a F\ntest_a ok",
       {{"test_a", "PASSED"}}},
      {"SympyNoResult",
       "parse_log_sympy",
       GradingRules::kClassic,
       "test_b\ntest_c  \ntest_d OK",
       {}},
      {"MatplotlibMouseLeft",
       "parse_log_matplotlib",
       GradingRules::kClassic,
       "PASSED lib/t.py::test_x[MouseButton.LEFT]",
       {{"lib/t.py::test_x[1]", "PASSED"}}},
      {"MatplotlibMouseRight",
       "parse_log_matplotlib",
       GradingRules::kClassic,
       "PASSED lib/t.py::test_x[MouseButton.RIGHT-MouseButton.LEFT]",
       {{"lib/t.py::test_x[3-1]", "PASSED"}}},
      {"MatplotlibFailedMessage",
       "parse_log_matplotlib",
       GradingRules::kClassic,
       "FAILED lib/t.py::test_x[MouseButton.RIGHT] - assert 0",
       {{"lib/t.py::test_x[3]", "FAILED"}}},
      {"MatplotlibBasic",
       "parse_log_matplotlib",
       GradingRules::kClassic,
       "PASSED a\nERROR b\nXFAIL c - why",
       {{"a", "PASSED"}, {"b", "ERROR"}, {"c", "XFAIL"}}},
      {"MatplotlibCutName",
       "parse_log_matplotlib",
       GradingRules::kClassic,
       "PASSED lib/t.py::test[a b]",
       {{"lib/t.py::test[a", "PASSED"}}},
      {"MatplotlibOverwrite",
       "parse_log_matplotlib",
       GradingRules::kClassic,
       "FAILED a\nPASSED a",
       {{"a", "PASSED"}}},
      {"MatplotlibOtherButtons",
       "parse_log_matplotlib",
       GradingRules::kClassic,
       "PASSED t[MouseButton.MIDDLE]",
       {{"t[MouseButton.MIDDLE]", "PASSED"}}},
      {"MatplotlibSkipCountKeptV5",
       "parse_log_matplotlib",
       GradingRules::kV5,
       "SKIPPED [1] lib/t.py:3: no display",
       {{"[1]", "SKIPPED"}}},
      {"MatplotlibNotAtStart",
       "parse_log_matplotlib",
       GradingRules::kClassic,
       " PASSED t\nt PASSED",
       {}},
      {"MatplotlibOneToken",
       "parse_log_matplotlib",
       GradingRules::kClassic,
       "PASSED\nFAILED - ",
       {}},
      {"SweSmithVerboseLine",
       "parse_log_swesmith_pytest",
       GradingRules::kClassic,
       "tests/a.py::t PASSED [ 10%]",
       {{"tests/a.py::t", "PASSED"}}},
      {"SweSmithAllStatuses",
       "parse_log_swesmith_pytest",
       GradingRules::kClassic,
       "a PASSED\nb FAILED\nc SKIPPED (why)\nd ERROR\ne XFAIL\nf XPASS",
       {{"a", "PASSED"}, {"b", "FAILED"}, {"c", "SKIPPED"}, {"d", "ERROR"}, {"e", "XFAIL"}}},
      {"SweSmithLeadingWhitespace",
       "parse_log_swesmith_pytest",
       GradingRules::kClassic,
       " tests/a.py::t PASSED",
       {}},
      {"SweSmithNameWithSpaceNotParsed",
       "parse_log_swesmith_pytest",
       GradingRules::kClassic,
       "tests/a.py::t[a b] PASSED [ 5%]",
       {}},
      {"SweSmithNoEndAnchor",
       "parse_log_swesmith_pytest",
       GradingRules::kClassic,
       "t PASSEDX\nu FAILED!",
       {{"t", "PASSED"}, {"u", "FAILED"}}},
      {"SweSmithSummaryLinesIgnored",
       "parse_log_swesmith_pytest",
       GradingRules::kClassic,
       "PASSED tests/a.py::t\nFAILED tests/a.py::u - boom\nERROR PASSED",
       {{"ERROR", "PASSED"}}},
      {"SweSmithLaterLineOverwrites",
       "parse_log_swesmith_pytest",
       GradingRules::kClassic,
       "t FAILED\nt PASSED",
       {{"t", "PASSED"}}},
      {"SweSmithPythonWhitespace",
       "parse_log_swesmith_pytest",
       GradingRules::kClassic,
       "t\tPASSED\nu\xc2\xa0"
       "FAILED\nv \xe3\x80\x80 SKIPPED",
       {{"t", "PASSED"}, {"u", "FAILED"}, {"v", "SKIPPED"}}},
      {"SweSmithShortLines",
       "parse_log_swesmith_pytest",
       GradingRules::kClassic,
       "t\nt \n\nPASSED",
       {}},
      {"SweSmithCaseSensitive",
       "parse_log_swesmith_pytest",
       GradingRules::kClassic,
       "t passed\nu Passed",
       {}},
      {"GoPass",
       "parse_log_gotest",
       GradingRules::kClassic,
       "--- PASS: TestA (0.00s)",
       {{"TestA", "PASSED"}}},
      {"GoNestedIndented",
       "parse_log_gotest",
       GradingRules::kClassic,
       "    --- PASS: TestA/sub_case (0.00s)",
       {{"TestA/sub_case", "PASSED"}}},
      {"GoFail",
       "parse_log_gotest",
       GradingRules::kClassic,
       "--- FAIL: TestB (0.01s)",
       {{"TestB", "FAILED"}}},
      {"GoSkip",
       "parse_log_gotest",
       GradingRules::kClassic,
       "--- SKIP: TestC (0.00s)",
       {{"TestC", "SKIPPED"}}},
      {"GoPackageFail",
       "parse_log_gotest",
       GradingRules::kClassic,
       "FAIL\tgithub.com/gin-gonic/gin\t0.220s",
       {{"github.com/gin-gonic/gin", "FAILED"}}},
      {"GoBareFail", "parse_log_gotest", GradingRules::kClassic, "FAIL\nFAIL \nPASS", {}},
      {"GoFailColon",
       "parse_log_gotest",
       GradingRules::kClassic,
       "FAIL: TestX other\nFAIL: y",
       {{":", "FAILED"}, {"TestX", "FAILED"}}},
      {"GoOkAndRun",
       "parse_log_gotest",
       GradingRules::kClassic,
       "ok  \tgithub.com/x\t0.1s\n=== RUN   TestA",
       {}},
      {"GoLaterLineOverwrites",
       "parse_log_gotest",
       GradingRules::kClassic,
       "--- FAIL: TestA (0.00s)\n--- PASS: TestA (0.00s)",
       {{"TestA", "PASSED"}}},
      {"GoEmptyName", "parse_log_gotest", GradingRules::kClassic, "--- PASS: \n--- PASS:  x", {}},
      {"GoFailedWordQuirk",
       "parse_log_gotest",
       GradingRules::kClassic,
       "FAILED something here",
       {{"ED", "FAILED"}}},
      {"CargoOk",
       "parse_log_cargo",
       GradingRules::kClassic,
       "test tests::a ... ok",
       {{"tests::a", "PASSED"}}},
      {"CargoFailed",
       "parse_log_cargo",
       GradingRules::kClassic,
       "test tests::b ... FAILED",
       {{"tests::b", "FAILED"}}},
      {"CargoIgnoredLeftOut",
       "parse_log_cargo",
       GradingRules::kClassic,
       "test tests::c ... ignored",
       {}},
      {"CargoStripped",
       "parse_log_cargo",
       GradingRules::kClassic,
       "   test x ... ok  \r",
       {{"x", "PASSED"}}},
      {"CargoTrailingText",
       "parse_log_cargo",
       GradingRules::kClassic,
       "test x ... ok (0.1s)\ntest y ... FAILED extra",
       {}},
      {"CargoSummaryLines",
       "parse_log_cargo",
       GradingRules::kClassic,
       "running 3 tests\ntest result: ok. 3 passed; 0 failed",
       {}},
      {"CargoBench",
       "parse_log_cargo",
       GradingRules::kClassic,
       "test x ... bench:  100 ns/iter (+/- 3)",
       {}},
      {"CargoTabs",
       "parse_log_cargo",
       GradingRules::kClassic,
       "test\tx\t...\tok",
       {{"x", "PASSED"}}},
      {"CargoLaterLineOverwrites",
       "parse_log_cargo",
       GradingRules::kClassic,
       "test x ... FAILED\ntest x ... ok",
       {{"x", "PASSED"}}},
      {"CargoWrongKeyword",
       "parse_log_cargo",
       GradingRules::kClassic,
       "tests x ... ok\ntest x .. ok\ntest x ... OK",
       {}},
  };
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
        "parse_log_gotest", "parse_log_cargo"}) {
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
        "parse_log_swesmith_pytest", "parse_log_gotest", "parse_log_cargo"}) {
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

constexpr const char* kCanonical[] = {"parse_log_pytest",     "parse_log_pytest_options",
                                      "parse_log_pytest_v2",  "parse_log_django",
                                      "parse_log_seaborn",    "parse_log_sympy",
                                      "parse_log_matplotlib", "parse_log_swesmith_pytest",
                                      "parse_log_gotest",     "parse_log_cargo"};

TEST(ParseLogRegistry, UnknownNameIsNotFound) {
  Result<StatusMap> got = ParseLog("parse_log_nonesuch", "PASSED a");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("parse_log_nonesuch"), std::string::npos);
  EXPECT_NE(got.status().message().find("parse_log_django"), std::string::npos);
  EXPECT_EQ(ParseLog("", "").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseLog("PARSE_LOG_PYTEST", "").status().code(), StatusCode::kNotFound);
}

TEST(ParseLogRegistry, ListsEveryParser) {
  const std::vector<std::string> names = LogParserNames();
  for (const char* name : kCanonical) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  for (const std::string& name : names) {
    Result<StatusMap> got = ParseLog(name, "");
    ASSERT_TRUE(got.ok()) << name;
    EXPECT_TRUE(got->empty()) << name;
  }
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
    for (GradingRules rules : {GradingRules::kClassic, GradingRules::kV5}) {
      for (const std::string& log : logs) EXPECT_TRUE(ParseLog(name, log, rules).ok()) << name;
    }
  }
}

// ---------------------------------------------------------------------------
// Golden: real SWE-smith logs with the reports SWE-smith produced for them.

const fs::path kGoldenDir = fs::path(R2E_SHARED_DIR) / "fixtures" / "swesmith";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// SWE-smith's slice: between the first Start marker and the first End
// marker after it.
std::string SweSmithSlice(const std::string& log) {
  static const std::string kStart = "+ : '>>>>> Start Test Output'";
  static const std::string kEnd = "+ : '>>>>> End Test Output'";
  const std::size_t start = log.find(kStart);
  if (start == std::string::npos) return {};
  const std::size_t from = start + kStart.size();
  const std::size_t end = log.find(kEnd, from);
  if (end == std::string::npos) return {};
  return log.substr(from, end - from);
}

StatusMap ParseSlice(const fs::path& path, const char* parser) {
  const std::string slice = SweSmithSlice(ReadFile(path));
  EXPECT_FALSE(slice.empty()) << path;
  Result<StatusMap> map = ParseLog(parser, slice);
  EXPECT_TRUE(map.ok());
  return map.value_or({});
}

std::string StatusOf(const StatusMap& map, const std::string& name) {
  const auto it = map.find(name);
  return it == map.end() ? "<absent>" : it->second;
}

bool PassedStatus(const std::string& s) { return s == "PASSED" || s == "XFAIL"; }
bool FailedStatus(const std::string& s) { return s == "FAILED" || s == "ERROR" || s == "<absent>"; }

#define R2E_SKIP_WITHOUT_GOLDEN()                                           \
  do {                                                                      \
    if (!fs::is_directory(kGoldenDir)) GTEST_SKIP() << "no " << kGoldenDir; \
  } while (0)

// The fixture README's rule: every `success` name parses as PASSED or XFAIL,
// every `failure` name as FAILED, ERROR or absent.
TEST(GoldenSweSmith, RunEvaluationReports) {
  R2E_SKIP_WITHOUT_GOLDEN();
  int instances = 0;
  std::size_t checked = 0;
  std::size_t failures = 0;
  for (const auto& entry : fs::directory_iterator(kGoldenDir / "run_evaluation")) {
    const fs::path report_path = entry.path() / "report.json";
    if (!entry.is_directory() || !fs::exists(report_path)) continue;
    SCOPED_TRACE(entry.path().filename().string());
    ++instances;
    const nlohmann::json report = nlohmann::json::parse(ReadFile(report_path));
    const StatusMap map = ParseSlice(entry.path() / "test_output.txt", "parse_log_swesmith_pytest");
    for (const char* group : {"FAIL_TO_PASS", "PASS_TO_PASS"}) {
      const nlohmann::json& lists = report.at("tests_status").at(group);
      for (const auto& name : lists.at("success")) {
        EXPECT_TRUE(PassedStatus(StatusOf(map, name)))
            << group << " " << name << ": " << StatusOf(map, name);
        ++checked;
      }
      for (const auto& name : lists.at("failure")) {
        EXPECT_TRUE(FailedStatus(StatusOf(map, name)))
            << group << " " << name << ": " << StatusOf(map, name);
        ++checked;
        ++failures;
      }
    }
  }
  EXPECT_EQ(instances, 4);
  EXPECT_EQ(checked, 210u + 11u + 623u + 155u);
  EXPECT_EQ(failures, 28u);  // pandas pr_53856: every F2P test still fails
}

// Validation: SWE-smith runs the tests on the clean repository
// (test_output_pre_gold.txt: everything passes) and with the bug applied
// (test_output.txt): F2P are the tests that then fail, P2P those that still
// pass.
TEST(GoldenSweSmith, RunValidation) {
  R2E_SKIP_WITHOUT_GOLDEN();
  const fs::path dir = kGoldenDir / "run_validation";
  const nlohmann::json report = nlohmann::json::parse(ReadFile(dir / "report.json"));
  const StatusMap with_bug = ParseSlice(dir / "test_output.txt", "parse_log_swesmith_pytest");
  const StatusMap clean = ParseSlice(dir / "test_output_pre_gold.txt", "parse_log_swesmith_pytest");
  ASSERT_EQ(report.at("FAIL_TO_PASS").size(), 2u);
  ASSERT_EQ(report.at("PASS_TO_PASS").size(), 9u);
  for (const auto& name : report.at("FAIL_TO_PASS")) {
    EXPECT_EQ(StatusOf(with_bug, name), "FAILED") << name;
    EXPECT_EQ(StatusOf(clean, name), "PASSED") << name;
  }
  for (const auto& name : report.at("PASS_TO_PASS")) {
    EXPECT_EQ(StatusOf(with_bug, name), "PASSED") << name;
    EXPECT_EQ(StatusOf(clean, name), "PASSED") << name;
  }
  EXPECT_EQ(with_bug.size(), 11u);
  EXPECT_EQ(clean.size(), 11u);
}

std::size_t CountStatus(const StatusMap& map, const std::string& status) {
  return static_cast<std::size_t>(
      std::count_if(map.begin(), map.end(), [&](const auto& kv) { return kv.second == status; }));
}

// A pytest -v log: "9 failed, 420 passed, 2 skipped" by pytest's count, but
// ids containing spaces (parametrised template tests) cannot match
// `^(\S+)(\s+)STATUS`, and a module-level skip has no line of its own.
TEST(GoldenSweSmith, DjangoMoneyVerboseLog) {
  R2E_SKIP_WITHOUT_GOLDEN();
  const StatusMap map = ParseSlice(
      kGoldenDir / "test_output" / "django-money__django-money.835c1ab8.combine_file__7znr0kum.txt",
      "parse_log_swesmith_pytest");
  EXPECT_EQ(map.size(), 387u);
  EXPECT_EQ(CountStatus(map, "PASSED"), 377u);
  EXPECT_EQ(CountStatus(map, "FAILED"), 9u);
  EXPECT_EQ(CountStatus(map, "SKIPPED"), 1u);
  EXPECT_EQ(StatusOf(map, "tests/contrib/exchange/test_admin.py::test_last_update"), "PASSED");
  EXPECT_EQ(StatusOf(map, "tests/test_tags.py::test_forced_l10n"), "PASSED");
  EXPECT_EQ(StatusOf(map, "tests/test_money.py::test_keep_decimal_places[<lambda>12-1]"), "FAILED");
  EXPECT_EQ(StatusOf(map, "tests/test_models.py::TestDifferentCurrencies::test_add_default"),
            "FAILED");
  EXPECT_EQ(StatusOf(map, "tests/test_reversion.py::test_that_can_safely_restore_deleted_object"),
            "SKIPPED");
  EXPECT_EQ(StatusOf(map, "tests/test_tags.py::test_tag[{%"), "<absent>");
}

TEST(GoldenSweSmith, GinGoTestLog) {
  R2E_SKIP_WITHOUT_GOLDEN();
  const fs::path path =
      kGoldenDir / "test_output" / "gin-gonic__gin.3c12d2a8.lm_rewrite__4pb48n1g.txt";
  const StatusMap map = ParseSlice(path, "parse_log_gotest");
  EXPECT_EQ(map.size(), 559u);
  EXPECT_EQ(CountStatus(map, "PASSED"), 556u);
  EXPECT_EQ(CountStatus(map, "FAILED"), 2u);
  EXPECT_EQ(CountStatus(map, "SKIPPED"), 1u);
  EXPECT_EQ(StatusOf(map, "TestBasicAuth"), "PASSED");
  EXPECT_EQ(StatusOf(map, "TestContextSetGetAnyKey/int32"), "PASSED");
  EXPECT_EQ(StatusOf(map, "TestRouteStaticNoListing"), "FAILED");
  EXPECT_EQ(StatusOf(map, "github.com/gin-gonic/gin"), "FAILED");
  EXPECT_EQ(StatusOf(map, "TestPathCleanMallocs"), "SKIPPED");
  // The markers and xtrace around the slice add nothing.
  EXPECT_EQ(*ParseLog("parse_log_gotest", ReadFile(path)), map);
}

}  // namespace
}  // namespace r2e
