// Pure parts of the Kubernetes transport: base64, server URLs, watch line
// splitting across chunk boundaries, watch events, Status bodies, the exec
// status channel, Retry-After and backoff.
#include <gtest/gtest.h>

#include <random>

#include "kube/api_status.h"
#include "kube/kube_text.h"
#include "kube/watch.h"

namespace r2e::kube {
namespace {

TEST(KubeBase64, DecodesStrictly) {
  EXPECT_EQ(Base64Decode("aGVsbG8="), "hello");
  EXPECT_EQ(Base64Decode("aGVs\nbG8=\n"), "hello");
  EXPECT_EQ(Base64Decode("aGVsbG8"), "hello");  // padding omitted
  EXPECT_EQ(Base64Decode(""), "");
  EXPECT_FALSE(Base64Decode("aGVsbG8*"));
  EXPECT_FALSE(Base64Decode("a"));
  EXPECT_FALSE(Base64Decode("aGVs=bG8"));  // data after padding
  EXPECT_FALSE(Base64Decode("aGVsbG8==="));
  EXPECT_FALSE(Base64Decode("aGVsbG9="));  // non-zero trailing bits
}

TEST(KubeServerUrl, Parses) {
  auto u = ParseServerUrl("https://127.0.0.1:6443");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "6443");
  EXPECT_EQ(u->base_path, "");
  u = ParseServerUrl("https://kube.example/prefix/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->base_path, "/prefix");
  u = ParseServerUrl("https://[::1]:8443");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "8443");
  EXPECT_FALSE(ParseServerUrl("http://h:1").ok());
  EXPECT_FALSE(ParseServerUrl("https://:1").ok());
  EXPECT_FALSE(ParseServerUrl("https://h:x1").ok());
  auto creds = ParseServerUrl("https://user:pw-secret@h:1");
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(creds.status().message().find("pw-secret"), std::string::npos);
}

TEST(KubeWatch, SplitsLinesAtEveryChunkBoundary) {
  const std::string stream =
      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"5\"}}}\n"
      "\r\n"
      "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\r\n"
      "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"11\"}}}\n";
  for (std::size_t cut1 = 0; cut1 <= stream.size(); ++cut1) {
    for (std::size_t cut2 = cut1; cut2 <= stream.size(); cut2 += 7) {
      LineSplitter s;
      std::vector<std::string> lines;
      ASSERT_TRUE(s.feed(std::string_view(stream).substr(0, cut1), lines).ok());
      ASSERT_TRUE(s.feed(std::string_view(stream).substr(cut1, cut2 - cut1), lines).ok());
      ASSERT_TRUE(s.feed(std::string_view(stream).substr(cut2), lines).ok());
      ASSERT_EQ(lines.size(), 3u) << cut1 << " " << cut2;
      EXPECT_EQ(s.pending(), 0u);
      EXPECT_EQ(ParseWatchEvent(lines[1])->resource_version, "9");
    }
  }
}

TEST(KubeWatch, ByteByByteAndRandomChunks) {
  std::string stream;
  for (int i = 0; i < 50; ++i) {
    stream += "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":\"" + std::to_string(i) + "\"}}}\n";
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    LineSplitter s;
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < stream.size()) {
      std::size_t n = round == 0 ? 1 : std::uniform_int_distribution<std::size_t>(0, 200)(rng);
      ASSERT_TRUE(s.feed(std::string_view(stream).substr(pos, n), lines).ok());
      pos += n;
    }
    ASSERT_EQ(lines.size(), 50u);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(ParseWatchEvent(lines[i])->resource_version, std::to_string(i));
  }
}

TEST(KubeWatch, LineLimitAndUnfinishedLine) {
  LineSplitter s(16);
  std::vector<std::string> lines;
  EXPECT_TRUE(s.feed("short\nunfinished", lines).ok());
  EXPECT_EQ(lines.size(), 1u);
  EXPECT_EQ(s.pending(), 10u);
  EXPECT_EQ(s.feed("-and-now-too-long", lines).code(), StatusCode::kResourceExhausted);
}

TEST(KubeWatch, ParsesEvents) {
  auto e = ParseWatchEvent(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type, "ERROR");
  EXPECT_EQ(e->error_code, 410);
  EXPECT_EQ(e->error_message, "too old resource version");
  EXPECT_FALSE(ParseWatchEvent("not json").ok());
  EXPECT_FALSE(ParseWatchEvent(R"({"object":{}})").ok());
  e = ParseWatchEvent(R"({"type":"ADDED","object":{"metadata":"weird"}})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->resource_version, "");
}

TEST(KubeApiStatus, MapsCodesWithTheServersMessage) {
  const std::string body = R"({"kind":"Status","status":"Failure","message":"pods \"x\" not found","reason":"NotFound","code":404})";
  Status s = ApiStatus(404, body, "get pod x");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("pods \"x\" not found"), std::string::npos);
  EXPECT_NE(s.message().find("get pod x"), std::string::npos);
  s = ApiStatus(401, R"({"kind":"Status","message":"Unauthorized","reason":"Unauthorized","code":401})", "list");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("expired"), std::string::npos) << s.message();
  EXPECT_EQ(ApiStatus(409, R"({"reason":"AlreadyExists","message":"exists"})", "c").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ApiStatus(409, R"({"reason":"Conflict","message":"changed"})", "c").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApiStatus(422, "{}", "c").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ApiStatus(429, "{}", "c").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ApiStatus(503, "upstream down\nmore", "c").code(), StatusCode::kUnavailable);
  EXPECT_NE(ApiStatus(503, "upstream down\nmore", "c").message().find("upstream down"), std::string::npos);
  EXPECT_TRUE(ApiStatus(201, "", "c").ok());
  EXPECT_TRUE(Retryable(429));
  EXPECT_TRUE(Retryable(503));
  EXPECT_FALSE(Retryable(404));
  EXPECT_FALSE(Retryable(501));
}

TEST(KubeExecStatus, ExitCodes) {
  EXPECT_EQ(*ParseExecStatus(R"({"metadata":{},"status":"Success"})"), 0);
  EXPECT_EQ(*ParseExecStatus(
                R"({"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"7"}]},"message":"command terminated with non-zero exit code"})"),
            7);
  EXPECT_EQ(*ParseExecStatus(
                R"({"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"Other","message":"x"},{"reason":"ExitCode","message":"137"}]}})"),
            137);
  auto no_cause = ParseExecStatus(R"({"status":"Failure","reason":"NonZeroExitCode","details":{}})");
  EXPECT_FALSE(no_cause.ok());
  auto bad_number = ParseExecStatus(
      R"({"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"seven"}]}})");
  EXPECT_FALSE(bad_number.ok());
  auto other = ParseExecStatus(R"({"status":"Failure","reason":"InternalError","message":"container not found: x"})");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(other.status().message().find("container not found"), std::string::npos);
  EXPECT_EQ(ParseExecStatus("garbage").status().code(), StatusCode::kInternal);
  EXPECT_FALSE(ParseExecStatus(R"({"status":"Weird"})").ok());
}

TEST(KubeRetry, RetryAfterAndBackoff) {
  EXPECT_EQ(ParseRetryAfter("3"), std::chrono::milliseconds(3000));
  EXPECT_EQ(ParseRetryAfter(" 0 "), std::chrono::milliseconds(0));
  EXPECT_FALSE(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(ParseRetryAfter(""));
  using std::chrono::milliseconds;
  for (int attempt = 0; attempt < 10; ++attempt) {
    for (double r : {0.0, 0.5, 0.999}) {
      auto d = Backoff(attempt, milliseconds(100), milliseconds(1000), r);
      const long long base = std::min<long long>(100LL << attempt, 1000);
      EXPECT_GE(d.count(), base / 2);
      EXPECT_LE(d.count(), base);
    }
  }
  EXPECT_LT(Backoff(0, milliseconds(100), milliseconds(1000), 0.0), Backoff(3, milliseconds(100), milliseconds(1000), 0.0));
}

}  // namespace
}  // namespace r2e::kube
