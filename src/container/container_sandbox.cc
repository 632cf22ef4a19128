#include "container/container_sandbox.h"

#include <cstdio>
#include <cstdlib>

#include "core/owner.h"

namespace r2e::container {

Status StopSandbox(SessionSlot& session, std::mutex& lifecycle, const std::function<Status()>& remove) {
  std::shared_ptr<ShellSession> taken = session.Take();
  std::lock_guard<std::mutex> lock(lifecycle);
  session.Close(std::move(taken));
  return remove();
}

Result<ExecResult> ExecInSession(const SessionSlot& session, const SandboxRef& sandbox, std::string_view command,
                                 const ExecOptions& options) {
  // stop() takes the session before it forgets the sandbox: an exec that
  // races with it finds none and is cancelled.
  std::shared_ptr<ShellSession> shell = session.Get();
  if (!shell) return Status::Cancelled(std::string(sandbox.backend) + " sandbox is being stopped");
  auto r = shell->exec(command, options);
  if (!r.ok()) {
    // Cancelled: stop() interrupted the command; the sandbox is going anyway.
    if (r.status().code() != StatusCode::kCancelled && !sandbox.alive()) {
      return Status::Unavailable(sandbox.name + " is gone: " + r.status().message());
    }
    return r;
  }
  // The shell's stream ended under the command: tell a dead sandbox from a
  // dropped connection or an agent that killed its own shell.
  if (r->exit_code == -1 && !sandbox.alive()) {
    return Status::Unavailable(sandbox.name + " stopped or was removed during the command");
  }
  return r;
}

ShellSessionOptions SessionOptions(const ShellSessionOptions& base, const std::string& workdir, const EnvList& env) {
  ShellSessionOptions o = base;
  o.default_workdir = workdir;
  for (const auto& kv : env) o.env.push_back(kv);
  return o;
}

Result<std::vector<std::string>> PerCommandArgv(const ShellSessionOptions& session, const EnvList& env,
                                                std::string_view command, const ExecOptions& options) {
  if (options.timeout.count() <= 0) return Status::InvalidArgument("command timeout must be positive");
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f", static_cast<double>(options.timeout.count()) / 1000.0);
  std::vector<std::string> argv = {"env"};
  for (const auto& [k, v] : session.env) argv.push_back(k + "=" + v);
  for (const auto& [k, v] : env) argv.push_back(k + "=" + v);
  for (const auto& [k, v] : options.env) argv.push_back(k + "=" + v);
  for (const char* a : {"timeout", "-s", "KILL"}) argv.emplace_back(a);
  argv.push_back(secs);
  argv.push_back(session.command_shell);
  argv.push_back("-c");
  argv.emplace_back(command);
  return argv;
}

ExecResult PerCommandResult(int exit_code, bool deadline_passed, Clock::time_point started,
                            std::chrono::milliseconds timeout) {
  ExecResult r;
  const auto elapsed = Clock::now() - started;
  r.exit_code = deadline_passed ? 137 : exit_code;
  r.timed_out = deadline_passed || (exit_code == 137 && elapsed >= timeout);
  r.duration = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed);
  return r;
}

bool ShouldReap(const LabelFn& label, bool all, std::time_t now, const EncodeFn& encode) {
  auto as_label = [&](const std::string& value) { return encode ? encode(value) : value; };
  bool remove = all;
  const std::string expires = label("r2e.expires");
  if (!expires.empty()) {
    char* end = nullptr;
    long long t = std::strtoll(expires.c_str(), &end, 10);
    if (end && *end == '\0' && t < now) remove = true;
  }
  if (label("r2e.owner.host") == as_label(internal::HostName())) {
    long p = std::strtol(label("r2e.owner.pid").c_str(), nullptr, 10);
    // Orphaned: the owner is gone, or its pid now names another process.
    if (p > 0 && as_label(internal::ProcessStartTime(p)) != label("r2e.owner.start")) remove = true;
  }
  return remove;
}

}  // namespace r2e::container
