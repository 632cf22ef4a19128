// LocalRuntime's whole-sandbox checkpoints (Runtime::checkpoint, revert,
// release_checkpoint): copies of the sandbox's writable layer.
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <mutex>
#include <system_error>

#include "local/image_root.h"
#include "r2e/local_runtime.h"

namespace r2e {
namespace fs = std::filesystem;

namespace {

constexpr char kCheckpointDir[] = "checkpoints";
constexpr char kLayoutFile[] = "layout";

Status NotACheckpoint(const std::string& name) {
  return Status::NotFound("no local checkpoint " + name +
                          " (released, from a sandbox that stopped, or never made)");
}

bool Exists(const fs::path& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

// Whether every directory from `base` down to `path`'s parent is a real
// directory, not a symlink: the sandbox writes the layer (with the overlay,
// every path of its root), and a link it planted there must not lead a host
// rename out of the working directory.
bool NoLinkBetween(const fs::path& base, const fs::path& path) {
  fs::path at = base;
  const fs::path rel = path.parent_path().lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..") return false;
  for (const fs::path& part : rel) {
    if (part == ".") continue;
    at /= part;
    struct stat st;
    if (::lstat(at.c_str(), &st) != 0) return true;  // missing: made as a directory below
    if (!S_ISDIR(st.st_mode)) return false;
  }
  return true;
}

}  // namespace

Result<std::string> LocalRuntime::checkpoint() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  if (!has_sandbox_)
    return Status::FailedPrecondition("local sandbox is not started; call start() first");
  if (!use_bwrap_) {
    return Status::Unimplemented(
        "the local runtime checkpoints a whole sandbox (SnapshotScope::kSandbox) only under "
        "bubblewrap, where "
        "every process of the sandbox ends with its session; SnapshotScope::kRepository works "
        "without");
  }
  const fs::path dir = workdir_ / kCheckpointDir / std::to_string(++checkpoint_count_);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Internal("checkpoint: creating " + dir.string() + ": " + ec.message());
  for (const std::string& layer : layer_dirs()) {
    // The sandbox runs on while it is copied: a file it removes meanwhile
    // fails cp, and a copy taken again a moment later passes.
    Status copied;
    for (int attempt = 0; attempt < 3; ++attempt) {
      fs::remove_all(dir / layer, ec);
      copied = internal::CopyPreserving(workdir_ / layer, dir / layer);
      if (copied.ok()) break;
    }
    if (!copied.ok()) {
      fs::remove_all(dir, ec);
      return copied.WithContext("checkpoint");
    }
  }
  std::ofstream(dir / kLayoutFile) << layer_layout();
  return dir.string();
}

Status LocalRuntime::revert(const std::string& checkpoint, const std::vector<std::string>& keep) {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  if (!has_sandbox_)
    return Status::FailedPrecondition("local sandbox is not started; call start() first");
  if (!use_bwrap_)
    return Status::Unimplemented("the local runtime reverts a whole sandbox only under bubblewrap");
  const fs::path from = checkpoint;
  std::ifstream layout_in(from / kLayoutFile);
  const std::string layout{std::istreambuf_iterator<char>(layout_in), {}};
  if (!from.is_absolute() || from.parent_path().filename() != kCheckpointDir || layout.empty()) {
    return NotACheckpoint(checkpoint);
  }
  if (layout != layer_layout()) {
    return Status::FailedPrecondition("checkpoint " + checkpoint +
                                      " is of a sandbox laid out as \"" + layout +
                                      "\", this one is \"" + layer_layout() + "\"");
  }
  std::vector<fs::path> kept_at;
  for (const std::string& path : keep) {
    R2E_ASSIGN_OR_RETURN(fs::path at, layer_path(path));
    kept_at.push_back(std::move(at));
  }
  // Every process of the sandbox ends with its session (bubblewrap's PID
  // namespace): nothing writes the layer while it is replaced.
  session_.Close(session_.Take());
  // The session opens again whatever happened: a revert that failed halfway
  // leaves a sandbox that runs (and that stop() removes).
  auto replace = [&]() -> Status {
    std::error_code ec;
    const fs::path aside = workdir_ / "kept";
    fs::remove_all(aside, ec);
    fs::create_directories(aside, ec);
    std::vector<bool> had(kept_at.size(), false);
    for (std::size_t i = 0; i < kept_at.size(); ++i) {
      if (!NoLinkBetween(workdir_, kept_at[i])) {
        // Checked now that no process of the sandbox runs; nothing changed.
        return Status::FailedPrecondition(
            "revert: cannot keep " + keep[i] +
            ": a directory above it is a symlink in the sandbox; nothing was reverted");
      }
    }
    for (std::size_t i = 0; i < kept_at.size(); ++i) {
      if (!Exists(kept_at[i])) continue;
      fs::rename(kept_at[i], aside / std::to_string(i), ec);
      if (ec)
        return Status::Internal("revert: setting " + kept_at[i].string() +
                                " aside: " + ec.message());
      had[i] = true;
    }
    for (const std::string& layer : layer_dirs()) {
      fs::remove_all(workdir_ / layer, ec);
      if (ec)
        return Status::Internal("revert: removing " + (workdir_ / layer).string() + ": " +
                                ec.message());
      R2E_RETURN_IF_ERROR(
          internal::CopyPreserving(from / layer, workdir_ / layer).WithContext("revert"));
    }
    Status kept_back = Status::OK();
    for (std::size_t i = 0; i < kept_at.size(); ++i) {
      if (!NoLinkBetween(workdir_, kept_at[i])) {
        // The checkpoint has a link there: what was kept is dropped.
        kept_back =
            Status::FailedPrecondition("revert: cannot put back " + keep[i] +
                                       ": a directory above it is a symlink in the checkpoint");
        continue;
      }
      fs::remove_all(kept_at[i], ec);
      if (!had[i]) continue;
      if (image_.held() && overlay_) {
        const fs::path rel = kept_at[i].lexically_relative(workdir_ / "upper").parent_path();
        R2E_RETURN_IF_ERROR(internal::MakeUpperDirs(image_.image().rootfs, workdir_, rel));
      } else {
        fs::create_directories(kept_at[i].parent_path(), ec);
      }
      fs::rename(aside / std::to_string(i), kept_at[i], ec);
      if (ec)
        return Status::Internal("revert: putting back " + kept_at[i].string() + ": " +
                                ec.message());
    }
    fs::remove_all(aside, ec);
    return kept_back;
  };
  Status replaced = replace();
  Status opened = session_.Open(session_opener_, session_options_)
                      .WithContext("revert: starting the session again");
  return replaced.ok() ? opened : replaced;
}

Status LocalRuntime::release_checkpoint(const std::string& checkpoint) {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  const fs::path dir = checkpoint;
  if (!has_sandbox_ || dir.parent_path() != workdir_ / kCheckpointDir ||
      !Exists(dir / kLayoutFile)) {
    return NotACheckpoint(checkpoint);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return Status::Internal("releasing checkpoint " + checkpoint + ": " + ec.message());
  return Status::OK();
}

}  // namespace r2e
