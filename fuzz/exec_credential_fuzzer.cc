// An exec credential plugin's stdout and RFC 3339 timestamps: a credential or
// a Status, and the Status never quotes the output (it may hold secrets).
#include <string>

#include "fuzz_util.h"
#include "kube/exec_credential.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = r2e::fuzz::AsView(data, size);
  auto cred = r2e::kube::ParseExecCredential(text);
  if (cred.ok()) {
    R2E_FUZZ_CHECK(!cred->token.empty() || (!cred->client_cert_pem.empty() && !cred->client_key_pem.empty()));
  } else if (text.size() >= 12) {
    // A long enough output never shows up in the error.
    R2E_FUZZ_CHECK(cred.status().ToString().find(text) == std::string::npos);
  }
  (void)r2e::kube::ParseRfc3339(text);
  return 0;
}
