// The commands that prepare a fresh sandbox for a task's kind (R2E,
// SWE-bench, SWE-smith), as the R2E scaffold does, minus its leaks.
#ifndef R2E_ENV_SETUP_H_
#define R2E_ENV_SETUP_H_

#include <string>

#include "r2e/task.h"

namespace r2e::internal {

// One bash script, run once in /testbed after the sandbox starts. Every step
// tolerates the absence of what it moves or links, so images (and local
// directories) that lack a part still set up.
std::string SetupScript(const Task& task, bool hide_tests);

}  // namespace r2e::internal

#endif  // R2E_ENV_SETUP_H_
