// Git loose objects read on the host (loose_objects.h).
#include "env/loose_objects.h"

#include <cstdint>
#include <deque>
#include <map>
#include <set>

namespace r2e::internal {

bool IsLooseObjectPath(std::string_view path) {
  if (path.starts_with("./")) path.remove_prefix(2);
  const bool hex = path.find_first_not_of("0123456789abcdef/") == std::string_view::npos;
  return hex && (path.size() == 41 || path.size() == 65) && path[2] == '/' && path.rfind('/') == 2;
}

std::optional<std::string> InflateStored(std::string_view z) {
  // RFC 1950: CMF (deflate, window <= 32K), FLG (no preset dictionary), the
  // header a multiple of 31; then RFC 1951 blocks; then Adler-32.
  if (z.size() < 2) return std::nullopt;
  const auto cmf = static_cast<unsigned char>(z[0]);
  const auto flg = static_cast<unsigned char>(z[1]);
  if ((cmf & 0x0f) != 8 || (cmf >> 4) > 7 || (flg & 0x20) != 0 || ((cmf << 8) | flg) % 31 != 0) {
    return std::nullopt;
  }
  std::string out;
  std::size_t at = 2;
  while (true) {
    // A stored block: BFINAL, BTYPE 00, padding to the byte; LEN and its
    // complement (little-endian); LEN bytes. Each starts on a byte when
    // every block before it was stored.
    if (at + 5 > z.size()) return std::nullopt;
    const auto head = static_cast<unsigned char>(z[at]);
    if (((head >> 1) & 3) != 0) return std::nullopt;  // a compressed block
    const auto byte = [&](std::size_t i) {
      return static_cast<std::uint32_t>(static_cast<unsigned char>(z[i]));
    };
    const std::uint32_t len = byte(at + 1) | (byte(at + 2) << 8);
    const std::uint32_t nlen = byte(at + 3) | (byte(at + 4) << 8);
    if ((len ^ 0xffff) != nlen || at + 5 + len > z.size()) return std::nullopt;
    out.append(z.substr(at + 5, len));
    at += 5 + len;
    if ((head & 1) != 0) break;
  }
  if (z.size() - at != 4) return std::nullopt;  // the checksum, and nothing after it
  return out;
}

std::vector<LooseObject> ReachableLooseObjects(std::vector<LooseObject> objects,
                                               const std::vector<std::string>& roots) {
  std::map<std::string, std::size_t> by_id;  // object id -> index in `objects`
  for (std::size_t i = 0; i < objects.size(); ++i) {
    std::string id = objects[i].first;
    if (id.starts_with("./")) id.erase(0, 2);
    by_id.emplace(id.erase(2, 1), i);
  }
  std::set<std::size_t> keep;
  std::deque<std::string> todo(roots.begin(), roots.end());
  static constexpr char kHex[] = "0123456789abcdef";
  while (!todo.empty()) {
    const std::string id = std::move(todo.front());
    todo.pop_front();
    const auto it = by_id.find(id);
    if (it == by_id.end() || !keep.insert(it->second).second) continue;
    const auto body = InflateStored(objects[it->second].second);
    if (!body) return objects;
    const auto nul = body->find('\0');
    if (nul == std::string::npos) return objects;
    if (!body->starts_with("tree ")) continue;  // blobs, commits, tags: nothing to follow
    // Entries: "<mode> <name>\0" then the raw id (as long as the ids here).
    const std::size_t raw = id.size() / 2;
    std::size_t at = nul + 1;
    while (at < body->size()) {
      const auto end = body->find('\0', at);
      if (end == std::string::npos || end + 1 + raw > body->size()) return objects;
      const bool submodule = body->compare(at, 7, "160000 ") == 0;
      if (!submodule) {
        std::string child;
        for (std::size_t k = 0; k < raw; ++k) {
          const auto b = static_cast<unsigned char>((*body)[end + 1 + k]);
          child += kHex[b >> 4];
          child += kHex[b & 15];
        }
        todo.push_back(std::move(child));
      }
      at = end + 1 + raw;
    }
  }
  std::vector<LooseObject> kept;
  for (const std::size_t i : keep) kept.push_back(std::move(objects[i]));
  return kept;
}

}  // namespace r2e::internal
