// Small text helpers of the Kubernetes transport: base64, server URLs,
// query escaping. Pure functions, unit-tested.
#ifndef R2E_KUBE_KUBE_TEXT_H_
#define R2E_KUBE_KUBE_TEXT_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/text.h"
#include "r2e/status.h"

namespace r2e::kube {

using internal::Base64Decode;  // core/text.h

struct ServerUrl {
  std::string host;  // without brackets for IPv6
  std::string port;  // "443" when the URL has none
  std::string base_path;  // "" or "/prefix" (no trailing slash)
};

// Splits "https://host[:port][/path]"; InvalidArgument otherwise.
Result<ServerUrl> ParseServerUrl(std::string_view url);

// Percent-encodes everything but RFC 3986 unreserved characters
// (internal::PercentEncode).
std::string QueryEscape(std::string_view s);

}  // namespace r2e::kube

#endif  // R2E_KUBE_KUBE_TEXT_H_
