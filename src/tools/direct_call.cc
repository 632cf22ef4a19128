#include "tools/direct_call.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <random>

#include "core/named_pipe.h"
#include "core/text.h"
#include "session/marker_scanner.h"

namespace r2e::internal {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// How long the server has to take a call before it is taken for stuck, as
// the client function waits.
constexpr Millis kAnswerTimeout{5000};
// How often a call checks that the server is still there.
constexpr Millis kServerCheck{200};
// After a timeout: how long the server has to kill the call's process group
// (it checks every 0.2 s), which closes the output pipes.
constexpr Millis kKillGrace{2000};

bool Plain(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
         std::string_view("@%+=:,./-_").find(c) != std::string_view::npos;
}

// A read end and what it collected.
struct Reader {
  int fd = -1;
  bool open = false;  // not at end of stream yet
  BoundedOutput out;
  Reader(std::size_t head, std::size_t tail) : out(head, tail) {}
  // Reads what is there; false at end of stream.
  bool drain() {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        out.append(std::string_view(buf, static_cast<std::size_t>(n)));
        continue;
      }
      if (n == 0) open = false;
      return open;
    }
  }
};

// The call's pipes: made in the pipe directory, read ends open here; closed
// and removed at the end of the call (which tells the server that its
// client is gone, when the call is still running).
struct CallPipes {
  std::vector<fs::path> paths;
  std::vector<int> fds;
  ~CallPipes() { close(); }
  void close() {
    for (int fd : fds) ::close(fd);
    fds.clear();
    std::error_code ec;
    for (const fs::path& p : paths) fs::remove(p, ec);
    paths.clear();
  }
  // Makes `name` and opens its read end (`access`: O_RDONLY, or O_RDWR to
  // be a writer too) without waiting for a writer.
  int make(const PipeDirectory& dir, const std::string& name, int access) {
    const fs::path path = dir.host_path / name;
    if (!MakeNamedPipe(path, dir.pipe_mode, dir.pipe_owner).ok()) return -1;
    paths.push_back(path);
    const int fd = ::open(path.c_str(), access | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) fds.push_back(fd);
    return fd;
  }
  void close_fd(int fd) {
    ::close(fd);
    fds.erase(std::find(fds.begin(), fds.end(), fd));
  }
};

// Writes all of `data` to the non-blocking `fd` before `deadline`.
bool WriteAll(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    (void)::poll(&p, 1, static_cast<int>(std::min<long long>(left, 100)));
  }
  return true;
}

int MillisUntil(Clock::time_point t) {
  const auto left = std::chrono::duration_cast<Millis>(t - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1000));
}

// The lines read from the status pipe.
struct StatusLines {
  std::string pending;
  // The next whole line, if any.
  std::optional<std::string> next() {
    const std::size_t nl = pending.find('\n');
    if (nl == std::string::npos) return std::nullopt;
    std::string line = pending.substr(0, nl);
    pending.erase(0, nl + 1);
    return line;
  }
  void read(int fd) {
    char buf[256];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) pending.append(buf, static_cast<std::size_t>(n));
  }
};

std::optional<int> ExitStatus(const std::string& line) {
  int code = 0;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), code);
  if (ec != std::errc() || end != line.data() + line.size()) return std::nullopt;
  return code;
}

}  // namespace

std::optional<std::vector<std::string>> LiteralWords(std::string_view command) {
  std::vector<std::string> words;
  std::size_t i = 0;
  const std::size_t n = command.size();
  while (i < n) {
    if (command[i] == ' ') {
      ++i;
      continue;
    }
    std::string word;
    while (i < n && command[i] != ' ') {
      const char c = command[i];
      if (Plain(c)) {
        word += c;
        ++i;
      } else if (c == '\'') {
        const std::size_t close = command.find('\'', i + 1);
        if (close == std::string_view::npos) return std::nullopt;
        word.append(command.substr(i + 1, close - i - 1));
        i = close + 1;
      } else if (c == '"') {
        const std::size_t close = command.find('"', i + 1);
        if (close == std::string_view::npos) return std::nullopt;
        const std::string_view inside = command.substr(i + 1, close - i - 1);
        if (inside.find_first_of("$`\\!") != std::string_view::npos) return std::nullopt;
        word.append(inside);
        i = close + 1;
      } else if (c == '\\' && i + 1 < n && command[i + 1] != '\n') {
        word += command[i + 1];
        i += 2;
      } else {
        return std::nullopt;
      }
    }
    words.push_back(std::move(word));
  }
  return words;
}

std::string EnsureDirectFifo(const PipeDirectory& dir) {
  if (dir.host_path.empty()) return "";
  const fs::path path = dir.host_path / kDirectFifo;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISFIFO(st.st_mode)) {
    std::error_code ec;
    fs::remove(path, ec);
  }
  if (::lstat(path.c_str(), &st) != 0 && !MakeNamedPipe(path, dir.pipe_mode, dir.pipe_owner).ok() &&
      ::lstat(path.c_str(), &st) != 0) {
    return "";
  }
  return dir.sandbox_path + "/" + std::string(kDirectFifo);
}

bool DirectServerListens(const PipeDirectory& dir) {
  const fs::path path = dir.host_path / kDirectFifo;
  const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;  // ENXIO: nobody reads it
  ::close(fd);
  return true;
}

DirectCall CallDirect(const PipeDirectory& dir, const std::vector<std::string>& argv,
                      const std::string& cwd, std::string_view declared, const ExecOptions& exec,
                      bool separate_stderr) {
  DirectCall call;
  const auto started = Clock::now();
  const auto deadline = started + exec.timeout;
  const std::string tag = RandomHex(8);
  CallPipes pipes;
  Reader out(dir.head_bytes, dir.tail_bytes), err(dir.head_bytes, dir.tail_bytes);
  // The status pipe is read with a write end of our own: its end of stream
  // would tell nothing (the server's check that the call's client is there
  // opens and closes it too), so the server's death is checked instead.
  const int status_fd = pipes.make(dir, "c-" + tag + ".st", O_RDWR);
  out.fd = pipes.make(dir, "c-" + tag + ".out", O_RDONLY);
  err.fd = separate_stderr ? pipes.make(dir, "c-" + tag + ".err", O_RDONLY) : -2;
  if (status_fd < 0 || out.fd < 0 || err.fd == -1) return call;
  out.open = true;
  err.open = separate_stderr;

  // Written with a reader of our own (O_RDWR): a server that dies meanwhile
  // cannot make the write raise SIGPIPE. A call nobody takes is then
  // answered by nobody, and the request goes with the pipe.
  if (!DirectServerListens(dir)) return call;
  const int req =
      ::open((dir.host_path / kDirectFifo).c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (req < 0) return call;
  static thread_local std::mt19937_64 random{std::random_device{}()};
  const std::string id = "0." + std::to_string(random() % 1'000'000'000'000ULL);
  std::string request = id + " 0 c-" + tag + ".st c-" + tag + ".out " +
                        (separate_stderr ? "c-" + tag + ".err" : "-") + " " +
                        std::to_string(argv.size()) + "\n";
  for (const std::string& a : argv) request.append(a).push_back('\0');
  request.append(cwd).push_back('\0');
  request.append(declared).push_back('\0');
  const bool sent = WriteAll(req, request, started + kAnswerTimeout);
  ::close(req);
  if (!sent) {
    call.outcome = DirectCall::Outcome::kStuck;
    return call;
  }

  // The server answers "ok" (it runs the call; its status follows) or
  // something else (not taken), within kAnswerTimeout. Its death ends the
  // wait, checked every kServerCheck: before "ok", the call was not taken;
  // after, it ends with 137, as the client function takes it.
  StatusLines status;
  bool running = false, timed_out = false;
  std::optional<int> code;
  auto next_check = Clock::now() + kServerCheck;
  for (;;) {
    if (auto line = status.next()) {
      if (running) {
        code = ExitStatus(*line).value_or(1);
        break;
      }
      if (*line != "ok") return call;
      running = true;
      continue;
    }
    const auto now = Clock::now();
    if (!running && now >= started + kAnswerTimeout) {
      call.outcome = DirectCall::Outcome::kStuck;
      return call;
    }
    if (running && now >= deadline) {
      timed_out = true;
      break;
    }
    if (now >= next_check) {
      next_check = now + kServerCheck;
      if (!DirectServerListens(dir)) {
        status.read(status_fd);  // a status written just before
        if (status.pending.find('\n') != std::string::npos) continue;
        if (!running) return call;
        code = 137;
        break;
      }
    }
    std::array<pollfd, 3> p{pollfd{out.open ? out.fd : -1, POLLIN, 0},
                            pollfd{err.open ? err.fd : -1, POLLIN, 0},
                            pollfd{status_fd, POLLIN, 0}};
    (void)::poll(p.data(), p.size(),
                 MillisUntil(std::min(running ? deadline : started + kAnswerTimeout, next_check)));
    if (p[0].revents != 0) out.drain();
    if (p[1].revents != 0) err.drain();
    if (p[2].revents != 0) status.read(status_fd);
  }
  if (timed_out) {
    // The server kills the call's process group once its status pipe has no
    // reader; the output pipes close when the group is gone.
    pipes.close_fd(status_fd);
    const auto kill_deadline = Clock::now() + kKillGrace;
    while ((out.open || err.open) && Clock::now() < kill_deadline) {
      std::array<pollfd, 2> p{pollfd{out.open ? out.fd : -1, POLLIN, 0},
                              pollfd{err.open ? err.fd : -1, POLLIN, 0}};
      (void)::poll(p.data(), p.size(), MillisUntil(kill_deadline));
      if (p[0].revents != 0) out.drain();
      if (p[1].revents != 0) err.drain();
    }
    code = 137;
  } else {
    // What the tool wrote before its status (its writers opened the pipes
    // before the "ok", so an empty pipe now is empty, not unopened).
    out.drain();
    if (err.open) err.drain();
  }
  call.outcome = DirectCall::Outcome::kDone;
  ExecResult& r = call.result.result;
  r.exit_code = *code;
  r.timed_out = timed_out;
  r.output = out.out.str();
  r.truncated_bytes = out.out.dropped();
  r.duration = std::chrono::duration_cast<Millis>(Clock::now() - started);
  if (separate_stderr) call.result.stderr_output = err.out.str();
  call.result.path = ToolPath::kServed;
  call.result.direct = true;
  return call;
}

}  // namespace r2e::internal
