// StatusMapBuilder against the obvious reference (a std::map, each later
// status overwriting): names with long shared prefixes, prefixes of one
// another, empty names, NUL bytes and bytes above 0x7f, chunk-long pieces, repeats in any order,
// and runs short and long enough to take both of the sort's paths.
#include "grading/status_map_builder.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace r2e::internal {
namespace {

TEST(StatusMapBuilderTest, MatchesAMapWhereTheLastStatusWins) {
  std::mt19937 rng(20261206);
  const std::vector<std::string> statuses = {"PASSED", "FAILED", "SKIPPED", "ERROR", "odd status"};
  const std::vector<std::string> pieces = {"",
                                           "a",
                                           "b",
                                           "tests/pkg/test_mod.py::TestClass::",
                                           "\xc3\xa9",
                                           "\xff",
                                           std::string(1, '\0'),
                                           "12345678",
                                           "[x-1]",
                                           "ab"};
  for (int round = 0; round < 200; ++round) {
    const int n = std::uniform_int_distribution<int>(0, round < 100 ? 15 : 3000)(rng);
    std::string log;
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) {
      std::string name;
      const int parts = std::uniform_int_distribution<int>(0, 5)(rng);
      for (int p = 0; p < parts; ++p) name += pieces[rng() % pieces.size()];
      names.push_back(name);
      log += name + "\n";
    }
    StatusMapBuilder builder(log);
    std::map<std::string, std::string> want;
    std::size_t at = 0;
    for (int i = 0; i < n; ++i) {
      const std::string& status = statuses[rng() % statuses.size()];
      want[names[i]] = status;
      // Half as views into the log, half as owned copies.
      if (i % 2 == 0) {
        builder.Add(std::string_view(log).substr(at, names[i].size()), status);
      } else {
        builder.Add(std::string(names[i]), status);
      }
      at += names[i].size() + 1;
    }
    const StatusMap got = builder.Build();
    ASSERT_EQ(got, want) << "round " << round << ", " << n << " names";
  }
}

}  // namespace
}  // namespace r2e::internal
