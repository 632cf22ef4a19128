// Who owns a sandbox: the host name and the owner process's identity, which
// container and pod labels carry so that `r2e cleanup` can tell an orphan
// (owner gone, or its pid reused by another process) from a live sandbox.
#ifndef R2E_CORE_OWNER_H_
#define R2E_CORE_OWNER_H_

#include <string>

namespace r2e::internal {

// This machine's host name ("unknown" if it cannot be read).
std::string HostName();

// Field 22 of /proc/<pid>/stat: the start time in clock ticks since boot.
// With the pid it names a process even after pid reuse; empty when the
// process does not exist.
std::string ProcessStartTime(long pid);

}  // namespace r2e::internal

#endif  // R2E_CORE_OWNER_H_
