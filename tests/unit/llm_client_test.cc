// LlmClient on its own: option checks and endpoints, the API key from the
// environment and its redaction, request fields, oversized responses, and
// ParseChatCompletion on the reply shapes servers send.
#include "r2e/llm_agent.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "fake_model.h"

namespace r2e {
namespace {

using Json = nlohmann::json;
using testing_model::FakeModel;
using testing_model::TextReply;

TEST(LlmClientTest, OptionsAreChecked) {
  LlmClientOptions o;
  o.model = "m";
  for (const char* bad :
       {"", "ftp://host/v1", "127.0.0.1:8000/v1", "http://", "http://host:99999/v1",
        "http://host:80x/v1", "http://user:pw@host/v1", "http://ho st/v1", "http://[::1/v1"}) {
    o.base_url = bad;
    auto c = LlmClient::Create(o);
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  o.base_url = "http://127.0.0.1:8000/v1";
  o.model = "";
  EXPECT_EQ(LlmClient::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.model = "m";
  struct Case {
    const char* base;
    const char* endpoint;
  };
  for (const Case& c :
       {Case{"http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1/chat/completions"},
        Case{"http://localhost:8000/v1/", "http://localhost:8000/v1/chat/completions"},
        Case{"HTTPS://api.example.com/v1", "https://api.example.com:443/v1/chat/completions"},
        Case{"http://h/openai/v1/chat/completions", "http://h:80/openai/v1/chat/completions"},
        Case{"http://[::1]:9000", "http://[::1]:9000/chat/completions"}}) {
    o.base_url = c.base;
    auto client = LlmClient::Create(o);
    ASSERT_TRUE(client.ok()) << c.base << ": " << client.status().ToString();
    EXPECT_EQ((*client)->endpoint(), c.endpoint);
  }
  LlmAgentOptions a;
  a.client = o;
  a.tools = {Json{{"description", "no name"}}};
  EXPECT_EQ(LlmAgent::Create(a).status().code(), StatusCode::kInvalidArgument);
}

TEST(LlmClientTest, ApiKeyFromTheEnvironment) {
  FakeModel model;
  model.Script({TextReply("a"), TextReply("b"), TextReply("c")});
  LlmClientOptions o;
  o.base_url = model.base_url();
  o.model = "m";
  const Json messages = Json::array({{{"role", "user"}, {"content", "hi"}}});
  ::unsetenv("R2E_API_KEY");
  ::setenv("OPENAI_API_KEY", "from-openai", 1);
  ASSERT_TRUE(LlmClient::Create(o).value()->Complete(messages).ok());
  ::setenv("R2E_API_KEY", "from-r2e", 1);
  ASSERT_TRUE(LlmClient::Create(o).value()->Complete(messages).ok());
  ::unsetenv("R2E_API_KEY");
  ::unsetenv("OPENAI_API_KEY");
  ASSERT_TRUE(LlmClient::Create(o).value()->Complete(messages).ok());
  auto auth = model.auth();
  ASSERT_EQ(auth.size(), 3u);
  EXPECT_EQ(auth[0], "Bearer from-openai");
  EXPECT_EQ(auth[1], "Bearer from-r2e");
  EXPECT_EQ(auth[2], "");
}

// docs/reliability.md: credentials never reach a Status or a log, even when
// the server echoes them in its error body.
TEST(LlmClientTest, ApiKeyEchoedByTheServerIsRedacted) {
  FakeModel model;
  const std::string key = "sk-r2e-test-0123456789abcdef";
  model.Script({{401, R"({"error": {"message": "Incorrect API key provided: )" + key +
                          R"(. Key ending in )" + key.substr(key.size() - 8) + R"("}})"}});
  LlmClientOptions o;
  o.base_url = model.base_url();
  o.model = "m";
  o.api_key = key;
  auto reply = LlmClient::Create(o).value()->Complete(Json::array({{{"role", "user"}, {"content", "hi"}}}));
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.status().message().find("401"), std::string::npos) << reply.status().ToString();
  EXPECT_EQ(reply.status().ToString().find(key), std::string::npos) << reply.status().ToString();
  EXPECT_EQ(reply.status().ToString().find(key.substr(key.size() - 8)), std::string::npos)
      << reply.status().ToString();
  EXPECT_NE(reply.status().ToString().find("[redacted]"), std::string::npos) << reply.status().ToString();
}

TEST(LlmClientTest, RequestFields) {
  FakeModel model;
  model.Script({TextReply("ok")});
  LlmClientOptions o;
  o.base_url = model.base_url();
  o.model = "m";
  o.temperature = 0.5;
  o.max_completion_tokens = 256;
  o.extra_body = {{"stop", {"</function>"}}, {"top_k", 20}};
  auto reply =
      LlmClient::Create(o).value()->Complete(Json::array({{{"role", "user"}, {"content", "hi"}}}));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->content, "ok");
  const Json req = model.requests().at(0);
  EXPECT_EQ(req["temperature"], 0.5);
  EXPECT_EQ(req["max_tokens"], 256);
  EXPECT_EQ(req["stop"][0], "</function>");
  EXPECT_EQ(req["top_k"], 20);
  EXPECT_FALSE(req.contains("tools"));
}

TEST(LlmClientTest, OversizedResponseIsRejected) {
  FakeModel model;
  model.Script({TextReply(std::string(200'000, 'x'))});
  LlmClientOptions o;
  o.base_url = model.base_url();
  o.model = "m";
  o.max_response_bytes = 100'000;
  auto reply =
      LlmClient::Create(o).value()->Complete(Json::array({{{"role", "user"}, {"content", "hi"}}}));
  EXPECT_EQ(reply.status().code(), StatusCode::kInternal);
  EXPECT_NE(reply.status().message().find("larger than"), std::string::npos)
      << reply.status().ToString();
}

TEST(ParseChatCompletionTest, Shapes) {
  auto r = ParseChatCompletion(R"({"choices": [{"message": {"role": "assistant",
      "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
      "reasoning_content": "thinking"}, "finish_reason": "length"}],
      "usage": {"prompt_tokens": 3, "completion_tokens": 4}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->content, "ab");
  EXPECT_EQ(r->reasoning_content, "thinking");
  EXPECT_EQ(r->finish_reason, "length");
  EXPECT_TRUE(r->usage.reported);
  EXPECT_EQ(r->usage.total_tokens, 7);

  auto calls = ParseChatCompletion(R"({"choices": [{"message": {"content": null, "tool_calls": [
      {"id": "1", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}},
      {"id": "2", "type": "function", "function": {"name": "g"}},
      "junk"]}}]})");
  ASSERT_TRUE(calls.ok()) << calls.status().ToString();
  EXPECT_EQ(calls->content, "");
  ASSERT_EQ(calls->tool_calls.size(), 3u);
  EXPECT_EQ(calls->tool_calls[0].arguments, R"({"x":1})");
  EXPECT_EQ(calls->tool_calls[1].arguments, "");
  EXPECT_EQ(calls->tool_calls[2].name, "");
  EXPECT_FALSE(calls->usage.reported);

  EXPECT_FALSE(ParseChatCompletion("").ok());
  EXPECT_FALSE(ParseChatCompletion("{\"choices\": [1]}").ok());
  EXPECT_FALSE(ParseChatCompletion("{\"choices\": [{\"message\": \"hi\"}]}").ok());
  auto err = ParseChatCompletion(R"({"error": {"message": "boom"}})");
  EXPECT_NE(err.status().message().find("boom"), std::string::npos);
}

}  // namespace
}  // namespace r2e
