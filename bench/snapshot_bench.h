// `r2e bench snapshot`: p50/p99 of RepoEnv::snapshot(), restore() and
// fork() after an episode changed a few files, on the demo repository and on
// a generated one (--large-files files, --large-mb MB in all, committed; in
// every sandbox of its task from the start on local and docker, made by the
// episode after its reset on kube), against the baseline a user would otherwise use, measured in the same run:
// a fresh cold reset followed by replaying the episode's changes. Output
// contract: shared/spec/cli.md.
#ifndef R2E_BENCH_SNAPSHOT_BENCH_H_
#define R2E_BENCH_SNAPSHOT_BENCH_H_

#include <ostream>
#include <string>

#include "r2e/status.h"

namespace r2e::bench {

struct SnapshotBenchOptions {
  std::string runtime = "local";  // local, docker or kube
  // --runtime kube: kubeconfig file, context and namespace (empty: defaults).
  std::string kubeconfig, context, kube_namespace;
  int n = 20;                     // snapshot/restore rounds per repository
  int forks = 3;                  // forks per repository (each a new sandbox)
  int large_files = 5000;         // the generated repository's files (0: skip it)
  int large_mb = 50;              // and their total size
};

// Prints one JSON line per repository and operation
//   {"bench": "snapshot", "runtime", "repo": "demo"|"large", "op": "snapshot"|"restore"|"fork"|
//    "replay_baseline"|"fork_warm"|"fork_warm_again"|"warm_reset"|"warm_reset_then_restore"|
//    "sandbox_snapshot"|"sandbox_restore", "n", "p50_ms", "p90_ms",
//    "p99_ms", "mean_ms"}
// ("fork": the new sandbox made cold; "fork_warm": the first fork of a new
// snapshot, its sandbox taken from a warm pool whose sandboxes, like the
// original's, have primed snapshot stores (RepoEnvOptions::prime_snapshots);
// "fork_warm_again": the second fork of that snapshot; "warm_reset": a reset
// from that pool; "warm_reset_then_restore": a warm reset and a restore
// timed as one sequence, while the pool refills as it does during a fork)
// then per repository {"bench": "snapshot", "repo", "restore_vs_replay":
// baseline p50 / restore p50, "fork_warm_vs_bound": fork_warm p50 /
// (warm_reset p50 + restore p50), "fork_warm_again_vs_bound",
// "fork_warm_vs_sequence": fork_warm p50 / warm_reset_then_restore p50,
// "fork_warm_again_vs_sequence", "sandbox_restore_vs_restore"}.
Status RunSnapshotBench(const SnapshotBenchOptions& options, std::ostream& out);

}  // namespace r2e::bench

#endif  // R2E_BENCH_SNAPSHOT_BENCH_H_
