#include "docker/docker_text.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <type_traits>

#include "core/http_status.h"
#include "core/text.h"

namespace r2e::docker {

namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxMessage = 1000;
constexpr std::string_view kDefaultSocket = "/var/run/docker.sock";

}  // namespace

std::string Truncate(std::string s) {
  if (s.size() > kMaxMessage) {
    s.resize(kMaxMessage);
    s += "...";
  }
  return s;
}

bool Contains(std::string_view message, std::string_view needle) {
  return internal::Contains(internal::ToLower(message), needle);
}

std::string QueryValue(std::string_view s) { return internal::PercentEncode(s); }
// Image names carry '/', ':' and '@'; the daemon's router takes them raw.
std::string PathPart(std::string_view s) { return internal::PercentEncode(s, "/:@"); }

// "1.41" -> {1, 41}; garbage -> {0, 0}.
std::pair<int, int> ParseVersion(std::string_view v) {
  int major = 0;
  int minor = 0;
  std::size_t i = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])))
    major = major * 10 + (v[i++] - '0');
  if (i < v.size() && v[i] == '.') ++i;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])))
    minor = minor * 10 + (v[i++] - '0');
  return {major, minor};
}

std::string Pretty(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

std::string UnavailableText(const std::string& socket, const std::string& error) {
  return "cannot reach the Docker daemon at " + socket + ": " + error +
         "; start it (scripts/start-dockerd.sh) or set DOCKER_HOST";
}

Result<std::string> ResolveSocket(const std::string& option) {
  std::string_view unix_prefix = "unix://";
  if (!option.empty()) {
    if (option.starts_with(unix_prefix)) return option.substr(unix_prefix.size());
    return option;
  }
  const char* host = std::getenv("DOCKER_HOST");
  if (host != nullptr && *host != '\0') {
    std::string_view h(host);
    if (h.starts_with(unix_prefix)) return std::string(h.substr(unix_prefix.size()));
    // Talking to some other daemon than the one named would be worse than failing.
    return Status::InvalidArgument(
        "DOCKER_HOST=" + std::string(h) +
        " is not a unix:// socket; r2e reaches the Docker daemon over its "
        "Unix socket only (set DOCKER_HOST=unix:///path or the socket path "
        "option)");
  }
  return std::string(kDefaultSocket);
}

Result<Json> ParseJson(const std::string& body, const std::string& what) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    return Status::Internal("docker " + what +
                            ": the daemon's answer is not JSON: " + Truncate(body));
  }
  return j;
}

Result<std::string> StringField(const Json& j, const char* key, const std::string& what) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) {
    return Status::Internal("docker " + what + ": answer lacks \"" + key +
                            "\": " + Truncate(j.dump()));
  }
  return j[key].get<std::string>();
}

// Feeds `chunk` to the demuxer with stdout and stderr kept apart. The demuxer
// appends both streams to one string (stderr also to a second), so a chunk
// that mixes streams is fed again in halves from a saved demuxer state.
static_assert(std::is_copy_constructible_v<FrameDemuxer>, "SplitFeed restores demuxer state");
Status SplitFeed(FrameDemuxer& demux, std::string_view chunk, std::string& out, std::string& err) {
  if (chunk.empty()) return Status::OK();
  FrameDemuxer saved = demux;
  std::string all;
  std::string errs;
  R2E_RETURN_IF_ERROR(demux.feed(chunk, all, &errs));
  if (errs.empty()) {
    out += all;
    return Status::OK();
  }
  if (errs.size() == all.size()) {
    err += errs;
    return Status::OK();
  }
  demux = saved;
  std::size_t half = chunk.size() / 2;  // >= 1: a 1-byte chunk yields at most one byte
  R2E_RETURN_IF_ERROR(SplitFeed(demux, chunk.substr(0, half), out, err));
  return SplitFeed(demux, chunk.substr(half), out, err);
}

// One HTTP connection to the daemon, used synchronously: each call starts an
// async operation under the deadline and runs the private io_context until it

// The daemon's {"message"} of an error body, else the body text.
std::string ErrorMessage(int http_status, const std::string& body) {
  std::string message;
  try {
    Json j = Json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("message") && j["message"].is_string()) {
      message = j["message"].get<std::string>();
    }
  } catch (const std::exception&) {
    // fall back to the body text
  }
  if (message.empty()) message = std::string(internal::Trim(body));
  if (message.empty()) message = "HTTP " + std::to_string(http_status);
  return message;
}

// Turns a pull's in-stream error into a Status.
Status PullError(const std::string& image, const std::string& message) {
  std::string text = "docker pull " + image + ": " + Truncate(message);
  if (Contains(message, "not found") || Contains(message, "does not exist") ||
      Contains(message, "manifest unknown")) {
    return Status::NotFound(text);
  }
  if (Contains(message, "invalid reference") || Contains(message, "invalid tag")) {
    return Status::InvalidArgument(text);
  }
  return Status::Unavailable(text);
}

// Handles one JSON line of a pull's progress stream.
Status PullLine(std::string_view line, const std::string& image,
                const std::function<void(const std::string&)>& progress) {
  line = internal::Trim(line);
  if (line.empty()) return Status::OK();
  Json j = Json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    if (progress) progress(std::string(line));
    return Status::OK();
  }
  if (j.contains("error") || j.contains("errorDetail")) {
    std::string message;
    if (j.contains("error") && j["error"].is_string()) {
      message = j["error"].get<std::string>();
    } else if (j["errorDetail"].is_object() && j["errorDetail"].contains("message") &&
               j["errorDetail"]["message"].is_string()) {
      message = j["errorDetail"]["message"].get<std::string>();
    } else {
      message = std::string(line);
    }
    return PullError(image, message);
  }
  if (progress) {
    std::string text;
    if (j.contains("id") && j["id"].is_string()) text += j["id"].get<std::string>() + ": ";
    if (j.contains("status") && j["status"].is_string()) text += j["status"].get<std::string>();
    if (j.contains("progress") && j["progress"].is_string())
      text += " " + j["progress"].get<std::string>();
    progress(text.empty() ? std::string(line) : text);
  }
  return Status::OK();
}

// image[:tag|@digest] -> {name, tag or digest}; "latest" when neither (an
// empty tag would pull every tag).
std::pair<std::string, std::string> SplitImage(const std::string& image) {
  auto at = image.find('@');
  if (at != std::string::npos) return {image.substr(0, at), image.substr(at + 1)};
  auto colon = image.rfind(':');
  auto slash = image.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    return {image.substr(0, colon), image.substr(colon + 1)};
  }
  return {image, "latest"};
}

Status ToStatus(int http_status, const std::string& body, const std::string& what) {
  if (http_status >= 200 && http_status < 400) return Status::OK();
  std::string message = ErrorMessage(http_status, body);
  std::string text = "docker " + what + ": " + Truncate(std::string(internal::Trim(message)));
  if (http_status == 500) {
    // Podman's Docker-compatible API answers 500 where Docker answers 409 or
    // 400; libpod's error texts end with the kind of error.
    if (Contains(message, "container state improper")) return internal::HttpErrorStatus(409, std::move(text), false);
    if (Contains(message, "already in use")) return internal::HttpErrorStatus(409, std::move(text), true);
    if (message.ends_with(": invalid argument")) return internal::HttpErrorStatus(400, std::move(text), false);
    // The daemon's own failure (a registry it cannot reach is a 500 too).
    return Status::Internal(std::move(text));
  }
  // 409 covers both a taken name and an object in the wrong state.
  const bool taken = Contains(message, "already in use") || Contains(message, "already exists");
  return internal::HttpErrorStatus(http_status, std::move(text), taken);
}

}  // namespace r2e::docker
