#include "image/digest.h"

#include <openssl/evp.h>

#include <fstream>

namespace r2e::image {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(const void* data, std::size_t size) {
  if (size > 0) EVP_DigestUpdate(impl_->ctx, data, size);
}

std::string Sha256::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(impl_->ctx, out, &n);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string digest = "sha256:";
  for (unsigned int i = 0; i < n; ++i) {
    digest += kHex[out[i] >> 4];
    digest += kHex[out[i] & 15];
  }
  return digest;
}

std::string DigestOf(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

Result<std::string> DigestOfFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path.string());
  Sha256 h;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    h.Update(buf, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return Status::Internal("reading " + path.string() + " failed");
  return h.Finish();
}

bool IsSha256Digest(std::string_view digest) {
  if (!digest.starts_with("sha256:") || digest.size() != 7 + 64) return false;
  for (char c : digest.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string_view DigestHex(std::string_view digest) { return digest.substr(7); }

}  // namespace r2e::image
