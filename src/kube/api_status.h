// Kubernetes answers turned into r2e Status values, the exec status channel,
// and the retry policy's arithmetic. Pure functions, unit-tested.
#ifndef R2E_KUBE_API_STATUS_H_
#define R2E_KUBE_API_STATUS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "r2e/status.h"

namespace r2e::kube {

// The "reason" and "message" of a Kubernetes Status body (empty when the
// body is not one).
struct ApiError {
  std::string reason;
  std::string message;
  int code = 0;
};
ApiError ParseApiError(std::string_view body);

// HTTP status + body -> Status, "kube <what>: <server's message>". 401 says
// the credentials were refused (expired token?), 403 names the missing
// permission as the server did, 404 NotFound, 409 AlreadyExists or
// FailedPrecondition, 410 FailedPrecondition (Expired), 422/400
// InvalidArgument, 429 ResourceExhausted, 5xx Unavailable.
Status ApiStatus(int http_status, std::string_view body, const std::string& what);

// True for answers worth retrying: 429, 500, 502, 503, 504.
bool Retryable(int http_status);

// The exit code from the exec status channel's JSON: 0 for Success, the
// ExitCode cause for NonZeroExitCode. Other failures (the command could not
// start, the container is gone) are an error Status with the server's message.
Result<int> ParseExecStatus(std::string_view json);

// Retry-After as a delay: delta-seconds only (HTTP dates -> nullopt).
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value);

// Exponential backoff with full jitter: a delay in [base/2, base] where base
// = initial * 2^attempt capped at max_delay. `random01` is in [0, 1).
std::chrono::milliseconds Backoff(int attempt, std::chrono::milliseconds initial, std::chrono::milliseconds max_delay,
                                  double random01);

}  // namespace r2e::kube

#endif  // R2E_KUBE_API_STATUS_H_
