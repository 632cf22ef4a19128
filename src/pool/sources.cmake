# Warm pool and EnvPool sources (issue: rollout scale).
target_sources(r2e PRIVATE
)
