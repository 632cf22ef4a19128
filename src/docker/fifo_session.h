// The fast path for a Docker sandbox's shell session: the session loop's
// stdin and stdout are two named pipes in a host directory that is
// bind-mounted (read-only) into the container, so commands and output pass
// through the kernel and not through the daemon's stream relay (which costs
// about a third of a millisecond per step). Needs a daemon on this machine
// that sees the same files; DockerRuntime falls back to the hijacked exec
// when this does not work.
#ifndef R2E_DOCKER_FIFO_SESSION_H_
#define R2E_DOCKER_FIFO_SESSION_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "r2e/session.h"
#include "r2e/status.h"

namespace r2e::docker {

class DockerClient;

// Where the pipes appear inside the container.
inline constexpr const char* kFifoSandboxDir = "/run/r2e-session";

// The directory for sandbox sessions under $XDG_RUNTIME_DIR/r2e-sessions, else
// /tmp/r2e-sessions-<uid>.
std::filesystem::path DefaultFifoRoot();

// Creates `dir` (and its parent) for one container, readable by the
// container's user: 0700 when it runs as root, else 0711 with pipes 0666.
Status MakeFifoDir(const std::filesystem::path& dir);

// The user to give pipes made for `client`'s containers to, or -1: the
// owner of a rootless daemon's socket when this process is root.
long PipeOwner(const DockerClient& client);

// Starts `argv` in the container with stdin and stdout on fresh pipes in
// `host_dir` (seen as kFifoSandboxDir inside), waits until it writes its
// first byte, and returns the stream. The pipe names are unlinked once both
// ends are open. Fails (and leaves nothing running) when the process exits
// first, e.g. because the container does not see the pipes.
Result<std::unique_ptr<ByteStream>> OpenFifoSession(DockerClient& client, const std::string& container,
                                                    const std::filesystem::path& host_dir,
                                                    const std::vector<std::string>& argv,
                                                    const std::vector<std::string>& env,
                                                    const std::string& workdir, bool world_accessible,
                                                    std::chrono::milliseconds timeout);

}  // namespace r2e::docker

#endif  // R2E_DOCKER_FIFO_SESSION_H_
