// What changed since a primed store's base comes from the original sandbox,
// which the agent controls (a fork reads it on the host: ParseBaseChanges,
// BaseToSnapshotPart). The input is split at "\n--\n": the changes as
// printed, then the base's listing, then the snapshot's listing (stored as
// an object of the snapshot's). Invariants: nothing crashes, hangs or reads
// out of bounds; a checkout, when one is written, starts by setting the umask.
#include <string>
#include <vector>

#include "env/base_to_snapshot.h"
#include "env/loose_objects.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = r2e::fuzz::AsView(data, size);
  std::vector<std::string> parts;
  for (int i = 0; i < 3; ++i) {
    const std::size_t cut = in.find("\n--\n");
    parts.emplace_back(in.substr(0, cut));
    if (cut == std::string_view::npos) {
      in = {};
    } else {
      in.remove_prefix(cut + 4);
    }
  }
  const std::vector<std::string> base = {std::string(40, '1'), std::string(40, '2'),
                                         std::string(40, '3')};
  const std::string listing_id(40, '6');
  const std::vector<std::string> snapshot = {std::string(40, '4'), std::string(40, '5'),
                                             listing_id};
  const std::vector<r2e::internal::LooseObject> objects = {
      {listing_id.substr(0, 2) + "/" + listing_id.substr(2),
       r2e::internal::ZlibStored("blob " + std::to_string(parts[2].size()) + std::string(1, '\0') +
                                 parts[2])}};
  const auto changes = r2e::internal::ParseBaseChanges(parts[0], base, snapshot);
  if (!changes) return 0;
  const auto script =
      r2e::internal::BaseToSnapshotPart(*changes, parts[1], base, snapshot, objects);
  if (!script) return 0;
  R2E_FUZZ_CHECK(script->starts_with("umask 022\n"));
  return 0;
}
