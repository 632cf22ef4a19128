// File helpers the tests share.
#ifndef R2E_TESTS_UNIT_TEST_FILES_H_
#define R2E_TESTS_UNIT_TEST_FILES_H_

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace r2e::test_util {

// The bytes of `path`; empty when it cannot be read.
inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace r2e::test_util

#endif  // R2E_TESTS_UNIT_TEST_FILES_H_
