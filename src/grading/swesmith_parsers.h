// SWE-smith's per-repository log parsers (the profiles' log_parser
// overrides), registered by name in swebench_parsers.cc's parser table.
#ifndef R2E_GRADING_SWESMITH_PARSERS_H_
#define R2E_GRADING_SWESMITH_PARSERS_H_

#include <string_view>

#include "r2e/log_parsers.h"

namespace r2e::internal {

// python/mypy: a line containing "PASSED" (else "FAILED") anywhere -> its
// last whitespace-separated token gets that status.
StatusMap ParseSweSmithMypy(std::string_view log, GradingRules rules);
// tornadoweb/tornado (unittest -v): "<name> ... ok" -> PASSED, a line holding
// " ... skipped " -> SKIPPED, "ERROR:"/"FAIL:" lines -> the 2nd and 3rd tokens
// joined by a space, FAILED.
StatusMap ParseSweSmithTornado(std::string_view log, GradingRules rules);
// paramiko/paramiko (pytest -rA): "<STATUS><space><name>..." -> name.
StatusMap ParseSweSmithParamiko(std::string_view log, GradingRules rules);
// HIPS/autograd (pytest-xdist): "[gwN] <STATUS> <name>" -> name.
StatusMap ParseSweSmithAutograd(std::string_view log, GradingRules rules);
// un33k/python-slugify (unittest -v): "<name> ... ok|FAIL|ERROR", the name
// of letters, digits, whitespace and _-,.()' only.
StatusMap ParseSweSmithSlugify(std::string_view log, GradingRules rules);

}  // namespace r2e::internal

#endif  // R2E_GRADING_SWESMITH_PARSERS_H_
