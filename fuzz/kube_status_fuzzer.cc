// What an API server (or a proxy in front of it) answers: error bodies, the
// exec status channel, Retry-After, plus the server URL and base64 fields of
// a kubeconfig. Part 0 feeds the body parsers, part 1 the small ones.
#include <string>

#include "fuzz_util.h"
#include "kube/api_status.h"
#include "kube/kube_text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int http_status = 100 + (data[0] << 8 | data[1]) % 500;
  auto parts = r2e::fuzz::SplitParts(r2e::fuzz::AsView(data + 2, size - 2), 2);
  (void)r2e::kube::ParseApiError(parts[0]);
  r2e::Status s = r2e::kube::ApiStatus(http_status, parts[0], "fuzz");
  if (http_status >= 400) R2E_FUZZ_CHECK(!s.ok());
  auto exit_code = r2e::kube::ParseExecStatus(parts[0]);
  if (exit_code.ok()) R2E_FUZZ_CHECK(*exit_code >= 0);
  if (auto delay = r2e::kube::ParseRetryAfter(parts[1])) R2E_FUZZ_CHECK(delay->count() >= 0);
  if (auto decoded = r2e::kube::Base64Decode(parts[1])) R2E_FUZZ_CHECK(decoded->size() <= parts[1].size());
  auto url = r2e::kube::ParseServerUrl(parts[1]);
  if (url.ok()) R2E_FUZZ_CHECK(!url->host.empty() && !url->port.empty());
  const std::string escaped = r2e::kube::QueryEscape(parts[1]);
  for (char c : escaped) R2E_FUZZ_CHECK(c > 0x20 && c < 0x7f && c != '&' && c != '=' && c != '?');
  return 0;
}
