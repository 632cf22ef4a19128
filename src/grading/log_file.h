// Reading a test log that the graders also wrote to a file in the sandbox
// (the session keeps only the head and tail of long output).
#ifndef R2E_GRADING_LOG_FILE_H_
#define R2E_GRADING_LOG_FILE_H_

#include <cstdint>
#include <string>

#include "r2e/runtime.h"

namespace r2e::internal {

// Largest log a grader reads back.
constexpr std::uint64_t kMaxLogFileBytes = 64ull << 20;

// The file at `path`, cut first to its last kMaxLogFileBytes so a runaway
// test cannot make the grader read gigabytes.
Result<std::string> ReadCappedLogFile(Runtime& runtime, const std::string& path,
                                      const ExecOptions& options);

}  // namespace r2e::internal

#endif  // R2E_GRADING_LOG_FILE_H_
