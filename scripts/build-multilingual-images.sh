#!/usr/bin/env bash
# Builds the multilingual demo tasks' images and writes their dataset rows:
# one small project per language under examples/tasks/multilingual/<language>/
# (repo/: the buggy project; gold.patch; test.patch: the hidden tests;
# task.json: the row's other fields, the Debian packages of the toolchain and
# the test command), each built as r2e-demo/<name>:latest FROM
# r2e-test/base:bookworm (tests/images/multilingual.Dockerfile):
#
#   go          golang-go            go test -v                 parse_log_gotest
#   rust        cargo                cargo test                 parse_log_cargo
#   javascript  nodejs + jest (npm)  jest --verbose             parse_log_jest
#   ruby        ruby, ruby-minitest  ruby -Itest ... -v         parse_log_minitest
#   php         php-cli, phpunit     phpunit --testdox          parse_log_phpunit
#
# examples/tasks/demo-multilingual.jsonl gets one SWE-bench 5.x row per task:
# the row carries its own eval_script (the harness's script shape: reset the
# test files, apply test_patch, the test command between the log markers),
# log_parser and eval_type, as 5.x rows do.
#
# Needs r2e-test/base:bookworm (scripts/build-test-images.sh) and a running
# Docker daemon. The toolchains come from Debian's mirror at build time (the
# containers of `docker build` reach it), jest from the npm registry through
# the host's npm (installed with apt when missing) into R2E_CACHE_DIR.
# Images are cached by content like the other test images (label r2e.inputs);
# the builds run in parallel. A second run with nothing changed takes a second.
#
# Environment: R2E_CACHE_DIR (default /var/cache/r2e), R2E_REBUILD=1.
# Options: --check  fail instead of rewriting a row file that differs.
script_name=build-multilingual-images
. "$(dirname "${BASH_SOURCE[0]}")/lib/images.sh" "$@"

if ! command -v npm >/dev/null 2>&1; then
  say "installing npm (to vendor jest into the JavaScript image)"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >/dev/null
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
find_docker
base_image=r2e-test/base:bookworm
base_id=$("${docker[@]}" image inspect -f '{{.Id}}' "$base_image" 2>/dev/null) ||
  die "$base_image is missing: run scripts/build-test-images.sh first"

"${sudo_cmd[@]}" mkdir -p "$cache"
exec 9>>"$cache/build-multilingual.lock"
flock -w 1800 9 || die "another build holds $cache/build-multilingual.lock"

work=$(mktemp -d /tmp/r2e-multilingual.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT

tasks_dir=examples/tasks/multilingual
rows_jsonl=examples/tasks/demo-multilingual.jsonl
common_inputs=$(
  {
    echo "base $base_id"
    sha256sum "${BASH_SOURCE[0]}" scripts/lib/images.sh tests/images/multilingual.Dockerfile | cut -c1-64
  } | sha)

field() { # task.json field
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# jest, from the npm registry, vendored: installed once per package.json into
# the cache and copied into the image as /testbed/node_modules.
node_modules_for() { # package.json -> prints the node_modules directory
  local key dir
  key=$(sha <"$1" | cut -c1-16)
  dir=$cache/npm-$key
  if [ ! -d "$dir/node_modules" ]; then
    "${sudo_cmd[@]}" rm -rf "$dir.partial"
    "${sudo_cmd[@]}" mkdir -p "$dir.partial"
    "${sudo_cmd[@]}" cp "$1" "$dir.partial/package.json"
    say "npm install (devDependencies of $1) into $dir"
    (cd "$dir.partial" && "${sudo_cmd[@]}" npm install --no-audit --no-fund --ignore-scripts \
       --loglevel=error >"$work/npm.log" 2>&1) || { tail -20 "$work/npm.log" >&2; die "npm install failed"; }
    "${sudo_cmd[@]}" mv "$dir.partial" "$dir"
  fi
  echo "$dir/node_modules"
}

# The row of one task (stdout): the fields of task.json a row has, the
# patches, the image and base commit, and the eval script.
cat >"$work/row.py" <<'PY'
import json, re, sys

task_dir, image, base = sys.argv[1:4]
task = json.load(open(task_dir + "/task.json"))
gold = open(task_dir + "/gold.patch").read()
test_patch = open(task_dir + "/test.patch").read()
# The files the test patch modifies (those with a source: reset before and
# after the run, as the harness's scripts do).
test_files = []
for m in re.finditer(r"^--- a/(\S+)$", test_patch, re.M):
    test_files.append(m.group(1))
reset = "git checkout %s %s" % (base, " ".join(test_files))
eval_script = "\n".join([
    "#!/bin/bash",
    "set -uxo pipefail",
    "cd /testbed",
    "git config --global --add safe.directory /testbed",
    "cd /testbed",
    reset,
    "git apply --verbose --reject - <<'EOF_114329324912'",
    test_patch,
    "EOF_114329324912",
    ": '>>>>> Start Test Output'",
    task["test_cmd"],
    ": '>>>>> End Test Output'",
    reset,
]) + "\n"
row = {
    "instance_id": task["instance_id"],
    "repo": task["repo"],
    "image_name": image,
    "base_commit": base,
    "version": "0.1",
    "problem_statement": task["problem_statement"],
    "patch": gold,
    "test_patch": test_patch,
    "FAIL_TO_PASS": task["FAIL_TO_PASS"],
    "PASS_TO_PASS": task["PASS_TO_PASS"],
    "eval_script": eval_script,
    "log_parser": task["log_parser"],
    "eval_type": "pass_and_fail",
    "language": task["language"],
}
sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
PY

pids=()
names=()
: >"$work/rows.jsonl"
for dir in "$tasks_dir"/*/; do
  dir=${dir%/}
  lang=$(basename "$dir")
  [ -f "$dir/task.json" ] || continue
  image=r2e-demo/$(field "$dir/task.json" repo | sed 's|.*/||'):latest
  packages=$(field "$dir/task.json" packages)
  warmup=$(field "$dir/task.json" warmup)
  ctx=$work/ctx-$lang
  copy_tree "$dir/repo" "$ctx/testbed"
  git_init "$ctx/testbed" /node_modules/ /target/ /Cargo.lock
  base=$(git -C "$ctx/testbed" rev-parse HEAD)
  for patch in gold.patch test.patch; do
    git -C "$ctx/testbed" apply --check "$root/$dir/$patch" || die "$dir/$patch does not apply to $dir/repo"
  done
  python3 "$work/row.py" "$dir" "$image" "$base" >>"$work/rows.jsonl"
  inputs=$(
    {
      echo "$common_inputs $packages $warmup"
      tree_hash "$dir/repo"
    } | sha)
  if up_to_date "$image" "$inputs"; then
    say "$image is up to date"
    continue
  fi
  if [ -f "$dir/repo/package.json" ]; then
    modules=$(node_modules_for "$dir/repo/package.json")
    cp -a "$modules" "$ctx/testbed/node_modules"
  fi
  cp tests/images/multilingual.Dockerfile "$ctx/Dockerfile"
  say "building $image ($packages from Debian's mirror)"
  (
    t0=$SECONDS
    if "${docker[@]}" build --pull=false -t "$image" \
        --build-arg "PACKAGES=$packages" --build-arg "WARMUP=$warmup" --build-arg "BASE_COMMIT=$base" \
        --label "r2e.inputs=$inputs" --label "r2e.flavour=multilingual" \
        --label "r2e.base_commit=$base" --label "r2e.language=$lang" \
        --label "r2e.instance_id=$(field "$dir/task.json" instance_id)" \
        "$ctx" >"$work/build-$lang.log" 2>&1; then
      say "built $image in $((SECONDS - t0))s"
    else
      say "docker build of $image failed:"
      tail -n 40 "$work/build-$lang.log" >&2
      exit 1
    fi
  ) &
  pids+=($!)
  names+=("$image")
done

failed=()
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("${names[$i]}")
done
[ ${#failed[@]} -eq 0 ] || die "failed: ${failed[*]}"

update_file "$work/rows.jsonl" "$rows_jsonl" "$tasks_dir"
"${docker[@]}" image prune -f --filter label=r2e.inputs >/dev/null 2>&1 || true
say "done in $((SECONDS - t_start))s"
