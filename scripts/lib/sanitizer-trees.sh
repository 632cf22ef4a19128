# Sourced by scripts/run-fuzzers.sh and scripts/run-sanitizers.sh: how the
# sanitizer build trees are configured, written once so that both scripts
# configure the shared ASan tree identically (different arguments would make
# each run reconfigure and rebuild it).
#
#   asan tree (R2E_ASAN_BUILD_DIR, default build-asan): clang, ASan + UBSan +
#     libFuzzer coverage on everything (-DR2E_BUILD_FUZZERS=ON); builds the
#     fuzz targets, the unit and docker tests and the r2e program.
#   tsan tree (R2E_TSAN_BUILD_DIR, default build-tsan): gcc, ThreadSanitizer.

: "${CCACHE_DIR:=${HOME:-/root}/.cache/ccache}"
: "${CCACHE_BASEDIR:=$(pwd)}"
export CCACHE_DIR CCACHE_BASEDIR
asan_tree=${R2E_ASAN_BUILD_DIR:-build-asan}
tsan_tree=${R2E_TSAN_BUILD_DIR:-build-tsan}

# Both trees compile at -O1 with line tables only: enough for the sanitizers'
# reports (file:line stacks) at about half the compile time of -O2 -g.
_configure_tree() {  # dir, extra cmake args...
  local dir=$1
  shift
  local args=(-S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DR2E_BUILD_EXAMPLES=OFF
              -DR2E_BUILD_BENCH=OFF -DR2E_INSTALL=OFF "$@")
  [ -f "$dir/CMakeCache.txt" ] || args+=(-G Ninja)
  command -v ccache >/dev/null 2>&1 && args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake "${args[@]}" >/dev/null
}

configure_asan_tree() {
  R2E_WITH_CLANG=1 scripts/install-deps.sh
  CC=clang CXX=clang++ _configure_tree "$asan_tree" -DR2E_BUILD_FUZZERS=ON -DR2E_BUILD_TESTS=ON \
    -DR2E_BUILD_CLI=ON "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG"
}

configure_tsan_tree() {
  _configure_tree "$tsan_tree" -DR2E_SANITIZE_THREAD=ON -DR2E_BUILD_CLI=OFF \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
}
