// DockerClient's REST calls: each builds its target and reads the daemon's
// answer; the wire and the streaming calls are docker_transport.cc, so this
// file compiles without Beast.
#include "docker/docker_client.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "docker/client_impl.h"
#include "docker/docker_text.h"

namespace r2e::docker {

namespace {

using Json = nlohmann::json;
using Ms = std::chrono::milliseconds;

}  // namespace

Result<HttpResult> DockerClient::Impl::call(const std::string& method, const std::string& target,
                                            const std::string& what, std::initializer_list<int> ok, std::string body,
                                            Ms timeout) const {
  Request r;
  r.method = method;
  r.target = versioned(target);
  r.body = std::move(body);
  R2E_ASSIGN_OR_RETURN(auto res, roundtrip(r, what, timeout));
  if (std::find(ok.begin(), ok.end(), res.status) == ok.end()) return ToStatus(res.status, res.body, what);
  return res;
}

Result<Json> DockerClient::Impl::call_json(const std::string& method, const std::string& target,
                                           const std::string& what, std::initializer_list<int> ok,
                                           std::string body) const {
  R2E_ASSIGN_OR_RETURN(auto res, call(method, target, what, ok, std::move(body)));
  return ParseJson(res.body, what);
}

Result<std::string> DockerClient::Impl::exec_create(const std::string& container, const std::vector<std::string>& argv,
                                                    const std::vector<std::string>& env, const std::string& workdir,
                                                    bool attach_stdin, Ms timeout, const std::string& user) const {
  std::string what = "exec in " + container;
  if (argv.empty()) return Status::InvalidArgument("docker " + what + ": empty command");
  Json config = {{"AttachStdin", attach_stdin},
                 {"AttachStdout", true},
                 {"AttachStderr", true},
                 {"Tty", false},
                 {"Cmd", argv}};
  if (!env.empty()) config["Env"] = env;
  if (!workdir.empty()) config["WorkingDir"] = workdir;
  if (!user.empty()) config["User"] = user;
  R2E_ASSIGN_OR_RETURN(auto res, call("POST", "/containers/" + PathPart(container) + "/exec", what, {201},
                                      config.dump(), timeout));
  R2E_ASSIGN_OR_RETURN(Json j, ParseJson(res.body, what));
  return StringField(j, "Id", what);
}

DockerClient::DockerClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DockerClient::~DockerClient() = default;

Result<std::unique_ptr<DockerClient>> DockerClient::Connect(ClientOptions options) {
  return Guarded("connect", [&]() -> Result<std::unique_ptr<DockerClient>> {
    auto impl = std::make_unique<Impl>();
    R2E_ASSIGN_OR_RETURN(impl->socket_path, ResolveSocket(options.socket_path));
    impl->options = std::move(options);
    if (impl->options.request_timeout.count() <= 0)
      impl->options.request_timeout = std::chrono::seconds(60);

    Request ping;
    ping.target = "/_ping";  // unversioned: it tells us the version
    std::string daemon_version;
    auto res = impl->roundtrip(ping, "ping", Ms(0), &daemon_version);
    if (!res.ok()) {
      if (res.status().code() == StatusCode::kUnavailable) {
        // Drop the "docker ping: " prefix: this is the first contact.
        const std::string m = res.status().message();
        auto pos = m.find("cannot reach");
        if (pos != std::string::npos) return Status::Unavailable(m.substr(pos));
      }
      if (res.status().code() == StatusCode::kTimeout) {
        return Status::Unavailable(
            UnavailableText(impl->socket_path,
                            "no answer to /_ping within " + Pretty(impl->options.request_timeout)));
      }
      return res.status();
    }
    if (res->status != 200) {
      return Status::Unavailable(UnavailableText(
          impl->socket_path,
          "/_ping answered HTTP " + std::to_string(res->status) + " " + Truncate(res->body)));
    }

    if (!impl->options.api_version.empty()) {
      impl->api_version = impl->options.api_version;
    } else if (!daemon_version.empty() &&
               ParseVersion(daemon_version) <= ParseVersion(kMaxApiVersion)) {
      impl->api_version = daemon_version;
    } else {
      impl->api_version = std::string(kMaxApiVersion);
      if (!daemon_version.empty()) {
        // A newer daemon may refuse old versions (Docker 29.0-29.2 wanted
        // 1.44+): then use its minimum.
        Request version;
        version.target = "/version";
        auto v = impl->roundtrip(version, "version");
        if (v.ok() && v->status == 200) {
          Json j = Json::parse(v->body, nullptr, false);
          if (j.is_object() && j.contains("MinAPIVersion") && j["MinAPIVersion"].is_string()) {
            std::string min = j["MinAPIVersion"].get<std::string>();
            if (ParseVersion(min) > ParseVersion(kMaxApiVersion)) impl->api_version = min;
          }
        }
      }
    }
    return std::unique_ptr<DockerClient>(new DockerClient(std::move(impl)));
  });
}

const std::string& DockerClient::api_version() const { return impl_->api_version; }
const std::string& DockerClient::socket_path() const { return impl_->socket_path; }

bool DockerClient::is_podman() {
  int known = impl_->podman.load();
  if (known < 0) {
    auto version = request("GET", "/version");
    known = 0;
    if (version.ok() && version->status == 200) {
      const Json j = Json::parse(version->body, nullptr, false);
      if (j.is_object() && j.contains("Components") && j["Components"].is_array()) {
        for (const Json& c : j["Components"]) {
          if (c.is_object() && c.value("Name", std::string()).find("Podman") != std::string::npos) known = 1;
        }
      }
    }
    impl_->podman.store(known);
  }
  return known == 1;
}

Result<HttpResult> DockerClient::request(const std::string& method, const std::string& target,
                                         const std::string& body,
                                         std::chrono::milliseconds timeout) {
  std::string what = method + " " + target;
  return Guarded(what, [&]() -> Result<HttpResult> {
    if (!KnownMethod(method)) return Status::InvalidArgument("docker request: unknown method " + method);
    if (target.empty() || target[0] != '/') {
      return Status::InvalidArgument("docker request: target must start with '/': " + target);
    }
    Request r;
    r.method = method;
    r.target = impl_->versioned(target);
    r.body = body;
    return impl_->roundtrip(r, what, timeout);
  });
}

// --- images

Result<nlohmann::json> DockerClient::inspect_image(const std::string& image) {
  std::string what = "inspect image " + image;
  return Guarded(what, [&]() -> Result<Json> {
    if (image.empty()) return Status::InvalidArgument("docker " + what + ": empty image name");
    return impl_->call_json("GET", "/images/" + PathPart(image) + "/json", what, {200});
  });
}

Result<std::string> DockerClient::commit(const std::string& container, const std::string& repo,
                                         const std::string& tag) {
  std::string what = "commit " + container + " as " + repo + ":" + tag;
  return Guarded(what, [&]() -> Result<std::string> {
    std::string target = "/commit?container=" + QueryValue(container) + "&repo=" + QueryValue(repo);
    if (!tag.empty()) target += "&tag=" + QueryValue(tag);
    R2E_ASSIGN_OR_RETURN(Json j,
                         impl_->call_json("POST", target, what, {200, 201}, "{}"));
    R2E_ASSIGN_OR_RETURN(std::string id, StringField(j, "Id", what));
    // Podman answers the bare hex; Docker "sha256:<hex>".
    if (!id.starts_with("sha256:")) id = "sha256:" + id;
    return id;
  });
}

Result<std::vector<nlohmann::json>> DockerClient::list_images(const std::string& reference) {
  std::string what = "list images " + reference;
  return Guarded(what, [&]() -> Result<std::vector<Json>> {
    Json filters = {{"reference", {reference}}};
    R2E_ASSIGN_OR_RETURN(
        Json j,
        impl_->call_json("GET", "/images/json?filters=" + QueryValue(filters.dump()), what, {200}));
    if (!j.is_array())
      return Status::Internal("docker " + what + ": answer is not a list: " + Truncate(j.dump()));
    return j.get<std::vector<Json>>();
  });
}

Status DockerClient::tag_image(const std::string& image, const std::string& repo,
                               const std::string& tag) {
  std::string what = "tag image " + image + " as " + repo + ":" + tag;
  return Guarded(what, [&]() -> Status {
    if (image.empty() || repo.empty()) return Status::InvalidArgument("docker " + what + ": empty name");
    std::string target = "/images/" + PathPart(image) + "/tag?repo=" + QueryValue(repo);
    if (!tag.empty()) target += "&tag=" + QueryValue(tag);
    return impl_->call("POST", target, what, {200, 201}).status();
  });
}

Status DockerClient::untag_image(const std::string& image, bool prune) {
  std::string what = "remove image name " + image;
  return Guarded(what, [&]() -> Status {
    if (image.empty()) return Status::InvalidArgument("docker " + what + ": empty name");
    return impl_
        ->call("DELETE", "/images/" + PathPart(image) + (prune ? "" : "?noprune=1"), what,
               {200, 404})
        .status();
  });
}

// --- containers

Result<std::string> DockerClient::create_container(const nlohmann::json& config,
                                                   const std::string& name) {
  std::string what = "create container" + (name.empty() ? std::string() : " " + name);
  return Guarded(what, [&]() -> Result<std::string> {
    std::string target = "/containers/create";
    if (!name.empty()) target += "?name=" + QueryValue(name);
    R2E_ASSIGN_OR_RETURN(
        Json j, impl_->call_json("POST", target, what, {200, 201}, config.dump()));
    return StringField(j, "Id", what);
  });
}

Status DockerClient::start_container(const std::string& id) {
  std::string what = "start container " + id;
  return Guarded(what, [&]() -> Status {
    return impl_
        ->call("POST", "/containers/" + PathPart(id) + "/start", what, {200, 204, 304})
        .status();
  });
}

Status DockerClient::stop_container(const std::string& id, int timeout_s) {
  std::string what = "stop container " + id;
  return Guarded(what, [&]() -> Status {
    int t = std::max(timeout_s, 0);
    // The daemon answers only after its grace period (and the kill) ran.
    Ms budget = impl_->options.request_timeout + std::chrono::seconds(t);
    return impl_
        ->call("POST", "/containers/" + PathPart(id) + "/stop?t=" + std::to_string(t),
               what, {200, 204, 304}, {}, budget)
        .status();
  });
}

Status DockerClient::kill_container(const std::string& id, const std::string& signal) {
  std::string what = "kill container " + id;
  return Guarded(what, [&]() -> Status {
    std::string target = "/containers/" + PathPart(id) + "/kill";
    if (!signal.empty()) target += "?signal=" + QueryValue(signal);
    return impl_->call("POST", target, what, {200, 204}).status();
  });
}

Status DockerClient::remove_container(const std::string& id, bool force) {
  std::string what = "remove container " + id;
  return Guarded(what, [&]() -> Status {
    std::string target = "/containers/" + PathPart(id) + (force ? "?force=1&v=1" : "?v=1");
    R2E_ASSIGN_OR_RETURN(auto res,
                         impl_->call("DELETE", target, what, {200, 204, 404, 409}));
    if (res.status == 409) {
      // An AutoRemove container already on its way out (its main process
      // ended). It still exists until the daemon is done, which takes a while
      // on a busy machine: wait for that, so that a removed sandbox is never
      // found by a leak check or `r2e cleanup` right after.
      Status s = ToStatus(res.status, res.body, what);
      if (!Contains(s.message(), "already in progress")) return s;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      for (int attempt = 0; std::chrono::steady_clock::now() < deadline; ++attempt) {
        R2E_ASSIGN_OR_RETURN(auto probe, impl_->call("GET", "/containers/" + PathPart(id) + "/json", what, {200, 404}));
        if (probe.status == 404) return Status::OK();
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20 << std::min(attempt, 4), 250)));
      }
      return Status::Timeout(what + ": the daemon was still removing it after 60 s");
    }
    return Status::OK();
  });
}

Result<nlohmann::json> DockerClient::inspect_container(const std::string& id) {
  std::string what = "inspect container " + id;
  return Guarded(what, [&]() -> Result<Json> {
    if (id.empty()) return Status::InvalidArgument("docker inspect container: empty id");
    return impl_->call_json("GET", "/containers/" + PathPart(id) + "/json", what, {200});
  });
}

Result<std::vector<nlohmann::json>> DockerClient::list_containers(
    const std::vector<std::string>& label_filters) {
  std::string what = "list containers";
  return Guarded(what, [&]() -> Result<std::vector<Json>> {
    std::string target = "/containers/json?all=1";
    if (!label_filters.empty()) {
      Json filters = {{"label", label_filters}};
      target += "&filters=" + QueryValue(filters.dump());
    }
    R2E_ASSIGN_OR_RETURN(Json j, impl_->call_json("GET", target, what, {200}));
    if (!j.is_array())
      return Status::Internal("docker " + what + ": answer is not a list: " + Truncate(j.dump()));
    return j.get<std::vector<Json>>();
  });
}

// --- exec

Result<std::string> DockerClient::exec_create(const std::string& container,
                                              const std::vector<std::string>& argv,
                                              const std::vector<std::string>& env,
                                              const std::string& workdir, bool attach_stdin) {
  return Guarded("exec in " + container, [&]() -> Result<std::string> {
    return impl_->exec_create(container, argv, env, workdir, attach_stdin, Ms(0));
  });
}

Result<nlohmann::json> DockerClient::exec_inspect(const std::string& exec_id) {
  std::string what = "exec inspect " + exec_id;
  return Guarded(what, [&]() -> Result<Json> {
    return impl_->call_json("GET", "/exec/" + PathPart(exec_id) + "/json", what, {200});
  });
}

// --- files

Status DockerClient::put_archive(const std::string& container, const std::string& dir,
                                 const std::string& tar) {
  std::string what = "copy into " + container + ":" + dir;
  return Guarded(what, [&]() -> Status {
    Request r;
    r.method = "PUT";
    r.target =
        impl_->versioned("/containers/" + PathPart(container) + "/archive?path=" + QueryValue(dir));
    r.body = tar;
    r.content_type = "application/x-tar";
    R2E_ASSIGN_OR_RETURN(auto res, impl_->roundtrip(r, what));
    if (res.status != 200) return ToStatus(res.status, res.body, what);
    return Status::OK();
  });
}

Result<std::string> DockerClient::get_archive(const std::string& container,
                                              const std::string& path) {
  std::string what = "copy from " + container + ":" + path;
  return Guarded(what, [&]() -> Result<std::string> {
    R2E_ASSIGN_OR_RETURN(auto res, impl_->call("GET",
                                               "/containers/" + PathPart(container) +
                                                   "/archive?path=" + QueryValue(path),
                                               what, {200}));
    return std::move(res.body);
  });
}

}  // namespace r2e::docker
