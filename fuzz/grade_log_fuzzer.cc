// Grading a saved log without a sandbox. First byte: the grader (R2E,
// SWE-bench classic, SWE-bench v5, SWE-smith). Then the dataset row as JSON
// (for R2E, its expected_output_json may be anything), 0x1e, and the log.
// Invariant: a reward is 0 or 1 and is 1 only when the grade says resolved.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "r2e/grader.h"
#include "r2e/task.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace r2e;
  if (size < 1) return 0;
  auto parts = fuzz::SplitParts(fuzz::AsView(data + 1, size - 1), 2);
  Task task;
  nlohmann::json row = nlohmann::json::parse(parts[0], nullptr, /*allow_exceptions=*/false);
  if (row.is_object()) {
    row["instance_id"] = "fuzz-1";
    auto parsed = ParseTask(row);
    if (parsed.ok()) task = std::move(parsed).value();
  } else {
    task.instance_id = "fuzz-1";
    task.expected_output_json = std::string(parts[0]);  // R2E: the raw field
  }
  std::unique_ptr<Grader> grader;
  switch (data[0] % 4) {
    case 0: grader = MakeR2EGrader(); break;
    case 1: grader = MakeSweBenchGrader(GradingRules::kClassic); break;
    case 2: grader = MakeSweBenchGrader(GradingRules::kV5); break;
    default: grader = MakeSweSmithGrader(); break;
  }
  auto grade = grader->grade_log(task, parts[1]);
  if (!grade.ok()) return 0;
  R2E_FUZZ_CHECK(grade->reward == 0.0 || grade->reward == 1.0);
  R2E_FUZZ_CHECK((grade->reward == 1.0) == grade->resolved);
  (void)grade->report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
