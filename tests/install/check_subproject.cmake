# Checks what an embedding project gets by default: configures
# tests/install/subproject (add_subdirectory of r2e, no options set) and
# checks that the parts which pull dependencies of their own, the CLI and the
# test suite are off, and that the generated r2e/config.h says so. Run by
# ctest as `subproject_defaults`:
#
#   cmake -DSOURCE_DIR=<r2e source> -DWORK_DIR=<scratch> [-DGENERATOR=<gen>]
#         -P check_subproject.cmake
cmake_minimum_required(VERSION 3.22)

foreach(var SOURCE_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "check_subproject.cmake: -D${var}=... is required")
  endif()
endforeach()

set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${build})
set(args -S ${SOURCE_DIR}/tests/install/subproject -B ${build} -DR2E_SOURCE_DIR=${SOURCE_DIR})
if(GENERATOR)
  list(APPEND args -G ${GENERATOR})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} ${args} RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "subproject test: configuring a project that embeds r2e failed (${rc})")
endif()

foreach(option R2E_WITH_KUBE R2E_WITH_LLM R2E_BUILD_CLI R2E_BUILD_TESTS R2E_BUILD_EXAMPLES)
  file(STRINGS ${build}/CMakeCache.txt line REGEX "^${option}:BOOL=")
  if(NOT line STREQUAL "${option}:BOOL=OFF")
    message(FATAL_ERROR "subproject test: ${option} should default to OFF in a subproject; the cache has '${line}'")
  endif()
endforeach()

file(READ ${build}/r2e/include/r2e/config.h config)
foreach(part R2E_WITH_KUBE R2E_WITH_LLM)
  if(NOT config MATCHES "#define ${part} 0")
    message(FATAL_ERROR "subproject test: r2e/config.h should define ${part} 0:\n${config}")
  endif()
endforeach()
# No target of the optional parts: the CLI and the tests are not generated.
if(EXISTS ${build}/r2e/src/cli OR EXISTS ${build}/r2e/tests)
  message(FATAL_ERROR "subproject test: the CLI or the tests were generated in a subproject")
endif()
message(STATUS "subproject test: defaults are the library with the local and Docker runtimes only")
