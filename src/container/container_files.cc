#include "container/container_files.h"

#include <system_error>

#include "archive/tar.h"
#include "core/text.h"

namespace r2e::container {
namespace fs = std::filesystem;

std::string WithoutTrailingSlash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string Dirname(const std::string& path) {
  std::string d = fs::path(path).parent_path().string();
  return d.empty() ? "/" : d;
}

Status Upload(const fs::path& host_path, const std::string& sandbox_path, const PutTar& put) {
  const std::string target = WithoutTrailingSlash(sandbox_path);
  const std::string base = fs::path(target).filename().string();
  R2E_ASSIGN_OR_RETURN(std::string tar, archive::TarPath(host_path, base));
  return put(Dirname(target), tar).WithContext("copying " + host_path.string() + " to " + sandbox_path);
}

Status Download(const std::string& sandbox_path, const fs::path& host_path, const GetTar& get) {
  R2E_ASSIGN_OR_RETURN(std::string tar, get(sandbox_path));
  fs::path staging = host_path.parent_path() / (".r2e-download-" + internal::RandomHex(4));
  if (host_path.parent_path().empty()) staging = fs::path(".r2e-download-" + internal::RandomHex(4));
  Status s = archive::Untar(tar, staging);
  std::error_code ec;
  if (s.ok()) {
    fs::path inner = staging / fs::path(WithoutTrailingSlash(sandbox_path)).filename();
    fs::remove_all(host_path, ec);
    fs::rename(inner, host_path, ec);
    if (ec) s = Status::Internal("moving the download into place: " + ec.message());
  }
  fs::remove_all(staging, ec);
  return s.WithContext("copying " + sandbox_path + " out of the sandbox");
}

Result<std::string> ReadFile(const std::string& sandbox_path, const GetTar& get) {
  R2E_ASSIGN_OR_RETURN(std::string tar, get(sandbox_path));
  return archive::FirstFileContent(tar);
}

Status WriteFile(const std::string& sandbox_path, std::string_view content, int mode, const PutTar& put) {
  const std::string base = fs::path(sandbox_path).filename().string();
  if (base.empty()) return Status::InvalidArgument("write_file needs a file path, got " + sandbox_path);
  R2E_ASSIGN_OR_RETURN(std::string tar, archive::TarFile(base, content, mode));
  return put(Dirname(sandbox_path), tar).WithContext("writing " + sandbox_path);
}

}  // namespace r2e::container
