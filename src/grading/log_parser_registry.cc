// The log parser registry: ParseLog's table of the harnesses' parser names,
// SWE-bench's repository -> parser map, and the grading rules' names.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "grading/parsers.h"
#include "r2e/log_parsers.h"

namespace r2e {
namespace {

using internal::ParseCargo;
using internal::ParseDjango;
using internal::ParseGoTest;
using internal::ParseMatplotlib;
using internal::ParsePytest;
using internal::ParsePytestOptions;
using internal::ParsePytestV2;
using internal::ParseSeaborn;
using internal::ParseSweSmithAutograd;
using internal::ParseSweSmithMypy;
using internal::ParseSweSmithParamiko;
using internal::ParseSweSmithPytest;
using internal::ParseSweSmithSlugify;
using internal::ParseSweSmithTornado;
using internal::ParseSympy;

using ParserFn = StatusMap (*)(std::string_view, GradingRules);

struct ParserEntry {
  std::string_view name;
  ParserFn fn;
};

// The harness's own names, then its per-repository aliases (a v5 row may
// name either).
constexpr std::array<ParserEntry, 28> kParsers = {{
    {"parse_log_pytest", &ParsePytest},
    {"parse_log_pytest_options", &ParsePytestOptions},
    {"parse_log_pytest_v2", &ParsePytestV2},
    {"parse_log_django", &ParseDjango},
    {"parse_log_seaborn", &ParseSeaborn},
    {"parse_log_sympy", &ParseSympy},
    {"parse_log_matplotlib", &ParseMatplotlib},
    {"parse_log_swesmith_pytest", &ParseSweSmithPytest},
    {"parse_log_gotest", &ParseGoTest},
    {"parse_log_cargo", &ParseCargo},
    {"parse_log_swesmith_mypy", &ParseSweSmithMypy},
    {"parse_log_swesmith_tornado", &ParseSweSmithTornado},
    {"parse_log_swesmith_paramiko", &ParseSweSmithParamiko},
    {"parse_log_swesmith_autograd", &ParseSweSmithAutograd},
    {"parse_log_swesmith_slugify", &ParseSweSmithSlugify},
    {"parse_log_astroid", &ParsePytest},
    {"parse_log_flask", &ParsePytest},
    {"parse_log_marshmallow", &ParsePytest},
    {"parse_log_pvlib", &ParsePytest},
    {"parse_log_pyvista", &ParsePytest},
    {"parse_log_sqlfluff", &ParsePytest},
    {"parse_log_xarray", &ParsePytest},
    {"parse_log_pydicom", &ParsePytestOptions},
    {"parse_log_requests", &ParsePytestOptions},
    {"parse_log_pylint", &ParsePytestOptions},
    {"parse_log_astropy", &ParsePytestV2},
    {"parse_log_scikit", &ParsePytestV2},
    {"parse_log_sphinx", &ParsePytestV2},
}};

struct RepoEntry {
  std::string_view repo;
  std::string_view parser;
};

// SWE-bench's MAP_REPO_TO_PARSER_PY.
constexpr std::array<RepoEntry, 18> kRepoParsers = {{
    {"astropy/astropy", "parse_log_pytest_v2"},
    {"django/django", "parse_log_django"},
    {"marshmallow-code/marshmallow", "parse_log_pytest"},
    {"matplotlib/matplotlib", "parse_log_matplotlib"},
    {"mwaskom/seaborn", "parse_log_seaborn"},
    {"pallets/flask", "parse_log_pytest"},
    {"psf/requests", "parse_log_pytest_options"},
    {"pvlib/pvlib-python", "parse_log_pytest"},
    {"pydata/xarray", "parse_log_pytest"},
    {"pydicom/pydicom", "parse_log_pytest_options"},
    {"pylint-dev/astroid", "parse_log_pytest"},
    {"pylint-dev/pylint", "parse_log_pytest_options"},
    {"pytest-dev/pytest", "parse_log_pytest"},
    {"pyvista/pyvista", "parse_log_pytest"},
    {"scikit-learn/scikit-learn", "parse_log_pytest_v2"},
    {"sqlfluff/sqlfluff", "parse_log_pytest"},
    {"sphinx-doc/sphinx", "parse_log_pytest_v2"},
    {"sympy/sympy", "parse_log_sympy"},
}};

}  // namespace

Result<GradingRules> ParseGradingRules(std::string_view name) {
  if (name == "classic") return GradingRules::kClassic;
  if (name == "v5") return GradingRules::kV5;
  return Status::InvalidArgument("unknown grading rules \"" + std::string(name) +
                                 "\" (expected \"classic\" or \"v5\")");
}

Result<std::optional<GradingRules>> ParseGradingRulesSetting(std::string_view name) {
  if (name == "auto") return std::optional<GradingRules>();
  auto rules = ParseGradingRules(name);
  if (!rules.ok()) {
    return Status::InvalidArgument("unknown grading rules \"" + std::string(name) +
                                   "\" (expected \"auto\", \"classic\" or \"v5\")");
  }
  return std::optional<GradingRules>(*rules);
}

Result<StatusMap> ParseLog(std::string_view parser_name, std::string_view log, GradingRules rules) {
  for (const ParserEntry& entry : kParsers) {
    if (entry.name == parser_name) return entry.fn(log, rules);
  }
  std::string known;
  for (const std::string& name : LogParserNames()) {
    if (!known.empty()) known += ", ";
    known += name;
  }
  return Status::NotFound("unknown log parser \"" + std::string(parser_name) +
                          "\"; known parsers: " + known);
}

std::vector<std::string> LogParserNames() {
  std::vector<std::string> names;
  names.reserve(kParsers.size());
  for (const ParserEntry& entry : kParsers) names.emplace_back(entry.name);
  return names;
}

std::string SweBenchParserForRepo(std::string_view repo) {
  for (const RepoEntry& entry : kRepoParsers) {
    if (entry.repo == repo) return std::string(entry.parser);
  }
  return "parse_log_pytest";
}

}  // namespace r2e
