// `r2e cleanup`: removes sandboxes with our label that expired or whose owner
// process is gone (--all: every one of ours). Prints {"removed": [...], "kept": N}.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "r2e/docker_runtime.h"
#include "r2e/kube_runtime.h"

namespace r2e::cli {

int Cleanup(const CommonOptions& common, const CleanupCommandOptions& cleanup) {
  // Local sandboxes die with their owner (bubblewrap --die-with-parent), so
  // there is nothing of theirs to reap: cleanup is about container sandboxes.
  Result<CleanupReport> report = CleanupReport{};
  if (common.runtime == "kube") {
    // Pods with our label in the namespace (--namespace, else the context's).
    KubeCleanupOptions options;
    options.load.kubeconfig = common.kubeconfig;
    options.load.context = common.context;
    options.namespace_name = common.kube_namespace;
    options.all = cleanup.all;
    options.dry_run = cleanup.dry_run;
    report = CleanupKubeSandboxes(options);
    if (!report.ok() && (report.status().code() == StatusCode::kInvalidArgument ||
                         report.status().code() == StatusCode::kNotFound)) {
      std::cerr << "r2e cleanup: " << report.status().ToString() << "\n";
      return 2;  // no usable configuration: bad input
    }
  } else {
    CleanupOptions options;
    options.all = cleanup.all;
    options.dry_run = cleanup.dry_run;
    report = CleanupSandboxes(options);
  }
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
