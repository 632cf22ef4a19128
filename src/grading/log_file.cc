#include "grading/log_file.h"

namespace r2e::internal {

Result<std::string> ReadCappedLogFile(Runtime& runtime, const std::string& path,
                                      const ExecOptions& options) {
  const std::string cap = std::to_string(kMaxLogFileBytes);
  const std::string cmd = "f=" + path + "; if [ \"$(wc -c < \"$f\")\" -gt " + cap +
                          " ]; then tail -c " + cap + " \"$f\" > \"$f.tail\" && mv \"$f.tail\" \"$f\"; fi";
  auto trimmed = runtime.exec(cmd, options);
  if (!trimmed.ok()) return trimmed.status();
  return runtime.read_file(path);
}

}  // namespace r2e::internal
