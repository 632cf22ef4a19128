// Action text (the model's reply) -> Action -> command line. Invariants: the
// command line reads back, word for word, as the argv it was built from (no
// parameter can inject shell syntax), and ShellQuote/ShlexQuote round-trip.
#include "fuzz_util.h"
#include "r2e/action.h"
#include "r2e/shell_quote.h"
#include "r2e/tools.h"
#include "shell_words.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace r2e;
  const std::string_view text = fuzz::AsView(data, size);
  Action action = ParseAction(text);
  (void)action.is_finish();
  (void)action.ToXml();

  auto words = fuzz::SplitShellWords(ShlexQuote(text));
  R2E_FUZZ_CHECK(words && words->size() == 1 && (*words)[0] == text);
  auto quoted = fuzz::SplitShellWords(ShellQuote(text));
  R2E_FUZZ_CHECK(quoted && quoted->size() == 1 && (*quoted)[0] == text);

  auto command = ActionToCommand(action);
  if (!command.ok() || action.empty() || action.is_exact_finish()) return 0;
  std::vector<std::string> expected{action.function_name};
  if (auto c = action.parameter("command")) expected.push_back(*c);
  for (const auto& [k, v] : action.parameters) {
    if (k == "command") continue;
    expected.push_back("--" + k);
    expected.push_back(v);
  }
  auto argv = fuzz::SplitShellWords(*command);
  R2E_FUZZ_CHECK(argv.has_value());
  R2E_FUZZ_CHECK(*argv == expected);
  return 0;
}
