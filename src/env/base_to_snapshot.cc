// A fork's checkout without git (base_to_snapshot.h).
#include "env/base_to_snapshot.h"

#include <map>
#include <set>

#include "r2e/shell_quote.h"

namespace r2e::internal {
namespace {

// One entry of `git diff-tree -r -z --no-renames`: ":<old mode> <new mode>
// <old id> <new id> <status>", then the path.
struct TreeChange {
  std::string mode;  // the snapshot's
  std::string id;    // the snapshot's
  char status = 0;
  std::string path;  // relative to /testbed
};

// One entry of the listings' difference: "<type> <mode> <path>".
struct ListingEntry {
  char type = 0;
  std::string mode;
};

bool IsObjectId(std::string_view s) {
  return (s.size() == 40 || s.size() == 64) && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool IsMode(std::string_view s) {
  return !s.empty() && s.size() <= 6 && s.find_first_not_of("01234567") == std::string_view::npos;
}

struct Changes {
  std::vector<TreeChange> tree;
  std::map<std::string, ListingEntry> base_only;      // by path
  std::map<std::string, ListingEntry> snapshot_only;  // by path
};

// `changes` read, or std::nullopt when it is not what PackScript prints.
std::optional<Changes> Parse(std::string_view changes) {
  if (!changes.ends_with(kChangesEndMark)) return std::nullopt;
  changes.remove_suffix(kChangesEndMark.size());
  Changes out;
  int section = 0;  // 0: /testbed's trees, 1: .git's, 2: the listings
  std::size_t at = 0;
  auto next = [&]() -> std::optional<std::string_view> {
    if (at >= changes.size()) return std::nullopt;
    const auto nul = changes.find('\0', at);
    if (nul == std::string_view::npos) return std::nullopt;
    const auto token = changes.substr(at, nul - at);
    at = nul + 1;
    return token;
  };
  while (at < changes.size()) {
    const auto token = next();
    if (!token) return std::nullopt;
    if (section == 0 && *token == kChangesGitMark.substr(0, kChangesGitMark.size() - 1)) {
      section = 1;
      continue;
    }
    if (section == 1 && *token == kChangesListingMark.substr(0, kChangesListingMark.size() - 1)) {
      section = 2;
      continue;
    }
    if (section < 2) {
      // ":100644 100644 <id> <id> M"
      if (!token->starts_with(':')) return std::nullopt;
      std::vector<std::string_view> fields;
      for (std::size_t from = 1; from <= token->size();) {
        auto space = token->find(' ', from);
        if (space == std::string_view::npos) space = token->size();
        fields.push_back(token->substr(from, space - from));
        from = space + 1;
      }
      const auto path = next();
      if (fields.size() != 5 || !IsMode(fields[1]) || !IsObjectId(fields[3]) || fields[4].size() != 1 || !path ||
          path->empty()) {
        return std::nullopt;
      }
      TreeChange c;
      c.mode = std::string(fields[1]);
      c.id = std::string(fields[3]);
      c.status = fields[4][0];
      c.path = (section == 1 ? ".git/" : "") + std::string(*path);
      out.tree.push_back(std::move(c));
      continue;
    }
    // "<type> <mode> <path>", after a tab when only the snapshot has it.
    std::string_view entry = *token;
    const bool snapshots = entry.starts_with('\t');
    if (snapshots) entry.remove_prefix(1);
    const auto space = entry.find(' ', 2);
    if (entry.size() < 5 || entry[1] != ' ' || space == std::string_view::npos || space + 1 >= entry.size() ||
        !IsMode(entry.substr(2, space - 2))) {
      return std::nullopt;
    }
    ListingEntry e{entry[0], std::string(entry.substr(2, space - 2))};
    (snapshots ? out.snapshot_only : out.base_only)[std::string(entry.substr(space + 1))] = e;
  }
  if (section != 2) return std::nullopt;
  return out;
}

// The objects by id, as their content when they are blobs.
std::map<std::string, std::string> Blobs(const std::vector<LooseObject>& objects) {
  std::map<std::string, std::string> out;
  for (const auto& [name, file] : objects) {
    auto body = InflateStored(file);
    if (!body || !body->starts_with("blob ")) continue;
    const auto nul = body->find('\0');
    if (nul == std::string::npos) continue;
    std::string id = name.starts_with("./") ? name.substr(2) : name;
    id.erase(2, 1);
    out.emplace(std::move(id), body->substr(nul + 1));
  }
  return out;
}

// `command` followed by the quoted paths, when there are any.
std::string WithPaths(const std::string& command, const std::set<std::string>& paths, const std::string& what) {
  if (paths.empty()) return "";
  std::string s = command + " --";
  for (const auto& p : paths) s += " " + ShellQuote(p);
  return s + " || slow " + ShellQuote(what) + "\n";
}

}  // namespace

std::string PrintfFormat(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\'' && c != '\\' && c != '%') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::optional<std::string> BaseToSnapshotPart(std::string_view changes, const std::vector<LooseObject>& objects) {
  auto parsed = Parse(changes);
  if (!parsed) return std::nullopt;
  const auto& base_only = parsed->base_only;
  const auto& snapshot_only = parsed->snapshot_only;
  // A path whose type changes is removed and made again.
  std::set<std::string> removed, made_dirs;
  for (const auto& [path, e] : base_only) {
    const auto wanted = snapshot_only.find(path);
    if (wanted == snapshot_only.end() || wanted->second.type != e.type) removed.insert(path);
  }
  auto is_new = [&](const std::string& path) {
    return !base_only.contains(path) || removed.contains(path);
  };
  // New files are made with the umask's 644, directories with its 755;
  // anything else, and any change of an existing entry's bits, is a chmod.
  std::map<std::string, std::set<std::string>> chmods;  // mode -> paths
  for (const auto& [path, e] : snapshot_only) {
    if (e.type == 'd' && is_new(path)) made_dirs.insert(path);
    const char* made_as = e.type == 'd' ? "755" : "644";
    if ((e.type == 'd' || e.type == 'f') && (!is_new(path) || e.mode != made_as)) chmods[e.mode].insert(path);
  }
  std::string s = "umask 022\n";
  s += WithPaths("rm -rf", removed, "removing what the snapshot does not have");
  s += WithPaths("mkdir -p", made_dirs, "making the snapshot's directories");
  const auto blobs = Blobs(objects);
  for (const auto& c : parsed->tree) {
    if (c.status == 'D') continue;  // the listings' difference removes it
    if (c.status != 'A' && c.status != 'M' && c.status != 'T') return std::nullopt;
    const std::string path = ShellQuote(c.path);
    const auto blob = blobs.find(c.id);
    if (c.mode == "100644" || c.mode == "100755") {
      if (blob != blobs.end()) {
        s += "printf '" + PrintfFormat(blob->second) + "' > " + path;
      } else {  // an object of the base's: in the store, not among those shipped
        s += "\"${G[@]}\" cat-file blob " + c.id + " > " + path;
      }
      s += " || slow " + ShellQuote("writing " + c.path) + "\n";
    } else if (c.mode == "120000") {
      std::string target;
      if (blob != blobs.end() && blob->second.find('\0') == std::string::npos) {
        target = ShellQuote(blob->second);
      } else {  // read from the store; the x keeps a trailing newline
        s += "l=$(\"${G[@]}\" cat-file blob " + c.id + " && echo x) || slow " +
             ShellQuote("reading the target of " + c.path) + "\n";
        target = "\"${l%x}\"";
      }
      s += "ln -sfn -- " + target + " " + path + " || slow " + ShellQuote("linking " + c.path) + "\n";
    } else {
      return std::nullopt;  // a submodule
    }
  }
  for (const auto& [mode, paths] : chmods) s += WithPaths("chmod " + mode, paths, "setting modes");
  return s;
}

}  // namespace r2e::internal
