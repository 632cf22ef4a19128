// DockerClient: the Docker Engine REST API over its Unix socket, on
// Boost.Beast. Internal to r2e; DockerRuntime is the public face. The REST
// calls are docker_client.cc, the wire and the streaming calls (the only
// Beast code) docker_transport.cc, the API's text docker_text.h.
//
// Every request has a timeout; HTTP errors become Status in one place
// (ToStatus): 404 NotFound, 409 AlreadyExists/FailedPrecondition, 5xx
// Unavailable/Internal, with the daemon's {"message"} in the text. 304 (already
// started/stopped) is success where the API documents it.
//
// Thread-safety: a client may be used from several threads at once; each
// request uses its own connection (the daemon is local, connecting costs
// microseconds), so no request waits for another.
#ifndef R2E_DOCKER_DOCKER_CLIENT_H_
#define R2E_DOCKER_DOCKER_CLIENT_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "r2e/session.h"
#include "r2e/status.h"

namespace r2e::docker {

struct ClientOptions {
  // Socket path; empty: $DOCKER_HOST when it is unix://PATH, else
  // /var/run/docker.sock.
  std::string socket_path;
  // Bound on each ordinary request (not on pulls or hijacked streams).
  std::chrono::milliseconds request_timeout{std::chrono::seconds(60)};
  // API version such as "1.41"; empty: negotiated with /_ping (the daemon's
  // API-Version header, capped at the newest version we know).
  std::string api_version;
  // Base64 X-Registry-Auth value sent with pulls, when non-empty.
  std::string registry_auth;
};

struct HttpResult {
  int status = 0;
  std::string body;
};

// One-shot exec outcome (plain exec mode): demultiplexed output.
struct ExecRun {
  int exit_code = -1;
  std::string stdout_data;
  std::string stderr_data;
  bool timed_out = false;
};

class DockerClient {
 public:
  // Connects (checks /_ping) and negotiates the API version. Unavailable
  // with a message naming the socket and what to do when nothing answers.
  static Result<std::unique_ptr<DockerClient>> Connect(ClientOptions options = {});

  const std::string& api_version() const;
  const std::string& socket_path() const;
  // Whether the daemon is Podman's Docker-compatible service (asked once,
  // from /version; false when it cannot be told).
  bool is_podman();

  // A request to "/v<api>/<target>" (target starts with '/'); `body` is sent
  // as JSON when non-empty. Returns the response whatever its status.
  Result<HttpResult> request(const std::string& method, const std::string& target,
                             const std::string& body = {},
                             std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // --- images
  Result<nlohmann::json> inspect_image(const std::string& image);      // NotFound when absent
  // Streams progress lines to `progress`; an {"error"} line in the stream is
  // a failure even though the HTTP status was 200.
  Status pull_image(const std::string& image, const std::function<void(const std::string&)>& progress = {});
  // Snapshot of a container as repo:tag; returns the image id.
  Result<std::string> commit(const std::string& container, const std::string& repo, const std::string& tag);
  // Gives `image` the further name repo:tag. NotFound when it is absent.
  // The images with a name that matches `reference` ("repo", "repo:*"), as
  // GET /images/json lists them (RepoTags, Labels, ...).
  Result<std::vector<nlohmann::json>> list_images(const std::string& reference);
  Status tag_image(const std::string& image, const std::string& repo, const std::string& tag);
  // Removes the name `image`: the image itself goes only with its last name
  // (and never while a container uses it). OK when the name is absent.
  // With `prune`, the parents left without a name or a child go too
  // (`docker rmi`'s default): a checkpoint committed from a container of
  // another checkpoint is that one's child.
  Status untag_image(const std::string& image, bool prune = false);

  // --- containers
  // POST /containers/create?name=...; returns the id.
  Result<std::string> create_container(const nlohmann::json& config, const std::string& name);
  Status start_container(const std::string& id);                 // 304 is OK
  Status stop_container(const std::string& id, int timeout_s);   // 304 is OK
  Status kill_container(const std::string& id, const std::string& signal = "KILL");
  // 404 is OK; a removal already in progress (AutoRemove) is waited for,
  // up to 60 s (then Timeout), so the container is gone on return.
  Status remove_container(const std::string& id, bool force);
  Result<nlohmann::json> inspect_container(const std::string& id);
  // Containers (all states) whose labels match every "key" or "key=value".
  Result<std::vector<nlohmann::json>> list_containers(const std::vector<std::string>& label_filters);

  // --- exec
  Result<std::string> exec_create(const std::string& container, const std::vector<std::string>& argv,
                                  const std::vector<std::string>& env, const std::string& workdir,
                                  bool attach_stdin);
  // Starts the exec with a hijacked connection (101 UPGRADED / raw stream)
  // and returns it as a ByteStream: writes go to the process's stdin,
  // reads return its stdout and stderr merged (frames demultiplexed),
  // close_write half-closes stdin, close() drops the connection.
  Result<std::unique_ptr<ByteStream>> exec_attach(const std::string& exec_id);
  Result<nlohmann::json> exec_inspect(const std::string& exec_id);
  // Create + start (not hijacked) + read to the end + inspect, bounded by
  // `timeout` (on expiry: timed_out, the connection dropped). `user`: run as
  // this user ("": the container's).
  Result<ExecRun> exec_run(const std::string& container, const std::vector<std::string>& argv,
                           const std::vector<std::string>& env, const std::string& workdir,
                           std::chrono::milliseconds timeout, const std::string& user = "");

  // --- files (tar archives)
  Status put_archive(const std::string& container, const std::string& dir, const std::string& tar);
  Result<std::string> get_archive(const std::string& container, const std::string& path);

  ~DockerClient();

 private:
  struct Impl;
  explicit DockerClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// HTTP status + body -> Status ("docker <what>: <message>").
Status ToStatus(int http_status, const std::string& body, const std::string& what);

// Splits Docker's multiplexed stream (8-byte headers: stream type, 3 zero
// bytes, big-endian length) fed in arbitrary chunks.
class FrameDemuxer {
 public:
  // Appends payload bytes to `out` (stdout and stderr both; `err` too when
  // non-null, for stderr frames only). InvalidArgument on a bad header.
  Status feed(std::string_view chunk, std::string& out, std::string* err = nullptr);

 private:
  std::string header_;
  std::size_t remaining_ = 0;
  int stream_ = 1;
};

}  // namespace r2e::docker

#endif  // R2E_DOCKER_DOCKER_CLIENT_H_
