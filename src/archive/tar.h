// Tar archives for copying files into and out of sandboxes (Docker's archive
// endpoints, Kubernetes exec of tar), built and read with libarchive.
// Reading checks every entry so an archive cannot write outside its target.
#ifndef R2E_ARCHIVE_TAR_H_
#define R2E_ARCHIVE_TAR_H_

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r2e/status.h"

namespace r2e::archive {

// A tar (in memory) holding `host_path` (file or directory, recursively;
// symlinks stored as links) under the name `name_in_archive`.
Result<std::string> TarPath(const std::filesystem::path& host_path, const std::string& name_in_archive);

// A tar holding one regular file.
Result<std::string> TarFile(const std::string& name, std::string_view content, int mode = 0644);

// Extracts into `dest_dir` (created). Refuses (InvalidArgument) absolute
// names, ".." components, hard links and symlinks that point outside, and
// device nodes; nothing is written outside dest_dir.
Status Untar(std::string_view tar, const std::filesystem::path& dest_dir);

// The content of the first regular file in the archive (NotFound if none).
Result<std::string> FirstFileContent(std::string_view tar);

// Every regular file of the archive (hard links skipped), in order: its name
// as stored (not checked: the caller decides what a name may be) and content.
Result<std::vector<std::pair<std::string, std::string>>> RegularFiles(std::string_view tar);

// A member name split into components, "" and "." dropped ("./a//b" gives
// {"a", "b"}); ".." is kept for the caller to refuse.
std::vector<std::string> PathComponents(std::string_view path);
// The first `count` components joined with '/'.
std::string JoinComponents(const std::vector<std::string>& parts, std::size_t count);

}  // namespace r2e::archive

#endif  // R2E_ARCHIVE_TAR_H_
