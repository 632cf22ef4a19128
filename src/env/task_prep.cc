#include "env/task_prep.h"

#include <algorithm>
#include <functional>

#include "core/text.h"
#include "env/hidden_tests.h"
#include "env/setup.h"
#include "env/snapshot_scripts.h"
#include "r2e/git_ops.h"
#include "r2e/runtimes.h"
#include "r2e/session.h"
#include "r2e/shell_quote.h"

namespace r2e::internal {

RuntimeFactory FactoryOf(const RepoEnvOptions& options) {
  return options.runtime ? options.runtime : LocalRuntimeFactory();
}

Result<SandboxSpec> SandboxSpecFor(const Task& task, const Runtime& runtime) {
  SandboxSpec spec;
  spec.image = task.image;
  spec.task_id = task.instance_id;
  if (runtime.uses_image()) return spec;
  // Host directories build the sandbox only where there is no image.
  if (task.local_repo.empty()) {
    return Status::InvalidArgument("task " + task.instance_id +
                                   " has no `local_repo`, which the local runtime needs (it cannot run "
                                   "image `" + task.image + "`); add one or use a container runtime");
  }
  spec.copy_in.emplace_back(task.local_repo, "/testbed");
  if (!task.local_tests.empty()) spec.copy_in.emplace_back(task.local_tests, "/root/r2e_tests");
  return spec;
}

Status RunSetup(Runtime& runtime, const Task& task, const RepoEnvOptions& options) {
  ExecOptions o;
  o.timeout = std::chrono::seconds(300);
  auto run_setup = [&](const std::string& script, const std::string& what) -> Status {
    auto r = runtime.exec(script, o);
    if (!r.ok()) return r.status().WithContext(what);
    if (!r->success()) {
      return Status::Internal(what + " failed with exit code " + std::to_string(r->exit_code) +
                              (r->timed_out ? " (timed out)" : "") + ": " + SanitizeUtf8(Trim(r->output)));
    }
    return Status::OK();
  };
  R2E_RETURN_IF_ERROR(run_setup(SetupScript(task, options.hidden_tests != HiddenTestMode::kLeaveInPlace), "sandbox setup"));
  for (const auto& cmd : options.extra_setup) {
    R2E_RETURN_IF_ERROR(run_setup(cmd, "extra setup command `" + cmd + "`"));
  }
  return Status::OK();
}

Result<std::vector<ToolFile>> ToolFilesFor(const RepoEnvOptions& options) {
  std::vector<ToolFile> files;
  if (!options.tool_set.empty()) {
    R2E_ASSIGN_OR_RETURN(files, ToolSet(options.tool_set));
  }
  for (const ToolFile& f : options.extra_tools) files.push_back(f);
  std::vector<ToolFile> out;
  for (const ToolFile& f : files) {
    R2E_RETURN_IF_ERROR(DescribeTool(f).status());
    const std::string name = f.tool_name();
    out.erase(std::remove_if(out.begin(), out.end(), [&](const ToolFile& o) { return o.tool_name() == name; }),
              out.end());
    out.push_back(f);
  }
  return out;
}

std::string PoolKey(const Task& task, const RepoEnvOptions& options, const Runtime& runtime) {
  std::string text = task.instance_id + '\n' + task.image + '\n' + runtime.sandbox_key() + '\n' +
                     std::string(HiddenTestModeName(options.hidden_tests)) + '\n' +
                     options.tools_bin_dir + '\n' + task.local_repo.string() + '\n' +
                     task.local_tests.string() + '\n';
  for (const auto& cmd : options.extra_setup) text += "setup " + cmd + '\n';
  text += "set " + options.tool_set + '\n';
  text += "python " + std::string(ToolPythonName(options.tool_python)) + '\n';
  for (const auto& f : options.extra_tools) text += "tool " + f.name + ' ' + f.content + '\n';
  return "task=" + task.instance_id + " h=" + std::to_string(std::hash<std::string>{}(text));
}

AddCommandsOptions ToolInstallOptions(const Task& task, const RepoEnvOptions& options, const Runtime& runtime) {
  AddCommandsOptions o;
  o.bin_dir = options.tools_bin_dir;
  o.python = options.tool_python;
  // An image's Python does not change; a runtime without images runs the
  // host's programs, which do not change within a process either.
  o.python_cache_key = std::string(runtime.name()) + '\n' + (runtime.uses_image() ? task.image : "");
  o.probe_exec.timeout = std::chrono::seconds(30);
  return o;
}

Result<std::shared_ptr<WarmPool>> MakeTaskPool(const Task& task, const RepoEnvOptions& options,
                                               WarmPoolOptions pool_options) {
  RepoEnvOptions o = options;
  o.warm_pool.reset();  // the pool's runtimes must not refer back to it
  R2E_ASSIGN_OR_RETURN(std::vector<ToolFile> files, ToolFilesFor(o));
  RuntimeFactory factory = FactoryOf(o);
  R2E_ASSIGN_OR_RETURN(auto probe, factory());
  R2E_ASSIGN_OR_RETURN(SandboxSpec spec, SandboxSpecFor(task, *probe));
  spec.labels.emplace_back("r2e.pool", "1");
  pool_options.key = PoolKey(task, options, *probe);
  probe.reset();
  const bool take_out_tests = RemovesHiddenTests(task, o);
  SandboxPreparer prepare = [task, o, files, take_out_tests](WarmSandbox& sb) -> Status {
    Runtime& rt = *sb.runtime;
    R2E_RETURN_IF_ERROR(RunSetup(rt, task, o));
    auto prepared = std::make_shared<PreparedSandbox>();
    // Here rather than in reset(): copying the tests out costs an exec and two
    // downloads, and recording the tree an exec, which a warm reset must not
    // wait for.
    if (take_out_tests) {
      R2E_ASSIGN_OR_RETURN(prepared->hidden, HiddenTests::TakeOut(rt, task));
    }
    if (!files.empty()) {
      R2E_ASSIGN_OR_RETURN(sb.tools, AddCommands(rt, files, ToolInstallOptions(task, o, rt)));
    }
    if (o.grade_in == GradeIn::kFreshSandbox) {
      auto tree = WorkingTreeId(rt);
      prepared->grade_base_status = tree.status();
      if (tree.ok()) prepared->grade_base = *tree;
    }
    // Last, so that the base is the state a warm reset hands out.
    if (o.prime_snapshots) {
      R2E_ASSIGN_OR_RETURN(prepared->snapshot_base,
                           PrimeSnapshotStore(rt, o.snapshot_budget_bytes));
    }
    sb.attachment = std::move(prepared);
    return Status::OK();
  };
  return WarmPool::Create(std::move(spec), std::move(factory), std::move(prepare), std::move(pool_options));
}

std::string PristineScript() {
  return "cd /testbed 2>/dev/null && command -v git >/dev/null || exit 3\n"
         "__h=$(git rev-parse -q --verify HEAD 2>/dev/null) || exit 3\n"
         "__s=$(git status --porcelain --ignored 2>/dev/null | sha256sum) || exit 3\n"
         "printf 'R2E-PRISTINE %s %s\\n' \"$__h\" \"${__s%% *}\"\n"
         "git status --porcelain --ignored 2>/dev/null | while IFS= read -r __l; do\n"
         "  case $__l in '!! '*) printf 'R2E-IGNORED %s\\n' \"${__l#'!! '}\" ;; esac\n"
         "done\n";
}

Result<PristineState> ParsePristine(const ExecResult& r) {
  const std::string tag = "R2E-PRISTINE ";
  const auto at = r.output.find(tag);
  if (!r.success() || at == std::string::npos) {
    return Status::FailedPrecondition("the repository's state cannot be recorded (no git repository at /testbed)");
  }
  PristineState p;
  std::string line = r.output.substr(at + tag.size());
  line = line.substr(0, line.find('\n'));
  const auto space = line.find(' ');
  if (space == std::string::npos || space == 0 || space + 1 >= line.size()) {
    return Status::Internal("unexpected pristine-state line: " + SanitizeUtf8(line));
  }
  p.head = line.substr(0, space);
  p.status_hash = line.substr(space + 1);
  const std::string ignored = "\nR2E-IGNORED ";
  for (auto pos = r.output.find(ignored, at); pos != std::string::npos; pos = r.output.find(ignored, pos + 1)) {
    const auto start = pos + ignored.size();
    const auto end = r.output.find('\n', start);
    p.ignored.push_back(r.output.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }
  return p;
}

std::string RestoreScript(const PristineState& pristine, const std::string& token,
                          const std::vector<std::string>& tool_paths) {
  // bash whatever the session's command shell is; builtins only in the /proc
  // walks, so a container with many processes does not pay a fork per process.
  std::string tools;
  for (const auto& p : tool_paths) tools += " " + ShellQuote(p);
  std::string s;
  s += "head=" + ShellQuote(pristine.head) + "\nwant=" + ShellQuote(pristine.status_hash) + "\n";
  s += "declare -A keep=(";
  for (const auto& e : pristine.ignored) s += " [" + ShellQuote(e) + "]=1";
  s += " )\n";
  s += KillEpisodeSnippet(token);
  s += "cd /testbed || exit 3\n"
      "git reset -q --hard \"$head\" || exit 4\n"
      "git clean -q -ffd || exit 5\n"
      // Ignored entries that appeared during the episode (a test run's caches).
      "git status --porcelain --ignored | while IFS= read -r l; do\n"
      "  case $l in '!! '*) e=${l#'!! '}; [ -n \"${keep[$e]}\" ] || rm -rf -- \"$e\" ;; esac\n"
      "done\n"
      "h=$(git rev-parse -q --verify HEAD)\n"
      "[ \"$h\" = \"$head\" ] || { echo \"R2E-RESTORE-FAILED HEAD is $h\"; exit 6; }\n"
      "s=$(git status --porcelain --ignored | sha256sum)\n"
      "if [ \"${s%% *}\" != \"$want\" ]; then\n"
      "  echo 'R2E-RESTORE-FAILED the working tree differs from the state after setup:'\n"
      "  git status --porcelain --ignored | head -n 20; exit 7\n"
      "fi\n";
  s += "for t in" + tools + "; do [ -e \"$t\" ] || { echo \"R2E-RESTORE-FAILED tool $t is gone\"; exit 8; }; done\n";
  s += "echo R2E-RESTORED ok\n";
  s += EndSessionShellSnippet();
  return "exec bash -c " + ShellQuote(s);
}

std::string KillEpisodeSnippet(const std::string& token) {
  return "tok=" + ShellQuote(std::string(kEpisodeVar) + "=" + token) +
         "\n"
         "kill_episode() {\n"
         "  local p pid v\n"
         "  for p in /proc/[0-9]*; do\n"
         "    pid=${p#/proc/}\n"
         "    [ \"$pid\" = \"$BASHPID\" ] && continue\n"
         "    while IFS= read -r -d '' v; do\n"
         "      if [ \"$v\" = \"$tok\" ]; then kill -KILL \"$pid\" 2>/dev/null; break; fi\n"
         "    done 2>/dev/null < \"$p/environ\"\n"
         "  done\n"
         "}\n"
         "kill_episode; kill_episode\n";
}

std::string EndSessionShellSnippet() {
  // The session shell is this command's nearest ancestor with `r2e-session`
  // in its arguments; ending it makes the runtime start a fresh one.
  return "p=$BASHPID; loop=\n"
         "while [ -n \"$p\" ] && [ \"$p\" -gt 1 ]; do\n"
         "  found=\n"
         "  while IFS= read -r -d '' v; do [ \"$v\" = r2e-session ] && found=1; done 2>/dev/null < \"/proc/$p/cmdline\"\n"
         "  if [ -n \"$found\" ]; then loop=$p; break; fi\n"
         "  read -r st 2>/dev/null < \"/proc/$p/stat\" || break\n"
         "  st=${st##*) }; set -- $st; p=$2\n"
         "done\n"
         "[ -n \"$loop\" ] && kill -TERM \"$loop\"\n"
         "exit 0\n";
}

Status CheckRestore(const ExecResult& r) {
  if (r.output.find("R2E-RESTORED ok") != std::string::npos) return Status::OK();
  std::string why = std::string(Trim(r.output));
  if (auto at = why.find("R2E-RESTORE-FAILED "); at != std::string::npos) why = why.substr(at + 19);
  if (why.size() > 2000) why = why.substr(0, 2000) + "...";
  return Status::FailedPrecondition("fast reset check failed (exit code " + std::to_string(r.exit_code) +
                                    (r.timed_out ? ", timed out" : "") + "): " + SanitizeUtf8(why));
}

}  // namespace r2e::internal
