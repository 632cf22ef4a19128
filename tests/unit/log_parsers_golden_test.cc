// Log parsers on golden SWE-smith logs (shared/fixtures/swesmith): the
// statuses SWE-smith's reports give for every listed test, its validation
// run, and large pytest -v and go test logs. Skipped without the fixtures.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "r2e/log_parsers.h"
#include "test_files.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = fs::path(R2E_SHARED_DIR) / "fixtures" / "swesmith";

using test_util::ReadFile;

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
  const StatusMap map = ParseSlice(path, "parse_log_swesmith_gotest");
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
  EXPECT_EQ(*ParseLog("parse_log_swesmith_gotest", ReadFile(path)), map);
}

}  // namespace
}  // namespace r2e
