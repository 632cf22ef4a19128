// The text of the Docker Engine API, without any I/O: request targets
// (escaping, image references), the daemon's answers (JSON bodies, error
// messages, pull progress lines, the exec stream's frames) and the socket
// to reach it. Used by the client's translation units; unit-tested through
// them.
#ifndef R2E_DOCKER_DOCKER_TEXT_H_
#define R2E_DOCKER_DOCKER_TEXT_H_

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "docker/docker_client.h"
#include "r2e/status.h"

namespace r2e::docker {

// The newest API version we speak: Debian's docker.io 20.10 speaks it and it
// has all we use; newer daemons still accept it.
inline constexpr std::string_view kMaxApiVersion = "1.41";

// `s` cut to 1000 bytes ("..." marks the cut), for messages.
std::string Truncate(std::string s);

// Whether `haystack`, in lower case, contains `needle` (lower case).
bool Contains(std::string_view haystack, std::string_view needle);

// A query parameter's value, percent-encoded.
std::string QueryValue(std::string_view s);
// A path segment (an id or image name: '/', ':' and '@' kept as they are).
std::string PathPart(std::string_view s);

// "1.41" -> {1, 41}; garbage -> {0, 0}.
std::pair<int, int> ParseVersion(std::string_view v);

// "<n> ms".
std::string Pretty(std::chrono::milliseconds d);

// Why the daemon at `socket` cannot be reached, and what to do.
std::string UnavailableText(const std::string& socket, const std::string& error);

// The socket path: the option (a path or unix://PATH), else $DOCKER_HOST
// when it is unix://PATH (InvalidArgument for any other scheme), else
// /var/run/docker.sock.
Result<std::string> ResolveSocket(const std::string& option);

// The answer's JSON; Internal when it is not JSON.
Result<nlohmann::json> ParseJson(const std::string& body, const std::string& what);

// The string `key` of an answer; Internal when it has none.
Result<std::string> StringField(const nlohmann::json& j, const char* key, const std::string& what);

// Feeds `chunk` to the demuxer with stdout (to `out`) and stderr (to `err`)
// kept apart.
Status SplitFeed(FrameDemuxer& demux, std::string_view chunk, std::string& out, std::string& err);

// The daemon's {"message"} of an error body, else the body text, else
// "HTTP <status>".
std::string ErrorMessage(int http_status, const std::string& body);

// A pull's error message as a Status: NotFound for an unknown image,
// InvalidArgument for a bad reference, else Unavailable.
Status PullError(const std::string& image, const std::string& message);

// Handles one JSON line of a pull's progress stream: an {"error"} is the
// pull's failure; other lines go to `progress` as text.
Status PullLine(std::string_view line, const std::string& image,
                const std::function<void(const std::string&)>& progress);

// image[:tag|@digest] -> {name, tag or digest}; "latest" when neither (an
// empty tag would pull every tag).
std::pair<std::string, std::string> SplitImage(const std::string& image);

}  // namespace r2e::docker

#endif  // R2E_DOCKER_DOCKER_TEXT_H_
