// The bearer token of the Kubernetes client: fixed, read from a (rotating)
// file, or run through an exec credential plugin; plain C++, no I/O but the
// file and the plugin.
#ifndef R2E_KUBE_CREDENTIALS_H_
#define R2E_KUBE_CREDENTIALS_H_

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "kube/exec_credential.h"
#include "r2e/kube_config.h"
#include "r2e/session.h"
#include "r2e/status.h"

namespace r2e::kube {

// Thread-safe. Holds a reference to the configuration, which must outlive it.
class Credentials {
 public:
  Credentials(const KubeConfig& c, std::chrono::milliseconds plugin_timeout)
      : config_(c), plugin_timeout_(plugin_timeout) {}

  // Whether a 401 is worth a second try with a fresh token.
  bool refreshable() const { return config_.token.empty() && (!config_.token_file.empty() || config_.exec); }

  // The token for the Authorization header ("" for none). `force` re-reads
  // the file or re-runs the plugin now (after a 401).
  Result<std::string> token(bool force);

  // The first plugin run, which may supply a client certificate.
  Result<ExecCredential> first_exec();

 private:
  const KubeConfig& config_;
  std::chrono::milliseconds plugin_timeout_;
  std::mutex mu_;
  bool loaded_ = false;
  std::string cached_;
  Clock::time_point loaded_at_;
  std::optional<std::chrono::system_clock::time_point> expiry_;
};

}  // namespace r2e::kube

#endif  // R2E_KUBE_CREDENTIALS_H_
