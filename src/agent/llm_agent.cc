// LlmClient (an OpenAI-compatible chat-completions client over cpp-httplib)
// and LlmAgent (the episode loop over a RepoEnv). See r2e/llm_agent.h.
#include "r2e/llm_agent.h"

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

#include "r2e/observation.h"
#include "r2e/repo_env.h"
#include "r2e/tools.h"

namespace r2e {
namespace {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;
using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A printable, valid UTF-8 prefix of a body for error messages.
std::string Excerpt(std::string_view body, std::size_t limit = 300) {
  std::string out = SanitizeUtf8(body.substr(0, std::min(body.size(), limit)));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (body.size() > limit) out += "...";
  if (body.empty()) out = "(empty body)";
  return out;
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }
std::string Dump(const OJson& j) { return j.dump(-1, ' ', false, OJson::error_handler_t::replace); }

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
  const std::string lower = Lower(url);
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
  const std::string l = Lower(body);
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

// --------------------------------------------------------------------------
// Tool schemas and prompts

std::vector<OJson> DefaultToolSchemas() {
  return {
      OJson{{"type", "function"},
            {"function",
             {{"name", "execute_bash"},
              {"description",
               "Run a bash command in the repository's sandbox. The working directory is /testbed. "
               "Output (stdout and stderr) longer than 80 lines keeps its first and last 40 lines. "
               "Commands starting with git, ipython, jupyter or nohup are refused. A command that "
               "runs too long is killed."},
              {"parameters",
               {{"type", "object"},
                {"properties",
                 {{"cmd", {{"type", "string"}, {"description", "The bash command to run."}}}}},
                {"required", OJson::array({"cmd"})}}}}}},
      OJson{{"type", "function"},
            {"function",
             {{"name", "finish"},
              {"description",
               "Submit your changes and end the task. Call it once the task is solved."},
              {"parameters",
               {{"type", "object"},
                {"properties",
                 {{"command",
                   {{"type", "string"},
                    {"enum", OJson::array({"submit"})},
                    {"description", "Always `submit`."}}},
                  {"result",
                   {{"type", "string"},
                    {"description", "Optional: a short summary of what you changed."}}}}},
                {"required", OJson::array({"command"})}}}}}},
  };
}

Result<OJson> NormalizeToolSchema(const OJson& schema) {
  if (!schema.is_object()) return Status::InvalidArgument("a tool schema must be a JSON object");
  const OJson* fn = &schema;
  if (auto f = schema.find("function"); f != schema.end()) {
    if (!f->is_object())
      return Status::InvalidArgument("a tool schema's `function` must be an object");
    fn = &*f;
  }
  auto name = fn->find("name");
  if (name == fn->end() || !name->is_string() || name->get<std::string>().empty()) {
    return Status::InvalidArgument("a tool schema has no name: " + Excerpt(Dump(schema)));
  }
  OJson out_fn = {{"name", *name}};
  if (auto d = fn->find("description"); d != fn->end() && d->is_string())
    out_fn["description"] = *d;
  if (auto p = fn->find("parameters"); p != fn->end() && p->is_object()) {
    out_fn["parameters"] = *p;
  } else {
    out_fn["parameters"] = {{"type", "object"}, {"properties", OJson::object()}};
  }
  return OJson{{"type", "function"}, {"function", std::move(out_fn)}};
}

namespace {

// The tools as text, for the XML-mode system prompt.
std::string DescribeTools(const std::vector<OJson>& tools) {
  std::string out;
  int n = 0;
  for (const OJson& tool : tools) {
    auto norm = NormalizeToolSchema(tool);
    if (!norm.ok()) continue;
    const OJson& fn = (*norm)["function"];
    const std::string name = fn["name"].get<std::string>();
    ++n;
    out += "---- BEGIN FUNCTION #" + std::to_string(n) + ": " + name + " ----\n";
    if (fn.contains("description"))
      out += "Description: " + fn["description"].get<std::string>() + "\n";
    const OJson& params = fn["parameters"];
    std::vector<std::string> required;
    if (auto r = params.find("required"); r != params.end() && r->is_array()) {
      for (const auto& x : *r) {
        if (x.is_string()) required.push_back(x.get<std::string>());
      }
    }
    auto props = params.find("properties");
    if (props != params.end() && props->is_object() && !props->empty()) {
      out += "Parameters:\n";
      int k = 0;
      for (const auto& [pname, p] : props->items()) {
        ++k;
        std::string type = "string";
        std::string desc;
        std::string choices;
        if (p.is_object()) {
          if (auto t = p.find("type"); t != p.end())
            type = t->is_string() ? t->get<std::string>() : Dump(*t);
          if (auto d = p.find("description"); d != p.end() && d->is_string())
            desc = d->get<std::string>();
          if (auto e = p.find("enum"); e != p.end() && e->is_array()) {
            for (const auto& v : *e)
              choices += (choices.empty() ? "" : ", ") +
                         (v.is_string() ? "`" + v.get<std::string>() + "`" : Dump(v));
          }
        }
        const bool req = std::find(required.begin(), required.end(), pname) != required.end();
        out += "  (" + std::to_string(k) + ") " + pname + " (" + type + ", " +
               (req ? "required" : "optional") + ")";
        if (!desc.empty()) out += ": " + desc;
        if (!choices.empty()) out += " Allowed values: [" + choices + "]";
        out += "\n";
      }
    } else {
      out += "No parameters.\n";
    }
    out += "---- END FUNCTION #" + std::to_string(n) + " ----\n\n";
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Replaces each "{key}" once, left to right, without rescanning the inserted text.
std::string Fill(std::string_view tmpl,
                 const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  std::size_t i = 0;
  while (i < tmpl.size()) {
    bool replaced = false;
    if (tmpl[i] == '{') {
      for (const auto& [key, value] : values) {
        const std::string token = "{" + key + "}";
        if (tmpl.compare(i, token.size(), token) == 0) {
          out += value;
          i += token.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += tmpl[i++];
  }
  return out;
}

constexpr std::string_view kSystemPrompt =
    "You are a programming agent working on a software repository. The repository is checked "
    "out at /testbed, which is also the working directory of every command. You act by calling "
    "the functions you are given; each call runs in the repository's sandbox and you then see "
    "its output. Call exactly one function per reply. When the task is solved, call `{finish}`.";

constexpr std::string_view kXmlFormat =
    "\n\nWrite your reasoning first, then exactly one function call in this format:\n\n"
    "<function=FUNCTION_NAME>\n"
    "<parameter=PARAMETER_NAME>VALUE</parameter>\n"
    "...\n"
    "</function>\n\n"
    "For example:\n\n"
    "<function=execute_bash>\n"
    "<parameter=cmd>grep -rn \"def main\" .</parameter>\n"
    "</function>\n\n"
    "Values are taken verbatim: no quoting or escaping. A reply without a function call does "
    "nothing.\n\nAvailable functions:\n\n";

constexpr std::string_view kInstanceTemplate =
    "Resolve the issue below in the repository at /testbed.\n\n"
    "<issue>\n{task}\n</issue>\n\n"
    "Change non-test source files only; hidden tests will check your change. A good way to "
    "work: find the relevant code, reproduce the problem with a short script, fix it, run the "
    "script and the existing tests again, then call `{finish}`.";

// Keeps the head and tail of text longer than `limit` characters.
std::string ClipObservation(const std::string& text, std::size_t limit) {
  if (limit == 0 || text.size() <= limit) return text;
  const std::size_t half = limit / 2;
  std::string note = "\n\n[... " + std::to_string(text.size() - 2 * half) +
                     " characters of this output were cut ...]\n\n";
  return SanitizeUtf8(text.substr(0, half)) + note + SanitizeUtf8(text.substr(text.size() - half));
}

}  // namespace

std::string_view LlmExitName(LlmExit exit) {
  switch (exit) {
    case LlmExit::kFinished:
      return "finished";
    case LlmExit::kMaxSteps:
      return "max_steps";
    case LlmExit::kMaxTokens:
      return "max_tokens";
    case LlmExit::kTimeLimit:
      return "time_limit";
    case LlmExit::kLlmError:
      return "llm_error";
    case LlmExit::kEnvError:
      return "env_error";
  }
  return "llm_error";
}

StepRecord ToStepRecord(const LlmStep& step) {
  StepRecord r;
  r.step = step.step;
  r.thought = step.thought;
  r.action = step.action.empty() ? "" : step.action.ToXml();
  r.observation = step.observation;
  r.done = step.done;
  r.exit_code = step.exit_code;
  r.timed_out = step.timed_out;
  r.duration_s = step.env_s;
  r.model_s = step.model_s;
  if (step.usage.reported) {
    r.prompt_tokens = step.usage.prompt_tokens;
    r.completion_tokens = step.usage.completion_tokens;
    r.total_tokens = step.usage.total_tokens;
  }
  Json extra = Json::object();
  if (!step.tool_call_id.empty()) extra["tool_call_id"] = step.tool_call_id;
  if (!step.error.empty()) extra["error"] = step.error;
  if (step.attempts > 1) extra["model_attempts"] = step.attempts;
  if (!extra.empty()) r.extra = std::move(extra);
  return r;
}

Result<LlmAgent> LlmAgent::Create(LlmAgentOptions options) {
  // The same checks LlmClient::Create makes, so Run() cannot fail on them.
  auto client = LlmClient::Create(options.client);
  if (!client.ok()) return client.status();
  for (auto& tool : options.tools) {
    auto norm = NormalizeToolSchema(tool);
    if (!norm.ok()) return norm.status();
    tool = std::move(norm).value();
  }
  if (options.max_steps < 0)
    return Status::InvalidArgument("max_steps must be 0 (none) or positive");
  return LlmAgent(std::move(options));
}

LlmAgent::Offer LlmAgent::MakeOffer(const RepoEnv& env) const {
  Offer offer;
  if (!options_.tools.empty()) {
    offer.schemas = options_.tools;
    offer.listing = DescribeTools(offer.schemas);
    return offer;
  }
  const std::vector<ToolDescription> tools = env.tools();
  if (!tools.empty()) {
    offer.schemas = env.tool_schemas();
    offer.listing = ToolsPromptText(tools);
    while (!offer.listing.empty() && offer.listing.back() == '\n') offer.listing.pop_back();
    return offer;
  }
  offer.schemas = DefaultToolSchemas();
  offer.listing = DescribeTools(offer.schemas);
  return offer;
}

namespace {

// The name of the tool that ends the episode, for the prompts: `finish` if
// offered, else the first finish/submit-like tool, else `finish`.
std::string FinishToolName(const std::vector<OJson>& schemas) {
  std::optional<std::string> first;
  for (const auto& schema : schemas) {
    auto fn = schema.find("function");
    if (fn == schema.end() || !fn->is_object()) continue;
    auto n = fn->find("name");
    if (n == fn->end() || !n->is_string()) continue;
    Action a;
    a.function_name = n->get<std::string>();
    if (a.function_name == "finish") return a.function_name;
    if (a.is_finish() && !first) first = a.function_name;
  }
  return first.value_or("finish");
}

}  // namespace

std::string LlmAgent::SystemPrompt(const Offer& offer, const std::string& task) const {
  const std::vector<std::pair<std::string, std::string>> values = {
      {"task", task}, {"tools", offer.listing}, {"finish", FinishToolName(offer.schemas)}};
  if (!options_.system_prompt.empty()) return Fill(options_.system_prompt, values);
  std::string out = Fill(kSystemPrompt, values);
  if (options_.xml_mode) out += std::string(kXmlFormat) + offer.listing;
  return out;
}

std::string LlmAgent::InstancePrompt(const Offer& offer, const std::string& task) const {
  const std::vector<std::pair<std::string, std::string>> values = {
      {"task", task}, {"tools", offer.listing}, {"finish", FinishToolName(offer.schemas)}};
  return Fill(options_.instance_prompt_template.empty()
                  ? kInstanceTemplate
                  : std::string_view(options_.instance_prompt_template),
              values);
}

std::vector<OJson> LlmAgent::ToolSchemas(const RepoEnv& env) const {
  return MakeOffer(env).schemas;
}

std::string LlmAgent::SystemPrompt(const RepoEnv& env) const {
  return SystemPrompt(MakeOffer(env), env.task_instruction());
}

std::string LlmAgent::InstancePrompt(const RepoEnv& env) const {
  return InstancePrompt(MakeOffer(env), env.task_instruction());
}

OJson LlmAgent::ToolsJson(const RepoEnv& env) const {
  if (options_.xml_mode) return nullptr;
  OJson out = OJson::array();
  for (auto& t : MakeOffer(env).schemas) out.push_back(std::move(t));
  return out;
}

// --------------------------------------------------------------------------
// The episode loop

LlmEpisode LlmAgent::Run(RepoEnv& env, const std::function<void(const LlmStep&)>& on_step) const {
  LlmEpisode ep;
  const auto start = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (options_.time_limit > Ms(0)) deadline = start + options_.time_limit;
  // The reason carries the detail only for errors ("llm_error: ..."); the
  // status is kept in every case (e.g. the 400 behind a max_tokens).
  auto end_with = [&](LlmExit exit, Status status = Status()) -> LlmEpisode {
    ep.exit = exit;
    ep.exit_reason = std::string(LlmExitName(exit));
    if (!status.ok() && (exit == LlmExit::kLlmError || exit == LlmExit::kEnvError)) {
      ep.exit_reason += ": " + SanitizeUtf8(status.ToString());
    }
    ep.status = std::move(status);
    ep.duration_s = SecondsSince(start);
    return std::move(ep);
  };

  try {
    if (options_.reset_env) {
      auto first = env.reset();
      ep.reset_s = SecondsSince(start);
      if (!first.ok()) return end_with(LlmExit::kEnvError, first.status().WithContext("reset"));
    }
    auto client_or = LlmClient::Create(options_.client);
    if (!client_or.ok()) return end_with(LlmExit::kLlmError, client_or.status());
    std::unique_ptr<LlmClient> client = std::move(client_or).value();

    const Offer offer = MakeOffer(env);
    const std::string task = env.task_instruction();
    ep.messages.push_back({{"role", "system"}, {"content", SystemPrompt(offer, task)}});
    ep.messages.push_back({{"role", "user"}, {"content", InstancePrompt(offer, task)}});
    OJson tools = nullptr;
    if (!options_.xml_mode) tools = OJson(offer.schemas);

    for (;;) {
      if (options_.max_steps > 0 && ep.steps >= options_.max_steps)
        return end_with(LlmExit::kMaxSteps);
      if (options_.max_total_tokens > 0 && ep.total_tokens >= options_.max_total_tokens) {
        return end_with(LlmExit::kMaxTokens);
      }
      if (options_.max_context_tokens > 0 &&
          ep.last_context_tokens >= options_.max_context_tokens) {
        return end_with(LlmExit::kMaxTokens);
      }
      if (deadline && Clock::now() >= *deadline) return end_with(LlmExit::kTimeLimit);

      auto reply = client->Complete(ep.messages, tools, deadline);
      ++ep.model_calls;
      if (!reply.ok()) {
        if (deadline && Clock::now() + Ms(50) >= *deadline) {
          return end_with(LlmExit::kTimeLimit, reply.status());
        }
        if (reply.status().code() == StatusCode::kResourceExhausted) {
          return end_with(LlmExit::kMaxTokens, reply.status());
        }
        return end_with(LlmExit::kLlmError, reply.status());
      }
      ep.model_s += reply->seconds;
      if (reply->usage.reported) {
        ep.prompt_tokens += reply->usage.prompt_tokens;
        ep.completion_tokens += reply->usage.completion_tokens;
        ep.total_tokens += reply->usage.total_tokens;
        ep.last_context_tokens = reply->usage.prompt_tokens + reply->usage.completion_tokens;
      }

      LlmStep rec;
      rec.step = ++ep.steps;
      rec.raw_reply = reply->content;
      rec.model_s = reply->seconds;
      rec.attempts = reply->attempts;
      rec.usage = reply->usage;

      const bool use_calls = !options_.xml_mode && !reply->tool_calls.empty();
      bool nameless = false;
      for (const auto& c : reply->tool_calls) nameless = nameless || c.name.empty();

      Json assistant = {{"role", "assistant"}, {"content", reply->content}};
      // Tool messages answering calls other than the one run.
      std::vector<Json> skipped;
      bool answer_as_tool = false;

      if (use_calls && !nameless) {
        Json calls = Json::array();
        for (std::size_t i = 0; i < reply->tool_calls.size(); ++i) {
          const LlmToolCall& c = reply->tool_calls[i];
          std::string id =
              c.id.empty() ? "call_" + std::to_string(rec.step) + "_" + std::to_string(i) : c.id;
          // Arguments that do not parse are echoed as {} so that the next
          // request stays valid for servers that parse the history.
          std::string args = c.arguments.empty() ? "{}" : c.arguments;
          Json parsed = Json::parse(args, nullptr, false);
          if (parsed.is_discarded() || !parsed.is_object()) args = "{}";
          calls.push_back({{"id", id},
                           {"type", "function"},
                           {"function", {{"name", c.name}, {"arguments", args}}}});
          if (i == 0) {
            rec.tool_call_id = id;
            auto action = ActionFromToolCall(c.name, c.arguments);
            if (action.ok() && action->arguments->is_object()) {
              rec.action = std::move(action).value();
            } else {
              // The scaffold reads arguments that are not JSON as no call
              // (and crashes on JSON that is not an object); the model is
              // told what was wrong instead.
              rec.action.function_name = c.name;
              rec.error = action.ok()
                              ? "arguments of tool call '" + c.name +
                                    "' must be a JSON object, got " + action->arguments->type_name()
                              : action.status().message();
            }
          } else {
            skipped.push_back(
                {{"role", "tool"},
                 {"tool_call_id", id},
                 {"content", "Only one function call per reply is run; this call to `" +
                                 SanitizeUtf8(c.name) + "` was skipped."}});
          }
        }
        assistant["tool_calls"] = std::move(calls);
        rec.thought = !reply->content.empty() ? reply->content : reply->reasoning_content;
        rec.action.thought = rec.thought;
        answer_as_tool = true;
      } else if (use_calls && nameless) {
        rec.error = "the reply has a tool call without a function name";
        rec.thought = reply->content;
      } else if (options_.xml_mode) {
        // As the scaffold's agent without function calling: the first
        // <function=...</function> block is the action, the first <think>
        // block the thought, and only these stay in the history.
        rec.action = ParseResponse(reply->content);
        rec.thought = rec.action.thought;
        if (rec.thought.empty()) rec.thought = reply->reasoning_content;
        assistant["content"] = AssistantHistoryContent(rec.action);
      } else {
        // r2e's own: a function-calling reply without calls may still hold
        // a text call; the text before it is the thought.
        rec.action = ParseResponseV2(reply->content);
        rec.thought = rec.action.thought;
        if (rec.thought.empty()) rec.thought = reply->reasoning_content;
      }
      ep.messages.push_back(std::move(assistant));

      if (!rec.error.empty()) {
        rec.observation =
            "Error: " + SanitizeUtf8(rec.error) +
            ". Nothing was run. Call one of the available functions with a JSON object "
            "of arguments.";
        rec.exit_code = 1;
      } else {
        std::chrono::seconds timeout = options_.step_timeout;
        if (deadline) {
          const auto left = std::chrono::ceil<std::chrono::seconds>(*deadline - Clock::now());
          std::chrono::seconds bound =
              timeout.count() > 0 ? timeout : RepoEnvOptions{}.step_timeout;
          timeout = std::max(std::chrono::seconds(1), std::min(bound, left));
        }
        const auto t_env = Clock::now();
        auto r = env.step(rec.action, timeout);
        rec.env_s = SecondsSince(t_env);
        ep.env_s += rec.env_s;
        if (!r.ok()) {
          ep.records.push_back(rec);
          return end_with(LlmExit::kEnvError, r.status());
        }
        rec.observation = r->observation.text;
        rec.done = r->done;
        rec.exit_code = r->observation.exit_code;
        rec.timed_out = r->observation.timed_out;
      }
      const std::string shown = ClipObservation(rec.observation, options_.max_observation_chars);
      if (answer_as_tool) {
        ep.messages.push_back(
            {{"role", "tool"}, {"tool_call_id", rec.tool_call_id}, {"content", shown}});
        for (auto& m : skipped) ep.messages.push_back(std::move(m));
      } else {
        ep.messages.push_back({{"role", "user"}, {"content", shown}});
      }
      ep.records.push_back(rec);
      if (on_step) {
        try {
          on_step(ep.records.back());
        } catch (...) {
          // A callback's exception must not end the episode without its result.
        }
      }
      if (rec.done) return end_with(LlmExit::kFinished);
    }
  } catch (const std::exception& e) {
    return end_with(LlmExit::kLlmError, Status::Internal(std::string("agent loop: ") + e.what()));
  } catch (...) {
    return end_with(LlmExit::kLlmError, Status::Internal("agent loop: unknown exception"));
  }
}

}  // namespace r2e
