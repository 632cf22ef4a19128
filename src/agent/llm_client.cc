// LlmClient: an OpenAI-compatible chat-completions client over cpp-httplib,
// and ParseChatCompletion. See r2e/llm_agent.h.
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "agent/agent_internal.h"
#include "core/text.h"
#include "r2e/llm_agent.h"
#include "r2e/observation.h"

namespace r2e {

using agent_internal::Clock;
using agent_internal::Dump;
using agent_internal::Excerpt;
using agent_internal::Json;
using agent_internal::OJson;
using agent_internal::SecondsSince;
using internal::ToLower;

namespace {

using Ms = std::chrono::milliseconds;

std::string FormatMs(Ms ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + " s";
  return std::to_string(ms.count()) + " ms";
}

// base_url split into what httplib needs.
struct Endpoint {
  bool https = false;
  std::string scheme_host_port;  // "http://host:port"
  std::string path;              // "/v1/chat/completions"
  std::string url;
};

Result<Endpoint> ParseBaseUrl(std::string_view base_url) {
  std::string url(base_url);
  while (!url.empty() && std::isspace(static_cast<unsigned char>(url.back()))) url.pop_back();
  while (!url.empty() && std::isspace(static_cast<unsigned char>(url.front()))) url.erase(0, 1);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("base URL `" + SanitizeUtf8(url) + "` " + why +
                                   " (expected http(s)://host[:port][/path], e.g. "
                                   "http://127.0.0.1:8000/v1)");
  };
  if (url.empty())
    return Status::InvalidArgument("no base URL given (e.g. http://127.0.0.1:8000/v1)");
  Endpoint ep;
  const std::string lower = ToLower(url);
  std::size_t pos;
  if (lower.rfind("http://", 0) == 0) {
    pos = 7;
  } else if (lower.rfind("https://", 0) == 0) {
    ep.https = true;
    pos = 8;
  } else {
    return bad("has no http:// or https:// scheme");
  }
  std::size_t end = url.find_first_of("/?#", pos);
  std::string authority = url.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
  std::string rest = end == std::string::npos ? "" : url.substr(end);
  if (authority.find('@') != std::string::npos)
    return bad("has user info; pass the key as the API key");
  std::string host;
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string::npos) return bad("has an unclosed IPv6 bracket");
    host = authority.substr(0, close + 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("has junk after the IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (host.empty() || host == "[]") return bad("has no host");
  for (char c : host) {
    if (std::isspace(static_cast<unsigned char>(c)) ||
        std::iscntrl(static_cast<unsigned char>(c))) {
      return bad("has a space or control character in the host");
    }
  }
  int port = ep.https ? 443 : 80;
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(),
                                             [](char c) { return c >= '0' && c <= '9'; })) {
      return bad("has a bad port");
    }
    port = std::stoi(port_text);
    if (port < 1 || port > 65535) return bad("has a port outside 1-65535");
  }
  if (!rest.empty() && rest[0] != '/') return bad("has a query or fragment but no path");
  std::size_t cut = rest.find_first_of("?#");
  std::string query = cut == std::string::npos ? "" : rest.substr(cut);
  std::string path = rest.substr(0, cut);
  for (char c : path) {
    if (std::isspace(static_cast<unsigned char>(c)) ||
        std::iscntrl(static_cast<unsigned char>(c))) {
      return bad("has a space or control character in the path");
    }
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  constexpr std::string_view kSuffix = "/chat/completions";
  if (path.size() < kSuffix.size() ||
      path.compare(path.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    path += kSuffix;
  }
  ep.path = path + query;
  ep.scheme_host_port =
      std::string(ep.https ? "https://" : "http://") + host + ":" + std::to_string(port);
  ep.url = ep.scheme_host_port + ep.path;
  return ep;
}

std::string ApiKeyFromEnv() {
  for (const char* name : {"R2E_API_KEY", "OPENAI_API_KEY"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return v;
  }
  return "";
}

bool LooksLikeContextOverflow(std::string_view body) {
  const std::string l = ToLower(body);
  return l.find("context_length_exceeded") != std::string::npos ||
         l.find("maximum context length") != std::string::npos ||
         l.find("context length") != std::string::npos ||
         l.find("too many tokens") != std::string::npos;
}

// The message of an OpenAI-style {"error": {"message": ...}} body, else an excerpt.
std::string ErrorDetail(std::string_view body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_object()) {
    auto e = j.find("error");
    if (e != j.end()) {
      if (e->is_string()) return Excerpt(e->get<std::string>());
      if (e->is_object()) {
        auto m = e->find("message");
        if (m != e->end() && m->is_string()) return Excerpt(m->get<std::string>());
      }
    }
    auto m = j.find("message");
    if (m != j.end() && m->is_string()) return Excerpt(m->get<std::string>());
    auto d = j.find("detail");
    if (d != j.end() && d->is_string()) return Excerpt(d->get<std::string>());
  }
  return Excerpt(body);
}

std::string TextOf(const Json& content) {
  if (content.is_string()) return content.get<std::string>();
  if (content.is_null()) return "";
  if (content.is_array()) {  // [{"type": "text", "text": "..."}, ...]
    std::string out;
    for (const auto& part : content) {
      if (part.is_string()) {
        out += part.get<std::string>();
      } else if (part.is_object()) {
        auto t = part.find("text");
        if (t != part.end() && t->is_string()) out += t->get<std::string>();
      }
    }
    return out;
  }
  return Dump(content);
}

std::int64_t IntField(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return 0;
  if (it->is_number_integer() || it->is_number_unsigned()) return it->get<std::int64_t>();
  if (it->is_number_float()) return static_cast<std::int64_t>(it->get<double>());
  return 0;
}

// Random jitter source, one per thread.
double Jitter() {
  thread_local std::minstd_rand rng(static_cast<unsigned>(
      Clock::now().time_since_epoch().count() ^
      static_cast<long long>(std::hash<std::thread::id>{}(std::this_thread::get_id()))));
  return std::uniform_real_distribution<double>(0.0, 0.25)(rng);
}

// Closes a client's socket when the attempt's deadline passes.
class Watchdog {
 public:
  Watchdog(httplib::Client& client, Clock::time_point deadline) {
    try {
      thread_ = std::thread([this, &client, deadline] {
        std::unique_lock<std::mutex> lock(mu_);
        if (!cv_.wait_until(lock, deadline, [this] { return done_; })) {
          fired_ = true;
          lock.unlock();
          client.stop();
        }
      });
    } catch (const std::exception&) {
      // No thread: the socket timeouts still bound the attempt.
    }
  }
  ~Watchdog() { Finish(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Returns whether the watchdog fired.
  bool Finish() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    return fired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;
};

struct HttpOutcome {
  int status = 0;
  std::string body;
  std::string retry_after;
};

enum class Failure { kNone, kRetryable, kTimeout, kFatal };

}  // namespace

// --------------------------------------------------------------------------
// LlmClient

struct LlmClient::Impl {
  LlmClientOptions options;
  Endpoint endpoint;
  std::string api_key;

  // One HTTP attempt. On failure returns the Status and sets `failure`.
  Result<HttpOutcome> Attempt(const std::string& body, Clock::time_point deadline,
                              Failure& failure);
};

Result<HttpOutcome> LlmClient::Impl::Attempt(const std::string& body, Clock::time_point deadline,
                                             Failure& failure) {
  const auto start = Clock::now();
  const Ms remaining = std::chrono::duration_cast<Ms>(deadline - start);
  if (remaining <= Ms(0)) {
    failure = Failure::kTimeout;
    return Status::Timeout("no time left for a request to " + endpoint.url);
  }
  auto cap = [&](Ms limit) { return std::max(Ms(1), std::min(limit, remaining)); };
  try {
    httplib::Client client(endpoint.scheme_host_port);
    if (!client.is_valid()) {
      failure = Failure::kFatal;
      return Status::InvalidArgument("cannot make an HTTP client for " + endpoint.url);
    }
    client.set_connection_timeout(cap(options.connect_timeout));
    client.set_read_timeout(cap(options.read_timeout));
    client.set_write_timeout(cap(options.write_timeout));
    client.set_keep_alive(false);
    client.set_follow_location(false);
    if (endpoint.https) {
      client.enable_server_certificate_verification(options.verify_tls);
      if (!options.ca_cert_file.empty()) client.set_ca_cert_path(options.ca_cert_file);
    }

    httplib::Request req;
    req.method = "POST";
    req.path = endpoint.path;
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    if (!api_key.empty()) req.headers.emplace("Authorization", "Bearer " + api_key);
    req.body = body;
    std::string received;
    bool too_big = false;
    const std::size_t max_bytes = options.max_response_bytes;
    req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
      if (received.size() + n > max_bytes) {
        too_big = true;
        return false;
      }
      received.append(data, n);
      return true;
    };

    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    bool sent;
    bool fired;
    {
      Watchdog watchdog(client, start + cap(options.request_timeout));
      sent = client.send(req, res, err);
      fired = watchdog.Finish();
    }
    const Ms took = std::chrono::duration_cast<Ms>(Clock::now() - start);
    if (too_big) {
      failure = Failure::kFatal;
      return Status::Internal("response from " + endpoint.url + " is larger than " +
                              std::to_string(max_bytes) + " bytes");
    }
    if (fired) {
      failure = Failure::kTimeout;
      return Status::Timeout("request to " + endpoint.url + " did not complete within " +
                             FormatMs(cap(options.request_timeout)));
    }
    if (!sent || err != httplib::Error::Success) {
      const std::string what = httplib::to_string(err);
      switch (err) {
        case httplib::Error::Read:
          // httplib reports a read timeout as a read error.
          if (took + Ms(50) >= cap(options.read_timeout)) {
            failure = Failure::kTimeout;
            return Status::Timeout("no reply from " + endpoint.url + " within " +
                                   FormatMs(cap(options.read_timeout)) + " (read timeout)");
          }
          failure = Failure::kRetryable;
          return Status::Unavailable("reading the reply from " + endpoint.url + " failed: " + what);
        case httplib::Error::ConnectionTimeout:
          failure = Failure::kRetryable;
          return Status::Unavailable("connecting to " + endpoint.url + " timed out after " +
                                     FormatMs(cap(options.connect_timeout)));
        case httplib::Error::Connection:
          failure = Failure::kRetryable;
          return Status::Unavailable("cannot connect to " + endpoint.url + " (" + what +
                                     "): is the model server running?");
        case httplib::Error::Write:
        case httplib::Error::SSLConnection:
        case httplib::Error::Unknown:
          failure = Failure::kRetryable;
          return Status::Unavailable("request to " + endpoint.url + " failed: " + what);
        default:
          failure = Failure::kFatal;
          return Status::Unavailable("request to " + endpoint.url + " failed: " + what);
      }
    }
    HttpOutcome out;
    out.status = res.status;
    out.body = std::move(received);
    out.retry_after = res.get_header_value("Retry-After");
    failure = Failure::kNone;
    return out;
  } catch (const std::exception& e) {
    failure = Failure::kFatal;
    return Status::Internal("request to " + endpoint.url + " failed: " + e.what());
  } catch (...) {
    failure = Failure::kFatal;
    return Status::Internal("request to " + endpoint.url + " failed with an unknown exception");
  }
}

namespace {

// `text` with every occurrence of `secret` (and of its last 8+ characters,
// which some servers print on their own) replaced by "[redacted]".
std::string RedactSecret(std::string text, const std::string& secret) {
  if (secret.size() < 4) return text;
  auto replace_all = [&text](const std::string& needle) {
    for (std::size_t p = 0; (p = text.find(needle, p)) != std::string::npos; p += 10) {
      text.replace(p, needle.size(), "[redacted]");
    }
  };
  replace_all(secret);
  if (secret.size() >= 16) replace_all(secret.substr(secret.size() - 8));
  return text;
}

}  // namespace

LlmClient::LlmClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LlmClient::~LlmClient() = default;

const std::string& LlmClient::endpoint() const { return impl_->endpoint.url; }

Result<std::unique_ptr<LlmClient>> LlmClient::Create(LlmClientOptions options) {
  if (options.model.empty()) return Status::InvalidArgument("no model name given");
  if (!options.extra_body.is_null() && !options.extra_body.is_object()) {
    return Status::InvalidArgument("extra_body must be a JSON object");
  }
  if (options.max_retries < 0) options.max_retries = 0;
  auto endpoint = ParseBaseUrl(options.base_url);
  if (!endpoint.ok()) return endpoint.status();
  auto impl = std::make_unique<Impl>();
  impl->api_key = options.api_key.empty() ? ApiKeyFromEnv() : options.api_key;
  impl->options = std::move(options);
  impl->endpoint = std::move(endpoint).value();
  return std::unique_ptr<LlmClient>(new LlmClient(std::move(impl)));
}

Result<LlmReply> LlmClient::Complete(const Json& messages, const OJson& tools,
                                     std::optional<Clock::time_point> deadline) {
  const auto start = Clock::now();
  const LlmClientOptions& o = impl_->options;
  std::string body;
  try {
    OJson request = {{"model", o.model}, {"messages", OJson(messages)}};
    if (tools.is_array() && !tools.empty()) {
      request["tools"] = tools;
      request["tool_choice"] = "auto";
    }
    if (o.temperature) request["temperature"] = *o.temperature;
    if (o.top_p) request["top_p"] = *o.top_p;
    if (o.max_completion_tokens) request["max_tokens"] = *o.max_completion_tokens;
    if (o.extra_body.is_object()) {
      for (const auto& [k, v] : o.extra_body.items()) request[k] = OJson(v);
    }
    body = Dump(request);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("cannot build the request: ") + e.what());
  }

  const Clock::time_point end = deadline.value_or(Clock::time_point::max());
  Status last;
  for (int attempt = 0;; ++attempt) {
    Failure failure = Failure::kNone;
    auto outcome = impl_->Attempt(body, end, failure);
    Ms retry_after{0};
    if (outcome.ok()) {
      const int code = outcome->status;
      if (code >= 200 && code < 300) {
        auto reply = ParseChatCompletion(outcome->body);
        if (!reply.ok()) return reply.status().WithContext("reply from " + impl_->endpoint.url);
        reply->attempts = attempt + 1;
        reply->seconds = SecondsSince(start);
        return reply;
      }
      // Servers echo credentials in error bodies ("Incorrect API key
      // provided: sk-..."): the key never reaches a Status or a log.
      const std::string detail = RedactSecret(ErrorDetail(outcome->body), impl_->api_key);
      const std::string what =
          "HTTP " + std::to_string(code) + " from " + impl_->endpoint.url + ": " + detail;
      if (code == 408 || code == 429 || code >= 500) {
        last = Status::Unavailable(what);
        if (!outcome->retry_after.empty() &&
            std::all_of(outcome->retry_after.begin(), outcome->retry_after.end(),
                        [](char c) { return c >= '0' && c <= '9'; }) &&
            outcome->retry_after.size() < 7) {
          retry_after = std::chrono::seconds(std::stoi(outcome->retry_after));
        }
      } else if (code == 400 && LooksLikeContextOverflow(outcome->body)) {
        return Status::ResourceExhausted("the prompt exceeds the model's context: " + what);
      } else {
        return Status::InvalidArgument(what);
      }
    } else {
      last = outcome.status();
      if (failure == Failure::kFatal) return last;
      if (failure == Failure::kTimeout && !o.retry_timeouts) return last;
    }
    if (attempt >= o.max_retries) {
      if (attempt == 0) return last;
      return last.WithContext("after " + std::to_string(attempt + 1) + " attempts");
    }
    // Backoff: initial * 2^attempt, capped, plus jitter; a Retry-After wins
    // (also capped).
    double base = static_cast<double>(o.initial_backoff.count()) *
                  static_cast<double>(1LL << std::min(attempt, 20));
    base = std::min(base, static_cast<double>(o.max_backoff.count()));
    Ms wait(static_cast<Ms::rep>(base * (1.0 + Jitter())));
    if (retry_after > Ms(0)) wait = std::min(retry_after, o.max_backoff);
    if (Clock::now() + wait >= end) {
      return last.WithContext("no time left to retry after " + std::to_string(attempt + 1) +
                              " attempts");
    }
    std::this_thread::sleep_for(wait);
  }
}

Result<LlmReply> ParseChatCompletion(std::string_view body) {
  try {
    Json j = Json::parse(body, nullptr, false);
    if (j.is_discarded()) return Status::Internal("response is not JSON: " + Excerpt(body));
    if (!j.is_object()) return Status::Internal("response is not a JSON object: " + Excerpt(body));
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty()) {
      if (j.contains("error"))
        return Status::Internal("server reported an error: " + ErrorDetail(body));
      return Status::Internal("response has no choices: " + Excerpt(body));
    }
    const Json& choice = (*choices)[0];
    if (!choice.is_object())
      return Status::Internal("choices[0] is not an object: " + Excerpt(body));
    auto message = choice.find("message");
    if (message == choice.end() || !message->is_object()) {
      return Status::Internal("choices[0] has no message object: " + Excerpt(body));
    }
    LlmReply reply;
    reply.message = *message;
    if (auto c = message->find("content"); c != message->end()) reply.content = TextOf(*c);
    for (const char* key : {"reasoning_content", "reasoning"}) {
      auto r = message->find(key);
      if (r != message->end() && r->is_string()) {
        reply.reasoning_content = r->get<std::string>();
        break;
      }
    }
    if (auto calls = message->find("tool_calls"); calls != message->end() && calls->is_array()) {
      for (const Json& call : *calls) {
        LlmToolCall tc;
        if (call.is_object()) {
          if (auto id = call.find("id"); id != call.end() && id->is_string())
            tc.id = id->get<std::string>();
          auto fn = call.find("function");
          if (fn != call.end() && fn->is_object()) {
            if (auto n = fn->find("name"); n != fn->end() && n->is_string())
              tc.name = n->get<std::string>();
            if (auto a = fn->find("arguments"); a != fn->end()) {
              tc.arguments =
                  a->is_string() ? a->get<std::string>() : (a->is_null() ? "" : Dump(*a));
            }
          }
        }
        reply.tool_calls.push_back(std::move(tc));
      }
    }
    if (auto f = choice.find("finish_reason"); f != choice.end() && f->is_string()) {
      reply.finish_reason = f->get<std::string>();
    }
    if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
      reply.usage.reported = true;
      reply.usage.prompt_tokens = IntField(*u, "prompt_tokens");
      reply.usage.completion_tokens = IntField(*u, "completion_tokens");
      reply.usage.total_tokens = IntField(*u, "total_tokens");
      if (reply.usage.total_tokens == 0) {
        reply.usage.total_tokens = reply.usage.prompt_tokens + reply.usage.completion_tokens;
      }
    }
    return reply;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot read the response: ") + e.what());
  }
}

}  // namespace r2e
