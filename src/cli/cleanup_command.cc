// `r2e cleanup`: removes sandboxes with our label that expired or whose owner
// process is gone (--all: every one of ours). Prints {"removed": [...], "kept": N}.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "r2e/runtimes.h"

namespace r2e::cli {

int Cleanup(const CommonOptions& common, const CleanupCommandOptions& cleanup) {
  // The backend's reaper (kube: pods in --namespace, else the context's).
  // Local sandboxes die with their owner (bubblewrap --die-with-parent), so
  // `--runtime local` cleans up Docker's containers when a daemon answers.
  auto report = CleanupSandboxes(common.runtime, RuntimeOptionsFor(common), cleanup.all, cleanup.dry_run);
  if (!report.ok() && (report.status().code() == StatusCode::kInvalidArgument ||
                       report.status().code() == StatusCode::kNotFound)) {
    std::cerr << "r2e cleanup: " << report.status().ToString() << "\n";
    return 2;  // no usable configuration: bad input
  }
  if (!report.ok()) {
    std::cerr << "r2e cleanup: " << report.status().ToString() << "\n";
    return 1;
  }
  for (const auto& name : report->removed) {
    std::cerr << (cleanup.dry_run ? "would remove " : "removed ") << name << "\n";
  }
  std::cout << nlohmann::json{{"removed", report->removed}, {"kept", report->kept}}.dump() << std::endl;
  return 0;
}

}  // namespace r2e::cli
