// CleanupReport: what a reaper of leaked sandboxes did (Docker's
// CleanupSandboxes, Kubernetes' CleanupKubeSandboxes, `r2e cleanup`).
#ifndef R2E_CLEANUP_REPORT_H_
#define R2E_CLEANUP_REPORT_H_

#include <string>
#include <vector>

namespace r2e {

struct CleanupReport {
  // Names of the sandboxes removed (that would be removed, on a dry run),
  // and of the checkpoint images whose names were removed.
  std::vector<std::string> removed;
  // Sandboxes with r2e's label that were left alone (alive and not expired).
  int kept = 0;
};

}  // namespace r2e

#endif  // R2E_CLEANUP_REPORT_H_
