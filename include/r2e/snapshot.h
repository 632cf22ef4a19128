// Snapshots of an episode: RepoEnv::snapshot(), restore(), fork(), drop().
//
// What is captured (SnapshotScope::kRepository, the default): the
// whole of /testbed, byte for byte: tracked, untracked and ignored files,
// symlinks (their targets), every file's and directory's permission bits,
// empty directories, and the repository's own git state (/testbed/.git:
// HEAD, index, refs, objects, config), together with the episode's step
// count and whether it was done. Not captured: anything outside /testbed
// (/root, /tmp, installed packages), owners and timestamps, special files
// (fifos, sockets), the contents of a nested repository's own .git (a
// directory under /testbed holding a .git is recorded as git records a
// submodule), and running processes: restore() kills the processes the
// episode's steps started (marked by a variable in their environment,
// R2E_EPISODE, which is why commands see it); a session that keeps state
// between commands (Runtime::keeps_state) is restarted, as a fast reset does.
//
// SnapshotScope::kSandbox captures every path the sandbox can write, where
// the runtime can (Runtime::checkpoint): on docker the container's whole
// filesystem (a committed image; a restore replaces the container with one
// made from it), on the local runtime under bubblewrap its writable layer
// (on an image with the overlay the whole root, else /testbed, /root, /tmp
// and /var/tmp, and on an image /run and /etc; copied aside and back). Not
// on kube nor on the local runtime without bubblewrap: Unimplemented. Such a
// restore ends every process of the sandbox and keeps the repository
// snapshots' store as it is, so that their ids stay valid.
//
// How: inside the sandbox, in a git object store of r2e's own
// (/var/tmp/.r2e-snapshots, outside the repository; its own index files, so
// that the agent's git commands neither see nor change it): content-
// addressed and incremental, the same on every runtime. A snapshot is three
// refs of that store (refs/snapshots/<id>-wt, -git and -meta: the trees of
// /testbed and /testbed/.git and the listing), which survive the agent's
// `git gc`, `git reflog expire` or `rm -rf .git`. fork() packs the three
// trees' objects (git pack-objects) while the new sandbox is being made, and
// ships the pack in the scripts' own text when it is at most 4 MiB (base64),
// else over the runtime's file transfer. With RepoEnvOptions::prime_snapshots
// each sandbox's store starts from a snapshot of its starting state (its
// base), and a fork between two sandboxes with the same base ships only the
// objects the snapshot reaches beyond it, kept on the host for the
// snapshot's next forks, and the host writes the snapshot's changes since
// the base into the new sandbox with shell builtins, no git
// (docs/architecture.md). The agent can still delete the
// store itself (it runs as root in the sandbox): restore() then fails with
// FailedPrecondition saying so, and reset() still works.
#ifndef R2E_SNAPSHOT_H_
#define R2E_SNAPSHOT_H_

#include <cstdint>

namespace r2e {

// Names a snapshot within one environment (from 1); valid until drop(),
// close() or the next reset(), also across restores (snapshots form a tree).
using SnapshotId = std::int64_t;

enum class SnapshotScope {
  kRepository,  // /testbed and its git state (see above)
  kSandbox,     // every writable path of the sandbox (see above), where the runtime can
};

struct SnapshotInfo {
  SnapshotId id = 0;
  int step = 0;       // RepoEnv::steps() when it was taken
  bool done = false;  // RepoEnv::check_done() then
  // Bytes under /testbed, .git included (`du -sb`: apparent sizes of files
  // and directories) when it was taken; what
  // RepoEnvOptions::snapshot_budget_bytes bounds. 0 for kSandbox.
  std::uint64_t bytes = 0;
  SnapshotScope scope = SnapshotScope::kRepository;
};

}  // namespace r2e

#endif  // R2E_SNAPSHOT_H_
