// The snapshot tests (tests/unit/snapshot_test.cc) on the Docker runtime.
#define R2E_SNAPSHOT_TEST_RUNTIMES "docker"
#include "../unit/snapshot_test.cc"
