#include "core/named_pipe.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/text.h"

namespace r2e::internal {

Status MakeNamedPipe(const std::filesystem::path& path, unsigned mode, long owner) {
  const auto m = static_cast<mode_t>(mode);
  if (::mkfifo(path.c_str(), m) != 0 || ::chmod(path.c_str(), m) != 0 ||
      (owner >= 0 &&
       ::chown(path.c_str(), static_cast<uid_t>(owner), static_cast<gid_t>(-1)) != 0)) {
    return Status::Internal("creating pipe " + path.string() + ": " + ErrnoText(errno));
  }
  return Status::OK();
}

}  // namespace r2e::internal
