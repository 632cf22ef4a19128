// A hijacked exec connection as a ByteStream. Docker has no exec kill:
// closing drops the connection, so the process sees its stdin close (a shell
// reading commands ends) but is not signalled.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "docker/client_impl.h"
#include "session/pending_output.h"
#include "session/socket_stream.h"

namespace r2e::docker {

namespace {

class HijackedStream final : public ByteStream {
 public:
  HijackedStream(std::unique_ptr<internal::SocketStream> socket, std::string leftover)
      : socket_(std::move(socket)), raw_(64 * 1024), pending_raw_(std::move(leftover)) {}

  Status write(std::string_view data, Clock::time_point deadline) override {
    return socket_->write(data, deadline);
  }

  Result<std::size_t> read_some(char* buf, std::size_t size, Clock::time_point deadline) override {
    if (size == 0) return std::size_t{0};
    for (;;) {
      if (!out_.empty()) return out_.take(buf, size);
      if (!pending_raw_.empty()) {
        std::string raw = std::move(pending_raw_);
        pending_raw_.clear();
        R2E_RETURN_IF_ERROR(demux(raw));
        continue;
      }
      R2E_ASSIGN_OR_RETURN(std::size_t n, socket_->read_some(raw_.data(), raw_.size(), deadline));
      if (n == 0) return std::size_t{0};
      // Header-only reads leave out_ empty: the loop reads on.
      R2E_RETURN_IF_ERROR(demux(std::string_view(raw_.data(), n)));
    }
  }

  // Docker closes the process's stdin when the client half-closes.
  void close_write() override { socket_->close_write(); }
  void close() override { socket_->close(); }

 private:
  Status demux(std::string_view raw) {
    Status s = demuxer_.feed(raw, out_.buffer());
    if (!s.ok()) return Status::Internal("docker exec stream: " + s.message());
    return Status::OK();
  }

  std::unique_ptr<internal::SocketStream> socket_;
  FrameDemuxer demuxer_;
  std::vector<char> raw_;
  std::string pending_raw_;  // stream bytes read along with the HTTP header
  internal::PendingOutput out_;  // demultiplexed bytes not yet returned
};

}  // namespace

std::unique_ptr<ByteStream> MakeHijackedStream(std::unique_ptr<internal::SocketStream> socket, std::string leftover) {
  return std::make_unique<HijackedStream>(std::move(socket), std::move(leftover));
}

}  // namespace r2e::docker
