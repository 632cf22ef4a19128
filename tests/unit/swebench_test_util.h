// Test helpers for the SWE-bench tests: the scripted runtime double
// (scripted_runtime.h) and a temporary directory to run shell scripts in.
#ifndef R2E_TESTS_UNIT_SWEBENCH_TEST_UTIL_H_
#define R2E_TESTS_UNIT_SWEBENCH_TEST_UTIL_H_

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r2e/runtime.h"
#include "r2e/status.h"
#include "scripted_runtime.h"

namespace r2e::test_util {

namespace fs = std::filesystem;


inline ExecResult Output(std::string text, bool timed_out = false, std::uint64_t truncated = 0) {
  ExecResult r;
  r.exit_code = timed_out ? 137 : 0;
  r.output = std::move(text);
  r.timed_out = timed_out;
  r.truncated_bytes = truncated;
  return r;
}

// A temporary directory with a git repository.
class TempRepo {
 public:
  TempRepo() {
    dir_ = fs::temp_directory_path() /
           ("r2e_swebench_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempRepo() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const fs::path& dir() const { return dir_; }
  void Write(const std::string& name, const std::string& content) const {
    std::ofstream(dir_ / name, std::ios::binary) << content;
  }
  std::string Read(const std::string& name) const {
    std::ifstream in(dir_ / name, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  // Runs `script` with bash; returns the exit status, fills `output`.
  int Bash(const std::string& script, std::string* output) const {
    Write("run.sh", script);
    const std::string cmd =
        "bash " + (dir_ / "run.sh").string() + " > " + (dir_ / "out.txt").string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    *output = Read("out.txt");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
};

}  // namespace r2e::test_util

#endif  // R2E_TESTS_UNIT_SWEBENCH_TEST_UTIL_H_
