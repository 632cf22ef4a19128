#!/usr/bin/env bash
# Runs the test suite under the sanitizers, each in its own build directory:
#
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer (-DR2E_SANITIZE=ON):
#         the unit tests and the docker tests (which skip without a daemon),
#         the r2e program included (the eval end-to-end tests run it).
#   tsan  ThreadSanitizer (-DR2E_SANITIZE_THREAD=ON): the tests of the code
#         that runs threads: sessions, runtimes, evaluation workers, the LLM
#         agent's client (R2E_TSAN_FILTER; pools join the list as they land).
#
#   scripts/run-sanitizers.sh [asan] [tsan]     (default: both)
#
# Prints "sanitizers <stage>: build_s=N test_s=N result=ok|FAILED" per stage
# and exits non-zero when a stage fails (a sanitizer report fails its test).
#
# Environment: R2E_ASAN_BUILD_DIR (build-asan), R2E_TSAN_BUILD_DIR
# (build-tsan), R2E_ASAN_CTEST_ARGS (extra ctest arguments, e.g. "-L docker"
# or "-LE docker"), R2E_TSAN_FILTER (gtest filter), R2E_JOBS, CCACHE_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
export CCACHE_DIR=${CCACHE_DIR:-${HOME:-/root}/.cache/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
jobs=${R2E_JOBS:-$(nproc)}
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(asan tsan)

log() { printf 'run-sanitizers: %s\n' "$*" >&2; }

configure() {  # dir, extra cmake args...
  local dir=$1
  shift
  local args=(-S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DR2E_BUILD_EXAMPLES=OFF
              -DR2E_BUILD_BENCH=ON -DR2E_INSTALL=OFF "$@")
  [ -f "$dir/CMakeCache.txt" ] || args+=(-G Ninja)
  command -v ccache >/dev/null 2>&1 && args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake "${args[@]}" >/dev/null
}

failed=()
for stage in "${stages[@]}"; do
  t0=$(date +%s)
  result=ok
  case "$stage" in
    asan)
      dir=${R2E_ASAN_BUILD_DIR:-build-asan}
      configure "$dir" -DR2E_SANITIZE=ON
      log "asan: building in $dir"
      cmake --build "$dir" --parallel "$jobs" --target r2e_unit_tests r2e_docker_tests r2e_cli
      t1=$(date +%s)
      # Leak checking is on: a test that leaks fails. The tests fork children
      # (sessions, bwrap); ASan follows only this process.
      extra=()
      [ -n "${R2E_ASAN_CTEST_ARGS:-}" ] && read -r -a extra <<<"$R2E_ASAN_CTEST_ARGS"
      if ! ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0} \
           UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
           ctest --test-dir "$dir" --output-on-failure --no-tests=error -j2 -LE 'install|kube' \
             "${extra[@]}" >"$dir/sanitizer-ctest.log" 2>&1; then
        result=FAILED
        grep -E "ERROR: AddressSanitizer|runtime error:|LeakSanitizer|Failed|\*\*\*" "$dir/sanitizer-ctest.log" | head -40 >&2 || true
      fi
      tail -3 "$dir/sanitizer-ctest.log" | head -1 >&2
      ;;
    tsan)
      dir=${R2E_TSAN_BUILD_DIR:-build-tsan}
      configure "$dir" -DR2E_SANITIZE_THREAD=ON -DR2E_BUILD_BENCH=OFF -DR2E_BUILD_CLI=OFF
      log "tsan: building in $dir"
      cmake --build "$dir" --parallel "$jobs" --target r2e_unit_tests r2e_docker_tests
      t1=$(date +%s)
      filter=${R2E_TSAN_FILTER:-SessionTest.*:LocalRuntime*:FaultRuntimeTest.*:Eval*:LlmAgentTest.*:LlmClientTest.*:RepoEnv*:*Pool*}
      docker_filter=${R2E_TSAN_DOCKER_FILTER:-DockerRuntimeTest.*:DockerClient*}
      # Each test program runs once with the filter; halt on the first race.
      export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0}
      if ! "$dir/tests/r2e_unit_tests" --gtest_filter="$filter" --gtest_brief=1 >"$dir/tsan-unit.log" 2>&1; then
        result=FAILED
        grep -E "WARNING: ThreadSanitizer|FAILED|SUMMARY" "$dir/tsan-unit.log" | head -20 >&2 || true
      fi
      if ! "$dir/tests/r2e_docker_tests" --gtest_filter="$docker_filter" --gtest_brief=1 >"$dir/tsan-docker.log" 2>&1; then
        result=FAILED
        grep -E "WARNING: ThreadSanitizer|FAILED|SUMMARY" "$dir/tsan-docker.log" | head -20 >&2 || true
      fi
      tail -2 "$dir/tsan-unit.log" "$dir/tsan-docker.log" >&2
      ;;
    *)
      log "unknown stage $stage (asan, tsan)"
      exit 2
      ;;
  esac
  t2=$(date +%s)
  printf 'sanitizers %s: build_s=%d test_s=%d result=%s\n' "$stage" $((t1 - t0)) $((t2 - t1)) "$result"
  [ "$result" = ok ] || failed+=("$stage")
done
if [ ${#failed[@]} -gt 0 ]; then
  log "FAILED: ${failed[*]}"
  exit 1
fi
