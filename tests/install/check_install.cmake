# Checks that the install tree is consumable: builds the main tree, installs
# it to a fresh prefix, then configures, builds and runs the consumer project
# against that prefix alone. Run by ctest as `install_consumer`:
#
#   cmake -DBUILD_DIR=<r2e build> -DWORK_DIR=<scratch> -DCONSUMER_DIR=<consumer src>
#         [-DCONFIG=<config>] [-DGENERATOR=<gen>] [-DCXX_COMPILER=<c++>]
#         [-DLAUNCHER=<ccache>] [-DSANITIZE=ON]
#         [-DPYTHON=<python3> -DPYTHON_DIR=<package dir under the prefix>] -P check_install.cmake
cmake_minimum_required(VERSION 3.22)

foreach(var BUILD_DIR WORK_DIR CONSUMER_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "check_install.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT CONFIG)
  set(CONFIG Release)
endif()

function(run_step what)
  message(STATUS "install test: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install test: ${what} failed (${rc})")
  endif()
endfunction()

# DESTDIR would move the install away from the prefix the consumer searches.
unset(ENV{DESTDIR})
set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${prefix} ${consumer_build})

# Everything that is installed must be built; a no-op when the tree is up to date.
run_step("build ${BUILD_DIR}" ${CMAKE_COMMAND} --build ${BUILD_DIR} --config ${CONFIG})
run_step("install to ${prefix}"
  ${CMAKE_COMMAND} --install ${BUILD_DIR} --config ${CONFIG} --prefix ${prefix})

set(consumer_args
  -S ${CONSUMER_DIR} -B ${consumer_build}
  -DCMAKE_PREFIX_PATH=${prefix}
  -DCMAKE_BUILD_TYPE=${CONFIG}
  # Only the prefix may provide r2e: no user package registry.
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(GENERATOR)
  list(APPEND consumer_args -G ${GENERATOR})
endif()
if(CXX_COMPILER)
  list(APPEND consumer_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
if(LAUNCHER)
  list(APPEND consumer_args -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
if(SANITIZE)
  # The installed static library is instrumented; its users link the runtimes.
  list(APPEND consumer_args
    "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined"
    "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined")
endif()
run_step("configure the consumer" ${CMAKE_COMMAND} ${consumer_args})

# find_package must have used the installed config, not the build tree.
file(STRINGS ${consumer_build}/CMakeCache.txt r2e_dir_line REGEX "^r2e_DIR:")
string(REGEX REPLACE "^r2e_DIR:[A-Z]*=" "" r2e_dir "${r2e_dir_line}")
file(REAL_PATH "${prefix}" real_prefix)
file(REAL_PATH "${r2e_dir}" real_r2e_dir)
string(FIND "${real_r2e_dir}" "${real_prefix}/" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "install test: find_package(r2e) used ${r2e_dir}, not the install prefix ${prefix}")
endif()

run_step("build the consumer" ${CMAKE_COMMAND} --build ${consumer_build} --config ${CONFIG})

set(consumer_exe ${consumer_build}/consumer)
if(NOT EXISTS ${consumer_exe})
  set(consumer_exe ${consumer_build}/${CONFIG}/consumer)
endif()
run_step("run the consumer" ${consumer_exe})

# The Python package, when built: importable from the prefix alone.
if(PYTHON AND PYTHON_DIR)
  run_step("import r2e from ${prefix}/${PYTHON_DIR}"
    ${CMAKE_COMMAND} -E env PYTHONPATH=${prefix}/${PYTHON_DIR} PYTHONNOUSERSITE=1
    ${PYTHON} -c "import r2e, os; assert r2e.__file__.startswith(os.path.realpath('${prefix}')) or r2e.__file__.startswith('${prefix}'), r2e.__file__; r2e.Action.from_string('x')")
endif()
