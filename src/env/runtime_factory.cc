#include "r2e/repo_env.h"

namespace r2e {

Result<std::unique_ptr<Runtime>> MakeRuntime(std::string_view name, const RepoEnvOptions& options) {
  if (name == "local" || name.empty()) {
    return std::unique_ptr<Runtime>(std::make_unique<LocalRuntime>(options.local));
  }
  if (name == "docker") {
    return std::unique_ptr<Runtime>(std::make_unique<DockerRuntime>(options.docker));
  }
  if (name == "kube") {
    return std::unique_ptr<Runtime>(std::make_unique<KubeRuntime>(options.kube));
  }
  return Status::InvalidArgument("unknown runtime `" + std::string(name) +
                                 "`; valid runtimes: local, docker, kube");
}

}  // namespace r2e
