# r2e-run-as (run_as.c): the static helper that starts a local sandbox's
# shell as an image's non-root User, compiled into the library. Included from
# src/CMakeLists.txt. Needs a static glibc (libc6-dev); without it the library
# gets an empty helper and the local runtime refuses images that are not run
# as root, saying why.
find_library(R2E_LIBC_STATIC NAMES libc.a)
set(_dir ${CMAKE_CURRENT_BINARY_DIR}/local/run_as)
set(_src ${CMAKE_CURRENT_SOURCE_DIR}/local/run_as)
if(NOT R2E_LIBC_STATIC)
  message(STATUS "r2e-run-as: not built (no static libc: apt install libc6-dev); "
                 "the local runtime runs images as root only")
  target_sources(r2e PRIVATE local/run_as/no_run_as.cc)
  return()
endif()
# Linked by hand, not as a target: it must not take the tree's flags (a
# sanitizer cannot link -static) and needs none of its libraries.
add_custom_command(
  OUTPUT ${_dir}/r2e-run-as
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_dir}
  COMMAND ${CMAKE_CXX_COMPILER} -x c -std=c11 -O2 -s -static -Wall -Wextra ${_src}/run_as.c -o ${_dir}/r2e-run-as
  DEPENDS ${_src}/run_as.c
  COMMENT "Linking r2e-run-as (static)"
  VERBATIM)
add_custom_command(
  OUTPUT ${_dir}/run_as_data.cc
  COMMAND ${CMAKE_COMMAND} -DFILE=${_dir}/r2e-run-as -DSYMBOL=r2e_run_as_helper -DHEADER=local/run_as.h
          -DFUNCTION=r2e::internal::RunAsHelper -DOUTPUT=${_dir}/run_as_data.cc
          -P ${PROJECT_SOURCE_DIR}/cmake/embed_binary.cmake
  DEPENDS ${_dir}/r2e-run-as ${PROJECT_SOURCE_DIR}/cmake/embed_binary.cmake
  COMMENT "Embedding r2e-run-as"
  VERBATIM)
target_sources(r2e PRIVATE ${_dir}/run_as_data.cc)
