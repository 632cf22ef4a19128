#include "image/image_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/utsname.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "image/digest.h"

namespace r2e::image {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

// Manifests and configs are small; a bigger "JSON" blob is refused, not read.
constexpr std::uint64_t kMaxJsonBlob = 8 << 20;

Result<Json> ParseJson(std::string_view text, const std::string& what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(what + " is not valid JSON");
  return j;
}

std::string StringField(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// ------------------------------------------------------------ docker-archive

struct ArchiveCloser {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveCloser>;

Result<ArchivePtr> OpenOuter(const fs::path& path) {
  ArchivePtr a(archive_read_new());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  archive_read_support_filter_all(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 18) != ARCHIVE_OK) {
    const char* why = archive_error_string(a.get());
    return Status::InvalidArgument("docker-archive " + path.string() + ": cannot read it as a tar archive: " +
                                   (why ? why : "unknown error"));
  }
  return a;
}

std::string CleanName(const char* name) {
  std::string s = name != nullptr ? name : "";
  while (s.starts_with("./")) s.erase(0, 2);
  return s;
}

// A member of an archive opened for it alone.
class OwnedMemberReader final : public BlobReader {
 public:
  explicit OwnedMemberReader(ArchivePtr outer) : outer_(std::move(outer)), member_(outer_.get()) {}
  Result<std::string_view> Read() override { return member_.Read(); }

 private:
  ArchivePtr outer_;
  ArchiveMemberReader member_;
};

// The hex digest a member's name carries ("<hex>.json", "blobs/sha256/<hex>"), if any.
std::string DigestInName(const std::string& name) {
  std::string base = fs::path(name).filename().string();
  if (base.ends_with(".json")) base.resize(base.size() - 5);
  const std::string digest = "sha256:" + base;
  return IsSha256Digest(digest) ? digest : std::string();
}

class DockerArchiveSource final : public ImageSource {
 public:
  DockerArchiveSource(ParsedReference ref, std::string reference)
      : ref_(std::move(ref)), reference_(std::move(reference)) {}
  std::string reference() const override { return reference_; }

  Result<ResolvedImage> Resolve() override {
    R2E_ASSIGN_OR_RETURN(ArchivePtr a, OpenOuter(ref_.path));
    std::map<std::string, std::string> small;  // members' content, for the JSON among them
    archive_entry* e = nullptr;
    for (;;) {
      const int rc = archive_read_next_header(a.get(), &e);
      if (rc == ARCHIVE_EOF) break;
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return Bad(a.get());
      const auto size = archive_entry_size(e);
      if (archive_entry_filetype(e) != AE_IFREG || size < 0 || static_cast<std::uint64_t>(size) > kMaxJsonBlob) {
        continue;  // libarchive skips the data on the next header
      }
      std::string content(static_cast<std::size_t>(size), '\0');
      if (size > 0 && archive_read_data(a.get(), content.data(), content.size()) != size) return Bad(a.get());
      small.emplace(CleanName(archive_entry_pathname(e)), std::move(content));
    }
    auto manifest_it = small.find("manifest.json");
    if (manifest_it == small.end()) {
      return Status::InvalidArgument("docker-archive " + ref_.path.string() +
                                     " has no manifest.json: is it what `docker save` writes?");
    }
    R2E_ASSIGN_OR_RETURN(Json manifest, ParseJson(manifest_it->second, "manifest.json of " + ref_.path.string()));
    R2E_ASSIGN_OR_RETURN(const Json* entry, PickEntry(manifest));
    const std::string config_name = StringField(*entry, "Config");
    auto config_it = small.find(config_name);
    if (config_it == small.end()) {
      return Status::InvalidArgument("docker-archive " + ref_.path.string() + ": its config \"" + config_name +
                                     "\" is missing");
    }
    ResolvedImage image;
    image.config_json = config_it->second;
    image.config_digest = DigestOf(image.config_json);
    if (const std::string named = DigestInName(config_name); !named.empty() && named != image.config_digest) {
      return Status::InvalidArgument("docker-archive " + ref_.path.string() + ": config \"" + config_name +
                                     "\" does not match its digest (corrupt archive)");
    }
    R2E_ASSIGN_OR_RETURN(image.config, ParseImageConfig(image.config_json));
    const Json layers = entry->value("Layers", Json::array());
    if (!layers.is_array() || layers.size() != image.config.diff_ids.size()) {
      return Status::InvalidArgument("docker-archive " + ref_.path.string() + ": " + std::to_string(layers.size()) +
                                     " layers listed but the config has " +
                                     std::to_string(image.config.diff_ids.size()) + " diff IDs");
    }
    layer_names_.clear();
    for (std::size_t i = 0; i < layers.size(); ++i) {
      if (!layers[i].is_string()) return Status::InvalidArgument("manifest.json: a layer name is not a string");
      layer_names_.push_back(CleanName(layers[i].get<std::string>().c_str()));
      // Docker's layers are the uncompressed tars: their digest is the diff ID.
      image.layer_digests.push_back(image.config.diff_ids[i]);
      image.layer_sizes.push_back(0);
    }
    return image;
  }

  Result<std::unique_ptr<BlobReader>> OpenLayer(std::size_t index) override {
    if (index >= layer_names_.size()) return Status::Internal("OpenLayer before Resolve");
    R2E_ASSIGN_OR_RETURN(ArchivePtr a, OpenOuter(ref_.path));
    archive_entry* e = nullptr;
    for (;;) {
      const int rc = archive_read_next_header(a.get(), &e);
      if (rc == ARCHIVE_EOF) break;
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return Bad(a.get());
      if (CleanName(archive_entry_pathname(e)) == layer_names_[index]) {
        return std::unique_ptr<BlobReader>(new OwnedMemberReader(std::move(a)));
      }
    }
    return Status::InvalidArgument("docker-archive " + ref_.path.string() + ": layer \"" + layer_names_[index] +
                                   "\" is listed but missing");
  }

 private:
  Status Bad(struct archive* a) const {
    const char* why = archive_error_string(a);
    return Status::InvalidArgument("docker-archive " + ref_.path.string() + " is unreadable (truncated?): " +
                                   (why ? why : "unknown error"));
  }

  Result<const Json*> PickEntry(const Json& manifest) const {
    if (!manifest.is_array() || manifest.empty()) {
      return Status::InvalidArgument("manifest.json of " + ref_.path.string() + " lists no image");
    }
    std::string wanted = ref_.name;
    if (!wanted.empty() && wanted.find(':', wanted.rfind('/') + 1) == std::string::npos) wanted += ":latest";
    std::string tags;
    for (const Json& entry : manifest) {
      for (const Json& tag : entry.value("RepoTags", Json::array())) {
        if (!tag.is_string()) continue;
        if (tag.get<std::string>() == wanted) return &entry;
        tags += (tags.empty() ? "" : ", ") + tag.get<std::string>();
      }
    }
    if (wanted.empty() && manifest.size() == 1) return &manifest[0];
    return Status::NotFound("docker-archive " + ref_.path.string() +
                            (wanted.empty() ? " holds several images; name one as docker-archive:PATH:REPO:TAG"
                                            : " has no image tagged " + wanted) +
                            " (it has: " + (tags.empty() ? "no tags" : tags) + ")");
  }

  ParsedReference ref_;
  std::string reference_;
  std::vector<std::string> layer_names_;
};

// ------------------------------------------------------------ OCI layout

constexpr std::string_view kIndexTypes[] = {"application/vnd.oci.image.index.v1+json",
                                            "application/vnd.docker.distribution.manifest.list.v2+json"};

class OciLayoutSource final : public ImageSource {
 public:
  OciLayoutSource(ParsedReference ref, std::string reference)
      : ref_(std::move(ref)), reference_(std::move(reference)) {}
  std::string reference() const override { return reference_; }

  Result<ResolvedImage> Resolve() override {
    std::string index_text;
    {
      std::ifstream in(ref_.path / "index.json", std::ios::binary);
      if (!in) {
        return Status::NotFound("oci layout " + ref_.path.string() + " has no index.json: is it an OCI image layout?");
      }
      index_text.assign(std::istreambuf_iterator<char>(in), {});
    }
    R2E_ASSIGN_OR_RETURN(Json index, ParseJson(index_text, "index.json of " + ref_.path.string()));
    R2E_ASSIGN_OR_RETURN(Json descriptor, PickTagged(index));
    // An image index: this machine's platform.
    for (int depth = 0; depth < 4 && IsImageIndex(StringField(descriptor, "mediaType")); ++depth) {
      R2E_ASSIGN_OR_RETURN(std::string text, ReadBlob(StringField(descriptor, "digest")));
      R2E_ASSIGN_OR_RETURN(std::string picked, PickPlatform(text));
      descriptor = Json::parse(picked);
    }
    R2E_ASSIGN_OR_RETURN(std::string manifest_text, ReadBlob(StringField(descriptor, "digest")));
    R2E_ASSIGN_OR_RETURN(ManifestContents manifest, ParseManifest(manifest_text));
    ResolvedImage image;
    image.config_digest = manifest.config_digest;
    R2E_ASSIGN_OR_RETURN(image.config_json, ReadBlob(image.config_digest));
    R2E_ASSIGN_OR_RETURN(image.config, ParseImageConfig(image.config_json));
    layer_digests_ = manifest.layer_digests;
    image.layer_digests = manifest.layer_digests;
    image.layer_sizes = manifest.layer_sizes;
    return image;
  }

  Result<std::unique_ptr<BlobReader>> OpenLayer(std::size_t index) override {
    if (index >= layer_digests_.size()) return Status::Internal("OpenLayer before Resolve");
    auto reader = FileBlobReader::Open(BlobPath(layer_digests_[index]));
    if (!reader.ok()) {
      return Status::NotFound("oci layout " + ref_.path.string() + " lacks layer " + layer_digests_[index]);
    }
    return std::unique_ptr<BlobReader>(std::move(reader).value());
  }

 private:
  fs::path BlobPath(const std::string& digest) const { return ref_.path / "blobs" / "sha256" / std::string(DigestHex(digest)); }

  // A small blob, checked against its digest.
  Result<std::string> ReadBlob(const std::string& digest) const {
    if (!IsSha256Digest(digest)) return Status::InvalidArgument("oci layout: unsupported digest \"" + digest + "\"");
    std::error_code ec;
    const auto size = fs::file_size(BlobPath(digest), ec);
    if (ec) return Status::NotFound("oci layout " + ref_.path.string() + " lacks blob " + digest);
    if (size > kMaxJsonBlob) return Status::InvalidArgument("oci layout: blob " + digest + " is too large for a manifest");
    std::ifstream in(BlobPath(digest), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    if (DigestOf(text) != digest) {
      return Status::InvalidArgument("oci layout " + ref_.path.string() + ": blob " + digest +
                                     " does not match its digest (corrupt)");
    }
    return text;
  }

  Result<Json> PickTagged(const Json& index) const {
    const Json manifests = index.value("manifests", Json::array());
    std::string names;
    for (const Json& m : manifests) {
      const std::string name = m.value("annotations", Json::object()).value("org.opencontainers.image.ref.name", "");
      if (!ref_.name.empty() && name == ref_.name) return m;
      if (!name.empty()) names += (names.empty() ? "" : ", ") + name;
    }
    if (ref_.name.empty() && manifests.size() == 1) return manifests[0];
    return Status::NotFound("oci layout " + ref_.path.string() +
                            (ref_.name.empty() ? " holds several images; name one as oci:PATH:TAG"
                                               : " has no image tagged " + ref_.name) +
                            " (it has: " + (names.empty() ? "no tags" : names) + ")");
  }

  ParsedReference ref_;
  std::string reference_;
  std::vector<std::string> layer_digests_;
};

}  // namespace

bool IsImageIndex(std::string_view media_type) {
  for (std::string_view t : kIndexTypes) {
    if (media_type == t) return true;
  }
  return false;
}

Result<std::string> PickPlatform(std::string_view index_json) {
  R2E_ASSIGN_OR_RETURN(Json index, ParseJson(index_json, "the image index"));
  const std::string arch = HostArchitecture();
  std::string seen;
  for (const Json& m : index.value("manifests", Json::array())) {
    const Json platform = m.value("platform", Json::object());
    const std::string os = platform.value("os", ""), a = platform.value("architecture", "");
    if (os == "linux" && a == arch) return m.dump();
    seen += (seen.empty() ? "" : ", ") + os + "/" + a;
  }
  return Status::NotFound("the image has no variant for linux/" + arch + " (it has: " + seen + ")");
}

Result<ManifestContents> ParseManifest(std::string_view manifest_json) {
  R2E_ASSIGN_OR_RETURN(Json manifest, ParseJson(manifest_json, "the image manifest"));
  if (!manifest.is_object()) return Status::InvalidArgument("the image manifest is not a JSON object");
  if (manifest.value("schemaVersion", 0) == 1) {
    return Status::InvalidArgument("the image has a Docker schema 1 manifest, which r2e does not read; "
                                   "push it again with a current Docker or skopeo");
  }
  ManifestContents out;
  out.config_digest = StringField(manifest.value("config", Json::object()), "digest");
  if (!IsSha256Digest(out.config_digest)) {
    return Status::InvalidArgument("the image manifest has no valid config digest (\"" + out.config_digest + "\")");
  }
  for (const Json& layer : manifest.value("layers", Json::array())) {
    const std::string digest = StringField(layer, "digest");
    if (!IsSha256Digest(digest)) return Status::InvalidArgument("the image manifest has a bad layer digest \"" + digest + "\"");
    out.layer_digests.push_back(digest);
    const auto size = layer.find("size");
    out.layer_sizes.push_back(size != layer.end() && size->is_number_unsigned() ? size->get<std::uint64_t>() : 0);
  }
  return out;
}

std::string HostArchitecture() {
  utsname u{};
  ::uname(&u);
  const std::string machine = u.machine;
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  if (machine == "i686" || machine == "i386") return "386";
  if (machine.starts_with("armv7")) return "arm";
  return machine;  // ppc64le, s390x, riscv64 are spelled alike
}

Result<ImageConfig> ParseImageConfig(std::string_view json) {
  R2E_ASSIGN_OR_RETURN(Json j, ParseJson(json, "the image config"));
  if (!j.is_object()) return Status::InvalidArgument("the image config is not a JSON object");
  ImageConfig c;
  c.os = StringField(j, "os");
  c.architecture = StringField(j, "architecture");
  const Json config = j.value("config", Json::object());
  if (config.is_object()) {
    for (const Json& kv : config.value("Env", Json::array())) {
      if (!kv.is_string()) continue;
      const std::string s = kv.get<std::string>();
      const auto eq = s.find('=');
      if (eq == std::string::npos || eq == 0) continue;
      c.env.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    c.working_dir = StringField(config, "WorkingDir");
    c.user = StringField(config, "User");
  }
  for (const Json& id : j.value("rootfs", Json::object()).value("diff_ids", Json::array())) {
    if (!id.is_string() || !IsSha256Digest(id.get<std::string>())) {
      return Status::InvalidArgument("the image config has a bad rootfs.diff_ids entry");
    }
    c.diff_ids.push_back(id.get<std::string>());
  }
  return c;
}

Result<ParsedReference> ParseReference(const std::string& reference) {
  ParsedReference ref;
  auto split_path = [&](std::string_view rest, const char* kind) -> Status {
    const auto colon = rest.find(':');
    ref.path = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) ref.name = std::string(rest.substr(colon + 1));
    if (ref.path.empty()) {
      return Status::InvalidArgument(std::string("image reference \"") + reference + "\": " + kind +
                                     " needs a path, e.g. " + kind + ":/tmp/image.tar");
    }
    return Status::OK();
  };
  if (reference.starts_with("docker-archive:")) {
    ref.kind = ReferenceKind::kDockerArchive;
    R2E_RETURN_IF_ERROR(split_path(std::string_view(reference).substr(15), "docker-archive"));
  } else if (reference.starts_with("oci:")) {
    ref.kind = ReferenceKind::kOciLayout;
    R2E_RETURN_IF_ERROR(split_path(std::string_view(reference).substr(4), "oci"));
  } else {
    if (reference.empty()) return Status::InvalidArgument("empty image reference");
    ref.kind = ReferenceKind::kRegistry;
    ref.name = reference;
  }
  return ref;
}

Result<std::unique_ptr<ImageSource>> OpenDockerArchive(const ParsedReference& ref, const std::string& reference) {
  std::error_code ec;
  if (!fs::is_regular_file(ref.path, ec)) return Status::NotFound("docker-archive " + ref.path.string() + " does not exist");
  return std::unique_ptr<ImageSource>(new DockerArchiveSource(ref, reference));
}

Result<std::unique_ptr<ImageSource>> OpenOciLayout(const ParsedReference& ref, const std::string& reference) {
  std::error_code ec;
  if (!fs::is_directory(ref.path, ec)) return Status::NotFound("oci layout " + ref.path.string() + " is not a directory");
  return std::unique_ptr<ImageSource>(new OciLayoutSource(ref, reference));
}

}  // namespace r2e::image
