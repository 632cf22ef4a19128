// SWE-bench 5.x rows and rules: which rows are 5.x-shaped and the rules they
// get by default, the row's own eval_script run by the grader (wrapped as 5.x
// wraps it), infra_failure classification (harness/infra_failure.py of 5.0.1)
// and the 5.x report shape (the infra_failure verdicts of
// ../shared/fixtures/multilingual; multilingual_replay_test.cc replays the
// rest of them).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "r2e/grader.h"
#include "r2e/swebench.h"
#include "r2e/task.h"
#include "swebench_test_util.h"
#include "swebench_grading_test_util.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test_util::Output;
using test_util::ScriptedRuntime;

const fs::path kMultilingual = fs::path(R2E_SHARED_DIR) / "fixtures" / "multilingual";
using swebench_grading_test_util::kClassic;
using swebench_grading_test_util::kV5;

constexpr char kRowScript[] =
    "#!/bin/bash\nset -uxo pipefail\ncd /testbed\n: '>>>>> Start Test Output'\n"
    "go test -v ./...\n: '>>>>> End Test Output'\ngit checkout abc t_test.go\n";

json FiveRow() {
  return json{{"instance_id", "caddyserver__caddy-1"},
              {"repo", "caddyserver/caddy"},
              {"version", "9999"},
              {"base_commit", "abc"},
              {"image", "swebench/sweb.eval.x86_64.caddyserver_1776_caddy-1:latest"},
              {"test_patch", ""},
              {"FAIL_TO_PASS", json::array({"TestA"})},
              {"PASS_TO_PASS", json::array({"TestB"})},
              {"log_parser", "parse_log_gotest"},
              {"eval_type", "pass_and_fail"},
              {"eval_script", kRowScript}};
}

Task ParseRow(const json& row) {
  TaskParseOptions parse;
  parse.kind = TaskKind::kSweBench;
  parse.image_override = "unused";
  auto task = ParseTask(row, parse);
  EXPECT_TRUE(task.ok()) << task.status().ToString();
  return task.ok() ? *task : Task{};
}

TEST(SweBenchRules, FiveRowsGetV5ByDefault) {
  Task five = ParseRow(FiveRow());
  EXPECT_EQ(five.eval_script, kRowScript);
  EXPECT_EQ(five.eval_type, "pass_and_fail");
  EXPECT_TRUE(IsSweBench5Row(five));
  EXPECT_EQ(SweBenchRulesFor(five, std::nullopt), kV5);
  EXPECT_EQ(SweBenchRulesFor(five, kClassic), kClassic);  // an explicit choice wins

  // Any one of the fields the 5.x TestSpec added marks the row; `image` alone
  // does not.
  for (const char* field : {"eval_script", "log_parser", "eval_type"}) {
    json row = FiveRow();
    for (const char* other : {"eval_script", "log_parser", "eval_type"}) {
      if (std::string_view(other) != field) row.erase(other);
    }
    EXPECT_EQ(SweBenchRulesFor(ParseRow(row), std::nullopt), kV5) << field;
  }
  json classic = FiveRow();
  for (const char* f : {"eval_script", "log_parser", "eval_type"}) classic.erase(f);
  EXPECT_FALSE(IsSweBench5Row(ParseRow(classic)));
  EXPECT_EQ(SweBenchRulesFor(ParseRow(classic), std::nullopt), kClassic);
  EXPECT_EQ(SweBenchRulesFor(ParseRow(classic), kV5), kV5);

  // A field of the wrong type is a clear error, not a silent default.
  json bad = FiveRow();
  bad["eval_script"] = json::array({"echo"});
  TaskParseOptions parse;
  parse.kind = TaskKind::kSweBench;
  parse.image_override = "unused";
  auto parsed = ParseTask(bad, parse);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("eval_script"), std::string::npos);

  EXPECT_EQ(*ParseGradingRulesSetting("auto"), std::nullopt);
  EXPECT_EQ(*ParseGradingRulesSetting("classic"), kClassic);
  EXPECT_EQ(*ParseGradingRulesSetting("v5"), kV5);
  auto wrong = ParseGradingRulesSetting("v4");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("\"auto\""), std::string::npos);
}

// The grader writes the row's own script, wrapped, and grades by v5.
TEST(SweBenchRules, GraderRunsTheRowsEvalScript) {
  Task five = ParseRow(FiveRow());
  ScriptedRuntime rt;
  const std::string log =
      "+ : '>>>>> Start Test Output'\n=== RUN   TestA\n--- PASS: TestA (0.00s)\n"
      "=== RUN   TestB\n--- PASS: TestB (0.00s)\nPASS\n+ SWEBENCH_TEST_EXIT_CODE=0\n"
      "+ : '>>>>> End Test Output'\n>>>>> Test Exit Code: 0\n";
  rt.on_exec = [&](std::string_view cmd) -> Result<ExecResult> {
    if (cmd.find("bash /root/r2e_eval.sh") != std::string_view::npos) return Output(log);
    return Output("");
  };
  auto graded = MakeGrader(five.kind)->get()->grade(rt, five, GradeOptions{});
  ASSERT_TRUE(graded.ok()) << graded.status().ToString();
  EXPECT_EQ(
      rt.files["/root/r2e_eval.sh"],
      "#!/bin/bash\nset -uxo pipefail\ncd /testbed\n: '>>>>> Start Test Output'\n"
      "go test -v ./...\nSWEBENCH_TEST_EXIT_CODE=$?\n: '>>>>> End Test Output'\n"
      "echo \">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE\"\ngit checkout abc t_test.go\n");
  EXPECT_TRUE(graded->resolved);
  EXPECT_EQ(graded->report, json::parse(R"({"caddyserver__caddy-1": {
      "patch_is_None": false, "patch_exists": true, "patch_successfully_applied": true,
      "resolved": true, "infra_failure": false, "tests_status": {
        "FAIL_TO_PASS": {"success": ["TestA"], "failure": []},
        "PASS_TO_PASS": {"success": ["TestB"], "failure": []},
        "FAIL_TO_FAIL": {"success": [], "failure": []},
        "PASS_TO_FAIL": {"success": [], "failure": []}}}})"))
      << graded->report.dump(2);

  // The same log, the test command having failed while the output claims
  // only passes: not graded (5.x's anti-spoofing check).
  std::string spoofed = log;
  spoofed.replace(spoofed.find("Code: 0"), 7, "Code: 1");
  auto refused = MakeGrader(five.kind)->get()->grade_log(five, spoofed);
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->resolved);
  EXPECT_EQ(refused->report["caddyserver__caddy-1"]["patch_successfully_applied"], false);

  // --rules classic: v4.1.0 has no specs for this version and ignores the
  // row's script, so it cannot grade the row: a clear error.
  ScriptedRuntime rt2;
  auto classic = MakeGrader(five.kind, kClassic)->get()->grade(rt2, five, GradeOptions{});
  ASSERT_FALSE(classic.ok());
  EXPECT_NE(classic.status().message().find("not in the SWE-bench v4.1.0 specs"), std::string::npos)
      << classic.status().ToString();
  EXPECT_TRUE(rt2.commands.empty());
}

// ---------------------------------------------------------------------------
// infra_failure

TEST(SweBenchInfraFailure, Signatures) {
  struct Case {
    std::string log;
    std::string reason;  // "" = none
    bool environment;
  };
  const std::vector<Case> cases = {
      {"Error: Failed to launch the browser process!", "browser_launch_failed", true},
      {"Failed to connect to the bus: no such file", "browser_launch_failed", true},
      {"Error: cannot open display: :99", "display_unavailable", true},
      {"Missing X server or $DISPLAY", "display_unavailable", true},
      {"fork: Cannot allocate memory", "out_of_memory", true},
      {"java.lang.OutOfMemoryError: Java heap space", "out_of_memory", true},
      {"make: ***\nKilled\nexit", "out_of_memory", true},
      {"Killed", "out_of_memory", true},
      {"a\r\nKilled\r\nb", "out_of_memory", true},  // text mode: "\r\n" ends a line
      {"Killed by signal 9", "", false},
      {" Killed", "", false},
      {"Error response from daemon: No such container", "container_unavailable", true},
      {"Cannot connect to the Docker daemon at unix:///var/run/docker.sock",
       "container_unavailable", true},
      {"curl: (6) Could not resolve host: example.com", "network_unreachable", true},
      {"Temporary failure in name resolution", "network_unreachable", true},
      {"Error: Cannot find module 'x'", "missing_module", false},
      {"code: 'MODULE_NOT_FOUND'", "missing_module", false},
      {"ModuleNotFoundError: No module named 'y'", "missing_module", false},
      {"============ no tests ran in 0.01s ============", "no_tests_collected", false},
      {"collected 0 items", "no_tests_collected", false},
      {"Timeout error: 1800 seconds exceeded.", "tests_timed_out", false},
      {"Timeout error:  seconds exceeded.", "", false},
      // The first signature in the harness's order wins, wherever it is.
      {"collected 0 items\nFailed to launch chrome", "browser_launch_failed", true},
      {"ModuleNotFoundError\nKilled", "out_of_memory", true},
      {"all good: 3 passed", "", false},
      {"", "", false},
  };
  for (const Case& c : cases) {
    auto got = ClassifySweBenchInfraFailure(c.log);
    if (c.reason.empty()) {
      EXPECT_FALSE(got.has_value()) << c.log << " -> " << got->reason;
    } else {
      ASSERT_TRUE(got.has_value()) << c.log;
      EXPECT_EQ(got->reason, c.reason) << c.log;
      EXPECT_EQ(got->environment, c.environment) << c.log;
    }
  }
}

TEST(SweBenchInfraFailure, ReportShapeAndOrder) {
  Task task;
  task.instance_id = "x__y-1";
  task.repo = "x/y";
  task.fail_to_pass = {"a.py::t"};
  const std::string browser = "npm test\nFailed to launch the browser process\n";
  auto eval = EvalSweBenchLog("parse_log_pytest", browser, kV5);
  ASSERT_TRUE(eval.ok());
  EXPECT_FALSE(eval->found);
  ASSERT_TRUE(eval->infra_failure.has_value());
  json report = MakeSweBenchReport(task, *eval, kV5);
  EXPECT_EQ(FormatSweBenchReport(report, 4),
            "{\n    \"x__y-1\": {\n        \"patch_is_None\": false,\n"
            "        \"patch_exists\": true,\n        \"patch_successfully_applied\": false,\n"
            "        \"resolved\": false,\n        \"infra_failure\": true,\n"
            "        \"infra_failure_reason\": \"browser_launch_failed\"\n    }\n}");
  // Ambiguous: flagged false, the reason still named.
  eval = EvalSweBenchLog("parse_log_pytest", "collected 0 items\n", kV5);
  report = MakeSweBenchReport(task, *eval, kV5);
  EXPECT_EQ(report["x__y-1"]["infra_failure"], false);
  EXPECT_EQ(report["x__y-1"]["infra_failure_reason"], "no_tests_collected");
  // Classic: no such fields, whatever the log.
  eval = EvalSweBenchLog("parse_log_pytest", browser, kClassic);
  EXPECT_FALSE(eval->infra_failure.has_value());
  EXPECT_FALSE(MakeSweBenchReport(task, *eval, kClassic)["x__y-1"].contains("infra_failure"));
  // A found log: infra_failure false, before tests_status.
  eval = EvalSweBenchLog("parse_log_pytest",
                         "+ : '>>>>> Start Test Output'\nPASSED a.py::t\n"
                         "Failed to launch\n+ : '>>>>> End Test Output'\n",
                         kV5);
  ASSERT_TRUE(eval->found);
  const std::string text = FormatSweBenchReport(MakeSweBenchReport(task, *eval, kV5), 4);
  EXPECT_NE(text.find("\"resolved\": true,\n        \"infra_failure\": false,\n"
                      "        \"tests_status\""),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("infra_failure_reason"), std::string::npos);
  // A null patch: the 5.x dict still has the flag.
  const json none = MakeSweBenchReport(task, *eval, kV5, /*patch_is_none=*/true);
  EXPECT_EQ(none["x__y-1"]["infra_failure"], false);
  EXPECT_EQ(none["x__y-1"]["patch_is_None"], true);
}

// ---------------------------------------------------------------------------
// The multilingual fixtures' v5.0.1 verdicts

// Python's open(path).read(): universal newlines.
std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream raw;
  raw << in.rdbuf();
  std::string text;
  const std::string bytes = raw.str();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\r') {
      text += '\n';
      if (i + 1 < bytes.size() && bytes[i + 1] == '\n') ++i;
    } else {
      text += bytes[i];
    }
  }
  return text;
}

TEST(SweBenchInfraFailure, MultilingualFixtures) {
  std::ifstream cases(kMultilingual / "cases.jsonl");
  ASSERT_TRUE(cases.good()) << "missing " << (kMultilingual / "cases.jsonl");
  int classified = 0, flagged = 0;
  std::string line;
  while (std::getline(cases, line)) {
    const json c = json::parse(line);
    const json& want = c["expected"]["v5_0_1"];
    if (want.is_null() || want.contains("error")) continue;
    const std::string name = c["name"];
    const std::string log = ReadText(kMultilingual / c["log"].get<std::string>());
    const json& want_inst = want["report"][c["instance_id"].get<std::string>()];
    if (!want["found"].get<bool>()) {
      // The harness classifies every log it found no results in.
      auto got = ClassifySweBenchInfraFailure(log);
      EXPECT_EQ(got.has_value(), want_inst.contains("infra_failure_reason")) << name;
      if (got) {
        EXPECT_EQ(got->reason, want_inst["infra_failure_reason"]) << name;
        EXPECT_EQ(got->environment, want_inst["infra_failure"]) << name;
        flagged += got->environment;
      } else {
        EXPECT_EQ(want_inst["infra_failure"], false) << name;
      }
      ++classified;
    }
  }
  EXPECT_GE(classified, 20);
  EXPECT_EQ(flagged, 3);  // the three browser_launch_failed logs
  // The whole reports are replayed in multilingual_replay_test.cc.
}

}  // namespace
}  // namespace r2e
