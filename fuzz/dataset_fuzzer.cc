// Dataset rows: one JSON row through ParseTask, and the whole input as a
// dataset file (JSON array or JSONL) through LoadDataset. Errors are fine;
// crashes and exceptions are not.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "r2e/evaluation.h"
#include "r2e/task.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace r2e;
  const std::string_view text = fuzz::AsView(data, size);
  nlohmann::json row = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!row.is_discarded()) {
    auto task = ParseTask(row);
    if (task.ok()) (void)task->Instruction();
  }
  auto path = fuzz::WriteScratchFile("dataset.jsonl", text);
  auto rows = LoadDataset(path);
  if (rows.ok()) {
    // Never started: only what each runtime needs from a row is asked.
    static const auto docker = MakeRuntime("docker").value();
    static const auto local = MakeRuntime("local").value();
    (void)ValidateEvaluation(*rows, GoldPredictions({}), *docker);
    std::vector<Task> tasks;
    for (const auto& r : *rows) tasks.push_back(r.task);
    (void)ValidateEvaluation(*rows, GoldPredictions(tasks), *local);
  }
  return 0;
}
