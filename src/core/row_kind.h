// How a dataset row's kind and image are decided when the row does not state
// them: from the fields each benchmark publishes, and the image names each
// harness derives (see TaskParseOptions in r2e/task.h).
#ifndef R2E_CORE_ROW_KIND_H_
#define R2E_CORE_ROW_KIND_H_

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "r2e/status.h"
#include "r2e/task.h"

namespace r2e::internal {

// The kind the row's fields show, or nullopt when they show none:
// SWE-bench: `FAIL_TO_PASS` with `test_patch` and `version`, or with
// `eval_script` (5.x rows); SWE-smith: `FAIL_TO_PASS` with an instance id of
// SWE-smith's shape or a `repo` under `swesmith/`; R2E: `expected_output_json`,
// `parsed_commit`, `parsed_commit_content`, or our `local_tests` or
// `local_repo` (local rows are R2E-style unless other fields say otherwise).
std::optional<TaskKind> KindFromFields(const nlohmann::json& row, std::string_view instance_id);

// The kind an image name shows ("swesmith"; "swebench" or "sweb.eval."), or nullopt.
std::optional<TaskKind> KindFromImage(std::string_view image);

// What KindFromFields and KindFromImage look for, for error messages.
std::string_view KindEvidenceText();

// `<owner>__<repo>.<8 hex>.<strategy>`: the "<owner>__<repo>.<8 hex>" part
// (SWE-smith's repository name at a commit), or empty when `instance_id` is
// not of that shape.
std::string SweSmithRepoAtCommit(std::string_view instance_id);

// The image SWE-bench's harness gives the instance (v4.1.0's
// instance_image_key): see TaskParseOptions. InvalidArgument when the name
// cannot be formed (empty id, characters an image name cannot hold, bad
// arch, namespace or tag).
Result<std::string> SweBenchImageName(std::string_view instance_id, const TaskParseOptions& options);

// SWE-smith's image name for a repository at a commit
// (`swesmith.<arch>.<owner__repo lowercased>.<commit8>`), from the row's
// `repo` (`swesmith/<owner>__<repo>.<commit8>`) or else its instance id;
// InvalidArgument when neither has that shape.
Result<std::string> SweSmithImageName(std::string_view instance_id, std::string_view repo,
                                      const TaskParseOptions& options);

// With options.swesmith_image_map, an image named as SWE-smith names them
// (`swesmith.<...>`, no registry, no tag) becomes its published name
// `jyangballin/<name, "__" as "_1776_">:latest`; anything else is returned as is.
std::string MapSweSmithImage(std::string image, const TaskParseOptions& options);

}  // namespace r2e::internal

#endif  // R2E_CORE_ROW_KIND_H_
