// Where an image comes from, behind one small interface: a `docker save`
// archive, an OCI image layout directory, (later) a registry. A source
// resolves a reference to the image's config and the layers to apply, and
// streams each layer; the ImageStore does the rest (verify, unpack, cache).
#ifndef R2E_IMAGE_IMAGE_SOURCE_H_
#define R2E_IMAGE_IMAGE_SOURCE_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "image/layer.h"
#include "r2e/status.h"

namespace r2e::image {

// What a container runtime takes from an image's config blob.
struct ImageConfig {
  std::vector<std::pair<std::string, std::string>> env;  // Env, in order
  std::string working_dir;                               // WorkingDir ("" : /)
  std::string user;                                      // User ("" : root)
  std::string os, architecture;
  std::vector<std::string> diff_ids;  // rootfs.diff_ids: digests of the uncompressed layers
};

// InvalidArgument naming what is wrong with a config blob.
Result<ImageConfig> ParseImageConfig(std::string_view json);

struct ResolvedImage {
  std::string config_json;    // the config blob, verified against config_digest
  std::string config_digest;  // the image's ID
  ImageConfig config;
  // Per layer, bottom first: the digest of the bytes OpenLayer(i) gives.
  std::vector<std::string> layer_digests;
  std::vector<std::uint64_t> layer_sizes;  // bytes, where the source knows (else 0)
};

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // The reference as given, e.g. "docker-archive:/tmp/demo.tar".
  virtual std::string reference() const = 0;
  // Reads the manifest and config (small; no layer is read).
  virtual Result<ResolvedImage> Resolve() = 0;
  // The bytes of layer `index` of what Resolve() returned.
  virtual Result<std::unique_ptr<BlobReader>> OpenLayer(std::size_t index) = 0;
  // Where a source may write what it downloads (set before OpenLayer; the
  // store removes it with the unpack's other leftovers).
  virtual void set_scratch_dir(const std::filesystem::path& dir) { (void)dir; }
};

// The kinds of reference a store takes.
enum class ReferenceKind { kDockerArchive, kOciLayout, kRegistry };

struct ParsedReference {
  ReferenceKind kind = ReferenceKind::kRegistry;
  std::filesystem::path path;  // archives: the file or directory
  std::string name;            // docker-archive: "repo:tag" inside it; oci: the tag; registry: the whole reference
};

// "docker-archive:PATH[:REPO:TAG]", "oci:PATH[:TAG]", anything else a
// registry reference. InvalidArgument for an empty path.
Result<ParsedReference> ParseReference(const std::string& reference);

// A `docker save` archive (either layout Docker writes; plain or compressed).
Result<std::unique_ptr<ImageSource>> OpenDockerArchive(const ParsedReference& ref, const std::string& reference);
// An OCI image layout directory (index.json, blobs/); an image index in it
// is resolved to this machine's platform.
Result<std::unique_ptr<ImageSource>> OpenOciLayout(const ParsedReference& ref, const std::string& reference);

// This machine's architecture in OCI's words ("amd64", "arm64", ...).
std::string HostArchitecture();

// Whether a media type is an image index (OCI) or manifest list (Docker).
bool IsImageIndex(std::string_view media_type);

// Of an image index (JSON text), the descriptor (JSON text) of the manifest
// for linux on this machine's architecture; NotFound listing the platforms
// it has otherwise.
Result<std::string> PickPlatform(std::string_view index_json);

// Of an image manifest (JSON text): its config's digest and its layers'
// digests and sizes, checked (InvalidArgument naming what is wrong;
// Docker schema 1 manifests are refused as such).
struct ManifestContents {
  std::string config_digest;
  std::vector<std::string> layer_digests;
  std::vector<std::uint64_t> layer_sizes;
};
Result<ManifestContents> ParseManifest(std::string_view manifest_json);

}  // namespace r2e::image

#endif  // R2E_IMAGE_IMAGE_SOURCE_H_
