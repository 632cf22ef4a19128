// Git loose objects read on the host (loose_objects.h).
#include "env/loose_objects.h"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/crc.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <set>

namespace r2e::internal {
namespace {

// `bytes` as lowercase hex (object ids, the pack's name).
std::string ToHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    out += kHex[static_cast<unsigned char>(c) >> 4];
    out += kHex[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

}  // namespace

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
      if (!submodule) todo.push_back(ToHex(std::string_view(*body).substr(end + 1, raw)));
      at = end + 1 + raw;
    }
  }
  std::vector<LooseObject> kept;
  for (const std::size_t i : keep) kept.push_back(std::move(objects[i]));
  return kept;
}

namespace {

void PutBigEndian32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

std::string Sha1(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &n, EVP_sha1(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), n);
}

}  // namespace

std::string ZlibStored(std::string_view data) {
  std::string out("\x78\x01", 2);
  std::size_t at = 0;
  do {
    const std::size_t n = std::min<std::size_t>(data.size() - at, 65535);
    const bool last = at + n == data.size();
    out += static_cast<char>(last ? 1 : 0);
    out += static_cast<char>(n & 0xff);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(~n & 0xff);
    out += static_cast<char>((~n >> 8) & 0xff);
    out.append(data.substr(at, n));
    at += n;
  } while (at < data.size());
  std::uint32_t a = 1, b = 0;  // Adler-32
  for (const char c : data) {
    a = (a + static_cast<unsigned char>(c)) % 65521;
    b = (b + a) % 65521;
  }
  PutBigEndian32(out, (b << 16) | a);
  return out;
}

std::optional<PackFiles> PackLooseObjects(const std::vector<LooseObject>& objects) {
  struct Entry {
    std::string raw_id;  // 20 bytes
    std::uint32_t crc = 0;
    std::uint32_t offset = 0;
  };
  std::vector<Entry> entries;
  std::string pack("PACK", 4);
  PutBigEndian32(pack, 2);
  PutBigEndian32(pack, static_cast<std::uint32_t>(objects.size()));
  for (const auto& [path, file] : objects) {
    std::string id = path;
    if (id.starts_with("./")) id.erase(0, 2);
    if (id.size() != 41) return std::nullopt;  // not SHA-1
    id.erase(2, 1);
    if (id.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
    const auto body = InflateStored(file);
    if (!body) return std::nullopt;
    // "<type> <size>\0<data>": the pack keeps the type and the data.
    const auto space = body->find(' ');
    const auto nul = body->find('\0');
    if (space == std::string::npos || nul == std::string::npos || nul < space) return std::nullopt;
    const std::string type = body->substr(0, space);
    const int code = type == "commit" ? 1
                     : type == "tree" ? 2
                     : type == "blob" ? 3
                     : type == "tag"  ? 4
                                      : 0;
    if (code == 0) return std::nullopt;
    const std::string_view data = std::string_view(*body).substr(nul + 1);
    if (body->substr(space + 1, nul - space - 1) != std::to_string(data.size()))
      return std::nullopt;
    if (pack.size() > 0x7fffffffU) return std::nullopt;  // 31-bit offsets only
    Entry e;
    for (std::size_t i = 0; i < id.size(); i += 2) {
      const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
      e.raw_id += static_cast<char>((nibble(id[i]) << 4) | nibble(id[i + 1]));
    }
    e.offset = static_cast<std::uint32_t>(pack.size());
    // Type and size: 3 bits of type, then the size 4 bits and 7 bits at a time.
    std::string head;
    std::uint64_t size = data.size();
    unsigned char byte = static_cast<unsigned char>((code << 4) | (size & 15));
    size >>= 4;
    while (size != 0) {
      head += static_cast<char>(byte | 0x80);
      byte = static_cast<unsigned char>(size & 0x7f);
      size >>= 7;
    }
    head += static_cast<char>(byte);
    const std::string entry = head + ZlibStored(data);
    boost::crc_32_type crc;
    crc.process_bytes(entry.data(), entry.size());
    e.crc = crc.checksum();
    pack += entry;
    entries.push_back(std::move(e));
  }
  const std::string pack_sum = Sha1(pack);
  pack += pack_sum;
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.raw_id < b.raw_id; });
  for (std::size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].raw_id == entries[i - 1].raw_id) return std::nullopt;  // one object twice
  }
  std::string idx("\xfftOc", 4);
  PutBigEndian32(idx, 2);
  std::size_t next = 0;  // fan-out: how many ids start with a byte up to `first`
  for (int first = 0; first < 256; ++first) {
    while (next < entries.size() && static_cast<unsigned char>(entries[next].raw_id[0]) == first)
      ++next;
    PutBigEndian32(idx, static_cast<std::uint32_t>(next));
  }
  for (const Entry& e : entries) idx += e.raw_id;
  for (const Entry& e : entries) PutBigEndian32(idx, e.crc);
  for (const Entry& e : entries) PutBigEndian32(idx, e.offset);
  idx += pack_sum;
  idx += Sha1(idx);
  return PackFiles{"pack-" + ToHex(pack_sum), std::move(pack), std::move(idx)};
}

}  // namespace r2e::internal
