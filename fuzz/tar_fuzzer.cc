// Archives that come back from a sandbox (Docker's archive endpoint, a tar
// stream from a pod) are agent-controlled. Invariant: extraction writes
// nothing outside its destination directory.
#include <filesystem>

#include "archive/tar.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  const std::string_view tar = r2e::fuzz::AsView(data, size);
  (void)r2e::archive::FirstFileContent(tar);

  // root/ holds only dest/ before; after extraction it must still hold only
  // dest/ (an escape via "..", an absolute name or a symlink would add to it
  // or to its parent).
  const fs::path root = r2e::fuzz::ScratchDir() / "tar";
  const fs::path dest = root / "dest";
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::create_directories(dest);
  (void)r2e::archive::Untar(tar, dest);
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    ++entries;
    R2E_FUZZ_CHECK(e.path().filename() == "dest");
  }
  R2E_FUZZ_CHECK(entries == 1);
  std::size_t scratch_entries = 0;
  for (const auto& e : fs::directory_iterator(r2e::fuzz::ScratchDir(), ec)) {
    ++scratch_entries;
    R2E_FUZZ_CHECK(e.path().filename() == "tar");
  }
  R2E_FUZZ_CHECK(scratch_entries == 1);
  fs::remove_all(root, ec);
  return 0;
}
