#!/usr/bin/env bash
# Installs the Debian packages r2e needs to build, test and run its demo.
# Idempotent: quiet and fast when everything is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libssl-dev nlohmann-json3-dev libarchive-dev libspdlog-dev
  libyaml-cpp-dev libcpp-httplib-dev libcli11-dev libgtest-dev libgmock-dev
  libpcre2-dev libexpat1-dev  # the log parsers restate Python's re (PCRE2) and ElementTree (expat)
  libpython3-dev zlib1g-dev python3-chardet  # r2e-python, the tools' interpreter where a sandbox has no python3
  pybind11-dev python3-dev  # the Python module, `import r2e`
  bubblewrap python3 python3-pytest
  python3-kubernetes  # checks the test Kubernetes API server with a client we did not write
  python3-prometheus-client  # reads our metrics exposition with the Prometheus project's own parser
  docker-registry skopeo openssl  # a real registry on loopback (plain and TLS) for the local runtime's registry pulls
  # scripts/run-fuzzers.sh: libFuzzer and the sanitizer runtimes for clang
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
