// Git loose objects read on the host: what a fork of a primed snapshot
// store ships (snapshot_scripts.h). The store writes them uncompressed
// (core.looseCompression=0: zlib "stored" blocks), which is all this reads.
#ifndef R2E_ENV_LOOSE_OBJECTS_H_
#define R2E_ENV_LOOSE_OBJECTS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace r2e::internal {

// A loose object's file: its path under objects/ ("ab/cdef...": two hex
// digits, a slash, the rest of a SHA-1 or SHA-256 id) and its bytes.
using LooseObject = std::pair<std::string, std::string>;

// Whether `path` (as a tar member names it, "./" allowed) is a loose object's.
bool IsLooseObjectPath(std::string_view path);

// The content of a zlib stream made of stored blocks only; std::nullopt for
// anything else (a compressed or damaged stream).
std::optional<std::string> InflateStored(std::string_view zlib);

// `data` as a zlib stream of stored blocks (at most 65535 bytes each), as
// the store writes a loose object's file: InflateStored reads it back.
std::string ZlibStored(std::string_view data);

// Of `objects`, those reachable from `roots` (object ids, hex) without
// passing through an object missing from `objects` (one the receiver
// already has: the base's). Trees are read to follow their entries
// (submodule commits are not followed). When an object cannot be read, all
// of `objects` is returned: sending more is always correct.
std::vector<LooseObject> ReachableLooseObjects(std::vector<LooseObject> objects,
                                               const std::vector<std::string>& roots);

// `objects` as one pack and its index (version 2), the two files git reads
// from objects/pack/ under `name` + ".pack" and `name` + ".idx": a sandbox
// then creates two files instead of one per object (each creation costs
// about half a millisecond on an overlay filesystem). The objects are not
// deltified and their data is stored, not compressed, as the loose ones
// were. std::nullopt when an object is not a readable SHA-1 one (a SHA-256
// repository's): the caller writes the loose objects instead.
struct PackFiles {
  std::string name;  // "pack-<the pack's checksum>"
  std::string pack;
  std::string idx;
};
std::optional<PackFiles> PackLooseObjects(const std::vector<LooseObject>& objects);

}  // namespace r2e::internal

#endif  // R2E_ENV_LOOSE_OBJECTS_H_
