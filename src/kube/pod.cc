#include "kube/pod.h"

#include <cctype>

namespace r2e::kube {
namespace {

using Json = nlohmann::json;

std::string Str(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

const Json& Field(const Json& j, const char* key) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it != j.end() ? *it : kNull;
}

}  // namespace

std::string PodName(std::string_view prefix, std::string_view image, std::string_view suffix) {
  std::string base(image);
  if (auto at = base.find('@'); at != std::string::npos) base.resize(at);
  if (auto slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
  if (auto colon = base.find(':'); colon != std::string::npos) base.resize(colon);
  auto clean = [](std::string_view s) {
    std::string out;
    for (char c : s) {
      auto u = static_cast<unsigned char>(c);
      out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
    }
    return out;
  };
  std::string p = clean(prefix);
  std::string b = clean(base);
  const std::size_t room = 63 - std::min<std::size_t>(62, suffix.size() + 1);
  std::string head = p.empty() ? b : (b.empty() ? p : p + "-" + b);
  if (head.size() > room) head.resize(room);
  // Collapse runs of '-' and trim them at the ends.
  std::string out;
  for (char c : head) {
    if (c == '-' && (out.empty() || out.back() == '-')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.empty()) out = "r2e";
  return out + "-" + clean(suffix);
}

std::string LabelValue(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out += (std::isalnum(u) || c == '-' || c == '_' || c == '.') ? c : '_';
    if (out.size() == 63) break;
  }
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.back()))) out.pop_back();
  std::size_t start = 0;
  while (start < out.size() && !std::isalnum(static_cast<unsigned char>(out[start]))) ++start;
  return out.substr(start);
}

Json BuildPodManifest(const KubeRuntimeOptions& o, const std::string& image, const PodIdentity& id,
                      const std::vector<std::pair<std::string, std::string>>& env) {
  Json labels = {
      {"r2e.managed", "1"},
      {"r2e.uid", LabelValue(id.uid)},
      {"r2e.owner.host", LabelValue(id.owner_host)},
      {"r2e.owner.pid", LabelValue(id.owner_pid)},
      {"r2e.owner.start", LabelValue(id.owner_start)},
      {"r2e.task", LabelValue(id.task_id)},
      {"r2e.expires", std::to_string(id.expires)},
  };
  for (const auto& [k, v] : o.labels) labels[k] = v;
  Json annotations = {{"r2e.task", id.task_id}};  // the whole id; labels are clipped
  for (const auto& [k, v] : o.annotations) annotations[k] = v;

  Json env_list = Json::array();
  for (const auto& [k, v] : env) env_list.push_back({{"name", k}, {"value", v}});
  Json resources = Json::object();
  Json requests = Json::object();
  Json limits = Json::object();
  if (!o.cpu_request.empty()) requests["cpu"] = o.cpu_request;
  if (!o.memory_request.empty()) requests["memory"] = o.memory_request;
  if (!o.cpu_limit.empty()) limits["cpu"] = o.cpu_limit;
  if (!o.memory_limit.empty()) limits["memory"] = o.memory_limit;
  if (!requests.empty()) resources["requests"] = requests;
  if (!limits.empty()) resources["limits"] = limits;

  const long long lifetime = std::max<long long>(1, o.max_lifetime.count());
  Json container = {
      {"name", id.name},
      {"image", image},
      {"imagePullPolicy", o.image_pull_policy},
      // The main process lives as long as the pod may; commands run through exec.
      {"command", internal::SandboxMainArgv(std::chrono::seconds(lifetime))},
      {"workingDir", o.workdir},
      {"env", env_list},
      {"stdin", false},
      {"tty", false},
  };
  if (!resources.empty()) container["resources"] = resources;

  Json spec = {
      {"restartPolicy", "Never"},
      {"activeDeadlineSeconds", lifetime},
      {"terminationGracePeriodSeconds", 0},
      {"automountServiceAccountToken", false},
      {"containers", {container}},
  };
  if (!o.node_selector.empty()) spec["nodeSelector"] = o.node_selector;
  if (!o.service_account.empty()) {
    spec["serviceAccountName"] = o.service_account;
    spec["automountServiceAccountToken"] = true;
  }
  if (!o.image_pull_secrets.empty()) {
    Json secrets = Json::array();
    for (const auto& s : o.image_pull_secrets) secrets.push_back({{"name", s}});
    spec["imagePullSecrets"] = secrets;
  }
  if (!o.tolerations.empty()) {
    Json tols = Json::array();
    for (const auto& t : o.tolerations) {
      Json j = {{"operator", t.op}};
      if (!t.key.empty()) j["key"] = t.key;
      if (!t.value.empty()) j["value"] = t.value;
      if (!t.effect.empty()) j["effect"] = t.effect;
      if (t.toleration_seconds) j["tolerationSeconds"] = *t.toleration_seconds;
      tols.push_back(j);
    }
    spec["tolerations"] = tols;
  }
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", id.name}, {"labels", labels}, {"annotations", annotations}}},
      {"spec", spec},
  };
}

PodCheck CheckPodStart(const Json& pod, bool deleted) {
  PodCheck c;
  const std::string name = Str(Field(pod, "metadata"), "name");
  const std::string label = name.empty() ? "the pod" : "pod " + name;
  if (deleted) {
    c.state = PodCheck::kFailed;
    c.error = Status::Unavailable(label + " was deleted before it started running");
    return c;
  }
  const Json& status = Field(pod, "status");
  const std::string phase = Str(status, "phase");
  if (!Field(Field(pod, "metadata"), "deletionTimestamp").is_null()) {
    c.state = PodCheck::kFailed;
    c.error = Status::Unavailable(label + " is being deleted");
    return c;
  }
  // Container states first: they say why a pod stays Pending.
  const Json& statuses = Field(status, "containerStatuses");
  bool running = false;
  if (statuses.is_array()) {
    for (const Json& cs : statuses) {
      const Json& state = Field(cs, "state");
      if (Field(state, "running").is_object()) running = true;
      const Json& waiting = Field(state, "waiting");
      const std::string reason = Str(waiting, "reason");
      const std::string message = Str(waiting, "message");
      const std::string image = Str(cs, "image");
      const std::string detail = reason + (message.empty() ? "" : ": " + message);
      if (reason == "ErrImagePull" || reason == "ImagePullBackOff") {
        c.state = PodCheck::kFailed;
        c.error = Status::NotFound("the image " + image + " of " + label + " cannot be pulled (" + detail + ")");
        return c;
      }
      if (reason == "InvalidImageName") {
        c.state = PodCheck::kFailed;
        c.error = Status::InvalidArgument("the image name " + image + " of " + label + " is invalid (" + detail + ")");
        return c;
      }
      if (reason == "CreateContainerConfigError" || reason == "CreateContainerError") {
        c.state = PodCheck::kFailed;
        c.error = Status::InvalidArgument("the container of " + label + " cannot be created (" + detail + ")");
        return c;
      }
      if (reason == "CrashLoopBackOff") {
        c.state = PodCheck::kFailed;
        c.error = Status::FailedPrecondition("the container of " + label + " keeps crashing (" + detail + ")");
        return c;
      }
    }
  }
  const Json& conditions = Field(status, "conditions");
  if (conditions.is_array()) {
    for (const Json& cond : conditions) {
      if (Str(cond, "type") == "PodScheduled" && Str(cond, "status") == "False" &&
          Str(cond, "reason") == "Unschedulable") {
        c.state = PodCheck::kFailed;
        const std::string m = Str(cond, "message");
        c.error = Status::ResourceExhausted(label + " cannot be scheduled (Unschedulable" + (m.empty() ? "" : ": " + m) +
                                            ")");
        return c;
      }
    }
  }
  if (phase == "Running") {
    if (running || !statuses.is_array()) c.state = PodCheck::kRunning;
    return c;
  }
  if (phase == "Failed" || phase == "Succeeded" || phase == "Unknown") {
    c.state = PodCheck::kFailed;
    std::string why = Str(status, "reason");
    const std::string m = Str(status, "message");
    if (!m.empty()) why += (why.empty() ? "" : ": ") + m;
    c.error = Status::Unavailable(label + " is " + phase + " instead of Running" + (why.empty() ? "" : " (" + why + ")"));
    return c;
  }
  return c;  // Pending, or no status yet
}

}  // namespace r2e::kube
