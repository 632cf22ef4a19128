#include "grade_bench_logs.h"

#include <string>
#include <string_view>

namespace r2e::bench {
namespace {

// One runner's output shape: a header, a unit repeated with "{i}" replaced by
// a running number (each unit holds a passing and a failing test, in the
// runner's own line format, as the fixtures under shared/fixtures/multilingual
// show it), and a footer.
struct LogShape {
  const char* parser;
  const char* instance_id;
  const char* version;
  const char* header;
  const char* unit;
  const char* footer;
};

constexpr LogShape kShapes[] = {
    // C/C++, Go, PHP
    {"parse_log_redis", "redis__redis-1", "1", "Testing unit/type/string\n",
     "[ok]: SETRANGE case {i} (2 ms)\n[err]: GETRANGE case {i} in tests/unit/type/string.tcl\n"
     "Expected 'OK' to equal 'ERR'\n",
     ""},
    {"parse_log_jq", "jqlang__jq-1", "1", "make  check-TESTS\n",
     "PASS: tests/case{i}\nFAIL: tests/other{i}\n", "# TOTAL: 2\n"},
    {"parse_log_doctest", "nlohmann__json-1", "1",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<doctest binary=\"t\" version=\"2.4.9\">\n"
     "<TestSuite>\n",
     "<TestCase name=\"case {i}\" filename=\"t.cpp\" line=\"5\"><SubCase name=\"ok\">"
     "<Expression success=\"true\" type=\"CHECK\"><Original>1 == 1</Original></Expression>"
     "</SubCase><SubCase name=\"bad\"><Expression success=\"false\" type=\"CHECK\">"
     "<Original>1 == 2</Original></Expression></SubCase></TestCase>\n",
     "</TestSuite>\n</doctest>\n"},
    {"parse_log_micropython_test", "micropython__micropython-1", "1", "+ ./run-tests.py\n",
     "pass  basics/case{i}.py\nFAIL  basics/other{i}.py\n", "2 tests performed\n"},
    {"parse_log_googletest", "fmtlib__fmt-1", "1", "[==========] Running tests.\n",
     "[ RUN      ] Suite.Case{i}\n[       OK ] Suite.Case{i} (0 ms)\n[ RUN      ] Suite.Bad{i}\n"
     "t.cc:3: Failure\n[  FAILED  ] Suite.Bad{i} (1 ms)\n",
     "[==========] done.\n"},
    {"parse_log_gotest", "caddyserver__caddy-1", "1", "+ go test -v ./...\n",
     "=== RUN   TestCase{i}\n--- PASS: TestCase{i} (0.00s)\n=== RUN   TestBad{i}\n"
     "    calc_test.go:16: got 4, want 5\n--- FAIL: TestBad{i} (0.01s)\n",
     "FAIL\n"},
    {"parse_log_phpunit", "laravel__framework-1", "1",
     "PHPUnit 9.6.7 by Sebastian Bergmann and contributors.\n\nRound Down "
     "(Fixture\\Tests\\RoundDown)\n",
     " ✔ Rounds case {i}\n ✘ Rounds other {i}\n   │\n   │ Failed asserting that 4.0 is 5.0.\n   "
     "│\n\n",
     "FAILURES!\n"},
    // Java
    {"parse_log_maven", "google__gson-1", "1", "",
     "+ mvn test -B -Dtest=com.example.CaseTest#case{i}\n[INFO] Tests run: 1, Failures: 0\n"
     "[INFO] BUILD SUCCESS\n+ mvn test -B -Dtest=com.example.CaseTest#bad{i}\n"
     "[ERROR] Tests run: 1, Failures: 1\n[INFO] BUILD FAILURE\n",
     ""},
    {"parse_log_ant", "projectlombok__lombok-1", "1", "test.instance:\n",
     "    [junit] [PASS] lombok.Test > Case{i}.java\n    [junit] [FAIL] lombok.Test > "
     "Bad{i}.java\n",
     ""},
    {"parse_log_gradle_custom", "reactivex__rxjava-1", "1", "> Task :test\n",
     "io.reactivex.CaseTest > case{i} PASSED\nio.reactivex.CaseTest > bad{i} FAILED\n", ""},
    // Ruby
    {"parse_log_minitest", "jekyll__jekyll-9141", "1", "# Running:\n\n",
     "TestFilters#test_: case {i} should pass.  = 0.00 s = .\n"
     "TestFilters#test_: case {i} should fail.  = 0.00 s = F\n",
     "Finished in 0.001262s\n"},
    {"parse_log_cucumber", "jekyll__jekyll-8761", "1", "",
     "Scenario: use case {i} ......\nScenario: break case {i} ....F\n", "2 scenarios\n"},
    {"parse_log_ruby_unit", "fluent__fluentd-1", "1", "Started\nHttpServerHelperTest: \n",
     "  test_case_{i}:\t\t\t\t\t.: (0.000214)\n  test_bad_{i}:\t\t\t\t\tF\n", "Finished\n"},
    {"parse_log_rspec_transformed_json", "fastlane__fastlane-1", "1", "",
     "runs case {i} - ./spec/lane_spec.rb[1:{i}:1] - passed\n"
     "raises {i} - ./spec/lane_spec.rb[1:{i}:2] - failed\n",
     ""},
    {"parse_log_jekyll", "jekyll__jekyll-8047", "1", "# Running:\n\n",
     "TestFilters#test_: case {i} should pass.  = 0.00 s = .\n"
     "TestFilters#test_: case {i} should fail.  = 0.00 s = F\n",
     ""},
    // JavaScript
    {"parse_log_jest", "babel__babel-1", "1", "FAIL jest/calculator.test.js\n",
     "  ✓ adds case {i} (1 ms)\n  ✕ subtracts case {i} (2 ms)\n", "Tests: 2 total\n"},
    {"parse_log_jest_json", "immutable-js__immutable-js-2005", "1", "",
     "[PASSED] Calculator > adds case {i}\n[FAILED] Calculator > subtracts case {i}\n", ""},
    {"parse_log_immutable_js", "immutable-js__immutable-js-2006", "1",
     "FAIL jest/calculator.test.js\n", "  ✓ adds case {i} (1 ms)\n  ✕ subtracts case {i} (2 ms)\n",
     ""},
    {"parse_log_react_pdf", "diegomura__react-pdf-1", "1", "",
     "PASS packages/layout/tests/case{i}.test.js (5.2 s)\nFAIL "
     "packages/layout/tests/bad{i}.test.js\n",
     ""},
    {"parse_log_calypso", "Automattic__wp-calypso-1", "1",
     "+ ./node_modules/.bin/jest --verbose\n  Calculator\n",
     "    ✓ adds case {i} (1ms)\n    ✕ subtracts case {i} (2ms)\n", "Test Suites: 1 failed\n"},
    {"parse_log_vitest", "vuejs__core-1", "1", " RUN  v1.6.1 /testbed\n\n",
     " ✓ vitest/calc.spec.js > Calculator > adds case {i} 5ms\n"
     " × vitest/calc.spec.js > Calculator > subtracts case {i} 7ms\n",
     " Test Files  1 failed\n"},
    {"parse_log_tap", "axios__axios-1", "1", "TAP version 13\n",
     "ok {i} compression should support case {i}\nnot ok {i} compression fails case {i}\n",
     "1..2\n"},
    {"parse_log_karma", "preactjs__preact-1", "1",
     "START:\nINFO [launcher]: Starting browser ChromeHeadless\n  Components\n",
     "    ✔ should render case {i}\n    ✖ should update case {i}\n", "SUMMARY:\n"},
    {"parse_log_marked", "markedjs__marked-1", "1", "Failures:\n",
     "{i}) Marked Lexer should lex case {i}\n  Message:\n    Expected 3 to be 4.\n", ""},
    {"parse_log_p5js", "processing__p5.js-1", "1", "  Calculator\n",
     "    ✓ adds case {i}\n  {i}) Calculator\n       subtracts case {i}:\n"
     "     AssertionError: expected 2 to equal 1\n",
     "  2 passing (245ms)\n"},
    {"parse_log_chart_js", "chartjs__Chart.js-1", "1", "",
     "Chrome 156.0.0.0 (Linux 0.0.0) Chart case {i} FAILED\n\tExpected 'a' to be 'b'.\n", ""},
    {"parse_log_highlightjs", "highlightjs__highlight.js-1", "1", "  Calculator\n",
     "    ✔ adds case {i}\n    {i}) subtracts case {i}\n", "\n  2 passing (245ms)\n"},
    {"parse_log_prismjs", "PrismJS__prism-1", "1",
     "+ ./node_modules/.bin/mocha tests/run.js --reporter json\n{\n  \"stats\": {},\n"
     "  \"failures\": [],\n  \"passes\": [\n",
     "    {\"title\": \"t\", \"fullTitle\": \"Calculator adds case {i}\", \"err\": {}},\n",
     "    {\"title\": \"t\", \"fullTitle\": \"Calculator last\", \"err\": {}}\n  ]\n}\n"},
    {"parse_log_eslint", "eslint__eslint-1", "1", "",
     "  {i}) RuleTester case {i}\n       valid:\n     AssertionError: Should have no errors\n", ""},
    {"parse_log_bpmn_js", "bpmn-io__bpmn-js-1", "1", "",
     "HeadlessChrome 90.0 (Linux 0.0.0) Modeling case {i} FAILED\n\tExpected 'a' to be 'b'.\n", ""},
    {"parse_log_openlayers", "openlayers__openlayers-1", "1", "",
     "Chrome Headless 156.0.0.0 (Linux 0.0.0) Components case {i} FAILED\n"
     "\tAssertionError: expected 'a' to equal 'b'\n",
     ""},
    {"parse_log_grommet", "grommet__grommet-1", "1", "",
     "PASS src/js/components/Case{i}/test.js (5.2 s)\nFAIL src/js/components/Bad{i}/test.js\n", ""},
    {"parse_log_carbon", "carbon-design-system__carbon-1", "1", "",
     "PASS packages/react/src/Case{i}-test.js (5.2 s)\nFAIL packages/react/src/Bad{i}-test.js\n",
     ""},
    {"parse_log_lighthouse", "GoogleChrome__lighthouse-1", "11.0", "",
     "PASS core/test/case{i}-test.js (5.2 s)\nFAIL core/test/bad{i}-test.js\n", ""},
    {"parse_log_next", "alibaba-fusion__next-1", "1.25",
     "+ xvfb-run -a npx karma start\n  Components\n",
     "    ✓ should render case {i}\n    ✗ should update case {i}\n", "TOTAL: 1 FAILED\n"},
    {"parse_log_quarto_cli", "quarto-dev__quarto-cli-1", "1", "running tests\n",
     "[smoke] > quarto render docs/case{i}.qmd ...\x1b[0m\x1b[32m ok\x1b[0m (312ms)\n"
     "[unit] > yaml case {i} ...\x1b[0m\x1b[31mFAILED\x1b[0m (1s)\n",
     "\n ERRORS \n"},
};

// Output between results, so that the logs hold about as many tests per
// megabyte as the pytest bench's (one per ~90 bytes); no parser reads it.
constexpr std::string_view kFiller =
    "output of the run for case {i}: nothing to see here, moving on\n"
    "output of the run for case {i}: still nothing to see here\n";

void AppendUnit(std::string& log, std::string_view unit, std::size_t i) {
  const std::string number = std::to_string(i);
  for (std::size_t pos = 0;;) {
    const std::size_t mark = unit.find("{i}", pos);
    log.append(unit, pos, mark == std::string_view::npos ? std::string_view::npos : mark - pos);
    if (mark == std::string_view::npos) return;
    log += number;
    pos = mark + 3;
  }
}

}  // namespace

std::vector<BenchLog> MultilingualBenchLogs(std::size_t bytes) {
  std::vector<BenchLog> logs;
  for (const LogShape& shape : kShapes) {
    BenchLog b;
    b.parser = shape.parser;
    b.spec.rules = GradingRules::kV5;
    b.spec.instance_id = shape.instance_id;
    b.spec.version = shape.version;
    b.log = shape.header;
    const std::string_view footer = shape.footer;
    // The structured formats (XML, JSON) take no filler between results.
    const bool structured = b.parser == "parse_log_doctest" || b.parser == "parse_log_prismjs";
    for (std::size_t i = 1; b.log.size() + footer.size() < bytes; ++i) {
      AppendUnit(b.log, shape.unit, i);
      if (!structured) AppendUnit(b.log, kFiller, i);
    }
    b.log += footer;
    logs.push_back(std::move(b));
  }
  return logs;
}

}  // namespace r2e::bench
