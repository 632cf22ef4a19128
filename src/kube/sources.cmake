# Kubernetes runtime sources (issue: KubeRuntime). Beast/Asio stay in few TUs.
target_sources(r2e PRIVATE
)
