// `r2e image pull|ls|rm|prune`: the image cache of the local runtime. Pull
// shows a progress line on a terminal; results go to stdout as JSON (ls: a
// table on a terminal unless --json).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "r2e/image_store.h"

namespace r2e::cli {

namespace {

std::string HumanBytes(std::uint64_t bytes) {
  std::ostringstream out;
  if (bytes >= (1ull << 30)) {
    out << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1ull << 30) << " GiB";
  } else if (bytes >= (1ull << 20)) {
    out << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1ull << 20) << " MiB";
  } else {
    out << bytes / 1024 << " KiB";
  }
  return out.str();
}

nlohmann::json InfoJson(const ImageInfo& info) {
  return {{"id", info.id},
          {"references", info.references},
          {"rootfs", info.rootfs.string()},
          {"size_bytes", info.size_bytes},
          {"in_use", info.in_use}};
}

int Failed(const char* what, const Status& s) {
  std::cerr << "r2e image " << what << ": " << s.ToString() << "\n";
  const auto code = s.code();
  return code == StatusCode::kInvalidArgument || code == StatusCode::kNotFound ? 2 : 1;
}

}  // namespace

int Image(const ImageCommandOptions& options) {
  ImageStoreOptions store_options;
  store_options.cache_dir = options.cache_dir;
  store_options.registry.ca_file = options.registry_ca;
  store_options.registry.insecure_registries = options.insecure_registries;
  store_options.registry.docker_config = options.docker_config;
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  if (terminal) {
    store_options.progress = [](const ImagePullProgress& p) {
      std::cerr << "\r" << p.reference << ": layer " << p.layer << "/" << p.layers << ", "
                << HumanBytes(p.bytes_unpacked) << " unpacked\x1b[K" << std::flush;
    };
  }
  ImageStore store(store_options);
  if (options.action == "pull") {
    int rc = 0;
    for (const std::string& reference : options.images) {
      auto info = store.Pull(reference);
      if (terminal) std::cerr << "\r\x1b[K";
      if (!info.ok()) {
        rc = std::max(rc, Failed("pull", info.status()));
        continue;
      }
      std::cerr << "pulled " << reference << " (" << info->id.substr(0, 19) << ", " << HumanBytes(info->size_bytes)
                << ")\n";
      nlohmann::json out = InfoJson(*info);
      out["reference"] = reference;
      std::cout << out.dump() << std::endl;
    }
    return rc;
  }
  if (options.action == "ls") {
    auto images = store.List();
    if (!images.ok()) return Failed("ls", images.status());
    if (options.json || ::isatty(STDOUT_FILENO) == 0) {
      for (const ImageInfo& info : *images) std::cout << InfoJson(info).dump() << "\n";
      return 0;
    }
    std::cout << std::left << std::setw(14) << "ID" << std::setw(11) << "SIZE" << std::setw(8) << "IN USE"
              << "REFERENCES\n";
    for (const ImageInfo& info : *images) {
      std::string refs;
      for (const std::string& r : info.references) refs += (refs.empty() ? "" : ", ") + r;
      std::cout << std::setw(14) << info.id.substr(7, 12) << std::setw(11) << HumanBytes(info.size_bytes)
                << std::setw(8) << (info.in_use ? "yes" : "no") << refs << "\n";
    }
    return 0;
  }
  if (options.action == "rm") {
    // Removing an image removes all its references: a later argument naming
    // an image already removed by this command is not an error.
    std::vector<std::string> removed_refs;
    int rc = 0;
    for (const std::string& reference : options.images) {
      if (std::find(removed_refs.begin(), removed_refs.end(), reference) != removed_refs.end()) continue;
      std::vector<std::string> refs_of_image;
      if (auto listed = store.List(); listed.ok()) {
        for (const ImageInfo& info : *listed) {
          if (std::find(info.references.begin(), info.references.end(), reference) != info.references.end()) {
            refs_of_image = info.references;
          }
        }
      }
      if (Status s = store.Remove(reference); !s.ok()) {
        rc = std::max(rc, Failed("rm", s));
        continue;
      }
      std::cerr << "removed " << reference << "\n";
      removed_refs.insert(removed_refs.end(), refs_of_image.begin(), refs_of_image.end());
    }
    return rc;
  }
  if (options.action == "prune") {
    if (!options.all && options.keep_bytes == 0) {
      std::cerr << "r2e image prune: give --all (remove every image not in use) or --keep-bytes N (keep the most "
                   "recently used up to N bytes)\n";
      return 2;
    }
    auto report = store.Prune(options.all ? 0 : options.keep_bytes);
    if (!report.ok()) return Failed("prune", report.status());
    std::cout << nlohmann::json{{"images_removed", report->images_removed},
                                {"bytes_freed", report->bytes_freed},
                                {"leftovers_removed", report->leftovers_removed}}
                     .dump()
              << std::endl;
    return 0;
  }
  return 2;
}

}  // namespace r2e::cli
