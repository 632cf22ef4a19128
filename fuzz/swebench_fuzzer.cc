// SWE-bench helpers that read text: a repo name, 0x1e, a patch (also used as
// a test patch and as a log). Patch files, test directives, the eval script
// and the harness's log evaluation must accept any bytes.
#include "fuzz_util.h"
#include "r2e/swebench.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace r2e;
  if (size < 1) return 0;
  const GradingRules rules = data[0] & 1 ? GradingRules::kV5 : GradingRules::kClassic;
  auto parts = fuzz::SplitParts(fuzz::AsView(data + 1, size - 1), 2);
  const std::string_view repo = parts[0], text = parts[1];

  PatchFiles files = SweBenchPatchFiles(text);
  (void)files;
  (void)SweBenchTestDirectives(repo, text, rules == GradingRules::kV5);
  (void)SweBenchWrapEvalScript(text);
  (void)ClassifySweBenchInfraFailure(text);
  Task task;
  task.instance_id = "fuzz__fuzz-1";
  task.kind = TaskKind::kSweBench;
  task.repo = std::string(repo);
  task.base_commit = "0123456789abcdef0123456789abcdef01234567";
  task.version = "0.1";
  task.test_patch = std::string(text);
  task.fail_to_pass = {"a", "tests/test_x.py::test_y"};
  (void)MakeSweBenchEvalScript(task, rules);
  (void)SweBenchEvalScriptFor(task, rules);
  task.eval_script = std::string(text);  // a 5.x row brings its own script
  (void)SweBenchEvalScriptFor(task, rules);
  (void)SweBenchApplyPatchCommand("/tmp/patch.diff");
  (void)SweBenchSuiteRan(text);
  (void)SweBenchTestExitCodes(text);
  auto eval = EvalSweBenchLog(task, text, rules);
  if (eval.ok()) {
    bool resolved = false;
    auto report = MakeSweBenchReport(task, *eval, rules, false, &resolved);
    (void)FormatSweBenchReport(report);
  }
  return 0;
}
