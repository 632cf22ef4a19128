// The library built without r2e-python (R2E_TOOL_PYTHON off or unavailable).
#include "tools/python_bundle.h"

namespace r2e::internal {

std::string_view PythonBundle() { return {}; }

}  // namespace r2e::internal
