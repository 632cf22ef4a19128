// A fork's checkout without git: the shell text that takes a sandbox whose
// /testbed is still its primed base to a snapshot of a sandbox with the same
// base, built on the host from what the original's store said changed since
// that base (snapshot_scripts.h, PackScript) and the snapshot's own objects.
// It writes the changed files with shell builtins and runs at most one
// rm, one mkdir and one chmod per mode; a restore with git starts about
// ten processes, which cost milliseconds each on a busy machine.
#ifndef R2E_ENV_BASE_TO_SNAPSHOT_H_
#define R2E_ENV_BASE_TO_SNAPSHOT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "env/loose_objects.h"

namespace r2e::internal {

// A snapshot's three objects (as PackedSnapshot::trees and a primed
// store's base list them): the tree of /testbed, the tree of /testbed/.git
// and the listing (`find -printf '%y %m %P\0'`: type, permission bits, path).
using SnapshotObjectIds = std::vector<std::string>;

// One file whose entry differs between the base's trees and the snapshot's.
struct TreeChange {
  std::string mode;  // the snapshot's ("100644", "100755", "120000", ...)
  std::string id;    // the snapshot's blob
  char status = 0;   // git's: A, M, T or D
  std::string path;  // relative to /testbed
};

// What PackScript printed of the changes since the base, read: `git
// diff-tree --stdin -r -z --no-renames` of "<base tree> <tree>" and "<base
// git tree> <git tree>" (each part after its pair's line, which git may
// leave out when the part is empty), then optionally kBaseListingMark and
// the base's listing, or kListingDiffMark and `comm -z -3` of the two
// sorted listings (entries only in the base's, then after a tab those only
// in the snapshot's), then kChangesEndMark. std::nullopt when it is not
// that, or not whole.
enum class ListingPart { kNone, kBaseListing, kListingDiff };
inline constexpr std::string_view kBaseListingMark{"R2E-META\0", 9};
inline constexpr std::string_view kListingDiffMark{"R2E-META-DIFF\0", 14};
inline constexpr std::string_view kChangesEndMark{"R2E-END\0", 8};
struct BaseChanges {
  std::vector<TreeChange> files;
  std::optional<std::string> base_listing;
  std::optional<std::string> listing_diff;
};
std::optional<BaseChanges> ParseBaseChanges(std::string_view printed, const SnapshotObjectIds& base,
                                            const SnapshotObjectIds& snapshot);

// Shell text, run in the new sandbox after its store has the snapshot's
// objects and with the snapshot scripts' prelude (`$T`, `G`), that makes
// /testbed the snapshot's from its base: removes what the snapshot does not
// have, makes its new directories, writes the changed files (from `objects`,
// or from the store for a blob that is not among them), makes its symlinks
// and sets permission bits that differ. `base_listing`: the base's listing
// (needed only when the snapshot's differs and `changes` has no
// listing_diff; std::nullopt: not known); the snapshot's is read from
// `objects`. Every failing command runs `slow "<what>"`, which the caller defines
// (it then restores with git, which starts from any state). std::nullopt
// when it cannot be written this way (a submodule, an unknown status, a
// listing missing): the caller restores with git.
std::optional<std::string> BaseToSnapshotPart(const BaseChanges& changes,
                                              std::optional<std::string_view> base_listing,
                                              const SnapshotObjectIds& base,
                                              const SnapshotObjectIds& snapshot,
                                              const std::vector<LooseObject>& objects);

// Blobs larger than this are written from the store (`git cat-file`), not
// as printf text in the script.
inline constexpr std::size_t kPrintfBytes = 64 * 1024;

// `bytes` as a printf format that writes exactly them: printable ASCII as
// itself, the rest (and ', \ and %) as \xHH.
std::string PrintfFormat(std::string_view bytes);

}  // namespace r2e::internal

#endif  // R2E_ENV_BASE_TO_SNAPSHOT_H_
