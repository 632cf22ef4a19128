// Inside DockerClient: what its two translation units share. The wire
// (Boost.Beast: connections, the streaming calls) is docker_transport.cc;
// the plain REST calls, which only build targets and read answers, are
// docker_client.cc and compile without Beast.
#ifndef R2E_DOCKER_CLIENT_IMPL_H_
#define R2E_DOCKER_CLIENT_IMPL_H_

#include <atomic>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/guarded.h"
#include "docker/docker_client.h"
#include "r2e/session.h"
#include "r2e/status.h"

namespace r2e::internal {
class SocketStream;
}

namespace r2e::docker {

// Every exception becomes a Status: nothing may throw out of the client.
inline constexpr internal::Guard Guarded{"docker", "daemon"};

// One HTTP request to the daemon.
struct Request {
  std::string method = "GET";  // a known method (KnownMethod)
  std::string target;          // complete, with the version prefix when wanted
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Whether `method` is an HTTP method (GET, POST, ...).
bool KnownMethod(const std::string& method);

struct DockerClient::Impl {
  using Ms = std::chrono::milliseconds;

  ClientOptions options;
  std::string socket_path;
  std::string api_version;
  std::atomic<int> podman{-1};  // is_podman(): -1 not asked yet, else 0 or 1

  std::string versioned(const std::string& target) const { return "/v" + api_version + target; }

  // One request on its own connection; the whole exchange is bounded by
  // `timeout` (0: the request timeout). `api_version_header` receives the
  // daemon's API-Version header when non-null. (docker_transport.cc)
  Result<HttpResult> roundtrip(const Request& r, const std::string& what, Ms timeout = Ms(0),
                               std::string* api_version_header = nullptr) const;

  // A versioned request whose success statuses are `ok`; other statuses
  // become a Status through ToStatus.
  Result<HttpResult> call(const std::string& method, const std::string& target, const std::string& what,
                          std::initializer_list<int> ok, std::string body = {}, Ms timeout = Ms(0)) const;
  Result<nlohmann::json> call_json(const std::string& method, const std::string& target, const std::string& what,
                                   std::initializer_list<int> ok, std::string body = {}) const;

  // POST /containers/{id}/exec; returns the exec's id. `user`: run as this
  // user ("": the container's).
  Result<std::string> exec_create(const std::string& container, const std::vector<std::string>& argv,
                                  const std::vector<std::string>& env, const std::string& workdir,
                                  bool attach_stdin, Ms timeout, const std::string& user = "") const;
};

// A ByteStream over a hijacked exec connection (`leftover`: stream bytes
// read along with the HTTP header), Docker's frames demultiplexed on the
// way in so reads return the process's stdout and stderr merged.
std::unique_ptr<ByteStream> MakeHijackedStream(std::unique_ptr<internal::SocketStream> socket, std::string leftover);

}  // namespace r2e::docker

#endif  // R2E_DOCKER_CLIENT_IMPL_H_
