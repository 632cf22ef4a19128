// The snapshot tests (tests/unit/snapshot_test.cc) on the Kubernetes runtime,
// against the test API server: the scripts run through the pod's exec
// session, forks start new pods and ship the pack over the exec stream.
#include "kube_test_util.h"

namespace r2e::kubetest {
inline KubeRuntimeOptions SnapshotKubeOptions() {
  KubeRuntimeOptions o = TestRuntimeOptions(TestNamespace());
  o.workdir = "/testbed";
  return o;
}
}  // namespace r2e::kubetest

#define R2E_SNAPSHOT_TEST_RUNTIMES "kube"
#define R2E_SNAPSHOT_KUBE_OPTIONS() ::r2e::kubetest::SnapshotKubeOptions()
#define R2E_SNAPSHOT_KUBE_SKIP() R2E_REQUIRE_KUBE()
#include "../unit/snapshot_test.cc"
