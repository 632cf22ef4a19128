#!/usr/bin/env bash
# Starts and stops the r2e test Kubernetes API server (tests/kube/apiserver/),
# which serves the Pod subset of the API over TLS and backs each pod with a
# Docker container. Lets you try `--runtime kube` without a cluster.
#
#   scripts/test-apiserver.sh start DIR [--port P] [-- SERVER-FLAGS...]
#       Creates DIR, a CA, server and client certificates, a token (DIR/token),
#       starts the server on 127.0.0.1 (a free port, --port P, or the port of a
#       previous run in DIR), writes DIR/kubeconfig (bearer token) and
#       DIR/kubeconfig-cert (client certificate), DIR/pid, DIR/server.log, and
#       prints the kubeconfig path. Idempotent: a running server is left alone.
#       SERVER-FLAGS: see `/usr/bin/python3 tests/kube/apiserver/server.py -h`
#       (e.g. --bookmark-interval 0.5, --network bridge).
#   scripts/test-apiserver.sh stop DIR     stops it and removes its containers
#   scripts/test-apiserver.sh status DIR   exit 0 when running
#
# Exit status: 0 ok, 1 failure, 2 usage, 3 Docker not reachable.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
server="$root/tests/kube/apiserver/server.py"
# Debian's python: the server needs only the standard library, but the same
# interpreter runs the client checks that import python3-kubernetes.
python=/usr/bin/python3
[ -x "$python" ] || python=python3

die() { printf 'test-apiserver: %s\n' "$1" >&2; exit "${2:-1}"; }
usage() { die "usage: $0 start|stop|status DIR [--port P] [-- SERVER-FLAGS...]" 2; }

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
port=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) usage ;;
  esac
done

running() {
  [ -f "$dir/pid" ] || return 1
  local pid
  pid=$(cat "$dir/pid")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$server --dir $dir" || return 1
  [ -f "$dir/ready" ]
}

gen_certs() {
  local ext
  [ -s "$dir/ca.crt" ] && [ -s "$dir/server.crt" ] && [ -s "$dir/client.crt" ] && return 0
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 3650 \
    -subj "/CN=r2e-test-ca" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  ext=$(mktemp)
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
    "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >"$ext"
  openssl req -new "${ec[@]}" -keyout "$dir/server.key" -out "$dir/server.csr" \
    -subj "/CN=127.0.0.1" 2>/dev/null
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -out "$dir/server.crt" -days 3650 -extfile "$ext" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=clientAuth" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >"$ext"
  openssl req -new "${ec[@]}" -keyout "$dir/client.key" -out "$dir/client.csr" \
    -subj "/O=system:masters/CN=r2e-test-user" 2>/dev/null
  openssl x509 -req -in "$dir/client.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -out "$dir/client.crt" -days 3650 -extfile "$ext" 2>/dev/null
  rm -f "$ext" "$dir/server.csr" "$dir/client.csr"
  chmod 600 "$dir"/*.key
}

write_kubeconfig() {  # FILE USER-YAML
  local tmp="$1.tmp"
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: r2e-test
  cluster:
    server: https://127.0.0.1:$(tr -d '[:space:]' <"$dir/port")
    certificate-authority-data: $(base64 -w0 <"$dir/ca.crt")
users:
- name: r2e-test-user
  user:
$2
contexts:
- name: r2e-test
  context:
    cluster: r2e-test
    user: r2e-test-user
    namespace: default
current-context: r2e-test
EOF
  chmod 600 "$tmp"
  mv "$tmp" "$1"
}

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if running; then
    echo "$dir/kubeconfig"
    return 0
  fi
  command -v openssl >/dev/null || die "openssl is required (apt-get install openssl)"
  rm -f "$dir/kubeconfig" "$dir/kubeconfig-cert" "$dir/ready"
  gen_certs
  [ -s "$dir/token" ] || (umask 077; openssl rand -hex 24 >"$dir/token")
  local port_args=()
  if [ -n "$port" ]; then
    port_args=(--port "$port")
  elif [ -s "$dir/port" ]; then
    port_args=(--preferred-port "$(tr -d '[:space:]' <"$dir/port")")
  fi
  echo "--- start $(date -u +%FT%TZ)" >>"$dir/server.log"
  setsid "$python" "$server" --dir "$dir" "${port_args[@]}" "${extra[@]}" \
    </dev/null >>"$dir/server.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/pid"
  for _ in $(seq 1 200); do
    [ -f "$dir/ready" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      local rc=0
      wait "$pid" || rc=$?
      rm -f "$dir/pid"
      [ "$rc" = 3 ] && die "Docker is not reachable (DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}); start dockerd (scripts/start-dockerd.sh)" 3
      tail -n 20 "$dir/server.log" >&2
      die "server exited with status $rc (log: $dir/server.log)"
    fi
    sleep 0.05
  done
  [ -f "$dir/ready" ] || { kill "$pid" 2>/dev/null || true; die "server did not become ready in 10 s (log: $dir/server.log)"; }
  write_kubeconfig "$dir/kubeconfig" "    token: $(cat "$dir/token")"
  write_kubeconfig "$dir/kubeconfig-cert" "    client-certificate-data: $(base64 -w0 <"$dir/client.crt")
    client-key-data: $(base64 -w0 <"$dir/client.key")"
  echo "$dir/kubeconfig"
}

stop() {
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/pid" ]; then
    local pid
    pid=$(cat "$dir/pid")
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$server --dir $dir"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/pid" "$dir/ready"
  "$python" "$server" --dir "$dir" --cleanup
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status)
    dir=$(cd "$dir" 2>/dev/null && pwd) || die "not running (no $dir)"
    if running; then echo "running: pid $(cat "$dir/pid"), port $(cat "$dir/port"), $dir/kubeconfig"; else die "not running"; fi ;;
  *) usage ;;
esac
