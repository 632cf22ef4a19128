#include "r2e/kube_runtime.h"

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <thread>

#include "container/container_files.h"
#include "container/container_sandbox.h"
#include "core/owner.h"
#include "core/text.h"
#include "kube/api_status.h"
#include "kube/kube_client.h"
#include "kube/kube_text.h"
#include "kube/pod.h"
#include "kube/watch.h"
#include "session/marker_scanner.h"

namespace r2e {
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

using internal::HostName;
using internal::ProcessStartTime;

constexpr std::chrono::seconds kFileTimeout{300};

std::string PodsPath(const std::string& ns) { return "/api/v1/namespaces/" + kube::QueryEscape(ns) + "/pods"; }

Result<std::shared_ptr<kube::KubeClient>> MakeClient(const KubeRuntimeOptions& o, const KubeConfig& config) {
  kube::ClientOptions co;
  co.config = config;
  co.request_timeout = o.request_timeout;
  co.retry.max_attempts = o.max_attempts;
  co.retry.initial_backoff = o.initial_backoff;
  co.retry.max_backoff = o.max_backoff;
  co.exec_protocols = o.exec_protocols;
  return kube::KubeClient::Create(std::move(co));
}

Result<KubeConfig> ResolveConfig(const std::optional<KubeConfig>& given, KubeConfigLoadOptions load,
                                 const std::string& ns) {
  if (given) {
    KubeConfig c = *given;
    if (!ns.empty()) c.namespace_name = ns;
    return c;
  }
  if (!ns.empty()) load.namespace_name = ns;
  return LoadKubeConfig(load);
}

Status NotStarted() { return Status::FailedPrecondition("kube sandbox is not started"); }

}  // namespace

// What the session's opener learns about its websocket; shared with the
// opener, which may outlive a call into the runtime.
struct KubeRuntime::SessionInfo {
  std::mutex mu;
  std::string protocol;
};

KubeRuntime::KubeRuntime(KubeRuntimeOptions options)
    : options_(std::move(options)), info_(std::make_shared<SessionInfo>()) {}

KubeRuntime::~KubeRuntime() { stop(); }

std::string KubeRuntime::pod_name() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return pod_;
}

std::string KubeRuntime::namespace_name() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return pod_.empty() ? "" : ns_;
}

std::string KubeRuntime::session_protocol() const {
  std::lock_guard<std::mutex> lock(info_->mu);
  return info_->protocol;
}

Status KubeRuntime::connect() {
  if (client_) return Status::OK();
  R2E_ASSIGN_OR_RETURN(KubeConfig config, ResolveConfig(options_.config, options_.load, options_.namespace_name));
  ns_ = config.namespace_name;
  R2E_ASSIGN_OR_RETURN(client_, MakeClient(options_, config));
  return Status::OK();
}

Status KubeRuntime::create_pod(const std::string& name, const std::string& body, const std::string& uid) {
  const std::string what = "create pod " + ns_ + "/" + name;
  // The client repeats 429s and requests that never left; an answer that
  // may or may not have created the pod (5xx, a dropped connection) is
  // checked by reading the pod back and comparing our uid label.
  auto created_by_us = [&]() -> Result<bool> {
    auto r = client_->request("GET", PodsPath(ns_) + "/" + name);
    if (!r.ok()) return r.status();
    if (r->status == 404) return false;
    if (r->status != 200) return kube::ApiStatus(r->status, r->body, "get pod " + name);
    Json pod = Json::parse(r->body, nullptr, false);
    if (kube::JsonStringAt(pod, {"metadata", "labels", "r2e.uid"}) == uid) return true;
    return Status::AlreadyExists("kube " + what + ": a pod of that name exists and is not ours");
  };
  Status last;
  for (int attempt = 0; attempt < std::max(1, options_.max_attempts); ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(
          kube::Backoff(attempt - 1, options_.initial_backoff, options_.max_backoff, std::rand() / (RAND_MAX + 1.0)));
    }
    auto r = client_->request("POST", PodsPath(ns_), body, /*retry=*/false);
    if (r.ok() && (r->status == 201 || r->status == 200 || r->status == 202)) return Status::OK();
    if (r.ok() && r->status == 409 && attempt == 0) return kube::ApiStatus(r->status, r->body, what);
    if (r.ok() && r->status != 409 && !kube::Retryable(r->status)) return kube::ApiStatus(r->status, r->body, what);
    last = r.ok() ? kube::ApiStatus(r->status, r->body, what) : r.status();
    if (!r.ok() && r.status().code() != StatusCode::kUnavailable) return r.status();
    auto ours = created_by_us();
    if (ours.ok() && *ours) return Status::OK();
    if (!ours.ok() && ours.status().code() == StatusCode::kAlreadyExists) return ours.status();
  }
  return last.WithContext("gave up after " + std::to_string(options_.max_attempts) + " attempts");
}

Status KubeRuntime::wait_running(const std::string& name) {
  const auto deadline = Clock::now() + options_.start_timeout;
  std::string last = "no status yet";
  Status s = client_->follow(PodsPath(ns_), "fieldSelector=" + kube::QueryEscape("metadata.name=" + name), deadline,
                             [&](const Json& pod, bool deleted) -> Result<bool> {
                               kube::PodCheck c = kube::CheckPodStart(pod, deleted);
                               if (c.state == kube::PodCheck::kFailed) return c.error;
                               if (pod.is_object()) {
                                 last = "phase " + kube::JsonStringAt(pod, {"status", "phase"});
                               }
                               return c.state == kube::PodCheck::kRunning;
                             });
  if (s.code() == StatusCode::kTimeout) {
    return Status::Timeout("pod " + ns_ + "/" + name + " did not start running within " +
                           std::to_string(options_.start_timeout.count()) + " s (" + last + ")");
  }
  return s;
}

Status KubeRuntime::delete_pod(const std::string& name) {
  const std::string path = PodsPath(ns_) + "/" + name;
  const std::string what = "delete pod " + ns_ + "/" + name;
  const Json options = {{"kind", "DeleteOptions"},
                        {"apiVersion", "v1"},
                        {"gracePeriodSeconds", 0},
                        {"propagationPolicy", "Background"}};
  auto r = client_->request("DELETE", path, options.dump());
  if (!r.ok()) return r.status().WithContext(what);
  if (r->status == 404) return Status::OK();
  if (r->status >= 300) return kube::ApiStatus(r->status, r->body, what);
  // Confirm by watch; then force.
  Status gone = client_->follow(PodsPath(ns_), "fieldSelector=" + kube::QueryEscape("metadata.name=" + name),
                                Clock::now() + options_.delete_timeout,
                                [](const Json&, bool deleted) -> Result<bool> { return deleted; });
  if (gone.ok()) return Status::OK();
  auto forced = client_->request("DELETE", path + "?gracePeriodSeconds=0", options.dump());
  if (forced.ok() && forced->status == 404) return Status::OK();
  auto check = client_->request("GET", path);
  if (check.ok() && check->status == 404) return Status::OK();
  return Status::Unavailable("kube " + what + ": the pod is still there " +
                             std::to_string(options_.delete_timeout.count()) +
                             " s after deleting it (" + gone.message() +
                             "); its activeDeadlineSeconds and `r2e cleanup --runtime kube` will remove it");
}

Status KubeRuntime::start(const SandboxSpec& spec) {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  if (!pod_name().empty()) return Status::FailedPrecondition("kube sandbox already started; call stop() first");
  R2E_RETURN_IF_ERROR(connect());
  const std::string image = options_.image.empty() ? spec.image : options_.image;
  if (image.empty()) {
    return Status::InvalidArgument("no image for the kube sandbox: the task has none and no override is set");
  }
  kube::PodIdentity id;
  id.name = kube::PodName(options_.name_prefix, image, internal::RandomHex(4));
  id.uid = internal::RandomHex(8);
  id.task_id = spec.task_id;
  id.owner_host = HostName();
  id.owner_pid = std::to_string(::getpid());
  id.owner_start = ProcessStartTime(::getpid());
  id.expires = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + options_.max_lifetime);
  env_ = spec.env;
  for (const auto& kv : options_.env) env_.push_back(kv);
  KubeRuntimeOptions labelled = options_;  // the spec's labels over the options'
  for (const auto& [k, v] : spec.labels) labelled.labels[k] = v;
  const Json manifest = kube::BuildPodManifest(labelled, image, id, env_);

  R2E_RETURN_IF_ERROR(create_pod(id.name, manifest.dump(), id.uid));
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    pod_ = id.name;
  }
  auto fail = [&](Status s) {
    // Leave nothing behind: the caller gets the first error.
    if (Status d = delete_pod(id.name); !d.ok()) s = s.WithContext(d.message());
    std::lock_guard<std::mutex> lock(state_mu_);
    pod_.clear();
    return s.WithContext("starting pod " + ns_ + "/" + id.name + " from " + image);
  };
  if (Status s = wait_running(id.name); !s.ok()) return fail(s);
  for (const auto& [host_path, target] : spec.copy_in) {
    if (Status s = upload(host_path, target); !s.ok()) return fail(s);
  }
  if (options_.exec_mode == KubeRuntimeOptions::ExecMode::kSession) {
    std::shared_ptr<kube::KubeClient> client = client_;
    const std::string ns = ns_;
    const std::string pod = id.name;
    const auto timeout = options_.request_timeout;
    std::shared_ptr<SessionInfo> info = info_;
    auto opener = [client, ns, pod, timeout, info](const std::vector<std::string>& argv)
        -> Result<std::unique_ptr<ByteStream>> {
      R2E_ASSIGN_OR_RETURN(std::unique_ptr<kube::ExecStream> s, client->exec(ns, pod, pod, argv, timeout));
      {
        std::lock_guard<std::mutex> lock(info->mu);
        info->protocol = s->protocol();
      }
      return std::unique_ptr<ByteStream>(std::move(s));
    };
    Status s = session_.Open(opener, container::SessionOptions(options_.session, options_.workdir, env_));
    if (!s.ok()) return fail(s);
  }
  return Status::OK();
}

Status KubeRuntime::stop() {
  return container::StopSandbox(session_, lifecycle_mu_, [this] {
    const std::string pod = pod_name();
    if (pod.empty() || !client_) return Status::OK();
    Status s = delete_pod(pod);
    std::lock_guard<std::mutex> lock(state_mu_);
    pod_.clear();
    return s;
  });
}

bool KubeRuntime::alive() {
  const std::string pod = pod_name();
  if (pod.empty() || !client_) return false;
  auto r = client_->call("GET", PodsPath(ns_) + "/" + pod, "get pod " + pod);
  if (!r.ok() || !r->is_object()) return false;
  if (!kube::JsonAt(*r, {"metadata", "deletionTimestamp"}).is_null()) return false;
  return kube::JsonStringAt(*r, {"status", "phase"}) == "Running";
}

Result<ExecResult> KubeRuntime::exec(std::string_view command, const ExecOptions& options) {
  const std::string pod = pod_name();
  if (pod.empty()) return Status::FailedPrecondition("kube sandbox is not started; call start() first");
  if (options_.exec_mode == KubeRuntimeOptions::ExecMode::kPerCommand) return exec_per_command(command, options);
  // A shell whose websocket dropped reconnects on the next command.
  return container::ExecInSession(session_, {"kube", "pod " + ns_ + "/" + pod, [this] { return alive(); }}, command,
                                  options);
}

Result<ExecResult> KubeRuntime::exec_per_command(std::string_view command, const ExecOptions& options) {
  const std::string pod = pod_name();
  const auto started = Clock::now();
  // Kubernetes exec has no environment or working directory: the session's
  // launcher sets PATH and enters the directory, `env` sets the variables.
  R2E_ASSIGN_OR_RETURN(std::vector<std::string> argv,
                       container::PerCommandArgv(options_.session, env_, command, options));
  // stdout and stderr merged in arrival order, bounded while they stream.
  internal::BoundedOutput out(options_.session.head_bytes,
                              options_.session.tail_bytes + options.trailer_bytes);
  argv = internal::SandboxArgv(options_.session, options.workdir.empty() ? options_.workdir : options.workdir, argv);
  R2E_ASSIGN_OR_RETURN(kube::ExecRun run,
                       client_->exec_run(ns_, pod, pod, argv, "", options.timeout + options_.session.backstop, 0,
                                         [&out](int, std::string_view data) { out.append(data); }));
  ExecResult r = container::PerCommandResult(run.exit_code, run.timed_out, started, options.timeout);
  r.output = out.str();
  r.truncated_bytes = out.dropped();
  return r;
}

Status KubeRuntime::put_tar(const std::string& dir, const std::string& tar) {
  const std::string pod = pod_name();
  // `head -c` hands tar exactly the archive, so extraction does not depend
  // on closing stdin (v4 cannot).
  // Under the session's PATH: the image's own may not reach mkdir or tar.
  const std::vector<std::string> argv = internal::SandboxArgv(
      options_.session, "",
      {"/bin/sh", "-c", "mkdir -p -- \"$1\" && head -c \"$2\" | tar -x -f - -C \"$1\"", "r2e", dir,
       std::to_string(tar.size())});
  R2E_ASSIGN_OR_RETURN(kube::ExecRun run, client_->exec_run(ns_, pod, pod, argv, tar, kFileTimeout, 64 * 1024));
  if (run.timed_out) return Status::Timeout("extracting into " + dir + " took longer than 300 s");
  if (run.exit_code != 0) {
    return Status::Internal("extracting into " + dir + " failed (exit " + std::to_string(run.exit_code) +
                            "): " + std::string(internal::Trim(run.stderr_data + run.stdout_data)).substr(0, 1000));
  }
  return Status::OK();
}

Result<std::string> KubeRuntime::get_tar(const std::string& path) {
  const std::string pod = pod_name();
  const std::string target = container::WithoutTrailingSlash(path);
  const std::string base = fs::path(target).filename().string();
  const std::vector<std::string> argv = internal::SandboxArgv(
      options_.session, "",
      {"tar", "-c", "-f", "-", "-C", container::Dirname(target), "--", base.empty() ? "." : base});
  R2E_ASSIGN_OR_RETURN(kube::ExecRun run, client_->exec_run(ns_, pod, pod, argv, "", kFileTimeout));
  if (run.timed_out) return Status::Timeout("archiving " + path + " took longer than 300 s");
  if (run.exit_code != 0) {
    const std::string err(internal::Trim(run.stderr_data));
    if (err.find("No such file") != std::string::npos || err.find("Cannot stat") != std::string::npos) {
      return Status::NotFound("no such file in the sandbox: " + path);
    }
    return Status::Internal("archiving " + path + " failed (exit " + std::to_string(run.exit_code) +
                            "): " + err.substr(0, 1000));
  }
  return std::move(run.stdout_data);
}

Status KubeRuntime::upload(const fs::path& host_path, const std::string& sandbox_path) {
  if (pod_name().empty()) return NotStarted();
  return container::Upload(host_path, sandbox_path,
                           [this](const std::string& dir, const std::string& tar) { return put_tar(dir, tar); });
}

Status KubeRuntime::download(const std::string& sandbox_path, const fs::path& host_path) {
  if (pod_name().empty()) return NotStarted();
  return container::Download(sandbox_path, host_path, [this](const std::string& path) { return get_tar(path); });
}

Result<std::string> KubeRuntime::read_file(const std::string& sandbox_path) {
  if (pod_name().empty()) return NotStarted();
  return container::ReadFile(sandbox_path, [this](const std::string& path) { return get_tar(path); });
}

Status KubeRuntime::write_file(const std::string& sandbox_path, std::string_view content, int mode) {
  if (pod_name().empty()) return NotStarted();
  return container::WriteFile(sandbox_path, content, mode,
                              [this](const std::string& dir, const std::string& tar) { return put_tar(dir, tar); });
}

Result<CleanupReport> CleanupKubeSandboxes(const KubeCleanupOptions& options) {
  R2E_ASSIGN_OR_RETURN(KubeConfig config, ResolveConfig(std::nullopt, options.load, options.namespace_name));
  KubeRuntimeOptions ro;
  R2E_ASSIGN_OR_RETURN(auto client, MakeClient(ro, config));
  const std::string ns = config.namespace_name;
  R2E_ASSIGN_OR_RETURN(Json list, client->call("GET", PodsPath(ns) + "?labelSelector=" + kube::QueryEscape("r2e.managed=1"),
                                               "list pods in " + ns));
  CleanupReport report;
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  const Json& items = kube::JsonAt(list, {"items"});
  if (!items.is_array()) return Status::Internal("kube list pods in " + ns + ": the answer has no items list");
  for (const Json& pod : items) {
    if (!pod.is_object()) continue;
    auto label = [&](const char* k) { return kube::JsonStringAt(pod, {"metadata", "labels", k}); };
    if (label("r2e.managed") != "1") continue;  // the selector already says so; never trust it blindly
    const std::string name = kube::JsonStringAt(pod, {"metadata", "name"});
    if (name.empty()) continue;
    if (!container::ShouldReap(label, options.all, now, kube::LabelValue)) {
      ++report.kept;
      continue;
    }
    if (!options.dry_run) {
      const Json del = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"gracePeriodSeconds", 0},
                        {"propagationPolicy", "Background"}};
      auto r = client->request("DELETE", PodsPath(ns) + "/" + kube::QueryEscape(name), del.dump());
      if (!r.ok()) return r.status().WithContext("deleting pod " + name);
      if (r->status >= 300 && r->status != 404) return kube::ApiStatus(r->status, r->body, "delete pod " + name);
    }
    report.removed.push_back(name);
  }
  return report;
}

}  // namespace r2e
