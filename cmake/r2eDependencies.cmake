# The libraries r2e links against, all from Debian packages. Included by the
# build and by the installed r2eConfig.cmake (which sets R2E_WITH_KUBE and
# R2E_WITH_LLM, R2E_WITH_REGISTRY as r2e was built), so a consumer re-finds exactly what r2e was
# built with and nothing more.
include(CMakeFindDependencyMacro)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_dependency(Threads)
find_dependency(nlohmann_json 3.10)
find_dependency(spdlog 1.10)
find_dependency(LibArchive)
find_dependency(Boost 1.74)
# Image digests (and, with Kubernetes, TLS).
find_dependency(OpenSSL)
# The log parsers: Python's re restated on PCRE2 (pkg-config only in Debian)
# and ElementTree's XML parser, expat.
find_dependency(EXPAT)
find_dependency(PkgConfig)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
if(R2E_WITH_KUBE)
  find_dependency(yaml-cpp)
endif()
if(R2E_WITH_LLM OR R2E_WITH_REGISTRY)
  # cpp-httplib (the HTTP client of the LLM agent and of registry pulls) has no CMake package in Debian,
  # only a pkg-config file. A static r2e exports it as a link dependency.
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()
