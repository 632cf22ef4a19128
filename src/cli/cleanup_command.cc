// `r2e cleanup`: removes sandboxes with our label that expired or whose owner
// process is gone (--all: every one of ours). Prints {"removed": [...], "kept": N}.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "r2e/docker_runtime.h"

namespace r2e::cli {

int Cleanup(const CommonOptions& common, const CleanupCommandOptions& cleanup) {
  // Local sandboxes die with their owner (bubblewrap --die-with-parent), so
  // there is nothing of theirs to reap: cleanup is about container sandboxes.
  if (common.runtime == "kube") {
    std::cerr << "r2e cleanup: the " << common.runtime << " runtime is not part of this build yet\n";
    return 2;
  }
  CleanupOptions options;
  options.all = cleanup.all;
  options.dry_run = cleanup.dry_run;
  auto report = CleanupSandboxes(options);
  if (!report.ok() && common.runtime == "local" && report.status().code() == StatusCode::kUnavailable) {
    std::cerr << "r2e cleanup: no Docker daemon answers, so no container sandboxes to remove\n";
    std::cout << nlohmann::json{{"removed", nlohmann::json::array()}, {"kept", 0}}.dump() << std::endl;
    return 0;
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
