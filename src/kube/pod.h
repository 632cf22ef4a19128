// The pod a KubeRuntime creates, and what a pod's status says about its
// start. Pure functions, unit-tested.
#ifndef R2E_KUBE_POD_H_
#define R2E_KUBE_POD_H_

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/kube_runtime.h"
#include "r2e/status.h"

namespace r2e::kube {

// Who made a pod and until when it may live: its r2e.* labels.
struct PodIdentity {
  std::string name;
  std::string uid;  // random; tells our create from someone else's pod of that name
  std::string task_id;
  std::string owner_host;
  std::string owner_pid;
  std::string owner_start;
  std::time_t expires = 0;
};

// A valid pod name (DNS-1123 subdomain, at most 63 characters so the
// container may carry it too): <prefix>-<image base name>-<suffix>.
std::string PodName(std::string_view prefix, std::string_view image, std::string_view suffix);

// A valid label value from any text (at most 63 of [A-Za-z0-9._-],
// alphanumeric at both ends; "" stays "").
std::string LabelValue(std::string_view text);

// The pod manifest: options (resources, selectors, tolerations, pull
// secrets, service account, extra labels), the identity labels,
// activeDeadlineSeconds, a container named after the pod running `sleep`
// for the lifetime, with env and working directory.
nlohmann::json BuildPodManifest(const KubeRuntimeOptions& options, const std::string& image, const PodIdentity& id,
                                const std::vector<std::pair<std::string, std::string>>& env);

// What a pod's state means for a start that waits for it to run.
struct PodCheck {
  enum State { kPending, kRunning, kFailed } state = kPending;
  Status error;  // for kFailed: which reason, and the server's message
};
// `deleted`: the object was deleted (or is absent).
PodCheck CheckPodStart(const nlohmann::json& pod, bool deleted);

}  // namespace r2e::kube

#endif  // R2E_KUBE_POD_H_
