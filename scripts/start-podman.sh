#!/usr/bin/env bash
# Starts Podman's Docker-compatible API service for the docker tests, when
# Podman is installed (it is not installed by install-deps.sh: CI runs the
# Podman pass only on machines that have it). Idempotent.
#
#   - exits 77 when podman is not installed;
#   - copies the test images from the Docker daemon into Podman's store
#     (`docker save | podman load`), skipped for images whose ID Podman has;
#   - writes a containers.conf that works in a container without
#     CAP_SYS_RESOURCE (open-files and process limits no higher than this
#     shell's hard limits, found by trying them) and with runc when crun
#     cannot start a container here (a cgroup v1/v2 hybrid host);
#   - starts `podman system service` on the socket (default
#     /run/r2e-podman/podman.sock) and waits for /_ping.
#
# Prints the socket path on stdout; use it as DOCKER_HOST=unix://PATH.
#
# Rootless: with R2E_PODMAN_USER=NAME (run as root) the service runs as that
# user, rootless, with its own image store; the user is created when missing
# (useradd gives it subordinate ids, which rootless Podman maps).
#
# Environment:
#   R2E_PODMAN_DIR   state directory (default /run/r2e-podman, or
#                    /tmp/r2e-podman-NAME when rootless: Podman 4.3's rootless
#                    bridge network cannot use a runtime directory under /run
#                    other than /run/user/UID): the socket, containers.conf,
#                    the service's log and, rootless, its runtime directory
#   R2E_PODMAN_USER  run the service rootless as this user
set -euo pipefail

user=${R2E_PODMAN_USER:-}
if [ -n "$user" ]; then dir=${R2E_PODMAN_DIR:-/tmp/r2e-podman-$user}; else dir=${R2E_PODMAN_DIR:-/run/r2e-podman}; fi
sock=$dir/podman.sock
conf=$dir/containers.conf
say() { printf 'start-podman: %s\n' "$*" >&2; }

command -v podman >/dev/null 2>&1 || { say "podman is not installed"; exit 77; }
mkdir -p "$dir"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# pm ARGS...: podman as the service's user (rootless: under that user's
# runtime directory, which is $dir/run).
if [ -n "$user" ]; then
  id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
  grep -q "^$user:" /etc/subuid || { say "$user has no subordinate ids in /etc/subuid (usermod --add-subuids)"; exit 1; }
  mkdir -p "$dir/run"
  chown "$user:" "$dir" "$dir/run"
  chmod 700 "$dir/run"
  pm() { runuser -u "$user" -- env XDG_RUNTIME_DIR="$dir/run" HOME="$(getent passwd "$user" | cut -d: -f6)" \
    CONTAINERS_CONF="${CONTAINERS_CONF:-}" podman "$@"; }
  # Native overlayfs in the user namespace (kernel 5.13 or later): without
  # this Podman 4.3 falls back to vfs, a full copy of the image for every
  # container (the docker tests took four times as long). A store made with
  # another driver is reset (this user is the tests' own).
  home=$(getent passwd "$user" | cut -d: -f6)
  if [ ! -f "$home/.config/containers/storage.conf" ]; then
    runuser -u "$user" -- mkdir -p "$home/.config/containers"
    printf '[storage]\ndriver = "overlay"\n' | runuser -u "$user" -- tee "$home/.config/containers/storage.conf" >/dev/null
  fi
  if [ "$(pm info --format '{{.Store.GraphDriverName}}' 2>/dev/null)" != overlay ]; then
    say "rootless: resetting $user's image store to use overlay"
    pm system reset -f >/dev/null 2>&1 || true
  fi
else
  pm() { podman "$@"; }
fi

if curl -sf --unix-socket "$sock" http://podman/_ping >/dev/null 2>&1; then
  say "already answering on $sock"
  echo "$sock"
  exit 0
fi

# The test images, by the tags scripts/build-test-images.sh gives them.
images=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^(r2e-test/|r2e-demo/|sweb\.eval\.)' || true)
missing=()
for image in $images; do
  id=$(docker image inspect --format '{{.Id}}' "$image")
  [ "$(pm image inspect --format '{{.Id}}' "$image" 2>/dev/null)" = "${id#sha256:}" ] || missing+=("$image")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "copying ${#missing[@]} image(s) from Docker"
  docker save "${missing[@]}" | pm load -q >/dev/null
fi

# Rootless networking (slirp4netns) opens /dev/net/tun as the user: Debian's
# udev rules make it 0666; a machine that left it 0600 gets that mode.
if [ -n "$user" ] && ! runuser -u "$user" -- sh -c 'exec 3<>/dev/net/tun' 2>/dev/null; then
  say "rootless: /dev/net/tun is not open to $user; making it 0666 as Debian's udev rules do"
  chmod 0666 /dev/net/tun
fi
write_conf() {  # runtime nofile nproc
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n[engine]\nruntime = "%s"\n' \
    "$2" "$2" "$3" "$3" "$1" >"$conf"
}
works() { CONTAINERS_CONF=$conf pm run --rm r2e-test/base:bookworm true >/dev/null 2>&1; }

nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
found=
for runtime in crun runc; do
  command -v "$runtime" >/dev/null 2>&1 || continue
  nproc=$(ulimit -Hu)
  [ "$nproc" = unlimited ] && nproc=4194304
  while [ "$nproc" -ge 1024 ]; do
    write_conf "$runtime" "$nofile" "$nproc"
    if works; then
      found=1
      break 2
    fi
    nproc=$((nproc / 2))
  done
done
[ -n "$found" ] || { say "no runtime configuration starts a container (see: podman run --rm r2e-test/base:bookworm true)"; exit 1; }
say "containers.conf: $(tr '\n' ' ' <"$conf")"

rm -f "$sock"
# From /: the service and every conmon it starts keep its working directory,
# and a service started from a checkout that is later removed (a CI clone made
# anew) fails every container start ("conmon: Failed to get working directory").
CONTAINERS_CONF=$conf user=$user dir=$dir setsid nohup bash -c "cd / && $(declare -f pm); pm system service --time=0 unix://$sock" \
  >"$dir/service.log" 2>&1 &
for _ in $(seq 1 100); do
  if curl -sf --unix-socket "$sock" http://podman/_ping >/dev/null 2>&1; then
    say "podman service answering on $sock"
    echo "$sock"
    exit 0
  fi
  sleep 0.2
done
say "the podman service did not answer; its log:"
tail -20 "$dir/service.log" >&2
exit 1
