#include "kube/exec_credential.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spawn.h"
#include "core/text.h"

extern char** environ;

namespace r2e::kube {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string JsonString(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, h) || s[13] != ':' ||
      !Digits(s, 14, 2, mi) || s[16] != ':' || !Digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  long offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset = (s[pos] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const time_t t = timegm(&tm) - offset;
  // system_clock counts nanoseconds in 64 bits (years 1678 to 2261): a time
  // outside that range is clamped rather than overflowing.
  using Clock = std::chrono::system_clock;
  const auto limit = std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count() - 1;
  if (t >= limit) return Clock::time_point::max();
  if (t <= -limit) return Clock::time_point::min();
  return Clock::from_time_t(t);
}

Result<ExecCredential> ParseExecCredential(std::string_view text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("the exec credential plugin did not print JSON (an ExecCredential)");
  }
  if (JsonString(j, "kind") != "ExecCredential") {
    return Status::InvalidArgument("the exec credential plugin printed JSON that is not an ExecCredential");
  }
  auto st = j.find("status");
  if (st == j.end() || !st->is_object()) {
    return Status::InvalidArgument("the exec credential plugin's ExecCredential has no status");
  }
  ExecCredential c;
  c.token = JsonString(*st, "token");
  c.client_cert_pem = JsonString(*st, "clientCertificateData");
  c.client_key_pem = JsonString(*st, "clientKeyData");
  if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
    return Status::InvalidArgument(
        "the exec credential plugin's ExecCredential has a client certificate without its key or a key without "
        "its certificate");
  }
  if (c.token.empty() && c.client_cert_pem.empty()) {
    return Status::InvalidArgument("the exec credential plugin's ExecCredential has neither a token nor a certificate");
  }
  const std::string exp = JsonString(*st, "expirationTimestamp");
  if (!exp.empty()) {
    c.expiry = ParseRfc3339(exp);
    if (!c.expiry) {
      return Status::InvalidArgument("the exec credential plugin's expirationTimestamp is not RFC 3339: " +
                                     exp.substr(0, 64));
    }
  }
  return c;
}

Result<ExecCredential> RunExecPlugin(const KubeExecPlugin& plugin, const std::string& server,
                                     std::chrono::milliseconds timeout) {
  const std::string what = "exec credential plugin `" + plugin.command + "`";
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Status::Internal(what + ": pipe: " + internal::ErrnoText(errno));
  if (pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return Status::Internal(what + ": pipe: " + internal::ErrnoText(errno));
  }
  std::vector<std::string> args = {plugin.command};
  args.insert(args.end(), plugin.args.begin(), plugin.args.end());
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    bool overridden = false;
    for (const auto& [k, v] : plugin.env) {
      if (kv.substr(0, k.size() + 1) == k + "=") overridden = true;
    }
    if (!overridden && kv.substr(0, 21) != "KUBERNETES_EXEC_INFO=") env.emplace_back(kv);
  }
  for (const auto& [k, v] : plugin.env) env.push_back(k + "=" + v);
  Json info = {{"apiVersion", plugin.api_version.empty() ? "client.authentication.k8s.io/v1" : plugin.api_version},
               {"kind", "ExecCredential"},
               {"spec", {{"interactive", false}}}};
  if (plugin.provide_cluster_info) info["spec"]["cluster"] = {{"server", server}};
  env.push_back("KUBERNETES_EXEC_INFO=" + info.dump());
  internal::SpawnOptions spawn;
  spawn.argv = std::move(args);
  spawn.env = std::move(env);
  spawn.stdin_dev_null = true;
  spawn.fds = {{out[1], 1}, {err[1], 2}};
  const pid_t pid = internal::SpawnProcess(spawn);  // its own group, so a timeout kills its children too
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(out[0]);
    ::close(err[0]);
    std::string m = what + " cannot be run: " + internal::ErrnoText(-pid);
    if (!plugin.install_hint.empty()) m += "; " + plugin.install_hint;
    return Status::Unavailable(m);
  }
  std::string stdout_text, stderr_text;
  const auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  int open_fds = 2;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  char buf[8192];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno != EINTR) break;
    for (auto& p : fds) {
      if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t k = ::read(p.fd, buf, sizeof buf);
      if (k > 0) {
        std::string& into = p.fd == out[0] ? stdout_text : stderr_text;
        if (into.size() < (4u << 20)) into.append(buf, static_cast<std::size_t>(k));
      } else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(p.fd);
        p.fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  if (timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string errtext(internal::Trim(stderr_text));
  if (errtext.size() > 300) errtext = errtext.substr(0, 300) + "...";
  if (timed_out) {
    return Status::Unavailable(what + " did not finish within " + std::to_string(timeout.count()) + " ms");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string how = WIFEXITED(status) ? "exited with " + std::to_string(WEXITSTATUS(status))
                                        : "was killed by signal " + std::to_string(WTERMSIG(status));
    return Status::Unavailable(what + " failed (" + how + ")" + (errtext.empty() ? "" : ": " + errtext));
  }
  auto cred = ParseExecCredential(stdout_text);
  if (!cred.ok()) return cred.status().WithContext(what);
  return cred;
}

}  // namespace r2e::kube
