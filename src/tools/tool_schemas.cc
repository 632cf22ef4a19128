// The function-calling tool definitions of the tool sets: the R2E scaffold's,
// kept as data in tools/tool_schemas.json (compiled in by src/CMakeLists.txt),
// or built from the tools' descriptions for sets the scaffold has none for.
#include <string>
#include <utility>

#include "r2e/observation.h"
#include "r2e/tools.h"

namespace r2e {
namespace internal {
extern const std::string_view kToolSchemasJson;
}  // namespace internal

namespace {

// The scaffold's sets in tool_schemas.json; its sweagent config sends the
// openhands list (Agent.model_query).
std::string_view DataSetName(std::string_view set) { return set == "sweagent" ? "openhands" : set; }

}  // namespace

Result<std::vector<nlohmann::ordered_json>> ToolSetSchemas(std::string_view name) {
  static const nlohmann::ordered_json data = nlohmann::ordered_json::parse(
      internal::kToolSchemasJson, nullptr, /*allow_exceptions=*/false);
  if (data.is_discarded() || !data.is_object()) {
    return Status::Internal(
        "the compiled-in tool schemas (src/tools/tool_schemas.json) are not a JSON object");
  }
  if (auto it = data.find(std::string(DataSetName(name))); it != data.end()) {
    return it->get<std::vector<nlohmann::ordered_json>>();
  }
  // Sets the scaffold sends no schemas for: from the tools themselves.
  R2E_ASSIGN_OR_RETURN(std::vector<ToolFile> files, ToolSet(name));
  std::vector<nlohmann::ordered_json> out;
  for (const ToolFile& f : files) {
    R2E_ASSIGN_OR_RETURN(ToolDescription d, DescribeTool(f));
    out.push_back(d.OpenAiSchema());
  }
  return out;
}

}  // namespace r2e
