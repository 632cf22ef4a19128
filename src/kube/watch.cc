#include "kube/watch.h"

namespace r2e::kube {

Status LineSplitter::feed(std::string_view chunk, std::vector<std::string>& lines) {
  std::size_t start = 0;
  for (std::size_t nl; (nl = chunk.find('\n', start)) != std::string_view::npos; start = nl + 1) {
    partial_.append(chunk.substr(start, nl - start));
    if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
    if (partial_.size() > max_line_) return Status::ResourceExhausted("watch event longer than the line limit");
    if (!partial_.empty()) lines.push_back(std::move(partial_));
    partial_.clear();
  }
  partial_.append(chunk.substr(start));
  if (partial_.size() > max_line_) return Status::ResourceExhausted("watch event longer than the line limit");
  return Status::OK();
}

const nlohmann::json& JsonAt(const nlohmann::json& j, std::initializer_list<const char*> path) {
  static const nlohmann::json kNull;
  const nlohmann::json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(key);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string JsonStringAt(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json& v = JsonAt(j, path);
  return v.is_string() ? v.get<std::string>() : "";
}

Result<WatchEvent> ParseWatchEvent(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("watch stream line is not JSON: " + std::string(line.substr(0, 200)));
  }
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return Status::InvalidArgument("watch event without a type");
  WatchEvent e;
  e.type = type->get<std::string>();
  if (auto obj = j.find("object"); obj != j.end()) e.object = std::move(*obj);
  if (e.object.is_object()) {
    e.resource_version = JsonStringAt(e.object, {"metadata", "resourceVersion"});
    if (e.type == "ERROR") {
      auto code = e.object.find("code");
      if (code != e.object.end() && code->is_number_integer()) e.error_code = code->get<int>();
      auto msg = e.object.find("message");
      if (msg != e.object.end() && msg->is_string()) e.error_message = msg->get<std::string>();
    }
  }
  return e;
}

}  // namespace r2e::kube
