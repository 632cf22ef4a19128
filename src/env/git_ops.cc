#include "r2e/git_ops.h"

#include <cctype>
#include <string>

#include "core/text.h"
#include "r2e/observation.h"
#include "r2e/shell_quote.h"

namespace r2e {
namespace {

// Every git call: no pager or colours, and no "dubious ownership" refusal
// when the image's repository belongs to another user.
constexpr std::string_view kGit = "git -c safe.directory='*' -c core.pager=cat -c color.ui=false";
// The identity of step commits, so the sandbox needs no git configuration.
constexpr std::string_view kIdentity =
    "-c user.name=r2e -c user.email=r2e@localhost -c commit.gpgsign=false";
// Scratch files, relative to the repository (and their sandbox paths).
constexpr std::string_view kApplyFile = ".git/r2e-apply.patch";
constexpr std::string_view kDiffFile = ".git/r2e-diff.patch";
constexpr std::string_view kScratchIndex = ".git/r2e-scratch-index";
// Longest git message kept in a Status.
constexpr std::size_t kMaxMessage = 4000;

std::string Git() { return std::string(kGit); }

Result<ExecResult> RunGit(Runtime& runtime, const std::string& script, const GitOptions& options) {
  if (options.repo.empty() || options.repo.front() != '/') {
    return Status::InvalidArgument("git repository path must be an absolute sandbox path, got `" +
                                   options.repo + "`");
  }
  ExecOptions exec;
  exec.timeout = options.timeout;
  exec.workdir = options.repo;
  return runtime.exec(script, exec);
}

std::string GitMessage(const ExecResult& r) {
  std::string text = SanitizeUtf8(internal::Trim(r.output));
  if (text.size() > kMaxMessage) text = text.substr(0, kMaxMessage) + " ...";
  return text.empty() ? std::string("(no output)") : text;
}

// The error for a failed git command: Timeout when it timed out, else `code`
// with git's message.
Status GitError(std::string_view what, const ExecResult& r, StatusCode code,
                const GitOptions& options) {
  if (r.timed_out) {
    return Status::Timeout(std::string(what) + " in " + options.repo + " timed out after " +
                           std::to_string(options.timeout.count()) + " s");
  }
  return Status(code, std::string(what) + " in " + options.repo + " failed (exit code " +
                          std::to_string(r.exit_code) + "): " + GitMessage(r));
}

// The last non-empty line of the output.
std::string LastLine(std::string_view out) {
  out = internal::Trim(out);
  const std::size_t nl = out.rfind('\n');
  return std::string(internal::Trim(nl == std::string_view::npos ? out : out.substr(nl + 1)));
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

// A full object name as git prints it (SHA-1 or SHA-256).
Result<std::string> ParseHash(std::string_view what, const ExecResult& r) {
  std::string hash = LastLine(r.output);
  if ((hash.size() != 40 && hash.size() != 64) || !IsHex(hash)) {
    return Status::Internal(std::string(what) +
                            ": expected a commit hash from git, got: " + GitMessage(r));
  }
  return hash;
}

Status CheckRevision(std::string_view what, std::string_view revision) {
  if (IsValidRevision(revision)) return Status::OK();
  return Status::InvalidArgument(std::string(what) + ": `" + SanitizeUtf8(revision) +
                                 "` is not a commit id or ref name");
}

bool IsRefChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
         c == '/';
}

// `script` in a subshell whose git commands use a copy of the index, removed
// afterwards (git takes GIT_INDEX_FILE relative to the working directory,
// which is the repository: the path is made absolute from $PWD).
std::string WithScratchIndex(const std::string& script) {
  const std::string index = "\"$PWD\"/" + ShellQuote(kScratchIndex);
  return "(GIT_INDEX_FILE=" + index + "; export GIT_INDEX_FILE; { cp .git/index \"$GIT_INDEX_FILE\" 2>/dev/null || rm -f \"$GIT_INDEX_FILE\"; } && " +
         script + "; r=$?; rm -f \"$GIT_INDEX_FILE\"; exit $r)";
}

std::string SandboxPath(const GitOptions& options, std::string_view relative) {
  std::string repo = options.repo;
  while (repo.size() > 1 && repo.back() == '/') repo.pop_back();
  return (repo == "/" ? "" : repo) + "/" + std::string(relative);
}

Status ApplyImpl(Runtime& runtime, std::string_view patch, bool reverse,
                 const GitOptions& options) {
  const char* what = reverse ? "git apply -R" : "git apply";
  if (internal::Trim(patch).empty()) {
    return Status::InvalidArgument(std::string(what) + ": the patch is empty");
  }
  std::string content(patch);
  if (content.back() != '\n') content += '\n';
  if (Status s = runtime.write_file(SandboxPath(options, kApplyFile), content); !s.ok()) {
    return s.WithContext(std::string(what) + ": copying the patch into the sandbox");
  }
  const std::string file = ShellQuote(kApplyFile);
  const std::string script = "(" + Git() + " apply " + (options.fix_whitespace ? "--whitespace=fix " : "") +
                             (reverse ? "-R " : "") + file + "; r=$?; rm -f " + file + "; exit $r)";
  R2E_ASSIGN_OR_RETURN(ExecResult r, RunGit(runtime, script, options));
  if (r.success()) return Status::OK();
  // git apply: 1 when a hunk does not apply, 128 for input it cannot read.
  const StatusCode code =
      r.exit_code == 1 ? StatusCode::kFailedPrecondition : StatusCode::kInvalidArgument;
  return GitError(what, r, code, options);
}

}  // namespace

bool IsValidRevision(std::string_view rev) {
  if (rev.empty() || rev.size() > 255) return false;
  // Split off `~N` / `^N` steps.
  std::size_t end = 0;
  while (end < rev.size() && rev[end] != '~' && rev[end] != '^') ++end;
  const std::string_view name = rev.substr(0, end);
  for (std::size_t i = end; i < rev.size();) {
    if (rev[i] != '~' && rev[i] != '^') return false;
    ++i;
    while (i < rev.size() && std::isdigit(static_cast<unsigned char>(rev[i]))) ++i;
  }
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsRefChar(c)) return false;
  }
  if (name.front() == '-' || name.front() == '/' || name.front() == '.') return false;
  if (name.back() == '/' || name.back() == '.') return false;
  if (name.find("..") != std::string_view::npos || name.find("//") != std::string_view::npos ||
      name.find("/.") != std::string_view::npos) {
    return false;
  }
  if (name.size() >= 5 && name.substr(name.size() - 5) == ".lock") return false;
  return true;
}

Result<std::string> HeadCommit(Runtime& runtime, const GitOptions& options) {
  R2E_ASSIGN_OR_RETURN(ExecResult r, RunGit(runtime, Git() + " rev-parse --verify HEAD", options));
  if (!r.success())
    return GitError("git rev-parse HEAD", r, StatusCode::kFailedPrecondition, options);
  return ParseHash("git rev-parse HEAD", r);
}

Result<std::string> PatchBase(Runtime& runtime, std::string_view base_commit,
                              const GitOptions& options) {
  if (base_commit.empty()) return HeadCommit(runtime, options);
  R2E_RETURN_IF_ERROR(CheckRevision("patch base", base_commit));
  const std::string script =
      Git() + " rev-parse --verify --quiet " + ShellQuote(std::string(base_commit) + "^{commit}");
  R2E_ASSIGN_OR_RETURN(ExecResult r, RunGit(runtime, script, options));
  if (r.timed_out) return GitError("git rev-parse", r, StatusCode::kTimeout, options);
  if (r.exit_code == 1) {
    return Status::NotFound("patch base: the repository in " + options.repo + " has no commit `" +
                            std::string(base_commit) + "`");
  }
  if (!r.success()) return GitError("git rev-parse", r, StatusCode::kFailedPrecondition, options);
  return ParseHash("git rev-parse", r);
}

Result<std::string> GetPatch(Runtime& runtime, std::string_view base, const GitOptions& options) {
  R2E_RETURN_IF_ERROR(CheckRevision("git diff base", base));
  std::string script = Git() + " add -A && " + Git() +
                       " diff --cached --binary --no-color --no-ext-diff --no-textconv"
                       " --src-prefix=a/ --dst-prefix=b/ " +
                       ShellQuote(base) + " -- > " + ShellQuote(kDiffFile);
  if (options.scratch_index) script = WithScratchIndex(script);
  R2E_ASSIGN_OR_RETURN(ExecResult r, RunGit(runtime, script, options));
  if (!r.success())
    return GitError("git add -A && git diff --cached", r, StatusCode::kFailedPrecondition, options);
  auto patch = runtime.read_file(SandboxPath(options, kDiffFile));
  if (!patch.ok()) return patch.status().WithContext("reading the patch back");
  return patch;
}

Result<std::string> WorkingTreeId(Runtime& runtime, const GitOptions& options) {
  const std::string script = WithScratchIndex(Git() + " add -A && " + Git() + " write-tree");
  R2E_ASSIGN_OR_RETURN(ExecResult r, RunGit(runtime, script, options));
  if (!r.success()) return GitError("git add -A && git write-tree", r, StatusCode::kFailedPrecondition, options);
  return ParseHash("git write-tree", r);
}

Status ApplyPatch(Runtime& runtime, std::string_view patch, const GitOptions& options) {
  return ApplyImpl(runtime, patch, /*reverse=*/false, options);
}

Status ReversePatch(Runtime& runtime, std::string_view patch, const GitOptions& options) {
  return ApplyImpl(runtime, patch, /*reverse=*/true, options);
}

Status Checkout(Runtime& runtime, std::string_view commit, const GitOptions& options) {
  R2E_RETURN_IF_ERROR(CheckRevision("git checkout", commit));
  const std::string script =
      Git() + " -c advice.detachedHead=false checkout -q " + ShellQuote(commit) + " --";
  R2E_ASSIGN_OR_RETURN(ExecResult r, RunGit(runtime, script, options));
  if (!r.success()) return GitError("git checkout", r, StatusCode::kFailedPrecondition, options);
  return Status::OK();
}

Result<std::string> CommitStep(Runtime& runtime, std::string_view message,
                               const GitOptions& options) {
  if (message.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("commit message contains a NUL byte");
  }
  const std::string script =
      Git() + " add -A && " + Git() + " " + std::string(kIdentity) +
      " commit -q --no-verify --allow-empty --allow-empty-message --cleanup=verbatim -m " +
      ShellQuote(message) + " && " + Git() + " rev-parse --verify HEAD";
  R2E_ASSIGN_OR_RETURN(ExecResult r, RunGit(runtime, script, options));
  if (!r.success()) return GitError("git commit", r, StatusCode::kFailedPrecondition, options);
  return ParseHash("git commit", r);
}

Status UndoLastCommit(Runtime& runtime, const GitOptions& options) {
  const std::string script =
      "(if " + Git() + " rev-parse --verify --quiet 'HEAD~1^{commit}' >/dev/null; then " + Git() +
      " reset -q --hard HEAD~1; else echo 'HEAD has no parent commit';"
      " exit 3; fi)";
  R2E_ASSIGN_OR_RETURN(ExecResult r, RunGit(runtime, script, options));
  if (!r.success())
    return GitError("git reset --hard HEAD~1", r, StatusCode::kFailedPrecondition, options);
  return Status::OK();
}

Status SoftReset(Runtime& runtime, std::string_view commit, const GitOptions& options) {
  R2E_RETURN_IF_ERROR(CheckRevision("git reset --soft", commit));
  const std::string script = Git() + " reset -q --soft " + ShellQuote(commit) + " --";
  R2E_ASSIGN_OR_RETURN(ExecResult r, RunGit(runtime, script, options));
  if (!r.success())
    return GitError("git reset --soft", r, StatusCode::kFailedPrecondition, options);
  return Status::OK();
}

}  // namespace r2e
