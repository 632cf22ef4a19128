// A model server's chat-completions response body (network input).
#include "fuzz_util.h"
#include "r2e/llm_agent.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto reply = r2e::ParseChatCompletion(r2e::fuzz::AsView(data, size));
  (void)reply;
  return 0;
}
