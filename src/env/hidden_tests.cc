#include "env/hidden_tests.h"

#include <stdlib.h>

#include <string>
#include <string_view>
#include <system_error>

#include "core/text.h"
#include "r2e/observation.h"
#include "r2e/shell_quote.h"

namespace r2e::internal {
namespace {

ExecOptions Bounded() {
  ExecOptions o;
  o.timeout = std::chrono::seconds(60);
  return o;
}

// dir/<index>/<base name>: the host copy keeps the sandbox name, as some
// runtimes' copies go by it.
std::filesystem::path HostPath(const std::filesystem::path& dir, std::size_t index,
                               const std::string& sandbox_path) {
  return dir / std::to_string(index) / std::filesystem::path(sandbox_path).filename();
}

}  // namespace

bool RemovesHiddenTests(const Task& task, const RepoEnvOptions& options) {
  (void)task;
  return options.hidden_tests == HiddenTestMode::kRemoveFromSandbox;
}

const std::vector<std::string>& HiddenPaths(TaskKind kind) {
  static const std::vector<std::string> kR2E = {"/root/r2e_tests", "/root/run_tests.sh"};
  static const std::vector<std::string> kSweBench = {"/run_tests.sh", "/eval.sh"};
  static const std::vector<std::string> kSweSmith = {"/run_tests.sh"};
  switch (kind) {
    case TaskKind::kR2E: return kR2E;
    case TaskKind::kSweBench: return kSweBench;
    case TaskKind::kSweSmith: return kSweSmith;
  }
  return kR2E;
}

std::string HiddenTests::RemoveCommand() const {
  std::string cmd = "rm -rf --";
  for (const auto& p : paths_) cmd += " " + ShellQuote(p);
  return cmd;
}

Result<std::shared_ptr<HiddenTests>> HiddenTests::TakeOut(Runtime& runtime, const Task& task) {
  const std::vector<std::string>& paths = HiddenPaths(task.kind);
  std::string probe;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    probe += "if [ -e " + ShellQuote(paths[i]) + " ] || [ -L " + ShellQuote(paths[i]) +
             " ]; then echo R2E-HIDDEN-" + std::to_string(i) + "; fi\n";
  }
  auto present = runtime.exec(probe, Bounded());
  if (!present.ok()) return present.status().WithContext("looking for the hidden tests");
  std::shared_ptr<HiddenTests> held(new HiddenTests());
  held->paths_ = paths;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (present->output.find("R2E-HIDDEN-" + std::to_string(i) + "\n") != std::string::npos) {
      held->taken_.push_back(paths[i]);
      held->taken_index_.push_back(i);
    }
  }
  if (held->taken_.empty()) return std::shared_ptr<HiddenTests>();
  std::string tmpl = (std::filesystem::temp_directory_path() / "r2e-hidden-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::Unavailable("cannot create a private directory for the hidden tests under " +
                               std::filesystem::temp_directory_path().string());
  }
  held->dir_ = tmpl;
  for (std::size_t k = 0; k < held->taken_.size(); ++k) {
    const auto host = HostPath(held->dir_, held->taken_index_[k], held->taken_[k]);
    std::error_code ec;
    std::filesystem::create_directories(host.parent_path(), ec);
    if (ec) return Status::Unavailable("cannot create " + host.parent_path().string() + ": " + ec.message());
    R2E_RETURN_IF_ERROR(runtime.download(held->taken_[k], host)
                            .WithContext("copying " + held->taken_[k] + " out of the sandbox"));
  }
  auto removed = runtime.exec(held->RemoveCommand(), Bounded());
  if (!removed.ok()) return removed.status().WithContext("removing the hidden tests from the sandbox");
  if (!removed->success()) {
    return Status::Internal("removing the hidden tests from the sandbox failed: " +
                            r2e::SanitizeUtf8(Trim(removed->output)));
  }
  return held;
}

HiddenTests::~HiddenTests() {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Status HiddenTests::PutBack(Runtime& runtime) const {
  // Whatever the agent put at these paths goes; the originals come back.
  auto removed = runtime.exec(RemoveCommand(), Bounded());
  if (!removed.ok()) return removed.status().WithContext("restoring the hidden tests");
  for (std::size_t k = 0; k < taken_.size(); ++k) {
    R2E_RETURN_IF_ERROR(runtime.upload(HostPath(dir_, taken_index_[k], taken_[k]), taken_[k])
                            .WithContext("restoring " + taken_[k]));
  }
  return Status::OK();
}

void HiddenTests::Remove(Runtime& runtime) const { (void)runtime.exec(RemoveCommand(), Bounded()); }

}  // namespace r2e::internal
