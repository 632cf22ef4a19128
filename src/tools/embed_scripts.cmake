# Turns the tool scripts into a C++ source file (run by add_custom_command in
# src/CMakeLists.txt): each file becomes a char array, listed in
# r2e::internal::kEmbeddedScripts (see src/tools/embedded_scripts.h).
#
#   cmake -DSCRIPT_DIR=<dir> -DNAMES=<a.py,b.py> -DOUTPUT=<file.cc> -P embed_scripts.cmake
foreach(var SCRIPT_DIR NAMES OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_scripts.cmake: ${var} is not set")
  endif()
endforeach()
string(REPLACE "," ";" names "${NAMES}")

# CMake regexes have no {n} repetition: spell out sixteen '\xNN', entries.
string(REPEAT "'\\\\x[0-9a-f][0-9a-f]'," 16 sixteen)
set(arrays "")
set(entries "")
set(index 0)
foreach(name IN LISTS names)
  set(path "${SCRIPT_DIR}/${name}")
  if(NOT EXISTS "${path}")
    message(FATAL_ERROR "embed_scripts.cmake: ${path} does not exist")
  endif()
  file(READ "${path}" hex HEX)
  # Two hex digits per byte -> '\xNN', sixteen to a line; a final NUL keeps
  # an empty file's array valid (the size excludes it).
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(REGEX REPLACE "(${sixteen})" "\\1\n    " bytes "${bytes}")
  string(APPEND arrays "// ${name}\nconstexpr char kScript${index}[] = {\n    ${bytes}'\\0'};\n\n")
  string(APPEND entries "    {\"${name}\", std::string_view(kScript${index}, sizeof(kScript${index}) - 1)},\n")
  math(EXPR index "${index} + 1")
endforeach()

set(content "// Generated from src/tools/scripts by src/tools/embed_scripts.cmake; do not edit.
#include \"tools/embedded_scripts.h\"

namespace r2e::internal {
namespace {

${arrays}}  // namespace

const EmbeddedScript kEmbeddedScripts[] = {
${entries}};
const std::size_t kEmbeddedScriptCount = ${index};

}  // namespace r2e::internal
")
file(WRITE "${OUTPUT}" "${content}")
