// Applying an image's layers onto a directory: the layer tars of an OCI or
// Docker image, read as a stream (gzip, zstd or plain), written so that
// nothing lands outside the directory, with whiteouts applied.
//
// Every path is resolved inside the root (openat2 RESOLVE_IN_ROOT): a
// symlink from this or an earlier layer, absolute or not, is followed as the
// sandbox will follow it, never out to the host. Member names that are
// absolute or have ".." are refused, as are hard links whose target is;
// symlink targets are kept as they are (they resolve inside the sandbox's
// root). Device nodes and fifos are skipped (counted); ownership is kept when
// this process is root, else files belong to this user.
#ifndef R2E_IMAGE_LAYER_H_
#define R2E_IMAGE_LAYER_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "r2e/status.h"

struct archive;

namespace r2e::image {

// Where a layer's bytes come from: a file, a member of an outer archive.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // The next bytes; empty at the end. The view stays valid until the next call.
  virtual Result<std::string_view> Read() = 0;
};

// A file on disk, read whole.
class FileBlobReader final : public BlobReader {
 public:
  // NotFound when the file cannot be opened.
  static Result<std::unique_ptr<FileBlobReader>> Open(const std::filesystem::path& path);
  ~FileBlobReader() override;
  Result<std::string_view> Read() override;

 private:
  explicit FileBlobReader(int fd) : fd_(fd) {}
  int fd_;
  std::string buffer_ = std::string(1 << 18, '\0');
};

// The data of the current member of an outer archive being read (what
// archive_read_next_header() last returned). Does not own `outer`.
class ArchiveMemberReader final : public BlobReader {
 public:
  explicit ArchiveMemberReader(struct archive* outer) : outer_(outer) {}
  Result<std::string_view> Read() override;

 private:
  struct archive* outer_;
  std::string buffer_ = std::string(1 << 18, '\0');
};

// Bytes in memory (not owned: they must outlive the reader).
class StringBlobReader final : public BlobReader {
 public:
  explicit StringBlobReader(std::string_view data) : data_(data) {}
  Result<std::string_view> Read() override { return std::exchange(data_, std::string_view()); }

 private:
  std::string_view data_;
};

// Bounds on what one image may unpack to (a "layer bomb" is refused with
// ResourceExhausted), counted over all its layers.
struct UnpackLimits {
  std::uint64_t max_bytes = 0;    // regular files' sizes; 0: no bound
  std::uint64_t max_entries = 0;  // members of every kind; 0: no bound
};

// What the layers so far held (updated by ApplyLayer).
struct UnpackTally {
  std::uint64_t bytes = 0;
  std::uint64_t entries = 0;
  std::uint64_t skipped_nodes = 0;  // device nodes and fifos
};

// Where regular files are shared between the images of a cache: `objects`
// holds one file per distinct content and metadata, named
// <sha256 of the content>-<mode>-<uid>-<gid>-<mtime> in a directory of the
// name's first two characters, and an image's files are hard links to them,
// so images that share layers (or only files) share their disk. A file of
// `objects` whose link count is 1 is used by no image (RemoveUnusedFiles).
// Both directories must be on the root's filesystem; `scratch` holds files
// being written (the unpack's own directory, removed with it).
// Two paths of one image are never made one file that way (a write through
// one would change the other): `used` keeps the shared files this image's
// layers linked, and a second path of the same content is a file of its own
// (unless the layer's tar itself hard-links them).
struct SharedFiles {
  std::filesystem::path objects;
  std::filesystem::path scratch;
  std::unordered_set<std::string> used;  // filled by ApplyLayer, across an image's layers
};

// Applies the layer read from `blob` onto the directory `root` (which holds
// the layers below it). Returns the digest of every byte `blob` gave (the
// caller compares it with the digest it expects: the compressed blob's for a
// registry or OCI layout, the tar's "diff ID" for a docker-archive layer).
// InvalidArgument for a corrupt or hostile layer (naming the member),
// ResourceExhausted past `limits`; the root is then half-written and the
// caller discards it. With `shared`, regular files are hard links into
// shared->objects (a file that cannot be linked, e.g. past the link limit,
// a sparse file, or a second path of the same content, is written on its own).
Result<std::string> ApplyLayer(BlobReader& blob, const std::filesystem::path& root, const UnpackLimits& limits,
                               UnpackTally& tally, SharedFiles* shared = nullptr);

// Removes the files of `objects` (SharedFiles) that no image links to any
// more: how many bytes that freed.
std::uint64_t RemoveUnusedFiles(const std::filesystem::path& objects);

// Removes a directory tree that layers wrote (read-only directories
// included), never following a symlink. Internal on failure.
Status RemoveTree(const std::filesystem::path& path);

}  // namespace r2e::image

#endif  // R2E_IMAGE_LAYER_H_
