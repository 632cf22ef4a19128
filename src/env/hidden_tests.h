// The R2E hidden tests held on the host while the agent works (see
// RepoEnvOptions::remove_hidden_tests).
#ifndef R2E_ENV_HIDDEN_TESTS_H_
#define R2E_ENV_HIDDEN_TESTS_H_

#include <filesystem>
#include <memory>

#include "r2e/repo_env.h"
#include "r2e/runtime.h"
#include "r2e/status.h"

namespace r2e::internal {

// Whether RepoEnvOptions::remove_hidden_tests applies: R2E tasks with
// hide_tests and remove_hidden_tests set.
bool RemovesHiddenTests(const Task& task, const RepoEnvOptions& options);

// A private host copy of /root/r2e_tests and /root/run_tests.sh, taken from
// one sandbox. Not thread-safe; the host copy goes with the object.
class HiddenTests {
 public:
  // Copies whichever of the two paths exist out of the sandbox and deletes
  // them there. Null when neither exists.
  static Result<std::shared_ptr<HiddenTests>> TakeOut(Runtime& runtime);
  ~HiddenTests();
  HiddenTests(const HiddenTests&) = delete;
  HiddenTests& operator=(const HiddenTests&) = delete;

  // Replaces whatever is at the two paths with the originals (for grading).
  Status PutBack(Runtime& runtime) const;
  // Deletes them in the sandbox again; best effort.
  void Remove(Runtime& runtime) const;

 private:
  HiddenTests() = default;
  std::filesystem::path dir_;
  bool tests_ = false;
  bool runner_ = false;
};

}  // namespace r2e::internal

#endif  // R2E_ENV_HIDDEN_TESTS_H_
