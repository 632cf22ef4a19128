// Test helpers for the tool tests (tools_test.cc, tools_description_test.cc,
// tools_sandbox_test.cc): reading a file, r2e's own tool set, a tool that
// echoes the arguments that reached it, and an action from its parameters.
#ifndef R2E_TESTS_UNIT_TOOLS_TEST_UTIL_H_
#define R2E_TESTS_UNIT_TOOLS_TEST_UTIL_H_

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "r2e/action.h"
#include "r2e/tools.h"

namespace r2e::tools_test_util {

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Prints its arguments as a JSON list: what reached the tool.
inline const ToolFile kArgvEcho{"argv_echo.py",
                                "#!/usr/bin/env python3\n"
                                "\"\"\"Prints its arguments.\"\"\"\n"
                                "import json, sys\n"
                                "sys.stdout.write(json.dumps(sys.argv[1:]))\n"};

// r2e's own tools (set "r2e"), which most tests here exercise.
inline std::vector<ToolFile> R2eTools() {
  auto files = ToolSet("r2e");
  EXPECT_TRUE(files.ok()) << files.status().ToString();
  return files.ok() ? *files : std::vector<ToolFile>{};
}

inline Action Act(std::string name, std::vector<std::pair<std::string, std::string>> params) {
  Action a;
  a.function_name = std::move(name);
  a.parameters = std::move(params);
  return a;
}

}  // namespace r2e::tools_test_util

#endif  // R2E_TESTS_UNIT_TOOLS_TEST_UTIL_H_
