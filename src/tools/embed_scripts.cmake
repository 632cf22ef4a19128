# Turns the tool scripts into a C++ source file (run by add_custom_command in
# src/CMakeLists.txt): each file becomes a char array, listed in
# r2e::internal::kEmbeddedScripts (see src/tools/embedded_scripts.h) under its
# path relative to SCRIPT_DIR ("r2egym/file_editor.py"), or "server/<name>"
# for the files of EXTRA_DIR.
#
#   cmake -DSCRIPT_DIR=<sets dir> -DEXTRA_DIR=<dir> -DOUTPUT=<file.cc> -P embed_scripts.cmake
foreach(var SCRIPT_DIR EXTRA_DIR OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_scripts.cmake: ${var} is not set")
  endif()
endforeach()
file(GLOB_RECURSE set_files RELATIVE "${SCRIPT_DIR}" "${SCRIPT_DIR}/*")
file(GLOB extra_files RELATIVE "${EXTRA_DIR}" "${EXTRA_DIR}/*.py")
list(SORT set_files)
list(SORT extra_files)
set(names "")
foreach(f IN LISTS set_files)
  list(APPEND names "${f}|${SCRIPT_DIR}/${f}")
endforeach()
foreach(f IN LISTS extra_files)
  list(APPEND names "server/${f}|${EXTRA_DIR}/${f}")
endforeach()

# CMake regexes have no {n} repetition: spell out sixteen '\xNN', entries.
string(REPEAT "'\\\\x[0-9a-f][0-9a-f]'," 16 sixteen)
set(arrays "")
set(entries "")
set(index 0)
foreach(entry IN LISTS names)
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 name)
  list(GET parts 1 path)
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
