// r2e-python, the interpreter AddCommands installs beside the Python tools in
// a sandbox without a usable python3 (src/tools/python_bundle/README.md).
#ifndef R2E_TOOLS_PYTHON_BUNDLE_H_
#define R2E_TOOLS_PYTHON_BUNDLE_H_

#include <string_view>

namespace r2e::internal {

// The executable's bytes (static data of the library), or empty when the
// library was built without it (R2E_TOOL_PYTHON off, or its build
// dependencies missing).
std::string_view PythonBundle();

}  // namespace r2e::internal

#endif  // R2E_TOOLS_PYTHON_BUNDLE_H_
