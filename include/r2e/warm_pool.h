// WarmPool: sandboxes created, started and set up ahead of use, so that a
// reset takes a ready one instead of paying for container creation.
//
//   auto pool = r2e::RepoEnv::MakeWarmPool(task, env_options, {.size = 4}).value();
//   env_options.warm_pool = pool;             // RepoEnv::reset() now takes from it
//
// A pool is keyed by what its sandboxes were prepared for: one task (image,
// setup, tools) under one set of options. It works with any Runtime: it makes
// runtimes through a factory, starts them with one SandboxSpec and runs a
// preparer on each (RepoEnv::MakeWarmPool's preparer runs the task's setup and
// installs the tools, exactly as a cold reset() would).
//
// Guarantees:
// - Ready plus being-prepared sandboxes never exceed options.size; handed-out
//   sandboxes belong to their taker and no longer count.
// - A sandbox is handed out once and never comes back: retire() deletes it in
//   the background (never reused dirty).
// - A sandbox that dies while idle is noticed (by the periodic health check or
//   by acquire()'s probe), deleted and replaced; one older than max_idle is
//   replaced too.
// - shutdown() (also run by the destructor) stops the preparation in flight,
//   deletes every idle and retiring sandbox, and returns only when none is
//   left. After a crash, the backend's labels and lifetime guard remove them
//   (Docker: r2e.managed/owner labels, a main process that ends after
//   max_lifetime, and `r2e cleanup`).
//
// Threads: options.refill_concurrency background threads create, check and
// retire sandboxes; nothing else runs in the background.
// Thread-safety: every method may be called from any thread at any time.
#ifndef R2E_WARM_POOL_H_
#define R2E_WARM_POOL_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "r2e/runtime.h"
#include "r2e/status.h"
#include "r2e/tools.h"

namespace r2e {

// A sandbox ready for an episode: started and prepared.
struct WarmSandbox {
  std::unique_ptr<Runtime> runtime;
  // What the preparer installed (RepoEnv's tools).
  std::vector<InstalledTool> tools;
  // Whatever else the preparer hands over with the sandbox, opaque to the
  // pool (RepoEnv's: the hidden tests, already copied out of it). Released
  // with the WarmSandbox, or when the pool deletes a sandbox never handed out.
  std::shared_ptr<void> attachment;
};

// Prepares a started sandbox (setup, tools): `sandbox.runtime` is set, the
// preparer fills in `tools` and `attachment`. A failure deletes the sandbox.
using SandboxPreparer = std::function<Status(WarmSandbox& sandbox)>;

struct WarmPoolOptions {
  // Sandboxes kept ready (ready plus being prepared never exceed it). At least 1.
  int size = 4;
  // Background threads; also how many sandboxes are prepared (or deleted) at
  // once. At least 1.
  int refill_concurrency = 2;
  // A ready sandbox idle longer than this is replaced by a fresh one (keep it
  // well under the backend's lifetime guard, e.g. DockerRuntimeOptions::max_lifetime).
  std::chrono::seconds max_idle{std::chrono::minutes(30)};
  // How often idle sandboxes are checked with Runtime::alive().
  std::chrono::milliseconds health_interval{std::chrono::seconds(2)};
  // acquire() runs `true` in the sandbox it takes, bounded by this, and takes
  // the next one when that fails (a sandbox killed since the last health check).
  bool probe_on_acquire = true;
  std::chrono::milliseconds probe_timeout{std::chrono::seconds(5)};
  // After a failed preparation the threads wait this long before the next
  // attempt, doubling up to 30 s while failures repeat.
  std::chrono::milliseconds retry_backoff{200};
  // An opaque description of what the sandboxes were prepared for; RepoEnv
  // refuses a pool whose key is not its own (see RepoEnv::WarmPoolKey).
  std::string key;
};

struct WarmPoolStats {
  int ready = 0;      // idle, prepared sandboxes
  int preparing = 0;  // being created, started or prepared
  int retiring = 0;   // waiting to be (or being) deleted
  long long created = 0;         // preparations that succeeded
  long long failed = 0;          // preparations that failed
  long long handed_out = 0;      // sandboxes acquire() returned
  long long replaced_dead = 0;   // idle sandboxes found dead and replaced
  long long replaced_idle = 0;   // idle sandboxes older than max_idle, replaced
  std::string last_error;        // of the last failed preparation, "" if none
};

class WarmPool : public std::enable_shared_from_this<WarmPool> {
 public:
  // Starts the background threads, which begin filling the pool at once.
  // InvalidArgument for a missing factory or preparer or a bad size.
  static Result<std::shared_ptr<WarmPool>> Create(SandboxSpec spec, RuntimeFactory factory,
                                                  SandboxPreparer prepare, WarmPoolOptions options = {});
  ~WarmPool();
  WarmPool(const WarmPool&) = delete;
  WarmPool& operator=(const WarmPool&) = delete;

  // Takes a ready sandbox, waiting up to `timeout` for one. Errors: Timeout
  // when none became ready in time; the preparation's own error when one
  // failed while this call waited (so a caller can fall back instead of
  // waiting out a broken image); Cancelled after shutdown().
  Result<WarmSandbox> acquire(std::chrono::milliseconds timeout = std::chrono::seconds(120));

  // Holds the pool's background work (deletions, health checks, refills)
  // until the returned token and its copies are destroyed, or for at most
  // `at_most`: for a short operation whose latency matters in a sandbox just
  // taken (RepoEnv::fork() holds it while it checks a snapshot out), which
  // the refill that acquire() starts would compete with for the CPU. Work
  // already under way goes on; an acquire() that waits for a sandbox lifts
  // the hold. Holds may overlap; thread-safe.
  [[nodiscard]] std::shared_ptr<void> hold_background(
      std::chrono::milliseconds at_most = std::chrono::seconds(1));

  // Hands a used (or unused) runtime back for deletion in the background.
  // After shutdown() the runtime is stopped on the calling thread. Null is ignored.
  void retire(std::unique_ptr<Runtime> runtime);

  // Waits until `count` (at most size) sandboxes are ready. Timeout, or the
  // last preparation error when preparations fail while it waits.
  Status wait_ready(int count, std::chrono::milliseconds timeout);

  // Stops the threads and deletes every sandbox the pool holds; idempotent.
  // Sandboxes already handed out are their takers' to stop.
  void shutdown();

  WarmPoolStats stats() const;
  const SandboxSpec& spec() const;
  const WarmPoolOptions& options() const;

 private:
  struct State;
  explicit WarmPool(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace r2e

#endif  // R2E_WARM_POOL_H_
