# EnvPool sources (issue: rollout scale).
target_sources(r2e PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/env_pool.cc
  ${CMAKE_CURRENT_LIST_DIR}/rollout_scheduler.cc
  ${CMAKE_CURRENT_LIST_DIR}/metrics_server.cc
  ${CMAKE_CURRENT_LIST_DIR}/rollout_stats.cc
)
