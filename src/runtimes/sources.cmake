# The backend registry (include/r2e/runtimes.h): names and factories of the
# local, Docker and Kubernetes runtimes; the Runtime interface's defaults.
target_sources(r2e PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/runtime.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtimes.cc
)
