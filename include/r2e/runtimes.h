// The sandbox backends r2e ships, behind one registry: a factory per backend
// for code that knows which one it wants, and the backends by name for code
// that is told (the r2e command line's --runtime).
//
//   r2e::RepoEnvOptions options;
//   r2e::DockerRuntimeOptions docker;
//   docker.network_mode = "none";
//   options.runtime = r2e::DockerRuntimeFactory(docker);
//
//   r2e::RuntimeOptions all;                     // every backend's options
//   auto factory = r2e::MakeRuntimeFactory("kube", all);  // by name
//
// This is the one place that maps backend names to backends; everything
// above asks the Runtime itself what it needs to know (runtime.h).
// Thread-safety: the functions here may be called from any thread; a
// factory may be called from several threads at once.
#ifndef R2E_RUNTIMES_H_
#define R2E_RUNTIMES_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "r2e/cleanup_report.h"
#include "r2e/docker_runtime.h"
#include "r2e/kube_runtime.h"
#include "r2e/local_runtime.h"
#include "r2e/runtime.h"
#include "r2e/status.h"
#include "r2e/task.h"

namespace r2e {

// Factories of runtimes with the given options.
RuntimeFactory LocalRuntimeFactory(LocalRuntimeOptions options = {});
RuntimeFactory DockerRuntimeFactory(DockerRuntimeOptions options = {});
RuntimeFactory KubeRuntimeFactory(KubeRuntimeOptions options = {});

// Pulls a task's image (options.image when set, else Task::image) into the
// Docker daemon when it is missing; for RolloutSchedulerOptions::fetch_image.
std::function<Status(const Task&)> DockerImageFetcher(DockerRuntimeOptions options = {});

// Every backend's options, for choosing the backend by name; only the
// chosen backend's are used.
struct RuntimeOptions {
  LocalRuntimeOptions local;
  DockerRuntimeOptions docker;
  KubeRuntimeOptions kube;
};

// The backend names, in the order a help text lists them: "local",
// "docker", "kube".
std::vector<std::string> RuntimeNames();

// The factory of the named backend with its options from `options` ("" is
// "local"). InvalidArgument for an unknown name, listing the known ones.
Result<RuntimeFactory> MakeRuntimeFactory(std::string_view name, const RuntimeOptions& options = {});
// One runtime of the named backend.
Result<std::unique_ptr<Runtime>> MakeRuntime(std::string_view name, const RuntimeOptions& options = {});

// Whether the sandboxes of backend `name` made with `options` cap how many
// processes they may hold, so that a fork bomb in one is contained: Docker
// with docker.pids_limit > 0; no other backend. (`r2e soak` asks before it
// lets its chaos agent fork-bomb.)
bool LimitsProcesses(std::string_view name, const RuntimeOptions& options);

// Readies the named backend for a batch of sandboxes of `images` (SandboxSpec
// images; `r2e eval`) before any starts. Docker: connects to the daemon
// (Unavailable when none answers), removes containers that earlier runs
// leaked (CleanupSandboxes), and checks that every image is present,
// pulling the missing ones when `pull`; FailedPrecondition lists those
// missing or not pulled. Local on an image (options.local.image or
// use_task_image): unpacks each image into its ImageStore once, before the
// run (always: an archive is read, nothing is downloaded). The other
// backends have nothing to prepare.
// `progress` receives one-line human messages.
Status PrepareSandboxes(std::string_view name, const RuntimeOptions& options, const std::vector<std::string>& images,
                        bool pull, const std::function<void(const std::string&)>& progress = {});

// The named backend's reaper (`r2e cleanup`): removes sandboxes with r2e's
// label whose expiry passed or whose owner process on this host is gone
// (`all`: every one with the label); `dry_run` reports without removing.
// Docker: CleanupSandboxes at options.docker.socket_path; kube:
// CleanupKubeSandboxes with options.kube.load and namespace_name. Local
// sandboxes die with their owner, so "local" reaps Docker's containers,
// and reports nothing removed when no daemon answers.
Result<CleanupReport> CleanupSandboxes(std::string_view name, const RuntimeOptions& options, bool all = false,
                                       bool dry_run = false);

}  // namespace r2e

#endif  // R2E_RUNTIMES_H_
