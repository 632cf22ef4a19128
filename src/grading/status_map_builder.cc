#include "grading/status_map_builder.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "grading/test_status.h"

namespace r2e::internal {
namespace {

// The byte of `name` at `depth`, or -1 past its end (an ended name sorts first).
int ByteAt(std::string_view name, std::size_t depth) {
  return depth < name.size() ? static_cast<unsigned char>(name[depth]) : -1;
}

}  // namespace

// Multikey quicksort (Bentley and Sedgewick) by name: a partition looks at one
// byte, and the entries that share it go on one byte further, so a common
// prefix is read once per entry rather than once per comparison, as
// std::sort's memcmp does (test ids share long prefixes). An explicit work
// list instead of recursion: a hostile log's names cannot exhaust the stack.
// Equal names end up next to each other, in no particular order.
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
        return x.name.substr(std::min(d, x.name.size())) < y.name.substr(std::min(d, y.name.size()));
      });
      continue;
    }
    const int p0 = ByteAt(a[0].name, r.depth), p1 = ByteAt(a[n / 2].name, r.depth),
              p2 = ByteAt(a[n - 1].name, r.depth);
    const int pivot = std::max(std::min(p0, p1), std::min(std::max(p0, p1), p2));  // the median
    std::size_t lt = 0, i = 0, gt = n;
    while (i < gt) {
      const int c = ByteAt(a[i].name, r.depth);
      if (c < pivot) {
        std::swap(a[lt++], a[i++]);
      } else if (c > pivot) {
        std::swap(a[i], a[--gt]);
      } else {
        ++i;
      }
    }
    work.push_back({r.begin, r.begin + lt, r.depth});
    work.push_back({r.begin + gt, r.end, r.depth});
    // Names that ended here are equal: nothing further to sort among them.
    if (pivot >= 0) work.push_back({r.begin + lt, r.begin + gt, r.depth + 1});
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
