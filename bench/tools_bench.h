// `r2e bench tools`: the latency of real tool calls through RepoEnv::step, in
// the shapes agents make them (file_editor view of a 500-line Python file,
// file_editor str_replace in it, search in a repository of about 1,000 files,
// execute_bash ls), served by r2e's tool server against the same calls made
// plainly (a new interpreter per call, in the same session) and, on docker,
// the scaffold's path (one Engine API exec of `/bin/sh -c "timeout 90 CMD"`
// per call, on the same container), all measured in the same run.
// Output contract: shared/spec/cli.md.
#ifndef R2E_BENCH_TOOLS_BENCH_H_
#define R2E_BENCH_TOOLS_BENCH_H_

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "r2e/action.h"
#include "r2e/status.h"

namespace r2e::bench {

struct ToolsBenchOptions {
  std::string runtime = "local";  // local or docker
  std::string image;              // docker: empty means the test base image
  int n = 100;                    // measured calls per tool and variant
  int warmup = 5;
};

// Prints one JSON line per tool and variant
//   {"bench": "tools", "runtime", "tool", "variant", "n", "p50_ms", ...}
// and one ratio line per tool and baseline
//   {"bench": "tools", "runtime", "tool", "ratio", "baseline"}.
Status RunToolsBench(const ToolsBenchOptions& options, std::ostream& out);

// The benchmark's repository, written under `dir/bench`: pkg/big.py (500
// lines), and about 1,000 files in 50 packages that `search` looks through.
Status WriteBenchRepo(const std::filesystem::path& dir);

// The four tool calls of the mix, on the repository at /testbed/bench. The
// str_replace call alternates between two edits: `edit_parity` picks one.
struct ToolCallShape {
  std::string name;  // view, str_replace, search, execute_bash
  Action action;
};
std::vector<ToolCallShape> BenchToolCalls(int edit_parity);

}  // namespace r2e::bench

#endif  // R2E_BENCH_TOOLS_BENCH_H_
