// Built by hand (not by ctest, which only configures this project): links the
// library as a subproject gets it by default and checks that the Kubernetes
// runtime, left out, says how to get it.
#include <iostream>

#include "r2e/config.h"
#include "r2e/runtimes.h"

int main() {
  static_assert(R2E_WITH_KUBE == 0 && R2E_WITH_LLM == 0, "a subproject gets neither by default");
  auto kube = r2e::MakeRuntime("kube", {});
  if (kube.ok() || kube.status().message().find("R2E_WITH_KUBE=ON") == std::string::npos) {
    std::cerr << "kube: " << (kube.ok() ? "made" : kube.status().ToString()) << "\n";
    return 1;
  }
  auto local = r2e::MakeRuntime("local", {});
  if (!local.ok()) {
    std::cerr << "local: " << local.status().ToString() << "\n";
    return 1;
  }
  std::cout << "ok: " << kube.status().ToString() << "\n";
  return 0;
}
