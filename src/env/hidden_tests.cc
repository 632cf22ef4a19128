#include "env/hidden_tests.h"

#include <stdlib.h>

#include <string>
#include <string_view>
#include <system_error>

#include "core/text.h"
#include "r2e/observation.h"

namespace r2e::internal {
namespace {

constexpr std::string_view kTests = "/root/r2e_tests";
constexpr std::string_view kRunner = "/root/run_tests.sh";
constexpr std::string_view kRemove = "rm -rf /root/r2e_tests /root/run_tests.sh";

ExecOptions Bounded() {
  ExecOptions o;
  o.timeout = std::chrono::seconds(60);
  return o;
}

}  // namespace

bool RemovesHiddenTests(const Task& task, const RepoEnvOptions& options) {
  return task.kind == TaskKind::kR2E && options.hide_tests && options.remove_hidden_tests;
}

Result<std::shared_ptr<HiddenTests>> HiddenTests::TakeOut(Runtime& runtime) {
  auto present = runtime.exec(
      "if [ -e /root/r2e_tests ]; then echo tests; fi; if [ -e /root/run_tests.sh ]; then echo runner; fi",
      Bounded());
  if (!present.ok()) return present.status().WithContext("looking for the hidden tests");
  const bool tests = present->output.find("tests") != std::string::npos;
  const bool runner = present->output.find("runner") != std::string::npos;
  if (!tests && !runner) return std::shared_ptr<HiddenTests>();
  std::string tmpl = (std::filesystem::temp_directory_path() / "r2e-hidden-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::Unavailable("cannot create a private directory for the hidden tests under " +
                               std::filesystem::temp_directory_path().string());
  }
  std::shared_ptr<HiddenTests> held(new HiddenTests());
  held->dir_ = tmpl;
  if (tests) {
    R2E_RETURN_IF_ERROR(runtime.download(std::string(kTests), held->dir_ / "r2e_tests")
                            .WithContext("copying the hidden tests out of the sandbox"));
    held->tests_ = true;
  }
  if (runner) {
    R2E_RETURN_IF_ERROR(runtime.download(std::string(kRunner), held->dir_ / "run_tests.sh")
                            .WithContext("copying the hidden test runner out of the sandbox"));
    held->runner_ = true;
  }
  auto removed = runtime.exec(kRemove, Bounded());
  if (!removed.ok()) return removed.status().WithContext("removing the hidden tests from the sandbox");
  if (!removed->success()) {
    return Status::Internal("removing the hidden tests from the sandbox failed: " +
                            r2e::SanitizeUtf8(Trim(removed->output)));
  }
  return held;
}

HiddenTests::~HiddenTests() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Status HiddenTests::PutBack(Runtime& runtime) const {
  // Whatever the agent put at these paths goes; the originals come back.
  auto removed = runtime.exec(kRemove, Bounded());
  if (!removed.ok()) return removed.status().WithContext("restoring the hidden tests");
  if (tests_) {
    R2E_RETURN_IF_ERROR(
        runtime.upload(dir_ / "r2e_tests", std::string(kTests)).WithContext("restoring the hidden tests"));
  }
  if (runner_) {
    R2E_RETURN_IF_ERROR(runtime.upload(dir_ / "run_tests.sh", std::string(kRunner))
                            .WithContext("restoring the hidden test runner"));
  }
  return Status::OK();
}

void HiddenTests::Remove(Runtime& runtime) const { (void)runtime.exec(kRemove, Bounded()); }

}  // namespace r2e::internal
