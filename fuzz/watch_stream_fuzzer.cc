// A watch stream cut at arbitrary points: the line splitter gives the same
// lines whatever the chunking, and every line parses to an event or a
// Status; a pod object from an event goes through CheckPodStart.
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "kube/pod.h"
#include "kube/watch.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t step = 1 + data[0] % 64;
  const std::string_view stream = r2e::fuzz::AsView(data + 1, size - 1);
  constexpr std::size_t kMaxLine = 4096;

  r2e::kube::LineSplitter whole_splitter(kMaxLine);
  std::vector<std::string> whole;
  r2e::Status whole_status = whole_splitter.feed(stream, whole);

  r2e::kube::LineSplitter chunked_splitter(kMaxLine);
  std::vector<std::string> chunked;
  r2e::Status chunked_status;
  for (std::size_t at = 0; at < stream.size() && chunked_status.ok(); at += step) {
    chunked_status = chunked_splitter.feed(stream.substr(at, step), chunked);
  }
  if (whole_status.ok() && chunked_status.ok()) {
    R2E_FUZZ_CHECK(whole == chunked);
    R2E_FUZZ_CHECK(whole_splitter.pending() == chunked_splitter.pending());
    R2E_FUZZ_CHECK(whole_splitter.pending() <= kMaxLine);
  }
  for (const std::string& line : whole) {
    R2E_FUZZ_CHECK(line.size() <= kMaxLine);
    auto event = r2e::kube::ParseWatchEvent(line);
    if (!event.ok()) continue;
    (void)r2e::kube::JsonStringAt(event->object, {"metadata", "name"});
    auto check = r2e::kube::CheckPodStart(event->object, event->type == "DELETED");
    if (check.state == r2e::kube::PodCheck::kFailed) R2E_FUZZ_CHECK(!check.error.ok());
  }
  return 0;
}
