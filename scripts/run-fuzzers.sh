#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang in their own build
# directory and runs each one a fixed number of times on its checked-in seed
# corpus (fuzz/corpus/<target>/). Prints one line per target:
#   fuzz <target>: runs=N execs_per_s=N time_s=N new_inputs=N result=ok|CRASH
# and exits non-zero when any target crashes, leaks, times out or breaks an
# invariant (the input is saved under $BUILD/fuzz/artifacts/).
#
#   scripts/run-fuzzers.sh [RUNS] [TARGET...]
#
# RUNS defaults to $R2E_FUZZ_RUNS or 4000 (CI size); each target also stops
# after R2E_FUZZ_MAX_TIME seconds (default 10), so the whole run is bounded.
# For long runs by hand: scripts/run-fuzzers.sh 10000000 with a larger
# R2E_FUZZ_MAX_TIME. New inputs go to a scratch copy of the corpus, never into
# the checked-in one (copy what is worth keeping by hand). Regression inputs
# (fuzz/regressions/<target>/, crashes fixed earlier) run first, once each.
#
# The targets build in the ASan tree that scripts/run-sanitizers.sh asan also
# uses (scripts/lib/sanitizer-trees.sh): one instrumented library for both.
# Environment: R2E_ASAN_BUILD_DIR (default build-asan), R2E_JOBS (build
# jobs), CCACHE_DIR as scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

runs=${1:-${R2E_FUZZ_RUNS:-4000}}
[ $# -gt 0 ] && shift
max_time=${R2E_FUZZ_MAX_TIME:-10}
CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
# shellcheck source=lib/sanitizer-trees.sh
. scripts/lib/sanitizer-trees.sh
build=$asan_tree

log() { printf 'run-fuzzers: %s\n' "$*" >&2; }

t0=$(date +%s)
configure_asan_tree
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < "$build/fuzz/targets.txt"
cmake --build "$build" --parallel "${R2E_JOBS:-$(nproc)}" --target "${targets[@]/#/fuzz_}"
log "built ${#targets[@]} targets in $(( $(date +%s) - t0 )) s"

# Leak checks stay on; spdlog's registry and other process-lifetime statics
# are freed at exit, so they do not show up.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
total_runs=0
for t in "${targets[@]}"; do
  [ -n "$t" ] || continue
  exe="$build/fuzz/fuzz_$t"
  work="$build/fuzz/work/$t"
  artifacts="$build/fuzz/artifacts/$t/"
  rm -rf "$work"
  mkdir -p "$work" "$artifacts"
  seeds=()
  [ -d "fuzz/corpus/$t" ] && seeds+=("fuzz/corpus/$t")
  # The real tool scripts seed the tool-description parser (not copied into the corpus).
  [ "$t" = tool_description ] && seeds+=("src/tools/scripts")
  # The multilingual fixtures' logs seed the log parsers, each prefixed with
  # the parser it is for (the fuzzer's "parse_log_<name>\n" form).
  shared=${R2E_SHARED_DIR:-../shared}
  if [ "$t" = log_parsers ] && [ -f "$shared/fixtures/multilingual/cases.jsonl" ]; then
    mkdir -p "$build/fuzz/seeds/$t"
    python3 - "$build/fuzz/seeds/$t" "$shared/fixtures/multilingual" <<'PY'
import json, os, sys
base = sys.argv[2]
for line in open(os.path.join(base, "cases.jsonl")):
    case = json.loads(line)
    with open(os.path.join(base, case["log"]), "rb") as log:
        body = log.read()
    with open(os.path.join(sys.argv[1], case["name"]), "wb") as out:
        out.write(case["parser"].encode() + b"\n" + body)
PY
    seeds+=("$build/fuzz/seeds/$t")
  fi
  # Regressions first: each input once, as a plain test.
  if [ -d "fuzz/regressions/$t" ] && compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    if ! "$exe" -runs=1 fuzz/regressions/"$t"/* >"$build/fuzz/$t.regressions.log" 2>&1; then
      log "$t: a regression input fails again:"; tail -30 "$build/fuzz/$t.regressions.log" >&2
      failed+=("$t"); continue
    fi
  fi
  start=$(date +%s%N)
  set +e
  "$exe" -runs="$runs" -max_total_time="$max_time" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "$work" "${seeds[@]}" >"$build/fuzz/$t.log" 2>&1
  rc=$?
  set -e
  elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/fuzz/$t.log" | tail -1)
  # libFuzzer's own average_exec_per_sec is whole seconds' worth (0 for a run
  # shorter than a second); the wall clock of the run gives the real rate.
  speed=$(( ${execs:-0} * 1000 / (elapsed_ms > 0 ? elapsed_ms : 1) ))
  new=$(find "$work" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    result=ok
  else
    result=CRASH
    failed+=("$t")
    tail -40 "$build/fuzz/$t.log" >&2
  fi
  total_runs=$(( total_runs + ${execs:-0} ))
  printf 'fuzz %s: runs=%s execs_per_s=%s time_s=%d.%d new_inputs=%s result=%s\n' \
    "$t" "${execs:-?}" "${speed:-?}" $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100)) "$new" "$result"
done
log "${#targets[@]} targets, $total_runs executions, $(( $(date +%s) - t0 )) s in all"
if [ ${#failed[@]} -gt 0 ]; then
  log "FAILED: ${failed[*]} (inputs in $build/fuzz/artifacts/)"
  exit 1
fi
