// Loose objects come from the original sandbox's snapshot store, which the
// agent can write (a fork reads them on the host: ReachableLooseObjects,
// PackLooseObjects). The input is split at "\n--\n" into objects named
// 00/00..00, 00/00..01, ... (so a tree may point at the next one). Invariants:
// the reachable objects are some of the input's; a pack, when one is made,
// holds every object and has the layout git reads (its header and count, an
// index of the size version 2 gives that count).
#include <string>
#include <vector>

#include "env/loose_objects.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using r2e::internal::LooseObject;
  std::string_view in = r2e::fuzz::AsView(data, size);
  std::vector<LooseObject> objects;
  std::vector<std::string> roots;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; objects.size() < 64; ++i) {
    const std::size_t cut = in.find("\n--\n");
    std::string id(40, '0');
    for (std::size_t n = i, k = 39; n != 0; n >>= 4, --k) id[k] = kHex[n & 15];
    objects.emplace_back(id.substr(0, 2) + "/" + id.substr(2), std::string(in.substr(0, cut)));
    if (i == 0) roots.push_back(id);
    (void)r2e::internal::InflateStored(objects.back().second);
    if (cut == std::string_view::npos) break;
    in.remove_prefix(cut + 4);
  }
  const auto reached = r2e::internal::ReachableLooseObjects(objects, roots);
  R2E_FUZZ_CHECK(reached.size() <= objects.size());
  const auto pack = r2e::internal::PackLooseObjects(objects);
  if (pack) {
    R2E_FUZZ_CHECK(pack->pack.size() >= 12 + 20 && pack->pack.compare(0, 4, "PACK") == 0);
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(pack->pack[i]); };
    const std::size_t count = (byte(8) << 24) | (byte(9) << 16) | (byte(10) << 8) | byte(11);
    R2E_FUZZ_CHECK(count == objects.size());
    R2E_FUZZ_CHECK(pack->idx.size() == 8 + 256 * 4 + count * (20 + 4 + 4) + 20 + 20);
    R2E_FUZZ_CHECK(pack->name.size() == 5 + 40);
  }
  return 0;
}
