#!/bin/bash
# r2e soak while the CPUs are saturated: starts two busy loops per core, then
# runs `r2e soak` REPEAT times on RUNTIME (different seeds) and requires every
# run to leak nothing (sandboxes, processes) and to pass. Exit 77 (skipped)
# when the runtime is unavailable.
#   tests/soak/under_load.sh R2E_BINARY RUNTIME [REPEAT] [DURATION_S]
set -u
r2e=$1 runtime=$2 repeat=${3:-2} duration=${4:-30}

burners=()
stop_burners() { ((${#burners[@]})) && kill "${burners[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop_burners EXIT
for _ in $(seq $((2 * $(nproc)))); do
  (while :; do :; done) &
  burners+=($!)
done

for run in $(seq "$repeat"); do
  out=$("$r2e" soak --runtime "$runtime" --episodes 4 --max-steps 12 --concurrency 2 \
          --duration "$duration" --seed "$run" --skip-if-unavailable --log-level warn)
  rc=$?
  [ $rc = 77 ] && { echo "skipped: $runtime unavailable"; exit 77; }
  echo "run $run/$repeat (load $(cut -d' ' -f1 /proc/loadavg)): $out"
  leaks=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["leaked_sandboxes"], d["leaked_processes"])') || {
    echo "FAIL: run $run printed no summary (exit $rc)"; exit 1; }
  if [ "$leaks" != "0 0" ] || [ $rc != 0 ]; then
    echo "FAIL: run $run under load: leaked sandboxes/processes $leaks, exit $rc"
    exit 1
  fi
done
echo "ok: $repeat runs on $runtime under load, nothing leaked"
