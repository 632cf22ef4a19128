// Predictions files: JSON list, object keyed by id, or JSONL.
#include "fuzz_util.h"
#include "r2e/evaluation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace r2e;
  auto predictions = ParsePredictions(fuzz::AsView(data, size), "fuzz.jsonl");
  if (!predictions.ok()) return 0;
  for (const auto& p : *predictions) {
    (void)p.empty();
    (void)ModelDirName(p.model_name_or_path);
  }
  return 0;
}
