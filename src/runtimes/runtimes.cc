// The backend registry: the one place that knows the backends by name.
#include "r2e/runtimes.h"

#include <set>
#include <utility>

#include "r2e/config.h"
#include "r2e/image_store.h"

namespace r2e {
namespace {

template <typename R, typename Options>
RuntimeFactory FactoryOf(Options options) {
  return [options = std::move(options)]() -> Result<std::unique_ptr<Runtime>> {
    return std::unique_ptr<Runtime>(std::make_unique<R>(options));
  };
}

// Unpacks the images a local run needs, once each, so that the first
// episodes do not all wait on it.
Status PrepareLocalImages(const LocalRuntimeOptions& local, const std::vector<std::string>& images,
                          const std::function<void(const std::string&)>& progress) {
  std::set<std::string> wanted;
  if (!local.image.empty()) {
    wanted.insert(local.image);
  } else {
    wanted.insert(images.begin(), images.end());
  }
  ImageStore store(local.image_store);
  for (const std::string& image : wanted) {
    if (image.empty()) continue;
    if (progress) progress("preparing image " + image + " (local runtime, cache " + store.cache_dir().string() + ")");
    auto lease = store.Acquire(image);
    if (!lease.ok()) return lease.status().WithContext("preparing image " + image);
  }
  return Status::OK();
}

// Docker's part of PrepareSandboxes.
Status PrepareDocker(const DockerRuntimeOptions& docker, const std::vector<std::string>& images, bool pull,
                     const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& message) {
    if (progress) progress(message);
  };
  // Asked first: it says whether a daemon answers at all.
  auto missing = DockerRuntime::MissingImages(images, docker);
  if (!missing.ok()) return missing.status().WithContext("docker runtime");

  CleanupOptions cleanup;
  cleanup.socket_path = docker.socket_path;
  if (auto cleaned = CleanupSandboxes(cleanup); cleaned.ok() && !cleaned->removed.empty()) {
    say("removed " + std::to_string(cleaned->removed.size()) + " orphaned or expired sandbox(es) of earlier runs");
  }
  if (missing->empty()) return Status::OK();

  std::set<std::string> wanted;
  for (const std::string& image : images) wanted.insert(docker.image.empty() ? image : docker.image);
  std::string list;
  for (const auto& m : *missing) list += "\n  " + m;
  if (!pull) {
    return Status::FailedPrecondition(std::to_string(missing->size()) + " of " + std::to_string(wanted.size()) +
                                      " image(s) the run needs are not present locally:" + list +
                                      "\nbuild them (the demo images: scripts/build-test-images.sh) or rerun with --pull");
  }
  std::vector<std::string> failed;
  for (const std::string& image : *missing) {
    say("pulling " + image);
    if (Status s = DockerRuntime::PullImage(image, docker); !s.ok()) failed.push_back(image + ": " + s.message());
  }
  if (failed.empty()) return Status::OK();
  std::string why;
  for (const auto& f : failed) why += "\n  " + f;
  return Status::FailedPrecondition("could not pull " + std::to_string(failed.size()) + " image(s):" + why);
}

Status KubeUnavailable() {
  return Status::FailedPrecondition(
      "this r2e was built without the Kubernetes runtime; rebuild it with -DR2E_WITH_KUBE=ON");
}

}  // namespace

RuntimeFactory LocalRuntimeFactory(LocalRuntimeOptions options) { return FactoryOf<LocalRuntime>(std::move(options)); }

RuntimeFactory DockerRuntimeFactory(DockerRuntimeOptions options) {
  return FactoryOf<DockerRuntime>(std::move(options));
}

std::function<Status(const Task&)> DockerImageFetcher(DockerRuntimeOptions options) {
  return [options = std::move(options)](const Task& task) -> Status {
    const std::string image = options.image.empty() ? task.image : options.image;
    R2E_ASSIGN_OR_RETURN(std::vector<std::string> missing, DockerRuntime::MissingImages({image}, options));
    if (missing.empty()) return Status::OK();
    return DockerRuntime::PullImage(image, options);
  };
}

#if R2E_WITH_KUBE
RuntimeFactory KubeRuntimeFactory(KubeRuntimeOptions options) { return FactoryOf<KubeRuntime>(std::move(options)); }
#else
// Built without the Kubernetes runtime (R2E_WITH_KUBE=OFF): the factory
// exists, so callers link, and says why it cannot make one.
RuntimeFactory KubeRuntimeFactory(KubeRuntimeOptions) {
  return []() -> Result<std::unique_ptr<Runtime>> { return KubeUnavailable(); };
}
#endif

std::vector<std::string> RuntimeNames() {
  if (!R2E_WITH_KUBE) return {"local", "docker"};
  return {"local", "docker", "kube"};
}

Result<RuntimeFactory> MakeRuntimeFactory(std::string_view name, const RuntimeOptions& options) {
  if (name == "local" || name.empty()) return LocalRuntimeFactory(options.local);
  if (name == "docker") return DockerRuntimeFactory(options.docker);
  if (name == "kube") {
    if (!R2E_WITH_KUBE) return KubeUnavailable();
    return KubeRuntimeFactory(options.kube);
  }
  std::string known;
  for (const std::string& n : RuntimeNames()) known += (known.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown runtime `" + std::string(name) + "`; valid runtimes: " + known);
}

Result<std::unique_ptr<Runtime>> MakeRuntime(std::string_view name, const RuntimeOptions& options) {
  R2E_ASSIGN_OR_RETURN(RuntimeFactory factory, MakeRuntimeFactory(name, options));
  return factory();
}

bool LimitsProcesses(std::string_view name, const RuntimeOptions& options) {
  return name == "docker" && options.docker.pids_limit > 0;
}

Status PrepareSandboxes(std::string_view name, const RuntimeOptions& options, const std::vector<std::string>& images,
                        bool pull, const std::function<void(const std::string&)>& progress) {
  R2E_RETURN_IF_ERROR(MakeRuntimeFactory(name, options).status());
  if (name == "docker") return PrepareDocker(options.docker, images, pull, progress);
  if ((name == "local" || name.empty()) && (!options.local.image.empty() || options.local.use_task_image)) {
    return PrepareLocalImages(options.local, images, progress);
  }
  return Status::OK();
}

Result<CleanupReport> CleanupSandboxes(std::string_view name, const RuntimeOptions& options, bool all,
                                       bool dry_run) {
  R2E_RETURN_IF_ERROR(MakeRuntimeFactory(name, options).status());
#if R2E_WITH_KUBE
  if (name == "kube") {
    KubeCleanupOptions kube;
    kube.load = options.kube.load;
    kube.namespace_name = options.kube.namespace_name;
    kube.all = all;
    kube.dry_run = dry_run;
    return CleanupKubeSandboxes(kube);
  }
#endif
  CleanupOptions docker;
  docker.socket_path = options.docker.socket_path;
  docker.all = all;
  docker.dry_run = dry_run;
  auto report = CleanupSandboxes(docker);
  if (!report.ok() && name != "docker" && report.status().code() == StatusCode::kUnavailable) {
    return CleanupReport{};  // local: no daemon, so no containers of ours
  }
  return report;
}

}  // namespace r2e
