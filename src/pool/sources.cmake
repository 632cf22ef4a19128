# EnvPool sources (issue: rollout scale).
target_sources(r2e PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/env_pool.cc
)
