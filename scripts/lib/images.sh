# Shared by scripts/build-test-images.sh and scripts/build-multilingual-images.sh
# (sourced, not run): the scripts' common start (repository root, cache,
# --check, messages), the Docker command, image labels and the inputs-hash
# cache, deterministic git commits, copying a task's files, and dataset files
# rewritten only when they change.
#
#   script_name=NAME; . "$(dirname "${BASH_SOURCE[0]}")/lib/images.sh" "$@"

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
cache=${R2E_CACHE_DIR:-/var/cache/r2e}
check_only=0
[ "${1:-}" = --check ] && check_only=1
# The classic builder: works with every daemon version and never looks for a
# registry when the FROM image is local.
export DOCKER_BUILDKIT=0
say() { printf '%s: %s\n' "$script_name" "$*" >&2; }
die() { say "$*"; exit 1; }
t_start=$SECONDS

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

# Sets the array `docker` to the command that reaches the daemon.
find_docker() {
  docker=(docker)
  if ! docker info >/dev/null 2>&1; then
    if [ ${#sudo_cmd[@]} -gt 0 ] && sudo docker info >/dev/null 2>&1; then
      docker=(sudo docker)
    else
      die "no Docker daemon answers; run scripts/start-dockerd.sh first"
    fi
  fi
}

sha() { sha256sum | cut -c1-64; }
label_of() { # image label
  "${docker[@]}" image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}
# Whether the image exists with this inputs hash (R2E_REBUILD=1: never).
up_to_date() { # image inputs-hash
  [ "${R2E_REBUILD:-0}" != 1 ] && [ "$(label_of "$1" r2e.inputs)" = "$2" ]
}

# Deterministic commits: same tree, names and dates give the same hashes on
# every machine; the host's git configuration is ignored.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=r2e GIT_AUTHOR_EMAIL=r2e@r2e.invalid
export GIT_COMMITTER_NAME=r2e GIT_COMMITTER_EMAIL=r2e@r2e.invalid
export GIT_AUTHOR_DATE='2024-01-01T00:00:00+0000' GIT_COMMITTER_DATE='2024-01-01T00:00:00+0000'

git_init() { # dir exclude-lines...
  local dir=$1
  shift
  git -C "$dir" init -q -b main
  printf '%s\n' "$@" '__pycache__/' '*.pyc' '.pytest_cache/' >>"$dir/.git/info/exclude"
  git -C "$dir" add -A
  git -C "$dir" commit -q -m "Initial commit"
}

task_files() { # dir -> relative paths of its files (no caches), sorted
  (cd "$1" && find . -type f ! -path '*/__pycache__/*' ! -name '*.pyc' ! -path '*/.pytest_cache/*' \
     ! -path './.venv/*' ! -path './node_modules/*' ! -path './target/*' | sed 's|^\./||' | LC_ALL=C sort)
}
copy_tree() { # src dest [exclude-relpath...]: files only, modes 644/755
  local src=$1 dest=$2 f skip x
  shift 2
  while read -r f; do
    skip=0
    for x in "$@"; do [ "$f" = "$x" ] && skip=1; done
    [ $skip = 1 ] && continue
    if [ -x "$src/$f" ]; then install -D -m 755 "$src/$f" "$dest/$f"
    else install -D -m 644 "$src/$f" "$dest/$f"; fi
  done < <(task_files "$src")
}
# A hash of the files under each dir: path, executable bit, contents.
tree_hash() { # dir...
  local d f
  for d in "$@"; do
    while read -r f; do
      printf '%s %s ' "$d/$f" "$([ -x "$d/$f" ] && echo x || echo -)"
      sha256sum <"$d/$f" | cut -c1-64
    done < <(task_files "$d")
  done | sha
}

# Puts the generated file GEN at DEST when they differ (--check: fails
# instead, showing the difference); DEST is meant to be committed.
update_file() { # gen dest what-gives-it
  local gen=$1 dest=$2 source=$3
  if [ -f "$dest" ] && cmp -s "$gen" "$dest"; then
    say "$dest is up to date"
  elif [ $check_only = 1 ]; then
    diff -u "$dest" "$gen" >&2 || true
    die "$dest differs from what $source gives (run without --check to rewrite it)"
  else
    cp "$gen" "$dest"
    say "wrote $dest (it changed: commit it)"
  fi
}
