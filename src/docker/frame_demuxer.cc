// FrameDemuxer: Docker's multiplexed attach/exec stream (Tty false).
// Each frame is an 8-byte header [type, 0, 0, 0, len (big-endian u32)] and
// `len` payload bytes; chunks from the socket may split a frame anywhere.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "docker/docker_client.h"

namespace r2e::docker {

namespace {
constexpr std::size_t kHeaderSize = 8;
}  // namespace

Status FrameDemuxer::feed(std::string_view chunk, std::string& out, std::string* err) {
  while (!chunk.empty()) {
    if (remaining_ > 0) {
      // Inside a payload: copy as much of it as this chunk holds.
      const std::size_t n = remaining_ < chunk.size() ? remaining_ : chunk.size();
      const std::string_view payload = chunk.substr(0, n);
      out.append(payload);
      if (stream_ == 2 && err != nullptr) err->append(payload);
      remaining_ -= n;
      chunk.remove_prefix(n);
      continue;
    }
    // Collecting a header, possibly across several chunks.
    const std::size_t need = kHeaderSize - header_.size();
    const std::size_t n = need < chunk.size() ? need : chunk.size();
    header_.append(chunk.substr(0, n));
    chunk.remove_prefix(n);
    if (header_.size() < kHeaderSize) break;

    const auto byte = [this](std::size_t i) { return static_cast<std::uint8_t>(header_[i]); };
    const int type = byte(0);
    if (type > 2 || byte(1) != 0 || byte(2) != 0 || byte(3) != 0) {
      std::string hex;
      static constexpr char kDigits[] = "0123456789abcdef";
      for (std::size_t i = 0; i < kHeaderSize; ++i) {
        hex += kDigits[byte(i) >> 4];
        hex += kDigits[byte(i) & 0xf];
      }
      // Keep the bad header so every later feed fails too: the stream is lost.
      return Status::InvalidArgument("docker stream: bad frame header 0x" + hex +
                                     " (expected [0-2, 0, 0, 0, length]; is the exec a TTY?)");
    }
    stream_ = type;
    remaining_ = (static_cast<std::size_t>(byte(4)) << 24) |
                 (static_cast<std::size_t>(byte(5)) << 16) |
                 (static_cast<std::size_t>(byte(6)) << 8) | static_cast<std::size_t>(byte(7));
    header_.clear();  // zero-length frames simply end here
  }
  return Status::OK();
}

}  // namespace r2e::docker
