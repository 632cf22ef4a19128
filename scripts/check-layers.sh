#!/usr/bin/env bash
# Checks that every #include of the library points down the layers of
# docs/architecture.md:
#
#   core <- session <- runtimes <- tools, grading <- env <- pool, eval, agent <- cli
#
# An area is a directory of src/ (archive sits with core; local, docker, kube
# and runtimes are the runtimes layer; container, the helpers the docker and
# kube backends share, and image, the image store the local runtime runs
# images from, sit just below them). A public header (include/r2e/X.h)
# belongs to the area that implements it (the table below). A file may include
#   - headers of its own area,
#   - public headers of its own layer or a lower one,
#   - private headers (src/<area>/*.h) of a lower layer only.
# Public headers themselves may include public headers of their layer or a
# lower one.
#
#   scripts/check-layers.sh [REPO]       prints the include graph by area
#                                        and every violation; exit 1 if any
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

# Layer of each area.
declare -A LAYER=(
  [core]=0 [archive]=0
  [session]=10
  [container]=15 [image]=15
  [runtimes]=20 [local]=20 [docker]=20 [kube]=20
  [tools]=30 [grading]=30
  [env]=40
  [pool]=50 [eval]=50 [agent]=50
  [cli]=60
)

# Area of each public header (include/r2e/<name>.h).
declare -A PUBLIC=(
  [config]=core [status]=core [task]=core [exec]=core [shell_quote]=core [action]=core [observation]=core
  [session]=session
  [runtime]=runtimes [runtimes]=runtimes [runtime_wrapper]=runtimes [cleanup_report]=runtimes
  [fault_runtime]=runtimes [local_runtime]=local [docker_runtime]=docker [image_store]=image
  [kube_runtime]=kube [kube_config]=kube
  [tools]=tools
  [grader]=grading [log_parsers]=grading [swebench]=grading [swesmith_profiles]=grading
  [repo_env]=env [snapshot]=env [git_ops]=env [trajectory]=env [warm_pool]=env
  [env_pool]=pool [rollout_scheduler]=pool [rollout_stats]=pool [metrics_server]=pool [evaluation]=eval [llm_agent]=agent [scaffold_prompts]=agent
)

# "<area of the including file> <path of the including file> <include>"
includes() {
  local f area
  for f in $(find src -type f \( -name '*.h' -o -name '*.cc' -o -name '*.inc' -o -name '*.in' \) | sort); do
    area=${f#src/}
    area=${area%%/*}
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
      while read -r inc; do echo "$area $f $inc"; done
  done
  for f in include/r2e/*.h; do
    area=$(basename "$f" .h)
    area=${PUBLIC[$area]:-?}
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
      while read -r inc; do echo "$area $f $inc"; done
  done
}

bad=0
graph=$(mktemp)
trap 'rm -f "$graph"' EXIT
while read -r from file inc; do
  case "$inc" in
    r2e/*)
      name=${inc#r2e/}
      name=${name%.h}
      to=${PUBLIC[$name]:-}
      kind=public
      ;;
    */*)
      to=${inc%%/*}
      kind=private
      [[ -n "${LAYER[$to]:-}" ]] || continue  # not a library area (e.g. a test's)
      ;;
    *)
      continue  # a file next to the includer: its own area
      ;;
  esac
  if [[ -z "$to" || "$from" == "?" ]]; then
    echo "UNKNOWN  $file: #include \"$inc\" (add the header to PUBLIC in $0)"
    bad=1
    continue
  fi
  [[ "$from" == "$to" ]] && continue
  echo "$from -> $to" >>"$graph"
  if (( LAYER[$to] > LAYER[$from] )); then
    echo "UP       $file ($from) includes $inc ($to)"
    bad=1
  elif [[ $kind == private && ${file%%/*} == include ]]; then
    echo "PRIVATE  $file is public but includes $inc"
    bad=1
  elif [[ $kind == private ]] && (( LAYER[$to] == LAYER[$from] )); then
    echo "SIDEWAYS $file ($from) includes $inc, private to $to"
    bad=1
  fi
done < <(includes)

echo "include graph by area (from -> to: includes)"
sort "$graph" | uniq -c | awk '{printf "  %-10s -> %-10s %3d\n", $2, $4, $1}'
if (( bad )); then
  echo "FAIL: some includes point up or into another area's private headers"
  exit 1
fi
echo "OK: every include points down"
