// Trajectory files (JSONL written by TrajectoryWriter; a crash may truncate them).
#include "fuzz_util.h"
#include "r2e/trajectory.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto path = r2e::fuzz::WriteScratchFile("trajectory.jsonl", r2e::fuzz::AsView(data, size));
  auto trajectory = r2e::ReadTrajectory(path);
  (void)trajectory;
  return 0;
}
