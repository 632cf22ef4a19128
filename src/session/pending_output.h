// PendingOutput: bytes a transport has received and decoded (Docker's
// demultiplexed frames, a websocket message's payload) that read_some() has
// not yet handed to the session. One per stream; not thread-safe.
#ifndef R2E_SESSION_PENDING_OUTPUT_H_
#define R2E_SESSION_PENDING_OUTPUT_H_

#include <algorithm>
#include <cstring>
#include <string>

namespace r2e::internal {

class PendingOutput {
 public:
  bool empty() const { return pos_ >= data_.size(); }
  // Where decoded bytes go; only while empty().
  std::string& buffer() { return data_; }
  // Copies up to `size` pending bytes into `buf`; returns how many.
  std::size_t take(char* buf, std::size_t size) {
    std::size_t n = std::min(size, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, n);
    pos_ += n;
    if (pos_ == data_.size()) {
      data_.clear();
      pos_ = 0;
    }
    return n;
  }

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

}  // namespace r2e::internal

#endif  // R2E_SESSION_PENDING_OUTPUT_H_
