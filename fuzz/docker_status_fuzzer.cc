// The daemon's error bodies ({"message": ...}, or anything a proxy sends):
// the first two bytes are the HTTP status. ToStatus never fails on them.
#include "docker/docker_client.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int http_status = 100 + (data[0] << 8 | data[1]) % 500;
  std::string body(r2e::fuzz::AsView(data + 2, size - 2));
  r2e::Status s = r2e::docker::ToStatus(http_status, body, "fuzz");
  (void)s.ToString();
  return 0;
}
