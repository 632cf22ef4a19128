#include "r2e/image_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "image/digest.h"
#include "image/image_source.h"
#include "image/layer.h"
#include "r2e/config.h"
#if R2E_WITH_REGISTRY
#include "image/registry_source.h"
#endif

namespace r2e {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using internal::ErrnoText;

// ------------------------------------------------------------ ImageLease

ImageLease::ImageLease(ImageLease&& other) noexcept
    : image_(std::move(other.image_)), lock_fd_(other.lock_fd_.exchange(-1)) {}

ImageLease& ImageLease::operator=(ImageLease&& other) noexcept {
  if (this != &other) {
    Release();
    image_ = std::move(other.image_);
    lock_fd_.store(other.lock_fd_.exchange(-1));
  }
  return *this;
}

ImageLease::~ImageLease() { Release(); }

void ImageLease::Release() {
  // Exchanged, so that two racing releases close the descriptor once.
  const int fd = lock_fd_.exchange(-1, std::memory_order_acq_rel);
  if (fd >= 0) ::close(fd);  // closing drops the shared lock
}

namespace {

fs::path DefaultCacheDir() {
  if (const char* dir = std::getenv("R2E_IMAGE_CACHE"); dir != nullptr && *dir != '\0') return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return fs::path(xdg) / "r2e" / "images";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr && *home != '\0' ? home : "/tmp") / ".cache" / "r2e" / "images";
}

// A lock file of the cache, held with flock: shared by users of an image,
// exclusive for whoever unpacks or removes it. Closing releases it.
class LockFile {
 public:
  static Result<LockFile> Open(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::Unavailable("cannot open the image cache lock " + path.string() + ": " + ErrnoText(errno));
    return LockFile(fd);
  }
  LockFile(LockFile&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  LockFile& operator=(LockFile&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~LockFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Blocks until held.
  Status Lock(int how) {
    while (::flock(fd_, how) != 0) {
      if (errno != EINTR) return Status::Internal("flock on the image cache: " + ErrnoText(errno));
    }
    return Status::OK();
  }
  // False when another holder conflicts.
  bool TryLock(int how) { return ::flock(fd_, how | LOCK_NB) == 0; }
  int release() { return std::exchange(fd_, -1); }

 private:
  explicit LockFile(int fd) : fd_(fd) {}
  int fd_;
};

Status WriteAtomically(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.string() + ".tmp-" + internal::RandomHex(6);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) return Status::Internal("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Status::Internal("cannot write " + path.string() + ": " + ec.message());
  }
  return Status::OK();
}

Result<Json> ReadJsonFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path.string() + " does not exist");
  Json j = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Internal(path.string() + " is corrupt");
  return j;
}

// The identity of an archive on disk: a change to it invalidates what the
// cache remembers of the reference.
std::string ArchiveIdentity(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

struct Layout {
  fs::path root;
  fs::path images() const { return root / "images"; }
  fs::path image(std::string_view hex) const { return images() / std::string(hex); }
  fs::path refs() const { return root / "refs"; }
  fs::path ref(const std::string& reference) const {
    return refs() / (std::string(image::DigestHex(image::DigestOf(reference))) + ".json");
  }
  fs::path locks() const { return root / "locks"; }
  fs::path lock(std::string_view hex) const { return locks() / (std::string(hex) + ".lock"); }
  fs::path tmp() const { return root / "tmp"; }
  fs::path files() const { return root / "files"; }  // image::SharedFiles::objects

  Status Make() const {
    std::error_code ec;
    for (const fs::path& d : {images(), refs(), locks(), tmp()}) {
      fs::create_directories(d, ec);
      if (ec) return Status::Unavailable("cannot create the image cache " + d.string() + ": " + ec.message());
    }
    return Status::OK();
  }
};

Result<ImageInfo> ReadImage(const Layout& layout, std::string_view hex) {
  R2E_ASSIGN_OR_RETURN(Json j, ReadJsonFile(layout.image(hex) / "image.json"));
  ImageInfo info;
  info.id = j.value("id", "");
  info.rootfs = layout.image(hex) / "rootfs";
  info.size_bytes = j.value("size_bytes", std::uint64_t{0});
  for (const auto& kv : j.value("env", Json::array())) {
    if (kv.is_array() && kv.size() == 2 && kv[0].is_string() && kv[1].is_string()) info.env.emplace_back(kv[0], kv[1]);
  }
  info.working_dir = j.value("working_dir", "");
  info.user = j.value("user", "");
  struct stat st {};
  if (::stat((layout.image(hex) / "last-used").c_str(), &st) == 0) {
    info.last_used = std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                           std::chrono::nanoseconds(st.st_mtim.tv_nsec));
  }
  return info;
}

void Touch(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ::futimens(fd, nullptr);
  ::close(fd);
}

// An unpack's temporary directory: "<id hex>.<random>".
std::string_view HexOfTemporary(std::string_view name) { return name.substr(0, name.find('.')); }

// Removes unpacks that nobody is doing any more (their process died: the
// image's lock is free).
std::size_t RemoveDeadUnpacks(const Layout& layout, std::string_view only_hex = {}) {
  std::size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(layout.tmp(), ec)) {
    const std::string name = entry.path().filename().string();
    const std::string_view hex = HexOfTemporary(name);
    if (!only_hex.empty() && hex != only_hex) continue;
    if (only_hex.empty()) {
      auto lock = LockFile::Open(layout.lock(hex));
      if (!lock.ok() || !lock->TryLock(LOCK_EX)) continue;  // being unpacked (or removed) now
      removed += image::RemoveTree(entry.path()).ok() ? 1 : 0;
    } else {
      removed += image::RemoveTree(entry.path()).ok() ? 1 : 0;  // the caller holds the lock
    }
  }
  return removed;
}

}  // namespace

ImageStore::ImageStore(ImageStoreOptions options)
    : options_(std::move(options)), cache_dir_(options_.cache_dir.empty() ? DefaultCacheDir() : options_.cache_dir) {}

Result<ImageInfo> ImageStore::Unpack(const std::string& reference, bool reuse_resolution) {
  const Layout layout{cache_dir_};
  R2E_RETURN_IF_ERROR(layout.Make());
  R2E_ASSIGN_OR_RETURN(image::ParsedReference parsed, image::ParseReference(reference));
  const std::string identity =
      parsed.kind == image::ReferenceKind::kRegistry ? std::string() : ArchiveIdentity(parsed.path);
  if (reuse_resolution) {
    // What this reference resolved to before, if the source did not change.
    auto known = ReadJsonFile(layout.ref(reference));
    if (known.ok() && known->value("reference", "") == reference && known->value("identity", "") == identity) {
      const std::string id = known->value("id", "");
      if (image::IsSha256Digest(id)) {
        if (auto info = ReadImage(layout, image::DigestHex(id)); info.ok()) return info;
      }
    }
  }
  std::unique_ptr<image::ImageSource> source;
  switch (parsed.kind) {
    case image::ReferenceKind::kDockerArchive: {
      R2E_ASSIGN_OR_RETURN(source, image::OpenDockerArchive(parsed, reference));
      break;
    }
    case image::ReferenceKind::kOciLayout: {
      R2E_ASSIGN_OR_RETURN(source, image::OpenOciLayout(parsed, reference));
      break;
    }
    case image::ReferenceKind::kRegistry: {
#if R2E_WITH_REGISTRY
      R2E_ASSIGN_OR_RETURN(source, image::OpenRegistry(reference, options_.registry));
      break;
#else
      return Status::Unimplemented("this build of r2e cannot pull \"" + reference +
                                   "\" from a registry (built without R2E_WITH_REGISTRY); give the image as "
                                   "docker-archive:PATH (what `docker save` writes) or oci:PATH[:TAG]");
#endif
    }
  }
  R2E_ASSIGN_OR_RETURN(image::ResolvedImage resolved, source->Resolve());
  if (!resolved.config.os.empty() && resolved.config.os != "linux") {
    return Status::InvalidArgument("image " + reference + " is for " + resolved.config.os + ", not linux");
  }
  if (!resolved.config.architecture.empty() && resolved.config.architecture != image::HostArchitecture()) {
    return Status::InvalidArgument("image " + reference + " is for " + resolved.config.architecture +
                                   " and this machine is " + image::HostArchitecture());
  }
  const std::string hex(image::DigestHex(resolved.config_digest));
  R2E_ASSIGN_OR_RETURN(LockFile lock, LockFile::Open(layout.lock(hex)));
  // Shared to look (sandboxes hold it shared too, so an image in use is
  // found without waiting), exclusive only to unpack.
  R2E_RETURN_IF_ERROR(lock.Lock(LOCK_SH));
  if (!fs::exists(layout.image(hex) / "image.json")) R2E_RETURN_IF_ERROR(lock.Lock(LOCK_EX));
  if (!fs::exists(layout.image(hex) / "image.json")) {
    RemoveDeadUnpacks(layout, hex);
    const fs::path work = layout.tmp() / (hex + "." + internal::RandomHex(6));
    std::error_code ec;
    fs::create_directories(work / "rootfs", ec);
    if (ec) return Status::Unavailable("cannot create " + work.string() + ": " + ec.message());
    source->set_scratch_dir(work / "downloads");
    auto fail = [&](Status s) {
      (void)image::RemoveTree(work);
      return s.WithContext("pulling " + reference);
    };
    image::UnpackLimits limits{options_.max_unpacked_bytes, options_.max_unpacked_files};
    // Files are hard links into the cache's shared files: images that share
    // layers (a base image, a common environment) store them once.
    image::SharedFiles shared{layout.files(), work / "scratch", {}};
    image::UnpackTally tally;
    ImagePullProgress progress{reference, 0, resolved.layer_digests.size(), 0};
    if (options_.progress) options_.progress(progress);
    for (std::size_t i = 0; i < resolved.layer_digests.size(); ++i) {
      auto blob = source->OpenLayer(i);
      if (!blob.ok()) return fail(blob.status());
      auto digest =
          image::ApplyLayer(**blob, work / "rootfs", limits, tally, options_.share_files ? &shared : nullptr);
      if (!digest.ok()) return fail(digest.status().WithContext("layer " + std::to_string(i + 1)));
      if (*digest != resolved.layer_digests[i]) {
        return fail(Status::InvalidArgument("layer " + std::to_string(i + 1) + " does not match its digest: expected " +
                                            resolved.layer_digests[i] + ", read " + *digest +
                                            " (a corrupt or altered image)"));
      }
      progress.layer = i + 1;
      progress.bytes_unpacked = tally.bytes;
      if (options_.progress) options_.progress(progress);
    }
    Json env = Json::array();
    for (const auto& [k, v] : resolved.config.env) env.push_back({k, v});
    const Json record = {{"id", resolved.config_digest},        {"size_bytes", tally.bytes},
                         {"files", tally.entries},              {"skipped_device_nodes", tally.skipped_nodes},
                         {"env", env},                          {"working_dir", resolved.config.working_dir},
                         {"user", resolved.config.user},        {"layers", resolved.layer_digests}};
    if (Status s = WriteAtomically(work / "image.json", record.dump(2)); !s.ok()) return fail(s);
    Touch(work / "last-used");
    fs::remove_all(work / "downloads", ec);
    fs::remove_all(work / "scratch", ec);
    fs::rename(work, layout.image(hex), ec);
    if (ec) return fail(Status::Internal("cannot move the unpacked image into place: " + ec.message()));
  }
  const Json ref_record = {{"reference", reference}, {"id", resolved.config_digest}, {"identity", identity}};
  R2E_RETURN_IF_ERROR(WriteAtomically(layout.ref(reference), ref_record.dump()));
  return ReadImage(layout, hex);  // the lock is held until after this
}

Result<ImageInfo> ImageStore::Pull(const std::string& reference) {
  R2E_ASSIGN_OR_RETURN(ImageInfo info, Unpack(reference, /*reuse_resolution=*/false));
  if (options_.max_cache_bytes > 0) (void)Prune(options_.max_cache_bytes);
  return info;
}

Result<ImageLease> ImageStore::Acquire(const std::string& reference) {
  const Layout layout{cache_dir_};
  // An image can be removed between its unpack and the lock: try again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    R2E_ASSIGN_OR_RETURN(ImageInfo info, Unpack(reference, /*reuse_resolution=*/true));
    const std::string hex(image::DigestHex(info.id));
    R2E_ASSIGN_OR_RETURN(LockFile lock, LockFile::Open(layout.lock(hex)));
    R2E_RETURN_IF_ERROR(lock.Lock(LOCK_SH));
    if (!fs::exists(layout.image(hex) / "image.json")) continue;
    Touch(layout.image(hex) / "last-used");
    if (options_.max_cache_bytes > 0) (void)Prune(options_.max_cache_bytes);
    return ImageLease(std::move(info), lock.release());
  }
  return Status::Unavailable("image " + reference + " was removed from the cache while being acquired, three times");
}

Result<std::vector<ImageInfo>> ImageStore::List() {
  const Layout layout{cache_dir_};
  std::vector<ImageInfo> images;
  std::error_code ec;
  if (!fs::exists(layout.images(), ec)) return images;
  for (const auto& entry : fs::directory_iterator(layout.images(), ec)) {
    const std::string hex = entry.path().filename().string();
    auto info = ReadImage(layout, hex);
    if (!info.ok()) continue;  // not complete
    auto lock = LockFile::Open(layout.lock(hex));
    info->in_use = lock.ok() && !lock->TryLock(LOCK_EX);
    images.push_back(std::move(info).value());
  }
  for (const auto& entry : fs::directory_iterator(layout.refs(), ec)) {
    auto ref = ReadJsonFile(entry.path());
    if (!ref.ok()) continue;
    for (ImageInfo& info : images) {
      if (info.id == ref->value("id", "")) info.references.push_back(ref->value("reference", ""));
    }
  }
  for (ImageInfo& info : images) std::sort(info.references.begin(), info.references.end());
  std::sort(images.begin(), images.end(), [](const ImageInfo& a, const ImageInfo& b) { return a.last_used > b.last_used; });
  return images;
}

namespace {

// Removes an image whose exclusive lock the caller holds: renamed away first,
// so a half-removed image never looks complete.
Status RemoveLocked(const Layout& layout, const std::string& hex) {
  const fs::path doomed = layout.tmp() / (hex + "." + internal::RandomHex(6));
  std::error_code ec;
  fs::rename(layout.image(hex), doomed, ec);
  if (ec) return Status::Internal("cannot remove image " + hex + ": " + ec.message());
  for (const auto& entry : fs::directory_iterator(layout.refs(), ec)) {
    auto ref = ReadJsonFile(entry.path());
    if (ref.ok() && ref->value("id", "") == "sha256:" + hex) fs::remove(entry.path(), ec);
  }
  return image::RemoveTree(doomed);
}

}  // namespace

Status ImageStore::Remove(const std::string& reference_or_id) {
  R2E_ASSIGN_OR_RETURN(std::vector<ImageInfo> images, List());
  std::string want = reference_or_id;
  if (want.starts_with("sha256:")) want = want.substr(7);
  std::vector<const ImageInfo*> matches;
  for (const ImageInfo& info : images) {
    const std::string_view hex = image::DigestHex(info.id);
    const bool by_id = want.size() >= 12 && hex.starts_with(want);
    const bool by_ref = std::find(info.references.begin(), info.references.end(), reference_or_id) != info.references.end();
    if (by_id || by_ref) matches.push_back(&info);
  }
  if (matches.empty()) return Status::NotFound("no cached image is " + reference_or_id + " (see `r2e image ls`)");
  if (matches.size() > 1) return Status::InvalidArgument(reference_or_id + " names several cached images; give more of the ID");
  const Layout layout{cache_dir_};
  const std::string hex(image::DigestHex(matches[0]->id));
  R2E_ASSIGN_OR_RETURN(LockFile lock, LockFile::Open(layout.lock(hex)));
  if (!lock.TryLock(LOCK_EX)) {
    return Status::FailedPrecondition("image " + reference_or_id + " is in use by a sandbox (or being unpacked); "
                                      "stop its sandboxes first");
  }
  R2E_RETURN_IF_ERROR(RemoveLocked(layout, hex));
  (void)image::RemoveUnusedFiles(layout.files());  // what no other image shares
  return Status::OK();
}

Result<ImagePruneReport> ImageStore::Prune(std::uint64_t keep_bytes) {
  const Layout layout{cache_dir_};
  R2E_RETURN_IF_ERROR(layout.Make());
  ImagePruneReport report;
  report.leftovers_removed = RemoveDeadUnpacks(layout);
  R2E_ASSIGN_OR_RETURN(std::vector<ImageInfo> images, List());
  // References to images no longer here.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(layout.refs(), ec)) {
    auto ref = ReadJsonFile(entry.path());
    const std::string id = ref.ok() ? ref->value("id", "") : "";
    const bool live = std::any_of(images.begin(), images.end(), [&](const ImageInfo& i) { return i.id == id; });
    if (!live && fs::remove(entry.path(), ec)) ++report.leftovers_removed;
  }
  std::uint64_t total = 0;
  for (const ImageInfo& info : images) total += info.size_bytes;
  // Least recently used first (List() gives the most recent first).
  for (auto it = images.rbegin(); it != images.rend() && (total > keep_bytes || keep_bytes == 0); ++it) {
    if (it->in_use) continue;
    const std::string hex(image::DigestHex(it->id));
    auto lock = LockFile::Open(layout.lock(hex));
    if (!lock.ok() || !lock->TryLock(LOCK_EX)) continue;  // taken since List()
    if (!RemoveLocked(layout, hex).ok()) continue;
    total -= it->size_bytes;
    ++report.images_removed;
  }
  // The files no remaining image shares (and those killed pulls left): a
  // walk over every shared file, so only when something went (or asked for
  // by a full prune), not after every pull that found the cache under its bound.
  if (report.images_removed > 0 || report.leftovers_removed > 0 || keep_bytes == 0) {
    report.bytes_freed = image::RemoveUnusedFiles(layout.files());
  }
  return report;
}

}  // namespace r2e
