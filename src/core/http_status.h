// The Status of an HTTP error answer, as both REST transports (the Docker
// Engine API, the Kubernetes API) map the statuses they share; each maps its
// own extras (Docker's 500, Kubernetes' 401 hint, 410 and 429) first.
#ifndef R2E_CORE_HTTP_STATUS_H_
#define R2E_CORE_HTTP_STATUS_H_

#include <string>
#include <utility>

#include "r2e/status.h"

namespace r2e::internal {

// 401 and 403 FailedPrecondition (the credentials or permissions need
// fixing), 404 NotFound, 409 AlreadyExists when `name_taken` (a create under
// a name in use) else FailedPrecondition (an object in the wrong state), 5xx
// Unavailable, anything else InvalidArgument. `text` says what failed.
inline Status HttpErrorStatus(int http_status, std::string text, bool name_taken) {
  switch (http_status) {
    case 401:
    case 403:
      return Status::FailedPrecondition(std::move(text));
    case 404:
      return Status::NotFound(std::move(text));
    case 409:
      if (name_taken) return Status::AlreadyExists(std::move(text));
      return Status::FailedPrecondition(std::move(text));
    default:
      break;
  }
  if (http_status >= 500) return Status::Unavailable(std::move(text));
  return Status::InvalidArgument(std::move(text));
}

}  // namespace r2e::internal

#endif  // R2E_CORE_HTTP_STATUS_H_
