// Docker's multiplexed stream, fed in chunks whose sizes come from the first
// bytes. Invariant: the demultiplexed output does not depend on how the
// stream was chunked, and equals a straightforward whole-buffer reading.
#include "docker/docker_client.h"
#include "fuzz_util.h"

namespace {

// Reference: frames read from the whole buffer at once.
bool Reference(std::string_view s, std::string& out, std::string& err) {
  while (s.size() >= 8) {
    const auto b = [&](int i) { return static_cast<unsigned char>(s[i]); };
    if (b(0) > 2 || b(1) || b(2) || b(3)) return false;
    std::size_t len = (std::size_t{b(4)} << 24) | (std::size_t{b(5)} << 16) | (std::size_t{b(6)} << 8) | b(7);
    std::string_view payload = s.substr(8, len);
    out.append(payload);
    if (b(0) == 2) err.append(payload);
    s.remove_prefix(8 + payload.size());
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t step_a = data[0] % 13 + 1, step_b = data[1] % 7 + 1;
  std::string_view stream = r2e::fuzz::AsView(data + 2, size - 2);

  r2e::docker::FrameDemuxer demux;
  std::string out, err;
  bool ok = true;
  std::size_t pos = 0;
  for (int i = 0; pos < stream.size(); ++i) {
    std::size_t n = std::min(stream.size() - pos, i % 2 ? step_b : step_a);
    if (!demux.feed(stream.substr(pos, n), out, &err).ok()) {
      ok = false;
      // A lost stream stays lost.
      std::string more;
      R2E_FUZZ_CHECK(!demux.feed("x", more).ok());
      break;
    }
    pos += n;
  }
  std::string ref_out, ref_err;
  bool ref_ok = Reference(stream, ref_out, ref_err);
  R2E_FUZZ_CHECK(ok == ref_ok);
  if (ok) {
    R2E_FUZZ_CHECK(out == ref_out);
    R2E_FUZZ_CHECK(err == ref_err);
  }
  return 0;
}
