// The unit tests' Runtime double: records every command, keeps written files
// in memory and answers exec() from a script, so graders, RepoEnv and the
// evaluator can be tested without a sandbox.
#ifndef R2E_TESTS_UNIT_SCRIPTED_RUNTIME_H_
#define R2E_TESTS_UNIT_SCRIPTED_RUNTIME_H_

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "r2e/runtime.h"
#include "r2e/status.h"

namespace r2e::test_util {

class ScriptedRuntime : public Runtime {
 public:
  // Answers exec(); by default exit code 0 and no output.
  std::function<Result<ExecResult>(std::string_view command)> on_exec = [](std::string_view) {
    ExecResult r;
    r.exit_code = 0;
    return Result<ExecResult>(r);
  };
  // Written files and their modes. read_file() finds a path by a key that
  // is its prefix (graders' log files have random names), NotFound otherwise.
  std::map<std::string, std::string> files;
  std::map<std::string, int> modes;
  // Every exec(), in order, with its options.
  std::vector<std::string> commands;
  std::vector<ExecOptions> options;
  // What name() and keeps_state() report.
  std::string runtime_name = "scripted";
  bool keep_state = false;
  // start() and stop() calls.
  int starts = 0;
  int stops = 0;

  std::string_view name() const override { return runtime_name; }
  Status start(const SandboxSpec&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++starts;
    return Status::OK();
  }
  Status stop() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++stops;
    return Status::OK();
  }
  bool alive() override { return true; }
  Result<ExecResult> exec(std::string_view command, const ExecOptions& o = {}) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      commands.emplace_back(command);
      options.push_back(o);
    }
    return on_exec(command);
  }
  Status upload(const std::filesystem::path&, const std::string&) override {
    return Status::Unimplemented("upload");
  }
  Status download(const std::string&, const std::filesystem::path&) override {
    return Status::Unimplemented("download");
  }
  Result<std::string> read_file(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, v] : files) {
      if (path.starts_with(k)) return v;
    }
    return Status::NotFound(path);
  }
  Status write_file(const std::string& path, std::string_view content, int mode = 0644) override {
    std::lock_guard<std::mutex> lock(mu_);
    files[path] = std::string(content);
    modes[path] = mode;
    return Status::OK();
  }
  bool keeps_state() const override { return keep_state; }

  // Whether a command containing `needle` ran, and the index of the first
  // one (-1 when none did).
  bool Ran(std::string_view needle) const { return IndexOf(needle) >= 0; }
  int IndexOf(std::string_view needle) const {
    for (std::size_t i = 0; i < commands.size(); ++i) {
      if (commands[i].find(needle) != std::string::npos) return static_cast<int>(i);
    }
    return -1;
  }

 protected:
  std::mutex mu_;  // guards the records against concurrent calls
};

}  // namespace r2e::test_util

#endif  // R2E_TESTS_UNIT_SCRIPTED_RUNTIME_H_
