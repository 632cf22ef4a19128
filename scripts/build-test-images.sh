#!/usr/bin/env bash
# Builds the offline test images (no registry needed), cached by tag:
#
#   r2e-test/base:bookworm               debootstrap --variant=minbase bookworm
#                                        (git, python3, pytest, chardet), docker import
#   r2e-demo/textstats:latest            the demo task, R2E style
#   r2e-demo/textstats-swebench:latest   the demo task, SWE-bench style, also tagged
#                                        sweb.eval.x86_64.r2e-demo__textstats-swebench-1:latest
#                                        (the name SWE-bench's harness gives it)
#   r2e-demo/textstats-swesmith:latest   the demo task, SWE-smith style
#   r2e-test/imgenv:latest               the R2E demo task with its own ENV
#   r2e-test/badpath:latest              the R2E demo task with an unusable PATH
#   r2e-test/imguser:latest              the R2E demo task run as user agent (uid 1234)
#
# and writes the dataset rows of the SWE-bench and SWE-smith flavours
# (examples/tasks/demo-swebench.jsonl, examples/tasks/demo-swesmith.jsonl) from
# real pytest runs in the built images: FAIL_TO_PASS and PASS_TO_PASS are what
# the benchmark's own log parser reads from the buggy and the fixed runs.
# examples/tasks/demo-swebench-published.jsonl is the SWE-bench row as the hub
# publishes rows: no image_name, no kind.
#
# Each image carries a label r2e.inputs, a hash of what it was built from; an
# image whose tag exists with the same hash is skipped, so a second run takes
# seconds. The debootstrap root filesystem (and its .deb files) are cached in
# R2E_CACHE_DIR, so rebuilding the base image does not download again.
# Dockerfiles and what each image holds: tests/images/README.md.
#
# Needs a running Docker daemon (scripts/start-dockerd.sh). Installs
# debootstrap, python3, git and curl with apt when missing.
#
# Environment:
#   R2E_CACHE_DIR       cache directory (default /var/cache/r2e)
#   R2E_DEBIAN_MIRROR   Debian mirror for debootstrap (default: the first one
#                       in the apt sources that serves bookworm, else
#                       http://deb.debian.org/debian)
#   R2E_REBUILD=1       rebuild every image even when its tag is up to date
#                       (the root filesystem cache is kept)
# Options:
#   --check             fail (exit 1) instead of rewriting a dataset row file
#                       that differs from what the images give
script_name=build-test-images
. "$(dirname "${BASH_SOURCE[0]}")/lib/images.sh" "$@"

# --- tools -----------------------------------------------------------------------
installed() {
  dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}
missing=()
for p in debootstrap debian-archive-keyring python3 git curl; do
  installed "$p" || missing+=("$p")
done
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >/dev/null
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The host's python3 may be another one on PATH (pyenv); any python3 >= 3.7 does.
python=$(command -v python3)

find_docker

"${sudo_cmd[@]}" mkdir -p "$cache"
# One build at a time per cache (test.sh may run twice on one machine).
exec 9>>"$cache/build.lock"
flock -w 1800 9 || die "another build holds $cache/build.lock"

work=$(mktemp -d /tmp/r2e-images.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT

# =====================================================================================
# 1. base image: debootstrap minbase bookworm -> docker import
# =====================================================================================
base_image=r2e-test/base:bookworm
suite=bookworm
variant=minbase
include=git,python3,python3-pytest,python3-chardet,ca-certificates,procps
# Bump when the post-processing of the root filesystem below changes.
rootfs_version=1
rootfs_key=$(printf '%s\n' "$rootfs_version" "$suite" "$variant" "$include" | sha | cut -c1-16)
rootfs=$cache/rootfs-$suite-$variant-$rootfs_key
import_changes=(
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  'ENV LANG=C.UTF-8'
  'CMD ["/bin/bash"]'
)
# Left out of the image: mount points' contents and what no test reads
# (documentation and translations: about a quarter of the size).
import_excludes=(
  './dev/*' './proc/*' './sys/*' './usr/share/doc/*' './usr/share/man/*'
  './usr/share/info/*' './usr/share/locale/*' './var/cache/debconf/*-old'
)
base_inputs=$(printf '%s\n' "$rootfs_key" "${import_changes[@]}" "${import_excludes[@]}" | sha)

pick_mirror() {
  local candidates=() m f
  [ -n "${R2E_DEBIAN_MIRROR:-}" ] && candidates+=("$R2E_DEBIAN_MIRROR")
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    while read -r m; do candidates+=("$m"); done < <(
      sed -n -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([a-z+]+:\/\/[^[:space:]]+).*/\2/p' "$f")
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    while read -r m; do candidates+=("$m"); done < <(
      sed -n -E 's/^URIs:[[:space:]]*//p' "$f" | tr ' ' '\n' | grep -E '^[a-z+]+://')
  done
  candidates+=(http://deb.debian.org/debian)
  for m in "${candidates[@]}"; do
    m=${m%/}
    case "$m" in http://*|https://*) ;; *) continue ;; esac
    # A mirror of the main archive serves dists/<suite>/Release (a security or
    # third-party repository does not).
    if curl -fsS --max-time 20 -o /dev/null "$m/dists/$suite/Release" 2>/dev/null; then
      echo "$m"
      return 0
    fi
  done
  return 1
}

make_rootfs() {
  local mirror partial="$rootfs.partial" t0=$SECONDS
  mirror=$(pick_mirror) || die "no Debian mirror serves $suite (tried the apt sources and deb.debian.org); set R2E_DEBIAN_MIRROR"
  say "debootstrap $variant $suite from $mirror into $rootfs (first run downloads packages: a few minutes)"
  "${sudo_cmd[@]}" rm -rf --one-file-system "$partial"
  "${sudo_cmd[@]}" mkdir -p "$cache/debs"
  if ! "${sudo_cmd[@]}" debootstrap --variant="$variant" --include="$include" \
      --cache-dir="$cache/debs" "$suite" "$partial" "$mirror" >"$cache/debootstrap.log" 2>&1; then
    say "debootstrap failed; last 50 lines of $cache/debootstrap.log:"
    tail -n 50 "$cache/debootstrap.log" >&2
    exit 1
  fi
  # Slim it and make it host-neutral: no package lists or .debs, no host name
  # or resolver (the runtime provides both); git trusts every directory, so a
  # repository owned by another user (e.g. a non-root sandbox user) still works.
  "${sudo_cmd[@]}" sh -c '
    set -e
    cd "$1"
    rm -rf var/lib/apt/lists/* var/cache/apt/archives/*.deb var/cache/apt/*.bin
    rm -f etc/hostname etc/resolv.conf
    printf "[safe]\n\tdirectory = *\n" > etc/gitconfig
  ' sh "$partial"
  # What the task images and the runtimes rely on.
  local tool
  for tool in bash git python3 head tail timeout setsid ps tar sleep; do
    "${sudo_cmd[@]}" chroot "$partial" /bin/sh -c "command -v $tool >/dev/null" ||
      die "the $variant root filesystem has no $tool"
  done
  "${sudo_cmd[@]}" chroot "$partial" python3 -c 'import pytest, venv' ||
    die "python3 in the root filesystem cannot import pytest and venv"
  "${sudo_cmd[@]}" rm -rf --one-file-system "$rootfs"
  "${sudo_cmd[@]}" mv "$partial" "$rootfs"
  say "root filesystem ready in $((SECONDS - t0))s ($("${sudo_cmd[@]}" du -sh "$rootfs" | cut -f1))"
}

if up_to_date "$base_image" "$base_inputs"; then
  say "$base_image is up to date"
else
  [ -x "$rootfs/bin/bash" ] || make_rootfs
  say "importing $rootfs as $base_image"
  changes=()
  for c in "${import_changes[@]}" "LABEL r2e.inputs=$base_inputs"; do changes+=(--change "$c"); done
  excludes=()
  for x in "${import_excludes[@]}"; do excludes+=(--exclude="$x"); done
  "${sudo_cmd[@]}" tar -C "$rootfs" --numeric-owner "${excludes[@]}" -cf - . |
    "${docker[@]}" import "${changes[@]}" --message "r2e test base: debootstrap $variant $suite" - "$base_image" >/dev/null
fi
base_id=$("${docker[@]}" image inspect -f '{{.Id}}' "$base_image")

# =====================================================================================
# 2. the demo task in three flavours
# =====================================================================================
demo=examples/tasks/demo
demo_jsonl=examples/tasks/demo.jsonl
[ -f "$demo_jsonl" ] && [ -d "$demo/repo" ] && [ -d "$demo/r2e_tests" ] || die "missing $demo"

# Everything the task images are built from: a change in any of it rebuilds them.
demo_inputs=$(
  {
    echo "base $base_id"
    sha256sum "${BASH_SOURCE[0]}" tests/images/*.Dockerfile "$demo_jsonl" | cut -c1-64
    tree_hash "$demo/repo" "$demo/r2e_tests"
  } | sha)

# Fields of the R2E row the other flavours reuse.
"$python" - "$demo_jsonl" "$work" <<'PY'
import json, sys
row = json.loads(open(sys.argv[1]).readline())
out = sys.argv[2]
open(out + "/gold.diff", "w").write(row["patch"])
json.dump({"problem_statement": row["problem_statement"],
           "scripted_actions": row.get("scripted_actions", [])},
          open(out + "/r2e_row.json", "w"))
PY

build_image() { # name flavour inputs context [extra docker build args...]
  local name=$1 flavour=$2 inputs=$3 ctx=$4 t0=$SECONDS
  shift 4
  cp "tests/images/$flavour.Dockerfile" "$ctx/Dockerfile"
  if ! "${docker[@]}" build --pull=false -f "$ctx/Dockerfile" -t "$name" \
      --label "r2e.inputs=$inputs" --label "r2e.flavour=$flavour" "$@" "$ctx" \
      >"$work/build-$flavour.log" 2>&1; then
    say "docker build of $name failed:"
    tail -n 50 "$work/build-$flavour.log" >&2
    exit 1
  fi
  say "built $name in $((SECONDS - t0))s"
}

# Dataset rows: rewritten when they differ from what the images give.
# A stamp per image (its inputs hash -> the sha256 of the row file) skips the
# pytest runs when neither the image nor the file changed.
stamp_dir=$cache/datasets
"${sudo_cmd[@]}" mkdir -p "$stamp_dir"
rows_ok() { # jsonl inputs
  local stamp="$stamp_dir/$(basename "$1").$2"
  [ "${R2E_REBUILD:-0}" != 1 ] && [ -f "$1" ] && [ -f "$stamp" ] &&
    [ "$(sha <"$1")" = "$(cat "$stamp")" ]
}
write_rows() { # generated-file jsonl inputs
  local gen=$1 jsonl=$2 inputs=$3
  update_file "$gen" "$jsonl" "the images"
  sha <"$jsonl" | "${sudo_cmd[@]}" tee "$stamp_dir/$(basename "$jsonl").$inputs" >/dev/null
}

# Runs bash -c SCRIPT in a throwaway container without network, with $work
# mounted read-only at /work; prints the output (stdout and stderr).
in_container() { # image script
  "${docker[@]}" run --rm --network none -v "$work:/work:ro" "$1" bash -c "$2" 2>&1
}

# The dataset row generator: parses the test logs of the buggy and the fixed
# runs with the benchmark's own parser (SWE-bench classic parse_log_pytest, or
# SWE-smith's default Python parser), so the test names are exactly those the
# graders will look up (SWE-bench's cuts names with spaces at the first space).
cat >"$work/rows.py" <<'PY'
import json, re, sys

mode, work, iid, image, base, before_log, after_log = sys.argv[1:8]
r2e = json.load(open(work + "/r2e_row.json"))
gold = open(work + "/gold.diff").read()
STATUSES = ["FAILED", "PASSED", "SKIPPED", "ERROR", "XFAIL"]


def die(msg, log=""):
    sys.stderr.write("build-test-images: %s\n%s\n" % (msg, log[-4000:]))
    sys.exit(1)


def slice_markers(log, start, end):
    if start not in log or end not in log:
        die("test log without the >>>>> markers", log)
    s = log.index(start) + len(start)
    e = log.find(end, s)
    if e < 0:
        die("test log without an End marker after the Start marker", log)
    return log[s:e]


def parse_swebench(log):  # classic parse_log_pytest over the marked slice
    def parse(text):
        m = {}
        for line in text.split("\n"):
            if any(line.startswith(st) for st in STATUSES):
                if line.startswith("FAILED"):
                    line = line.replace(" - ", " ")
                tok = line.split()
                if len(tok) >= 2:
                    m[tok[1]] = tok[0]
        return m
    text = slice_markers(log, ">>>>> Start Test Output", ">>>>> End Test Output")
    return parse(text) or parse(log)


def parse_swesmith(log):  # SWE-smith's default Python parser
    text = slice_markers(log, "+ : '>>>>> Start Test Output'", "+ : '>>>>> End Test Output'")
    m = {}
    for line in text.split("\n"):
        for st in STATUSES:
            g = re.match(r"^(\S+)(\s+)" + st, line)
            if g:
                m[g.group(1)] = st
    return m


parse = parse_swebench if mode == "swebench" else parse_swesmith
before_text = open(before_log, errors="replace").read()
after_text = open(after_log, errors="replace").read()
before, after = parse(before_text), parse(after_text)
passed = lambda m, t: m.get(t) in ("PASSED", "XFAIL")
if not after:
    die("no test results with the gold patch", after_text)
bad = [t for t in after if not passed(after, t)]
if bad:
    die("tests fail with the gold patch: %s" % bad, after_text)
f2p = [t for t in after if not passed(before, t)]
p2p = [t for t in after if passed(before, t)]
if not f2p:
    die("no test fails on the bug", before_text)
if mode == "swesmith":
    # SWE-smith may run only the files of FAIL_TO_PASS: keep the PASS_TO_PASS
    # tests that such a run also reports.
    files = {t.split("::")[0] for t in f2p}
    p2p = [t for t in p2p if t.split("::")[0] in files]

statement = r2e["problem_statement"]
g = re.search(r"\[ISSUE\](.*)\[/ISSUE\]", statement, re.S)
if g:
    statement = g.group(1).strip() + "\n"
row = {"instance_id": iid, "repo": "r2e-demo/textstats", "image_name": image,
       "base_commit": base}
if mode == "swebench":
    row["version"] = "0.1"
row["problem_statement"] = statement
row["patch"] = gold
if mode == "swebench":
    row["test_patch"] = open(work + "/test.diff").read()
row["FAIL_TO_PASS"] = f2p
row["PASS_TO_PASS"] = p2p
if r2e.get("scripted_actions"):
    row["scripted_actions"] = r2e["scripted_actions"]
sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
sys.stderr.write("build-test-images: %s: %d FAIL_TO_PASS, %d PASS_TO_PASS\n"
                 % (iid, len(f2p), len(p2p)))
PY

# --- 2a. R2E style --------------------------------------------------------------------
r2e_image=r2e-demo/textstats:latest
r2e_inputs=$(printf '%s r2e\n' "$demo_inputs" | sha)
if up_to_date "$r2e_image" "$r2e_inputs"; then
  say "$r2e_image is up to date"
else
  ctx=$work/ctx-r2e
  copy_tree "$demo/repo" "$ctx/testbed"
  copy_tree "$demo/r2e_tests" "$ctx/r2e_tests"
  git_init "$ctx/testbed" /run_tests.sh /.venv/ /r2e_tests
  build_image "$r2e_image" r2e "$r2e_inputs" "$ctx" \
    --label "r2e.instance_id=r2e-demo__textstats-1"
fi

# --- 2b. SWE-bench style -------------------------------------------------------------
sb_image=r2e-demo/textstats-swebench:latest
sb_id=r2e-demo__textstats-swebench-1
sb_jsonl=examples/tasks/demo-swebench.jsonl
sb_inputs=$(printf '%s swebench\n' "$demo_inputs" | sha)
ctx=$work/ctx-swebench
copy_tree "$demo/repo" "$ctx/testbed" run_tests.sh
git_init "$ctx/testbed" /.venv/
sb_base=$(git -C "$ctx/testbed" rev-parse HEAD)
# test_patch: the hidden tests, added under tests/hidden/.
scratch=$work/swebench-test-patch
git clone -q "$ctx/testbed" "$scratch"
for f in $(task_files "$demo/r2e_tests"); do
  case "$f" in test_*.py) install -D -m 644 "$demo/r2e_tests/$f" "$scratch/tests/hidden/$f" ;; esac
done
git -C "$scratch" add -A
git -C "$scratch" diff --cached --no-color --no-ext-diff --no-renames >"$work/test.diff"
# The test directives, as SWE-bench derives them: the b/ paths of the test patch.
sb_directives=$(sed -n 's|^diff --git a/.* b/||p' "$work/test.diff" | LC_ALL=C sort | tr '\n' ' ')
cat >"$ctx/run_tests.sh" <<EOF
#!/bin/bash
set -uxo pipefail
cd /testbed
: '>>>>> Start Test Output'
python3 -m pytest -rA ${sb_directives% }
: '>>>>> End Test Output'
EOF
chmod 755 "$ctx/run_tests.sh"
if up_to_date "$sb_image" "$sb_inputs"; then
  say "$sb_image is up to date"
else
  build_image "$sb_image" swebench "$sb_inputs" "$ctx" \
    --build-arg "BASE_COMMIT=$sb_base" --label "r2e.base_commit=$sb_base" \
    --label "r2e.instance_id=$sb_id"
fi
[ "$(label_of "$sb_image" r2e.base_commit)" = "$sb_base" ] ||
  die "$sb_image has base commit $(label_of "$sb_image" r2e.base_commit), expected $sb_base"
if rows_ok "$sb_jsonl" "$sb_inputs"; then
  say "$sb_jsonl is up to date"
else
  say "running the SWE-bench flavour's tests on the bug and on the gold patch"
  in_container "$sb_image" 'git apply -v /work/test.diff && bash /run_tests.sh' >"$work/sb-before.log" || true
  in_container "$sb_image" 'git apply -v /work/test.diff && git apply -v /work/gold.diff && bash /run_tests.sh' \
    >"$work/sb-after.log" || true
  "$python" "$work/rows.py" swebench "$work" "$sb_id" "$sb_image" "$sb_base" \
    "$work/sb-before.log" "$work/sb-after.log" >"$work/demo-swebench.jsonl"
  write_rows "$work/demo-swebench.jsonl" "$sb_jsonl" "$sb_inputs"
fi

# --- 2b'. the SWE-bench flavour as the harness names and publishes it ------------------
# The harness names an image it builds locally sweb.eval.<arch>.<id lowercased>:latest
# (x86_64 on every host); the published row names no image and no kind.
# Tagging the image again costs nothing and keeps the two in step.
sb_harness_image=sweb.eval.x86_64.$(printf '%s' "$sb_id" | tr '[:upper:]' '[:lower:]'):latest
if [ "$("${docker[@]}" image inspect -f '{{.Id}}' "$sb_harness_image" 2>/dev/null || true)" != \
     "$("${docker[@]}" image inspect -f '{{.Id}}' "$sb_image")" ]; then
  "${docker[@]}" tag "$sb_image" "$sb_harness_image"
  say "tagged $sb_image as $sb_harness_image"
else
  say "$sb_harness_image is up to date"
fi
sb_published_jsonl=examples/tasks/demo-swebench-published.jsonl
# The row as the hub publishes SWE-bench rows: its fields in the hub's order,
# lists as JSON-encoded strings, no image_name, kind or extension of ours.
"$python" - "$sb_jsonl" >"$work/demo-swebench-published.jsonl" <<'PY'
import json, sys
row = json.loads(open(sys.argv[1]).readline())
out = {}
for key in ["repo", "instance_id", "base_commit", "patch", "test_patch", "problem_statement"]:
    out[key] = row[key]
out["hints_text"] = ""
out["created_at"] = "2024-01-01T00:00:00Z"
out["version"] = row["version"]
out["FAIL_TO_PASS"] = json.dumps(row["FAIL_TO_PASS"])
out["PASS_TO_PASS"] = json.dumps(row["PASS_TO_PASS"])
out["environment_setup_commit"] = row["base_commit"]
sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
PY
update_file "$work/demo-swebench-published.jsonl" "$sb_published_jsonl" "$sb_jsonl"

# --- 2c. SWE-smith style ---------------------------------------------------------------
sm_image=r2e-demo/textstats-swesmith:latest
sm_id=r2e-demo__textstats-swesmith-1
sm_jsonl=examples/tasks/demo-swesmith.jsonl
sm_inputs=$(printf '%s swesmith\n' "$demo_inputs" | sha)
ctx=$work/ctx-swesmith
copy_tree "$demo/repo" "$ctx/testbed" run_tests.sh
for f in $(task_files "$demo/r2e_tests"); do
  case "$f" in
    test_*.py)
      [ ! -e "$ctx/testbed/tests/$f" ] || die "$demo/repo/tests/$f clashes with the hidden test of that name"
      install -D -m 644 "$demo/r2e_tests/$f" "$ctx/testbed/tests/$f" ;;
  esac
done
# main: the clean code (gold patch applied) with all its tests.
(cd "$ctx/testbed" && git apply "$work/gold.diff") || die "the gold patch does not apply to $demo/repo"
git_init "$ctx/testbed" /.venv/
# The instance branch: one commit that brings the bug back.
git -C "$ctx/testbed" checkout -q -b "$sm_id"
git -C "$ctx/testbed" apply -R "$work/gold.diff"
git -C "$ctx/testbed" commit -q -a -m "Bug Patch"
sm_base=$(git -C "$ctx/testbed" rev-parse HEAD)
git -C "$ctx/testbed" checkout -q main
if up_to_date "$sm_image" "$sm_inputs"; then
  say "$sm_image is up to date"
else
  build_image "$sm_image" swesmith "$sm_inputs" "$ctx" \
    --build-arg "BASE_COMMIT=$sm_base" --label "r2e.base_commit=$sm_base" \
    --label "r2e.instance_id=$sm_id"
fi
[ "$(label_of "$sm_image" r2e.base_commit)" = "$sm_base" ] ||
  die "$sm_image has base commit $(label_of "$sm_image" r2e.base_commit), expected $sm_base"

if rows_ok "$sm_jsonl" "$sm_inputs"; then
  say "$sm_jsonl is up to date"
else
  say "running the SWE-smith flavour's tests on the bug and on the gold patch"
  # What the SWE-smith setup writes as /run_tests.sh (default Python profile).
  cat >"$work/swesmith_run_tests.sh" <<'EOF2'
#!/bin/bash
set -uxo pipefail
cd /testbed
: '>>>>> Start Test Output'
pytest --disable-warnings --color=no --tb=no --verbose
: '>>>>> End Test Output'
EOF2
  in_container "$sm_image" "git checkout -q $sm_base && bash /work/swesmith_run_tests.sh" \
    >"$work/sm-before.log" || true
  in_container "$sm_image" "git checkout -q $sm_base && git apply -v /work/gold.diff && bash /work/swesmith_run_tests.sh" \
    >"$work/sm-after.log" || true
  "$python" "$work/rows.py" swesmith "$work" "$sm_id" "$sm_image" "$sm_base" \
    "$work/sm-before.log" "$work/sm-after.log" >"$work/demo-swesmith.jsonl"
  write_rows "$work/demo-swesmith.jsonl" "$sm_jsonl" "$sm_inputs"
fi

# =====================================================================================
# 3. images that set their own environment (the R2E demo task plus ENV)
# =====================================================================================
#   r2e-test/imgenv:latest    FOO, VIRTUAL_ENV, JAVA_HOME, LC_ALL, PATH=/opt/imgbin:$PATH
#   r2e-test/badpath:latest   PATH=/nonexistent/bin:/also/missing
#   r2e-test/nopython:latest  no python3 at all (the tools run on r2e-python)
#   r2e-test/imguser:latest   USER agent (uid 1234), who owns /testbed
r2e_id=$("${docker[@]}" image inspect -f '{{.Id}}' "$r2e_image")
build_env_image() { # name flavour
  local name=$1 flavour=$2 inputs ctx
  inputs=$(printf '%s\n' "env-image 1" "$r2e_id" "$(sha <"tests/images/$flavour.Dockerfile")" | sha)
  if up_to_date "$name" "$inputs"; then
    say "$name is up to date"
    return
  fi
  ctx=$work/ctx-$flavour
  mkdir -p "$ctx/imgbin"
  printf '#!/bin/sh\necho "imgtool ran: $FOO"\n' >"$ctx/imgbin/imgtool"
  printf '#!/bin/sh\necho "image ls"\n' >"$ctx/imgbin/ls"
  chmod 755 "$ctx/imgbin/imgtool" "$ctx/imgbin/ls"
  build_image "$name" "$flavour" "$inputs" "$ctx" --build-arg "BASE=$r2e_image"
}
build_env_image r2e-test/imgenv:latest imgenv
build_env_image r2e-test/badpath:latest badpath
build_env_image r2e-test/nopython:latest nopython
build_env_image r2e-test/imguser:latest imguser

# Images of ours that a rebuild left without a tag (only those with our label).
"${docker[@]}" image prune -f --filter label=r2e.inputs >/dev/null 2>&1 || true

say "done in $((SECONDS - t_start))s"
