// The library without r2e-run-as (no static libc at build time).
#include "local/run_as.h"

namespace r2e::internal {

std::string_view RunAsHelper() { return {}; }

}  // namespace r2e::internal
