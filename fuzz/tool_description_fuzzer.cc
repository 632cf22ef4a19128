// A tool file: file name, 0x1e, content. DescribeTool reads Python literals
// and docstrings; the schema and prompt text are built from what it read.
#include "fuzz_util.h"
#include "r2e/tools.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace r2e;
  auto parts = fuzz::SplitParts(fuzz::AsView(data, size), 2);
  ToolFile file{std::string(parts[0]), std::string(parts[1])};
  if (file.name.empty()) file.name = "tool.py";
  (void)InstallKind(file);
  (void)file.tool_name();
  auto description = DescribeTool(file);
  if (!description.ok()) return 0;
  (void)description->OpenAiSchema().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)ToolsPromptText({*description});
  return 0;
}
