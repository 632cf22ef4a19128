# The libraries r2e links against, all from Debian packages. Included by the
# build and by the installed r2eConfig.cmake, so a consumer re-finds exactly
# what r2e was built with.
include(CMakeFindDependencyMacro)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_dependency(Threads)
find_dependency(nlohmann_json 3.10)
find_dependency(spdlog 1.10)
find_dependency(LibArchive)
find_dependency(OpenSSL)
find_dependency(yaml-cpp)
find_dependency(Boost 1.74)
# cpp-httplib (the LLM agent's HTTP client) has no CMake package in Debian,
# only a pkg-config file. A static r2e exports it as a link dependency.
find_dependency(PkgConfig)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
