// Exec credential plugins (kubeconfig users[].user.exec): run the program,
// read the ExecCredential it prints. Parsing is separate and pure.
#ifndef R2E_KUBE_EXEC_CREDENTIAL_H_
#define R2E_KUBE_EXEC_CREDENTIAL_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "r2e/kube_config.h"
#include "r2e/status.h"

namespace r2e::kube {

struct ExecCredential {
  std::string token;
  std::string client_cert_pem;
  std::string client_key_pem;
  // status.expirationTimestamp; nullopt: valid until the server says 401.
  std::optional<std::chrono::system_clock::time_point> expiry;
};

// Parses the plugin's stdout. InvalidArgument (without quoting the output,
// which may hold secrets) when it is not an ExecCredential with a token or
// a certificate and key.
Result<ExecCredential> ParseExecCredential(std::string_view text);

// "2024-01-02T03:04:05Z" (RFC 3339, UTC or with an offset, fractional
// seconds ignored); nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

// Runs the plugin (stdin from /dev/null, its environment plus plugin.env
// and KUBERNETES_EXEC_INFO) and parses its output. A plugin that cannot be
// started, exits non-zero, times out or prints garbage is an
// Unavailable/InvalidArgument Status naming the command (and its stderr,
// clipped), never its stdout.
Result<ExecCredential> RunExecPlugin(const KubeExecPlugin& plugin, const std::string& server,
                                     std::chrono::milliseconds timeout);

}  // namespace r2e::kube

#endif  // R2E_KUBE_EXEC_CREDENTIAL_H_
