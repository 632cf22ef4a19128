// Runtime's defaults for what a backend may not have (include/r2e/runtime.h).
#include "r2e/runtime.h"

namespace r2e {
namespace {

Status NoCheckpoints(const Runtime& runtime) {
  return Status::Unimplemented("the " + std::string(runtime.name()) +
                               " runtime cannot checkpoint a whole sandbox "
                               "(SnapshotScope::kSandbox): docker and the local runtime under "
                               "bubblewrap can; SnapshotScope::kRepository works on every runtime");
}

}  // namespace

Result<std::string> Runtime::checkpoint() { return NoCheckpoints(*this); }

Status Runtime::revert(const std::string&, const std::vector<std::string>&) {
  return NoCheckpoints(*this);
}

Status Runtime::release_checkpoint(const std::string&) { return NoCheckpoints(*this); }

}  // namespace r2e
