// SWE-bench evaluation scripts (r2e/swebench.h). Restated from the public
// SWE-bench harness (MIT): v4.1.0 test_spec/python.py (get_test_directives,
// make_eval_script_list_py), test_spec/utils.py (make_eval_script_list_common),
// test_spec/javascript.py (make_eval_script_list_js, get_test_cmds_calypso,
// get_download_img_commands) and test_spec/test_spec.py (eval_script); the
// later reset of #539; 5.0.1 harness/utils.py (parse_eval_script,
// record_test_exit_code). The per-repository values are data (the specs
// table), not code.
#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "grading/swebench_internal.h"
#include "r2e/shell_quote.h"
#include "r2e/swebench.h"

namespace r2e {
namespace {

using internal::Contains;
using internal::Lines;
using internal::OneOf;
using nlohmann::json;

constexpr std::string_view kHeredoc = "EOF_114329324912";
constexpr std::string_view kActivate = "source /opt/miniconda3/bin/activate";
constexpr std::string_view kHeader1 = "#!/bin/bash";
constexpr std::string_view kHeader2 = "set -uxo pipefail";
constexpr std::string_view kExitCodeVar = "SWEBENCH_TEST_EXIT_CODE";

// The harness pastes words into its scripts as they are (no quoting).
std::string Join(const std::vector<std::string>& words, std::string_view sep = " ") {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += sep;
    out += words[i];
  }
  return out;
}

std::string Script(const std::vector<std::string>& commands) {
  std::string s = std::string(kHeader1) + "\n" + std::string(kHeader2) + "\n";
  for (const auto& c : commands) s += c + "\n";
  return s;
}

// test_spec/python.py is_django_test_file (SWE-bench PR #615).
bool IsDjangoTestFile(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return base == "tests.py" || base.starts_with("test_") || Contains(path, "/tests/") ||
         Contains(path, "/test_");
}

// pathlib's parent of a relative POSIX path ("." for a bare name).
std::string Parent(std::string_view path) {
  while (path.size() > 1 && path.ends_with('/')) path.remove_suffix(1);
  const std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

// javascript.py get_download_img_commands: the row's image_assets (a JSON
// string or an object) -> mkdir, curl and chmod for each test_patch asset.
Result<std::vector<std::string>> DownloadImageCommands(const Task& task) {
  std::vector<std::string> out;
  if (!task.row.is_object()) return out;
  auto it = task.row.find("image_assets");
  if (it == task.row.end() || it->is_null()) return out;
  json assets = *it;
  if (assets.is_string()) {
    assets = json::parse(it->get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (assets.is_discarded()) {
      return Status::InvalidArgument("task " + task.instance_id +
                                     ": image_assets is not valid JSON");
    }
  }
  if (!assets.is_object()) return out;
  auto list = assets.find("test_patch");
  if (list == assets.end() || !list->is_array()) return out;
  for (const json& asset : *list) {
    if (!asset.is_object() || !asset.contains("path") || !asset["path"].is_string() ||
        !asset.contains("url") || !asset["url"].is_string()) {
      return Status::InvalidArgument(
          "task " + task.instance_id +
          ": every image_assets.test_patch entry needs a path and a url");
    }
    const std::string path = asset["path"].get<std::string>();
    out.push_back("mkdir -p " + Parent(path));
    out.push_back("curl -o " + path + " " + asset["url"].get<std::string>());
    out.push_back("chmod 777 " + path);
  }
  return out;
}

// re.search(r"__snapshots__/(.*).js.snap$", path)
bool IsJestSnapshot(std::string_view path) {
  constexpr std::string_view kDir = "__snapshots__/";
  constexpr std::string_view kTail = "js.snap";
  for (std::size_t p = path.find(kDir); p != std::string_view::npos; p = path.find(kDir, p + 1)) {
    std::string_view rest = path.substr(p + kDir.size());
    if (rest.size() > kTail.size() && rest.ends_with(kTail) &&
        rest.find('\n') == std::string_view::npos) {
      return true;
    }
  }
  return false;
}

// javascript.py get_test_cmds_calypso: one command per file of the test patch.
std::vector<std::string> CalypsoTestCommands(const Task& task, const PatchFiles& files) {
  std::vector<std::string> cmds;
  for (std::string path : files.paths) {
    if (IsJestSnapshot(path)) {
      // "/".join(path.split("/")[:-2])
      std::vector<std::string_view> parts;
      std::string_view rest = path;
      for (std::size_t s; (s = rest.find('/')) != std::string_view::npos;
           rest.remove_prefix(s + 1)) {
        parts.push_back(rest.substr(0, s));
      }
      parts.push_back(rest);
      std::string joined;
      for (std::size_t i = 0; i + 2 < parts.size(); ++i) {
        if (i > 0) joined += '/';
        joined += parts[i];
      }
      path = std::move(joined);
    }
    if (path.starts_with("client") || path.starts_with("packages")) {
      const std::string pkg = path.substr(0, path.find('/'));
      if (OneOf(task.version, {"10.10.0", "10.12.0", "10.13.0", "10.14.0", "10.15.2", "10.16.3"})) {
        cmds.push_back("./node_modules/.bin/jest --verbose -c=test/" + pkg + "/jest.config.js '" +
                       path + "'");
      } else if (OneOf(task.version, {"6.11.5", "8.9.1", "8.9.3", "8.9.4", "8.11.0", "8.11.2",
                                      "10.4.1", "10.5.0", "10.6.0", "10.9.0"})) {
        cmds.push_back("./node_modules/.bin/jest --verbose -c=test/" + pkg + "/jest.config.json '" +
                       path + "'");
      } else {
        cmds.push_back("npm run test-" + pkg + " --verbose '" + path + "'");
      }
    } else if (path.starts_with("test/e2e")) {
      cmds.push_back("cd test/e2e");
      cmds.push_back("NODE_CONFIG_ENV=test npm run test " + path);
      cmds.push_back("cd ../..");
    }
  }
  return cmds;
}

// The spec a task's script is made from, or why there is none.
Result<SweBenchSpec> SpecFor(const Task& task, const SweBenchEvalScriptOptions& options) {
  if (const SweBenchSpec* spec = FindSweBenchSpec(task.repo, task.version)) {
    SweBenchSpec out = *spec;
    if (!options.test_command.empty()) out.test_cmd = {options.test_command};
    if (out.test_cmd.empty()) {
      return Status::InvalidArgument("task " + task.instance_id +
                                     ": the SWE-bench v4.1.0 specs of " + task.repo + " " +
                                     task.version +
                                     " have no test command; give the row an eval_script or set "
                                     "SweBenchEvalScriptOptions::test_command");
    }
    return out;
  }
  SweBenchSpec out;
  out.language = "py";
  if (SweBenchSpecsHaveRepo(task.repo) && options.test_command.empty()) {
    return Status::InvalidArgument(
        "task " + task.instance_id + ": version \"" + task.version + "\" of " + task.repo +
        " is not in the SWE-bench v4.1.0 specs; give the row an eval_script (and grade with "
        "--rules v5) or set SweBenchEvalScriptOptions::test_command");
  }
  // A repository the harness does not know: r2e's default.
  out.test_cmd = {options.test_command.empty() ? std::string("pytest -rA") : options.test_command};
  return out;
}

std::vector<std::string> ActivateLines(const SweBenchEvalScriptOptions& options) {
  if (options.guard_conda_activation) {
    return {"if [ -f /opt/miniconda3/bin/activate ]; then " + std::string(kActivate) +
            " && conda activate " + options.env_name + "; fi"};
  }
  return {std::string(kActivate), "conda activate " + options.env_name};
}

// make_eval_script_list_py
std::vector<std::string> PythonCommands(const Task& task, const SweBenchSpec& spec,
                                        const SweBenchEvalScriptOptions& options,
                                        const std::vector<std::string>& reset,
                                        const std::string& base) {
  const std::string& dir = options.repo_directory;
  std::vector<std::string> directives =
      SweBenchTestDirectives(task.repo, task.test_patch, options.django_test_files_only);
  directives.insert(directives.begin(), spec.test_cmd.front());
  std::vector<std::string> out = ActivateLines(options);
  out.push_back("cd " + dir);
  out.insert(out.end(), spec.eval_commands.begin(), spec.eval_commands.end());
  out.push_back("git config --global --add safe.directory " + dir);  // for nonroot users
  out.push_back("cd " + dir);
  out.push_back("git status");
  out.push_back("git show");
  out.push_back("git -c core.fileMode=false diff " + base);
  for (auto& line : ActivateLines(options)) out.push_back(std::move(line));
  const std::optional<std::string> install = options.install ? options.install : spec.install;
  if (install && !install->empty()) out.push_back(*install);
  out.insert(out.end(), reset.begin(), reset.end());
  out.push_back("git apply -v - <<'" + std::string(kHeredoc) + "'\n" + task.test_patch + "\n" +
                std::string(kHeredoc));
  out.push_back(": '" + std::string(kSweStartTestOutput) + "'");
  out.push_back(Join(directives));
  out.push_back(": '" + std::string(kSweEndTestOutput) + "'");
  out.insert(out.end(), reset.begin(), reset.end());
  return out;
}

// make_eval_script_list_common, and make_eval_script_list_js on top of it.
Result<std::vector<std::string>> CommonCommands(const Task& task, const SweBenchSpec& spec,
                                                const SweBenchEvalScriptOptions& options,
                                                const PatchFiles& files,
                                                std::vector<std::string> reset) {
  const std::string& dir = options.repo_directory;
  if (reset.empty()) reset.push_back("echo \"No test files to reset\"");
  std::vector<std::string> out = {"cd " + dir, "git config --global --add safe.directory " + dir,
                                  "cd " + dir};
  out.insert(out.end(), reset.begin(), reset.end());
  if (spec.language == "js") {
    // Inserted right before the test patch (v4.1.0 slices them in at index
    // 4, which is the same place while the reset is one line).
    R2E_ASSIGN_OR_RETURN(std::vector<std::string> downloads, DownloadImageCommands(task));
    out.insert(out.end(), downloads.begin(), downloads.end());
  }
  out.push_back("git apply --verbose --reject - <<'" + std::string(kHeredoc) + "'\n" +
                task.test_patch + "\n" + std::string(kHeredoc));
  out.insert(out.end(), spec.build.begin(), spec.build.end());
  out.push_back(": '" + std::string(kSweStartTestOutput) + "'");
  if (task.repo == "Automattic/wp-calypso" && options.test_command.empty()) {
    for (auto& c : CalypsoTestCommands(task, files)) out.push_back(std::move(c));
  } else {
    out.insert(out.end(), spec.test_cmd.begin(), spec.test_cmd.end());
  }
  out.push_back(": '" + std::string(kSweEndTestOutput) + "'");
  out.insert(out.end(), reset.begin(), reset.end());
  return out;
}

}  // namespace

std::vector<std::string_view> internal::Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::vector<std::string_view> internal::SplitNewlines(std::string_view text) {
  std::vector<std::string_view> pieces;
  for (;;) {
    std::size_t nl = text.find('\n');
    pieces.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) return pieces;
    text.remove_prefix(nl + 1);
  }
}

std::vector<std::string> internal::SweBenchTestFileReset(std::string_view base,
                                                         const PatchFiles& files) {
  std::vector<std::string> out;
  if (!files.modified.empty())
    out.push_back("git checkout " + std::string(base) + " " + Join(files.modified));
  if (!files.created.empty()) out.push_back("rm -f " + Join(files.created));
  return out;
}

PatchFiles SweBenchPatchFiles(std::string_view patch) {
  PatchFiles files;
  const std::vector<std::string_view> lines = Lines(patch);
  auto strip_ab = [](std::string_view p) {
    return p.starts_with("a/") || p.starts_with("b/") ? p.substr(2) : p;
  };
  // unidiff's file name: up to a tab (a timestamp may follow); no '\r'.
  auto file_name = [](std::string_view rest) {
    rest = rest.substr(0, rest.find('\t'));
    if (rest.ends_with('\r')) rest.remove_suffix(1);
    return rest;
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].starts_with("diff --git ")) continue;
    // Header `diff --git a/X b/Y`: Y after the last " b/".
    std::string_view header = file_name(lines[i].substr(11));
    std::string_view header_source;
    std::string_view header_target;
    if (std::size_t b = header.rfind(" b/"); b != std::string_view::npos) {
      header_source = header.substr(0, b);
      header_target = header.substr(b + 1);
    }
    std::optional<std::string_view> source;
    std::optional<std::string_view> target;
    bool is_new = false;
    bool is_deleted = false;
    std::size_t j = i + 1;
    for (; j < lines.size() && !lines[j].starts_with("diff --git ") && !lines[j].starts_with("@@");
         ++j) {
      if (lines[j].starts_with("--- ")) {
        source = file_name(lines[j].substr(4));
      } else if (lines[j].starts_with("+++ ")) {
        target = file_name(lines[j].substr(4));
      } else if (lines[j].starts_with("new file mode")) {
        is_new = true;
      } else if (lines[j].starts_with("deleted file mode")) {
        is_deleted = true;
      }
    }
    if (!source) source = is_new ? std::string_view("/dev/null") : header_source;
    if (!target) target = is_deleted ? std::string_view("/dev/null") : header_target;
    if (*source == "/dev/null") {
      if (!target->empty()) files.created.emplace_back(strip_ab(*target));
      files.paths.emplace_back(strip_ab(*target));
    } else {
      if (source->starts_with("a/")) files.modified.emplace_back(source->substr(2));
      // PatchedFile.path prefers the target of a rename.
      const bool rename = *target != "/dev/null" && source->size() >= 2 && target->size() >= 2 &&
                          source->substr(2) != target->substr(2);
      files.paths.emplace_back(strip_ab(rename ? *target : *source));
    }
    i = j - 1;
  }
  return files;
}

std::vector<std::string> SweBenchTestDirectives(std::string_view repo, std::string_view test_patch,
                                                bool django_test_files_only) {
  if (repo == "swe-bench/humaneval") return {"test.py"};
  // re.findall(r"diff --git a/.* b/(.*)", test_patch): per line, from the
  // first "diff --git a/", the text after the last " b/".
  constexpr std::string_view kHead = "diff --git a/";
  const std::vector<std::string>& non_test = internal::SweBenchNonTestExts();
  std::vector<std::string> directives;
  for (std::string_view line : Lines(test_patch)) {
    std::size_t at = line.find(kHead);
    if (at == std::string_view::npos) continue;
    std::string_view rest = line.substr(at + kHead.size());
    // `.*` may be empty, so " b/" may start right at `rest`.
    std::size_t b = rest.rfind(" b/");
    if (b == std::string_view::npos) continue;
    std::string_view d = rest.substr(b + 3);
    const bool skip = std::any_of(non_test.begin(), non_test.end(),
                                  [&](const std::string& ext) { return d.ends_with(ext); });
    if (!skip) directives.emplace_back(d);
  }
  if (repo == "django/django") {
    std::vector<std::string> transformed;
    for (std::string d : directives) {
      if (django_test_files_only && !IsDjangoTestFile(d)) continue;
      if (d.ends_with(".py")) d.resize(d.size() - 3);
      if (d.starts_with("tests/")) d.erase(0, 6);
      std::replace(d.begin(), d.end(), '/', '.');
      transformed.push_back(std::move(d));
    }
    directives = std::move(transformed);
  }
  return directives;
}

Result<std::string> MakeSweBenchEvalScript(const Task& task, GradingRules rules,
                                           const SweBenchEvalScriptOptions& options) {
  R2E_ASSIGN_OR_RETURN(SweBenchSpec spec, SpecFor(task, options));
  const bool python = spec.language == "py";
  // Without a base commit the reset and the diff use HEAD.
  const std::string base = task.base_commit.empty() ? "HEAD" : task.base_commit;
  const PatchFiles files = SweBenchPatchFiles(task.test_patch);
  const bool remove_created =
      options.remove_created_test_files.value_or(rules == GradingRules::kV5 && python);
  std::vector<std::string> reset;
  if (remove_created) {
    reset = internal::SweBenchTestFileReset(base, files);
  } else if (python) {
    // v4.1.0 always writes the checkout, with no files if there are none.
    reset.push_back("git checkout " + base + " " + Join(files.modified));
  } else if (!files.modified.empty()) {
    reset.push_back("git checkout " + base + " " + Join(files.modified));
  }
  std::vector<std::string> commands;
  if (python) {
    commands = PythonCommands(task, spec, options, reset, base);
  } else {
    R2E_ASSIGN_OR_RETURN(commands, CommonCommands(task, spec, options, files, std::move(reset)));
  }
  std::string script = Script(commands);
  if (rules == GradingRules::kV5) script = SweBenchWrapEvalScript(script);
  return script;
}

std::string SweBenchWrapEvalScript(std::string_view eval_script) {
  // parse_eval_script: strip(), split("\n"), drop the header lines.
  std::size_t b = 0;
  std::size_t e = eval_script.size();
  while (b < e && internal::IsSpace(eval_script[b])) ++b;
  while (e > b && internal::IsSpace(eval_script[e - 1])) --e;
  std::vector<std::string_view> lines;
  for (std::string_view line : internal::SplitNewlines(eval_script.substr(b, e - b))) {
    if (line != kHeader1 && line != kHeader2) lines.push_back(line);
  }
  // record_test_exit_code: around the first line holding the End marker.
  std::vector<std::string> out = {std::string(kHeader1), std::string(kHeader2)};
  bool wrapped = false;
  for (std::string_view line : lines) {
    if (!wrapped && Contains(line, kSweEndTestOutput)) {
      out.push_back(std::string(kExitCodeVar) + "=$?");
      out.emplace_back(line);
      out.push_back("echo \"" + std::string(kSweTestExitCode) + ": $" + std::string(kExitCodeVar) +
                    "\"");
      wrapped = true;
    } else {
      out.emplace_back(line);
    }
  }
  return Join(out, "\n") + "\n";
}

Result<std::string> SweBenchEvalScriptFor(const Task& task, GradingRules rules,
                                          const SweBenchEvalScriptOptions& options) {
  if (rules == GradingRules::kV5 && !task.eval_script.empty()) {
    return SweBenchWrapEvalScript(task.eval_script);
  }
  return MakeSweBenchEvalScript(task, rules, options);
}

std::string SweBenchApplyPatchCommand(std::string_view patch_path,
                                      std::string_view repo_directory) {
  const std::string patch = ShellQuote(patch_path);
  std::string s;
  s += "cd " + ShellQuote(repo_directory) + " || exit 1\n";
  s += "r2e_applied=0\n";
  s += "r2e_out=''\n";
  s += "for r2e_cmd in 'git apply --verbose' 'git apply --verbose --reject' "
       "'patch --batch --fuzz=5 -p1 -i'; do\n";
  s += "  if r2e_out=$($r2e_cmd " + patch + " 2>&1); then\n";
  s += "    printf '%s:\\n%s\\n' '" + std::string(kSweApplyPatchPass) + "' \"$r2e_out\"\n";
  s += "    r2e_applied=1\n";
  s += "    break\n";
  s += "  fi\n";
  s += "  echo \"Failed to apply patch to container: $r2e_cmd\"\n";
  s += "done\n";
  s += "if [ \"$r2e_applied\" != 1 ]; then\n";
  s += "  printf '%s:\\n%s\\n' '" + std::string(kSweApplyPatchFail) + "' \"$r2e_out\"\n";
  s += "  exit 1\n";
  s += "fi\n";
  return s;
}

}  // namespace r2e
