// The pod manifest KubeRuntime creates and how a pod's status is read while
// waiting for it to run.
#include <gtest/gtest.h>

#include <regex>

#include "kube/pod.h"

namespace r2e::kube {
namespace {

using Json = nlohmann::json;

TEST(KubePod, NamesAreValidDnsLabels) {
  const std::regex dns("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  for (const std::string& image : std::vector<std::string>{"r2e-demo/textstats:latest", "registry:5000/Org/My_Image@sha256:abc",
                                  "UPPER", "", std::string(200, 'x'), "---"}) {
    std::string n = PodName("r2e", image, "a1b2c3d4");
    EXPECT_LE(n.size(), 63u) << n;
    EXPECT_TRUE(std::regex_match(n, dns)) << n;
    EXPECT_EQ(n.substr(n.size() - 9), "-a1b2c3d4");
  }
  EXPECT_EQ(PodName("r2e", "r2e-demo/textstats:latest", "ff"), "r2e-textstats-ff");
}

TEST(KubePod, LabelValues) {
  EXPECT_EQ(LabelValue("textstats__textstats-1"), "textstats__textstats-1");
  EXPECT_EQ(LabelValue("org/repo#12"), "org_repo_12");
  EXPECT_EQ(LabelValue("-x-"), "x");
  EXPECT_EQ(LabelValue(std::string(100, 'a')).size(), 63u);
  EXPECT_EQ(LabelValue(""), "");
}

TEST(KubePod, ManifestCarriesOptionsLabelsAndLifetime) {
  KubeRuntimeOptions o;
  o.cpu_limit = "2";
  o.memory_limit = "2Gi";
  o.node_selector = {{"pool", "sandbox"}};
  o.image_pull_secrets = {"regcred"};
  o.service_account = "runner";
  o.labels = {{"team", "rl"}};
  o.max_lifetime = std::chrono::seconds(600);
  o.workdir = "/testbed";
  PodIdentity id{"r2e-x-1", "uid123", "org/repo#1", "host", "42", "999", 1700000000};
  Json m = BuildPodManifest(o, "img:1", id, {{"A", "1"}});
  EXPECT_EQ(m["metadata"]["name"], "r2e-x-1");
  const Json& labels = m["metadata"]["labels"];
  EXPECT_EQ(labels["r2e.managed"], "1");
  EXPECT_EQ(labels["r2e.uid"], "uid123");
  EXPECT_EQ(labels["r2e.owner.pid"], "42");
  EXPECT_EQ(labels["r2e.task"], "org_repo_1");
  EXPECT_EQ(labels["r2e.expires"], "1700000000");
  EXPECT_EQ(labels["team"], "rl");
  EXPECT_EQ(m["metadata"]["annotations"]["r2e.task"], "org/repo#1");
  const Json& spec = m["spec"];
  EXPECT_EQ(spec["activeDeadlineSeconds"], 600);
  EXPECT_EQ(spec["restartPolicy"], "Never");
  EXPECT_EQ(spec["nodeSelector"]["pool"], "sandbox");
  EXPECT_EQ(spec["imagePullSecrets"][0]["name"], "regcred");
  EXPECT_EQ(spec["serviceAccountName"], "runner");
  EXPECT_EQ(spec["tolerations"][0]["key"], "node.kubernetes.io/disk-pressure");
  EXPECT_EQ(spec["tolerations"][0]["tolerationSeconds"], 10800);
  const Json& c = spec["containers"][0];
  EXPECT_EQ(c["name"], "r2e-x-1");
  EXPECT_EQ(c["image"], "img:1");
  EXPECT_EQ(c["workingDir"], "/testbed");
  EXPECT_EQ(c["command"], Json(internal::SandboxMainArgv(std::chrono::seconds(600))));
  EXPECT_EQ(c["command"].back(), "600");
  EXPECT_EQ(c["env"][0], Json({{"name", "A"}, {"value", "1"}}));
  EXPECT_EQ(c["resources"]["requests"]["cpu"], "1");
  EXPECT_EQ(c["resources"]["requests"]["memory"], "1Gi");
  EXPECT_EQ(c["resources"]["limits"]["memory"], "2Gi");

  KubeRuntimeOptions bare;
  bare.cpu_request.clear();
  bare.memory_request.clear();
  bare.tolerations.clear();
  Json b = BuildPodManifest(bare, "img", id, {});
  EXPECT_FALSE(b["spec"]["containers"][0].contains("resources"));
  EXPECT_FALSE(b["spec"].contains("tolerations"));
  EXPECT_FALSE(b["spec"].contains("nodeSelector"));
  EXPECT_EQ(b["spec"]["automountServiceAccountToken"], false);
}

Json Pod(const std::string& phase, Json container_state = nullptr, Json conditions = nullptr) {
  Json p = {{"metadata", {{"name", "p1"}}}, {"status", {{"phase", phase}}}};
  if (!container_state.is_null()) p["status"]["containerStatuses"] = {{{"image", "img:x"}, {"state", container_state}}};
  if (!conditions.is_null()) p["status"]["conditions"] = conditions;
  return p;
}

TEST(KubePod, StartStates) {
  EXPECT_EQ(CheckPodStart(Pod("Pending"), false).state, PodCheck::kPending);
  EXPECT_EQ(CheckPodStart(Json::object(), false).state, PodCheck::kPending);
  EXPECT_EQ(CheckPodStart(Pod("Running", {{"running", {{"startedAt", "x"}}}}), false).state, PodCheck::kRunning);
  EXPECT_EQ(CheckPodStart(Pod("Running", {{"waiting", {{"reason", "ContainerCreating"}}}}), false).state,
            PodCheck::kPending);

  struct Case {
    const char* reason;
    StatusCode code;
  };
  for (const Case& c : {Case{"ErrImagePull", StatusCode::kNotFound}, Case{"ImagePullBackOff", StatusCode::kNotFound},
                        Case{"InvalidImageName", StatusCode::kInvalidArgument},
                        Case{"CreateContainerConfigError", StatusCode::kInvalidArgument},
                        Case{"CrashLoopBackOff", StatusCode::kFailedPrecondition}}) {
    PodCheck r = CheckPodStart(
        Pod("Pending", {{"waiting", {{"reason", c.reason}, {"message", "details here"}}}}), false);
    EXPECT_EQ(r.state, PodCheck::kFailed) << c.reason;
    EXPECT_EQ(r.error.code(), c.code) << c.reason;
    EXPECT_NE(r.error.message().find(c.reason), std::string::npos) << r.error.message();
    EXPECT_NE(r.error.message().find("details here"), std::string::npos) << r.error.message();
  }
  PodCheck u = CheckPodStart(Pod("Pending", nullptr,
                                 {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"},
                                   {"message", "0/3 nodes are available"}}}),
                             false);
  EXPECT_EQ(u.state, PodCheck::kFailed);
  EXPECT_NE(u.error.message().find("Unschedulable"), std::string::npos);
  EXPECT_NE(u.error.message().find("0/3 nodes"), std::string::npos);

  for (const char* phase : {"Failed", "Succeeded", "Unknown"}) {
    PodCheck f = CheckPodStart(Pod(phase), false);
    EXPECT_EQ(f.state, PodCheck::kFailed) << phase;
    EXPECT_NE(f.error.message().find(phase), std::string::npos);
  }
  EXPECT_EQ(CheckPodStart(Json(), true).state, PodCheck::kFailed);
  Json deleting = Pod("Running", {{"running", Json::object()}});
  deleting["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  EXPECT_EQ(CheckPodStart(deleting, false).state, PodCheck::kFailed);
}

}  // namespace
}  // namespace r2e::kube
