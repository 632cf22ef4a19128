#!/usr/bin/env bash
# Runs the test suite under the sanitizers, each in its own build tree
# (scripts/lib/sanitizer-trees.sh):
#
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer with leak checking, in
#         the clang tree the fuzzers share: the unit tests (an eighth of the
#         scaffold's tool-replay corpus), the docker tests (which skip without
#         a daemon) but those that drive the r2e program end to end, soak, and
#         the kube tests against the test API server.
#   tsan  ThreadSanitizer: the tests of the code that runs threads (sessions,
#         runtimes, warm pools, EnvPool, evaluation workers, the LLM client;
#         R2E_TSAN_FILTER), and on docker the runtime, client and pool tests
#         (R2E_TSAN_DOCKER_FILTER).
#
#   scripts/run-sanitizers.sh [asan] [tsan]     (default: both)
#
# Prints "sanitizers <stage>: build_s=N test_s=N result=ok|FAILED" per stage
# and exits non-zero when a stage fails (a sanitizer report fails its test).
#
# Environment: R2E_ASAN_BUILD_DIR (build-asan), R2E_TSAN_BUILD_DIR
# (build-tsan), R2E_ASAN_UNIT_FILTER / R2E_ASAN_DOCKER_FILTER (gtest filters),
# R2E_ASAN_REPLAY_SHARD (0-7), R2E_ASAN_CTEST_ARGS (extra arguments for the
# kube and soak ctest run), R2E_TSAN_FILTER / R2E_TSAN_DOCKER_FILTER (gtest filters),
# R2E_SANITIZER_TIMEOUT (seconds per test program), R2E_JOBS, CCACHE_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib/sanitizer-trees.sh
. scripts/lib/sanitizer-trees.sh
jobs=${R2E_JOBS:-$(nproc)}
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(asan tsan)

log() { printf 'run-sanitizers: %s\n' "$*" >&2; }

# Runs one test program with a gtest filter; on failure prints the reports.
# A program that hangs is stopped after R2E_SANITIZER_TIMEOUT seconds (default
# 1200), as ctest's per-test TIMEOUT would.
run_filtered() {  # exe, filter, log
  if timeout -k 10 "${R2E_SANITIZER_TIMEOUT:-1200}" "$1" --gtest_filter="$2" --gtest_brief=1 >"$3" 2>&1; then
    tail -1 "$3" >&2
    return 0
  fi
  grep -E "WARNING: ThreadSanitizer|FAILED|SUMMARY" "$3" | head -20 >&2 || true
  tail -3 "$3" >&2  # a timeout or crash names no failed test
  return 1
}

# Runs a test program in two shards at once (GTEST_SHARD_INDEX 0 and 1), each
# logging to PREFIX.N.log; fails when either does.
run_sharded() {  # exe, filter, log prefix
  local pids=() rc=0 i
  for i in 0 1; do
    GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=$i run_filtered "$1" "$2" "$3.$i.log" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  return $rc
}

failed=()
for stage in "${stages[@]}"; do
  t0=$(date +%s)
  result=ok
  case "$stage" in
    asan)
      dir=$asan_tree
      configure_asan_tree
      log "asan: building in $dir"
      cmake --build "$dir" --parallel "$jobs" --target r2e_unit_tests r2e_docker_tests r2e_kube_tests r2e_cli
      t1=$(date +%s)
      # Leak checking is on: a test that leaks fails. The tests fork children
      # (sessions, bwrap); ASan follows only this process.
      export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0}
      export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
      # The gtest programs run whole, two shards at a time, rather than a
      # process per test through ctest: an ASan process costs ~0.3 s to start,
      # which over a thousand tests was a third of the stage. Left to the main
      # ctest run: the scaffold's tool-replay corpus (231 Python tool runs,
      # 7 minutes under ASan) but for one eighth of it (R2E_ASAN_REPLAY_SHARD
      # of 8) that covers the C++ side, and its replay on r2e-python (the same
      # C++ path), the docker end-to-end tests that drive
      # the r2e program, the docker reward-hacking corpus (its C++ path is
      # FreshGradeTest's, which runs here) (R2E_ASAN_DOCKER_FILTER), the soaks
      # under load (minutes of busy loops) and the CLI's corpus test; the
      # hundred-snapshot test and the docker snapshot tests (shell scripts in
      # the sandbox; the C++ path is the local snapshot tests'), and the
      # scheduler's daemon restart (its C++ path is RolloutSchedulerTest's).
      run_sharded "$dir/tests/r2e_unit_tests" "${R2E_ASAN_UNIT_FILTER:--Corpus/ScaffoldToolReplay.*:CorpusOnBundledPython/*:*SnapshotTest.AHundred*}" \
        "$dir/asan-unit" || result=FAILED
      GTEST_TOTAL_SHARDS=8 GTEST_SHARD_INDEX=${R2E_ASAN_REPLAY_SHARD:-0} \
        run_filtered "$dir/tests/r2e_unit_tests" 'Corpus/ScaffoldToolReplay.*' "$dir/asan-replay.log" || result=FAILED
      run_sharded "$dir/tests/r2e_docker_tests" \
        "${R2E_ASAN_DOCKER_FILTER:--EvalE2ETest.*:SweBenchE2E.*:SweSmithE2E.*:Corpus/DockerRewardHack*:*SnapshotTest*:FaultInjectionTest.DaemonRestartMidBatch*}" \
        "$dir/asan-docker" || result=FAILED
      # The kube tests need ctest's fixture (the test API server); soak runs r2e.
      extra=()
      [ -n "${R2E_ASAN_CTEST_ARGS:-}" ] && read -r -a extra <<<"$R2E_ASAN_CTEST_ARGS"
      if ! ctest --test-dir "$dir" --output-on-failure --no-tests=error -j2 -L 'kube|soak' -E 'soak_under_load|SnapshotTest' \
             "${extra[@]}" >"$dir/sanitizer-ctest.log" 2>&1; then
        result=FAILED
        grep -E "ERROR: AddressSanitizer|runtime error:|LeakSanitizer|Failed|\*\*\*" "$dir/sanitizer-ctest.log" | head -40 >&2 || true
      fi
      grep -E "^[0-9]+% tests passed" "$dir/sanitizer-ctest.log" >&2 || tail -3 "$dir/sanitizer-ctest.log" >&2
      ;;
    tsan)
      dir=$tsan_tree
      configure_tsan_tree
      log "tsan: building in $dir"
      cmake --build "$dir" --parallel "$jobs" --target r2e_unit_tests r2e_docker_tests
      t1=$(date +%s)
      filter=${R2E_TSAN_FILTER:-SessionTest.*:LocalRuntime*:FaultRuntimeTest.*:Eval*:LlmAgentTest.*:LlmClientTest.*:RepoEnv*:*Pool*:RolloutScheduler*:MetricsServer*:FastReset*:StopSignalsTest.*}
      docker_filter=${R2E_TSAN_DOCKER_FILTER:-DockerRuntimeTest.*:DockerClient*:PoolDockerTest.*:DockerSessionPipes*}
      # Halt on the first race: a report fails the stage.
      export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0}
      run_filtered "$dir/tests/r2e_unit_tests" "$filter" "$dir/tsan-unit.log" || result=FAILED
      run_filtered "$dir/tests/r2e_docker_tests" "$docker_filter" "$dir/tsan-docker.log" || result=FAILED
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
