#include "grading/status_map_builder.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <cstdint>
#include <functional>
#include <utility>

#include "grading/test_status.h"

namespace r2e::internal {
namespace {

// Eight bytes of `name` from `depth`, big-endian (zeros past its end), and how
// many of them it has: ordered as the names' bytes are, a name that ends
// sorting before any longer one.
struct Chunk {
  std::uint64_t bytes;
  unsigned length;  // 0 to 8
  friend bool operator<(const Chunk& a, const Chunk& b) {
    return a.bytes < b.bytes || (a.bytes == b.bytes && a.length < b.length);
  }
  friend bool operator==(const Chunk& a, const Chunk& b) {
    return a.bytes == b.bytes && a.length == b.length;
  }
};

Chunk ChunkAt(std::string_view name, std::size_t depth) {
  if (depth + 8 <= name.size()) {  // the usual case: one load
    std::uint64_t word;
    std::memcpy(&word, name.data() + depth, 8);
    if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
    return {word, 8};
  }
  Chunk c{0, 0};
  const std::size_t n = depth < name.size() ? name.size() - depth : 0;
  for (std::size_t i = 0; i < n; ++i) {
    c.bytes |= static_cast<std::uint64_t>(static_cast<unsigned char>(name[depth + i]))
               << (56 - 8 * i);
  }
  c.length = static_cast<unsigned>(n);
  return c;
}

}  // namespace

// Multikey quicksort (Bentley and Sedgewick) by name, eight bytes at a time:
// a partition looks at one eight-byte chunk, and the entries that share it go
// on to the next, so a common prefix is read once per entry rather than once
// per comparison, as std::sort's memcmp does (test ids share long prefixes).
// An explicit work list instead of recursion: a hostile log's names cannot
// exhaust the stack. Equal names end up next to each other, in no particular
// order.
void StatusMapBuilder::SortByName() {
  struct Range {
    std::size_t begin, end, depth;
  };
  std::vector<Range> work = {{0, entries_.size(), 0}};
  while (!work.empty()) {
    const Range r = work.back();
    work.pop_back();
    Entry* a = entries_.data() + r.begin;
    const std::size_t n = r.end - r.begin;
    if (n < 2) continue;
    if (n < 12) {
      std::sort(a, a + n, [d = r.depth](const Entry& x, const Entry& y) {
        return x.name.substr(std::min(d, x.name.size())) <
               y.name.substr(std::min(d, y.name.size()));
      });
      continue;
    }
    const Chunk c0 = ChunkAt(a[0].name, r.depth), c1 = ChunkAt(a[n / 2].name, r.depth),
                c2 = ChunkAt(a[n - 1].name, r.depth);
    const Chunk pivot =
        c0 < c1 ? (c1 < c2 ? c1 : (c0 < c2 ? c2 : c0)) : (c0 < c2 ? c0 : (c1 < c2 ? c2 : c1));
    std::size_t lt = 0, i = 0, gt = n;
    while (i < gt) {
      const Chunk c = ChunkAt(a[i].name, r.depth);
      if (c < pivot) {
        std::swap(a[lt++], a[i++]);
      } else if (pivot < c) {
        std::swap(a[i], a[--gt]);
      } else {
        ++i;
      }
    }
    work.push_back({r.begin, r.begin + lt, r.depth});
    work.push_back({r.begin + gt, r.end, r.depth});
    // Names that ended within the chunk are equal: nothing further to sort.
    if (pivot.length == 8) work.push_back({r.begin + lt, r.begin + gt, r.depth + 8});
  }
}

void StatusMapBuilder::Add(std::string_view name, std::string_view status) {
  if (!InLog(name)) name = owned_.emplace_back(name);
  entries_.push_back({name, Intern(status), entries_.size()});
}

void StatusMapBuilder::Add(std::string&& name, std::string_view status) {
  const std::string_view kept = owned_.emplace_back(std::move(name));
  entries_.push_back({kept, Intern(status), entries_.size()});
}

StatusMap StatusMapBuilder::Build() {
  SortByName();
  StatusMap map;
  for (std::size_t i = 0; i < entries_.size();) {
    // A run of one name: its last status in the log wins.
    std::size_t last = i, j = i + 1;
    for (; j < entries_.size() && entries_[j].name == entries_[i].name; ++j) {
      if (entries_[j].seq > entries_[last].seq) last = j;
    }
    map.emplace_hint(map.end(), std::string(entries_[i].name), std::string(entries_[last].status));
    i = j;
  }
  return map;
}

bool StatusMapBuilder::InLog(std::string_view s) const {
  const std::less<const char*> before;
  return !before(s.data(), log_.data()) && !before(log_.data() + log_.size(), s.data() + s.size());
}

// Statuses are nearly always one of the five; others ("ERROR:", a first
// token that merely starts with a status) are copied.
std::string_view StatusMapBuilder::Intern(std::string_view status) {
  for (std::string_view known : kTestStatuses) {
    if (known == status) return known;
  }
  return owned_.emplace_back(status);
}

}  // namespace r2e::internal
