// Test helpers for the log parser tests: one row of the parser table
// (log_parsers_test.cc), whose rows are in log_parsers_cases_pytest.h and
// log_parsers_cases_more.h.
#ifndef R2E_TESTS_UNIT_LOG_PARSERS_TEST_UTIL_H_
#define R2E_TESTS_UNIT_LOG_PARSERS_TEST_UTIL_H_

#include <ostream>
#include <string>

#include "r2e/log_parsers.h"

namespace r2e::log_parsers_test_util {

struct ParserCase {
  const char* label;
  const char* parser;
  GradingRules rules;
  std::string log;
  StatusMap want;
};

inline void PrintTo(const ParserCase& c, std::ostream* os) { *os << c.label; }

}  // namespace r2e::log_parsers_test_util

#endif  // R2E_TESTS_UNIT_LOG_PARSERS_TEST_UTIL_H_
