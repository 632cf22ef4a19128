// What the agent is shown: command output -> observation text. Invariants:
// the text is valid UTF-8 and sanitising is idempotent.
#include "fuzz_util.h"
#include "r2e/observation.h"

namespace {

bool ValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace r2e;
  if (size < 1) return 0;
  const std::string_view bytes = fuzz::AsView(data + 1, size - 1);
  const std::string clean = SanitizeUtf8(bytes);
  R2E_FUZZ_CHECK(ValidUtf8(clean));
  R2E_FUZZ_CHECK(SanitizeUtf8(clean) == clean);
  (void)StripAnsiAndCr(bytes);
  (void)TruncateLines(bytes, data[0] % 8);
  ExecResult result;
  result.output = std::string(bytes);
  result.exit_code = data[0] % 3;
  result.timed_out = data[0] & 0x80;
  Observation bash = BashObservation("execute_bash", result, std::chrono::seconds(5));
  R2E_FUZZ_CHECK(ValidUtf8(bash.text));
  Observation tool = ToolObservation("file_editor", result, std::chrono::seconds(5));
  R2E_FUZZ_CHECK(ValidUtf8(tool.text));
  return 0;
}
