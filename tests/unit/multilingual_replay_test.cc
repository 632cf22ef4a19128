// The golden replay of ../shared/fixtures/multilingual: every case, under both
// rule sets the official harness has verdicts for (v4.1.0 = classic, v5.0.1 =
// v5), graded by r2e from the raw log bytes as the harness grades its log
// file: the status map, `found`, and the whole report must equal the
// harness's; where the harness raised, r2e must refuse the log.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "r2e/log_parsers.h"
#include "r2e/swebench.h"
#include "r2e/task.h"

namespace r2e {
namespace multilingual_replay {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kFixtures = fs::path(R2E_SHARED_DIR) / "fixtures" / "multilingual";

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream raw;
  raw << in.rdbuf();
  return raw.str();
}

std::vector<json> Cases() {
  std::vector<json> cases;
  std::ifstream in(kFixtures / "cases.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) cases.push_back(json::parse(line));
  }
  return cases;
}

// The test spec as each harness version builds it: v4.1.0 picks the parser
// and fail-only grading by repository; v5.0.1 reads both from the row.
Task SpecOf(const json& c, GradingRules rules) {
  Task task;
  task.kind = TaskKind::kSweBench;
  task.instance_id = c["instance_id"];
  task.repo = c["repo"];
  task.version = c["version"];
  task.fail_to_pass = c["FAIL_TO_PASS"].get<std::vector<std::string>>();
  task.pass_to_pass = c["PASS_TO_PASS"].get<std::vector<std::string>>();
  if (rules == GradingRules::kV5) {
    task.log_parser = c["parser"];
    task.eval_type = c["eval_type"];
  }
  return task;
}

json MapToJson(const StatusMap& map) {
  json out = json::object();
  for (const auto& [name, status] : map) out[name] = status;
  return out;
}

struct Version {
  const char* key;
  GradingRules rules;
};

class MultilingualReplay : public ::testing::TestWithParam<Version> {};

TEST_P(MultilingualReplay, EveryCaseGradesAsTheHarnessDid) {
  const Version version = GetParam();
  const std::vector<json> cases = Cases();
  ASSERT_FALSE(cases.empty()) << "missing " << (kFixtures / "cases.jsonl");
  int replayed = 0, refused = 0;
  std::set<std::string> parsers;
  for (const json& c : cases) {
    const json& want = c["expected"][version.key];
    if (want.is_null()) continue;  // this version has no parser for the case
    const std::string name = c["name"];
    const Task task = SpecOf(c, version.rules);
    const std::string log = ReadBytes(kFixtures / c["log"].get<std::string>());
    auto eval = EvalSweBenchLog(task, log, version.rules);
    if (want.contains("error")) {
      EXPECT_FALSE(eval.ok()) << name << ": the harness raised " << want["error"];
      if (!eval.ok()) {
        EXPECT_EQ(eval.status().code(), StatusCode::kInvalidArgument) << name;
        ++refused;
      }
      continue;
    }
    ASSERT_TRUE(eval.ok()) << name << ": " << eval.status().ToString();
    EXPECT_EQ(eval->found, want["found"].get<bool>()) << name << ": " << eval->reason;
    EXPECT_EQ(MapToJson(eval->status_map), want["status_map"]) << name;
    EXPECT_EQ(MakeSweBenchReport(task, *eval, version.rules), want["report"]) << name;
    parsers.insert(c["parser"].get<std::string>());
    ++replayed;
  }
  // Every parser of the fixtures is exercised (37 in v5.0.1; v4.1.0 lacks the
  // repository-specific JavaScript ones).
  EXPECT_GE(parsers.size(), version.rules == GradingRules::kV5 ? 37u : 26u);
  EXPECT_GE(replayed, version.rules == GradingRules::kV5 ? 110 : 90);
  EXPECT_GE(refused, 1);
}

INSTANTIATE_TEST_SUITE_P(HarnessVersions, MultilingualReplay,
                         ::testing::Values(Version{"v4_1_0", GradingRules::kClassic},
                                           Version{"v5_0_1", GradingRules::kV5}),
                         [](const ::testing::TestParamInfo<Version>& param_info) {
                           return param_info.param.rules == GradingRules::kV5
                                      ? std::string("v5_0_1")
                                      : std::string("v4_1_0");
                         });

// The registry knows every parser SWE-bench v5.0.1 registers (repos.json
// lists them with their modules).
TEST(MultilingualRegistry, KnowsEveryRegisteredParser) {
  const json repos = json::parse(ReadBytes(kFixtures / "repos.json"));
  const std::vector<std::string> names = LogParserNames();
  int count = 0;
  for (const auto& [parser, where] : repos["v5_0_1_registry_non_python"].items()) {
    EXPECT_NE(std::find(names.begin(), names.end(), parser), names.end()) << parser;
    ++count;
  }
  EXPECT_GE(count, 37);
  // And the repository map agrees with the harness's where it registers the
  // parser.
  for (const json& r : repos["repos"]) {
    const std::string parser = r["parser_v5_0_1"];
    if (std::find(names.begin(), names.end(), parser) == names.end()) continue;
    EXPECT_EQ(SweBenchParserForRepo(r["repo"].get<std::string>()), parser) << r["repo"];
  }
}

}  // namespace multilingual_replay
}  // namespace r2e
