// r2e bench step --python: the Python side's cost per step of `import r2e`,
// measured by bench/python_step_bench.py run with the interpreter the module
// was built for.
#ifndef R2E_BENCH_PYTHON_STEP_BENCH_H_
#define R2E_BENCH_PYTHON_STEP_BENCH_H_

#include <ostream>

#include "r2e/status.h"
#include "step_bench.h"

namespace r2e::bench {

// Prints the script's JSON lines (one per action) to `out`.
// FailedPrecondition when the r2e program was built without the module.
Status RunPythonStepBench(const StepBenchOptions& options, std::ostream& out);

}  // namespace r2e::bench

#endif  // R2E_BENCH_PYTHON_STEP_BENCH_H_
