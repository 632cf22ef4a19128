// What callers above the runtime need from the daemon besides a sandbox's
// own calls: killing a container from another thread, the images a batch
// needs, names for images, and the containers a leak check counts.
#include <unistd.h>

#include <set>

#include "docker/docker_client.h"
#include "r2e/docker_runtime.h"

namespace r2e {
namespace {

docker::ClientOptions ClientOptionsOf(const DockerRuntimeOptions& options) {
  docker::ClientOptions o;
  o.socket_path = options.socket_path;
  o.registry_auth = options.registry_auth;
  return o;
}

}  // namespace

void DockerRuntime::kill() {
  const std::string id = container_id();
  if (id.empty()) return;  // not started yet: the caller checks its own flag after start()
  // A client of our own: client_ belongs to the thread in start()/exec().
  auto client = docker::DockerClient::Connect(ClientOptionsOf(options_));
  if (client.ok()) (void)(*client)->kill_container(id);
}

Result<std::vector<std::string>> DockerRuntime::MissingImages(const std::vector<std::string>& images,
                                                              const DockerRuntimeOptions& options) {
  R2E_ASSIGN_OR_RETURN(auto client, docker::DockerClient::Connect(ClientOptionsOf(options)));
  std::set<std::string> wanted;
  for (const std::string& image : images) wanted.insert(options.image.empty() ? image : options.image);
  std::vector<std::string> missing;
  for (const std::string& image : wanted) {
    auto inspected = client->inspect_image(image);
    if (inspected.ok()) continue;
    if (inspected.status().code() != StatusCode::kNotFound) {
      return inspected.status().WithContext("checking image " + image);
    }
    missing.push_back(image);
  }
  return missing;
}

Status DockerRuntime::PullImage(const std::string& image, const DockerRuntimeOptions& options) {
  R2E_ASSIGN_OR_RETURN(auto client, docker::DockerClient::Connect(ClientOptionsOf(options)));
  return client->pull_image(image);
}

Status DockerRuntime::TagImage(const std::string& source, const std::string& target,
                               const DockerRuntimeOptions& options) {
  // "host:5000/repo:tag": the tag is what follows the last ':' after the
  // last '/'.
  const std::size_t slash = target.rfind('/');
  const std::size_t colon = target.rfind(':');
  const bool has_tag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  const std::string repo = has_tag ? target.substr(0, colon) : target;
  const std::string tag = has_tag ? target.substr(colon + 1) : "latest";
  R2E_ASSIGN_OR_RETURN(auto client, docker::DockerClient::Connect(ClientOptionsOf(options)));
  return client->tag_image(source, repo, tag);
}

Status DockerRuntime::UntagImage(const std::string& image, const DockerRuntimeOptions& options) {
  R2E_ASSIGN_OR_RETURN(auto client, docker::DockerClient::Connect(ClientOptionsOf(options)));
  return client->untag_image(image);
}

Result<std::vector<std::string>> DockerRuntime::OwnContainers(const DockerRuntimeOptions& options) {
  R2E_ASSIGN_OR_RETURN(auto client, docker::DockerClient::Connect(ClientOptionsOf(options)));
  R2E_ASSIGN_OR_RETURN(auto list,
                       client->list_containers({"r2e.managed=1", "r2e.owner.pid=" + std::to_string(::getpid())}));
  std::vector<std::string> ids;
  for (const auto& c : list) ids.push_back(c.value("Id", ""));
  return ids;
}

}  // namespace r2e
