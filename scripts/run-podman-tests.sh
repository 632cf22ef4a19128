#!/usr/bin/env bash
# Runs the docker test program against Podman's Docker-compatible service
# (scripts/start-podman.sh), when Podman is installed; without it, says so
# and exits 0 (install-deps.sh does not install Podman).
#
#   scripts/run-podman-tests.sh [BUILD_DIR]      (default: build)
#
# The tests are the docker program's but those that need Docker itself: the
# fault-injection tests run a private dockerd, and the local runtime's image
# tests use no daemon. Differences: docs/architecture.md ("Podman").
#
# Environment: R2E_PODMAN_FILTER (gtest filter), R2E_PODMAN_TIMEOUT (seconds,
# default 1200), R2E_PODMAN_USER (run Podman rootless as this user: see
# scripts/start-podman.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build}
say() { printf 'run-podman-tests: %s\n' "$*" >&2; }

set +e
sock=$(scripts/start-podman.sh)
rc=$?
set -e
if [ "$rc" -eq 77 ]; then
  say "skipped: podman is not installed"
  exit 0
fi
[ "$rc" -eq 0 ] || { say "the podman service did not start"; exit 1; }

filter=${R2E_PODMAN_FILTER:-DockerToStatusTest.*:DockerClientTest.*:DockerRuntimeTest.*:DockerSessionPipes.*:PoolDockerTest.*:ToolsDockerTest.*:SweBenchE2E.*:SweSmithE2E.*:DockerSecurityTest.*:ImageEnvEpisodeTest.*:Modes/DockerImageEnvTest.*}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
say "docker tests against $sock"
if DOCKER_HOST=unix://$sock timeout -k 10 "${R2E_PODMAN_TIMEOUT:-1200}" "$build/tests/r2e_docker_tests" \
     --gtest_filter="$filter" --gtest_brief=1 >"$log" 2>&1; then
  tail -1 "$log" >&2
  exit 0
fi
grep -E "FAILED|Failure" -A4 "$log" | head -60 >&2 || true
tail -3 "$log" >&2
exit 1
