// FrameDemuxer: Docker's multiplexed stream split into arbitrary chunks.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "docker/docker_client.h"

namespace r2e::docker {
namespace {

std::string Frame(int type, const std::string& payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string h = {static_cast<char>(type),
                   0,
                   0,
                   0,
                   static_cast<char>(n >> 24),
                   static_cast<char>((n >> 16) & 0xff),
                   static_cast<char>((n >> 8) & 0xff),
                   static_cast<char>(n & 0xff)};
  return h + payload;
}

TEST(FrameDemuxerTest, MultipleFramesInOneChunk) {
  const std::string stream = Frame(1, "hello ") + Frame(2, "oops\n") + Frame(1, "world\n");
  FrameDemuxer d;
  std::string out, err;
  ASSERT_TRUE(d.feed(stream, out, &err).ok());
  EXPECT_EQ(out, "hello oops\nworld\n");
  EXPECT_EQ(err, "oops\n");
}

TEST(FrameDemuxerTest, SplitAtEveryOffset) {
  const std::string stream =
      Frame(1, "abc") + Frame(2, "err") + Frame(0, "in") + Frame(1, "") + Frame(1, "defgh");
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameDemuxer d;
    std::string out, err;
    ASSERT_TRUE(d.feed(stream.substr(0, cut), out, &err).ok()) << cut;
    ASSERT_TRUE(d.feed(stream.substr(cut), out, &err).ok()) << cut;
    EXPECT_EQ(out, "abcerrindefgh") << "cut at " << cut;
    EXPECT_EQ(err, "err") << "cut at " << cut;
  }
}

TEST(FrameDemuxerTest, OneByteAtATime) {
  const std::string stream = Frame(2, "e1") + Frame(1, "o1") + Frame(2, "e2");
  FrameDemuxer d;
  std::string out, err;
  for (char c : stream) ASSERT_TRUE(d.feed(std::string(1, c), out, &err).ok());
  EXPECT_EQ(out, "e1o1e2");
  EXPECT_EQ(err, "e1e2");
}

TEST(FrameDemuxerTest, StderrWithoutErrSinkGoesToOutOnly) {
  FrameDemuxer d;
  std::string out;
  ASSERT_TRUE(d.feed(Frame(2, "x") + Frame(1, "y"), out).ok());
  EXPECT_EQ(out, "xy");
}

TEST(FrameDemuxerTest, ZeroLengthFrames) {
  FrameDemuxer d;
  std::string out, err;
  ASSERT_TRUE(d.feed(Frame(1, "") + Frame(2, ""), out, &err).ok());
  ASSERT_TRUE(d.feed(Frame(1, "z"), out, &err).ok());
  ASSERT_TRUE(d.feed("", out, &err).ok());
  EXPECT_EQ(out, "z");
  EXPECT_EQ(err, "");
}

TEST(FrameDemuxerTest, BadHeaders) {
  {
    FrameDemuxer d;
    std::string out;
    const Status st = d.feed(Frame(3, "x"), out);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  }
  {
    FrameDemuxer d;
    std::string out;
    std::string bad = Frame(1, "x");
    bad[2] = 1;  // non-zero padding
    EXPECT_EQ(d.feed(bad, out).code(), StatusCode::kInvalidArgument);
  }
  {
    // A TTY stream (raw text) is not framed.
    FrameDemuxer d;
    std::string out;
    EXPECT_EQ(d.feed("root@host:/# ls\r\n", out).code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(out.empty());
  }
  {
    // A bad header after good frames, split across chunks.
    FrameDemuxer d;
    std::string out;
    const std::string stream = Frame(1, "ok") + std::string("\x01\x00\x05", 3);
    ASSERT_TRUE(d.feed(stream, out).ok());
    EXPECT_EQ(d.feed(std::string("\x00\x00\x00\x00\x01y", 6), out).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(out, "ok");
  }
}

TEST(FrameDemuxerTest, LargePayload) {
  std::string payload(1 << 20, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 131 % 251);
  const std::string stream = Frame(1, payload) + Frame(2, "tail");
  FrameDemuxer d;
  std::string out, err;
  // Socket-sized chunks that do not line up with frames.
  for (std::size_t pos = 0; pos < stream.size(); pos += 8191) {
    ASSERT_TRUE(d.feed(std::string_view(stream).substr(pos, 8191), out, &err).ok());
  }
  EXPECT_EQ(out.size(), payload.size() + 4);
  EXPECT_TRUE(out.compare(0, payload.size(), payload) == 0);
  EXPECT_EQ(out.substr(payload.size()), "tail");
  EXPECT_EQ(err, "tail");
}

}  // namespace
}  // namespace r2e::docker
