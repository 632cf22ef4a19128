#!/usr/bin/env bash
# The main job: builds the `r2e` program and runs the demo episode on the
# embedded local runtime.
#
#   scripts/run-demo.sh            # scripted agent replays the fix: reward 1
#   scripts/run-demo.sh noop       # agent submits at once: reward 0
#   scripts/run-demo.sh scripted --verbose   # extra args go to `r2e run`
#
# Environment: OUT (trajectory directory, default out/demo), BUILD_DIR
# (default build), R2E_CMAKE_ARGS (extra configure arguments), CCACHE_DIR.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-${HOME:-/root}/.cache/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)}

scripts/install-deps.sh

extra_args=()
if [ -n "${R2E_CMAKE_ARGS:-}" ]; then
  read -r -a extra_args <<<"$R2E_CMAKE_ARGS"
fi
configure_args=(-S . -B "$BUILD_DIR")
[ -f "$BUILD_DIR/CMakeCache.txt" ] || configure_args+=(-G Ninja)
command -v ccache >/dev/null 2>&1 && configure_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
echo "run-demo.sh: building r2e in $BUILD_DIR" >&2
cmake "${configure_args[@]}" "${extra_args[@]}" >/dev/null
cmake --build "$BUILD_DIR" --target r2e_cli --parallel "${R2E_JOBS:-$(nproc)}" >&2

agent=${1:-scripted}
[ $# -gt 0 ] && shift
exec "$BUILD_DIR/src/cli/r2e" run --tasks examples/tasks/demo.jsonl --agent "$agent" \
  --out "${OUT:-out/demo}" "$@"
