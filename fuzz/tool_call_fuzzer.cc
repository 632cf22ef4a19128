// An OpenAI-style tool call: function name, then 0x1e, then the arguments
// JSON text. Invariant: a call that parses builds a command line that reads
// back as its argv (see action_fuzzer.cc).
#include "fuzz_util.h"
#include "r2e/action.h"
#include "r2e/tools.h"
#include "shell_words.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace r2e;
  auto parts = fuzz::SplitParts(fuzz::AsView(data, size), 2);
  auto action = ActionFromToolCall(parts[0], parts[1]);
  if (!action.ok()) return 0;
  (void)action->ToXml();
  auto command = ActionToCommand(*action);
  if (!command.ok() || action->empty() || action->is_exact_finish()) return 0;
  auto argv = fuzz::SplitShellWords(*command);
  R2E_FUZZ_CHECK(argv.has_value());
  R2E_FUZZ_CHECK(!argv->empty() && (*argv)[0] == action->function_name);
  return 0;
}
