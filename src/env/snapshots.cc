// RepoEnv's snapshots (include/r2e/snapshot.h): scripts run in the sandbox
// over a git object store of r2e's own, outside /testbed.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <iterator>
#include <sstream>
#include <system_error>

#include "core/text.h"
#include "env/snapshot_scripts.h"
#include "env/task_prep.h"
#include "r2e/repo_env.h"
#include "r2e/shell_quote.h"

namespace r2e {
namespace {

using internal::CheckSnapshotScript;
using internal::kSnapshotScriptTimeout;
using internal::PackedSnapshot;

}  // namespace

Result<ExecResult> RepoEnv::run_snapshot_script(const std::string& script, const char* what) {
  ExecOptions o;
  o.timeout = kSnapshotScriptTimeout;
  auto r = runtime_->exec(script, o);
  if (!r.ok()) return r.status().WithContext(what);
  return CheckSnapshotScript(std::move(*r), what);
}

Result<SnapshotId> RepoEnv::snapshot(SnapshotScope scope) {
  if (!started_) return Status::FailedPrecondition("snapshot() before reset() or after close(): call reset() first");
  const SnapshotId id = next_snapshot_id_;
  if (scope == SnapshotScope::kSandbox) {
    auto checkpoint = runtime_->checkpoint();
    if (!checkpoint.ok()) return checkpoint.status().WithContext("snapshot");
    ++next_snapshot_id_;
    checkpoints_[id] = std::move(*checkpoint);
    snapshots_.push_back({id, steps_, done_, 0, SnapshotScope::kSandbox});
    return id;
  }
  const std::uint64_t budget = options_.snapshot_budget_bytes;
  ExecOptions o;
  o.timeout = kSnapshotScriptTimeout;
  auto r = runtime_->exec(internal::SnapshotScript(*runtime_, id, budget), o);
  if (!r.ok()) return r.status().WithContext("snapshot");
  if (const auto at = r->output.find("R2E-SNAPSHOT-TOO-LARGE "); at != std::string::npos) {
    return Status::ResourceExhausted("snapshot: /testbed holds " +
                                     std::string(internal::Trim(r->output.substr(at + 23, 20))) +
                                     " bytes, over RepoEnvOptions::snapshot_budget_bytes (" + std::to_string(budget) +
                                     "); nothing was written");
  }
  R2E_ASSIGN_OR_RETURN(ExecResult done, CheckSnapshotScript(std::move(*r), "snapshot"));
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
// The id a fork's snapshot has in the new environment.
constexpr SnapshotId kForkSnapshotId = 1;

// A primed store's base ("<tree> <git tree> <listing>") as its three ids.
std::vector<std::string> BaseIds(const std::string& base) {
  std::istringstream words(base);
  return {std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
}

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
  if (info->scope == SnapshotScope::kSandbox) {
    R2E_RETURN_IF_ERROR(revert_to(checkpoints_.at(id)).WithContext("restoring a snapshot"));
    steps_ = info->step;
    done_ = info->done;
    return Status::OK();
  }
  const bool end_session = runtime_->keeps_state();
  R2E_RETURN_IF_ERROR(run_snapshot_script(internal::RestoreSnapshotScript(
                                              *runtime_, id, episode_token_, end_session, first),
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
  const SnapshotScope scope = it->scope;
  snapshots_.erase(it);
  fork_packs_.erase(id);
  if (scope == SnapshotScope::kSandbox) {
    auto checkpoint = checkpoints_.extract(id);
    return runtime_->release_checkpoint(checkpoint.mapped()).WithContext("dropping a snapshot");
  }
  return run_snapshot_script(internal::DropScript(*runtime_, internal::SnapshotRefs(id)),
                             "dropping a snapshot")
      .status();
}

std::vector<SnapshotInfo> RepoEnv::snapshots() const { return snapshots_; }

Result<std::unique_ptr<RepoEnv>> RepoEnv::fork(SnapshotId id) {
  if (!started_) return Status::FailedPrecondition("fork() before reset() or after close(): call reset() first");
  const SnapshotInfo* info = Find(snapshots_, id);
  if (info == nullptr) return UnknownSnapshot(id);
  const SnapshotInfo copied = *info;
  if (copied.scope == SnapshotScope::kSandbox) return fork_sandbox(copied);
  // The new sandbox is made (taken from options.warm_pool when it has one)
  // while this one packs the snapshot and hands the pack out: a fork costs
  // the longer of the two, then the pack's way in and the checkout. The
  // pool's refill, which taking a sandbox starts, waits until the fork is
  // done: on a small machine it would compete with the fork for the CPU.
  const auto hold = options_.warm_pool ? options_.warm_pool->hold_background() : nullptr;
  auto made_future = std::async(std::launch::async, [this] { return make_fork_target(); });
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
  const std::string pack_path = internal::ForkPackPath();
  // The base's listing is read once, by its first fork; when it is too
  // large to print, the original prints the listings' difference instead.
  const bool read_base_listing = base_listing_.first != snapshot_base_;
  const auto listing_part = read_base_listing      ? internal::ListingPart::kBaseListing
                            : base_listing_.second ? internal::ListingPart::kNone
                                                   : internal::ListingPart::kListingDiff;
  const auto base = BaseIds(snapshot_base_);
  auto pack = [&](bool thin) -> Result<PackedSnapshot> {
    ExecOptions o;
    o.timeout = internal::kSnapshotScriptTimeout;
    o.trailer_bytes = internal::kPackOutputRoom;
    auto printed = runtime_->exec(internal::PackScript(*runtime_, id, thin, listing_part), o);
    if (!printed.ok()) return printed.status().WithContext("fork: packing the snapshot");
    R2E_ASSIGN_OR_RETURN(ExecResult r, internal::CheckSnapshotScript(std::move(*printed),
                                                                     "fork: packing the snapshot"));
    R2E_ASSIGN_OR_RETURN(PackedSnapshot p, internal::ParsePacked(r));
    if (thin) internal::TakeLooseObjects(p);
    if (thin && p.loose) {
      if (!p.changes_printed.empty())
        p.changes = internal::ParseBaseChanges(p.changes_printed, base, p.trees);
      p.changes_printed.clear();
      if (read_base_listing) {
        const bool listed = p.changes && p.changes->base_listing;
        base_listing_ = {
            snapshot_base_,
            listed ? std::make_shared<const std::string>(*p.changes->base_listing) : nullptr};
        if (listed) p.changes->base_listing.reset();
      }
      internal::PrepareForkCheckout(p, kForkSnapshotId,
                                    base_listing_.second
                                        ? std::optional<std::string_view>(*base_listing_.second)
                                        : std::nullopt,
                                    base);
    }
    if (p.loose || !p.inline_pack.empty()) return p;
    Status got = runtime_->download(pack_path, host);
    (void)runtime_->exec(": > " + ShellQuote(runtime_->command_path(pack_path)));
    R2E_RETURN_IF_ERROR(got.WithContext("fork: copying the snapshot out"));
    return p;
  };
  // A primed store ships only what it wrote since its base, which a sandbox
  // primed with the same base lacks (the new one's base is known once it is
  // made; a warm pool's sandboxes all have the same one).
  bool thin = !snapshot_base_.empty();
  // A thin pack read on the host is kept for the snapshot's next forks
  // (best-of-N from one prefix): they need nothing of this sandbox.
  const auto cached = thin ? fork_packs_.find(id) : fork_packs_.end();
  auto packed = cached != fork_packs_.end() ? Result<PackedSnapshot>(*cached->second) : pack(thin);
  if (thin && packed.ok() && packed->loose) {
    fork_packs_.emplace(id, std::make_shared<PackedSnapshot>(*packed));
  }
  // Waited for in every case: nothing of a failed fork runs on.
  auto made = made_future.get();
  if (!packed.ok()) return packed.status();  // `made` closes its sandbox
  if (!made.ok()) return made.status();
  RepoEnv& child = **made;
  auto fail = [&](Status s) {
    (void)child.close();
    return s;
  };
  if (thin && child.snapshot_base_ != snapshot_base_) {
    thin = false;
    packed = pack(false);
    if (!packed.ok()) return fail(packed.status());
  }
  if (!packed->loose && packed->inline_pack.empty()) {
    if (Status s = child.runtime_->upload(host, pack_path); !s.ok()) {
      return fail(s.WithContext("fork: copying the snapshot in"));
    }
  }
  const SnapshotId child_id = kForkSnapshotId;
  SnapshotInfo mine = copied;
  mine.id = child_id;
  child.snapshots_ = {mine};
  child.next_snapshot_id_ = child_id + 1;
  // A new sandbox of the same base is still at that base: the host writes
  // the snapshot's changes to it (no git), unless that fails part way.
  std::string unpack;  // for a restore with git: the objects and refs in first
  bool checked_out = false;
  if (thin) child.base_listing_ = base_listing_;
  // The new environment's tool server starts in the same exec, after the checkout.
  const std::string then = thin ? child.tool_server_start_script() : "";
  if (const auto checkout =
          thin ? internal::ForkCheckoutScript(*child.runtime_, *packed, then) : std::nullopt) {
    auto r = child.run_snapshot_script(*checkout, "fork");
    if (!r.ok()) return fail(r.status());
    checked_out = r->output.find(internal::kForkCheckoutSlow) == std::string::npos;
  } else {
    unpack = internal::UnpackPart(child_id, *packed, thin);
  }
  if (checked_out) {
    child.steps_ = copied.step;
    child.done_ = copied.done;
  } else if (Status s = child.restore_after(child_id, unpack); !s.ok()) {
    return fail(s.WithContext("fork"));
  }
  child.defer_tool_server_ = false;
  if (checked_out && !then.empty()) {
    child.tool_link_ = ToolServerLink{};  // as start_tool_server() leaves it
  } else {
    child.start_tool_server();
  }
  return std::move(*made);
}

Result<std::unique_ptr<RepoEnv>> RepoEnv::make_fork_target() const {
  R2E_ASSIGN_OR_RETURN(auto made, RepoEnv::Create(task_, options_));
  // The tools added to this environment come along.
  if (!added_tools_.empty())
    R2E_RETURN_IF_ERROR(made->add_commands(added_tools_).WithContext("fork"));
  made->defer_tool_server_ = true;
  auto initial = made->reset();
  if (!initial.ok()) return initial.status().WithContext("fork: starting the new sandbox");
  return made;
}

Result<std::unique_ptr<RepoEnv>> RepoEnv::fork_sandbox(const SnapshotInfo& info) {
  R2E_ASSIGN_OR_RETURN(auto made, make_fork_target());
  RepoEnv& child = *made;
  if (Status s = child.revert_to(checkpoints_.at(info.id)); !s.ok()) {
    (void)child.close();
    return s.WithContext("fork");
  }
  child.steps_ = info.step;
  child.done_ = info.done;
  return made;
}

Status RepoEnv::revert_to(const std::string& checkpoint) {
  // The repository snapshots' store stays as it is: the snapshots taken
  // since the checkpoint stay valid.
  R2E_RETURN_IF_ERROR(runtime_->revert(checkpoint, {internal::kSnapshotStore}));
  episode_token_ = internal::RandomHex(8);
  // Every process of the sandbox ended: a tool server's pid file from the
  // checkpoint names whatever process has that pid now.
  defer_tool_server_ = false;
  (void)ForgetToolServer(*runtime_, installed_);
  start_tool_server();
  return Status::OK();
}

Status RepoEnv::prime_snapshots() {
  snapshot_base_.clear();
  if (!options_.prime_snapshots) return Status::OK();
  R2E_ASSIGN_OR_RETURN(snapshot_base_,
                       internal::PrimeSnapshotStore(*runtime_, options_.snapshot_budget_bytes));
  return Status::OK();
}

void RepoEnv::forget_snapshots() {
  // A fast reset keeps the sandbox: its snapshots go too (any other reset
  // removes the sandbox with them). A primed store keeps its base.
  if (started_ && options_.fast_reset && next_snapshot_id_ > 1) {
    ExecOptions o;
    o.timeout = std::chrono::seconds(60);
    const bool kept_base =
        !snapshot_base_.empty() &&
        run_snapshot_script(internal::DropScript(*runtime_, internal::kNumberedSnapshotRefs),
                            "dropping the episode's snapshots")
            .ok();
    if (!kept_base) {
      snapshot_base_.clear();
      (void)runtime_->exec("rm -rf " + ShellQuote(runtime_->command_path(internal::kSnapshotStore)),
                           o);
    }
  }
  // Whole-sandbox checkpoints are released (a stopped runtime has released
  // them already).
  for (const auto& [id, checkpoint] : checkpoints_) {
    if (runtime_) (void)runtime_->release_checkpoint(checkpoint);
  }
  checkpoints_.clear();
  snapshots_.clear();
  fork_packs_.clear();
  next_snapshot_id_ = 1;
}

}  // namespace r2e
