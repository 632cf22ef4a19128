// The whole-sandbox snapshot tests (tests/unit/sandbox_snapshot_test.cc) on
// the Docker runtime, where a checkpoint is a committed image.
#define R2E_SANDBOX_SNAPSHOT_RUNTIMES "docker"
#include "../unit/sandbox_snapshot_test.cc"
