// Pieces of the session protocol's client side that are pure byte handling,
// kept apart so they can be tested and fuzzed without a shell.
#ifndef R2E_SESSION_MARKER_SCANNER_H_
#define R2E_SESSION_MARKER_SCANNER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace r2e::internal {

// Keeps the first head_cap and the last tail_cap bytes of a stream and
// counts the rest, in memory bounded by head_cap + 2 * tail_cap.
class BoundedOutput {
 public:
  BoundedOutput(std::size_t head_cap, std::size_t tail_cap) : head_cap_(head_cap), tail_cap_(tail_cap) {}
  void append(std::string_view bytes);
  std::uint64_t dropped() const { return dropped_ + (tail_.size() > tail_cap_ ? tail_.size() - tail_cap_ : 0); }
  // Head and tail, joined by a one-line note when bytes were dropped.
  std::string str() const;

 private:
  std::size_t head_cap_;
  std::size_t tail_cap_;
  std::string head_;
  std::string tail_;
  std::uint64_t dropped_ = 0;
};

// Finds the end marker "\n<nonce> <exit code> <timed out>\n" in a stream fed
// in arbitrary chunks. Bytes before the marker are command output; they are
// released as soon as they cannot be the start of the marker.
class MarkerScanner {
 public:
  struct End {
    int exit_code = -1;
    bool timed_out = false;
    std::string rest;  // bytes after the marker line (stray output)
  };

  explicit MarkerScanner(std::string_view nonce);

  // Feeds a chunk; output that is certainly the command's is appended to
  // `out`. Returns the end once the whole marker line has been seen.
  std::optional<End> feed(std::string_view chunk, BoundedOutput& out);

  // At end of stream: whatever was held back is output.
  void flush(BoundedOutput& out);

 private:
  std::string marker_;   // "\n<nonce> "
  std::string window_;   // held-back bytes that may start the marker
  bool in_status_ = false;
  std::string status_;   // "<code> <timed out>" while reading the marker line
};

}  // namespace r2e::internal

#endif  // R2E_SESSION_MARKER_SCANNER_H_
