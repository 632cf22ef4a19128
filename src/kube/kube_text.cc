#include "kube/kube_text.h"

#include <cctype>

#include "core/text.h"

namespace r2e::kube {

Result<ServerUrl> ParseServerUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument("server URL " + std::string(url) + " does not start with https://");
  }
  std::string_view rest = url.substr(kScheme.size());
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  ServerUrl u;
  if (slash != std::string_view::npos) {
    u.base_path = std::string(rest.substr(slash));
    while (!u.base_path.empty() && u.base_path.back() == '/') u.base_path.pop_back();
  }
  if (authority.find('@') != std::string_view::npos) {
    // Credentials in the URL would end up in messages; refuse them.
    return Status::InvalidArgument("server URL must not carry credentials");
  }
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("server URL " + std::string(url) + ": bad IPv6 host");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Status::InvalidArgument("server URL " + std::string(url) + ": bad port");
      port = after.substr(1);
    }
  } else {
    std::size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return Status::InvalidArgument("server URL " + std::string(url) + " has no host");
  if (port.empty()) {
    u.port = "443";
  } else {
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        return Status::InvalidArgument("server URL " + std::string(url) + ": bad port");
      }
    }
    u.port = std::string(port);
  }
  return u;
}

std::string QueryEscape(std::string_view s) { return internal::PercentEncode(s); }

}  // namespace r2e::kube
