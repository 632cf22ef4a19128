#include "image/registry_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/text.h"
#include "image/digest.h"

namespace r2e::image {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr std::uint64_t kMaxSmallBlob = 8 << 20;  // manifests, configs, token answers
constexpr char kManifestTypes[] =
    "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

bool IsLoopback(std::string_view host) {
  std::string_view name = host.substr(0, host.rfind(':') == std::string_view::npos || host.starts_with('[')
                                             ? host.size()
                                             : host.rfind(':'));
  if (host.starts_with("[::1]")) return true;
  return name == "localhost" || name.starts_with("127.");
}

// "user:password" for `host` from Docker's config.json, or "".
std::string ConfigCredentials(const RegistryOptions& o, const std::string& host) {
  fs::path config = o.docker_config;
  if (config.empty()) {
    if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0') {
      config = fs::path(dir) / "config.json";
    } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
      config = fs::path(home) / ".docker" / "config.json";
    }
  } else if (fs::is_directory(config)) {
    config /= "config.json";
  }
  std::ifstream in(config);
  if (!in) return "";
  const Json j = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "";
  const Json auths = j.value("auths", Json::object());
  const bool hub = host == "registry-1.docker.io";
  for (const std::string& key : {host, "https://" + host, "http://" + host,
                                 std::string(hub ? "https://index.docker.io/v1/" : ""), std::string(hub ? "docker.io" : "")}) {
    if (key.empty() || !auths.contains(key) || !auths[key].is_object()) continue;
    const Json& entry = auths[key];
    if (entry.contains("auth") && entry["auth"].is_string())
      return internal::Base64Decode(entry["auth"].get<std::string>()).value_or("");
    if (entry.contains("username") && entry.contains("password")) {
      return entry.value("username", "") + ":" + entry.value("password", "");
    }
  }
  return "";
}

// The parameters of a WWW-Authenticate challenge: scheme and key="value" pairs.
struct Challenge {
  std::string scheme;
  std::map<std::string, std::string> params;
};

Challenge ParseChallenge(std::string_view header) {
  Challenge c;
  const auto space = header.find(' ');
  c.scheme = internal::ToLower(header.substr(0, space));
  std::string_view rest = space == std::string_view::npos ? std::string_view() : header.substr(space + 1);
  while (!rest.empty()) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ',')) rest.remove_prefix(1);
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos) break;
    const std::string key = internal::ToLower(internal::Trim(rest.substr(0, eq)));
    rest.remove_prefix(eq + 1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      rest.remove_prefix(1);
      const auto end = rest.find('"');
      value = std::string(rest.substr(0, end));
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    } else {
      const auto end = rest.find(',');
      value = std::string(internal::Trim(rest.substr(0, end)));
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    }
    c.params[key] = value;
  }
  return c;
}

// "scheme://host[:port]" and the path (with query) of a URL.
bool SplitUrl(const std::string& url, std::string& origin, std::string& path) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const auto slash = url.find('/', scheme_end + 3);
  origin = url.substr(0, slash);
  path = slash == std::string::npos ? "/" : url.substr(slash);
  return true;
}

struct Reply {
  int status = 0;
  std::string content_type, digest_header;
  std::string body;  // small replies only (the sink gets blobs)
};

// One registry's HTTP side: credentials, the bearer token, retries, redirects.
class RegistryHttp {
 public:
  RegistryHttp(RegistryReference ref, RegistryOptions options)
      : ref_(std::move(ref)), options_(std::move(options)) {
    credentials_ = !options_.username.empty() ? options_.username + ":" + options_.password
                                              : ConfigCredentials(options_, ref_.host);
    const bool insecure = IsLoopback(ref_.host) || std::find(options_.insecure_registries.begin(),
                                                             options_.insecure_registries.end(),
                                                             ref_.host) != options_.insecure_registries.end();
    may_use_http_ = insecure;
  }

  // GET `path` of the registry. `sink` (may be empty) receives a 200's body
  // and `restart` is called before a retry; other replies are kept in
  // Reply::body (bounded).
  Result<Reply> Get(const std::string& path, const std::string& accept,
                    const std::function<bool(const char*, std::size_t)>& sink = {},
                    const std::function<void()>& restart = {}) {
    std::string origin = scheme_ + "://" + ref_.host, target = path;
    bool on_registry = true, authenticated_once = false;
    int redirects = 0;
    std::chrono::milliseconds backoff = options_.initial_backoff;
    for (int attempt = 1;; ++attempt) {
      if (restart) restart();
      Reply reply;
      std::string location, retry_after, challenge;
      httplib::Headers headers = {{"Accept", accept}};
      if (on_registry && !authorization_.empty()) headers.emplace("Authorization", authorization_);
      auto result = Send(origin, target, headers, reply, location, retry_after, challenge, sink);
      const bool connection_failed = !result.ok();
      if (connection_failed && on_registry && scheme_ == "https" && may_use_http_ && attempt == 1) {
        scheme_ = "http";  // a loopback or insecure registry without TLS
        origin = "http://" + ref_.host;
        https_failure_ = result.message();
        --attempt;
        continue;
      }
      if (!connection_failed) {
        const int s = reply.status;
        if (s == 200) return reply;
        if (s >= 300 && s < 400 && !location.empty()) {
          if (++redirects > 5) return Status::Unavailable("registry " + ref_.host + ": too many redirects for " + path);
          // To storage: absolute or relative, never with the registry's credentials.
          if (location.starts_with("/")) {
            target = location;
          } else if (!SplitUrl(location, origin, target)) {
            return Status::Unavailable("registry " + ref_.host + ": bad redirect \"" + location + "\"");
          }
          on_registry = false;
          --attempt;
          continue;
        }
        if (s == 401 && on_registry && !authenticated_once) {
          authenticated_once = true;
          R2E_RETURN_IF_ERROR(Authenticate(challenge));
          --attempt;
          continue;
        }
        if (s == 401 || s == 403) {
          return Status::FailedPrecondition(
              "registry " + ref_.host + " refused access to " + ref_.name + " (HTTP " + std::to_string(s) + ")" +
              (credentials_.empty() ? "; it needs credentials: `docker login` (~/.docker/config.json) or "
                                      "RegistryOptions::username/password"
                                    : "; check the credentials") +
              ErrorText(reply.body));
        }
        if (s == 404) {
          return Status::NotFound("registry " + ref_.host + " has no " + path + ErrorText(reply.body));
        }
        if (s == 400 && scheme_ == "http" && !https_failure_.empty()) {
          // A TLS server refusing plain HTTP: the HTTPS failure is the reason.
          return Status::Unavailable("registry " + ref_.host + " speaks HTTPS and it failed: " + https_failure_);
        }
        if (s != 429 && s < 500) {
          return Status::Unavailable("registry " + ref_.host + " answered HTTP " + std::to_string(s) + " for " +
                                     path + ErrorText(reply.body));
        }
      }
      if (attempt >= options_.max_attempts) {
        return Status::Unavailable("registry " + ref_.host + ": " + path + " failed " + std::to_string(attempt) +
                                   " times; last: " +
                                   (connection_failed ? result.message()
                                                      : "HTTP " + std::to_string(reply.status)));
      }
      std::chrono::milliseconds wait = backoff;
      if (!retry_after.empty() && std::all_of(retry_after.begin(), retry_after.end(), ::isdigit)) {
        wait = std::chrono::seconds(std::min(std::atoi(retry_after.c_str()), 120));
      }
      std::this_thread::sleep_for(wait);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(30));
    }
  }

 private:
  static std::string ErrorText(const std::string& body) {
    const Json j = Json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
      return ": " + j["errors"][0].value("code", std::string()) + " " + j["errors"][0].value("message", std::string());
    }
    return "";
  }

  Status Send(const std::string& origin, const std::string& target, const httplib::Headers& headers, Reply& reply,
              std::string& location, std::string& retry_after, std::string& challenge,
              const std::function<bool(const char*, std::size_t)>& sink) {
    httplib::Client client(origin);
    if (!client.is_valid()) return Status::InvalidArgument("cannot reach " + origin);
    client.set_connection_timeout(options_.connect_timeout);
    client.set_read_timeout(options_.read_timeout);
    client.set_follow_location(false);
    if (origin.starts_with("https://")) {
      client.enable_server_certificate_verification(true);
      if (!options_.ca_file.empty()) client.set_ca_cert_path(options_.ca_file.c_str());
    }
    bool too_big = false;
    auto result = client.Get(
        target, headers,
        [&](const httplib::Response& r) {
          reply.status = r.status;
          reply.content_type = r.get_header_value("Content-Type");
          reply.digest_header = r.get_header_value("Docker-Content-Digest");
          location = r.get_header_value("Location");
          retry_after = r.get_header_value("Retry-After");
          challenge = r.get_header_value("WWW-Authenticate");
          return true;
        },
        [&](const char* data, std::size_t n) {
          if (reply.status == 200 && sink) return sink(data, n);
          if (reply.body.size() + n > kMaxSmallBlob) {
            too_big = true;
            return false;
          }
          reply.body.append(data, n);
          return true;
        });
    if (too_big) return Status::InvalidArgument(origin + target + " answered more than " + std::to_string(kMaxSmallBlob) + " bytes");
    if (!result) {
      if (reply.status == 200 && sink && result.error() == httplib::Error::Canceled) {
        return Status::Cancelled("download stopped");
      }
      std::string what = httplib::to_string(result.error());
      if (result.error() == httplib::Error::SSLServerVerification) {
        what += " (the registry's certificate is not trusted: pass its CA with --registry-ca FILE, "
                "RegistryOptions::ca_file)";
      }
      return Status::Unavailable("GET " + origin + target + ": " + what);
    }
    reply.status = result->status;
    return Status::OK();
  }

  // Answers a 401's challenge: a bearer token from its realm, or basic credentials.
  Status Authenticate(const std::string& header) {
    const Challenge c = ParseChallenge(header);
    if (c.scheme == "basic") {
      if (credentials_.empty()) {
        return Status::FailedPrecondition("registry " + ref_.host + " needs credentials: `docker login` "
                                          "(~/.docker/config.json) or RegistryOptions::username/password");
      }
      authorization_ = "Basic " + internal::Base64Encode(credentials_);
      return Status::OK();
    }
    if (c.scheme != "bearer" || !c.params.count("realm")) {
      return Status::Unavailable("registry " + ref_.host + " asks for an authentication r2e does not know: \"" +
                                 header + "\"");
    }
    std::string origin, path;
    if (!SplitUrl(c.params.at("realm"), origin, path)) {
      return Status::Unavailable("registry " + ref_.host + ": bad token realm \"" + c.params.at("realm") + "\"");
    }
    path += (path.find('?') == std::string::npos ? "?" : "&");
    const std::string scope = c.params.count("scope") ? c.params.at("scope") : "repository:" + ref_.name + ":pull";
    path += "scope=" + internal::PercentEncode(scope);
    if (c.params.count("service")) path += "&service=" + internal::PercentEncode(c.params.at("service"));
    httplib::Headers headers = {{"Accept", "application/json"}};
    if (!credentials_.empty())
      headers.emplace("Authorization", "Basic " + internal::Base64Encode(credentials_));
    Reply reply;
    std::string location, retry_after, challenge;
    R2E_RETURN_IF_ERROR(Send(origin, path, headers, reply, location, retry_after, challenge, {}));
    if (reply.status == 401 || reply.status == 403) {
      return Status::FailedPrecondition("the token service of registry " + ref_.host + " refused " +
                                        (credentials_.empty() ? "anonymous access" : "the credentials") + " (HTTP " +
                                        std::to_string(reply.status) + ")");
    }
    const Json j = Json::parse(reply.body, nullptr, false);
    std::string token = j.is_object() ? j.value("token", std::string()) : "";
    if (token.empty() && j.is_object()) token = j.value("access_token", std::string());
    if (reply.status != 200 || token.empty()) {
      return Status::Unavailable("the token service of registry " + ref_.host + " gave no token (HTTP " +
                                 std::to_string(reply.status) + ")");
    }
    authorization_ = "Bearer " + token;
    return Status::OK();
  }

  RegistryReference ref_;
  RegistryOptions options_;
  std::string scheme_ = "https";
  std::string https_failure_;  // why HTTPS failed before the plain-HTTP fallback
  bool may_use_http_ = false;
  std::string credentials_;    // "user:password" or ""
  std::string authorization_;  // the header value once a challenge was answered
};

class RegistrySource final : public ImageSource {
 public:
  RegistrySource(std::string reference, RegistryReference ref, const RegistryOptions& options)
      : reference_(std::move(reference)), ref_(ref), http_(ref, options) {}
  std::string reference() const override { return reference_; }
  void set_scratch_dir(const fs::path& dir) override { download_dir_ = dir; }

  Result<ResolvedImage> Resolve() override {
    const std::string base = "/v2/" + ref_.name;
    std::string wanted = ref_.digest.empty() ? ref_.tag : ref_.digest;
    R2E_ASSIGN_OR_RETURN(Reply reply, http_.Get(base + "/manifests/" + wanted, kManifestTypes));
    if (!ref_.digest.empty() && DigestOf(reply.body) != ref_.digest) {
      return Status::InvalidArgument("registry " + ref_.host + ": the manifest does not match " + ref_.digest);
    }
    // An image index or manifest list: the manifest for this platform.
    for (int depth = 0; depth < 4; ++depth) {
      const Json j = Json::parse(reply.body, nullptr, false);
      const std::string media_type = j.is_object() ? j.value("mediaType", reply.content_type) : reply.content_type;
      if (!IsImageIndex(media_type) && !(j.is_object() && j.contains("manifests"))) break;
      R2E_ASSIGN_OR_RETURN(std::string picked, PickPlatform(reply.body));
      const std::string digest = Json::parse(picked).value("digest", "");
      if (!IsSha256Digest(digest)) return Status::InvalidArgument("the image index has a bad manifest digest");
      R2E_ASSIGN_OR_RETURN(reply, http_.Get(base + "/manifests/" + digest, kManifestTypes));
      if (DigestOf(reply.body) != digest) {
        return Status::InvalidArgument("registry " + ref_.host + ": manifest " + digest + " does not match its digest");
      }
    }
    R2E_ASSIGN_OR_RETURN(ManifestContents manifest, ParseManifest(reply.body));
    ResolvedImage image;
    image.config_digest = manifest.config_digest;
    R2E_ASSIGN_OR_RETURN(Reply config, http_.Get(base + "/blobs/" + manifest.config_digest, "*/*"));
    if (DigestOf(config.body) != manifest.config_digest) {
      return Status::InvalidArgument("registry " + ref_.host + ": the config blob does not match its digest");
    }
    image.config_json = std::move(config.body);
    R2E_ASSIGN_OR_RETURN(image.config, ParseImageConfig(image.config_json));
    image.layer_digests = manifest.layer_digests;
    image.layer_sizes = manifest.layer_sizes;
    layers_ = manifest.layer_digests;
    return image;
  }

  // Downloads the layer whole (a retry starts it again), then hands out the
  // open file, already unlinked.
  Result<std::unique_ptr<BlobReader>> OpenLayer(std::size_t index) override {
    if (index >= layers_.size() || download_dir_.empty()) return Status::Internal("OpenLayer before Resolve");
    std::error_code ec;
    fs::create_directories(download_dir_, ec);
    const fs::path file = download_dir_ / ("layer-" + std::string(DigestHex(layers_[index])) + "." + internal::RandomHex(4));
    std::ofstream out;
    auto restart = [&] {
      out.close();
      out.open(file, std::ios::binary | std::ios::trunc);
    };
    auto sink = [&](const char* data, std::size_t n) {
      out.write(data, static_cast<std::streamsize>(n));
      return static_cast<bool>(out);
    };
    auto reply = http_.Get("/v2/" + ref_.name + "/blobs/" + layers_[index], "*/*", sink, restart);
    out.close();
    auto reader = reply.ok() ? FileBlobReader::Open(file) : Result<std::unique_ptr<FileBlobReader>>(reply.status());
    fs::remove(file, ec);  // the open reader keeps its bytes
    if (!reader.ok()) return reader.status();
    return std::unique_ptr<BlobReader>(std::move(reader).value());
  }

 private:
  std::string reference_;
  RegistryReference ref_;
  RegistryHttp http_;
  fs::path download_dir_;
  std::vector<std::string> layers_;
};

}  // namespace

std::string RegistryReference::Canonical() const {
  return host + "/" + name + (digest.empty() ? ":" + tag : "@" + digest);
}

Result<RegistryReference> ParseRegistryReference(const std::string& reference) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("image reference \"" + reference + "\": " + why +
                                   " (expected HOST[:PORT]/NAME[:TAG] or NAME@sha256:DIGEST)");
  };
  if (reference.empty() || reference.find_first_of(" \t\n\\") != std::string::npos) return bad("malformed");
  RegistryReference ref;
  std::string rest = reference;
  if (const auto at = rest.find('@'); at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest.resize(at);
    if (!IsSha256Digest(ref.digest)) return bad("the digest is not sha256:<64 hex digits>");
  }
  const auto slash = rest.find('/');
  const std::string first = rest.substr(0, slash);
  if (slash != std::string::npos &&
      (first.find_first_of(".:") != std::string::npos || first == "localhost" || first.starts_with("["))) {
    ref.host = first == "docker.io" || first == "index.docker.io" ? "registry-1.docker.io" : first;
    rest = rest.substr(slash + 1);
  } else {
    ref.host = "registry-1.docker.io";
  }
  if (const auto colon = rest.rfind(':'); colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
    ref.tag = rest.substr(colon + 1);
    rest.resize(colon);
    if (ref.tag.empty()) return bad("empty tag");
  } else if (ref.digest.empty()) {
    ref.tag = "latest";
  }
  if (rest.empty() || rest.front() == '/' || rest.back() == '/' || rest.find("//") != std::string::npos) {
    return bad("malformed repository name");
  }
  for (char ch : rest) {
    if (!(std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) ||
          ch == '.' || ch == '_' || ch == '-' || ch == '/')) {
      return bad("repository names are lowercase letters, digits, '.', '_', '-' and '/'");
    }
  }
  if (ref.host == "registry-1.docker.io" && rest.find('/') == std::string::npos) rest = "library/" + rest;
  ref.name = rest;
  return ref;
}

Result<std::unique_ptr<ImageSource>> OpenRegistry(const std::string& reference, const RegistryOptions& options) {
  R2E_ASSIGN_OR_RETURN(RegistryReference ref, ParseRegistryReference(reference));
  return std::unique_ptr<ImageSource>(new RegistrySource(reference, ref, options));
}

}  // namespace r2e::image
