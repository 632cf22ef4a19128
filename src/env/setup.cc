#include "env/setup.h"

#include "r2e/shell_quote.h"

namespace r2e::internal {

std::string SetupScript(const Task& task, bool hide_tests) {
  std::string s = "set -e\ncd /testbed\n";
  switch (task.kind) {
    case TaskKind::kR2E:
      s +=
          "if [ -e /testbed/.venv ] && [ ! -e /root/.venv ]; then ln -s /testbed/.venv /root/.venv; fi\n"
          "if [ -d /root/.venv/bin ]; then mkdir -p /root/.local/bin;"
          " for f in /root/.venv/bin/*; do ln -sf \"$f\" /root/.local/bin/; done; fi\n"
          "for d in /testbed /r2e_tests /root/r2e_tests; do [ -d \"$d\" ] || continue;"
          " find \"$d\" -name '*.pyc' -delete 2>/dev/null || true;"
          " find \"$d\" -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true; done\n";
      if (hide_tests) {
        // The hidden tests and their runner leave /testbed; the grader links
        // them back only while it runs them.
        s +=
            "if [ -f /testbed/run_tests.sh ]; then mv /testbed/run_tests.sh /root/run_tests.sh; fi\n"
            "if [ -d /r2e_tests ] && [ ! -e /root/r2e_tests ]; then mv /r2e_tests /root/r2e_tests; fi\n"
            "if [ -e /testbed/r2e_tests ]; then rm -rf /testbed/r2e_tests; fi\n";
      }
      break;
    case TaskKind::kSweBench:
      s +=
          "if [ -f /run_tests.sh ]; then chmod +x /run_tests.sh; fi\n"
          "if [ -d /opt/miniconda3/envs/testbed ] && [ ! -e /root/.venv ]; then"
          " ln -s /opt/miniconda3/envs/testbed /root/.venv; fi\n";
      break;
    case TaskKind::kSweSmith:
      s += "git fetch -q >/dev/null 2>&1 || true\n";  // offline sandboxes keep the image's objects
      if (!task.base_commit.empty()) s += "git checkout -q " + ShellQuote(task.base_commit) + "\n";
      s +=
          "if [ -d /opt/miniconda3/envs/testbed ] && [ ! -e /root/.venv ]; then"
          " ln -s /opt/miniconda3/envs/testbed /root/.venv; fi\n";
      break;
  }
  // A baseline commit lets get_patch-style diffs work on plain directories.
  // Dated, so that every sandbox of the task has the same commit: their
  // snapshot stores then prime alike, and forks between them ship only the
  // snapshot's own objects.
  s += "if [ ! -e /testbed/.git ] && command -v git >/dev/null; then"
       " git init -q && git add -A && GIT_AUTHOR_DATE=2000-01-01T00:00:00Z "
       "GIT_COMMITTER_DATE=2000-01-01T00:00:00Z"
       " git -c user.name=r2e -c user.email=r2e@localhost"
       " commit -q --no-verify --allow-empty -m 'r2e: task base' >/dev/null; fi\n";
  return s;
}

}  // namespace r2e::internal
