// StatusMapBuilder: a parser's (test name, status) pairs, in log order, made
// into a StatusMap once at the end.
#ifndef R2E_GRADING_STATUS_MAP_BUILDER_H_
#define R2E_GRADING_STATUS_MAP_BUILDER_H_

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "r2e/log_parsers.h"

namespace r2e::internal {

// Sorting once is several times faster than a std::map insertion per line:
// test ids share long prefixes ("tests/pkg/test_mod.py::TestClass::"), so
// each tree comparison is a long memcmp, and a 10 MB log has ~100k ids. The
// sort reads a shared prefix once (a multikey quicksort), not per comparison.
class StatusMapBuilder {
 public:
  // `log` is the text being parsed: names that point into it are kept as
  // views, so it must outlive the builder.
  explicit StatusMapBuilder(std::string_view log) : log_(log) {}

  // A name inside the log is kept as a view; any other (from a scratch
  // buffer) is copied.
  void Add(std::string_view name, std::string_view status);
  void Add(std::string&& name, std::string_view status);

  // The last status given for each name (a later line overwrites).
  StatusMap Build();

 private:
  struct Entry {
    std::string_view name;
    std::string_view status;
    std::size_t seq;  // log order, so that the last status wins
  };

  void SortByName();
  bool InLog(std::string_view s) const;
  std::string_view Intern(std::string_view status);

  std::string_view log_;
  std::vector<Entry> entries_;
  std::deque<std::string> owned_;  // stable addresses for the views above
};

}  // namespace r2e::internal

#endif  // R2E_GRADING_STATUS_MAP_BUILDER_H_
