// Named pipes made on this machine for a sandbox to open (the Docker
// session's pipes, r2e's direct tool calls).
#ifndef R2E_CORE_NAMED_PIPE_H_
#define R2E_CORE_NAMED_PIPE_H_

#include <filesystem>

#include "r2e/status.h"

namespace r2e::internal {

// Makes the pipe `path` with exactly `mode` (whatever the umask) and, when
// `owner` >= 0, gives it to that user. Fails when `path` exists.
Status MakeNamedPipe(const std::filesystem::path& path, unsigned mode, long owner = -1);

}  // namespace r2e::internal

#endif  // R2E_CORE_NAMED_PIPE_H_
