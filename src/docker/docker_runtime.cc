#include "r2e/docker_runtime.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <set>
#include <ctime>
#include <fstream>
#include <sstream>

#include "archive/tar.h"
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

std::string Dirname(const std::string& path) {
  fs::path p(path);
  std::string d = p.parent_path().string();
  return d.empty() ? "/" : d;
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

}  // namespace

DockerRuntime::DockerRuntime(DockerRuntimeOptions options) : options_(std::move(options)) {}

DockerRuntime::~DockerRuntime() { stop(); }

std::string DockerRuntime::container_id() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return id_;
}

std::string DockerRuntime::container_name() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return name_;
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

  // The image: local first; pull only as the policy allows.
  if (options_.pull == DockerRuntimeOptions::Pull::kAlways) {
    R2E_RETURN_IF_ERROR(client_->pull_image(image));
  } else {
    auto found = client_->inspect_image(image);
    if (!found.ok()) {
      if (found.status().code() != StatusCode::kNotFound) return found.status();
      if (options_.pull == DockerRuntimeOptions::Pull::kNever) {
        return Status::NotFound("image " + image +
                                " is not present locally and pulling is off; build or pull it first "
                                "(the test images come from scripts/build-test-images.sh)");
      }
      if (Status s = client_->pull_image(image); !s.ok()) {
        return s.WithContext("image " + image + " is not local and could not be pulled");
      }
    }
  }

  const auto now = std::chrono::system_clock::now();
  const auto expires = now + options_.max_lifetime;
  nlohmann::json labels = {
      {"r2e.managed", "1"},
      {"r2e.owner.host", HostName()},
      {"r2e.owner.pid", std::to_string(::getpid())},
      {"r2e.owner.start", ProcessStartTime(::getpid())},
      {"r2e.task", spec.task_id},
      {"r2e.expires", std::to_string(std::chrono::system_clock::to_time_t(expires))},
  };
  for (const auto& [k, v] : options_.labels) labels[k] = v;
  for (const auto& [k, v] : spec.labels) labels[k] = v;
  nlohmann::json env = nlohmann::json::array();
  env_ = spec.env;
  for (const auto& kv : options_.env) env_.push_back(kv);
  for (const auto& [k, v] : env_) env.push_back(k + "=" + v);
  nlohmann::json host = {{"AutoRemove", true}, {"Init", true}};
  if (options_.memory_bytes > 0) host["Memory"] = options_.memory_bytes;
  if (options_.nano_cpus > 0) host["NanoCpus"] = options_.nano_cpus;
  if (options_.pids_limit > 0) host["PidsLimit"] = options_.pids_limit;
  if (!options_.network_mode.empty()) host["NetworkMode"] = options_.network_mode;
  nlohmann::json config = {
      {"Image", image},
      // The lifetime guard: when it ends, the container ends and removes itself.
      {"Entrypoint", internal::SandboxMainArgv(options_.max_lifetime)},
      {"Cmd", nlohmann::json::array()},
      {"WorkingDir", options_.workdir},
      {"Env", env},
      {"Labels", labels},
      {"HostConfig", host},
      {"AttachStdin", false},
      {"Tty", false},
  };
  if (!options_.user.empty()) config["User"] = options_.user;

  std::string name = ContainerName(image);
  // The session pipes' directory, bind-mounted read-only (pipes stay writable).
  const bool want_pipes = options_.exec_mode == DockerRuntimeOptions::ExecMode::kSession &&
                          options_.session_transport != DockerRuntimeOptions::SessionTransport::kExec;
  const fs::path fifo_root = options_.session_dir.empty() ? docker::DefaultFifoRoot() : fs::path(options_.session_dir);
  fs::path fifo_dir;
  auto create = [&]() -> Result<std::string> {
    nlohmann::json c = config;
    fifo_dir.clear();
    if (want_pipes) {
      Status made = docker::MakeFifoDir(fifo_root / name);
      if (made.ok()) {
        fifo_dir = fifo_root / name;
        c["HostConfig"]["Mounts"] = nlohmann::json::array(
            {{{"Type", "bind"}, {"Source", fifo_dir.string()}, {"Target", docker::kFifoSandboxDir}, {"ReadOnly", true}}});
      } else if (options_.session_transport == DockerRuntimeOptions::SessionTransport::kPipes) {
        return made;
      }
    }
    auto r = client_->create_container(c, name);
    if (!r.ok() && !fifo_dir.empty()) {
      std::error_code ec;
      fs::remove_all(fifo_dir, ec);
      if (options_.session_transport == DockerRuntimeOptions::SessionTransport::kAuto &&
          r.status().code() != StatusCode::kAlreadyExists) {
        // A daemon that cannot bind the directory (not on this machine):
        // try once more without it.
        fifo_dir.clear();
        nlohmann::json plain = config;
        auto again = client_->create_container(plain, name);
        if (again.ok()) spdlog::debug("docker: no session pipes ({}); using the exec stream", r.status().ToString());
        return again;
      }
    }
    return r;
  };
  auto created = create();
  if (!created.ok() && created.status().code() == StatusCode::kAlreadyExists) {
    name = ContainerName(image);
    created = create();
  }
  if (!created.ok()) return created.status().WithContext("creating a container from " + image);
  const std::string id = *created;
  auto fail = [&](Status s) {
    client_->remove_container(id, true);
    std::error_code ec;
    if (!fifo_dir.empty()) fs::remove_all(fifo_dir, ec);
    std::lock_guard<std::mutex> lock(state_mu_);
    id_.clear();
    name_.clear();
    fifo_dir_.clear();
    return s.WithContext("starting container " + name + " from " + image);
  };
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    id_ = id;
    name_ = name;
    fifo_dir_ = fifo_dir;
  }
  if (Status s = client_->start_container(id); !s.ok()) return fail(s);
  for (const auto& [host_path, target] : spec.copy_in) {
    if (Status s = upload(host_path, target); !s.ok()) return fail(s);
  }
  if (options_.exec_mode == DockerRuntimeOptions::ExecMode::kSession) {
    std::shared_ptr<docker::DockerClient> client = client_;
    const std::string workdir = options_.workdir;
    std::vector<std::string> exec_env;
    for (const auto& [k, v] : env_) exec_env.push_back(k + "=" + v);
    auto use_pipes = std::make_shared<std::atomic<bool>>(!fifo_dir.empty());
    const bool pipes_required = options_.session_transport == DockerRuntimeOptions::SessionTransport::kPipes;
    const bool world = !options_.user.empty();
    const auto start_timeout = options_.session.start_timeout;
    auto opener = [client, id, workdir, exec_env, use_pipes, pipes_required, world, start_timeout,
                   fifo_dir](const std::vector<std::string>& argv) -> Result<std::unique_ptr<ByteStream>> {
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
    ShellSessionOptions so = options_.session;
    so.default_workdir = options_.workdir;
    for (const auto& kv : env_) so.env.push_back(kv);
    if (Status s = session_.Open(opener, so); !s.ok()) return fail(s);
  }
  return Status::OK();
}

Status DockerRuntime::stop() {
  std::shared_ptr<ShellSession> session = session_.Take();
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  session_.Close(std::move(session));
  const std::string id = container_id();
  if (id.empty() || !client_) return Status::OK();
  Status s = client_->remove_container(id, true);
  std::lock_guard<std::mutex> lock(state_mu_);
  std::error_code ec;
  if (!fifo_dir_.empty()) fs::remove_all(fifo_dir_, ec);
  fifo_dir_.clear();
  // Forget it even when removal failed: the lifetime guard and the reaper
  // still remove it, and a later start() must not be blocked by it.
  id_.clear();
  name_.clear();
  return s.WithContext("removing container " + id.substr(0, 12));
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
  // stop() drops the session before it forgets the container: an exec that
  // races with it finds no session and is cancelled.
  std::shared_ptr<ShellSession> session = session_.Get();
  if (!session) return Status::Cancelled("docker sandbox is being stopped");
  auto r = session->exec(command, options);
  if (!r.ok()) {
    if (!alive()) return Status::Unavailable("container " + id.substr(0, 12) + " is gone: " + r.status().message());
    return r;
  }
  // The shell died under the command: tell a dead container from an agent
  // that killed its own shell.
  if (r->exit_code == -1 && !alive()) {
    return Status::Unavailable("container " + id.substr(0, 12) + " stopped or was removed during the command");
  }
  return r;
}

Result<ExecResult> DockerRuntime::exec_per_command(std::string_view command, const ExecOptions& options) {
  const std::string id = container_id();
  const auto started = Clock::now();
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f", static_cast<double>(options.timeout.count()) / 1000.0);
  // The session's environment rules (the image's variables, PATH), then
  // `env` sets the session's, the runtime's and this command's variables;
  // `timeout` bounds the whole command inside; the client deadline is the backstop.
  std::vector<std::string> argv = {"env"};
  for (const auto& [k, v] : options_.session.env) argv.push_back(k + "=" + v);
  for (const auto& [k, v] : env_) argv.push_back(k + "=" + v);
  for (const auto& [k, v] : options.env) argv.push_back(k + "=" + v);
  for (const char* a : {"timeout", "-s", "KILL"}) argv.emplace_back(a);
  argv.push_back(secs);
  argv.push_back(options_.session.command_shell);
  argv.push_back("-c");
  argv.emplace_back(command);
  const std::string workdir = options.workdir.empty() ? options_.workdir : options.workdir;
  R2E_ASSIGN_OR_RETURN(docker::ExecRun run,
                       client_->exec_run(id, internal::SandboxArgv(options_.session, workdir, argv), {}, workdir,
                                         options.timeout + options_.session.backstop));
  ExecResult r;
  r.exit_code = run.timed_out ? 137 : run.exit_code;
  r.timed_out = run.timed_out || (run.exit_code == 137 && Clock::now() - started >= options.timeout);
  r.output = run.stdout_data + run.stderr_data;
  r.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return r;
}

Status DockerRuntime::put_file_tar(const std::string& dir, const std::string& tar) {
  const std::string id = container_id();
  Status s = client_->put_archive(id, dir, tar);
  if (s.code() == StatusCode::kNotFound) {
    // The target directory is missing: create it, then retry once.
    ExecOptions o;
    o.timeout = std::chrono::seconds(30);
    R2E_ASSIGN_OR_RETURN(docker::ExecRun mk,
                         client_->exec_run(id, internal::SandboxArgv(options_.session, "", {"mkdir", "-p", "--", dir}), {},
                                           "/", o.timeout));
    if (mk.exit_code != 0) return Status::Internal("cannot create " + dir + ": " + mk.stderr_data);
    s = client_->put_archive(id, dir, tar);
  }
  return s;
}

Status DockerRuntime::upload(const fs::path& host_path, const std::string& sandbox_path) {
  if (container_id().empty()) return Status::FailedPrecondition("docker sandbox is not started");
  std::string target = sandbox_path;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  const std::string base = fs::path(target).filename().string();
  R2E_ASSIGN_OR_RETURN(std::string tar, archive::TarPath(host_path, base));
  return put_file_tar(Dirname(target), tar).WithContext("copying " + host_path.string() + " to " + sandbox_path);
}

Status DockerRuntime::download(const std::string& sandbox_path, const fs::path& host_path) {
  const std::string id = container_id();
  if (id.empty()) return Status::FailedPrecondition("docker sandbox is not started");
  R2E_ASSIGN_OR_RETURN(std::string tar, client_->get_archive(id, sandbox_path));
  fs::path staging = host_path.parent_path() / (".r2e-download-" + internal::RandomHex(4));
  if (host_path.parent_path().empty()) staging = fs::path(".r2e-download-" + internal::RandomHex(4));
  Status s = archive::Untar(tar, staging);
  std::error_code ec;
  if (s.ok()) {
    fs::path inner = staging / fs::path(sandbox_path).filename();
    fs::remove_all(host_path, ec);
    fs::rename(inner, host_path, ec);
    if (ec) s = Status::Internal("moving the download into place: " + ec.message());
  }
  fs::remove_all(staging, ec);
  return s.WithContext("copying " + sandbox_path + " out of the sandbox");
}

Result<std::string> DockerRuntime::read_file(const std::string& sandbox_path) {
  const std::string id = container_id();
  if (id.empty()) return Status::FailedPrecondition("docker sandbox is not started");
  R2E_ASSIGN_OR_RETURN(std::string tar, client_->get_archive(id, sandbox_path));
  return archive::FirstFileContent(tar);
}

Status DockerRuntime::write_file(const std::string& sandbox_path, std::string_view content, int mode) {
  if (container_id().empty()) return Status::FailedPrecondition("docker sandbox is not started");
  const std::string base = fs::path(sandbox_path).filename().string();
  if (base.empty()) return Status::InvalidArgument("write_file needs a file path, got " + sandbox_path);
  R2E_ASSIGN_OR_RETURN(std::string tar, archive::TarFile(base, content, mode));
  return put_file_tar(Dirname(sandbox_path), tar).WithContext("writing " + sandbox_path);
}

Result<CleanupReport> CleanupSandboxes(const CleanupOptions& options) {
  docker::ClientOptions o;
  o.socket_path = options.socket_path;
  R2E_ASSIGN_OR_RETURN(auto client, docker::DockerClient::Connect(o));
  R2E_ASSIGN_OR_RETURN(auto containers, client->list_containers({"r2e.managed=1"}));
  CleanupReport report;
  const std::string host = HostName();
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  for (const auto& c : containers) {
    const nlohmann::json labels = c.value("Labels", nlohmann::json::object());
    auto label = [&](const char* k) { return labels.contains(k) && labels[k].is_string() ? labels[k].get<std::string>() : ""; };
    bool remove = options.all;
    const std::string expires = label("r2e.expires");
    if (!expires.empty()) {
      char* end = nullptr;
      long long t = std::strtoll(expires.c_str(), &end, 10);
      if (end && *end == '\0' && t < now) remove = true;
    }
    if (label("r2e.owner.host") == host) {
      const std::string pid = label("r2e.owner.pid");
      long p = std::strtol(pid.c_str(), nullptr, 10);
      // Orphaned: the owner is gone, or its pid now names another process.
      if (p > 0 && ProcessStartTime(p) != label("r2e.owner.start")) remove = true;
    }
    std::string name = c.contains("Names") && c["Names"].is_array() && !c["Names"].empty()
                           ? c["Names"][0].get<std::string>()
                           : c.value("Id", "");
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    if (!remove) {
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
  return report;
}

}  // namespace r2e
