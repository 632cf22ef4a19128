// kubeconfig files (YAML or JSON, merged as kubectl does): any bytes give a
// KubeConfig or a Status, never a crash. Part 0 is the file, part 1 the
// context to pick; a second file (part 2) checks merging.
#include "fuzz_util.h"
#include "r2e/kube_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = r2e::fuzz::SplitParts(r2e::fuzz::AsView(data, size), 3);
  std::vector<std::string> files = {r2e::fuzz::WriteScratchFile("config", parts[0]).string()};
  if (!parts[2].empty()) files.push_back(r2e::fuzz::WriteScratchFile("config2", parts[2]).string());
  auto loaded = r2e::LoadKubeConfigFiles(files, std::string(parts[1].substr(0, 200)), "");
  if (loaded.ok()) {
    // A loaded configuration always names a server and a namespace.
    R2E_FUZZ_CHECK(!loaded->namespace_name.empty());
  } else {
    (void)loaded.status().ToString();
  }
  return 0;
}
