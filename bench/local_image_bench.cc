// `r2e bench reset --runtime local [--image REF]`: the local runtime on an
// image (no daemon) against the docker runtime's cold start of the same
// image, in the same run: the first unpack into an empty cache (and the first
// pull from a loopback registry, where docker-registry and skopeo are), the start of
// a bare sandbox, a full cold reset() (start, setup, tools), and the disk an
// extra sandbox uses after an episode's writes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "bench_util.h"
#include "cli/stop_signals.h"
#include "r2e/image_store.h"
#include "r2e/local_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"
#include "reset_bench.h"

namespace r2e::bench {
namespace {

namespace fs = std::filesystem;
using Ms = std::chrono::duration<double, std::milli>;
using Clock = std::chrono::steady_clock;

constexpr const char* kDemoImage = "r2e-demo/textstats:latest";

// Bytes on disk under `dir` (blocks, as du counts them), not following links.
std::uint64_t DiskUsage(const fs::path& dir) {
  std::uint64_t bytes = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0) bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
  }
  return bytes;
}

Task DemoTask(const std::string& image) {
  Task t;
  t.instance_id = "bench-reset-local-image";
  t.kind = TaskKind::kR2E;
  t.image = image;
  t.problem_statement = "benchmark";
  return t;
}

Result<std::vector<double>> ColdResets(RepoEnv& env, int n) {
  std::vector<double> samples;
  for (int i = 0; i < n; ++i) {
    auto dirty = env.run("echo episode > /testbed/episode.txt");
    if (!dirty.ok()) return dirty.status();
    const auto t0 = Clock::now();
    R2E_RETURN_IF_ERROR(env.reset().status());
    samples.push_back(Ms(Clock::now() - t0).count());
  }
  return samples;
}

bool OnPath(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// Debian's docker-registry on a free loopback port, holding the demo image
// (pushed from `archive` by skopeo); stopped when it goes.
class LoopbackRegistry {
 public:
  ~LoopbackRegistry() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  // The demo image's reference in the registry.
  Result<std::string> Start(const fs::path& dir, const std::string& archive) {
    const int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (probe < 0 || ::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (probe >= 0) ::close(probe);
      return Status::Unavailable("no free loopback port for the registry");
    }
    ::close(probe);
    const int port = ntohs(addr.sin_port);
    const fs::path config = dir / "registry.yml";
    std::ofstream(config) << "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: " << (dir / "registry-data").string()
                          << "\nhttp:\n  addr: 127.0.0.1:" << port << "\n";
    const std::string log = (dir / "registry.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const std::string config_path = config.string();
    char* argv[] = {const_cast<char*>("docker-registry"), const_cast<char*>("serve"),
                    const_cast<char*>(config_path.c_str()), nullptr};
    const int rc = ::posix_spawnp(&pid_, "docker-registry", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return Status::Unavailable("cannot start docker-registry");
    }
    const std::string host = "127.0.0.1:" + std::to_string(port);
    for (int i = 0; i < 100; ++i) {
      const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const bool up = s >= 0 && ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      if (s >= 0) ::close(s);
      if (up) {
        const std::string reference = host + "/r2e-demo/textstats:latest";
        const std::string push = "skopeo copy --quiet --dest-tls-verify=false docker-archive:" + archive +
                                 " docker://" + reference + " >/dev/null 2>&1";
        if (std::system(push.c_str()) != 0) return Status::Unavailable("skopeo could not push to " + host);
        return reference;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return Status::Unavailable("docker-registry did not listen on " + host + " (see " + log + ")");
  }

 private:
  pid_t pid_ = -1;
};

nlohmann::json Line(const std::string& variant, int n, const Percentiles& p) {
  nlohmann::json line = {{"bench", "reset"}, {"runtime", "local"}, {"variant", variant}, {"n", n}};
  AddPercentiles(line, p);
  return line;
}

}  // namespace

Status RunLocalImageResetBench(const ResetBenchOptions& o, std::ostream& out) {
  char tmpl[] = "/tmp/r2e-bench-local-image-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Status::Unavailable("cannot create a temporary directory");
  const fs::path dir = tmpl;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      ImageStoreOptions s;
      s.cache_dir = dir / "cache";
      (void)ImageStore(s).Prune(0);
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  std::string reference = o.image;
  const bool demo = reference.empty();
  if (demo) {
    // The demo image, written as `docker save` does (the daemon's only part
    // on the local side).
    const std::string archive = (dir / "demo.tar").string();
    if (std::system(("docker save -o " + archive + " " + kDemoImage + " >/dev/null 2>&1").c_str()) != 0) {
      return Status::Unavailable(std::string("cannot `docker save` ") + kDemoImage +
                                 "; build it (scripts/build-test-images.sh) or give --image docker-archive:PATH");
    }
    reference = "docker-archive:" + archive;
  }

  ImageStoreOptions store_options;
  store_options.cache_dir = dir / "cache";
  const auto t_pull = Clock::now();
  R2E_ASSIGN_OR_RETURN(ImageInfo image, ImageStore(store_options).Pull(reference));
  const double pull_ms = Ms(Clock::now() - t_pull).count();
  // The same unpack without sharing files between images (its SHA-256 of
  // every file), into another empty cache.
  ImageStoreOptions unshared = store_options;
  unshared.cache_dir = dir / "unshared-cache";
  unshared.share_files = false;
  const auto t_unshared = Clock::now();
  R2E_RETURN_IF_ERROR(ImageStore(unshared).Pull(reference).status());
  const double unshared_pull_ms = Ms(Clock::now() - t_unshared).count();
  (void)ImageStore(unshared).Prune(0);

  // The same image's first pull from a registry on loopback (download,
  // digests, unpack) into another empty cache, where Debian's docker-registry
  // and skopeo are installed.
  std::optional<double> registry_pull_ms;
  if (demo && OnPath("docker-registry") && OnPath("skopeo")) {
    LoopbackRegistry registry;
    auto registry_reference = registry.Start(dir, reference.substr(std::string("docker-archive:").size()));
    ImageStoreOptions registry_store = store_options;
    registry_store.cache_dir = dir / "registry-cache";
    const auto t0 = Clock::now();
    Status pulled = registry_reference.ok() ? ImageStore(registry_store).Pull(*registry_reference).status()
                                            : registry_reference.status();
    if (pulled.ok()) {
      registry_pull_ms = Ms(Clock::now() - t0).count();
    } else {
      std::cerr << "bench reset: the registry pull is left out: " << pulled.ToString() << "\n";
    }
    (void)ImageStore(registry_store).Prune(0);
  }

  LocalRuntimeOptions local;
  local.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
  local.image = reference;
  local.image_store = store_options;
  local.work_root = dir / "sandboxes";
  local.image_layer = LocalRuntimeOptions::ImageLayer::kOverlay;  // the cold resets: setup writes outside /testbed

  // A bare sandbox: start() and a first command, then stop(); each layer.
  auto time_starts = [&](LocalRuntimeOptions::ImageLayer layer) -> Result<std::vector<double>> {
    LocalRuntimeOptions with_layer = local;
    with_layer.image_layer = layer;
    std::vector<double> samples;
    for (int i = 0; i < o.n; ++i) {
      LocalRuntime rt(with_layer);
      SandboxSpec spec;
      spec.task_id = "bench";
      const auto t0 = Clock::now();
      R2E_RETURN_IF_ERROR(rt.start(spec));
      R2E_RETURN_IF_ERROR(rt.exec("true").status());
      samples.push_back(Ms(Clock::now() - t0).count());
      R2E_RETURN_IF_ERROR(rt.stop());
    }
    return samples;
  };
  R2E_ASSIGN_OR_RETURN(std::vector<double> overlay_starts, time_starts(LocalRuntimeOptions::ImageLayer::kOverlay));
  R2E_ASSIGN_OR_RETURN(std::vector<double> copy_starts, time_starts(LocalRuntimeOptions::ImageLayer::kCopy));

  // Full cold resets through RepoEnv, and the disk of one sandbox after them.
  RepoEnvOptions options;
  RuntimeOptions runtime_options;
  runtime_options.local = local;
  R2E_ASSIGN_OR_RETURN(RuntimeFactory factory, MakeRuntimeFactory("local", runtime_options));
  options.runtime = cli::Stoppable(std::move(factory));
  std::vector<double> resets;
  std::uint64_t sandbox_disk = 0;
  {
    R2E_ASSIGN_OR_RETURN(auto env, RepoEnv::Create(DemoTask(reference), options));
    R2E_RETURN_IF_ERROR(env->reset().status());
    R2E_ASSIGN_OR_RETURN(resets, ColdResets(*env, o.n));
    R2E_RETURN_IF_ERROR(env->run("echo episode > /testbed/episode.txt").status());
    sandbox_disk = DiskUsage(local.work_root);  // the one sandbox alive now
  }

  const Percentiles pr = Summarize(resets);
  out << Line("image-start-overlay", o.n, Summarize(overlay_starts)).dump() << std::endl;
  out << Line("image-start-copy", o.n, Summarize(copy_starts)).dump() << std::endl;
  out << Line("image-cold-overlay", o.n, pr).dump() << std::endl;
  nlohmann::json summary = {{"bench", "reset"},
                            {"runtime", "local"},
                            {"image", reference},
                            {"first_unpack_ms", pull_ms},
                            {"first_unpack_unshared_ms", unshared_pull_ms},
                            {"image_bytes", image.size_bytes},
                            {"sandbox_disk_bytes", sandbox_disk}};
  if (registry_pull_ms) summary["first_registry_pull_ms"] = *registry_pull_ms;
  // The docker runtime's cold reset of the same image, when it is the demo's.
  if (demo) {
    RepoEnvOptions docker_options;
    docker_options.runtime = cli::Stoppable(DockerRuntimeFactory());
    auto env = RepoEnv::Create(DemoTask(kDemoImage), docker_options);
    if (env.ok() && (*env)->reset().ok()) {
      auto docker = ColdResets(**env, o.n);
      if (!docker.ok()) return docker.status().WithContext("the docker baseline");
      const Percentiles pd = Summarize(*docker);
      nlohmann::json docker_line = {{"bench", "reset"}, {"runtime", "docker"}, {"variant", "cold"}, {"n", o.n}};
      AddPercentiles(docker_line, pd);
      out << docker_line.dump() << std::endl;
      summary["baseline"] = "docker cold reset of the same image";
      summary["ratio"] = pd.p50 / pr.p50;
    }
  }
  out << summary.dump() << std::endl;
  return Status::OK();
}

}  // namespace r2e::bench
