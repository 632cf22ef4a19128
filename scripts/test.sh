#!/usr/bin/env bash
# The test command (README and .ci/run call exactly this): installs the build
# dependencies, configures with Ninja and ccache, builds everything and runs
# ctest. ctest's summary line is the last line printed; the exit status is
# non-zero when anything fails.
#
# Environment:
#   BUILD_DIR       build directory (default: build, relative to the repo root)
#   R2E_CMAKE_ARGS  extra arguments for the configure step, e.g.
#                   R2E_CMAKE_ARGS="-DR2E_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"
#   R2E_JOBS        parallel build jobs (default: number of cores)
#   CTEST_ARGS      extra arguments for ctest, e.g. CTEST_ARGS="-L install"
#   CCACHE_DIR      compiler cache (default: $HOME/.cache/ccache)
#   R2E_SKIP_DOCKER=1  do not start dockerd nor build the test images
#                   (scripts/start-dockerd.sh, scripts/build-test-images.sh)
#   R2E_SKIP_FUZZ=1        skip the fuzz stage (scripts/run-fuzzers.sh: every
#                   libFuzzer target for R2E_FUZZ_RUNS runs on its seed corpus)
#   R2E_SKIP_SANITIZERS=1  skip the sanitizer stage (scripts/run-sanitizers.sh:
#                   unit, docker and soak tests under ASan/UBSan, the
#                   concurrency tests under TSan; R2E_SANITIZERS="asan" runs one)
#   R2E_QUICK=1     both of the above: the main build and ctest only (a fast
#                   local loop; CI runs everything)
#   R2E_PODMAN_ROOTLESS_USER=NAME  also run the Podman stage rootless as NAME
#                   (created when missing; needs root and subordinate ids)
#   R2E_SKIP_PODMAN=1  skip the Podman stage (scripts/run-podman-tests.sh: the
#                   docker tests against Podman; runs only where podman is
#                   installed, which install-deps.sh does not do)
#
# The fuzz and sanitizer stages run (in their own build trees, bounded: see
# docs/reliability.md for their cost) before the main ctest run; their
# one-line results are printed to stderr, and the exit status is non-zero
# when any stage or ctest failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

BUILD_DIR=${BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-${HOME:-/root}/.cache/ccache}
# Paths under the repo root hash the same from any clone, so CI clones share hits.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
export CTEST_OUTPUT_ON_FAILURE=1

log() { printf 'test.sh: %s\n' "$*" >&2; }

# --- 1. dependencies ---------------------------------------------------------
scripts/install-deps.sh

# --- 2. services the tests need ----------------------------------------------
# A Docker daemon (installed and started when none answers) and the offline
# test images (cached by tag: seconds once built), before configuring, so that
# the docker tests find them. R2E_SKIP_DOCKER=1 skips both; the docker tests
# then skip. Unit tests need no daemon. The test Kubernetes API server needs
# nothing here: ctest starts and stops it (fixture kube_apiserver, label kube).
if [ "${R2E_SKIP_DOCKER:-0}" = 1 ]; then
  log "R2E_SKIP_DOCKER=1: no dockerd, no test images; docker tests will skip"
else
  scripts/start-dockerd.sh
  scripts/build-test-images.sh
  # The multilingual demo images (toolchains from Debian's mirror: about two
  # and a half minutes on a bare machine, seconds once built) build while the
  # tree compiles; step 5 waits for them.
  multilingual_log=$(mktemp)
  scripts/build-multilingual-images.sh >"$multilingual_log" 2>&1 &
  multilingual_pid=$!
fi

# --- 3. configure -------------------------------------------------------------
extra_args=()
if [ -n "${R2E_CMAKE_ARGS:-}" ]; then
  read -r -a extra_args <<<"$R2E_CMAKE_ARGS"
fi
configure_args=(-S . -B "$BUILD_DIR")
# An existing build directory keeps its generator (cmake refuses to switch).
[ -f "$BUILD_DIR/CMakeCache.txt" ] || configure_args+=(-G Ninja)
command -v ccache >/dev/null 2>&1 && configure_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Line tables only (not full -g): a third less compile time; stacks still
# name file and line. R2E_CMAKE_ARGS comes after, so it can override this.
configure_args+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
log "configuring $BUILD_DIR"
cmake "${configure_args[@]}" "${extra_args[@]}" >/dev/null

# --- 4. build -----------------------------------------------------------------
log "building"
cmake --build "$BUILD_DIR" --parallel "${R2E_JOBS:-$(nproc)}"

# --- 5. fuzz and sanitizer stages ---------------------------------------------
# Each stage is bounded (see the scripts); a failing stage does not stop the
# main ctest run, but fails the script.
# CI logs are read from the end: each stage's output is also kept in a file,
# and the lines that say what failed are printed again right before ctest's
# summary line (step 6).
stage_failures=()
stage_report=$(mktemp)
trap 'rm -f "$stage_report"' EXIT
run_stage() {  # name, command...
  local name=$1
  shift
  local t0=$SECONDS out
  out=$(mktemp)
  log "stage $name: $*"
  if "$@" 2>&1 | tee "$out" >&2; then  # pipefail: the stage's status
    log "stage $name: ok in $((SECONDS - t0)) s"
    echo "test.sh: stage $name: ok in $((SECONDS - t0)) s" >>"$stage_report"
  else
    log "stage $name: FAILED after $((SECONDS - t0)) s"
    stage_failures+=("$name")
    {
      echo "test.sh: stage $name: FAILED after $((SECONDS - t0)) s; what it said of failures:"
      grep -E 'FAIL|CRASH|ERROR|Sanitizer|runtime error|Timeout|Exception|result=|tests passed' "$out" |
        grep -v 'result=ok' | tail -40 | sed 's/^/  | /'
    } >>"$stage_report"
  fi
  rm -f "$out"
}
# The multilingual images started in step 2: their result is a stage's.
if [ -n "${multilingual_pid:-}" ]; then
  t0=$SECONDS
  if wait "$multilingual_pid"; then
    cat "$multilingual_log" >&2
    echo "test.sh: stage multilingual-images: ok ($((SECONDS - t0)) s waited after the build)" | tee -a "$stage_report" >&2
  else
    cat "$multilingual_log" >&2
    stage_failures+=(multilingual-images)
    {
      echo "test.sh: stage multilingual-images: FAILED; its last lines:"
      tail -20 "$multilingual_log" | sed 's/^/  | /'
    } | tee -a "$stage_report" >&2
  fi
  rm -f "$multilingual_log"
fi
if [ "${R2E_QUICK:-0}" = 1 ]; then
  R2E_SKIP_FUZZ=1
  R2E_SKIP_SANITIZERS=1
fi
if [ "${R2E_SKIP_FUZZ:-0}" != 1 ]; then
  run_stage fuzz scripts/run-fuzzers.sh "${R2E_FUZZ_RUNS:-4000}"
else
  log "fuzz stage skipped (R2E_SKIP_FUZZ=1 or R2E_QUICK=1)"
fi
if [ "${R2E_SKIP_SANITIZERS:-0}" != 1 ]; then
  read -r -a sanitizer_stages <<<"${R2E_SANITIZERS:-asan tsan}"
  run_stage sanitizers scripts/run-sanitizers.sh "${sanitizer_stages[@]}"
else
  log "sanitizer stage skipped (R2E_SKIP_SANITIZERS=1 or R2E_QUICK=1)"
fi
# Podman: the docker tests against its Docker-compatible service, only where
# Podman is installed (install-deps.sh does not install it; a skip costs
# nothing). R2E_SKIP_PODMAN=1 skips it there too.
if [ "${R2E_SKIP_DOCKER:-0}" != 1 ] && [ "${R2E_SKIP_PODMAN:-0}" != 1 ] && command -v podman >/dev/null 2>&1; then
  run_stage podman scripts/run-podman-tests.sh "$BUILD_DIR"
  # Rootless, as a user of your choice (created when missing): opt-in.
  if [ -n "${R2E_PODMAN_ROOTLESS_USER:-}" ]; then
    run_stage podman-rootless env R2E_PODMAN_USER="$R2E_PODMAN_ROOTLESS_USER" scripts/run-podman-tests.sh "$BUILD_DIR"
  fi
fi
[ ${#stage_failures[@]} -eq 0 ] || log "failed stages: ${stage_failures[*]} (ctest runs anyway)"

# --- 6. test ------------------------------------------------------------------
ctest_extra=()
if [ -n "${CTEST_ARGS:-}" ]; then
  read -r -a ctest_extra <<<"$CTEST_ARGS"
fi
log "running ctest"
# ctest prints "Total Test time", the failed-test list and "Errors while
# running CTest" after its summary line; hold the summary back and print it
# last, so that CI logs end with it.
summary=$(mktemp)
set +e
ctest --test-dir "$BUILD_DIR" --output-on-failure --no-tests=error -j2 "${ctest_extra[@]}" 2>&1 |
  awk -v summary_file="$summary" '
    /^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+/ { print > summary_file; fflush(); next }
    { print; fflush() }'
status=${PIPESTATUS[0]}
set -e
cat "$stage_report"
if [ -s "$summary" ]; then cat "$summary"; else echo "ctest: no summary line (no tests ran?)"; fi
rm -f "$summary"
# A failed stage (reported above, before ctest) fails the run too.
[ ${#stage_failures[@]} -eq 0 ] || [ "$status" -ne 0 ] || status=1
exit "$status"
