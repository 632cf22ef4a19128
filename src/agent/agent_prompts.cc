// The LLM agent's tool offer and r2e's own prompt texts: the default and
// normalized tool schemas, the tools' text listing, the prompt templates.
// See r2e/llm_agent.h.
#include <algorithm>
#include <optional>
#include <utility>

#include "agent/agent_internal.h"
#include "r2e/action.h"
#include "r2e/llm_agent.h"
#include "r2e/repo_env.h"

namespace r2e {

using agent_internal::Dump;
using agent_internal::Excerpt;
using agent_internal::OJson;

std::vector<OJson> DefaultToolSchemas() {
  return {
      OJson{{"type", "function"},
            {"function",
             {{"name", "execute_bash"},
              {"description",
               "Run a bash command in the repository's sandbox. The working directory is /testbed. "
               "Output (stdout and stderr) longer than 80 lines keeps its first and last 40 lines. "
               "Commands starting with git, ipython, jupyter or nohup are refused. A command that "
               "runs too long is killed."},
              {"parameters",
               {{"type", "object"},
                {"properties",
                 {{"cmd", {{"type", "string"}, {"description", "The bash command to run."}}}}},
                {"required", OJson::array({"cmd"})}}}}}},
      OJson{{"type", "function"},
            {"function",
             {{"name", "finish"},
              {"description",
               "Submit your changes and end the task. Call it once the task is solved."},
              {"parameters",
               {{"type", "object"},
                {"properties",
                 {{"command",
                   {{"type", "string"},
                    {"enum", OJson::array({"submit"})},
                    {"description", "Always `submit`."}}},
                  {"result",
                   {{"type", "string"},
                    {"description", "Optional: a short summary of what you changed."}}}}},
                {"required", OJson::array({"command"})}}}}}},
  };
}

Result<OJson> NormalizeToolSchema(const OJson& schema) {
  if (!schema.is_object()) return Status::InvalidArgument("a tool schema must be a JSON object");
  const OJson* fn = &schema;
  if (auto f = schema.find("function"); f != schema.end()) {
    if (!f->is_object())
      return Status::InvalidArgument("a tool schema's `function` must be an object");
    fn = &*f;
  }
  auto name = fn->find("name");
  if (name == fn->end() || !name->is_string() || name->get<std::string>().empty()) {
    return Status::InvalidArgument("a tool schema has no name: " + Excerpt(Dump(schema)));
  }
  OJson out_fn = {{"name", *name}};
  if (auto d = fn->find("description"); d != fn->end() && d->is_string())
    out_fn["description"] = *d;
  if (auto p = fn->find("parameters"); p != fn->end() && p->is_object()) {
    out_fn["parameters"] = *p;
  } else {
    out_fn["parameters"] = {{"type", "object"}, {"properties", OJson::object()}};
  }
  return OJson{{"type", "function"}, {"function", std::move(out_fn)}};
}

namespace agent_internal {

std::string DescribeTools(const std::vector<OJson>& tools) {
  std::string out;
  int n = 0;
  for (const OJson& tool : tools) {
    auto norm = NormalizeToolSchema(tool);
    if (!norm.ok()) continue;
    const OJson& fn = (*norm)["function"];
    const std::string name = fn["name"].get<std::string>();
    ++n;
    out += "---- BEGIN FUNCTION #" + std::to_string(n) + ": " + name + " ----\n";
    if (fn.contains("description"))
      out += "Description: " + fn["description"].get<std::string>() + "\n";
    const OJson& params = fn["parameters"];
    std::vector<std::string> required;
    if (auto r = params.find("required"); r != params.end() && r->is_array()) {
      for (const auto& x : *r) {
        if (x.is_string()) required.push_back(x.get<std::string>());
      }
    }
    auto props = params.find("properties");
    if (props != params.end() && props->is_object() && !props->empty()) {
      out += "Parameters:\n";
      int k = 0;
      for (const auto& [pname, p] : props->items()) {
        ++k;
        std::string type = "string";
        std::string desc;
        std::string choices;
        if (p.is_object()) {
          if (auto t = p.find("type"); t != p.end())
            type = t->is_string() ? t->get<std::string>() : Dump(*t);
          if (auto d = p.find("description"); d != p.end() && d->is_string())
            desc = d->get<std::string>();
          if (auto e = p.find("enum"); e != p.end() && e->is_array()) {
            for (const auto& v : *e)
              choices += (choices.empty() ? "" : ", ") +
                         (v.is_string() ? "`" + v.get<std::string>() + "`" : Dump(v));
          }
        }
        const bool req = std::find(required.begin(), required.end(), pname) != required.end();
        out += "  (" + std::to_string(k) + ") " + pname + " (" + type + ", " +
               (req ? "required" : "optional") + ")";
        if (!desc.empty()) out += ": " + desc;
        if (!choices.empty()) out += " Allowed values: [" + choices + "]";
        out += "\n";
      }
    } else {
      out += "No parameters.\n";
    }
    out += "---- END FUNCTION #" + std::to_string(n) + " ----\n\n";
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string Fill(std::string_view tmpl,
                 const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  std::size_t i = 0;
  while (i < tmpl.size()) {
    bool replaced = false;
    if (tmpl[i] == '{') {
      for (const auto& [key, value] : values) {
        const std::string token = "{" + key + "}";
        if (tmpl.compare(i, token.size(), token) == 0) {
          out += value;
          i += token.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += tmpl[i++];
  }
  return out;
}

const std::string_view kSystemPrompt =
    "You are a programming agent working on a software repository. The repository is checked "
    "out at /testbed, which is also the working directory of every command. You act by calling "
    "the functions you are given; each call runs in the repository's sandbox and you then see "
    "its output. Call exactly one function per reply. When the task is solved, call `{finish}`.";

const std::string_view kXmlFormat =
    "\n\nWrite your reasoning first, then exactly one function call in this format:\n\n"
    "<function=FUNCTION_NAME>\n"
    "<parameter=PARAMETER_NAME>VALUE</parameter>\n"
    "...\n"
    "</function>\n\n"
    "For example:\n\n"
    "<function=execute_bash>\n"
    "<parameter=cmd>grep -rn \"def main\" .</parameter>\n"
    "</function>\n\n"
    "Values are taken verbatim: no quoting or escaping. A reply without a function call does "
    "nothing.\n\nAvailable functions:\n\n";

const std::string_view kInstanceTemplate =
    "Resolve the issue below in the repository at /testbed.\n\n"
    "<issue>\n{task}\n</issue>\n\n"
    "Change non-test source files only; hidden tests will check your change. A good way to "
    "work: find the relevant code, reproduce the problem with a short script, fix it, run the "
    "script and the existing tests again, then call `{finish}`.";

std::string ClipObservation(const std::string& text, std::size_t limit) {
  if (limit == 0 || text.size() <= limit) return text;
  const std::size_t half = limit / 2;
  std::string note = "\n\n[... " + std::to_string(text.size() - 2 * half) +
                     " characters of this output were cut ...]\n\n";
  return SanitizeUtf8(text.substr(0, half)) + note + SanitizeUtf8(text.substr(text.size() - half));
}

std::string FinishToolName(const std::vector<OJson>& schemas) {
  std::optional<std::string> first;
  for (const auto& schema : schemas) {
    auto fn = schema.find("function");
    if (fn == schema.end() || !fn->is_object()) continue;
    auto n = fn->find("name");
    if (n == fn->end() || !n->is_string()) continue;
    Action a;
    a.function_name = n->get<std::string>();
    if (a.function_name == "finish") return a.function_name;
    if (a.is_finish() && !first) first = a.function_name;
  }
  return first.value_or("finish");
}

std::optional<std::chrono::seconds> StepTimeout(std::optional<std::chrono::seconds> step_timeout,
                                                std::optional<Clock::time_point> deadline) {
  if (!deadline) return step_timeout;
  const auto left = std::chrono::ceil<std::chrono::seconds>(*deadline - Clock::now());
  static const std::chrono::seconds kEnvDefault = [] {
    RepoEnvOptions defaults;
    return defaults.step_timeout;
  }();
  const std::chrono::seconds bound = step_timeout.value_or(kEnvDefault);
  return std::max(std::chrono::seconds(1), std::min(bound, left));
}

}  // namespace agent_internal
}  // namespace r2e
