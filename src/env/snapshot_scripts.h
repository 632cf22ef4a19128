// The scripts behind RepoEnv's snapshots (include/r2e/snapshot.h): each is
// one Runtime::exec() in the sandbox, over a git object store of r2e's own
// outside /testbed. RepoEnv (snapshots.cc) and the task warm pools (which
// prime the store of the sandboxes they prepare) run them.
#ifndef R2E_ENV_SNAPSHOT_SCRIPTS_H_
#define R2E_ENV_SNAPSHOT_SCRIPTS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "env/base_to_snapshot.h"
#include "env/loose_objects.h"
#include "r2e/runtime.h"
#include "r2e/snapshot.h"
#include "r2e/status.h"

namespace r2e::internal {

// The store, as the sandbox's own paths name it.
inline constexpr const char* kSnapshotStore = "/var/tmp/.r2e-snapshots";
// Every script's bound.
inline constexpr auto kSnapshotScriptTimeout = std::chrono::seconds(300);

// Takes snapshot `id`; prints "R2E-SNAPSHOT ok <bytes> <tree> <git tree>
// <listing>", or "R2E-SNAPSHOT-TOO-LARGE <bytes>" (nothing written) when
// /testbed holds more than `budget` bytes.
std::string SnapshotScript(const Runtime& runtime, SnapshotId id, std::uint64_t budget);

// Primes a new store with the sandbox's state as it is now, its base: the
// snapshot's refs are base-wt, base-git and base-meta, and its objects move
// to base-objects, an alternate of the store, so that the store's own
// objects directory holds exactly what was written since. Prints what
// SnapshotScript prints. Forks between two sandboxes with the same base
// ship only that directory (PackScript with `thin`).
std::string PrimeScript(const Runtime& runtime, std::uint64_t budget);

// Restores snapshot `id` after the shell text `first` (a fork's unpacking):
// kills the processes of episode `token`, and with `end_session` ends the
// session shell (one that keeps state between commands kept the episode's).
std::string RestoreSnapshotScript(const Runtime& runtime, SnapshotId id, const std::string& token,
                                  bool end_session, const std::string& first);

// Removes the refs named by `refs` (shell words, globs allowed, relative to
// the store's refs/snapshots/) and prunes what nothing else refers to.
std::string DropScript(const Runtime& runtime, const std::string& refs);
// DropScript's `refs` for one snapshot, and for every numbered one (a primed
// store's base stays).
std::string SnapshotRefs(SnapshotId id);
inline constexpr const char* kNumberedSnapshotRefs = "[0-9]*";

// Fork, in the original sandbox: snapshot `id`'s objects in the store's
// fork.pack (kForkPackPath). Whole: its trees and everything under them, as
// a git pack. `thin`: the primed store's own objects directory (everything
// written since its base), as a tar; only for a sandbox whose base is the
// same. Prints "R2E-SNAPSHOT ok <three tree ids> <size>", then the file in
// base64 when it is at most kInlinePackBytes (it then travels in the
// scripts' text, not over the runtime's file transfer), and after it, for a
// thin pack, "R2E-CHANGES " and what changed since the base
// (base_to_snapshot.h) in base64, when that is at most kInlineChangesBytes.
// `listing`: what the changes carry of the listings: nothing (the host has
// the base's), the base's (which the host keeps for the base's next forks),
// or their difference (a base whose listing is too large to print).
std::string PackScript(const Runtime& runtime, SnapshotId id, bool thin,
                       ListingPart listing = ListingPart::kNone);
// 4 MiB: the pack script's exec keeps room for it (kPackOutputRoom), and
// the session's output costs far less than a file transfer (on docker 50 to
// 100 ms each way). A repository of thousands of files changes its
// .git/index (hundreds of KB) with every snapshot.
inline constexpr std::size_t kInlinePackBytes = std::size_t{4} << 20;
// The changes since the base, in base64, printed after the pack when they
// take at most this (the base's listing included, when it is asked for).
inline constexpr std::size_t kInlineChangesBytes = std::size_t{1} << 20;
// What the pack script's exec keeps beyond the session's output bound
// (ExecOptions::trailer_bytes): the pack and the changes in base64.
inline constexpr std::size_t kPackOutputRoom =
    kInlinePackBytes / 3 * 4 + 8 + kInlineChangesBytes + 4096;
// The file a pack goes through when it is larger, in the sandbox's own paths.
std::string ForkPackPath();

// What PackScript printed: the three tree ids, checked (they come from a
// sandbox the agent controls, and go into a script), and the file in base64
// when it came inline and whole.
struct PackedSnapshot {
  std::vector<std::string> trees;
  std::string inline_pack;
  // A thin pack of loose objects only, read on the host (TakeLooseObjects):
  // each object's path under objects/ and its file's bytes.
  std::optional<std::vector<LooseObject>> loose;
  // What changed since the base as printed, decoded; "" when not printed.
  std::string changes_printed;
  // The same read (ParseBaseChanges), by whoever knows the base.
  std::optional<BaseChanges> changes;
  // PrepareForkCheckout's parts.
  std::string unpack_part;
  std::optional<std::string> checkout_part;
};
Result<PackedSnapshot> ParsePacked(const ExecResult& r);
// Reads a thin, inline pack on the host: when it holds loose objects only,
// fills `packed.loose` with those the snapshot's trees reach (and clears
// inline_pack), so that UnpackPart writes them with shell builtins, starting
// no process in the new sandbox.
void TakeLooseObjects(PackedSnapshot& packed);

// Fork, in the new sandbox: shell text for RestoreSnapshotScript's `first`.
// Takes in what PackScript made (`packed.inline_pack`, else the file uploaded
// to ForkPackPath()) and writes snapshot `id`'s refs.
std::string UnpackPart(SnapshotId id, const PackedSnapshot& packed, bool thin);

// Fork, in a new sandbox whose /testbed is still the base that of the
// snapshot's store is (nothing ran there since it was primed): the whole
// script that takes in a thin pack of loose objects, writes snapshot `id`'s
// refs and checks the snapshot out with BaseToSnapshotPart, no git. Prints
// "R2E-SNAPSHOT ok", or kForkCheckoutSlow when the checkout failed part way
// (the objects and refs are in; a restore then finishes with git).
// PrepareForkCheckout writes the parts that do not depend on the new
// sandbox into `packed` once, for every fork of the pack (`id`: the
// snapshot's id there; `base`: the base's objects; `base_listing`: its
// listing). ForkCheckoutScript: std::nullopt when they could not be written
// (no loose objects or no changes read, or BaseToSnapshotPart cannot), or
// when `then` is given for a runtime whose scripts do not run as they are (a
// bash of their own runs them). `then`: shell text run after a checkout that
// succeeded, in the environment the command started with (the new
// environment's tool server start: one exec less).
void PrepareForkCheckout(PackedSnapshot& packed, SnapshotId id,
                         std::optional<std::string_view> base_listing,
                         const std::vector<std::string>& base);
std::optional<std::string> ForkCheckoutScript(const Runtime& runtime, const PackedSnapshot& packed,
                                              const std::string& then = "");
inline constexpr const char* kForkCheckoutSlow = "R2E-SNAPSHOT ok slow";

// A script's result: OK when it printed its success line, else
// FailedPrecondition saying what failed (`what`: the operation).
Result<ExecResult> CheckSnapshotScript(ExecResult r, const char* what);

// Runs PrimeScript. The base's three tree ids, space-separated; "" when the
// store could not be primed (no /testbed, over `budget`, no git): snapshots
// then work as in an unprimed store. An error only when the runtime fails.
Result<std::string> PrimeSnapshotStore(Runtime& runtime, std::uint64_t budget);

}  // namespace r2e::internal

#endif  // R2E_ENV_SNAPSHOT_SCRIPTS_H_
