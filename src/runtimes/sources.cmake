# The backend registry (include/r2e/runtimes.h): names and factories of the
# local, Docker and Kubernetes runtimes.
target_sources(r2e PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/runtimes.cc
)
