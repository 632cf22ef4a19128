// A fork's checkout without git (base_to_snapshot.h).
#include "env/base_to_snapshot.h"

#include <map>
#include <set>

#include "r2e/shell_quote.h"

namespace r2e::internal {
namespace {

// One entry of a listing: "<type> <mode> <path>".
struct ListingEntry {
  char type = 0;
  std::string mode;
  bool operator==(const ListingEntry&) const = default;
};

bool IsObjectId(std::string_view s) {
  return (s.size() == 40 || s.size() == 64) &&
         s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool IsMode(std::string_view s) {
  return !s.empty() && s.size() <= 6 && s.find_first_not_of("01234567") == std::string_view::npos;
}

// The next NUL-terminated token of `in`, taken off it.
std::optional<std::string_view> NextToken(std::string_view& in) {
  const auto nul = in.find('\0');
  if (nul == std::string_view::npos) return std::nullopt;
  const auto token = in.substr(0, nul);
  in.remove_prefix(nul + 1);
  return token;
}

// A listing's entries by path; std::nullopt when one is not an entry.
std::optional<std::map<std::string, ListingEntry>> ReadListing(std::string_view listing) {
  std::map<std::string, ListingEntry> out;
  while (!listing.empty()) {
    const auto entry = NextToken(listing);
    if (!entry) return std::nullopt;
    const auto space = entry->find(' ', 2);
    if (entry->size() < 5 || (*entry)[1] != ' ' || space == std::string_view::npos ||
        space + 1 >= entry->size() || !IsMode(entry->substr(2, space - 2))) {
      return std::nullopt;
    }
    out[std::string(entry->substr(space + 1))] =
        ListingEntry{(*entry)[0], std::string(entry->substr(2, space - 2))};
  }
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
std::string WithPaths(const std::string& command, const std::set<std::string>& paths,
                      const std::string& what) {
  if (paths.empty()) return "";
  std::string s = command + " --";
  for (const auto& p : paths) s += " " + ShellQuote(p);
  return s + " || slow " + ShellQuote(what) + "\n";
}

}  // namespace

std::optional<BaseChanges> ParseBaseChanges(std::string_view printed, const SnapshotObjectIds& base,
                                            const SnapshotObjectIds& snapshot) {
  if (base.size() != 3 || snapshot.size() != 3 || !printed.ends_with(kChangesEndMark))
    return std::nullopt;
  printed.remove_suffix(kChangesEndMark.size());
  const std::string tree_pair = base[0] + " " + snapshot[0];
  const std::string git_pair = base[1] + " " + snapshot[1];
  if (tree_pair == git_pair) return std::nullopt;  // the parts could not be told apart
  BaseChanges out;
  const char* prefix = nullptr;  // the part's paths' ("" or ".git/"); none before a pair's line
  while (!printed.empty()) {
    // The last token may be a pair's line alone (an empty part, then the end).
    auto token = NextToken(printed);
    if (!token) {
      token = printed;
      printed = {};
    }
    // Where an entry is due: the pairs' lines (each ends with a newline, not
    // a NUL) before it, or the listing's mark.
    for (auto newline = token->find('\n'); newline != std::string_view::npos;
         newline = token->find('\n')) {
      const auto pair = token->substr(0, newline);
      if (pair == tree_pair) {
        prefix = "";
      } else if (pair == git_pair) {
        prefix = ".git/";
      } else {
        return std::nullopt;
      }
      token->remove_prefix(newline + 1);
    }
    if (*token == kBaseListingMark.substr(0, kBaseListingMark.size() - 1)) {
      out.base_listing = std::string(printed);
      break;
    }
    if (*token == kListingDiffMark.substr(0, kListingDiffMark.size() - 1)) {
      out.listing_diff = std::string(printed);
      break;
    }
    if (token->empty() && printed.empty()) break;  // a pair's line, then nothing
    // ":100644 100644 <id> <id> M", then the path.
    if (prefix == nullptr || !token->starts_with(':')) return std::nullopt;
    std::vector<std::string_view> fields;
    for (std::size_t from = 1; from <= token->size();) {
      auto space = token->find(' ', from);
      if (space == std::string_view::npos) space = token->size();
      fields.push_back(token->substr(from, space - from));
      from = space + 1;
    }
    const auto path = NextToken(printed);
    if (fields.size() != 5 || !IsMode(fields[1]) || !IsObjectId(fields[3]) ||
        fields[4].size() != 1 || !path || path->empty()) {
      return std::nullopt;
    }
    out.files.push_back({std::string(fields[1]), std::string(fields[3]), fields[4][0],
                         prefix + std::string(*path)});
  }
  return out;
}

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

std::optional<std::string> BaseToSnapshotPart(const BaseChanges& changes,
                                              std::optional<std::string_view> base_listing,
                                              const SnapshotObjectIds& base,
                                              const SnapshotObjectIds& snapshot,
                                              const std::vector<LooseObject>& objects) {
  if (base.size() != 3 || snapshot.size() != 3) return std::nullopt;
  const auto blobs = Blobs(objects);
  // The two listings' differences: entries only in the base's, and only in
  // the snapshot's (a path whose type or bits changed is in both).
  std::map<std::string, ListingEntry> base_only, snapshot_only;
  if (base[2] != snapshot[2] && changes.listing_diff) {
    // As the original's comm printed it: the snapshot's entries after a tab.
    std::string before, after;
    std::string_view diff = *changes.listing_diff;
    while (!diff.empty()) {
      auto entry = NextToken(diff);
      if (!entry) return std::nullopt;
      std::string& side = entry->starts_with('\t') ? after : before;
      if (entry->starts_with('\t')) entry->remove_prefix(1);
      side.append(*entry).push_back('\0');
    }
    auto b = ReadListing(before);
    auto a = ReadListing(after);
    if (!b || !a) return std::nullopt;
    base_only = std::move(*b);
    snapshot_only = std::move(*a);
  } else if (base[2] != snapshot[2]) {
    const auto listing = blobs.find(snapshot[2]);
    if (listing == blobs.end() || !base_listing) return std::nullopt;
    auto before = ReadListing(*base_listing);
    auto after = ReadListing(listing->second);
    if (!before || !after) return std::nullopt;
    for (auto& [path, e] : *before) {
      const auto it = after->find(path);
      if (it == after->end() || !(it->second == e)) base_only.emplace(path, e);
    }
    for (auto& [path, e] : *after) {
      const auto it = before->find(path);
      if (it == before->end() || !(it->second == e)) snapshot_only.emplace(path, e);
    }
  }
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
    if ((e.type == 'd' || e.type == 'f') && (!is_new(path) || e.mode != made_as))
      chmods[e.mode].insert(path);
  }
  std::string s = "umask 022\n";
  s += WithPaths("rm -rf", removed, "removing what the snapshot does not have");
  s += WithPaths("mkdir -p", made_dirs, "making the snapshot's directories");
  for (const auto& c : changes.files) {
    if (c.status == 'D') continue;  // the listings' difference removes it
    if (c.status != 'A' && c.status != 'M' && c.status != 'T') return std::nullopt;
    const std::string path = ShellQuote(c.path);
    const auto blob = blobs.find(c.id);
    if (c.mode == "100644" || c.mode == "100755") {
      if (blob != blobs.end() && blob->second.size() <= kPrintfBytes) {
        s += "printf '" + PrintfFormat(blob->second) + "' > " + path;
      } else {  // an object of the base's, or a large one: from the store
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
      s += "ln -sfn -- " + target + " " + path + " || slow " + ShellQuote("linking " + c.path) +
           "\n";
    } else {
      return std::nullopt;  // a submodule
    }
  }
  for (const auto& [mode, paths] : chmods) s += WithPaths("chmod " + mode, paths, "setting modes");
  return s;
}

}  // namespace r2e::internal
