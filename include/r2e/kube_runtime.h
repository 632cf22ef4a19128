// KubeRuntime: each sandbox is a Kubernetes pod of the task's image, driven
// through the API server (REST over TLS and exec websockets; no kubectl).
//
// Commands run through ShellSession over one exec websocket per sandbox (a
// persistent shell: a step costs no new connection), or, as an option, one
// exec per command. Files travel as tar archives over exec stdin/stdout.
//
// Every pod carries its own death: labels r2e.managed=1, the owner (host,
// pid, process start time), the task and an expiry time, and
// spec.activeDeadlineSeconds = max_lifetime, after which the kubelet ends
// it even when this process was killed. CleanupKubeSandboxes() (`r2e
// cleanup --runtime kube`) deletes expired or orphaned pods earlier.
//
// Configuration (kubeconfig or in-cluster, credentials, TLS) belongs to the
// runtime instance: runtimes with different configurations can run side by
// side in one process.
//
// Contracts: as Runtime (runtime.h). start() either leaves a Running pod
// with a working shell or deletes what it created and says why (an image
// that cannot be pulled, a pod that cannot be scheduled, a timeout).
#ifndef R2E_KUBE_RUNTIME_H_
#define R2E_KUBE_RUNTIME_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "r2e/cleanup_report.h"
#include "r2e/kube_config.h"
#include "r2e/runtime.h"
#include "r2e/session.h"

namespace r2e {

namespace kube {
class KubeClient;
}

struct KubeToleration {
  std::string key;
  std::string op = "Exists";  // "Exists" or "Equal"
  std::string value;
  std::string effect;         // "", NoSchedule, PreferNoSchedule, NoExecute
  std::optional<std::int64_t> toleration_seconds;
};

struct KubeRuntimeOptions {
  // Where the API server is: a preloaded configuration, else loaded with
  // `load` (kubeconfig / KUBECONFIG / ~/.kube/config / in-cluster).
  std::optional<KubeConfig> config;
  KubeConfigLoadOptions load;
  // Namespace; empty: the configuration's.
  std::string namespace_name;

  // Image to use instead of the spec's.
  std::string image;
  std::string image_pull_policy = "IfNotPresent";  // Always, IfNotPresent, Never
  std::vector<std::string> image_pull_secrets;     // names of Secrets in the namespace
  std::string service_account;                     // "": the namespace's default

  std::string workdir = "/testbed";
  std::vector<std::pair<std::string, std::string>> env;
  // Resource requests and limits as Kubernetes quantities ("" : not set).
  // The scaffold requests 1 CPU and 1Gi.
  std::string cpu_request = "1";
  std::string memory_request = "1Gi";
  std::string cpu_limit;
  std::string memory_limit;
  std::map<std::string, std::string> node_selector;
  // The scaffold tolerates disk pressure for 3 hours.
  std::vector<KubeToleration> tolerations = {
      {"node.kubernetes.io/disk-pressure", "Exists", "", "NoExecute", 10800}};
  std::map<std::string, std::string> labels;       // extra labels
  std::map<std::string, std::string> annotations;  // extra annotations
  // Pod names are <prefix>-<image name>-<random>.
  std::string name_prefix = "r2e";

  // activeDeadlineSeconds: the pod ends after this long whatever happens to us.
  std::chrono::seconds max_lifetime{std::chrono::hours(4)};
  // Bound on waiting for the pod to run (the scaffold waits 20 minutes).
  std::chrono::seconds start_timeout{std::chrono::minutes(20)};
  // Bound on seeing the pod gone after a delete with grace 0 before forcing.
  std::chrono::seconds delete_timeout{60};

  // Transport: per-request bound, retries of 429/5xx/connection errors
  // (exponential backoff with jitter, Retry-After honoured).
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
  // Exec subprotocols offered in order (tests restrict this to one).
  std::vector<std::string> exec_protocols = {"v5.channel.k8s.io", "v4.channel.k8s.io"};

  enum class ExecMode { kSession, kPerCommand };
  ExecMode exec_mode = ExecMode::kSession;
  ShellSessionOptions session;
};

class KubeRuntime final : public Runtime {
 public:
  explicit KubeRuntime(KubeRuntimeOptions options = {});
  ~KubeRuntime() override;

  std::string_view name() const override { return "kube"; }
  // Creates the pod, waits until it runs, copies spec.copy_in into it and
  // opens the session; on failure deletes the pod.
  Status start(const SandboxSpec& spec) override;
  // Deletes the pod.
  Status stop() override;
  bool alive() override;
  // In the session (one exec websocket for the sandbox's life), or one exec
  // websocket per command (options.exec_mode).
  Result<ExecResult> exec(std::string_view command, const ExecOptions& options = {}) override;
  // Files move as tar archives through `tar` run over an exec websocket.
  Status upload(const std::filesystem::path& host_path, const std::string& sandbox_path) override;
  Status download(const std::string& sandbox_path, const std::filesystem::path& host_path) override;
  Result<std::string> read_file(const std::string& sandbox_path) override;
  Status write_file(const std::string& sandbox_path, std::string_view content, int mode = 0644) override;
  std::string command_shell() const override { return options_.session.command_shell; }
  std::string session_path() const override { return options_.session.path; }
  bool keeps_state() const override { return options_.session.keep_state; }
  // "kube", the configuration's location and context, the namespace and the
  // image override.
  std::string sandbox_key() const override {
    return "kube " + options_.load.kubeconfig + ' ' + options_.load.context + ' ' + options_.load.namespace_name +
           ' ' + options_.namespace_name + ' ' + options_.image;
  }

  // The running pod's name and namespace (empty when none).
  std::string pod_name() const;
  std::string namespace_name() const;
  // The exec subprotocol of the session's websocket ("" before the first).
  std::string session_protocol() const;

 private:
  Status connect();
  Status create_pod(const std::string& name, const std::string& body, const std::string& uid);
  Status wait_running(const std::string& name);
  Status delete_pod(const std::string& name);
  Result<ExecResult> exec_per_command(std::string_view command, const ExecOptions& options);
  Status put_tar(const std::string& dir, const std::string& tar);
  Result<std::string> get_tar(const std::string& path);

  KubeRuntimeOptions options_;
  std::shared_ptr<kube::KubeClient> client_;
  std::string ns_;
  mutable std::mutex state_mu_;
  std::mutex lifecycle_mu_;
  std::string pod_;
  std::vector<std::pair<std::string, std::string>> env_;
  SessionSlot session_;
  struct SessionInfo;
  std::shared_ptr<SessionInfo> info_;  // written by the session's opener
};

struct KubeCleanupOptions {
  KubeConfigLoadOptions load;  // as KubeRuntimeOptions::load
  std::string namespace_name;  // empty: the configuration's
  bool all = false;            // every pod with our label, not only expired/orphaned ones
  bool dry_run = false;        // report, delete nothing
};

// Deletes (grace 0) pods labelled r2e.managed=1 whose expiry passed or whose
// owner process (on this host) is gone; never touches other pods.
Result<CleanupReport> CleanupKubeSandboxes(const KubeCleanupOptions& options = {});

}  // namespace r2e

#endif  // R2E_KUBE_RUNTIME_H_
