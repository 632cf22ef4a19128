// DockerRuntime's whole-sandbox checkpoints (Runtime::checkpoint, revert,
// release_checkpoint): images committed from the running container.
#include <algorithm>
#include <mutex>
#include <utility>

#include "container/container_files.h"
#include "container/container_sandbox.h"
#include "docker/docker_client.h"
#include "r2e/docker_runtime.h"

#include <spdlog/spdlog.h>

namespace r2e {
namespace {

constexpr char kCheckpointRepo[] = "r2e-checkpoint";

// Only r2e's own checkpoint names are reverted to or released: a caller's
// image name (or a typo) must not be taken for one.
bool IsCheckpointName(const std::string& name) {
  return name.starts_with(std::string(kCheckpointRepo) + ":") &&
         name.size() > sizeof kCheckpointRepo;
}

Status NotACheckpoint(const std::string& name) {
  return Status::NotFound("no docker checkpoint " + name +
                          " (released, from a runtime that stopped, or never made)");
}

}  // namespace

Result<std::string> DockerRuntime::checkpoint() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  const std::string id = container_id();
  if (id.empty())
    return Status::FailedPrecondition("docker sandbox is not started; call start() first");
  const std::string tag = container_name() + "-" + std::to_string(++checkpoint_count_);
  // The daemon pauses the container while it commits: no file is caught
  // halfway.
  R2E_RETURN_IF_ERROR(client_->commit(id, kCheckpointRepo, tag).status().WithContext("checkpoint"));
  checkpoints_.push_back(std::string(kCheckpointRepo) + ":" + tag);
  return checkpoints_.back();
}

Status DockerRuntime::revert(const std::string& checkpoint, const std::vector<std::string>& keep) {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  const std::string old_id = container_id();
  if (old_id.empty())
    return Status::FailedPrecondition("docker sandbox is not started; call start() first");
  if (!IsCheckpointName(checkpoint)) return NotACheckpoint(checkpoint);
  if (auto image = client_->inspect_image(checkpoint); !image.ok()) {
    return image.status().code() == StatusCode::kNotFound ? NotACheckpoint(checkpoint)
                                                          : image.status().WithContext("revert");
  }
  // What is kept is read before the container goes.
  std::vector<std::pair<std::string, std::string>> kept;  // {path, tar of it}
  for (const std::string& path : keep) {
    auto tar = client_->get_archive(old_id, path);
    if (tar.ok()) {
      kept.emplace_back(path, std::move(*tar));
    } else if (tar.status().code() != StatusCode::kNotFound) {
      return tar.status().WithContext("revert: keeping " + path);
    }
  }
  session_.Close(session_.Take());
  Status removed = remove_container();
  const std::string held_before = std::exchange(running_from_, "");
  // The new container holds the checkpoint by a name of its own, so that the
  // checkpoint's owner may release it while the container runs.
  Status s = start_container(
      checkpoint, options_.image.empty() ? spec_.image : options_.image, spec_,
      [&](const std::string& name) {
        R2E_RETURN_IF_ERROR(client_->tag_image(checkpoint, kCheckpointRepo, name + "-run"));
        running_from_ = std::string(kCheckpointRepo) + ":" + name + "-run";
        return Status::OK();
      });
  if (!held_before.empty()) (void)client_->untag_image(held_before, true);
  if (!s.ok()) {
    if (!running_from_.empty()) (void)client_->untag_image(std::exchange(running_from_, ""), true);
    return s.WithContext("revert");
  }
  for (const auto& [path, tar] : kept) {
    const std::string dir = container::Dirname(container::WithoutTrailingSlash(path));
    auto cleared = client_->exec_run(
        container_id(), internal::SandboxArgv(options_.session, "", {"rm", "-rf", "--", path}), {},
        "/", std::chrono::seconds(60), "0:0");
    if (!cleared.ok()) return cleared.status().WithContext("revert: keeping " + path);
    R2E_RETURN_IF_ERROR(put_file_tar(dir, tar).WithContext("revert: keeping " + path));
  }
  // The old container's lifetime guard and the reaper still remove it.
  if (!removed.ok())
    spdlog::warn("docker: revert: {} (the new container runs)", removed.ToString());
  return Status::OK();
}

Status DockerRuntime::release_checkpoint(const std::string& checkpoint) {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  auto it = std::find(checkpoints_.begin(), checkpoints_.end(), checkpoint);
  if (it == checkpoints_.end()) return NotACheckpoint(checkpoint);
  checkpoints_.erase(it);
  R2E_RETURN_IF_ERROR(connect());
  return client_->untag_image(checkpoint, true).WithContext("releasing a checkpoint");
}

void DockerRuntime::release_checkpoints() {
  // Called with lifecycle_mu_ held, after the container is gone.
  if (!client_) return;
  for (const std::string& name : checkpoints_) (void)client_->untag_image(name, true);
  checkpoints_.clear();
  if (!running_from_.empty()) (void)client_->untag_image(std::exchange(running_from_, ""), true);
}

}  // namespace r2e
