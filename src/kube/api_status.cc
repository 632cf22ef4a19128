#include "kube/api_status.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/http_status.h"
#include "core/text.h"

namespace r2e::kube {
namespace {

using Json = nlohmann::json;
constexpr std::size_t kMaxMessage = 1000;

std::string Clip(std::string s) {
  if (s.size() > kMaxMessage) {
    s.resize(kMaxMessage);
    s += "...";
  }
  return s;
}

std::string JsonString(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace

ApiError ParseApiError(std::string_view body) {
  ApiError e;
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return e;
  e.reason = JsonString(j, "reason");
  e.message = JsonString(j, "message");
  if (auto it = j.find("code"); it != j.end() && it->is_number_integer()) e.code = it->get<int>();
  return e;
}

Status ApiStatus(int http_status, std::string_view body, const std::string& what) {
  if (http_status >= 200 && http_status < 300) return Status::OK();
  ApiError e = ParseApiError(body);
  std::string message = e.message;
  if (message.empty()) {
    // Not a Status: the first line of the body, if it is text.
    std::string_view b = internal::Trim(body);
    b = b.substr(0, b.find('\n'));
    message = std::string(b);
  }
  if (message.empty()) message = "HTTP " + std::to_string(http_status);
  std::string text = "kube " + what + ": " + Clip(message);
  if (!e.reason.empty()) text += " (" + e.reason + ")";
  switch (http_status) {
    case 401:
      return Status::FailedPrecondition(text +
                                        "; the API server refused the credentials: the token may have expired or "
                                        "the client certificate is not accepted");
    case 410:  // Expired: the caller lists again
      return Status::FailedPrecondition(std::move(text));
    case 429:
      return Status::ResourceExhausted(std::move(text));
    default:
      break;
  }
  return internal::HttpErrorStatus(http_status, std::move(text), e.reason == "AlreadyExists" || e.reason.empty());
}

bool Retryable(int http_status) {
  return http_status == 429 || http_status == 500 || http_status == 502 || http_status == 503 ||
         http_status == 504;
}

Result<int> ParseExecStatus(std::string_view json) {
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Internal("kube exec: the status channel did not carry a JSON Status: " +
                            Clip(std::string(json.substr(0, 200))));
  }
  const std::string status = JsonString(j, "status");
  if (status == "Success") return 0;
  if (status != "Failure") {
    return Status::Internal("kube exec: the status channel's status is `" + Clip(status) + "`");
  }
  if (JsonString(j, "reason") == "NonZeroExitCode") {
    auto details = j.find("details");
    if (details != j.end() && details->is_object()) {
      auto causes = details->find("causes");
      if (causes != details->end() && causes->is_array()) {
        for (const Json& c : *causes) {
          if (JsonString(c, "reason") != "ExitCode") continue;
          const std::string m = JsonString(c, "message");
          if (m.empty() || m.size() > 9 || !std::all_of(m.begin(), m.end(), [](unsigned char ch) {
                return std::isdigit(ch) != 0;
              })) {
            return Status::Internal("kube exec: the ExitCode cause is not a number: " + Clip(m));
          }
          return std::stoi(m);
        }
      }
    }
    return Status::Internal("kube exec: NonZeroExitCode without an ExitCode cause");
  }
  std::string message = JsonString(j, "message");
  if (message.empty()) message = "the command failed without a message";
  return Status::Unavailable("kube exec: " + Clip(message));
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value) {
  value = internal::Trim(value);
  if (value.empty() || value.size() > 6) return std::nullopt;
  long long s = 0;
  for (char c : value) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    s = s * 10 + (c - '0');
  }
  return std::chrono::milliseconds(s * 1000);
}

std::chrono::milliseconds Backoff(int attempt, std::chrono::milliseconds initial, std::chrono::milliseconds max_delay,
                                  double random01) {
  double base = static_cast<double>(initial.count()) * std::pow(2.0, std::clamp(attempt, 0, 30));
  base = std::min(base, static_cast<double>(max_delay.count()));
  random01 = std::clamp(random01, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(base / 2 + base / 2 * random01));
}

}  // namespace r2e::kube
