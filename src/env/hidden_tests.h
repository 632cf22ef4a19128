// The hidden tests and test runners held on the host while the agent works
// (see HiddenTestMode::kRemoveFromSandbox).
#ifndef R2E_ENV_HIDDEN_TESTS_H_
#define R2E_ENV_HIDDEN_TESTS_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "r2e/repo_env.h"
#include "r2e/runtime.h"
#include "r2e/status.h"

namespace r2e::internal {

// Whether the tests leave the sandbox: HiddenTestMode::kRemoveFromSandbox
// (every kind).
bool RemovesHiddenTests(const Task& task, const RepoEnvOptions& options);

// What leaves the sandbox after setup, by kind: R2E's tests and runner
// (/root/r2e_tests, /root/run_tests.sh, where the setup moved them);
// SWE-bench's runner (/run_tests.sh, which in R2E-Gym's images carries the
// test patch) and eval script (/eval.sh, where the harness puts it);
// SWE-smith's runner (/run_tests.sh, as the scaffold writes it).
const std::vector<std::string>& HiddenPaths(TaskKind kind);

// A private host copy of a task's HiddenPaths, taken from one sandbox. Not
// thread-safe; the host copy goes with the object.
class HiddenTests {
 public:
  // Copies whichever of the task's paths exist out of the sandbox and
  // deletes them there. Null when none exists.
  static Result<std::shared_ptr<HiddenTests>> TakeOut(Runtime& runtime, const Task& task);
  ~HiddenTests();
  HiddenTests(const HiddenTests&) = delete;
  HiddenTests& operator=(const HiddenTests&) = delete;

  // Replaces whatever is at the paths with the originals (for grading).
  Status PutBack(Runtime& runtime) const;
  // Deletes them in the sandbox again; best effort.
  void Remove(Runtime& runtime) const;

  // The sandbox paths held (for tests and messages).
  const std::vector<std::string>& paths() const { return taken_; }

 private:
  HiddenTests() = default;
  std::string RemoveCommand() const;
  std::filesystem::path dir_;
  std::vector<std::string> paths_;  // all of the kind's paths (all are cleared)
  std::vector<std::string> taken_;  // those that existed, copied to dir_/<index in paths_>
  std::vector<std::size_t> taken_index_;
};

}  // namespace r2e::internal

#endif  // R2E_ENV_HIDDEN_TESTS_H_
