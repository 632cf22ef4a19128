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
using internal::SpecParserFn;

// A parser reads the log and the rules (the Python ones), or the log and the
// whole spec (the others, which may fail as the harness raises).
struct ParserEntry {
  std::string_view name;
  ParserFn fn = nullptr;
  SpecParserFn spec_fn = nullptr;
};

constexpr ParserEntry WithSpec(std::string_view name, SpecParserFn fn) {
  return ParserEntry{name, nullptr, fn};
}

// The harness's own names, then its per-repository aliases (a v5 row may
// name either), then SWE-bench's non-Python registry.
constexpr std::array<ParserEntry, 64> kParsers = {{
    {"parse_log_pytest", &ParsePytest},
    {"parse_log_pytest_options", &ParsePytestOptions},
    {"parse_log_pytest_v2", &ParsePytestV2},
    {"parse_log_django", &ParseDjango},
    {"parse_log_seaborn", &ParseSeaborn},
    {"parse_log_sympy", &ParseSympy},
    {"parse_log_matplotlib", &ParseMatplotlib},
    {"parse_log_swesmith_pytest", &ParseSweSmithPytest},
    {"parse_log_swesmith_gotest", &ParseGoTest},
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
    WithSpec("parse_log_calypso", &internal::ParseCalypso),
    WithSpec("parse_log_chart_js", &internal::ParseChartJs),
    WithSpec("parse_log_marked", &internal::ParseMarked),
    WithSpec("parse_log_p5js", &internal::ParseP5js),
    WithSpec("parse_log_react_pdf", &internal::ParseReactPdf),
    WithSpec("parse_log_jest", &internal::ParseJest),
    WithSpec("parse_log_jest_json", &internal::ParseJestJson),
    WithSpec("parse_log_vitest", &internal::ParseVitest),
    WithSpec("parse_log_karma", &internal::ParseKarma),
    WithSpec("parse_log_tap", &internal::ParseTap),
    WithSpec("parse_log_immutable_js", &internal::ParseImmutableJs),
    WithSpec("parse_log_highlightjs", &internal::ParseHighlightJs),
    WithSpec("parse_log_prismjs", &internal::ParsePrismJs),
    WithSpec("parse_log_eslint", &internal::ParseEslint),
    WithSpec("parse_log_bpmn_js", &internal::ParseBpmnJs),
    WithSpec("parse_log_openlayers", &internal::ParseOpenLayers),
    WithSpec("parse_log_grommet", &internal::ParseGrommet),
    WithSpec("parse_log_next", &internal::ParseNext),
    WithSpec("parse_log_carbon", &internal::ParseCarbon),
    WithSpec("parse_log_lighthouse", &internal::ParseLighthouse),
    WithSpec("parse_log_quarto_cli", &internal::ParseQuartoCli),
    WithSpec("parse_log_redis", &internal::ParseRedis),
    WithSpec("parse_log_jq", &internal::ParseJq),
    WithSpec("parse_log_doctest", &internal::ParseDoctest),
    WithSpec("parse_log_micropython_test", &internal::ParseMicropythonTest),
    WithSpec("parse_log_googletest", &internal::ParseGoogleTest),
    WithSpec("parse_log_gotest", &internal::ParseSweBenchGoTest),
    WithSpec("parse_log_phpunit", &internal::ParsePhpUnit),
    WithSpec("parse_log_maven", &internal::ParseMaven),
    WithSpec("parse_log_ant", &internal::ParseAnt),
    WithSpec("parse_log_gradle_custom", &internal::ParseGradleCustom),
    WithSpec("parse_log_minitest", &internal::ParseMinitest),
    WithSpec("parse_log_cucumber", &internal::ParseCucumber),
    WithSpec("parse_log_ruby_unit", &internal::ParseRubyUnit),
    WithSpec("parse_log_rspec_transformed_json", &internal::ParseRspecTransformedJson),
    WithSpec("parse_log_jekyll", &internal::ParseJekyll),
}};

struct RepoEntry {
  std::string_view repo;
  std::string_view parser;
};

// SWE-bench's MAP_REPO_TO_PARSER (v5.0.1; v4.1.0's is the same but for the
// JavaScript repositories v5.0.1 added). Left out: cypress-io/cypress,
// emotion-js/emotion and plotly/plotly.js, whose parsers the harness maps
// but does not register (their rows must name a log_parser).
// Source: shared/fixtures/multilingual/repos.json, derived from the harness.
constexpr std::array<RepoEntry, 76> kRepoParsers = {{
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
    {"redis/redis", "parse_log_redis"},
    {"jqlang/jq", "parse_log_jq"},
    {"nlohmann/json", "parse_log_doctest"},
    {"micropython/micropython", "parse_log_micropython_test"},
    {"valkey-io/valkey", "parse_log_redis"},
    {"fmtlib/fmt", "parse_log_googletest"},
    {"caddyserver/caddy", "parse_log_gotest"},
    {"hashicorp/terraform", "parse_log_gotest"},
    {"prometheus/prometheus", "parse_log_gotest"},
    {"gohugoio/hugo", "parse_log_gotest"},
    {"gin-gonic/gin", "parse_log_gotest"},
    {"google/gson", "parse_log_maven"},
    {"apache/druid", "parse_log_maven"},
    {"javaparser/javaparser", "parse_log_maven"},
    {"projectlombok/lombok", "parse_log_ant"},
    {"apache/lucene", "parse_log_gradle_custom"},
    {"reactivex/rxjava", "parse_log_gradle_custom"},
    {"Automattic/wp-calypso", "parse_log_calypso"},
    {"chartjs/Chart.js", "parse_log_chart_js"},
    {"markedjs/marked", "parse_log_marked"},
    {"processing/p5.js", "parse_log_p5js"},
    {"diegomura/react-pdf", "parse_log_react_pdf"},
    {"babel/babel", "parse_log_jest"},
    {"vuejs/core", "parse_log_vitest"},
    {"facebook/docusaurus", "parse_log_jest"},
    {"immutable-js/immutable-js", "parse_log_immutable_js"},
    {"mrdoob/three.js", "parse_log_tap"},
    {"preactjs/preact", "parse_log_karma"},
    {"axios/axios", "parse_log_tap"},
    {"phpoffice/phpspreadsheet", "parse_log_phpunit"},
    {"laravel/framework", "parse_log_phpunit"},
    {"php-cs-fixer/php-cs-fixer", "parse_log_phpunit"},
    {"briannesbitt/carbon", "parse_log_phpunit"},
    {"burntsushi/ripgrep", "parse_log_cargo"},
    {"sharkdp/bat", "parse_log_cargo"},
    {"astral-sh/ruff", "parse_log_cargo"},
    {"tokio-rs/tokio", "parse_log_cargo"},
    {"uutils/coreutils", "parse_log_cargo"},
    {"nushell/nushell", "parse_log_cargo"},
    {"tokio-rs/axum", "parse_log_cargo"},
    {"jekyll/jekyll", "parse_log_jekyll"},
    {"fluent/fluentd", "parse_log_ruby_unit"},
    {"fastlane/fastlane", "parse_log_rspec_transformed_json"},
    {"jordansissel/fpm", "parse_log_rspec_transformed_json"},
    {"faker-ruby/faker", "parse_log_ruby_unit"},
    {"rubocop/rubocop", "parse_log_rspec_transformed_json"},
    {"alibaba-fusion/next", "parse_log_next"},
    {"bpmn-io/bpmn-js", "parse_log_bpmn_js"},
    {"carbon-design-system/carbon", "parse_log_carbon"},
    {"eslint/eslint", "parse_log_eslint"},
    {"GoogleChrome/lighthouse", "parse_log_lighthouse"},
    {"grommet/grommet", "parse_log_grommet"},
    {"highlightjs/highlight.js", "parse_log_highlightjs"},
    {"openlayers/openlayers", "parse_log_openlayers"},
    {"prettier/prettier", "parse_log_carbon"},
    {"PrismJS/prism", "parse_log_prismjs"},
    {"quarto-dev/quarto-cli", "parse_log_quarto_cli"},
    {"scratchfoundation/scratch-gui", "parse_log_carbon"},
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
  LogParserSpec spec;
  spec.rules = rules;
  return ParseLog(parser_name, log, spec);
}

Result<StatusMap> ParseLog(std::string_view parser_name, std::string_view log,
                           const LogParserSpec& spec) {
  for (const ParserEntry& entry : kParsers) {
    if (entry.name != parser_name) continue;
    if (entry.spec_fn != nullptr) return entry.spec_fn(log, spec);
    return entry.fn(log, spec.rules);
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
