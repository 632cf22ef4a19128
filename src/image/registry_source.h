// Images from a registry over the OCI distribution / Docker registry v2 API:
// manifests (an image index or manifest list resolved to this machine's
// platform; OCI and Docker schema 2 manifests), bearer tokens from the
// registry's challenge or basic credentials (options or ~/.docker/config.json),
// TLS verified (plain HTTP only for loopback or an insecure registry the
// options name), retries with backoff that honour 429 and Retry-After, and
// redirects to storage followed without credentials. Built with cpp-httplib
// (R2E_WITH_REGISTRY).
#ifndef R2E_IMAGE_REGISTRY_SOURCE_H_
#define R2E_IMAGE_REGISTRY_SOURCE_H_

#include <filesystem>
#include <memory>
#include <string>

#include "image/image_source.h"
#include "r2e/image_store.h"

namespace r2e::image {

struct RegistryReference {
  std::string host;    // "registry-1.docker.io", "127.0.0.1:5000"
  std::string name;    // "library/ubuntu"
  std::string tag;     // "latest" unless a digest alone was given
  std::string digest;  // "@sha256:..." part, if any
  // The reference written out in full ("HOST/NAME:TAG" or "HOST/NAME@DIGEST").
  std::string Canonical() const;
};

// "ubuntu" is "registry-1.docker.io/library/ubuntu:latest", as Docker reads
// it. InvalidArgument for a malformed reference.
Result<RegistryReference> ParseRegistryReference(const std::string& reference);

// A source for `reference`; layers are downloaded into its scratch
// directory (each file unlinked as soon as it is open).
Result<std::unique_ptr<ImageSource>> OpenRegistry(const std::string& reference, const RegistryOptions& options);

}  // namespace r2e::image

#endif  // R2E_IMAGE_REGISTRY_SOURCE_H_
