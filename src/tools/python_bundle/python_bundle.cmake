# r2e-python (see README.md here): CPython linked statically from Debian's
# libpython, with the modules the tools import appended, compiled into the
# library so that AddCommands can install it in a sandbox that has no usable
# python3. Included from src/CMakeLists.txt after the tool scripts are set up
# (R2E_TOOL_SETS_DIR). Sets R2E_TOOL_PYTHON_BUILT.
#
# Needs Debian's python3 (/usr/bin/python3: the interpreter whose libpython is
# linked and whose bytecode goes in the archive), libpython3-dev (the static
# libpython), zlib1g-dev and libexpat1-dev (static libz and libexpat, which
# libpython's builtin modules use) and libc6-dev (static glibc);
# python3-chardet is put in when installed. Without them the option turns
# itself off with a message: the tools then need the sandbox's python3.
set(R2E_TOOL_PYTHON_BUILT OFF)
set(_why "")
find_program(R2E_DEBIAN_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT R2E_DEBIAN_PYTHON)
  set(_why "no /usr/bin/python3")
else()
  execute_process(
    COMMAND ${R2E_DEBIAN_PYTHON} -c
            "import sysconfig as s; print(s.get_config_var('LIBPL')); print(s.get_paths()['include']); print(s.get_config_var('LDVERSION'))"
    OUTPUT_VARIABLE _py OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
  string(REPLACE "\n" ";" _py "${_py}")
  list(LENGTH _py _n)
  if(NOT _rc EQUAL 0 OR NOT _n EQUAL 3)
    set(_why "${R2E_DEBIAN_PYTHON} cannot tell where its libpython is")
  else()
    list(GET _py 0 _libpl)
    list(GET _py 1 _include)
    list(GET _py 2 _ldversion)
    set(R2E_LIBPYTHON_STATIC ${_libpl}/libpython${_ldversion}.a)
    find_library(R2E_LIBZ_STATIC NAMES libz.a)
    find_library(R2E_LIBEXPAT_STATIC NAMES libexpat.a)
    find_library(R2E_LIBC_STATIC NAMES libc.a)
    if(NOT EXISTS ${R2E_LIBPYTHON_STATIC} OR NOT EXISTS ${_include}/Python.h)
      set(_why "no ${R2E_LIBPYTHON_STATIC} (apt install libpython3-dev)")
    elseif(NOT R2E_LIBZ_STATIC OR NOT R2E_LIBEXPAT_STATIC OR NOT R2E_LIBC_STATIC)
      set(_why "no static libz, libexpat or libc (apt install zlib1g-dev libexpat1-dev libc6-dev)")
    endif()
  endif()
endif()
if(_why)
  message(STATUS "r2e-python: not built (${_why}); tools need the sandbox's python3")
  return()
endif()

set(_dir ${CMAKE_CURRENT_BINARY_DIR}/tools/python_bundle)
set(_src ${CMAKE_CURRENT_SOURCE_DIR}/tools/python_bundle)
set(R2E_TOOL_PYTHON_FILE ${_dir}/r2e-python)
# The launcher is linked by hand, not as a target: it must not take the
# tree's flags (a sanitizer cannot link -static) and needs none of its
# libraries. --no-warnings: glibc's notes that getpwnam and dlopen in a static
# program want the shared glibc at run time (the tools never call them).
add_custom_command(
  OUTPUT ${_dir}/r2e-python-launcher
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_dir}
  COMMAND ${CMAKE_CXX_COMPILER} -x c -O2 -s -static -w -I${_include} ${_src}/r2e_python.c -x none
          ${R2E_LIBPYTHON_STATIC} ${R2E_LIBEXPAT_STATIC} ${R2E_LIBZ_STATIC} -lm -ldl -lpthread -lutil
          -Wl,--no-warnings -o ${_dir}/r2e-python-launcher
  DEPENDS ${_src}/r2e_python.c
  COMMENT "Linking the r2e-python launcher (static CPython)"
  VERBATIM)
# The archive of modules, appended; then a source that embeds the file with
# its hash written in (cmake/embed_binary.cmake).
add_custom_command(
  OUTPUT ${R2E_TOOL_PYTHON_FILE} ${_dir}/python_bundle_data.cc
  COMMAND ${R2E_DEBIAN_PYTHON} ${_src}/make_bundle.py ${_dir}/r2e-python-launcher ${R2E_TOOL_PYTHON_FILE}
          ${R2E_TOOL_SETS_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/tools/scripts/server
  COMMAND ${CMAKE_COMMAND} -DFILE=${R2E_TOOL_PYTHON_FILE} -DSYMBOL=r2e_python_bundle
          -DHEADER=tools/python_bundle.h -DFUNCTION=r2e::internal::PythonBundle
          -DOUTPUT=${_dir}/python_bundle_data.cc -P ${PROJECT_SOURCE_DIR}/cmake/embed_binary.cmake
  DEPENDS ${_dir}/r2e-python-launcher ${_src}/make_bundle.py ${PROJECT_SOURCE_DIR}/cmake/embed_binary.cmake
          ${CMAKE_CURRENT_BINARY_DIR}/tools/embedded_scripts.cc
  COMMENT "Appending the tools' Python modules to r2e-python"
  VERBATIM)
target_sources(r2e PRIVATE ${_dir}/python_bundle_data.cc)
set(R2E_TOOL_PYTHON_BUILT ON)
