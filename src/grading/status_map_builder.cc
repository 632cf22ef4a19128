#include "grading/status_map_builder.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "grading/test_status.h"

namespace r2e::internal {

void StatusMapBuilder::Add(std::string_view name, std::string_view status) {
  if (!InLog(name)) name = owned_.emplace_back(name);
  entries_.push_back({name, Intern(status), entries_.size()});
}

void StatusMapBuilder::Add(std::string&& name, std::string_view status) {
  const std::string_view kept = owned_.emplace_back(std::move(name));
  entries_.push_back({kept, Intern(status), entries_.size()});
}

StatusMap StatusMapBuilder::Build() {
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    const int c = a.name.compare(b.name);
    return c < 0 || (c == 0 && a.seq < b.seq);
  });
  StatusMap map;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (i + 1 < entries_.size() && entries_[i + 1].name == entries_[i].name) continue;
    map.emplace_hint(map.end(), std::string(entries_[i].name), std::string(entries_[i].status));
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
