#include "session/marker_scanner.h"

#include <charconv>

namespace r2e::internal {

namespace {
constexpr std::size_t kMaxStatusLine = 64;
}  // namespace

void BoundedOutput::append(std::string_view bytes) {
  if (head_.size() < head_cap_) {
    std::size_t n = std::min(bytes.size(), head_cap_ - head_.size());
    head_.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
  }
  if (bytes.empty()) return;
  if (tail_cap_ == 0) {
    dropped_ += bytes.size();
    return;
  }
  if (bytes.size() >= tail_cap_) {
    // The chunk alone fills the tail: everything held before is dropped.
    dropped_ += tail_.size() + (bytes.size() - tail_cap_);
    tail_.assign(bytes.substr(bytes.size() - tail_cap_));
    return;
  }
  tail_.append(bytes);
  // Trim lazily, so that appending many small chunks stays linear.
  if (tail_.size() > 2 * tail_cap_) {
    std::size_t excess = tail_.size() - tail_cap_;
    dropped_ += excess;
    tail_.erase(0, excess);
  }
}

std::string BoundedOutput::str() const {
  std::uint64_t lost = dropped();
  std::string_view tail(tail_);
  if (tail.size() > tail_cap_) tail.remove_prefix(tail.size() - tail_cap_);
  std::string out;
  out.reserve(head_.size() + tail.size() + 80);
  out += head_;
  if (lost > 0) {
    out += "\n[... r2e: ";
    out += std::to_string(lost);
    out += " bytes of output omitted ...]\n";
  }
  out += tail;
  return out;
}

MarkerScanner::MarkerScanner(std::string_view nonce) {
  marker_ = "\n";
  marker_ += nonce;
  marker_ += ' ';
}

std::optional<MarkerScanner::End> MarkerScanner::feed(std::string_view chunk, BoundedOutput& out) {
  if (!in_status_) {
    window_.append(chunk);
    std::size_t pos = window_.find(marker_);
    if (pos == std::string::npos) {
      // Keep only what could be a prefix of the marker.
      std::size_t keep = std::min(window_.size(), marker_.size() - 1);
      out.append(std::string_view(window_).substr(0, window_.size() - keep));
      window_.erase(0, window_.size() - keep);
      return std::nullopt;
    }
    out.append(std::string_view(window_).substr(0, pos));
    status_ = window_.substr(pos + marker_.size());
    window_.clear();
    in_status_ = true;
  } else {
    status_.append(chunk);
  }
  // A status line is a few bytes; a longer one is not ours. The same
  // limit applies whether or not its newline has arrived yet, so the result
  // does not depend on how the stream was chunked (found by the fuzzer).
  std::size_t nl = status_.find('\n');
  if (nl == std::string::npos ? status_.size() > kMaxStatusLine : nl > kMaxStatusLine) {
    in_status_ = false;
    out.append(marker_);
    std::string again = std::move(status_);
    status_.clear();
    return feed(again, out);
  }
  if (nl == std::string::npos) return std::nullopt;
  End end;
  std::string_view line(status_.data(), nl);
  std::size_t sp = line.find(' ');
  std::string_view code = line.substr(0, sp);
  int value = -1;
  auto [ptr, ec] = std::from_chars(code.data(), code.data() + code.size(), value);
  end.exit_code = (ec == std::errc() && ptr == code.data() + code.size()) ? value : -1;
  end.timed_out = sp != std::string_view::npos && line.substr(sp + 1) == "1";
  end.rest = status_.substr(nl + 1);
  status_.clear();
  in_status_ = false;
  return end;
}

void MarkerScanner::flush(BoundedOutput& out) {
  if (in_status_) {
    out.append(marker_);
    out.append(status_);
    status_.clear();
    in_status_ = false;
  }
  out.append(window_);
  window_.clear();
}

}  // namespace r2e::internal
