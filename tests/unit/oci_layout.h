// Test helpers: image layers written with libarchive and OCI image layouts
// holding them (ImageStore and registry tests).
#ifndef R2E_TESTS_UNIT_OCI_LAYOUT_H_
#define R2E_TESTS_UNIT_OCI_LAYOUT_H_

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "image/digest.h"
#include "image/image_source.h"

namespace r2e::testing_oci {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// One member of a layer.
struct Member {
  std::string name;
  mode_t type = AE_IFREG;
  std::string content;  // regular files
  std::string link;     // symlink target or hard link target
  bool hardlink = false;
  int mode = 0644;
};

inline Member File(std::string name, std::string content, int mode = 0644) {
  return {std::move(name), AE_IFREG, std::move(content), "", false, mode};
}
inline Member Dir(std::string name, int mode = 0755) { return {std::move(name), AE_IFDIR, "", "", false, mode}; }
inline Member Symlink(std::string name, std::string target) { return {std::move(name), AE_IFLNK, "", std::move(target), false, 0777}; }
inline Member Hardlink(std::string name, std::string target) { return {std::move(name), AE_IFREG, "", std::move(target), true, 0644}; }

inline la_ssize_t Append(struct archive*, void* out, const void* data, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), n);
  return static_cast<la_ssize_t>(n);
}

inline std::string Layer(const std::vector<Member>& members, bool gzip = false) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, Append, nullptr);
  for (const Member& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_filetype(e, m.type);
    archive_entry_set_perm(e, static_cast<mode_t>(m.mode));
    archive_entry_set_mtime(e, 1700000000, 0);
    if (m.type == AE_IFLNK) archive_entry_set_symlink(e, m.link.c_str());
    if (m.hardlink) archive_entry_set_hardlink(e, m.link.c_str());
    if (m.type == AE_IFCHR) archive_entry_set_rdev(e, makedev(1, 3));
    archive_entry_set_size(e, m.type == AE_IFREG && !m.hardlink ? static_cast<la_int64_t>(m.content.size()) : 0);
    archive_write_header(a, e);
    if (!m.content.empty()) archive_write_data(a, m.content.data(), m.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

inline std::string WriteBlob(const fs::path& layout, const std::string& data) {
  const std::string digest = image::DigestOf(data);
  fs::create_directories(layout / "blobs" / "sha256");
  std::ofstream(layout / "blobs" / "sha256" / std::string(image::DigestHex(digest)), std::ios::binary) << data;
  return digest;
}

// An OCI layout at `layout` holding one image of `layers` tagged "v1";
// `claimed` replaces a layer's digest in the manifest when non-empty.
// Returns the reference "oci:LAYOUT:v1".
inline std::string WriteLayout(const fs::path& layout, const std::vector<std::string>& layers,
                             const std::string& arch = image::HostArchitecture(), const std::string& claimed = "") {
  fs::create_directories(layout);
  Json diff_ids = Json::array(), layer_descriptors = Json::array();
  for (const std::string& layer : layers) {
    const std::string digest = WriteBlob(layout, layer);
    diff_ids.push_back(digest);  // (the test layers' diff IDs are not checked by the OCI source)
    layer_descriptors.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                                 {"digest", claimed.empty() ? digest : claimed},
                                 {"size", layer.size()}});
  }
  const Json config = {{"architecture", arch},
                       {"os", "linux"},
                       {"config", {{"Env", {"PATH=/usr/bin:/bin", "GREETING=hello=world"}}, {"WorkingDir", "/testbed"}}},
                       {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  const std::string config_text = config.dump();
  const Json manifest = {{"schemaVersion", 2},
                         {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                         {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                     {"digest", WriteBlob(layout, config_text)},
                                     {"size", config_text.size()}}},
                         {"layers", layer_descriptors}};
  const std::string manifest_text = manifest.dump();
  const Json index = {{"schemaVersion", 2},
                      {"manifests", {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                      {"digest", WriteBlob(layout, manifest_text)},
                                      {"size", manifest_text.size()},
                                      {"annotations", {{"org.opencontainers.image.ref.name", "v1"}}}}}}};
  std::ofstream(layout / "index.json") << index.dump();
  std::ofstream(layout / "oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
  return "oci:" + layout.string() + ":v1";
}

}  // namespace r2e::testing_oci

#endif  // R2E_TESTS_UNIT_OCI_LAYOUT_H_
