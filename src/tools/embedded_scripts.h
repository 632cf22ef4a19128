// The tool scripts of src/tools/scripts, compiled into the library by
// src/tools/embed_scripts.cmake. Internal: the public surface is r2e/tools.h.
#ifndef R2E_TOOLS_EMBEDDED_SCRIPTS_H_
#define R2E_TOOLS_EMBEDDED_SCRIPTS_H_

#include <cstddef>
#include <string_view>

namespace r2e::internal {

struct EmbeddedScript {
  std::string_view file;     // file name, e.g. "file_editor.py"
  std::string_view content;  // the file's bytes
};

// In the order listed in src/CMakeLists.txt.
extern const EmbeddedScript kEmbeddedScripts[];
extern const std::size_t kEmbeddedScriptCount;

}  // namespace r2e::internal

#endif  // R2E_TOOLS_EMBEDDED_SCRIPTS_H_
