// RuntimeWrapper: a Runtime that forwards every call to a target runtime it
// owns, in the manner of LevelDB's EnvWrapper. A subclass overrides only the
// calls it changes (FaultRuntime injects failures; a tracing runtime records
// what passes through) and stays correct when Runtime gains a method.
//
//   class CountingRuntime final : public r2e::RuntimeWrapper {
//    public:
//     using RuntimeWrapper::RuntimeWrapper;
//     r2e::Result<r2e::ExecResult> exec(std::string_view c, const r2e::ExecOptions& o) override {
//       ++execs;
//       return RuntimeWrapper::exec(c, o);
//     }
//     std::atomic<int> execs{0};
//   };
//
// The wrapper is transparent: name(), sandbox_key() and the other queries
// are the target's. Contracts: as Runtime; the wrapper adds no locking of
// its own, so its thread-safety is the target's. Destroying the wrapper
// destroys the target, which stops its sandbox.
#ifndef R2E_RUNTIME_WRAPPER_H_
#define R2E_RUNTIME_WRAPPER_H_

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "r2e/runtime.h"

namespace r2e {

class RuntimeWrapper : public Runtime {
 public:
  // `target` must not be null.
  explicit RuntimeWrapper(std::unique_ptr<Runtime> target) : target_(std::move(target)) {}
  ~RuntimeWrapper() override = default;

  // The wrapped runtime.
  Runtime& target() const { return *target_; }

  std::string_view name() const override { return target_->name(); }
  Status start(const SandboxSpec& spec) override { return target_->start(spec); }
  Status stop() override { return target_->stop(); }
  bool alive() override { return target_->alive(); }
  Result<ExecResult> exec(std::string_view command, const ExecOptions& options = {}) override {
    return target_->exec(command, options);
  }
  Status upload(const std::filesystem::path& host_path, const std::string& sandbox_path) override {
    return target_->upload(host_path, sandbox_path);
  }
  Status download(const std::string& sandbox_path, const std::filesystem::path& host_path) override {
    return target_->download(sandbox_path, host_path);
  }
  Result<std::string> read_file(const std::string& sandbox_path) override {
    return target_->read_file(sandbox_path);
  }
  Status write_file(const std::string& sandbox_path, std::string_view content, int mode = 0644) override {
    return target_->write_file(sandbox_path, content, mode);
  }
  std::string command_path(const std::string& sandbox_path) const override {
    return target_->command_path(sandbox_path);
  }
  std::string command_shell() const override { return target_->command_shell(); }
  std::string session_path() const override { return target_->session_path(); }
  bool keeps_state() const override { return target_->keeps_state(); }
  PipeDirectory pipe_directory() const override { return target_->pipe_directory(); }
  bool uses_image() const override { return target_->uses_image(); }
  bool isolated() const override { return target_->isolated(); }
  std::string sandbox_key() const override { return target_->sandbox_key(); }
  void kill() override { target_->kill(); }
  Result<std::string> checkpoint() override { return target_->checkpoint(); }
  Status revert(const std::string& checkpoint, const std::vector<std::string>& keep) override {
    return target_->revert(checkpoint, keep);
  }
  Status release_checkpoint(const std::string& checkpoint) override {
    return target_->release_checkpoint(checkpoint);
  }

 private:
  std::unique_ptr<Runtime> target_;
};

}  // namespace r2e

#endif  // R2E_RUNTIME_WRAPPER_H_
