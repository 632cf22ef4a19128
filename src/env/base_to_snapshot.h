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

// What a primed store's differences between its base and a snapshot look
// like as PackScript prints them (decoded): `git diff-tree -r -z
// --no-renames` of the trees of /testbed, kChangesGitMark, the same for the
// trees of /testbed/.git, kChangesListingMark, `comm -z -3` of the two
// sorted listings (entries "<type> <mode> <path>" only in the base, then
// those only in the snapshot after a tab; nothing when the listings are the
// same), kChangesEndMark. Each mark ends with a NUL.
inline constexpr std::string_view kChangesGitMark{"R2E-GIT\0", 8};
inline constexpr std::string_view kChangesListingMark{"R2E-META\0", 9};
inline constexpr std::string_view kChangesEndMark{"R2E-END\0", 8};

// Shell text, run in the new sandbox after its store has the snapshot's
// objects and with the snapshot scripts' prelude (`$T`, `G`), that makes
// /testbed the snapshot's from its base: removes what the snapshot does not
// have, makes its new directories, writes the changed files (from `objects`,
// or from the store for a blob that is not among them), makes its symlinks
// and sets permission bits that differ. Every failing command runs
// `slow "<what>"`, which the caller defines (it then restores with git,
// which starts from any state). std::nullopt when `changes` is not whole or
// holds what this does not write (a submodule, an unknown status): the
// caller restores with git.
std::optional<std::string> BaseToSnapshotPart(std::string_view changes,
                                              const std::vector<LooseObject>& objects);

// `bytes` as a printf format that writes exactly them: printable ASCII as
// itself, the rest (and ', \ and %) as \xHH.
std::string PrintfFormat(std::string_view bytes);

}  // namespace r2e::internal

#endif  // R2E_ENV_BASE_TO_SNAPSHOT_H_
