// The local runtime on an image (LocalRuntimeOptions::image): the sandbox's
// root is the image's unpacked root filesystem, shared read-only by every
// sandbox of the image, under a private writable layer:
//   - overlay: an overlayfs over the image's root with the sandbox's own
//     upper directory, mounted in a private mount namespace (unshare) that
//     dies with the sandbox, so nothing stays mounted on the host. The whole
//     root is writable, as in a container. Needs root, or a kernel that
//     allows overlayfs in a user namespace (5.11+).
//   - copy: a private copy of only the image's /testbed, /root, /tmp, /run,
//     /var/tmp and /etc, made at start; writes elsewhere fail.
#ifndef R2E_LOCAL_IMAGE_ROOT_H_
#define R2E_LOCAL_IMAGE_ROOT_H_

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r2e/image_store.h"
#include "r2e/status.h"

namespace r2e::internal {

// The sandbox paths a sandbox of an image writes, and the directory of the
// working directory that backs each ("var/tmp" is kept as "var-tmp").
struct WritablePath {
  std::string_view sandbox;  // without the leading '/'
  std::string_view backing;
};
inline constexpr WritablePath kImageWritablePaths[] = {
    {"testbed", "testbed"}, {"root", "root"}, {"tmp", "tmp"},
    {"run", "run"},         {"etc", "etc"},   {"var/tmp", "var-tmp"}};

// Whether this process can mount an overlayfs in a new mount namespace here
// (probed once, with `unshare`).
bool OverlayAvailable();

// Makes the overlay's directories in `workdir` (upper/, work/, merged/) and
// writes the sandbox's /etc/hosts, /etc/hostname and /etc/resolv.conf (the
// host's, when `network`) into its upper layer, as a container engine does.
Status PrepareOverlay(const std::filesystem::path& workdir, bool network);

// The command line that mounts the overlay of `rootfs` under `workdir`'s
// upper layer at workdir/merged in a new mount namespace, then runs `argv`
// there (bubblewrap, which binds workdir/merged as its root).
std::vector<std::string> OverlayLauncher(const std::filesystem::path& rootfs, const std::filesystem::path& workdir,
                                         const std::vector<std::string>& argv);
// bubblewrap arguments for that root: workdir/merged at /, /proc and /dev new.
std::vector<std::string> OverlayRootArgs(const std::filesystem::path& workdir);

// Copies the writable paths the image has from `rootfs` into `workdir`
// (creating the others empty), then writes the sandbox's /etc/hosts,
// /etc/hostname and /etc/resolv.conf (the host's, when `network`), as a
// container engine does.
Status SeedImageSandbox(const std::filesystem::path& rootfs, const std::filesystem::path& workdir, bool network);

// bubblewrap arguments that make `rootfs` the sandbox's root, read-only, with
// the writable paths bound from `workdir` over it, /proc and /dev new.
std::vector<std::string> ImageRootArgs(const std::filesystem::path& rootfs, const std::filesystem::path& workdir);

// The environment of the sandbox's processes: the image's Env, HOME=/root
// and a PATH unless the image sets them (as Docker does).
std::vector<std::string> ImageProcessEnv(const ImageInfo& image);

// InvalidArgument unless the image runs as root (User "", "root", "0",
// "0:0"): the local runtime does not switch users yet.
Status CheckImageUser(const ImageInfo& image);

}  // namespace r2e::internal

#endif  // R2E_LOCAL_IMAGE_ROOT_H_
