// Git helpers over a sandbox: the final patch, applying and reversing patches,
// and per-step commits, as the R2E scaffold's runtime offers them.
//
//   auto env = r2e::RepoEnv::Create(task).value();
//   env->reset();
//   // The base: the task's base_commit when given, else HEAD right after setup.
//   std::string base = r2e::PatchBase(env->runtime(), task.base_commit).value();
//   ... steps ...
//   std::string patch = r2e::GetPatch(env->runtime(), base).value();
//
// Every helper runs git in the repository (GitOptions::repo, /testbed by
// default) through Runtime::exec, so it works on every runtime, including
// the local runtime without bubblewrap. Revisions are checked with
// IsValidRevision() and every argument is shell-quoted: no argument can run
// anything but the git command named here. git's own failures come back as
// a Status carrying git's message; the sandbox being unreachable comes back
// as the runtime's Status.
//
// Scratch files (the patch being applied or read) live in the repository's
// .git directory, which must therefore be a directory (not a worktree's
// .git file). Git identity: commits are made with
// `-c user.name=r2e -c user.email=r2e@localhost`, so no configuration is
// needed in the sandbox.
//
// Thread-safety: as the Runtime (one caller at a time per sandbox).
#ifndef R2E_GIT_OPS_H_
#define R2E_GIT_OPS_H_

#include <chrono>
#include <string>
#include <string_view>

#include "r2e/runtime.h"
#include "r2e/status.h"

namespace r2e {

struct GitOptions {
  // The repository inside the sandbox (an absolute sandbox path).
  std::string repo = "/testbed";
  // Bound on each git command.
  std::chrono::seconds timeout{120};
  // GetPatch: stage into a scratch copy of the index (removed afterwards),
  // so that the repository's own index, what `git status` shows, stays as
  // it was. Off: GetPatch stages into the repository's index.
  bool scratch_index = false;
  // ApplyPatch / ReversePatch: let git fix whitespace errors
  // (`--whitespace=fix`). Off: the patch's lines are applied as they are.
  bool fix_whitespace = true;
};

// True for a commit id (4 to 64 hex digits) or a ref name git accepts
// (`HEAD`, `main`, `origin/main`, `v1.0`), optionally followed by `~N` / `^N`
// steps (`HEAD~1`, `main^2`). Rejects the empty string, anything starting
// with `-` or `/`, `..`, `@{`, `//`, control characters, spaces and every
// shell metacharacter.
bool IsValidRevision(std::string_view revision);

// The full hash of HEAD.
Result<std::string> HeadCommit(Runtime& runtime, const GitOptions& options = {});

// The base to diff against: the full hash of `base_commit` when it is
// non-empty (NotFound when the repository does not have it; InvalidArgument
// when it is not a revision), else of HEAD. Call it right after reset(),
// before any CommitStep(), and keep the result for GetPatch().
Result<std::string> PatchBase(Runtime& runtime, std::string_view base_commit,
                              const GitOptions& options = {});

// The tree object of the whole working tree as `git add -A` would stage it,
// uncommitted and untracked files included (ignored ones not), written into
// the repository's object store through a scratch index: the repository's
// own index and HEAD are unchanged. A base for GetPatch that includes what
// setup changed without committing.
Result<std::string> WorkingTreeId(Runtime& runtime, const GitOptions& options = {});

// Stages everything (`git add -A`, which also updates the index unless
// options.scratch_index) and returns `git diff --cached --binary <base>`:
// every change since `base` (a commit or a tree), including new, deleted and
// binary files and committed steps. Empty when nothing changed. Not bounded
// by the runtime's output limit (read back as a file).
Result<std::string> GetPatch(Runtime& runtime, std::string_view base = "HEAD",
                             const GitOptions& options = {});

// Copies `patch` into the sandbox and runs `git apply --whitespace=fix`
// (plain `git apply` without options.fix_whitespace; ReversePatch: with `-R`). A missing final newline is added. Errors carry
// git's message: InvalidArgument for an empty or malformed patch,
// FailedPrecondition for a patch that does not apply to the working tree
// (nothing is changed then: git apply is all-or-nothing).
Status ApplyPatch(Runtime& runtime, std::string_view patch, const GitOptions& options = {});
Status ReversePatch(Runtime& runtime, std::string_view patch, const GitOptions& options = {});

// `git checkout <commit>` (detached when it is a hash). FailedPrecondition
// with git's message when git refuses (unknown commit, local changes).
Status Checkout(Runtime& runtime, std::string_view commit, const GitOptions& options = {});

// Commits the whole working tree after a step (`git add -A`, then a commit,
// empty when nothing changed, so that one step is always one commit) and
// returns the new commit's full hash. `message` is stored verbatim and may
// hold any text except NUL bytes (InvalidArgument).
Result<std::string> CommitStep(Runtime& runtime, std::string_view message,
                               const GitOptions& options = {});

// `git reset --hard HEAD~1`: drops the last commit and uncommitted changes
// to tracked files (untracked files stay, as with git; a step committed by
// CommitStep() has none). FailedPrecondition when HEAD has no parent.
Status UndoLastCommit(Runtime& runtime, const GitOptions& options = {});

// `git reset --soft <commit>`: moves HEAD (and the branch) to `commit`,
// keeping the working tree and the index, e.g. to fold step commits back
// into uncommitted changes on top of the saved base.
Status SoftReset(Runtime& runtime, std::string_view commit, const GitOptions& options = {});

}  // namespace r2e

#endif  // R2E_GIT_OPS_H_
