// A tiny best-first search over scripted actions with snapshots: from each
// node, every candidate action is tried in turn (snapshot the node, step,
// score the result, restore the node), and the best-scoring child is
// expanded next. The score is the task's reward (its hidden tests), so the
// search finds the edit that fixes the demo task among wrong ones, without
// a new sandbox per branch.
//
//   r2e_tree_search [--runtime local|docker] [--depth N] [tasks.jsonl]
//
// Prints one line per tried branch ("depth D action A reward R") and the
// best path found. Exit status: 0 when the best path earns reward 1, 1 when
// not or on a failure, 2 on bad arguments.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "r2e/task.h"

namespace {

std::string Bash(const std::string& cmd) {
  return "<function=execute_bash>\n<parameter=cmd>" + cmd + "</parameter>\n</function>";
}

// Candidate edits to the demo repository's bug (window >= len(values)):
// one fixes it, the others do not.
const std::vector<std::pair<std::string, std::string>> kCandidates = {
    {"comment", "cd /testbed && echo '# looked at it' >> textstats/stats.py"},
    {"off-by-one", "cd /testbed && sed -i 's/if window >= len(values):/if window >= len(values) - 1:/' "
                   "textstats/stats.py"},
    {"fix", "cd /testbed && sed -i 's/if window >= len(values):/if window > len(values):/' textstats/stats.py"},
    {"break-it", "cd /testbed && sed -i 's/return/return None  #/' textstats/stats.py"},
};

}  // namespace

int main(int argc, char** argv) {
  std::string runtime = "local", tasks_path = R2E_DEMO_TASKS;
  int depth = 2;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--runtime") && has_value) {
      runtime = argv[++i];
    } else if (!std::strcmp(argv[i], "--depth") && has_value) {
      depth = std::atoi(argv[++i]);
    } else if (argv[i][0] != '-') {
      tasks_path = argv[i];
    } else {
      std::fprintf(stderr, "usage: %s [--runtime local|docker] [--depth N] [tasks.jsonl]\n", argv[0]);
      return 2;
    }
  }
  if (depth < 1 || (runtime != "local" && runtime != "docker")) {
    std::fprintf(stderr, "--depth must be at least 1 and --runtime local or docker\n");
    return 2;
  }
  auto tasks = r2e::LoadTasks(tasks_path);
  if (!tasks.ok() || tasks->empty()) {
    std::fprintf(stderr, "loading %s: %s\n", tasks_path.c_str(), tasks.status().ToString().c_str());
    return 1;
  }
  r2e::RepoEnvOptions options;
  options.runtime = runtime == "docker" ? r2e::DockerRuntimeFactory() : r2e::LocalRuntimeFactory();
  auto env = r2e::RepoEnv::Create(tasks->front(), options);
  if (!env.ok() || !(*env)->reset().ok()) {
    std::fprintf(stderr, "starting the environment failed\n");
    return 1;
  }
  r2e::RepoEnv& e = **env;

  std::vector<std::string> path;
  double best_reward = 0;
  auto node = e.snapshot();
  for (int d = 1; d <= depth && node.ok() && best_reward < 1.0; ++d) {
    int best = -1;
    double best_here = -1;
    r2e::SnapshotId best_child = 0;
    for (std::size_t a = 0; a < kCandidates.size(); ++a) {
      auto step = e.step(Bash(kCandidates[a].second));
      auto reward = e.compute_reward();
      if (!step.ok() || !reward.ok()) {
        std::fprintf(stderr, "depth %d action %s: %s\n", d, kCandidates[a].first.c_str(),
                     (step.ok() ? reward.status() : step.status()).ToString().c_str());
        return 1;
      }
      std::printf("depth %d action %s reward %g\n", d, kCandidates[a].first.c_str(), *reward);
      if (*reward > best_here) {
        best_here = *reward;
        best = static_cast<int>(a);
        auto child = e.snapshot();  // keep the best child to expand it later
        if (!child.ok()) {
          std::fprintf(stderr, "snapshot: %s\n", child.status().ToString().c_str());
          return 1;
        }
        if (best_child != 0) (void)e.drop(best_child);
        best_child = *child;
      }
      if (r2e::Status s = e.restore(*node); !s.ok()) {  // back to the node for the next branch
        std::fprintf(stderr, "restore: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    path.push_back(kCandidates[best].first);
    best_reward = best_here;
    if (r2e::Status s = e.restore(best_child); !s.ok()) {
      std::fprintf(stderr, "restore: %s\n", s.ToString().c_str());
      return 1;
    }
    node = r2e::Result<r2e::SnapshotId>(best_child);
  }
  if (!node.ok()) {
    std::fprintf(stderr, "snapshot: %s\n", node.status().ToString().c_str());
    return 1;
  }
  std::string joined;
  for (const auto& p : path) joined += (joined.empty() ? "" : " -> ") + p;
  std::printf("best path: %s, reward %g, %zu snapshots kept\n", joined.c_str(), best_reward, e.snapshots().size());
  (void)e.close();
  return best_reward == 1.0 ? 0 : 1;
}
