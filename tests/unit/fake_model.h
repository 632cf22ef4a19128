// A scripted OpenAI-compatible model server for tests (httplib::Server on
// 127.0.0.1, a free port, its own thread): plays back replies in order and
// records every request. Used by the llm_agent, llm_client and scaffold_agent
// tests.
#ifndef R2E_TESTS_UNIT_FAKE_MODEL_H_
#define R2E_TESTS_UNIT_FAKE_MODEL_H_

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace r2e::testing_model {

using namespace std::chrono_literals;
using Json = nlohmann::json;

// One scripted HTTP reply.
struct Reply {
  Reply() = default;
  Reply(int s, std::string b, std::chrono::milliseconds d = std::chrono::milliseconds(0),
        std::vector<std::pair<std::string, std::string>> h = {})
      : status(s), body(std::move(b)), delay(d), headers(std::move(h)) {}

  int status = 200;
  std::string body;
  std::chrono::milliseconds delay{0};
  std::vector<std::pair<std::string, std::string>> headers;
};

inline Json Usage(int prompt, int completion) {
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion},
          {"total_tokens", prompt + completion}};
}

// A chat.completion body whose message is `message`.
inline Reply MessageReply(Json message, Json usage = nullptr) {
  Json body = {
      {"id", "chatcmpl-test"},
      {"object", "chat.completion"},
      {"model", "test-model"},
      {"choices",
       Json::array({{{"index", 0}, {"message", std::move(message)}, {"finish_reason", "stop"}}})}};
  if (!usage.is_null()) body["usage"] = std::move(usage);
  return {200, body.dump()};
}

inline Reply TextReply(const std::string& content, Json usage = nullptr) {
  return MessageReply({{"role", "assistant"}, {"content", content}}, std::move(usage));
}

inline Reply ToolCallReply(const std::string& name, const std::string& arguments,
                    const std::string& content = "", const std::string& id = "",
                    Json usage = nullptr) {
  Json call = {{"type", "function"}, {"function", {{"name", name}, {"arguments", arguments}}}};
  if (!id.empty()) call["id"] = id;
  Json message = {{"role", "assistant"}, {"tool_calls", Json::array({call})}};
  message["content"] = content.empty() ? Json(nullptr) : Json(content);
  return MessageReply(std::move(message), std::move(usage));
}

// The scripted model: plays back replies in order (then answers 500) and
// records every request. Listens on 127.0.0.1 only.
class FakeModel {
 public:
  FakeModel() {
    server_.Post(".*",
                 [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(2ms);
  }
  ~FakeModel() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_.stop();
    thread_.join();
  }

  void Script(std::vector<Reply> replies) {
    std::lock_guard<std::mutex> lock(mu_);
    replies_.assign(replies.begin(), replies.end());
  }
  std::vector<Json> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> paths() {
    std::lock_guard<std::mutex> lock(mu_);
    return paths_;
  }
  std::vector<std::string> auth() {
    std::lock_guard<std::mutex> lock(mu_);
    return auth_;
  }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

 private:
  void Handle(const httplib::Request& req, httplib::Response& res) {
    Reply reply;
    {
      std::unique_lock<std::mutex> lock(mu_);
      requests_.push_back(Json::parse(req.body, nullptr, false));
      paths_.push_back(req.path);
      auth_.push_back(req.get_header_value("Authorization"));
      if (replies_.empty()) {
        reply = {500, R"({"error": {"message": "script exhausted"}})"};
      } else {
        reply = replies_.front();
        replies_.pop_front();
      }
      if (reply.delay > 0ms) cv_.wait_for(lock, reply.delay, [this] { return stopping_; });
    }
    res.status = reply.status;
    for (const auto& [k, v] : reply.headers) res.set_header(k, v);
    res.set_content(reply.body, "application/json");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<Reply> replies_;
  std::vector<Json> requests_;
  std::vector<std::string> paths_;
  std::vector<std::string> auth_;
};

}  // namespace r2e::testing_model

#endif  // R2E_TESTS_UNIT_FAKE_MODEL_H_
