// FaultRuntime: a RuntimeWrapper for tests that injects failures into the
// calls of a real runtime it owns, to check that callers (RepoEnv, graders,
// pools) report them cleanly and leak nothing. Calls it does not fail reach
// the wrapped runtime unchanged.
//
// Thread-safety: as Runtime; the fault plan may be changed from any thread.
#ifndef R2E_FAULT_RUNTIME_H_
#define R2E_FAULT_RUNTIME_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "r2e/runtime.h"
#include "r2e/runtime_wrapper.h"

namespace r2e {

class FaultRuntime final : public RuntimeWrapper {
 public:
  enum class Op { kStart, kStop, kExec, kUpload, kDownload, kReadFile, kWriteFile };

  explicit FaultRuntime(std::unique_ptr<Runtime> inner);
  ~FaultRuntime() override;

  // The next `count` calls of `op` fail with `status` without reaching the
  // wrapped runtime (count < 0: every call until cleared).
  void fail_next(Op op, Status status, int count = 1);
  // exec() calls whose command contains `needle` fail with `status`.
  void fail_exec_containing(std::string needle, Status status);
  // alive() reports false and every call fails Unavailable, as if the
  // sandbox had been removed behind our back. The inner sandbox keeps running
  // until stop().
  void kill_sandbox();
  void clear();
  // Calls of `op` that reached the wrapped runtime.
  int calls(Op op) const;

  Status start(const SandboxSpec& spec) override;
  Status stop() override;
  bool alive() override;
  Result<ExecResult> exec(std::string_view command, const ExecOptions& options = {}) override;
  Status upload(const std::filesystem::path& host_path, const std::string& sandbox_path) override;
  Status download(const std::string& sandbox_path, const std::filesystem::path& host_path) override;
  Result<std::string> read_file(const std::string& sandbox_path) override;
  Status write_file(const std::string& sandbox_path, std::string_view content, int mode = 0644) override;
  // None, whatever the wrapped runtime has: every command goes through
  // exec(), where faults are injected.
  PipeDirectory pipe_directory() const override { return {}; }

 private:
  std::optional<Status> take_fault(Op op, std::string_view command = {});

  mutable std::mutex mu_;
  struct Plan {
    Status status;
    int remaining = 0;
  };
  Plan plans_[7];
  int calls_[7] = {};
  std::string exec_needle_;
  Status exec_needle_status_;
  std::atomic<bool> killed_{false};
};

}  // namespace r2e

#endif  // R2E_FAULT_RUNTIME_H_
