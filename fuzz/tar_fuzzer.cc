// Archives that come back from a sandbox (Docker's archive endpoint, a tar
// stream from a pod) are agent-controlled, and image layers come from
// anywhere. Invariant: extraction writes nothing outside its destination
// directory, and neither does applying the input as an image layer twice
// (the second time over what the first wrote: whiteouts, links, replaced
// directories; with files shared through a store, whose entries stay
// regular files).
#include <filesystem>

#include "archive/tar.h"
#include "image/layer.h"
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
  const fs::path layer_root = root / "layer";
  fs::create_directories(layer_root);
  const r2e::image::UnpackLimits limits{1 << 20, 1000};
  r2e::image::UnpackTally tally;
  r2e::image::SharedFiles shared{root / "files", root / "scratch", {}};
  for (int pass = 0; pass < 2; ++pass) {
    r2e::image::StringBlobReader blob(tar);
    (void)r2e::image::ApplyLayer(blob, layer_root, limits, tally, pass == 1 ? &shared : nullptr);
  }
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const fs::path name = e.path().filename();
    R2E_FUZZ_CHECK(name == "dest" || name == "layer" || name == "files" || name == "scratch");
  }
  for (auto it = fs::recursive_directory_iterator(root / "files", ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    R2E_FUZZ_CHECK(it->is_directory() ? it.depth() == 0 : it->is_regular_file() && !it->is_symlink());
  }
  std::size_t scratch_entries = 0;
  for (const auto& e : fs::directory_iterator(r2e::fuzz::ScratchDir(), ec)) {
    ++scratch_entries;
    R2E_FUZZ_CHECK(e.path().filename() == "tar");
  }
  R2E_FUZZ_CHECK(scratch_entries == 1);
  (void)r2e::image::RemoveTree(root);  // layers may leave read-only directories
  return 0;
}
