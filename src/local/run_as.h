// r2e-run-as (src/local/run_as/run_as.c), the static helper that starts a
// local sandbox's first process as an image's non-root User.
#ifndef R2E_LOCAL_RUN_AS_H_
#define R2E_LOCAL_RUN_AS_H_

#include <string_view>

namespace r2e::internal {

// The executable's bytes (static data of the library), or empty when the
// library was built without a static libc.
std::string_view RunAsHelper();

}  // namespace r2e::internal

#endif  // R2E_LOCAL_RUN_AS_H_
