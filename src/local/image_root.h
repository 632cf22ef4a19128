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

#include <sys/types.h>

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

// `cp -a --reflink=auto FROM TO`: modes, times, ownership (as root), xattrs,
// symlinks, hard links and special files kept.
Status CopyPreserving(const std::filesystem::path& from, const std::filesystem::path& to);

// Whether this process can mount an overlayfs in a new mount namespace here
// (probed once, with `unshare`).
bool OverlayAvailable();

// Makes the overlay's directories in `workdir` (upper/, work/, merged/) and
// writes the sandbox's /etc/hosts, /etc/hostname and /etc/resolv.conf (the
// host's, when `network`) into its upper layer (an etc/ like `rootfs`'s), as a
// container engine does.
Status PrepareOverlay(const std::filesystem::path& rootfs, const std::filesystem::path& workdir, bool network);

// Creates the directories of `rel` (a relative path) in the overlay's upper
// layer workdir/upper that it lacks, each with the owner and mode the image's
// directory of that path has (as an overlay's copy-up would): a directory
// made there otherwise hides the image's owner and mode, e.g. a /testbed that
// the image gives to its non-root user.
Status MakeUpperDirs(const std::filesystem::path& rootfs, const std::filesystem::path& workdir,
                     const std::filesystem::path& rel);

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

// Opens `rel` below the directory `root_fd` with every symlink resolved
// inside that directory (openat2 RESOLVE_IN_ROOT), so that a link in an image
// or one the agent planted cannot make the host touch a file outside it.
// The descriptor (O_CLOEXEC), or -1 with errno set.
int OpenInRoot(int root_fd, const std::filesystem::path& rel, int flags, mode_t mode);

// The user an image's processes run as: its User resolved against the
// image's own /etc/passwd and /etc/group, as Docker (runc) does. A name must
// be in passwd; a number need not be (then gid 0 and home "/"). The
// groups are the primary one, then (when User names no group) those that
// list the user's name, as Docker sets them.
struct ImageUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::string home = "/root";
};
// InvalidArgument naming what is missing when User names a user or group
// the image does not have, or is not of the form USER[:GROUP].
Result<ImageUser> ResolveImageUser(const std::filesystem::path& rootfs, const std::string& user);

// The environment of the sandbox's processes: the image's Env, HOME (the
// user's home) and a PATH unless the image sets them (as Docker does).
std::vector<std::string> ImageProcessEnv(const ImageInfo& image, const ImageUser& user);

}  // namespace r2e::internal

#endif  // R2E_LOCAL_IMAGE_ROOT_H_
