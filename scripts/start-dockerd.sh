#!/usr/bin/env bash
# Makes sure a Docker daemon answers on the socket; idempotent.
#
#   - installs Debian's docker.io (and curl) when missing;
#   - exits at once when GET /_ping on the socket answers OK;
#   - when a dockerd process from the pid file is alive but does not answer yet
#     (still starting), waits for it: a daemon we did not start is never stopped;
#   - otherwise removes a stale pid file and socket (left by a dockerd that was
#     killed together with the shell that started it) and starts dockerd in the
#     background with setsid nohup, so it outlives this script, then waits up to
#     R2E_DOCKERD_WAIT seconds for /_ping. On failure it prints the end of the
#     daemon log and exits 1.
#
# Debian's dockerd starts (or reuses) its own containerd, so nothing else needs
# starting. Prints one line saying what it did on stderr.
#
# Environment:
#   R2E_DOCKERD_LOG      daemon log (default /tmp/r2e-dockerd.log)
#   R2E_DOCKER_SOCK      socket path (default /var/run/docker.sock)
#   R2E_DOCKER_PIDFILE   pid file (default /var/run/docker.pid)
#   R2E_DOCKERD_ARGS     extra dockerd arguments (split on whitespace), e.g. a
#                        second daemon for experiments (with R2E_DOCKER_SOCK and
#                        R2E_DOCKER_PIDFILE): "--data-root /tmp/d2/data
#                        --exec-root /tmp/d2/exec --iptables=false". Never give
#                        a second daemon --bridge none: dockerd then deletes
#                        the host's docker0, and the main daemon's containers
#                        on the default network no longer start.
#   R2E_DOCKERD_WAIT     seconds to wait for /_ping (default 60)
set -euo pipefail

log_file=${R2E_DOCKERD_LOG:-/tmp/r2e-dockerd.log}
sock=${R2E_DOCKER_SOCK:-/var/run/docker.sock}
pidfile=${R2E_DOCKER_PIDFILE:-/var/run/docker.pid}
wait_s=${R2E_DOCKERD_WAIT:-60}

say() { printf 'start-dockerd: %s\n' "$*" >&2; }

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

installed() {
  dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

# --- packages ----------------------------------------------------------------
missing=()
installed docker.io || command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >/dev/null
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
installed_note=""
[ ${#missing[@]} -eq 0 ] || installed_note=" (installed ${missing[*]})"

ping_ok() {
  [ -S "$sock" ] || return 1
  [ "$("${sudo_cmd[@]}" curl -s --max-time 5 --unix-socket "$sock" http://localhost/_ping 2>/dev/null)" = OK ]
}

# The daemon works only if it can also reach containerd: /info fails otherwise.
info_ok() {
  "${sudo_cmd[@]}" curl -sf --max-time 10 --unix-socket "$sock" http://localhost/info >/dev/null 2>&1
}

alive_named() { # pid name: a live process of that name (a zombie, killed but
  local stat        # not yet reaped by its parent, counts as dead)
  [ -n "$1" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  case "${stat%% *}" in Z|X|x) return 1 ;; esac
  return 0
}
is_dockerd() { alive_named "$1" dockerd; }

wait_for() { # pid-or-empty -> 0 when /_ping answers
  local deadline=$((SECONDS + wait_s))
  while [ $SECONDS -lt $deadline ]; do
    if ping_ok && info_ok; then return 0; fi
    if [ -n "$1" ] && ! is_dockerd "$1"; then return 1; fi # it died
    sleep 0.5
  done
  return 1
}

fail() {
  say "$*"
  if [ -f "$log_file" ]; then
    say "last 50 lines of $log_file:"
    tail -n 50 "$log_file" >&2
  fi
  exit 1
}

# --- already answering -----------------------------------------------------------
if ping_ok; then
  say "dockerd already answers on $sock${installed_note}; nothing to do"
  exit 0
fi

# --- a daemon is alive but not answering (yet): wait, never stop it --------------
old_pid=""
[ -f "$pidfile" ] && old_pid=$(tr -dc '0-9' <"$pidfile" 2>/dev/null || true)
if is_dockerd "$old_pid"; then
  if wait_for "$old_pid"; then
    say "dockerd (pid $old_pid, not ours) answered on $sock after a wait${installed_note}"
    exit 0
  fi
  fail "dockerd pid $old_pid (from $pidfile) is alive but $sock does not answer /_ping after ${wait_s}s; not stopping a daemon this script did not start"
fi

# --- stale state from a dead daemon ------------------------------------------------
cleaned=""
if [ -f "$pidfile" ]; then
  "${sudo_cmd[@]}" rm -f "$pidfile"
  cleaned=" (removed stale $pidfile${old_pid:+ of dead pid $old_pid})"
fi
if [ -S "$sock" ] || [ -e "$sock" ]; then
  "${sudo_cmd[@]}" rm -f "$sock"
  cleaned="$cleaned (removed stale $sock)"
fi

# dockerd reuses the containerd named by <exec-root>/containerd/containerd.pid
# when that pid is alive; a pid file left by a killed daemon (its containerd
# dead, a zombie, or the pid reused by another process) makes it wait for a
# socket nobody serves and give up ("timeout waiting for containerd to start").
exec_root=/var/run/docker
read -r -a words <<<"${R2E_DOCKERD_ARGS:-}"
for ((i = 0; i < ${#words[@]}; i++)); do
  case "${words[i]}" in
    --exec-root) exec_root=${words[i + 1]:-$exec_root} ;;
    --exec-root=*) exec_root=${words[i]#--exec-root=} ;;
  esac
done
ctr_pidfile=$exec_root/containerd/containerd.pid
if [ -f "$ctr_pidfile" ]; then
  ctr_pid=$(tr -dc '0-9' <"$ctr_pidfile" 2>/dev/null || true)
  if ! alive_named "$ctr_pid" containerd; then
    "${sudo_cmd[@]}" rm -f "$ctr_pidfile"
    cleaned="$cleaned (removed stale $ctr_pidfile${ctr_pid:+ of dead pid $ctr_pid})"
  fi
fi

# --- start ---------------------------------------------------------------------------
args=()
[ "$sock" = /var/run/docker.sock ] || args+=(-H "unix://$sock")
[ "$pidfile" = /var/run/docker.pid ] || args+=(--pidfile "$pidfile")
if [ -n "${R2E_DOCKERD_ARGS:-}" ]; then
  read -r -a extra <<<"$R2E_DOCKERD_ARGS"
  args+=("${extra[@]}")
fi
dockerd_bin=$(command -v dockerd || echo /usr/sbin/dockerd)
"${sudo_cmd[@]}" mkdir -p "$(dirname "$log_file")"
printf '\n==== %s start-dockerd: %s %s\n' "$(date -u +%FT%TZ)" "$dockerd_bin" "${args[*]}" >>"$log_file"
# setsid: own session, so the daemon survives the shell (and job control) that
# ran this script; stdin from /dev/null so it holds no terminal.
"${sudo_cmd[@]}" setsid nohup "$dockerd_bin" "${args[@]}" >>"$log_file" 2>&1 </dev/null &
launcher=$!

# The pid file names the real daemon once it is up (with sudo, $! is sudo's pid).
start=$SECONDS
new_pid=""
deadline=$((SECONDS + wait_s))
while [ $SECONDS -lt $deadline ]; do
  if [ -z "$new_pid" ] && [ -f "$pidfile" ]; then
    new_pid=$(tr -dc '0-9' <"$pidfile" 2>/dev/null || true)
  fi
  if ping_ok && info_ok; then
    say "started dockerd (pid ${new_pid:-$launcher}) on $sock in $((SECONDS - start))s, log $log_file${cleaned}${installed_note}"
    exit 0
  fi
  if [ -z "$new_pid" ] && ! kill -0 "$launcher" 2>/dev/null; then
    fail "dockerd exited during start-up"
  fi
  if [ -n "$new_pid" ] && ! is_dockerd "$new_pid"; then
    fail "dockerd (pid $new_pid) exited during start-up"
  fi
  sleep 0.5
done
fail "dockerd did not answer /_ping on $sock within ${wait_s}s (it is left running: pid ${new_pid:-$launcher})"
