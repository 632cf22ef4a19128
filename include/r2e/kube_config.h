// KubeConfig: where a Kubernetes API server is and how to authenticate to
// it, loaded from kubeconfig files (as kubectl reads them) or from the
// in-cluster service account.
//
// Loading is pure: it reads the named files and the given environment
// values, runs nothing and contacts nothing. Exec credential plugins are
// only described here; the client runs them when it needs a credential.
// Every configuration is a plain value owned by whoever loaded it (one per
// runtime); nothing is process-global.
//
// Secrets (tokens, private keys) are never part of an error message: a bad
// value is named by its field and file, not shown.
#ifndef R2E_KUBE_CONFIG_H_
#define R2E_KUBE_CONFIG_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "r2e/status.h"

namespace r2e {

// users[].user.exec of a kubeconfig: a program that prints an ExecCredential.
struct KubeExecPlugin {
  std::string api_version;  // e.g. client.authentication.k8s.io/v1
  std::string command;      // resolved against the kubeconfig's directory when it contains a '/'
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string install_hint;  // shown when the command cannot be run
  bool provide_cluster_info = false;
};

struct KubeConfig {
  // https://host:port (no trailing slash).
  std::string server;
  // PEM of the certificate authorities that sign the server's certificate;
  // empty: the system's default trust store.
  std::string ca_pem;
  // Where ca_pem came from, for messages ("certificate-authority-data of
  // cluster X in FILE").
  std::string ca_origin;
  // Do not verify the server's certificate (kubeconfig
  // insecure-skip-tls-verify). Off by default; never implied.
  bool insecure_skip_tls_verify = false;
  // Name checked against the server's certificate and sent as SNI instead of
  // the server URL's host.
  std::string tls_server_name;

  // Client certificate authentication (PEM). Both or neither.
  std::string client_cert_pem;
  std::string client_key_pem;
  // Bearer token, fixed...
  std::string token;
  // ...or read from this file (re-read as it rotates; in-cluster tokens do).
  std::string token_file;
  // ...or from a credential plugin.
  std::optional<KubeExecPlugin> exec;

  // The namespace to work in: the override, else the context's, else "default".
  std::string namespace_name = "default";
  // The context used ("" for in-cluster) and where the config came from.
  std::string context;
  std::string source;  // file list, or "in-cluster"
  bool in_cluster = false;
};

struct KubeConfigLoadOptions {
  // A kubeconfig file. Empty: the environment's KUBECONFIG list, else
  // $HOME/.kube/config, else the in-cluster configuration.
  std::string kubeconfig;
  // Context to use; empty: the files' current-context.
  std::string context;
  // Namespace to use; empty: the context's, else "default".
  std::string namespace_name;

  // The environment, for tests; std::nullopt reads the process environment.
  std::optional<std::string> env_kubeconfig;  // KUBECONFIG (':'-separated list)
  std::optional<std::string> env_home;        // HOME
  std::optional<std::string> env_service_host;  // KUBERNETES_SERVICE_HOST
  std::optional<std::string> env_service_port;  // KUBERNETES_SERVICE_PORT
  // The service account directory (token, ca.crt, namespace).
  std::string in_cluster_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

// Loads the configuration. Errors: NotFound when no configuration exists at
// all (no file, not in a cluster), InvalidArgument for a malformed file, an
// unknown context, a missing cluster or user entry, bad base64 in a *-data
// field, a certificate file that cannot be read, or a certificate without
// its key.
Result<KubeConfig> LoadKubeConfig(const KubeConfigLoadOptions& options = {});

// Merges kubeconfig files as kubectl does (the first file that sets a name or
// current-context wins; relative paths are relative to the file that holds
// them) and picks the context. Exposed for tests; LoadKubeConfig uses it.
Result<KubeConfig> LoadKubeConfigFiles(const std::vector<std::string>& files, const std::string& context,
                                       const std::string& namespace_name);

// The in-cluster configuration from the service environment and directory.
Result<KubeConfig> LoadInClusterConfig(const std::string& service_host, const std::string& service_port,
                                       const std::string& dir, const std::string& namespace_name);

}  // namespace r2e

#endif  // R2E_KUBE_CONFIG_H_
