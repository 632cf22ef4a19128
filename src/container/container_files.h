// File transfer of the container runtimes (Docker, Kubernetes) over tar
// archives, written once: a backend says how an archive goes into a
// directory of its sandbox and how one comes out; upload, download,
// read_file and write_file are built on those two moves.
#ifndef R2E_CONTAINER_CONTAINER_FILES_H_
#define R2E_CONTAINER_CONTAINER_FILES_H_

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "r2e/status.h"

namespace r2e::container {

// Extracts the archive `tar` into the sandbox directory `dir`, creating the
// directory when it is missing.
using PutTar = std::function<Status(const std::string& dir, const std::string& tar)>;
// A tar archive of the sandbox file or directory `path`, its entries named
// from the path's last component; NotFound when there is no such path.
using GetTar = std::function<Result<std::string>(const std::string& path)>;

// `path` without trailing slashes ("/" stays "/").
std::string WithoutTrailingSlash(std::string path);

// The directory part of a sandbox path: "/" for "/x" and for "x".
std::string Dirname(const std::string& path);

// Copies the host file or directory to `sandbox_path` (created or replaced).
Status Upload(const std::filesystem::path& host_path, const std::string& sandbox_path, const PutTar& put);

// Copies the sandbox file or directory to `host_path` (replaced), through a
// staging directory next to it so a failed copy leaves host_path as it was.
Status Download(const std::string& sandbox_path, const std::filesystem::path& host_path, const GetTar& get);

// A whole sandbox file.
Result<std::string> ReadFile(const std::string& sandbox_path, const GetTar& get);

// Writes a whole sandbox file with `mode`, creating its parent directories.
Status WriteFile(const std::string& sandbox_path, std::string_view content, int mode, const PutTar& put);

}  // namespace r2e::container

#endif  // R2E_CONTAINER_CONTAINER_FILES_H_
