// An exec credential plugin's stdout and RFC 3339 timestamps: a credential or
// a Status, and the Status never carries the secrets the output holds (its
// token or client key).
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "kube/exec_credential.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = r2e::fuzz::AsView(data, size);
  auto cred = r2e::kube::ParseExecCredential(text);
  if (cred.ok()) {
    R2E_FUZZ_CHECK(!cred->token.empty() || (!cred->client_cert_pem.empty() && !cred->client_key_pem.empty()));
  } else {
    const std::string error = cred.status().ToString();
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_object() && j.contains("status") && j["status"].is_object()) {
      for (const char* secret : {"token", "clientKeyData"}) {
        auto it = j["status"].find(secret);
        if (it == j["status"].end() || !it->is_string()) continue;
        const std::string value = it->get<std::string>();
        // Short values can occur in the fixed wording by chance, and the
        // error may quote the (non-secret) expirationTimestamp.
        const auto exp = j["status"].find("expirationTimestamp");
        const bool in_timestamp = exp != j["status"].end() && exp->is_string() &&
                                  exp->get<std::string>().find(value) != std::string::npos;
        if (value.size() >= 8 && !in_timestamp) R2E_FUZZ_CHECK(error.find(value) == std::string::npos);
      }
    }
  }
  (void)r2e::kube::ParseRfc3339(text);
  return 0;
}
