#include "image/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "archive/tar.h"
#include "core/text.h"
#include "image/digest.h"

namespace r2e::image {

namespace fs = std::filesystem;
using internal::ErrnoText;

FileBlobReader::~FileBlobReader() { ::close(fd_); }

Result<std::unique_ptr<FileBlobReader>> FileBlobReader::Open(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound("cannot open " + path.string() + ": " + ErrnoText(errno));
  return std::unique_ptr<FileBlobReader>(new FileBlobReader(fd));
}

Result<std::string_view> FileBlobReader::Read() {
  for (;;) {
    const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal("reading a layer: " + ErrnoText(errno));
    return std::string_view(buffer_.data(), static_cast<std::size_t>(n));
  }
}

Result<std::string_view> ArchiveMemberReader::Read() {
  const la_ssize_t n = archive_read_data(outer_, buffer_.data(), buffer_.size());
  if (n < 0) {
    const char* why = archive_error_string(outer_);
    return Status::InvalidArgument(std::string("reading a layer from the image archive: ") +
                                   (why != nullptr ? why : "unreadable"));
  }
  return std::string_view(buffer_.data(), static_cast<std::size_t>(n));
}

namespace {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// `rel` below `root_fd`, every symlink resolved inside that root.
int OpenInRoot(int root_fd, const std::string& rel, std::uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, root_fd, rel.empty() ? "." : rel.c_str(), &how, sizeof how));
}

// Removes `name` below `dir_fd`, recursively, without following symlinks.
bool RemoveAt(int dir_fd, const char* name) {
  if (::unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT) return true;
  if (errno != EISDIR && errno != EPERM) return false;
  const int fd = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  ::fchmod(fd, 0700);  // a read-only directory of the image, when not root
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return false;
  }
  bool ok = true;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view child = entry->d_name;
    if (child == "." || child == "..") continue;
    ok = RemoveAt(::dirfd(dir), entry->d_name) && ok;
  }
  ::closedir(dir);
  return ::unlinkat(dir_fd, name, AT_REMOVEDIR) == 0 && ok;
}

struct DeferredDir {
  std::string rel;
  mode_t mode;
  timespec mtime;
};

// The open directories of a SharedFiles.
struct SharedDirs {
  Fd objects;
  Fd scratch;
  std::uint64_t next = 0;  // the next scratch file's number
  std::unordered_set<std::string>* used = nullptr;  // SharedFiles::used
};

class LayerWriter {
 public:
  LayerWriter(int root_fd, const UnpackLimits& limits, UnpackTally& tally, SharedDirs* shared)
      : root_fd_(root_fd), limits_(limits), tally_(tally), as_root_(::geteuid() == 0), shared_(shared) {}

  Status Apply(struct archive* in);

 private:
  Status Entry(struct archive* in, archive_entry* e, const std::string& name);
  Result<int> ParentOf(const std::vector<std::string>& parts, const std::string& name);
  Status Whiteout(int parent, const std::vector<std::string>& parts, const std::string& base);
  Status WriteFile(struct archive* in, int parent, const std::string& base, archive_entry* e, const std::string& name);
  void Own(int fd, const char* base, archive_entry* e, int flags);
  Status Share(int fd, const std::string& scratch, const std::string& content_digest, int parent,
               const std::string& base, const std::string& name);
  Status CopyOf(int from_dir, const std::string& from, int parent, const std::string& base, const std::string& name);
  Status FinishDirectories();

  int root_fd_;
  const UnpackLimits& limits_;
  UnpackTally& tally_;
  bool as_root_;
  SharedDirs* shared_;  // null: files are written in place
  std::string cached_parent_;  // the parent the last member had, and its fd
  Fd cached_parent_fd_;
  std::unordered_set<std::string> made_here_;  // paths this layer wrote
  std::vector<DeferredDir> dirs_;               // modes and times set last
};

Status Refuse(const std::string& name, const std::string& why) {
  return Status::InvalidArgument("image layer: refusing member \"" + name + "\": " + why);
}

Result<int> LayerWriter::ParentOf(const std::vector<std::string>& parts, const std::string& name) {
  const std::string parent = archive::JoinComponents(parts, parts.size() - 1);
  if (cached_parent_fd_.ok() && parent == cached_parent_) return cached_parent_fd_.get();
  cached_parent_fd_.reset();
  // Open the parent, making missing directories one component at a time.
  Fd fd(OpenInRoot(root_fd_, parent, O_RDONLY | O_DIRECTORY));
  if (!fd.ok() && errno == ENOENT) {
    Fd at(::dup(root_fd_));
    for (std::size_t i = 1; i < parts.size() && at.ok(); ++i) {
      const std::string prefix = archive::JoinComponents(parts, i);
      Fd next(OpenInRoot(root_fd_, prefix, O_RDONLY | O_DIRECTORY));
      if (!next.ok() && errno == ENOENT) {
        if (::mkdirat(at.get(), parts[i - 1].c_str(), 0755) != 0 && errno != EEXIST) break;
        next = Fd(OpenInRoot(root_fd_, prefix, O_RDONLY | O_DIRECTORY));
      }
      at = std::move(next);
    }
    fd = std::move(at);
  }
  if (!fd.ok()) {
    return Status::InvalidArgument("image layer: cannot open the directory of \"" + name + "\": " + ErrnoText(errno));
  }
  cached_parent_ = parent;
  cached_parent_fd_ = std::move(fd);
  return cached_parent_fd_.get();
}

void LayerWriter::Own(int fd, const char* base, archive_entry* e, int flags) {
  if (!as_root_) return;
  const auto uid = static_cast<uid_t>(archive_entry_uid(e));
  const auto gid = static_cast<gid_t>(archive_entry_gid(e));
  if (base == nullptr) {
    (void)::fchown(fd, uid, gid);
  } else {
    (void)::fchownat(fd, base, uid, gid, flags);
  }
}

// ".wh.NAME" hides NAME of the layers below; ".wh..wh..opq" hides everything
// the layers below had in that directory. Neither touches this layer's own.
Status LayerWriter::Whiteout(int parent, const std::vector<std::string>& parts, const std::string& base) {
  const std::string dir = archive::JoinComponents(parts, parts.size() - 1);
  auto own = [&](const std::string& child) { return made_here_.count(dir.empty() ? child : dir + "/" + child) > 0; };
  if (base == ".wh..wh..opq") {
    Fd listing(::openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DIR* d = listing.ok() ? ::fdopendir(::dup(listing.get())) : nullptr;
    if (d == nullptr) return Status::Internal("image layer: cannot list " + dir + ": " + ErrnoText(errno));
    std::vector<std::string> hidden;
    while (const dirent* entry = ::readdir(d)) {
      const std::string child = entry->d_name;
      if (child != "." && child != ".." && !own(child)) hidden.push_back(child);
    }
    ::closedir(d);
    for (const std::string& child : hidden) {
      if (!RemoveAt(parent, child.c_str())) {
        return Status::Internal("image layer: cannot remove " + dir + "/" + child + ": " + ErrnoText(errno));
      }
    }
    return Status::OK();
  }
  const std::string target = base.substr(4);
  if (target.empty() || target == "." || target == "..") return Refuse(base, "is a whiteout of nothing");
  if (own(target)) return Status::OK();
  if (!RemoveAt(parent, target.c_str())) {
    return Status::Internal("image layer: cannot remove " + target + " for its whiteout: " + ErrnoText(errno));
  }
  return Status::OK();
}

Status LayerWriter::WriteFile(struct archive* in, int parent, const std::string& base, archive_entry* e,
                              const std::string& name) {
  // Shared: written in the scratch directory, then linked into place.
  const std::string scratch = shared_ != nullptr ? std::to_string(shared_->next++) : std::string();
  Fd fd(shared_ != nullptr
            ? ::openat(shared_->scratch.get(), scratch.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)
            : ::openat(parent, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.ok()) return Status::Internal("image layer: cannot create \"" + name + "\": " + ErrnoText(errno));
  std::optional<Sha256> content;
  if (shared_ != nullptr) content.emplace();
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  for (;;) {
    const int r = archive_read_data_block(in, &block, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return Status::InvalidArgument("image layer: unreadable data of \"" + name + "\" (truncated or corrupt?): " +
                                     (archive_error_string(in) ? archive_error_string(in) : ""));
    }
    const char* p = static_cast<const char*>(block);
    while (size > 0) {
      const ssize_t n = ::pwrite(fd.get(), p, size, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Internal("image layer: writing \"" + name + "\": " + ErrnoText(errno));
      p += n;
      size -= static_cast<size_t>(n);
      offset += n;
    }
  }
  // Sparse members end in a hole.
  if (::ftruncate(fd.get(), archive_entry_size(e)) != 0) {
    return Status::Internal("image layer: sizing \"" + name + "\": " + ErrnoText(errno));
  }
  Own(fd.get(), nullptr, e, 0);
  ::fchmod(fd.get(), archive_entry_perm(e));  // after chown, which clears set-id bits
  const timespec times[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                             {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
  ::futimens(fd.get(), times);
  if (shared_ == nullptr) return Status::OK();
  struct stat written {};
  const bool stated = ::fstat(fd.get(), &written) == 0;
  if (!stated || (written.st_size > (1 << 16) && static_cast<std::uint64_t>(written.st_blocks) * 512 * 2 <
                                                     static_cast<std::uint64_t>(written.st_size))) {
    // Sparse (e.g. /var/log/lastlog): hashing its holes would cost what
    // writing it did not; it is a file of its own.
    if (::renameat(shared_->scratch.get(), scratch.c_str(), parent, base.c_str()) != 0) {
      return Status::Internal("image layer: cannot put \"" + name + "\" in place: " + ErrnoText(errno));
    }
    return Status::OK();
  }
  // The content is hashed from the file as written (holes read as zeros),
  // so a sparse member and a dense one of the same bytes share.
  char buffer[1 << 16];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd.get(), buffer, sizeof buffer, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal("image layer: reading back \"" + name + "\": " + ErrnoText(errno));
    if (n == 0) break;
    content->Update(buffer, static_cast<std::size_t>(n));
    at += n;
  }
  return Share(fd.get(), scratch, content->Finish(), parent, base, name);
}

// Puts the scratch file in place as a link to the shared file of the same
// content and metadata, making it the shared one when there is none.
Status LayerWriter::Share(int fd, const std::string& scratch, const std::string& content_digest, int parent,
                          const std::string& base, const std::string& name) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::Internal("image layer: stat of \"" + name + "\": " + ErrnoText(errno));
  char meta[96];
  std::snprintf(meta, sizeof meta, "-%o-%u-%u-%lld.%09ld", static_cast<unsigned>(st.st_mode & 07777),
                static_cast<unsigned>(st.st_uid), static_cast<unsigned>(st.st_gid),
                static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec);
  const std::string hex(DigestHex(content_digest));
  const std::string shard = hex.substr(0, 2);
  const std::string object = shard + "/" + hex + meta;
  const int objects = shared_->objects.get(), scratch_dir = shared_->scratch.get();
  // Another path of this image has it already: this one stays apart.
  const bool first_here = shared_->used->insert(object).second;
  for (int attempt = 0; first_here && attempt < 3; ++attempt) {
    if (::linkat(scratch_dir, scratch.c_str(), objects, object.c_str(), 0) == 0) break;  // it is the shared one now
    if (errno == ENOENT && ::mkdirat(objects, shard.c_str(), 0755) == 0) continue;     // a new shard
    if (errno != EEXIST) break;  // cannot share (e.g. EMLINK): on its own
    if (::linkat(objects, object.c_str(), parent, base.c_str(), 0) == 0) {
      ::unlinkat(scratch_dir, scratch.c_str(), 0);
      return Status::OK();
    }
    if (errno != ENOENT) break;  // removed as unused meanwhile: share this one instead
  }
  if (::renameat(scratch_dir, scratch.c_str(), parent, base.c_str()) != 0) {
    return Status::Internal("image layer: cannot put \"" + name + "\" in place: " + ErrnoText(errno));
  }
  return Status::OK();
}

// A copy of the regular file `from` (in `from_dir`) at `base`, with its
// owner, mode and times.
Status LayerWriter::CopyOf(int from_dir, const std::string& from, int parent, const std::string& base,
                           const std::string& name) {
  Fd in(::openat(from_dir, from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (!in.ok() || ::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Refuse(name, "hard-links to \"" + from + "\", which is not a regular file it can copy");
  }
  Fd out(::openat(parent, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out.ok()) return Status::Internal("image layer: cannot create \"" + name + "\": " + ErrnoText(errno));
  for (off_t left = st.st_size; left > 0;) {
    const ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, static_cast<size_t>(left), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Internal("image layer: copying \"" + name + "\": " + ErrnoText(errno));
    left -= n;
  }
  if (as_root_) (void)::fchown(out.get(), st.st_uid, st.st_gid);
  ::fchmod(out.get(), st.st_mode & 07777);
  const timespec times[2] = {st.st_atim, st.st_mtim};
  ::futimens(out.get(), times);
  return Status::OK();
}

Status LayerWriter::Entry(struct archive* in, archive_entry* e, const std::string& name) {
  if (name.empty()) return Refuse(name, "has no name");
  if (name.front() == '/') return Refuse(name, "has an absolute path");
  const std::vector<std::string> parts = archive::PathComponents(name);
  if (std::find(parts.begin(), parts.end(), "..") != parts.end()) return Refuse(name, "has a \"..\" component");
  if (parts.empty()) return Status::OK();  // the root itself ("./")
  ++tally_.entries;
  if (limits_.max_entries > 0 && tally_.entries > limits_.max_entries) {
    return Status::ResourceExhausted("image unpacks to more than " + std::to_string(limits_.max_entries) +
                                     " files (ImageStoreOptions::max_unpacked_files); refusing it as a layer bomb");
  }
  const std::string rel = archive::JoinComponents(parts, parts.size());
  const std::string& base = parts.back();
  R2E_ASSIGN_OR_RETURN(int parent, ParentOf(parts, name));
  if (base.starts_with(".wh.")) {
    Status hidden = Whiteout(parent, parts, base);
    cached_parent_fd_.reset();  // what it removed may hold the cached directory
    return hidden;
  }

  const mode_t type = archive_entry_filetype(e);
  const char* hardlink = archive_entry_hardlink(e);
  struct stat existing {};
  const bool exists = ::fstatat(parent, base.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
  // A directory over a directory merges; anything else replaces what was there.
  if (exists && !(hardlink == nullptr && type == AE_IFDIR && S_ISDIR(existing.st_mode))) {
    if (!RemoveAt(parent, base.c_str())) {
      return Status::Internal("image layer: cannot replace \"" + name + "\": " + ErrnoText(errno));
    }
    if (S_ISDIR(existing.st_mode)) cached_parent_fd_.reset();  // it may have been the cached one's parent
  }
  made_here_.insert(rel);

  if (hardlink != nullptr) {
    const std::string target = hardlink;
    const std::vector<std::string> tparts = archive::PathComponents(target);
    if (target.empty() || target.front() == '/') return Refuse(name, "hard-links to an absolute path");
    if (tparts.empty() || std::find(tparts.begin(), tparts.end(), "..") != tparts.end()) {
      return Refuse(name, "hard-links outside the image (\"" + target + "\")");
    }
    const std::string tdir = archive::JoinComponents(tparts, tparts.size() - 1);
    Fd tparent(OpenInRoot(root_fd_, tdir, O_RDONLY | O_DIRECTORY));
    if (tparent.ok() && ::linkat(tparent.get(), tparts.back().c_str(), parent, base.c_str(), 0) == 0) {
      return Status::OK();
    }
    // A file shared by many images can reach the filesystem's link limit:
    // this path then gets a copy of it.
    if (tparent.ok() && errno == EMLINK) return CopyOf(tparent.get(), tparts.back(), parent, base, name);
    return Refuse(name, "hard-links to \"" + target + "\", which the image does not have before it (" +
                            ErrnoText(errno) + ")");
  }
  const timespec mtime{archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  switch (type) {
    case AE_IFREG: {
      const auto size = static_cast<std::uint64_t>(std::max<la_int64_t>(archive_entry_size(e), 0));
      tally_.bytes += size;
      if (limits_.max_bytes > 0 && tally_.bytes > limits_.max_bytes) {
        return Status::ResourceExhausted("image unpacks to more than " + std::to_string(limits_.max_bytes) +
                                         " bytes (ImageStoreOptions::max_unpacked_bytes); refusing it as a layer bomb");
      }
      return WriteFile(in, parent, base, e, name);
    }
    case AE_IFDIR:
      if (!exists || !S_ISDIR(existing.st_mode)) {
        if (::mkdirat(parent, base.c_str(), 0700) != 0) {
          return Status::Internal("image layer: cannot make directory \"" + name + "\": " + ErrnoText(errno));
        }
      }
      Own(parent, base.c_str(), e, AT_SYMLINK_NOFOLLOW);
      dirs_.push_back({rel, static_cast<mode_t>(archive_entry_perm(e)), mtime});
      return Status::OK();
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(e);
      if (target == nullptr || *target == '\0') return Refuse(name, "is a symlink with no target");
      if (::symlinkat(target, parent, base.c_str()) != 0) {
        return Status::Internal("image layer: cannot make symlink \"" + name + "\": " + ErrnoText(errno));
      }
      Own(parent, base.c_str(), e, AT_SYMLINK_NOFOLLOW);
      const timespec times[2] = {mtime, mtime};
      ::utimensat(parent, base.c_str(), times, AT_SYMLINK_NOFOLLOW);
      return Status::OK();
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
    case AE_IFSOCK:
      made_here_.erase(rel);
      ++tally_.skipped_nodes;  // a sandbox gets its own /dev
      return Status::OK();
    default:
      return Refuse(name, "has an unknown type");
  }
}

// Directory modes and times last, deepest first: writing into a directory
// changes its time, and a read-only mode would stop this process writing.
Status LayerWriter::FinishDirectories() {
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    Fd fd(OpenInRoot(root_fd_, it->rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    if (!fd.ok()) continue;  // replaced later in the layer
    ::fchmod(fd.get(), it->mode);
    const timespec times[2] = {it->mtime, it->mtime};
    ::futimens(fd.get(), times);
  }
  return Status::OK();
}

Status LayerWriter::Apply(struct archive* in) {
  archive_entry* e = nullptr;
  for (;;) {
    const int rc = archive_read_next_header(in, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      const char* why = archive_error_string(in);
      return Status::InvalidArgument(std::string("image layer: unreadable (truncated or corrupt?): ") +
                                     (why != nullptr ? why : "unknown error"));
    }
    const char* name = archive_entry_pathname(e);
    R2E_RETURN_IF_ERROR(Entry(in, e, name != nullptr ? name : ""));
  }
  cached_parent_fd_.reset();
  return FinishDirectories();
}

struct Source {
  BlobReader* blob;
  Sha256 hash;
  std::optional<Status> error;
};

la_ssize_t ReadSource(struct archive* a, void* client, const void** buffer) {
  auto* source = static_cast<Source*>(client);
  auto chunk = source->blob->Read();
  if (!chunk.ok()) {
    source->error = chunk.status();
    archive_set_error(a, EIO, "%s", chunk.status().message().c_str());
    return -1;
  }
  source->hash.Update(*chunk);
  *buffer = chunk->data();
  return static_cast<la_ssize_t>(chunk->size());
}

}  // namespace

Status RemoveTree(const fs::path& path) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  Fd dir(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.ok()) return errno == ENOENT ? Status::OK() : Status::Internal("cannot open " + parent.string() + ": " + ErrnoText(errno));
  if (!RemoveAt(dir.get(), path.filename().c_str())) {
    return Status::Internal("cannot remove " + path.string() + ": " + ErrnoText(errno));
  }
  return Status::OK();
}

Result<std::string> ApplyLayer(BlobReader& blob, const fs::path& root, const UnpackLimits& limits,
                               UnpackTally& tally, SharedFiles* shared) {
  Fd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.ok()) return Status::Internal("cannot open " + root.string() + ": " + ErrnoText(errno));
  SharedDirs dirs;
  if (shared != nullptr) {
    std::error_code ec;
    // Only this process's user reaches the shared files: they hold what
    // images keep in private directories, and a change to one would reach
    // every image that links it.
    if (fs::create_directories(shared->objects, ec)) ::chmod(shared->objects.c_str(), 0700);
    fs::create_directories(shared->scratch, ec);
    dirs.used = &shared->used;
    dirs.objects = Fd(::open(shared->objects.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    dirs.scratch = Fd(::open(shared->scratch.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirs.objects.ok() || !dirs.scratch.ok()) {
      return Status::Internal("cannot open the shared files " + shared->objects.string() + ": " + ErrnoText(errno));
    }
  }
  Source source{&blob, Sha256(), std::nullopt};
  std::unique_ptr<struct archive, int (*)(struct archive*)> in(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(in.get());
  archive_read_support_format_gnutar(in.get());
  archive_read_support_format_empty(in.get());
  archive_read_support_filter_all(in.get());
  Status st;
  if (archive_read_open(in.get(), &source, nullptr, ReadSource, nullptr) != ARCHIVE_OK) {
    const char* why = archive_error_string(in.get());
    st = Status::InvalidArgument(std::string("image layer: not a tar archive: ") + (why ? why : "unreadable"));
  } else {
    LayerWriter writer(root_fd.get(), limits, tally, shared != nullptr ? &dirs : nullptr);
    st = writer.Apply(in.get());
  }
  if (source.error) return *source.error;
  R2E_RETURN_IF_ERROR(st);
  // The digest covers the whole blob, also what follows the tar's end.
  for (;;) {
    R2E_ASSIGN_OR_RETURN(std::string_view rest, blob.Read());
    if (rest.empty()) break;
    source.hash.Update(rest);
  }
  return source.hash.Finish();
}

std::uint64_t RemoveUnusedFiles(const fs::path& objects) {
  std::uint64_t freed = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(objects, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) continue;
    if (::unlink(it->path().c_str()) == 0) freed += static_cast<std::uint64_t>(st.st_blocks) * 512;
  }
  return freed;
}

}  // namespace r2e::image
