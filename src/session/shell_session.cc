#include "r2e/session.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <thread>

#include "core/text.h"
#include "r2e/shell_quote.h"
#include "session/marker_scanner.h"

namespace r2e {
namespace {

constexpr std::string_view kLoopScript =
#include "session/loop_script.inc"
    ;

constexpr std::size_t kReadChunk = 64 * 1024;

// The launcher, run by /bin/sh as `sh -c <this> r2e-env <path> <append|replace>
// <keep|clear> <workdir> <names to unset> ARGV...`. POSIX sh only (dash, busybox), no external
// command before PATH is set. Its own variables are named so that an image's
// cannot clash with them, and are unset before ARGV runs.
constexpr std::string_view kLauncher = R"SH(__r2e_p=$1 __r2e_m=$2 __r2e_k=$3 __r2e_w=$4 __r2e_u=$5
shift 5
for __r2e_n in $__r2e_u; do unset "$__r2e_n"; done
if [ -n "$__r2e_p" ]; then
  __r2e_o=${PATH-}
  PATH=$__r2e_p
  if [ "$__r2e_m" = append ]; then
    while [ -n "$__r2e_o" ]; do
      __r2e_e=${__r2e_o%%:*}
      case $__r2e_o in *:*) __r2e_o=${__r2e_o#*:} ;; *) __r2e_o= ;; esac
      case :$PATH: in *:"$__r2e_e":*) ;; *) [ -z "$__r2e_e" ] || PATH=$PATH:$__r2e_e ;; esac
    done
  fi
  export PATH
fi
if [ -n "$__r2e_w" ]; then cd -- "$__r2e_w" || exit 1; fi
if [ "$__r2e_k" = clear ]; then
  __r2e_p=$PATH
  unset __r2e_m __r2e_k __r2e_w __r2e_o __r2e_e __r2e_u __r2e_n
  exec env -i "PATH=$__r2e_p" "$@"
fi
unset __r2e_p __r2e_m __r2e_k __r2e_w __r2e_o __r2e_e __r2e_u __r2e_n
exec "$@")SH";

// A name the launcher may pass to `unset`: dash exits on a bad one.
bool ShellIdentifier(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ShellSessionOptions::StableEnv() {
  return {
      {"HOME", "/root"},
      {"LANG", "C.UTF-8"},
      {"LC_ALL", "C.UTF-8"},
      {"TERM", "dumb"},
      {"NO_COLOR", "1"},
      {"PYTHONDONTWRITEBYTECODE", "1"},
      {"PAGER", "cat"},
      {"GIT_PAGER", "cat"},
  };
}

ShellSessionOptions ShellSessionOptions::Isolated() {
  ShellSessionOptions o;
  o.keep_image_env = false;
  o.append_image_path = false;
  o.path = std::string(kScaffoldPath);
  o.env = StableEnv();
  return o;
}

namespace internal {

std::vector<std::string> SandboxArgv(const ShellSessionOptions& options, const std::string& workdir,
                                     const std::vector<std::string>& argv) {
  std::vector<std::string> out = {"/bin/sh",
                                  "-c",
                                  std::string(kLauncher),
                                  "r2e-env",
                                  options.path,
                                  options.append_image_path ? "append" : "replace",
                                  options.keep_image_env ? "keep" : "clear",
                                  workdir};
  std::string unset_names;
  for (const std::string& name : options.unset_env) {
    if (ShellIdentifier(name)) unset_names += (unset_names.empty() ? "" : " ") + name;
  }
  out.push_back(unset_names);
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

// The guard stays the sandbox's PID 1, which no process inside can signal
// (the kernel drops signals to a namespace's init that it does not handle,
// SIGKILL included): it sleeps in a child until the lifetime is over and
// `wait`s for it, which also reaps orphans (they are its children). Killing
// the sleep (`kill -9 -1`) only wakes it: the time left is read again from
// /proc/uptime (shell builtins only), so the lifetime is neither shortened
// nor ended early. Without a readable /proc/uptime: one plain sleep.
constexpr std::string_view kGuardScript =
    "PATH=/usr/local/bin:/usr/bin:/bin${PATH:+:$PATH}; export PATH\n"
    "if read up rest < /proc/uptime; then\n"
    "  end=$(( ${up%.*} + $1 ))\n"
    "  while read up rest < /proc/uptime; do\n"
    "    left=$(( end - ${up%.*} ))\n"
    "    [ \"$left\" -gt 0 ] || exit 0\n"
    "    sleep \"$left\" & wait\n"
    "  done\n"
    "fi\n"
    "exec sleep \"$1\"\n";

std::vector<std::string> SandboxMainArgv(std::chrono::seconds seconds) {
  return {"/bin/sh", "-c", std::string(kGuardScript), "r2e-sandbox", std::to_string(seconds.count())};
}

}  // namespace internal

std::string_view ShellSession::LoopScript() { return kLoopScript; }

ShellSession::ShellSession(StreamOpener opener, ShellSessionOptions options)
    : opener_(std::move(opener)), options_(std::move(options)) {}

ShellSession::~ShellSession() { close(); }

Status ShellSession::start() {
  std::lock_guard<std::mutex> lock(exec_mu_);
  return open_locked();
}

Status ShellSession::open_locked() {
  Status started;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(25 << attempt));
    started = open_once_locked();
    if (started.ok() || !options_.retry_start || !options_.retry_start(started)) break;
  }
  return started;
}

Status ShellSession::open_once_locked() {
  {
    std::lock_guard<std::mutex> lock(stream_mu_);
    if (stream_) return Status::OK();
  }
  if (closed_) return Status::Cancelled("session is closed");
  const std::string ready = internal::RandomHex(16);
  std::vector<std::string> argv = {options_.loop_shell, "--norc", "-c", std::string(kLoopScript),
                                   "r2e-session", ready};
  // The session's variables travel once, as arguments, not with every command.
  for (const auto& [k, v] : options_.env) argv.push_back(k + "=" + v);
  auto opened = opener_(internal::SandboxArgv(options_, "", argv));
  if (!opened.ok()) return opened.status().WithContext("starting the sandbox shell");
  std::shared_ptr<ByteStream> stream = std::move(opened).value();
  ++starts_;

  // Wait for "<ready> READY\n"; whatever the shell printed before it (a
  // sandbox tool's complaint, say) is kept for the error message.
  const std::string want = ready + " READY\n";
  const auto deadline = Clock::now() + options_.start_timeout;
  std::string seen;
  char buf[4096];
  while (seen.find(want) == std::string::npos) {
    auto n = stream->read_some(buf, sizeof buf, deadline);
    if (!n.ok() || *n == 0) {
      stream->close();
      std::string what = !n.ok() ? n.status().ToString() : "the shell exited";
      return Status::Unavailable("sandbox shell did not start (" + what + "); it printed: " +
                                 std::string(internal::Trim(seen.substr(0, 2000))));
    }
    seen.append(buf, *n);
    if (seen.size() > 1 << 20) seen.erase(0, seen.size() - 4096);
  }
  pending_ = seen.substr(seen.find(want) + want.size());
  std::lock_guard<std::mutex> lock(stream_mu_);
  stream_ = std::move(stream);
  interrupted_ = false;
  return Status::OK();
}

std::string ShellSession::prelude(const ExecOptions& options) const {
  const std::string& workdir = options.workdir.empty() ? options_.default_workdir : options.workdir;
  // The loop's child has already dropped the loop's variables and exported
  // the session's; the prelude adds this command's part and runs the
  // command text ($__r2e_cmd).
  std::string p = "unset __r2e_pre\n";
  for (const auto& [k, v] : options.env) p += "export " + ShellQuote(k + "=" + v) + "\n";
  if (options_.command_shell != "bash") {
    // Another shell (e.g. /bin/sh for scaffold fidelity) runs the command file.
    p += "cd -- " + ShellQuote(workdir) + " || exit 1\n";
    p += "exec " + ShellQuote(options_.command_shell) + " -c \"$__r2e_cmd\" r2e\n";
    return p;
  }
  if (!options_.keep_state) {
    p += "cd -- " + ShellQuote(workdir) + " || exit 1\n";
    p += "eval \"$__r2e_cmd\"\n";
    return p;
  }
  // Stateful mode: restore the exported variables and cwd left by the last
  // command, run this one, and save them again on exit.
  // The saved exports replace the inherited ones, so that a variable the
  // last command unset (one of the image's, say) stays unset.
  p += "if [ -f \"$__r2e_d/state\" ]; then for __r2e_v in $(compgen -e); do unset -v \"$__r2e_v\"; done "
       "2>/dev/null; unset __r2e_v; . \"$__r2e_d/state\"; else cd -- " +
       ShellQuote(options_.default_workdir) + " || exit 1; fi\n";
  if (!options.workdir.empty()) p += "cd -- " + ShellQuote(options.workdir) + " || exit 1\n";
  p += "trap '{ export -p; printf \"cd -- %q\\n\" \"$PWD\"; } > \"$__r2e_d/state\" 2>/dev/null' EXIT\n";
  p += "eval \"$__r2e_cmd\"\n";
  return p;
}

Result<ExecResult> ShellSession::exec(std::string_view command, const ExecOptions& options) {
  std::lock_guard<std::mutex> lock(exec_mu_);
  if (options.timeout.count() <= 0) {
    return Status::InvalidArgument("command timeout must be positive");
  }
  if (command.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("command contains a NUL byte, which no shell can run");
  }
  // A session that died between commands (a background child killed it) is
  // noticed here, before the command is sent, and restarted.
  for (int attempt = 0; attempt < 2; ++attempt) {
    R2E_RETURN_IF_ERROR(open_locked());
    std::shared_ptr<ByteStream> stream;
    {
      std::lock_guard<std::mutex> slock(stream_mu_);
      stream = stream_;
    }
    if (!stream) return Status::Cancelled("session was interrupted");
    // Drop output that background children wrote after the last command.
    pending_.clear();
    bool dead = false;
    char buf[4096];
    for (;;) {
      auto n = stream->read_some(buf, sizeof buf, Clock::now());
      if (!n.ok()) break;  // nothing pending
      if (*n == 0) {
        dead = true;
        break;
      }
    }
    if (dead) {
      stream->close();
      std::lock_guard<std::mutex> slock(stream_mu_);
      if (stream_ == stream) stream_.reset();
      continue;
    }
    return exec_locked(command, options);
  }
  return Status::Unavailable("sandbox shell keeps dying before a command can be sent");
}

Result<ExecResult> ShellSession::exec_locked(std::string_view command, const ExecOptions& options) {
  std::shared_ptr<ByteStream> stream;
  {
    std::lock_guard<std::mutex> slock(stream_mu_);
    stream = stream_;
  }
  auto drop_stream = [&] {
    stream->close();
    std::lock_guard<std::mutex> slock(stream_mu_);
    if (stream_ == stream) stream_.reset();
  };

  const std::string nonce = internal::RandomHex(16);
  const std::string pre = prelude(options);
  // The fixed-size header of the loop protocol (loop_script.inc).
  char header[80];
  const long long timeout_ms = std::clamp<long long>(options.timeout.count(), 1, 99'999'999);
  const int header_len = std::snprintf(header, sizeof header, "R2E1 %s %09zu %012zu %08lld\n", nonce.c_str(),
                                       pre.size(), command.size(), timeout_ms);
  if (header_len != 70 || pre.size() > 999'999'999 || command.size() > 999'999'999'999ULL) {
    return Status::InvalidArgument("command too large for the session protocol");
  }
  std::string message(header, header_len);
  message += pre;
  message.append(command);

  const auto started = Clock::now();
  const auto deadline = started + options.timeout + options_.backstop;
  ExecResult result;
  internal::BoundedOutput out(options_.head_bytes, options_.tail_bytes + options.trailer_bytes);
  internal::MarkerScanner scanner(nonce);
  auto finish = [&](int code, bool timed_out) {
    result.exit_code = code;
    result.timed_out = timed_out;
    result.output = out.str();
    result.truncated_bytes = out.dropped();
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    return result;
  };

  if (Status s = stream->write(message, deadline); !s.ok()) {
    drop_stream();
    if (interrupted_) return Status::Cancelled("session was interrupted");
    return s.WithContext("sending the command to the sandbox shell");
  }

  std::string buf(kReadChunk, '\0');
  for (;;) {
    auto n = stream->read_some(buf.data(), buf.size(), deadline);
    if (!n.ok()) {
      if (n.status().code() == StatusCode::kTimeout) {
        // The in-sandbox watchdog did not answer in time: kill everything by
        // restarting the session. The partial output is still the command's.
        drop_stream();
        scanner.flush(out);
        return finish(137, true);
      }
      drop_stream();
      if (interrupted_) return Status::Cancelled("session was interrupted");
      return n.status().WithContext("reading command output");
    }
    if (*n == 0) {
      // The shell died under the command (e.g. `kill -9 -1`); the next
      // command gets a new one.
      drop_stream();
      if (interrupted_) return Status::Cancelled("session was interrupted");
      scanner.flush(out);
      return finish(-1, false);
    }
    if (auto end = scanner.feed(std::string_view(buf.data(), *n), out)) {
      pending_ = std::move(end->rest);
      return finish(end->exit_code, end->timed_out);
    }
  }
}

void ShellSession::interrupt() {
  std::shared_ptr<ByteStream> stream;
  {
    std::lock_guard<std::mutex> lock(stream_mu_);
    interrupted_ = true;
    stream = stream_;
  }
  if (stream) stream->close();
}

void ShellSession::close() {
  interrupt();
  std::lock_guard<std::mutex> lock(exec_mu_);
  closed_ = true;
  std::lock_guard<std::mutex> slock(stream_mu_);
  stream_.reset();
}

Status SessionSlot::Open(StreamOpener opener, ShellSessionOptions options) {
  auto session = std::make_shared<ShellSession>(std::move(opener), std::move(options));
  // Started outside the lock: starting waits for the sandbox.
  R2E_RETURN_IF_ERROR(session->start());
  std::lock_guard<std::mutex> lock(mu_);
  session_ = std::move(session);
  return Status::OK();
}

std::shared_ptr<ShellSession> SessionSlot::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return session_;
}

std::shared_ptr<ShellSession> SessionSlot::Take() {
  std::shared_ptr<ShellSession> session;
  {
    std::lock_guard<std::mutex> lock(mu_);
    session.swap(session_);
  }
  if (session) session->interrupt();
  return session;
}

void SessionSlot::Close(std::shared_ptr<ShellSession> taken) {
  if (taken) taken->close();
  if (auto late = Take()) late->close();
}

}  // namespace r2e
