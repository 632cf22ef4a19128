// Watch streams: one JSON event per line, split across arbitrary chunk
// boundaries. Pure code, unit-tested and fuzzable.
#ifndef R2E_KUBE_WATCH_H_
#define R2E_KUBE_WATCH_H_

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/status.h"

namespace r2e::kube {

// Splits a byte stream into '\n'-terminated lines (a trailing '\r' is
// dropped, empty lines skipped). A line longer than max_line is an error.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line = 64u << 20) : max_line_(max_line) {}
  // Appends the complete lines in `chunk` (with what was held back) to `lines`.
  Status feed(std::string_view chunk, std::vector<std::string>& lines);
  // Bytes of an unfinished line.
  std::size_t pending() const { return partial_.size(); }

 private:
  std::size_t max_line_;
  std::string partial_;
};

struct WatchEvent {
  // ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
  std::string type;
  nlohmann::json object;
  // object.metadata.resourceVersion ("" if absent).
  std::string resource_version;
  // For ERROR events: the Status's code (410 for Expired) and message.
  int error_code = 0;
  std::string error_message;
};

// The value at `path` of object keys in `j`, or null when any step is
// missing or not an object; never throws (answers come from a server).
const nlohmann::json& JsonAt(const nlohmann::json& j, std::initializer_list<const char*> path);
// JsonAt as a string ("" when absent or not a string).
std::string JsonStringAt(const nlohmann::json& j, std::initializer_list<const char*> path);

// Parses one line; InvalidArgument when it is not a watch event.
Result<WatchEvent> ParseWatchEvent(std::string_view line);

}  // namespace r2e::kube

#endif  // R2E_KUBE_WATCH_H_
