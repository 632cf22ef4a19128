// RepoEnv's snapshots (include/r2e/snapshot.h): scripts run in the sandbox
// over a git object store of r2e's own, outside /testbed.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <sstream>
#include <system_error>

#include "core/text.h"
#include "env/task_prep.h"
#include "r2e/repo_env.h"
#include "r2e/shell_quote.h"

namespace r2e {
namespace {

constexpr const char* kStore = "/var/tmp/.r2e-snapshots";
constexpr auto kScriptTimeout = std::chrono::seconds(300);

// What every script starts with: the store and the repository as commands
// reach them, git pointed at the store alone (none of the agent's or the
// image's git configuration, hooks or variables), and `g`, git with the
// settings that make a snapshot exact and fast (no compression: the store is
// scratch space; no line-ending or filter conversion; modes and symlinks as
// they are).
std::string Prelude(const Runtime& runtime) {
  std::string s;
  s += "S=" + ShellQuote(runtime.command_path(kStore)) + "\n";
  s += "T=" + ShellQuote(runtime.command_path("/testbed")) + "\n";
  s +=
      "export LC_ALL=C GIT_DIR=\"$S\" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME=/nonexistent "
      "GIT_TERMINAL_PROMPT=0\n"
      "unset GIT_INDEX_FILE GIT_WORK_TREE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_NAMESPACE "
      "GIT_COMMON_DIR GIT_CEILING_DIRECTORIES GIT_ATTR_SOURCE\n"
      // An array as well as a function: "${G[@]}" as the only command of a
      // subshell or pipeline element is exec'd there, a function is forked again.
      "G=(git -c safe.directory='*' -c core.excludesFile=/dev/null -c core.attributesFile=/dev/null "
      "-c core.autocrlf=false -c core.safecrlf=false -c core.fsmonitor=false -c core.untrackedCache=false "
      "-c core.compression=0 -c core.looseCompression=0 -c pack.compression=0 -c pack.window=0 -c gc.auto=0 "
      "-c core.symlinks=true -c core.fileMode=true -c core.hooksPath=/dev/null -c core.sparseCheckout=false)\n"
      "g() { \"${G[@]}\" \"$@\"; }\n"
      "fail() { echo \"R2E-SNAPSHOT-FAILED $*\"; exit 9; }\n"
      "err() { head -c 600 \"$S/err\" 2>/dev/null | tr '\\n' ' '; }\n";
  return s;
}

// The script as an exec() command. A session that runs each command in a
// fresh fork of its bash (the usual case) runs it as it is: its variables,
// functions and `exit` stay in that fork, and no bash is started. Otherwise
// (another command shell, or a session that keeps state between commands) a
// bash of its own runs it.
std::string AsCommand(const Runtime& runtime, const std::string& script) {
  if (runtime.command_shell() == "bash" && !runtime.keeps_state()) return script;
  return "exec bash -c " + ShellQuote(script);
}

// A snapshot is three refs of the store, written as plain files (no process):
// refs/snapshots/<id>-wt (the tree of /testbed), <id>-git (of /testbed/.git)
// and <id>-meta (the listing). Each script runs as few processes as it can:
// a process costs milliseconds on a busy machine.
std::string ReadRefs() {
  return "{ read -r cw < \"$S/refs/snapshots/$id-wt\" && read -r cg < \"$S/refs/snapshots/$id-git\" && "
         "read -r cm < \"$S/refs/snapshots/$id-meta\"; } 2>/dev/null || fail \"snapshot $id is missing from the "
         "store at $S\"\n";
}

std::string EnsureStore() {
  // Made by hand (one process, not git init's): git needs HEAD, objects/ and
  // refs/, and no config. The empty tree, which a snapshot of a /testbed
  // without .git refers to, is one git always has.
  return "if [ ! -f \"$S/HEAD\" ]; then\n"
         "  mkdir -p \"$S/objects/pack\" \"$S/objects/info\" \"$S/refs/heads\" \"$S/refs/snapshots\" 2>/dev/null && "
         "echo 'ref: refs/heads/main' > \"$S/HEAD\" || fail \"cannot create the snapshot store at $S\"\n"
         "fi\n";
}

std::string SnapshotScript(const Runtime& runtime, SnapshotId id, std::uint64_t budget) {
  std::string s = Prelude(runtime);
  s += "id=" + std::to_string(id) + "\nbudget=" + std::to_string(budget) + "\n";
  s += EnsureStore();
  s += "cd \"$T\" 2>/dev/null || fail \"$T is gone\"\n"
       // The budget first, so that nothing is written for a repository over it.
       "bytes=$(du -sb . 2>/dev/null); bytes=${bytes%%[[:space:]]*}\n"
       "[ \"${bytes:-0}\" -le \"$budget\" ] || { echo \"R2E-SNAPSHOT-TOO-LARGE $bytes\"; exit 10; }\n"
       // The three parts at once (the listing, the tree and the tree of .git):
       // each reads /testbed and writes only to the store, and most of the
       // time goes to starting processes, which two cores do side by side.
       "{ GIT_WORK_TREE=\"$T\" GIT_INDEX_FILE=\"$S/index-wt\" \"${G[@]}\" add -A -f . >/dev/null && "
       "GIT_INDEX_FILE=\"$S/index-wt\" \"${G[@]}\" write-tree > \"$S/tree-wt\"; } 2>\"$S/err-wt\" &\n"
       "pw=$! pg=\n"
       "if [ -d \"$T/.git\" ]; then\n"
       "  { GIT_WORK_TREE=\"$T/.git\" GIT_INDEX_FILE=\"$S/index-git\" \"${G[@]}\" -C \"$T/.git\" add -A -f . >/dev/null && "
       "GIT_INDEX_FILE=\"$S/index-git\" \"${G[@]}\" write-tree > \"$S/tree-git\"; } 2>\"$S/err-git\" &\n"
       "  pg=$!\n"
       "fi\n"
       "set -o pipefail\n"
       "tm=$(find . -mindepth 1 -printf '%y %m %P\\0' 2>\"$S/err\" | \"${G[@]}\" hash-object -w --stdin 2>>\"$S/err\")\n"
       "listed=$?\n"
       // Nothing of this script runs on after it ends, whatever failed.
       "wait $pw; added=$?\n"
       "tg=4b825dc642cb6eb9a060e54bf8d69288fbee4904 addedgit=0\n"  // the empty tree
       "[ -z \"$pg\" ] || { wait $pg; addedgit=$?; }\n"
       "[ $added -eq 0 ] && read -r tw < \"$S/tree-wt\" || fail \"git add $T: $(head -c 600 \"$S/err-wt\" | tr '\\n' ' ')\"\n"
       "[ $addedgit -eq 0 ] && { [ -z \"$pg\" ] || read -r tg < \"$S/tree-git\"; } || "
       "fail \"git add $T/.git: $(head -c 600 \"$S/err-git\" | tr '\\n' ' ')\"\n"
       "[ $listed -eq 0 ] || fail \"listing $T: $(err)\"\n"
       "{ echo \"$tw\" > \"$S/refs/snapshots/$id-wt\" && echo \"$tg\" > \"$S/refs/snapshots/$id-git\" && "
       "echo \"$tm\" > \"$S/refs/snapshots/$id-meta\"; } 2>/dev/null || fail \"writing the snapshot's refs in $S "
       "(is the disk full?)\"\n"
       "echo \"R2E-SNAPSHOT ok $bytes\"\n";
  return AsCommand(runtime, s);
}

// end_session: also end the session shell (when it keeps state between
// commands, what it kept is not the snapshot's).
// `first`: shell text run before, in the same script (a fork's unpacking).
std::string RestoreSnapshotScript(const Runtime& runtime, SnapshotId id, const std::string& token,
                                  bool end_session, const std::string& first) {
  std::string s = Prelude(runtime);
  s += "id=" + std::to_string(id) + "\n";
  s += first;
  s += internal::KillEpisodeSnippet(token);
  s += "[ -f \"$S/HEAD\" ] || fail \"the snapshot store at $S is gone (deleted inside the sandbox?)\"\n";
  s += ReadRefs();
  s += "[ -d \"$T\" ] || mkdir -p \"$T\"; cd \"$T\" || fail \"cannot enter $T\"\n"
       // Each private index first takes in the tree as it is now, so that
       // the one-way merge removes what the snapshot does not have. The tree
       // of /testbed, that of .git (disjoint: git never writes under a .git
       // of its work tree) and the wanted listing are done side by side.
       "[ -d \"$T/.git\" ] || mkdir \"$T/.git\" || fail \"cannot create $T/.git\"\n"
       "{ GIT_WORK_TREE=\"$T\" GIT_INDEX_FILE=\"$S/index-wt\" \"${G[@]}\" add -A -f . >/dev/null && "
       "GIT_WORK_TREE=\"$T\" GIT_INDEX_FILE=\"$S/index-wt\" \"${G[@]}\" read-tree --reset -u \"$cw\"; } "
       "2>\"$S/err-wt\" &\n"
       "pw=$!\n"
       "{ GIT_WORK_TREE=\"$T/.git\" GIT_INDEX_FILE=\"$S/index-git\" \"${G[@]}\" -C \"$T/.git\" add -A -f . >/dev/null && "
       "GIT_WORK_TREE=\"$T/.git\" GIT_INDEX_FILE=\"$S/index-git\" \"${G[@]}\" -C \"$T/.git\" read-tree --reset -u "
       "\"$cg\"; } 2>\"$S/err-git\" &\n"
       "pg=$!\n"
       "set -o pipefail\n"
       "\"${G[@]}\" cat-file blob \"$cm\" 2>\"$S/err\" | sort -z > \"$S/meta.want\"\n"
       "listed=$?\n"
       "wait $pw; restored=$?\n"
       "wait $pg; restoredgit=$?\n"
       "[ $restored -eq 0 ] || fail \"restoring $T: $(head -c 600 \"$S/err-wt\" | tr '\\n' ' ')\"\n"
       "[ $restoredgit -eq 0 ] || fail \"restoring $T/.git: $(head -c 600 \"$S/err-git\" | tr '\\n' ' ')\"\n"
       "[ $listed -eq 0 ] || fail \"reading the listing: $(err)\"\n"
       "shopt -s nullglob dotglob; left=(\"$T/.git\"/*); shopt -u nullglob dotglob\n"
       "[ ${#left[@]} -eq 0 ] && rmdir \"$T/.git\"\n"  // the snapshot had none
       // Then what git does not record: permission bits, empty directories,
       // and entries of other types; only the differences are touched
       // (comm: lines only in the tree now first, those only in the
       // snapshot after a tab).
       "set +o pipefail\n"
       "find . -mindepth 1 -printf '%y %m %P\\0' | sort -z > \"$S/meta.now\" || fail \"listing $T\"\n"
       "comm -z -3 \"$S/meta.now\" \"$S/meta.want\" > \"$S/meta.diff\" || fail \"comparing the listings\"\n"
       "declare -A wanted=()\n"
       "while IFS= read -r -d '' e; do\n"
       "  case $e in $'\\t'*) r=${e#*' '}; wanted[${r#*' '}]=1 ;; esac\n"
       "done < \"$S/meta.diff\"\n"
       "while IFS= read -r -d '' e; do\n"
       "  case $e in\n"
       "    $'\\t'*) e=${e#?}; t=${e%%' '*}; r=${e#*' '}; m=${r%%' '*}; p=${r#*' '}\n"
       "      case $t in d) mkdir -p -- \"$p\" && chmod \"$m\" -- \"$p\" ;; f) chmod \"$m\" -- \"$p\" ;; esac ;;\n"
       "    *) r=${e#*' '}; p=${r#*' '}; [ -n \"${wanted[$p]}\" ] || rm -rf -- \"$p\" ;;\n"
       "  esac\n"
       "done < \"$S/meta.diff\"\n"
       "echo \"R2E-SNAPSHOT ok\"\n";
  if (end_session) s += internal::EndSessionShellSnippet();
  return AsCommand(runtime, s);
}

std::string DropScript(const Runtime& runtime, SnapshotId id) {
  std::string s = Prelude(runtime);
  // The private indexes' blobs stay (their trees get a ref), so that the
  // next snapshot still only hashes what changed.
  s += "id=" + std::to_string(id) + "\n";
  s += "[ -f \"$S/HEAD\" ] || { echo \"R2E-SNAPSHOT ok\"; exit 0; }\n"
       "for i in wt git; do\n"
       "  [ -f \"$S/index-$i\" ] || continue\n"
       "  t=$(GIT_INDEX_FILE=\"$S/index-$i\" g write-tree 2>/dev/null) && echo \"$t\" > \"$S/refs/r2e-index-$i\" "
       "|| rm -f \"$S/index-$i\"\n"
       "done\n"
       "rm -f \"$S/refs/snapshots/$id-wt\" \"$S/refs/snapshots/$id-git\" \"$S/refs/snapshots/$id-meta\"\n"
       "g prune --expire=now 2>\"$S/err\" || fail \"prune: $(err)\"\n"
       "echo \"R2E-SNAPSHOT ok\"\n";
  return AsCommand(runtime, s);
}

// Fork, in the original sandbox: the snapshot's objects (its three trees and
// everything under them) packed into the store's fork.pack. Prints their ids
// and the pack's size, then the pack itself in base64 when it is at most
// kInlinePackBytes (it then travels in the scripts' text, not through the
// runtime's file transfer, which costs a Docker sandbox 50-100 ms each way).
constexpr std::size_t kInlinePackBytes = 90000;  // 120,000 base64 bytes: within an exec's output bound
constexpr const char* kPackName = "fork.pack";

std::string PackScript(const Runtime& runtime, SnapshotId id) {
  std::string s = Prelude(runtime);
  s += "P=\"$S/" + std::string(kPackName) + "\"\nid=" + std::to_string(id) + "\n";
  s += ReadRefs();
  s += "printf '%s\\n' \"$cw\" \"$cg\" \"$cm\" | \"${G[@]}\" -c pack.compression=1 pack-objects --revs --stdout > \"$P\" "
       "2>\"$S/err\" || fail \"packing snapshot $id: $(err)\"\n"
       "size=$(wc -c < \"$P\") || fail \"packing snapshot $id: no pack\"\n"
       "echo \"R2E-SNAPSHOT ok $cw $cg $cm $size\"\n"
       "if [ \"$size\" -le " + std::to_string(kInlinePackBytes) + " ]; then\n"
       "  printf 'R2E-PACK '; base64 -w0 < \"$P\" || fail \"encoding the pack\"; echo\n"
       "fi\n";
  return AsCommand(runtime, s);
}

// Fork, in the new sandbox, before its restore: the pack (`inline_pack` in
// base64, else the file uploaded to the store's fork.pack) taken into a new
// store, and the snapshot's refs written with the ids PackScript printed.
std::string UnpackPart(SnapshotId id, const std::vector<std::string>& trees, const std::string& inline_pack) {
  std::string s = "P=\"$S/" + std::string(kPackName) + "\"\n";
  s += EnsureStore();
  if (!inline_pack.empty()) {
    s += "base64 -d > \"$P\" <<'R2E_PACK_END' || fail \"decoding the pack\"\n" + inline_pack + "\nR2E_PACK_END\n";
  }
  s += "\"${G[@]}\" index-pack --stdin < \"$P\" >/dev/null 2>\"$S/err\" || fail \"unpacking the snapshot: $(err)\"\n"
       ": > \"$P\"\n";  // emptied, not removed: no process
  const char* suffixes[] = {"wt", "git", "meta"};
  s += "{ ";
  for (int i = 0; i < 3; ++i) {
    s += "echo " + trees[i] + " > \"$S/refs/snapshots/" + std::to_string(id) + "-" + suffixes[i] + "\" && ";
  }
  s += ":; } || fail \"writing the snapshot's refs\"\n";
  return s;
}

// What PackScript printed: the three object ids, checked (they come from a
// sandbox the agent controls, and go into a script), and the pack in base64
// when it came inline and whole.
struct PackedSnapshot {
  std::vector<std::string> trees;
  std::string inline_pack;
};

Result<PackedSnapshot> ParsePacked(const ExecResult& r) {
  const std::string& output = r.output;
  const auto at = output.find("R2E-SNAPSHOT ok ");
  PackedSnapshot out;
  std::uint64_t size = 0;
  if (at != std::string::npos) {
    std::istringstream words(output.substr(at + 16, output.find('\n', at) - at - 16));
    for (std::string w; words >> w;) out.trees.push_back(w);
    if (out.trees.size() == 4) {
      size = std::strtoull(out.trees.back().c_str(), nullptr, 10);
      out.trees.pop_back();
    }
  }
  const bool valid = out.trees.size() == 3 && std::all_of(out.trees.begin(), out.trees.end(), [](const std::string& id) {
    return (id.size() == 40 || id.size() == 64) && id.find_first_not_of("0123456789abcdef") == std::string::npos;
  });
  if (!valid) return Status::FailedPrecondition("fork: the snapshot store answered no object ids: " + output);
  if (const auto p = output.find("\nR2E-PACK "); p != std::string::npos && r.truncated_bytes == 0) {
    const auto begin = p + 10;
    const auto end = output.find('\n', begin);
    std::string data = output.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    const bool whole = data.size() == (size + 2) / 3 * 4 &&
                       data.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
                           std::string::npos;
    if (whole) out.inline_pack = std::move(data);
  }
  return out;
}

// A script's result: OK when it printed its success line, else why not.
Result<ExecResult> CheckScript(ExecResult r, const char* what) {
  if (r.output.find("R2E-SNAPSHOT ok") != std::string::npos) return r;
  std::string why = std::string(internal::Trim(r.output));
  if (const auto at = why.find("R2E-SNAPSHOT-FAILED "); at != std::string::npos) why = why.substr(at + 20);
  if (why.size() > 2000) why = why.substr(0, 2000) + "...";
  if (r.timed_out) why = "timed out after " + std::to_string(kScriptTimeout.count()) + " s; " + why;
  return Status::FailedPrecondition(std::string(what) + ": " + SanitizeUtf8(why) + " (exit code " +
                                    std::to_string(r.exit_code) + ")");
}

}  // namespace

Result<ExecResult> RepoEnv::run_snapshot_script(const std::string& script, const char* what) {
  ExecOptions o;
  o.timeout = kScriptTimeout;
  auto r = runtime_->exec(script, o);
  if (!r.ok()) return r.status().WithContext(what);
  return CheckScript(std::move(*r), what);
}

Result<SnapshotId> RepoEnv::snapshot(SnapshotScope scope) {
  if (!started_) return Status::FailedPrecondition("snapshot() before reset() or after close(): call reset() first");
  if (scope == SnapshotScope::kSandbox) {
    return Status::Unimplemented(
        "whole-sandbox snapshots (SnapshotScope::kSandbox) are not built yet; SnapshotScope::kRepository captures "
        "/testbed with its git state");
  }
  const SnapshotId id = next_snapshot_id_;
  const std::uint64_t budget = options_.snapshot_budget_bytes;
  ExecOptions o;
  o.timeout = kScriptTimeout;
  auto r = runtime_->exec(SnapshotScript(*runtime_, id, budget), o);
  if (!r.ok()) return r.status().WithContext("snapshot");
  if (const auto at = r->output.find("R2E-SNAPSHOT-TOO-LARGE "); at != std::string::npos) {
    return Status::ResourceExhausted("snapshot: /testbed holds " +
                                     std::string(internal::Trim(r->output.substr(at + 23, 20))) +
                                     " bytes, over RepoEnvOptions::snapshot_budget_bytes (" + std::to_string(budget) +
                                     "); nothing was written");
  }
  R2E_ASSIGN_OR_RETURN(ExecResult done, CheckScript(std::move(*r), "snapshot"));
  ++next_snapshot_id_;
  SnapshotInfo info;
  info.id = id;
  info.step = steps_;
  info.done = done_;
  if (const auto at = done.output.find("R2E-SNAPSHOT ok "); at != std::string::npos) {
    info.bytes = std::strtoull(done.output.c_str() + at + 16, nullptr, 10);
  }
  snapshots_.push_back(info);
  return id;
}

namespace {
const SnapshotInfo* Find(const std::vector<SnapshotInfo>& snapshots, SnapshotId id) {
  for (const auto& s : snapshots) {
    if (s.id == id) return &s;
  }
  return nullptr;
}
Status UnknownSnapshot(SnapshotId id) {
  return Status::NotFound("no snapshot " + std::to_string(id) +
                          " in this episode (dropped, from before the last reset(), or never taken)");
}
}  // namespace

Status RepoEnv::restore(SnapshotId id) { return restore_after(id, ""); }

Status RepoEnv::restore_after(SnapshotId id, const std::string& first) {
  if (!started_) return Status::FailedPrecondition("restore() before reset() or after close(): call reset() first");
  const SnapshotInfo* info = Find(snapshots_, id);
  if (info == nullptr) return UnknownSnapshot(id);
  const bool end_session = runtime_->keeps_state();
  R2E_RETURN_IF_ERROR(run_snapshot_script(RestoreSnapshotScript(*runtime_, id, episode_token_, end_session, first),
                                          "restoring a snapshot")
                          .status());
  if (end_session) {
    // The restore ended the session shell: start the next one now and prove
    // the sandbox still answers.
    ExecOptions o;
    o.timeout = std::chrono::seconds(60);
    auto probe = runtime_->exec("true", o);
    if (!probe.ok()) return probe.status().WithContext("restoring a snapshot: restarting the session");
  }
  steps_ = info->step;
  done_ = info->done;
  episode_token_ = internal::RandomHex(8);
  return Status::OK();
}

Status RepoEnv::drop(SnapshotId id) {
  if (!started_) return Status::FailedPrecondition("drop() before reset() or after close(): call reset() first");
  auto it = std::find_if(snapshots_.begin(), snapshots_.end(), [&](const auto& s) { return s.id == id; });
  if (it == snapshots_.end()) return UnknownSnapshot(id);
  snapshots_.erase(it);
  return run_snapshot_script(DropScript(*runtime_, id), "dropping a snapshot").status();
}

std::vector<SnapshotInfo> RepoEnv::snapshots() const { return snapshots_; }

Result<std::unique_ptr<RepoEnv>> RepoEnv::fork(SnapshotId id) {
  if (!started_) return Status::FailedPrecondition("fork() before reset() or after close(): call reset() first");
  const SnapshotInfo* info = Find(snapshots_, id);
  if (info == nullptr) return UnknownSnapshot(id);
  const SnapshotInfo copied = *info;
  // The new sandbox is made (taken from options.warm_pool when it has one)
  // while this one packs the snapshot and hands the pack out: a fork costs
  // the longer of the two, then the pack's way in and a restore.
  auto made_future = std::async(
      std::launch::async, [task = task_, options = options_,
                           tools = added_tools_]() -> Result<std::unique_ptr<RepoEnv>> {
        R2E_ASSIGN_OR_RETURN(auto made, RepoEnv::Create(task, options));
        // The tools added to this environment come along.
        if (!tools.empty()) R2E_RETURN_IF_ERROR(made->add_commands(tools).WithContext("fork"));
        auto initial = made->reset();
        if (!initial.ok()) return initial.status().WithContext("fork: starting the new sandbox");
        return made;
      });
  namespace fs = std::filesystem;
  const fs::path host = fs::temp_directory_path() /
                        ("r2e-fork-" + std::to_string(::getpid()) + "-" + internal::RandomHex(6) + ".pack");
  struct RemoveFile {
    fs::path path;
    ~RemoveFile() {
      std::error_code ec;
      fs::remove(path, ec);
    }
  } remove_host{host};
  const std::string pack_path = std::string(kStore) + "/" + kPackName;
  auto packed = [&]() -> Result<PackedSnapshot> {
    R2E_ASSIGN_OR_RETURN(ExecResult r, run_snapshot_script(PackScript(*runtime_, id), "fork: packing the snapshot"));
    R2E_ASSIGN_OR_RETURN(PackedSnapshot p, ParsePacked(r));
    if (!p.inline_pack.empty()) return p;
    Status got = runtime_->download(pack_path, host);
    (void)runtime_->exec(": > " + ShellQuote(runtime_->command_path(pack_path)));
    R2E_RETURN_IF_ERROR(got.WithContext("fork: copying the snapshot out"));
    return p;
  }();
  // Waited for in every case: nothing of a failed fork runs on.
  auto made = made_future.get();
  if (!packed.ok()) return packed.status();  // `made` closes its sandbox
  if (!made.ok()) return made.status();
  RepoEnv& child = **made;
  auto fail = [&](Status s) {
    (void)child.close();
    return s;
  };
  if (packed->inline_pack.empty()) {
    if (Status s = child.runtime_->upload(host, pack_path); !s.ok()) {
      return fail(s.WithContext("fork: copying the snapshot in"));
    }
  }
  const SnapshotId child_id = 1;
  SnapshotInfo mine = copied;
  mine.id = child_id;
  child.snapshots_ = {mine};
  child.next_snapshot_id_ = child_id + 1;
  if (Status s = child.restore_after(child_id, UnpackPart(child_id, packed->trees, packed->inline_pack)); !s.ok()) {
    return fail(s.WithContext("fork"));
  }
  return std::move(*made);
}

void RepoEnv::forget_snapshots() {
  // A fast reset keeps the sandbox: its store goes too (any other reset
  // removes the sandbox with it).
  if (started_ && options_.fast_reset && next_snapshot_id_ > 1) {
    ExecOptions o;
    o.timeout = std::chrono::seconds(60);
    (void)runtime_->exec("rm -rf " + ShellQuote(runtime_->command_path(kStore)), o);
  }
  snapshots_.clear();
  next_snapshot_id_ = 1;
}

}  // namespace r2e
