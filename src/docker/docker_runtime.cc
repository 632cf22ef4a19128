#include "r2e/docker_runtime.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <set>
#include <ctime>

#include "container/container_files.h"
#include "container/container_sandbox.h"
#include "core/owner.h"
#include "core/text.h"
#include "docker/docker_client.h"
#include "docker/fifo_session.h"

#include <spdlog/spdlog.h>

namespace r2e {
namespace fs = std::filesystem;

namespace {

using internal::HostName;
using internal::ProcessStartTime;
using EnvList = container::EnvList;
using SessionTransport = DockerRuntimeOptions::SessionTransport;

// Docker names: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
std::string ContainerName(const std::string& image) {
  std::string base = image;
  if (auto at = base.find('@'); at != std::string::npos) base.resize(at);
  if (auto slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
  std::string out = "r2e-";
  for (char c : base) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-') ? c : '-';
  if (out.size() > 60) out.resize(60);
  return out + "-" + internal::RandomHex(4);
}

std::vector<std::string> EnvStrings(const EnvList& env) {
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// Makes `image` local: pulls it only as the policy allows.
Status EnsureImage(docker::DockerClient& client, const std::string& image, DockerRuntimeOptions::Pull pull) {
  if (pull == DockerRuntimeOptions::Pull::kAlways) return client.pull_image(image);
  auto found = client.inspect_image(image);
  if (found.ok()) return Status::OK();
  if (found.status().code() != StatusCode::kNotFound) return found.status();
  if (pull == DockerRuntimeOptions::Pull::kNever) {
    return Status::NotFound("image " + image +
                            " is not present locally and pulling is off; build or pull it first "
                            "(the test images come from scripts/build-test-images.sh)");
  }
  if (Status s = client.pull_image(image); !s.ok()) {
    return s.WithContext("image " + image + " is not local and could not be pulled");
  }
  return Status::OK();
}

// Podman adds TERM=xterm (containers.conf's default) and container=podman to
// every container, whatever the image says; Docker adds neither. Those of
// them that the image and the sandbox's variables do not set are removed by
// the session launcher, so commands see the same environment on both.
Result<std::vector<std::string>> PodmanAddedVariables(docker::DockerClient& client, const std::string& image,
                                                      const EnvList& env) {
  R2E_ASSIGN_OR_RETURN(nlohmann::json inspected, client.inspect_image(image));
  std::vector<std::string> set_by_image;
  const nlohmann::json image_env = inspected.value("/Config/Env"_json_pointer, nlohmann::json::array());
  for (const auto& entry : image_env) {
    if (!entry.is_string()) continue;
    const std::string& text = entry.get_ref<const std::string&>();
    set_by_image.push_back(text.substr(0, text.find('=')));
  }
  std::vector<std::string> out;
  for (const std::string name : {"TERM", "container"}) {
    const bool by_image = std::find(set_by_image.begin(), set_by_image.end(), name) != set_by_image.end();
    const bool by_sandbox = std::any_of(env.begin(), env.end(), [&](const auto& kv) { return kv.first == name; });
    if (!by_image && !by_sandbox) out.push_back(name);
  }
  return out;
}

// Who owns the container and when it expires (see CleanupSandboxes), then
// the options' own labels, then the spec's.
nlohmann::json Labels(const DockerRuntimeOptions& o, const SandboxSpec& spec) {
  const auto expires = std::chrono::system_clock::now() + o.max_lifetime;
  nlohmann::json labels = {
      {"r2e.managed", "1"},
      {"r2e.owner.host", HostName()},
      {"r2e.owner.pid", std::to_string(::getpid())},
      {"r2e.owner.start", ProcessStartTime(::getpid())},
      {"r2e.task", spec.task_id},
      {"r2e.expires", std::to_string(std::chrono::system_clock::to_time_t(expires))},
  };
  for (const auto& [k, v] : o.labels) labels[k] = v;
  for (const auto& [k, v] : spec.labels) labels[k] = v;
  return labels;
}

// The body of the create request, without the session pipes' mount.
nlohmann::json ContainerConfig(const DockerRuntimeOptions& o, const std::string& image, const SandboxSpec& spec,
                               const EnvList& env) {
  // No init in front of the guard: it is PID 1 itself (SandboxMainArgv), so
  // no process inside can end the container, and it reaps orphans.
  nlohmann::json host = {{"AutoRemove", true}, {"Init", false}};
  if (o.memory_bytes > 0) host["Memory"] = o.memory_bytes;
  if (o.nano_cpus > 0) host["NanoCpus"] = o.nano_cpus;
  if (o.pids_limit > 0) host["PidsLimit"] = o.pids_limit;
  if (!o.network_mode.empty()) host["NetworkMode"] = o.network_mode;
  nlohmann::json config = {
      {"Image", image},
      // The lifetime guard: when it ends, the container ends and removes itself.
      {"Entrypoint", internal::SandboxMainArgv(o.max_lifetime)},
      // The guard ignores SIGTERM (it handles no signal, so that nothing inside
      // can end it): `docker stop` and a daemon shutting down end it at once
      // with SIGKILL instead of waiting out a grace period first.
      {"StopSignal", "SIGKILL"},
      {"Cmd", nlohmann::json::array()},
      {"WorkingDir", o.workdir},
      {"Env", EnvStrings(env)},
      {"Labels", Labels(o, spec)},
      {"HostConfig", host},
      {"AttachStdin", false},
      {"Tty", false},
  };
  if (!o.user.empty()) config["User"] = o.user;
  return config;
}

// A container made (not started) by CreateContainer.
struct Created {
  std::string id;
  std::string name;
  fs::path fifo_dir;  // its session pipes' directory; empty: none
};

// One attempt under `name`. With session pipes wanted, their directory is
// bind-mounted read-only (the pipes in it stay writable); under kAuto a
// daemon that cannot bind it (not on this machine) gets a second attempt
// without it.
Result<Created> CreateNamed(docker::DockerClient& client, const DockerRuntimeOptions& o, const nlohmann::json& config,
                            const std::string& name) {
  const bool want_pipes =
      o.exec_mode == DockerRuntimeOptions::ExecMode::kSession && o.session_transport != SessionTransport::kExec;
  const fs::path fifo_root = o.session_dir.empty() ? docker::DefaultFifoRoot() : fs::path(o.session_dir);
  nlohmann::json c = config;
  fs::path fifo_dir;
  if (want_pipes) {
    Status made = docker::MakeFifoDir(fifo_root / name);
    if (made.ok()) {
      fifo_dir = fifo_root / name;
      c["HostConfig"]["Mounts"] = nlohmann::json::array(
          {{{"Type", "bind"}, {"Source", fifo_dir.string()}, {"Target", docker::kFifoSandboxDir}, {"ReadOnly", true}}});
    } else if (o.session_transport == SessionTransport::kPipes) {
      return made;
    }
  }
  auto r = client.create_container(c, name);
  if (r.ok()) return Created{*r, name, fifo_dir};
  if (fifo_dir.empty()) return r.status();
  std::error_code ec;
  fs::remove_all(fifo_dir, ec);
  if (o.session_transport != SessionTransport::kAuto || r.status().code() == StatusCode::kAlreadyExists) {
    return r.status();
  }
  auto again = client.create_container(config, name);
  if (!again.ok()) return again.status();
  spdlog::debug("docker: no session pipes ({}); using the exec stream", r.status().ToString());
  return Created{*again, name, fs::path()};
}

// A container from `image` under a fresh name; a second name when the first
// is taken.
Result<Created> CreateContainer(docker::DockerClient& client, const DockerRuntimeOptions& o,
                                const nlohmann::json& config, const std::string& image) {
  auto created = CreateNamed(client, o, config, ContainerName(image));
  if (!created.ok() && created.status().code() == StatusCode::kAlreadyExists) {
    created = CreateNamed(client, o, config, ContainerName(image));
  }
  return created;
}

// The resource limits the daemon dropped from the container's configuration:
// a rootless daemon without cgroup delegation accepts them and applies none
// (Podman 4.3 without a warning). Only the limits `o` asks for are checked.
Result<std::vector<std::string>> UnenforcedLimits(docker::DockerClient& client, const DockerRuntimeOptions& o,
                                                  const std::string& id) {
  std::vector<std::string> dropped;
  if (o.memory_bytes <= 0 && o.nano_cpus <= 0 && o.pids_limit <= 0) return dropped;
  R2E_ASSIGN_OR_RETURN(nlohmann::json info, client.inspect_container(id));
  const nlohmann::json host = info.value("HostConfig", nlohmann::json::object());
  const auto check = [&](const char* field, std::int64_t wanted) {
    if (wanted > 0 && host.value(field, std::int64_t{0}) != wanted) {
      dropped.push_back(std::string(field) + "=" + std::to_string(wanted));
    }
  };
  check("Memory", o.memory_bytes);
  check("NanoCpus", o.nano_cpus);
  check("PidsLimit", o.pids_limit);
  return dropped;
}

// Starts the session's shell in the container: through the pipes when there
// are any, else (and, unless pipes are required, when they fail) through a
// hijacked exec.
StreamOpener SessionOpener(std::shared_ptr<docker::DockerClient> client,
                           const DockerRuntimeOptions& o, const Created& container,
                           const EnvList& env, std::shared_ptr<std::atomic<bool>> use_pipes) {
  return [client = std::move(client), id = container.id, fifo_dir = container.fifo_dir, workdir = o.workdir,
          exec_env = EnvStrings(env), use_pipes, pipes_required = o.session_transport == SessionTransport::kPipes,
          world = !o.user.empty(), start_timeout = o.session.start_timeout](
             const std::vector<std::string>& argv) -> Result<std::unique_ptr<ByteStream>> {
    if (*use_pipes) {
      auto piped = docker::OpenFifoSession(*client, id, fifo_dir, argv, exec_env, workdir, world, start_timeout);
      if (piped.ok() || pipes_required) return piped;
      // Not for this container (e.g. a daemon in another mount namespace).
      spdlog::debug("docker: session pipes failed ({}); using the exec stream", piped.status().ToString());
      use_pipes->store(false);
    }
    R2E_ASSIGN_OR_RETURN(std::string exec_id, client->exec_create(id, argv, exec_env, workdir, true));
    return client->exec_attach(exec_id);
  };
}

// Session pipe directories of containers that are gone (or were just
// removed); young ones may belong to a container being created right now.
void RemoveOrphanFifoDirs(const std::vector<nlohmann::json>& containers, const std::vector<std::string>& removed) {
  std::set<std::string> live;
  for (const auto& c : containers) {
    if (!c.contains("Names") || !c["Names"].is_array()) continue;
    for (const auto& n : c["Names"]) {
      if (!n.is_string()) continue;
      std::string name = n.get<std::string>();
      if (!name.empty() && name[0] == '/') name.erase(0, 1);
      live.insert(name);
    }
  }
  for (const auto& r : removed) live.erase(r);
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (const auto& entry : fs::directory_iterator(docker::DefaultFifoRoot(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("r2e-", 0) != 0 || live.count(name) || entry.is_symlink(ec)) continue;
    auto mtime = fs::last_write_time(entry.path(), ec);
    if (ec || now - mtime < std::chrono::minutes(1)) continue;
    fs::remove_all(entry.path(), ec);
  }
}

Status NotStarted() { return Status::FailedPrecondition("docker sandbox is not started"); }

}  // namespace

DockerRuntime::DockerRuntime(DockerRuntimeOptions options)
    : options_(std::move(options)), requested_unset_env_(options_.session.unset_env) {}

DockerRuntime::~DockerRuntime() { stop(); }

std::string DockerRuntime::container_id() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return id_;
}

std::string DockerRuntime::container_name() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return name_;
}

std::vector<std::string> DockerRuntime::unenforced_limits() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return unenforced_limits_;
}

Status DockerRuntime::connect() {
  if (client_) return Status::OK();
  docker::ClientOptions o;
  o.socket_path = options_.socket_path;
  o.registry_auth = options_.registry_auth;
  R2E_ASSIGN_OR_RETURN(auto client, docker::DockerClient::Connect(o));
  client_ = std::move(client);
  return Status::OK();
}

Status DockerRuntime::start(const SandboxSpec& spec) {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  if (!container_id().empty()) return Status::FailedPrecondition("docker sandbox already started; call stop() first");
  R2E_RETURN_IF_ERROR(connect());
  const std::string image = options_.image.empty() ? spec.image : options_.image;
  if (image.empty()) {
    return Status::InvalidArgument("no image for the docker sandbox: the task has none and no override is set");
  }
  R2E_RETURN_IF_ERROR(EnsureImage(*client_, image, options_.pull));
  env_ = spec.env;
  for (const auto& kv : options_.env) env_.push_back(kv);
  options_.session.unset_env = requested_unset_env_;
  if (options_.session.keep_image_env && client_->is_podman()) {
    auto added = PodmanAddedVariables(*client_, image, env_);
    if (!added.ok()) return added.status().WithContext("reading the environment of image " + image);
    options_.session.unset_env.insert(options_.session.unset_env.end(), added->begin(), added->end());
  }
  spec_ = spec;
  spec_.copy_in.clear();  // a revert's container has them in its image
  return start_container(image, image, spec, nullptr);
}

Status DockerRuntime::start_container(
    const std::string& image, const std::string& named_after, const SandboxSpec& spec,
    const std::function<Status(const std::string& name)>& before_start) {
  auto created = CreateContainer(*client_, options_, ContainerConfig(options_, image, spec, env_),
                                 named_after);
  if (!created.ok()) return created.status().WithContext("creating a container from " + image);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    id_ = created->id;
    name_ = created->name;
    fifo_dir_ = created->fifo_dir;
  }
  Status s = before_start ? before_start(created->name) : Status::OK();
  if (s.ok()) s = read_unenforced_limits(created->id);
  if (s.ok()) s = client_->start_container(created->id);
  for (const auto& [host_path, target] : spec.copy_in) {
    if (s.ok()) s = upload(host_path, target);
  }
  if (s.ok() && options_.exec_mode == DockerRuntimeOptions::ExecMode::kSession) {
    auto use_pipes = std::make_shared<std::atomic<bool>>(!created->fifo_dir.empty());
    s = session_.Open(SessionOpener(client_, options_, *created, env_, use_pipes),
                      container::SessionOptions(options_.session, options_.workdir, env_));
    std::lock_guard<std::mutex> lock(state_mu_);
    session_pipes_ = std::move(use_pipes);
  }
  if (!s.ok()) {
    (void)remove_container();  // leave nothing behind: the caller gets the first error
    return s.WithContext("starting container " + created->name + " from " + image);
  }
  return Status::OK();
}

Status DockerRuntime::read_unenforced_limits(const std::string& id) {
  auto dropped = UnenforcedLimits(*client_, options_, id);
  if (!dropped.ok()) return dropped.status().WithContext("reading back the container's limits");
  static std::atomic<bool> warned{false};
  if (!dropped->empty() && !warned.exchange(true)) {
    std::string list;
    for (const std::string& limit : *dropped) list += (list.empty() ? "" : ", ") + limit;
    spdlog::warn(
        "docker: the daemon did not apply {} to the sandboxes (a rootless daemon without cgroup "
        "delegation ignores resource limits); they run without them",
        list);
  }
  std::lock_guard<std::mutex> lock(state_mu_);
  unenforced_limits_ = std::move(*dropped);
  return Status::OK();
}

PipeDirectory DockerRuntime::pipe_directory() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  // Only while the session itself runs over the pipes: then the container
  // sees the directory.
  if (fifo_dir_.empty() || !session_pipes_ || !session_pipes_->load() || !client_) return {};
  PipeDirectory d;
  d.host_path = fifo_dir_;
  d.sandbox_path = docker::kFifoSandboxDir;
  d.pipe_mode = options_.user.empty() ? 0600 : 0666;
  d.pipe_owner = docker::PipeOwner(*client_);
  d.head_bytes = options_.session.head_bytes;
  d.tail_bytes = options_.session.tail_bytes;
  return d;
}

Status DockerRuntime::remove_container() {
  const std::string id = container_id();
  if (id.empty() || !client_) return Status::OK();
  Status s = client_->remove_container(id, true);
  std::lock_guard<std::mutex> lock(state_mu_);
  std::error_code ec;
  if (!fifo_dir_.empty()) fs::remove_all(fifo_dir_, ec);
  fifo_dir_.clear();
  session_pipes_.reset();
  id_.clear();
  unenforced_limits_.clear();
  name_.clear();
  return s.WithContext("removing container " + id.substr(0, 12));
}

Status DockerRuntime::stop() {
  return container::StopSandbox(session_, lifecycle_mu_, [this] {
    Status s = remove_container();
    release_checkpoints();
    return s;
  });
}

bool DockerRuntime::alive() {
  std::string id = container_id();
  if (id.empty() || !client_) return false;
  auto info = client_->inspect_container(id);
  return info.ok() && info->value("/State/Running"_json_pointer, false);
}

Result<ExecResult> DockerRuntime::exec(std::string_view command, const ExecOptions& options) {
  const std::string id = container_id();
  if (id.empty()) return Status::FailedPrecondition("docker sandbox is not started; call start() first");
  if (options_.exec_mode == DockerRuntimeOptions::ExecMode::kPerCommand) {
    return exec_per_command(command, options);
  }
  return container::ExecInSession(session_, {"docker", "container " + id.substr(0, 12), [this] { return alive(); }},
                                  command, options);
}

Result<ExecResult> DockerRuntime::exec_per_command(std::string_view command, const ExecOptions& options) {
  const std::string id = container_id();
  const auto started = Clock::now();
  // The session's environment rules (the image's variables, PATH) apply
  // first; the client deadline is the backstop of the `timeout` inside.
  R2E_ASSIGN_OR_RETURN(std::vector<std::string> argv,
                       container::PerCommandArgv(options_.session, env_, command, options));
  const std::string workdir = options.workdir.empty() ? options_.workdir : options.workdir;
  R2E_ASSIGN_OR_RETURN(docker::ExecRun run,
                       client_->exec_run(id, internal::SandboxArgv(options_.session, workdir, argv), {}, workdir,
                                         options.timeout + options_.session.backstop));
  ExecResult r = container::PerCommandResult(run.exit_code, run.timed_out, started, options.timeout);
  r.output = run.stdout_data + run.stderr_data;
  return r;
}

Status DockerRuntime::put_file_tar(const std::string& dir, const std::string& tar) {
  const std::string id = container_id();
  Status s = client_->put_archive(id, dir, tar);
  if (s.code() == StatusCode::kNotFound) {
    // The target directory is missing: create it, then retry once. As root,
    // as the daemon writes the archive, and given to the user the container
    // runs as (its first process's), so that a non-root image's user may
    // write in the directories r2e made for it (e.g. the tool server's).
    // The owner: the first process's effective ids (from its status, which
    // is readable even when the process is not dumpable). No symlink is
    // followed by the chown (-h), and the loop needs nothing but the shell.
    static constexpr char kMakeDirs[] =
        "u= g=; while read -r k a b c; do case $k in Uid:) u=$b ;; Gid:) g=$b ;; esac; done < /proc/1/status; "
        "[ -n \"$u\" ] && [ -n \"$g\" ] || exit 1; d=$1; shift; "
        "while [ ! -d \"$d\" ]; do set -- \"$d\" \"$@\"; "
        "case $d in */*) d=${d%/*}; [ -n \"$d\" ] || d=/ ;; *) break ;; esac; done; "
        "[ $# -eq 0 ] || { mkdir -- \"$@\" && chown -h -- \"$u:$g\" \"$@\"; }";
    R2E_ASSIGN_OR_RETURN(
        docker::ExecRun mk,
        client_->exec_run(id, internal::SandboxArgv(options_.session, "", {"/bin/sh", "-c", kMakeDirs, "sh", dir}), {},
                          "/", std::chrono::seconds(30), "0:0"));
    if (mk.exit_code != 0) return Status::Internal("cannot create " + dir + ": " + mk.stderr_data);
    s = client_->put_archive(id, dir, tar);
  }
  return s;
}

Status DockerRuntime::upload(const fs::path& host_path, const std::string& sandbox_path) {
  if (container_id().empty()) return NotStarted();
  return container::Upload(host_path, sandbox_path, [this](const std::string& dir, const std::string& tar) {
    return put_file_tar(dir, tar);
  });
}

Status DockerRuntime::download(const std::string& sandbox_path, const fs::path& host_path) {
  const std::string id = container_id();
  if (id.empty()) return NotStarted();
  return container::Download(sandbox_path, host_path,
                             [this, &id](const std::string& path) { return client_->get_archive(id, path); });
}

Result<std::string> DockerRuntime::read_file(const std::string& sandbox_path) {
  const std::string id = container_id();
  if (id.empty()) return NotStarted();
  return container::ReadFile(sandbox_path,
                             [this, &id](const std::string& path) { return client_->get_archive(id, path); });
}

Status DockerRuntime::write_file(const std::string& sandbox_path, std::string_view content, int mode) {
  if (container_id().empty()) return NotStarted();
  return container::WriteFile(sandbox_path, content, mode, [this](const std::string& dir, const std::string& tar) {
    return put_file_tar(dir, tar);
  });
}

Result<CleanupReport> CleanupSandboxes(const CleanupOptions& options) {
  docker::ClientOptions o;
  o.socket_path = options.socket_path;
  R2E_ASSIGN_OR_RETURN(auto client, docker::DockerClient::Connect(o));
  R2E_ASSIGN_OR_RETURN(auto containers, client->list_containers({"r2e.managed=1"}));
  CleanupReport report;
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  for (const auto& c : containers) {
    const nlohmann::json labels = c.value("Labels", nlohmann::json::object());
    auto label = [&](const char* k) { return labels.contains(k) && labels[k].is_string() ? labels[k].get<std::string>() : ""; };
    std::string name = c.contains("Names") && c["Names"].is_array() && !c["Names"].empty()
                           ? c["Names"][0].get<std::string>()
                           : c.value("Id", "");
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    if (!container::ShouldReap(label, options.all, now)) {
      ++report.kept;
      continue;
    }
    if (!options.dry_run) {
      Status s = client->remove_container(c.value("Id", ""), true);
      if (!s.ok()) return s.WithContext("removing " + name);
    }
    report.removed.push_back(name);
  }
  if (!options.dry_run) RemoveOrphanFifoDirs(containers, report.removed);
  // Checkpoints (DockerRuntime::checkpoint) carry their container's labels:
  // those of a process that ended without stop() go by the same rules.
  R2E_ASSIGN_OR_RETURN(auto checkpoints, client->list_images("r2e-checkpoint"));
  for (const auto& image : checkpoints) {
    const nlohmann::json labels = image.value("Labels", nlohmann::json::object());
    auto label = [&](const char* k) {
      return labels.is_object() && labels.contains(k) && labels[k].is_string()
                 ? labels[k].get<std::string>()
                 : "";
    };
    if (label("r2e.managed") != "1" || !container::ShouldReap(label, options.all, now)) continue;
    for (const auto& tag : image.value("RepoTags", nlohmann::json::array())) {
      if (!tag.is_string() || tag.get<std::string>().find("r2e-checkpoint:") == std::string::npos)
        continue;
      if (!options.dry_run) {
        Status s = client->untag_image(tag.get<std::string>(), true);
        if (!s.ok()) return s.WithContext("removing checkpoint " + tag.get<std::string>());
      }
      report.removed.push_back(tag.get<std::string>());
    }
  }
  return report;
}

}  // namespace r2e
