// Small text helpers of the Kubernetes transport: base64, server URLs,
// query escaping. Pure functions, unit-tested.
#ifndef R2E_KUBE_KUBE_TEXT_H_
#define R2E_KUBE_KUBE_TEXT_H_

#include <optional>
#include <string>
#include <string_view>

#include "r2e/status.h"

namespace r2e::kube {

// Standard base64 (RFC 4648, '+' and '/'); ASCII whitespace is skipped and
// trailing padding may be omitted. std::nullopt for any other character,
// misplaced padding or an impossible length.
std::optional<std::string> Base64Decode(std::string_view text);

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
