// `r2e bench reset --runtime local [--image REF]`: the local runtime on an
// image (no daemon) against the docker runtime's cold start of the same
// image, in the same run: the first unpack into an empty cache, the start of
// a bare sandbox, a full cold reset() (start, setup, tools), and the disk an
// extra sandbox uses after an episode's writes.
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

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
                            {"image_bytes", image.size_bytes},
                            {"sandbox_disk_bytes", sandbox_disk}};
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
