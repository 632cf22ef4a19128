// The scripts behind RepoEnv's snapshots (snapshot_scripts.h).
#include "env/snapshot_scripts.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <utility>

#include "archive/tar.h"
#include "core/text.h"
#include "env/base_to_snapshot.h"
#include "env/loose_objects.h"
#include "env/task_prep.h"
#include "r2e/shell_quote.h"

namespace r2e::internal {
namespace {

constexpr const char* kStore = kSnapshotStore;
constexpr const char* kPackName = "fork.pack";

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
bool RunsAsIs(const Runtime& runtime) {
  return runtime.command_shell() == "bash" && !runtime.keeps_state();
}

std::string AsCommand(const Runtime& runtime, const std::string& script) {
  if (RunsAsIs(runtime)) return script;
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

// Snapshot `id` ("base" for a primed store's) of /testbed, once the store exists; leaves its
// trees in $tw, $tg and $tm and the bytes it measured in $bytes. `git_paths`: what of .git
// it takes (git add's pathspec).
std::string TakeSnapshotPart(const std::string& id, std::uint64_t budget, const std::string& git_paths = ".") {
  std::string s = "id=" + id + "\nbudget=" + std::to_string(budget) + "\n";
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
       "  { GIT_WORK_TREE=\"$T/.git\" GIT_INDEX_FILE=\"$S/index-git\" \"${G[@]}\" -C \"$T/.git\" add -A -f -- " +
       git_paths +
       " >/dev/null && "
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
       "(is the disk full?)\"\n";
  return s;
}

constexpr const char* kSnapshotDone = "echo \"R2E-SNAPSHOT ok $bytes $tw $tg $tm\"\n";

}  // namespace

std::string SnapshotScript(const Runtime& runtime, SnapshotId id, std::uint64_t budget) {
  return AsCommand(runtime, Prelude(runtime) + EnsureStore() + TakeSnapshotPart(std::to_string(id), budget) +
                                kSnapshotDone);
}

std::string PrimeScript(const Runtime& runtime, std::uint64_t budget) {
  std::string s = Prelude(runtime);
  s += "rm -rf \"$S\" || fail \"cannot clear $S\"\n";
  s += EnsureStore();
  // Without .git/index: it holds the stat data of the files, which differ
  // between two sandboxes of one image on some runtimes (a copied /testbed
  // has new inode numbers), and the base must be the same in both. The
  // first snapshot takes the index in.
  s += TakeSnapshotPart("base", budget, ". ':(exclude)index'");
  // A rename: the base's objects become an alternate; the store's own
  // directory starts empty.
  // Its fan-out directories made now, so that a fork's objects are written
  // with no process (UnpackPart).
  s += "{ mv \"$S/objects\" \"$S/base-objects\" && mkdir -p \"$S/objects/pack\" \"$S/objects/info\" "
       "\"$S/objects/\"{{0..9},{a..f}}{{0..9},{a..f}} && "
       "echo \"$S/base-objects\" > \"$S/objects/info/alternates\"; } 2>\"$S/err\" || "
       "{ m=$(err); rm -rf \"$S\"; fail \"setting the base aside: $m\"; }\n";  // no half-primed store
  s += kSnapshotDone;
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
  s += KillEpisodeSnippet(token);
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
  if (end_session) s += EndSessionShellSnippet();
  return AsCommand(runtime, s);
}

std::string DropScript(const Runtime& runtime, const std::string& refs) {
  std::string s = Prelude(runtime);
  // The private indexes' blobs stay (their trees get a ref), so that the
  // next snapshot still only hashes what changed.
  s += "[ -f \"$S/HEAD\" ] || { echo \"R2E-SNAPSHOT ok\"; exit 0; }\n"
       "for i in wt git; do\n"
       "  [ -f \"$S/index-$i\" ] || continue\n"
       "  t=$(GIT_INDEX_FILE=\"$S/index-$i\" g write-tree 2>/dev/null) && echo \"$t\" > \"$S/refs/r2e-index-$i\" "
       "|| rm -f \"$S/index-$i\"\n"
       "done\n"
       "cd \"$S/refs/snapshots\" && rm -f -- " +
       refs +
       "\n"
       "g prune --expire=now 2>\"$S/err\" || fail \"prune: $(err)\"\n"
       "echo \"R2E-SNAPSHOT ok\"\n";
  return AsCommand(runtime, s);
}

std::string SnapshotRefs(SnapshotId id) {
  const std::string n = std::to_string(id);
  return n + "-wt " + n + "-git " + n + "-meta";
}

std::string ForkPackPath() { return std::string(kStore) + "/" + kPackName; }

std::string PackScript(const Runtime& runtime, SnapshotId id, bool thin, ListingPart listing) {
  std::string listing_part;
  if (listing == ListingPart::kBaseListing) {
    listing_part = "printf 'R2E-META\\0' && \"${G[@]}\" cat-file blob \"$bm\" && ";
  } else if (listing == ListingPart::kListingDiff) {
    listing_part =
        "printf 'R2E-META-DIFF\\0' && { [ \"$cm\" = \"$bm\" ] || { set -o pipefail && "
        "\"${G[@]}\" cat-file blob \"$bm\" | sort -z > \"$S/meta.base\" && "
        "\"${G[@]}\" cat-file blob \"$cm\" | sort -z > \"$S/meta.want\" && "
        "comm -z -3 \"$S/meta.base\" \"$S/meta.want\"; }; } && ";
  }
  std::string s = Prelude(runtime);
  s += "P=\"$S/" + std::string(kPackName) + "\"\nid=" + std::to_string(id) + "\nsize= pd=\n";
  s += ReadRefs();
  if (thin) {
    // Loose objects (in two-hex directories) and the packs of earlier forks in.
    s +=
        "[ -f \"$S/objects/info/alternates\" ] || "
        "fail \"the store at $S has no base (deleted inside the sandbox?)\"\n"
        "cd \"$S/objects\" || fail \"cannot enter $S/objects\"\n"
        "shopt -s nullglob; set -- [0-9a-f][0-9a-f]/* pack/*; shopt -u nullglob\n"
        "[ $# -gt 0 ] || set -- -T /dev/null\n"  // nothing written since the base: an empty archive
        // Side by side with the tar, what changed since the base
        // (base_to_snapshot.h), in base64: a new sandbox of the same base
        // then needs no git to check the snapshot out.
        "if { read -r bw < \"$S/refs/snapshots/base-wt\" && "
        "read -r bg < \"$S/refs/snapshots/base-git\" && "
        "read -r bm < \"$S/refs/snapshots/base-meta\"; } 2>/dev/null; then\n"
        "  { \"${G[@]}\" diff-tree --stdin -r -z --no-renames <<< \"$bw $cw\"$'\\n'\"$bg $cg\" && " +
        listing_part +
        "printf 'R2E-END\\0'; } 2>/dev/null | base64 -w0 > \"$S/fork.changes\" &\n"
        "  pd=$!\n"
        "fi\n"
        // Its size from tar itself (GNU tar's --totals), not from one more process.
        "{ tar --totals -cf \"$P\" \"$@\" || tar -cf \"$P\" \"$@\"; } 2>\"$S/err\" || "
        "fail \"packing snapshot $id: $(err)\"\n"
        "read -r _ _ _ size _ < \"$S/err\"; case $size in ''|*[!0-9]*) size= ;; esac\n"
        "[ -z \"$pd\" ] || wait \"$pd\" || pd=\n";
  } else {
    s += "printf '%s\\n' \"$cw\" \"$cg\" \"$cm\" | \"${G[@]}\" -c pack.compression=1 pack-objects --revs --stdout "
         "> \"$P\" 2>\"$S/err\" || fail \"packing snapshot $id: $(err)\"\n";
  }
  s += "[ -n \"$size\" ] || size=$(wc -c < \"$P\") || fail \"packing snapshot $id: no pack\"\n"
       "echo \"R2E-SNAPSHOT ok $cw $cg $cm $size\"\n"
       "if [ \"$size\" -le " +
       std::to_string(kInlinePackBytes) +
       " ]; then\n"
       "  printf 'R2E-PACK '; base64 -w0 < \"$P\" || fail \"encoding the pack\"; echo\n"
       "  if [ -n \"$pd\" ] && { read -r changes || [ -n \"$changes\" ]; } < \"$S/fork.changes\" "
       "&& [ ${#changes} -le " +
       std::to_string(kInlineChangesBytes) +
       " ]; then\n"
       "    printf 'R2E-CHANGES %s\\n' \"$changes\"\n"
       "  fi\n"
       "fi\n";
  return AsCommand(runtime, s);
}

void TakeLooseObjects(PackedSnapshot& packed) {
  if (packed.inline_pack.empty()) return;
  const auto tar = Base64Decode(packed.inline_pack);
  if (!tar) return;
  auto files = archive::RegularFiles(*tar);
  if (!files.ok()) return;
  for (auto& [name, content] : *files) {
    if (!IsLooseObjectPath(name)) return;  // an earlier fork's pack: tar -x in the sandbox
    if (name.starts_with("./")) name.erase(0, 2);
  }
  // Each file costs the new sandbox a file creation (about half a
  // millisecond on an overlay filesystem): only the snapshot's own go.
  packed.loose = ReachableLooseObjects(std::move(*files), packed.trees);
  packed.inline_pack.clear();
}

std::string UnpackPart(SnapshotId id, const PackedSnapshot& packed, bool thin) {
  std::string s = "P=\"$S/" + std::string(kPackName) + "\"\n";
  if (!thin) s += EnsureStore();
  // More than two objects go as one pack and its index, built on the host:
  // two file creations instead of one per object.
  const auto pack_files =
      packed.loose && packed.loose->size() > 2 ? PackLooseObjects(*packed.loose) : std::nullopt;
  if (pack_files) {
    // The index last: git looks at a pack only once its index is there.
    s += "[ -d \"$S/objects/pack\" ] || mkdir -p \"$S/objects/pack\" || fail \"cannot write to "
         "$S/objects\"\n";
    for (const auto& [suffix, bytes] :
         {std::pair<const char*, const std::string*>{".pack", &pack_files->pack},
          {".idx", &pack_files->idx}}) {
      const std::string file = "\"$S/objects/pack/" + pack_files->name + suffix + "\"";
      // A large one (a big repository's .git/index) as base64: printf's
      // text would be up to four times its size.
      if (bytes->size() > kPrintfBytes) {
        s += "base64 -d > " + file +
             " <<'R2E_PACK_END' || fail \"writing the snapshot's objects in $S (is the disk "
             "full?)\"\n" +
             Base64Encode(*bytes) + "\nR2E_PACK_END\n";
      } else {
        s += "printf '" + PrintfFormat(*bytes) + "' > " + file +
             " || fail \"writing the snapshot's objects in $S (is the disk full?)\"\n";
      }
    }
  } else if (packed.loose) {
    std::set<std::string> dirs;
    for (const auto& [name, content] : *packed.loose) {
      const std::string dir = name.substr(0, 2);
      if (dirs.insert(dir).second) {
        s += "[ -d \"$S/objects/" + dir + "\" ] || mkdir -p \"$S/objects/" + dir + "\" || fail \"cannot write to " +
             "$S/objects\"\n";
      }
      s += "printf '" + PrintfFormat(content) + "' > \"$S/objects/" + name +
           "\" || fail \"writing the snapshot's objects in $S (is the disk full?)\"\n";
    }
  } else {
    if (!packed.inline_pack.empty()) {
      s += "base64 -d > \"$P\" <<'R2E_PACK_END' || fail \"decoding the pack\"\n" + packed.inline_pack +
           "\nR2E_PACK_END\n";
    }
    if (thin) {
      s += "tar -xf \"$P\" -C \"$S/objects\" 2>\"$S/err\" || fail \"unpacking the snapshot: $(err)\"\n";
    } else {
      s += "\"${G[@]}\" index-pack --stdin < \"$P\" >/dev/null 2>\"$S/err\" || fail \"unpacking the snapshot: "
           "$(err)\"\n";
    }
    s += ": > \"$P\"\n";  // emptied, not removed: no process
  }
  const char* suffixes[] = {"wt", "git", "meta"};
  s += "{ ";
  for (int i = 0; i < 3; ++i) {
    s += "echo " + packed.trees[i] + " > \"$S/refs/snapshots/" + std::to_string(id) + "-" + suffixes[i] + "\" && ";
  }
  s += ":; } || fail \"writing the snapshot's refs\"\n";
  return s;
}

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
  if (const auto p = output.find("\nR2E-CHANGES ");
      p != std::string::npos && !out.inline_pack.empty()) {
    const auto begin = p + 13;
    const auto end = output.find('\n', begin);
    if (end != std::string::npos) {
      if (auto changes = Base64Decode(std::string_view(output).substr(begin, end - begin))) {
        out.changes_printed = std::move(*changes);
      }
    }
  }
  return out;
}

void PrepareForkCheckout(PackedSnapshot& packed, SnapshotId id,
                         std::optional<std::string_view> base_listing,
                         const std::vector<std::string>& base) {
  if (!packed.loose || !packed.changes) return;
  packed.unpack_part = UnpackPart(id, packed, true);
  packed.checkout_part =
      BaseToSnapshotPart(*packed.changes, base_listing, base, packed.trees, *packed.loose);
}

std::optional<std::string> ForkCheckoutScript(const Runtime& runtime, const PackedSnapshot& packed,
                                              const std::string& then) {
  if (!packed.checkout_part || packed.unpack_part.empty()) return std::nullopt;
  if (!then.empty() && !RunsAsIs(runtime)) return std::nullopt;
  std::string s = Prelude(runtime);
  s += packed.unpack_part;
  s += "cd \"$T\" || fail \"cannot enter $T\"\n";
  s += "slow() { echo \"" + std::string(kForkCheckoutSlow) + " $*\"; exit 8; }\n";
  s += *packed.checkout_part;
  s += "echo \"R2E-SNAPSHOT ok\"\n";
  if (then.empty()) return AsCommand(runtime, s);
  // The checkout in a subshell of its own: `then` runs in the environment
  // the command started with, once the checkout is done.
  return "(\n" + s + ") && {\n" + then + "\n}\n";
}

Result<ExecResult> CheckSnapshotScript(ExecResult r, const char* what) {
  if (r.output.find("R2E-SNAPSHOT ok") != std::string::npos) return r;
  std::string why = std::string(Trim(r.output));
  if (const auto at = why.find("R2E-SNAPSHOT-FAILED "); at != std::string::npos) why = why.substr(at + 20);
  if (why.size() > 2000) why = why.substr(0, 2000) + "...";
  if (r.timed_out) why = "timed out after " + std::to_string(kSnapshotScriptTimeout.count()) + " s; " + why;
  return Status::FailedPrecondition(std::string(what) + ": " + SanitizeUtf8(why) + " (exit code " +
                                    std::to_string(r.exit_code) + ")");
}

Result<std::string> PrimeSnapshotStore(Runtime& runtime, std::uint64_t budget) {
  ExecOptions o;
  o.timeout = kSnapshotScriptTimeout;
  R2E_ASSIGN_OR_RETURN(ExecResult r, runtime.exec(PrimeScript(runtime, budget), o));
  const auto at = r.output.find("R2E-SNAPSHOT ok ");
  if (at == std::string::npos) return std::string();
  std::istringstream words(r.output.substr(at + 16, r.output.find('\n', at) - at - 16));
  std::string bytes, base;
  words >> bytes;
  for (std::string w; words >> w;) base += (base.empty() ? "" : " ") + w;
  return base;
}

}  // namespace r2e::internal
