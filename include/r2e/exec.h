// ExecOptions and ExecResult: one command run in a sandbox, and its outcome.
#ifndef R2E_EXEC_H_
#define R2E_EXEC_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace r2e {

struct ExecOptions {
  // Wall-clock limit for the whole command, including every process it
  // starts. When it passes, the command's process group is killed and the
  // partial output is returned with timed_out set. Must be positive.
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};

  // Working directory inside the sandbox; empty means the session default
  // (/testbed).
  std::string workdir;

  // Extra environment variables, applied over the command environment (the
  // image's variables, PATH and the session's; see ShellSessionOptions).
  std::vector<std::pair<std::string, std::string>> env;

  // Bytes the output bound keeps at the end beyond the session's tail bound
  // (ShellSessionOptions::tail_bytes), for a trailer the caller takes off
  // again (a served tool call's path line), so that the command's own tail is
  // kept whole and truncated_bytes counts only its bytes. 0 for commands.
  std::size_t trailer_bytes = 0;
};

struct ExecResult {
  // The command's exit status; 128+N when killed by signal N (137 on a
  // timeout kill); -1 when no status could be obtained (the sandbox died).
  int exit_code = -1;

  // stdout and stderr merged, in order, as raw bytes (not necessarily UTF-8).
  // When the command printed more than the session's output bound, this holds
  // the head and the tail joined by a one-line note, and truncated_bytes says
  // how many bytes were left out.
  std::string output;

  bool timed_out = false;
  std::uint64_t truncated_bytes = 0;

  // Time from sending the command to receiving its end marker.
  std::chrono::milliseconds duration{0};

  bool success() const { return exit_code == 0 && !timed_out; }
};

}  // namespace r2e

#endif  // R2E_EXEC_H_
