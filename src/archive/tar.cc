// Tar archives in memory with libarchive: pax (restricted: plain ustar unless
// a name or size needs an extended header), read back with checks that keep
// every write inside the destination directory.
#include "archive/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace r2e::archive {

namespace fs = std::filesystem;

namespace {

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ReadPtr = std::unique_ptr<struct archive, ReadDeleter>;
using WritePtr = std::unique_ptr<struct archive, WriteDeleter>;
using EntryPtr = std::unique_ptr<archive_entry, EntryDeleter>;

std::string ArchiveMessage(struct archive* a) {
  const char* msg = archive_error_string(a);
  return msg != nullptr ? msg : "unknown libarchive error";
}

std::string ErrnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// ---------------------------------------------------------------- writing

la_ssize_t AppendToString(struct archive*, void* client, const void* buffer, size_t length) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

// A pax-restricted writer appending to `out`.
Result<WritePtr> NewMemoryWriter(std::string* out) {
  WritePtr a(archive_write_new());
  if (!a) return Status::Internal("tar: archive_write_new failed");
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
      archive_write_add_filter_none(a.get()) != ARCHIVE_OK ||
      archive_write_open2(a.get(), out, nullptr, AppendToString, nullptr, nullptr) != ARCHIVE_OK) {
    return Status::Internal("tar: cannot start archive: " + ArchiveMessage(a.get()));
  }
  return a;
}

// ARCHIVE_WARN (e.g. a name not in the locale's charset, stored as binary)
// still writes the entry.
bool WriteOk(int rc) { return rc == ARCHIVE_OK || rc == ARCHIVE_WARN; }

Status WriteHeader(struct archive* a, archive_entry* e) {
  if (!WriteOk(archive_write_header(a, e))) {
    return Status::Internal(std::string("tar: cannot add ") + archive_entry_pathname(e) + ": " +
                            ArchiveMessage(a));
  }
  return Status::OK();
}

Status AddRegularFile(struct archive* a, archive_entry* e, const fs::path& host) {
  // O_NOFOLLOW: the path was lstat'ed as a regular file; do not chase a swap.
  const int fd = ::open(host.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return Status::Internal("tar: cannot open " + host.string() + ": " + ErrnoMessage(errno));
  Status st = WriteHeader(a, e);
  std::vector<char> buf(64 * 1024);
  // A file that shrinks while read is zero-padded by libarchive; one that
  // grows is cut at the size in the header.
  la_int64_t left = archive_entry_size(e);
  while (st.ok() && left > 0) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = Status::Internal("tar: cannot read " + host.string() + ": " + ErrnoMessage(errno));
      break;
    }
    if (n == 0) break;
    const la_int64_t take = std::min<la_int64_t>(n, left);
    if (archive_write_data(a, buf.data(), static_cast<size_t>(take)) < 0) {
      st = Status::Internal("tar: cannot write " + host.string() + ": " + ArchiveMessage(a));
    }
    left -= take;
  }
  ::close(fd);
  if (st.ok() && !WriteOk(archive_write_finish_entry(a))) {
    st = Status::Internal("tar: cannot finish " + host.string() + ": " + ArchiveMessage(a));
  }
  return st;
}

// Adds `host` (not following a symlink) as `name`, and a directory's
// children in name order so archives are reproducible.
Status AddTree(struct archive* a, const fs::path& host, const std::string& name) {
  struct stat st {};
  if (::lstat(host.c_str(), &st) != 0) {
    return Status::Internal("tar: cannot stat " + host.string() + ": " + ErrnoMessage(errno));
  }
  EntryPtr e(archive_entry_new());
  archive_entry_copy_stat(e.get(), &st);
  archive_entry_copy_pathname(e.get(), name.c_str());
  if (S_ISREG(st.st_mode)) return AddRegularFile(a, e.get(), host);
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(host, ec);
    if (ec) return Status::Internal("tar: cannot read link " + host.string() + ": " + ec.message());
    archive_entry_set_size(e.get(), 0);
    archive_entry_copy_symlink(e.get(), target.c_str());
    return WriteHeader(a, e.get());
  }
  if (!S_ISDIR(st.st_mode)) return Status::OK();  // sockets, fifos, devices: nothing to copy
  archive_entry_set_size(e.get(), 0);
  R2E_RETURN_IF_ERROR(WriteHeader(a, e.get()));
  std::vector<std::string> children;
  std::error_code ec;
  for (fs::directory_iterator it(host, ec), end; !ec && it != end; it.increment(ec)) {
    children.push_back(it->path().filename().string());
  }
  if (ec) return Status::Internal("tar: cannot list " + host.string() + ": " + ec.message());
  std::sort(children.begin(), children.end());
  for (const std::string& child : children) {
    R2E_RETURN_IF_ERROR(AddTree(a, host / child, name + "/" + child));
  }
  return Status::OK();
}

Status FinishWriter(struct archive* a) {
  if (archive_write_close(a) != ARCHIVE_OK) {
    return Status::Internal("tar: cannot finish archive: " + ArchiveMessage(a));
  }
  return Status::OK();
}

// ---------------------------------------------------------------- reading

bool HasDotDot(const std::vector<std::string>& parts) {
  return std::find(parts.begin(), parts.end(), "..") != parts.end();
}

Status BadArchive(struct archive* a) {
  return Status::InvalidArgument("tar: unreadable archive: " + ArchiveMessage(a));
}

Result<ReadPtr> NewMemoryReader(std::string_view tar) {
  ReadPtr a(archive_read_new());
  if (!a) return Status::Internal("tar: archive_read_new failed");
  // Any tar dialect, optionally compressed (Docker's archive endpoint accepts
  // the same); an empty input is an empty archive.
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  archive_read_support_format_empty(a.get());
  archive_read_support_filter_all(a.get());
  if (archive_read_open_memory(a.get(), tar.data(), tar.size()) != ARCHIVE_OK) {
    return BadArchive(a.get());
  }
  return a;
}

struct Member {
  std::string name;                // as in the archive
  std::vector<std::string> parts;  // normalized components
  mode_t type = 0;                 // AE_IF*
  std::optional<std::string> hardlink;
  std::optional<std::string> symlink;
};

// First pass: every header, with the data skipped (which is also where a
// truncated archive shows).
Result<std::vector<Member>> ReadMembers(std::string_view tar) {
  R2E_ASSIGN_OR_RETURN(ReadPtr a, NewMemoryReader(tar));
  std::vector<Member> members;
  archive_entry* e = nullptr;
  while (true) {
    const int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return BadArchive(a.get());
    Member m;
    const char* name = archive_entry_pathname(e);
    if (name == nullptr || *name == '\0') {
      return Status::InvalidArgument("tar: refusing an entry with no name");
    }
    m.name = name;
    m.parts = PathComponents(m.name);
    m.type = archive_entry_filetype(e);
    if (const char* h = archive_entry_hardlink(e)) m.hardlink = h;
    if (const char* s = archive_entry_symlink(e); s != nullptr && m.type == AE_IFLNK) m.symlink = s;
    if (archive_read_data_skip(a.get()) != ARCHIVE_OK) return BadArchive(a.get());
    members.push_back(std::move(m));
  }
  return members;
}

// What the archive and the destination's current contents say about
// symlinks, to resolve link targets the way the kernel later will.
class LinkView {
 public:
  LinkView(const std::vector<Member>& members, fs::path dest) : dest_(std::move(dest)) {
    for (const Member& m : members) {
      if (m.symlink) links_[JoinComponents(m.parts, m.parts.size())] = *m.symlink;
    }
  }

  // The target of the symlink at `rel` (archive first, then disk).
  std::optional<std::string> link_at(const std::string& rel) const {
    if (auto it = links_.find(rel); it != links_.end()) return it->second;
    std::error_code ec;
    const fs::path p = dest_ / rel;
    if (!fs::is_symlink(fs::symlink_status(p, ec))) return std::nullopt;
    fs::path target = fs::read_symlink(p, ec);
    if (ec) return std::string("/");  // unreadable: treat as pointing outside
    return target.string();
  }

  // The first proper prefix of `parts` that is a symlink, if any: writing
  // through it would land wherever it points.
  std::optional<std::string> symlink_parent(const std::vector<std::string>& parts) const {
    for (std::size_t i = 1; i < parts.size(); ++i) {
      std::string prefix = JoinComponents(parts, i);
      if (link_at(prefix)) return prefix;
    }
    return std::nullopt;
  }

  // Whether `target`, read from directory `dir`, stays inside the
  // destination, following symlinks along the way (lexical ".." after a
  // symlink is not physical "..").
  bool stays_inside(std::vector<std::string> dir, std::string_view target) const {
    int hops = 0;
    std::vector<std::string> resolved;
    return resolve(std::move(dir), target, hops, resolved);
  }

 private:
  // Walks `target` from `dir` into `out`; false when it leaves the
  // destination, is absolute, or loops.
  bool resolve(std::vector<std::string> dir, std::string_view target, int& hops,
               std::vector<std::string>& out) const {
    if (!target.empty() && target.front() == '/') return false;
    for (const std::string& part : PathComponents(target)) {
      if (part == "..") {
        if (dir.empty()) return false;
        dir.pop_back();
        continue;
      }
      dir.push_back(part);
      if (auto link = link_at(JoinComponents(dir, dir.size()))) {
        if (++hops > 40) return false;  // a loop, like ELOOP
        dir.pop_back();
        std::vector<std::string> next;
        if (!resolve(std::move(dir), *link, hops, next)) return false;
        dir = std::move(next);
      }
    }
    out = std::move(dir);
    return true;
  }

  fs::path dest_;
  std::map<std::string, std::string> links_;
};

Status Refuse(const Member& m, const std::string& why) {
  return Status::InvalidArgument("tar: refusing archive: entry \"" + m.name + "\" " + why);
}

// Second look at every member, before anything is written.
Status Validate(const std::vector<Member>& members, const fs::path& dest) {
  const LinkView view(members, dest);
  std::set<std::string> files_so_far;  // non-directories a hard link may name
  for (const Member& m : members) {
    if (m.name.front() == '/') return Refuse(m, "has an absolute path");
    if (HasDotDot(m.parts)) return Refuse(m, "has a \"..\" component");
    const std::string rel = JoinComponents(m.parts, m.parts.size());
    if (m.parts.empty() && (m.hardlink || m.type != AE_IFDIR)) {
      return Refuse(m, "would replace the destination directory");
    }
    if (auto via = view.symlink_parent(m.parts)) {
      return Refuse(m, "goes through the symlink \"" + *via + "\"");
    }
    if (m.hardlink) {
      const std::string& target = *m.hardlink;
      const std::vector<std::string> tparts = PathComponents(target);
      if (target.empty() || target.front() == '/')
        return Refuse(m, "hard-links to an absolute path");
      if (HasDotDot(tparts) || tparts.empty()) return Refuse(m, "hard-links outside the archive");
      if (auto via = view.symlink_parent(tparts)) {
        return Refuse(m, "hard-links through the symlink \"" + *via + "\"");
      }
      const std::string trel = JoinComponents(tparts, tparts.size());
      std::error_code ec;
      const auto st = fs::symlink_status(dest / trel, ec);
      if (files_so_far.count(trel) == 0 && (!fs::exists(st) || fs::is_directory(st))) {
        return Refuse(m, "hard-links to \"" + target + "\", which is not an earlier file");
      }
      files_so_far.insert(rel);
      continue;
    }
    switch (m.type) {
      case AE_IFREG:
      case AE_IFDIR:
        break;
      case AE_IFLNK: {
        if (!m.symlink || m.symlink->empty()) return Refuse(m, "is a symlink with no target");
        if (m.symlink->front() == '/') return Refuse(m, "is a symlink to an absolute path");
        std::vector<std::string> dir(m.parts.begin(), m.parts.end() - 1);
        if (!view.stays_inside(std::move(dir), *m.symlink)) {
          return Refuse(
              m, "is a symlink leaving the destination (or looping): \"" + *m.symlink + "\"");
        }
        break;
      }
      case AE_IFCHR:
      case AE_IFBLK:
        return Refuse(m, "is a device node");
      case AE_IFIFO:
        return Refuse(m, "is a fifo");
      default:
        return Refuse(m, "has an unsupported type");
    }
    if (m.type != AE_IFDIR) files_so_far.insert(rel);
  }
  return Status::OK();
}

Status Extract(std::string_view tar, const fs::path& dest) {
  R2E_ASSIGN_OR_RETURN(ReadPtr in, NewMemoryReader(tar));
  WritePtr out(archive_write_disk_new());
  if (!out) return Status::Internal("tar: archive_write_disk_new failed");
  // Names are rewritten to absolute paths under dest (libarchive has no
  // base-directory option and chdir is process-wide), so NOABSOLUTEPATHS
  // cannot be set here; Validate refused absolute member names already.
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                                ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  archive_entry* e = nullptr;
  Status st;
  while (st.ok()) {
    const int rc = archive_read_next_header(in.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      st = BadArchive(in.get());
      break;
    }
    const std::string name = archive_entry_pathname(e);
    const std::vector<std::string> parts = PathComponents(name);
    const std::string rel = JoinComponents(parts, parts.size());
    archive_entry_copy_pathname(e, (rel.empty() ? dest : dest / rel).c_str());
    if (const char* h = archive_entry_hardlink(e)) {
      const std::vector<std::string> tparts = PathComponents(h);
      archive_entry_copy_hardlink(e, (dest / JoinComponents(tparts, tparts.size())).c_str());
    }
    if (!WriteOk(archive_write_header(out.get(), e))) {
      st = Status::Internal("tar: cannot extract \"" + name + "\": " + ArchiveMessage(out.get()));
      break;
    }
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    while (true) {
      const int r = archive_read_data_block(in.get(), &block, &size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        st = BadArchive(in.get());
        break;
      }
      if (archive_write_data_block(out.get(), block, size, offset) < ARCHIVE_WARN) {
        st = Status::Internal("tar: cannot write \"" + name + "\": " + ArchiveMessage(out.get()));
        break;
      }
    }
    if (st.ok() && !WriteOk(archive_write_finish_entry(out.get()))) {
      st = Status::Internal("tar: cannot finish \"" + name + "\": " + ArchiveMessage(out.get()));
    }
  }
  // Close even after a failure: it applies the deferred directory modes.
  if (archive_write_close(out.get()) != ARCHIVE_OK && st.ok()) {
    st = Status::Internal("tar: cannot finish extraction: " + ArchiveMessage(out.get()));
  }
  return st;
}

}  // namespace

std::vector<std::string> PathComponents(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    if (!part.empty() && part != ".") out.emplace_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::string JoinComponents(const std::vector<std::string>& parts, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out;
}

Result<std::string> TarPath(const fs::path& host_path, const std::string& name_in_archive) {
  try {
    std::string name = name_in_archive;
    while (name.size() > 1 && name.back() == '/') name.pop_back();
    if (name.empty() || name.front() == '/' || HasDotDot(PathComponents(name))) {
      return Status::InvalidArgument("tar: bad name in archive \"" + name_in_archive +
                                     "\" (want a relative path without \"..\")");
    }
    std::error_code ec;
    const auto st = fs::symlink_status(host_path, ec);
    if (!fs::exists(st)) return Status::NotFound("tar: no such file: " + host_path.string());
    std::string out;
    R2E_ASSIGN_OR_RETURN(WritePtr a, NewMemoryWriter(&out));
    R2E_RETURN_IF_ERROR(AddTree(a.get(), host_path, name));
    R2E_RETURN_IF_ERROR(FinishWriter(a.get()));
    return out;
  } catch (const std::exception& ex) {
    return Status::Internal(std::string("tar: ") + ex.what());
  }
}

Result<std::string> TarFile(const std::string& name, std::string_view content, int mode) {
  try {
    if (name.empty() || name.front() == '/' || HasDotDot(PathComponents(name))) {
      return Status::InvalidArgument("tar: bad file name \"" + name + "\"");
    }
    std::string out;
    R2E_ASSIGN_OR_RETURN(WritePtr a, NewMemoryWriter(&out));
    EntryPtr e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), static_cast<mode_t>(mode) & 07777);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(content.size()));
    archive_entry_set_mtime(e.get(), std::time(nullptr), 0);
    R2E_RETURN_IF_ERROR(WriteHeader(a.get(), e.get()));
    if (!content.empty() && archive_write_data(a.get(), content.data(), content.size()) < 0) {
      return Status::Internal("tar: cannot write " + name + ": " + ArchiveMessage(a.get()));
    }
    R2E_RETURN_IF_ERROR(FinishWriter(a.get()));
    return out;
  } catch (const std::exception& ex) {
    return Status::Internal(std::string("tar: ") + ex.what());
  }
}

Status Untar(std::string_view tar, const fs::path& dest_dir) {
  try {
    std::error_code ec;
    // Symlinks along dest_dir itself are the caller's choice; resolve them so
    // libarchive's symlink check only sees what the archive creates.
    const fs::path dest = fs::weakly_canonical(fs::absolute(dest_dir), ec);
    if (ec)
      return Status::Internal("tar: bad destination " + dest_dir.string() + ": " + ec.message());
    R2E_ASSIGN_OR_RETURN(std::vector<Member> members, ReadMembers(tar));
    R2E_RETURN_IF_ERROR(Validate(members, dest));
    fs::create_directories(dest, ec);
    if (ec) return Status::Internal("tar: cannot create " + dest.string() + ": " + ec.message());
    return Extract(tar, dest);
  } catch (const std::exception& ex) {
    return Status::Internal(std::string("tar: ") + ex.what());
  }
}

namespace {
// Calls `take(name, content)` for each regular file in order (hard links
// skipped) until it returns false. OK at the end of the archive.
Status ForEachRegularFile(std::string_view tar,
                          const std::function<bool(std::string name, std::string content)>& take) {
  try {
    R2E_ASSIGN_OR_RETURN(ReadPtr a, NewMemoryReader(tar));
    archive_entry* e = nullptr;
    while (true) {
      const int rc = archive_read_next_header(a.get(), &e);
      if (rc == ARCHIVE_EOF) return Status::OK();
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return BadArchive(a.get());
      if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) != nullptr) continue;
      const char* name = archive_entry_pathname(e);
      std::string content;
      // Never trust the header's size beyond what the input can hold.
      const auto size = static_cast<std::size_t>(std::max<la_int64_t>(archive_entry_size(e), 0));
      content.reserve(std::min(size, tar.size()));
      char buf[64 * 1024];
      while (true) {
        const la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) return BadArchive(a.get());
        content.append(buf, static_cast<std::size_t>(n));
      }
      if (!take(name != nullptr ? name : "", std::move(content))) return Status::OK();
    }
  } catch (const std::exception& ex) {
    return Status::Internal(std::string("tar: ") + ex.what());
  }
}
}  // namespace

Result<std::string> FirstFileContent(std::string_view tar) {
  std::optional<std::string> first;
  R2E_RETURN_IF_ERROR(ForEachRegularFile(tar, [&](std::string, std::string content) {
    first = std::move(content);
    return false;
  }));
  if (!first) return Status::NotFound("tar: the archive holds no regular file");
  return std::move(*first);
}

Result<std::vector<std::pair<std::string, std::string>>> RegularFiles(std::string_view tar) {
  std::vector<std::pair<std::string, std::string>> files;
  R2E_RETURN_IF_ERROR(ForEachRegularFile(tar, [&](std::string name, std::string content) {
    files.emplace_back(std::move(name), std::move(content));
    return true;
  }));
  return files;
}

}  // namespace r2e::archive
