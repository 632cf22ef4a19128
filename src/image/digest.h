// Content digests of image blobs ("sha256:<64 hex>"), computed as the bytes
// stream past, with OpenSSL.
#ifndef R2E_IMAGE_DIGEST_H_
#define R2E_IMAGE_DIGEST_H_

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "r2e/status.h"

namespace r2e::image {

// A running SHA-256. Not thread-safe; movable.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(const void* data, std::size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // "sha256:" and 64 lowercase hex digits. Ends the computation.
  std::string Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The digest of a string or of a file's content.
std::string DigestOf(std::string_view data);
Result<std::string> DigestOfFile(const std::filesystem::path& path);

// Whether `digest` is "sha256:" and 64 lowercase hex digits (the only
// algorithm images use in practice; others are refused by name).
bool IsSha256Digest(std::string_view digest);

// The hex part of a sha256 digest (for file names); `digest` must be valid.
std::string_view DigestHex(std::string_view digest);

}  // namespace r2e::image

#endif  // R2E_IMAGE_DIGEST_H_
