// The session's end-marker scanner and bounded output. The first bytes pick
// chunk sizes and output caps. Invariants: what the scanner reports (output,
// exit code, stray bytes) does not depend on how the stream was chunked,
// and BoundedOutput keeps at most head + tail bytes plus a one-line note.
#include "fuzz_util.h"
#include "session/marker_scanner.h"

namespace {

using r2e::internal::BoundedOutput;
using r2e::internal::MarkerScanner;

constexpr std::string_view kNonce = "5f3a9c";

struct Outcome {
  std::string output;
  bool ended = false;
  int exit_code = -1;
  bool timed_out = false;
  std::string rest;
};

Outcome Scan(std::string_view stream, std::size_t step_a, std::size_t step_b) {
  MarkerScanner scanner(kNonce);
  BoundedOutput out(1 << 20, 1 << 20);
  Outcome o;
  std::size_t pos = 0;
  for (int i = 0; pos < stream.size(); ++i) {
    std::size_t n = std::min(stream.size() - pos, i % 2 ? step_b : step_a);
    auto end = scanner.feed(stream.substr(pos, n), out);
    pos += n;
    if (end) {
      o.ended = true;
      o.exit_code = end->exit_code;
      o.timed_out = end->timed_out;
      o.rest = end->rest;
      o.rest.append(stream.substr(pos));
      break;
    }
  }
  if (!o.ended) scanner.flush(out);
  o.output = out.str();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::size_t step_a = data[0] % 17 + 1, step_b = data[1] % 5 + 1;
  const std::size_t head = data[2] % 64, tail = data[3] % 64;
  std::string_view stream = r2e::fuzz::AsView(data + 4, size - 4);

  Outcome whole = Scan(stream, stream.size() + 1, stream.size() + 1);
  Outcome chunked = Scan(stream, step_a, step_b);
  R2E_FUZZ_CHECK(whole.ended == chunked.ended);
  R2E_FUZZ_CHECK(whole.output == chunked.output);
  R2E_FUZZ_CHECK(whole.exit_code == chunked.exit_code);
  R2E_FUZZ_CHECK(whole.timed_out == chunked.timed_out);
  R2E_FUZZ_CHECK(whole.rest == chunked.rest);
  // Without a marker everything is output, byte for byte.
  if (!whole.ended) R2E_FUZZ_CHECK(whole.output == stream);

  BoundedOutput bounded(head, tail);
  std::size_t pos = 0;
  for (int i = 0; pos < stream.size(); ++i) {
    std::size_t n = std::min(stream.size() - pos, i % 2 ? step_b : step_a);
    bounded.append(stream.substr(pos, n));
    pos += n;
  }
  const std::string s = bounded.str();
  R2E_FUZZ_CHECK(s.size() <= head + tail + 64);
  R2E_FUZZ_CHECK(bounded.dropped() == (stream.size() > head + tail ? stream.size() - head - tail : 0));
  if (bounded.dropped() == 0) R2E_FUZZ_CHECK(s == stream);
  return 0;
}
