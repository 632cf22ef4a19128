// Helpers shared by the fuzz targets.
#ifndef R2E_FUZZ_FUZZ_UTIL_H_
#define R2E_FUZZ_FUZZ_UTIL_H_

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace r2e::fuzz {

// An invariant of the code under test: a violation is a finding, reported
// like a crash (libFuzzer saves the input).
#define R2E_FUZZ_CHECK(cond)                                                          \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

inline std::string_view AsView(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Inputs with several parts separate them with 0x1e (ASCII record
// separator), which does not occur in the seeds' text; missing parts are
// empty.
inline std::vector<std::string_view> SplitParts(std::string_view input, std::size_t parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < parts) {
    std::size_t sep = input.find('\x1e');
    if (sep == std::string_view::npos) break;
    out.push_back(input.substr(0, sep));
    input.remove_prefix(sep + 1);
  }
  out.push_back(input);
  out.resize(parts);
  return out;
}

// A private scratch directory for targets that need files, removed at exit.
inline const std::filesystem::path& ScratchDir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path d = std::filesystem::temp_directory_path() /
                              ("r2e-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                      ("r2e-fuzz-" + std::to_string(::getpid())),
                                  ec);
    });
    return d;
  }();
  return dir;
}

inline std::filesystem::path WriteScratchFile(std::string_view name, std::string_view content) {
  std::filesystem::path p = ScratchDir() / std::string(name);
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(content.data(),
                                                              static_cast<std::streamsize>(content.size()));
  return p;
}

}  // namespace r2e::fuzz

#endif  // R2E_FUZZ_FUZZ_UTIL_H_
