// ImageStore: container images on this machine without a container daemon.
// An image is read from a `docker save` archive ("docker-archive:PATH"), an
// OCI image layout ("oci:PATH[:TAG]") or a registry ("HOST[:PORT]/NAME[:TAG]"
// or "...@sha256:...", Docker Hub names as Docker reads them), its layers
// checked against their digests and unpacked once into one root filesystem
// per image under the cache directory, which every sandbox of that image
// shares read-only (LocalRuntimeOptions::image).
//
// Cache layout (cache_dir):
//   images/<id hex>/rootfs/       the unpacked root (complete once image.json exists)
//   images/<id hex>/image.json    the image's ID, Env, WorkingDir, User, size
//   refs/<hash>.json              a reference and the ID it resolved to
//   locks/<id hex>.lock           shared while a sandbox uses the image,
//                                 exclusive while it is unpacked or removed
//   tmp/                          unpacks under way (renamed into images/),
//                                 and layers being downloaded
//   files/<2 hex>/<sha256>-<mode>-<uid>-<gid>-<mtime>
//                                 every regular file of every image, once:
//                                 the rootfs files are hard links to these,
//                                 so images that share layers (or files)
//                                 share their disk; removed when no image
//                                 links to them any more (Remove, Prune)
// The ID is the digest of the image's config blob, as Docker's image ID.
//
// Contracts: every method is thread-safe, and safe against other processes
// using the same cache: an image is unpacked by one of them while the others
// wait, an image in use is never evicted or removed, and an unpack that fails
// or is killed leaves nothing that looks complete (its leftovers are removed
// by the next pull or prune).
#ifndef R2E_IMAGE_STORE_H_
#define R2E_IMAGE_STORE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "r2e/status.h"

namespace r2e {

// Progress of a pull, reported as each layer is unpacked.
struct ImagePullProgress {
  std::string reference;
  std::size_t layer = 0;   // 1-based; 0 before the first
  std::size_t layers = 0;
  std::uint64_t bytes_unpacked = 0;  // regular files' bytes so far
};

// How registries are reached (registry references only).
struct RegistryOptions {
  // Credentials for every registry. Empty: those docker_config holds for the
  // registry's host ("auths"; credential helpers are not run).
  std::string username, password;
  // Docker's config.json. Empty: $DOCKER_CONFIG/config.json, else
  // ~/.docker/config.json (absent: no credentials).
  std::filesystem::path docker_config;
  // Hosts ("host:port") that may be reached over plain HTTP when HTTPS fails;
  // loopback hosts (localhost, 127.0.0.0/8, ::1) always may.
  std::vector<std::string> insecure_registries;
  // PEM CA certificates that verify registries' TLS. Empty: the system's.
  std::filesystem::path ca_file;
  // Tries per request, for 429, 5xx and connection failures: waits
  // initial_backoff, doubled each time (at most 30 s), or what Retry-After says.
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::seconds connect_timeout{15};
  std::chrono::seconds read_timeout{120};  // without a byte
};

struct ImageStoreOptions {
  // Where images are kept. Empty: $R2E_IMAGE_CACHE, else
  // $XDG_CACHE_HOME/r2e/images, else $HOME/.cache/r2e/images.
  std::filesystem::path cache_dir;

  // After a pull, images not in use are evicted, least recently used first,
  // while the cache holds more than this many bytes. 0: no bound.
  std::uint64_t max_cache_bytes = 0;

  // Bounds on what one image may unpack to: past them the pull fails with
  // ResourceExhausted (a "layer bomb"), leaving nothing behind.
  std::uint64_t max_unpacked_bytes = std::uint64_t{64} << 30;  // 64 GiB of file content
  std::uint64_t max_unpacked_files = 4'000'000;                // entries of every kind

  // Store each regular file once across the cache's images (files/, hard
  // links into each root), so that images sharing layers share their disk.
  // Costs a SHA-256 of every file at unpack. false: each image unpacks its
  // own files (what an unpack did before; files already shared stay so).
  bool share_files = true;

  // Registry references: how registries are reached.
  RegistryOptions registry;

  // Called from the pulling thread as layers are unpacked; may be empty.
  std::function<void(const ImagePullProgress&)> progress;
};

// An image in the cache.
struct ImageInfo {
  std::string id;                       // "sha256:..." of the config blob
  std::vector<std::string> references;  // what it was pulled as
  std::filesystem::path rootfs;         // its root filesystem (read-only to sandboxes)
  std::uint64_t size_bytes = 0;         // its files' content
  std::vector<std::pair<std::string, std::string>> env;  // the image's Env
  std::string working_dir;              // WorkingDir ("" : /)
  std::string user;                     // User ("" : root)
  std::chrono::system_clock::time_point last_used;
  bool in_use = false;                  // a sandbox holds it (List() only)
};

// Keeps an image in the cache (no eviction, no removal) while it lives.
// Move-only; ending it (or destroying it) releases the hold. held() and
// Release() may race (a sandbox stopped from another thread while it is in
// use): the hold is released once, and held() sees either state.
class ImageLease {
 public:
  ImageLease() = default;
  ImageLease(ImageLease&& other) noexcept;
  ImageLease& operator=(ImageLease&& other) noexcept;
  ImageLease(const ImageLease&) = delete;
  ImageLease& operator=(const ImageLease&) = delete;
  ~ImageLease();

  const ImageInfo& image() const { return image_; }
  bool held() const { return lock_fd_.load(std::memory_order_acquire) >= 0; }
  void Release();

 private:
  friend class ImageStore;
  ImageLease(ImageInfo image, int lock_fd) : image_(std::move(image)), lock_fd_(lock_fd) {}
  ImageInfo image_;
  std::atomic<int> lock_fd_{-1};
};

struct ImagePruneReport {
  std::size_t images_removed = 0;
  std::uint64_t bytes_freed = 0;  // disk of the files no remaining image shares
  std::size_t leftovers_removed = 0;  // unpacks a killed process left, stale references
};

class ImageStore {
 public:
  explicit ImageStore(ImageStoreOptions options = {});

  const std::filesystem::path& cache_dir() const { return cache_dir_; }

  // Reads `reference` and unpacks the image unless the cache has it (by ID).
  // InvalidArgument for a malformed reference, archive or layer (naming it),
  // NotFound for a missing archive, image or tag, ResourceExhausted past the
  // unpack limits, Unavailable when a registry cannot be reached (after the
  // retries), FailedPrecondition when it refuses the credentials,
  // Unimplemented for registry references in a build without
  // R2E_WITH_REGISTRY.
  Result<ImageInfo> Pull(const std::string& reference);

  // As Pull, but without reading the source again when the cache already
  // resolved this reference (an archive unchanged since, by size and time),
  // then holds the image for the caller.
  Result<ImageLease> Acquire(const std::string& reference);

  // Every complete image, most recently used first.
  Result<std::vector<ImageInfo>> List();

  // Removes an image given by a reference it was pulled as, its ID, or a
  // prefix of the ID's hex of at least 12 digits. FailedPrecondition while
  // a sandbox uses it; NotFound when nothing matches.
  Status Remove(const std::string& reference_or_id);

  // Removes leftovers of killed pulls and stale references, then images not
  // in use, least recently used first, until at most `keep_bytes` remain
  // (0: every image not in use), counting each image's whole size_bytes
  // (files it shares with other images included).
  Result<ImagePruneReport> Prune(std::uint64_t keep_bytes = 0);

 private:
  Result<ImageInfo> Unpack(const std::string& reference, bool reuse_resolution);

  ImageStoreOptions options_;
  std::filesystem::path cache_dir_;
};

}  // namespace r2e

#endif  // R2E_IMAGE_STORE_H_
