// The SWE-smith run plan. With a profile it follows the profile-era harness
// (RepoProfile.get_test_cmd without --f2p_only, the profiles' get_test_files):
// a suite profile runs its command as is, a min_testing profile appends the
// FAIL_TO_PASS then PASS_TO_PASS test files, mypy appends its -k expression.
// Without one it keeps the default that predates the table (pytest over the
// FAIL_TO_PASS files, or `go test` when /testbed has a go.mod) and says so.
#include "grading/swesmith_plan.h"

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/text.h"
#include "r2e/shell_quote.h"

namespace r2e::internal {
namespace {

constexpr std::string_view kPytestCommand =
    "pytest --disable-warnings --color=no --tb=no --verbose";
constexpr std::string_view kGoCommand = "go test -v -count=1 ./...";
constexpr std::string_view kPytestParser = "parse_log_swesmith_pytest";
// SWE-smith's parse_log_gotest, which differs from SWE-bench's of that name
// (it also reads `FAIL <package> [build failed]` lines).
constexpr std::string_view kGoParser = "parse_log_swesmith_gotest";

using internal::Contains;

// The row's `test_cmd` override, or empty.
std::string RowTestCmd(const Task& task) {
  if (!task.row.is_object()) return {};
  auto it = task.row.find("test_cmd");
  if (it == task.row.end() || !it->is_string()) return {};
  return std::string(Trim(it->get_ref<const std::string&>()));
}

// A test-file path that is safe to hand to git checkout / rm: relative, no
// "..", no option lookalike, no control characters.
bool SafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.front() == '-') return false;
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20) return false;
  }
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    if (path.substr(pos, next - pos) == "..") return false;
    pos = next + 1;
  }
  return true;
}

// A word the harness would paste into its command unquoted, and that the
// shell reads back unchanged.
bool PlainWord(std::string_view word) {
  if (word.empty()) return false;
  return std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_./+=:,@%^-").find(c) != std::string_view::npos;
  });
}

// The harness joins file names with spaces; a name the shell would split or
// expand is quoted here instead (the harness's command would break on it).
void AppendWords(std::string& command, const std::vector<std::string>& words) {
  for (const auto& w : words) command += " " + (PlainWord(w) ? w : ShellQuote(w));
}

// `"<text>"` with the characters special inside double quotes escaped, so
// the shell passes exactly <text>.
std::string DoubleQuoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\' || c == '$' || c == '`') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::vector<std::string> Unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// name.split("::")[0] for each name, unique, sorted (the default command).
std::vector<std::string> FileParts(const std::vector<std::string>& names) {
  std::set<std::string> files;
  for (const auto& name : names) {
    std::string file = name.substr(0, name.find("::"));
    if (!file.empty()) files.insert(std::move(file));
  }
  return {files.begin(), files.end()};
}

std::vector<std::string> SafeOnly(std::vector<std::string> files) {
  std::erase_if(files, [](const std::string& f) { return !SafeRelativePath(f); });
  return files;
}

// The bash xtrace of the test command: '+ ' then the words, a word with
// special characters in single quotes.
std::vector<std::string> XtraceWords(std::string_view line) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  bool quoted = false;
  for (char c : line) {
    if (quoted) {
      if (c == '\'') {
        quoted = false;
      } else {
        cur += c;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else if (c == '\'') {
      quoted = true;
      in_word = true;
    } else if (c == '\\') {
      in_word = true;  // xtrace writes a quote inside quotes as '\''
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

SweSmithPlan DefaultPlan(const Task& task, bool go_repo) {
  SweSmithPlan plan;
  const std::string key = SweSmithProfileKey(task);
  if (go_repo) {
    plan.go = true;
    plan.command = kGoCommand;
  } else {
    plan.command = kPytestCommand;
    plan.graded_prefixes = FileParts(task.fail_to_pass);
    plan.graded_exact_files = true;
    for (const auto& file : plan.graded_prefixes) plan.command += " " + ShellQuote(file);
    std::vector<std::string> names = task.fail_to_pass;
    names.insert(names.end(), task.pass_to_pass.begin(), task.pass_to_pass.end());
    plan.restore_files = SafeOnly(FileParts(names));
  }
  plan.warning =
      "no SWE-smith profile for " +
      (key.empty() ? std::string("this row (no owner__repo.<commit> in its repo, instance_id "
                                 "or image)")
                   : key) +
      ": using the default command `" + plan.command +
      "`, which may not be what SWE-smith's harness runs; add the repository to "
      "src/grading/data/swesmith_profiles.json (docs/swesmith-profiles.md)";
  return plan;
}

}  // namespace

std::vector<std::string> SweSmithTestFiles(SweSmithProfile::TestFiles rule,
                                           const std::vector<std::string>& names) {
  using TF = SweSmithProfile::TestFiles;
  std::vector<std::string> files;
  switch (rule) {
    case TF::kGo:
      return {};
    case TF::kTestPy:
      return {"test.py"};
    case TF::kPytest:
    case TF::kPytestStripDev:
      for (const auto& name : names) {
        std::string file = name.substr(0, name.find("::"));
        if (rule == TF::kPytestStripDev && file.starts_with("../dev/")) file.erase(0, 7);
        files.push_back(std::move(file));
      }
      break;
    case TF::kUnittestClass:
      // re.search(r"\s\((.*)\)", name): the first whitespace + '(' up to the
      // last ')'; "pkg.mod.Class" -> "pkg/mod.py".
      for (const auto& name : names) {
        std::size_t open = std::string::npos;
        for (std::size_t i = 0; i + 1 < name.size(); ++i) {
          const char c = name[i];
          if ((c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') &&
              name[i + 1] == '(') {
            open = i + 2;
            break;
          }
        }
        if (open == std::string::npos) continue;
        const std::size_t close = name.rfind(')');
        if (close == std::string::npos || close < open) continue;
        std::string dotted = name.substr(open, close - open);
        const std::size_t last = dotted.rfind('.');
        std::string file = last == std::string::npos ? std::string() : dotted.substr(0, last);
        std::replace(file.begin(), file.end(), '.', '/');
        files.push_back(file + ".py");
      }
      break;
  }
  return Unique(std::move(files));
}

bool SweSmithNeedsGoProbe(const Task& task) {
  return RowTestCmd(task).empty() && FindSweSmithProfile(task) == nullptr;
}

Result<SweSmithPlan> PlanSweSmithTests(const Task& task, bool go_repo) {
  const SweSmithProfile* profile = FindSweSmithProfile(task);
  std::vector<std::string> names = task.fail_to_pass;
  names.insert(names.end(), task.pass_to_pass.begin(), task.pass_to_pass.end());

  SweSmithPlan plan;
  if (std::string override_cmd = RowTestCmd(task); !override_cmd.empty()) {
    plan.go = profile != nullptr ? profile->language == "go" : Contains(override_cmd, "go test");
    plan.command = std::move(override_cmd);
    plan.profile = profile;
    if (!plan.go) {
      plan.restore_files = SafeOnly(
          profile != nullptr ? SweSmithTestFiles(profile->test_files, names) : FileParts(names));
    }
  } else if (profile == nullptr) {
    plan = DefaultPlan(task, go_repo);
  } else {
    using Sel = SweSmithProfile::Selection;
    plan.profile = profile;
    plan.go = profile->language == "go";
    plan.command = profile->test_cmd;
    plan.timeout = profile->timeout;
    if (profile->selection == Sel::kTestFiles) {
      // get_test_cmd: f2p_files + p2p_files, each sorted and unique.
      std::vector<std::string> files = SweSmithTestFiles(profile->test_files, task.fail_to_pass);
      const std::vector<std::string> p2p =
          SweSmithTestFiles(profile->test_files, task.pass_to_pass);
      files.insert(files.end(), p2p.begin(), p2p.end());
      AppendWords(plan.command, files);
    } else if (profile->selection == Sel::kMypyK) {
      // get_test_command_mypy: the case names after the last "::".
      std::string keys;
      for (const auto& name : task.fail_to_pass) {
        const std::size_t sep = name.rfind("::");
        if (!keys.empty()) keys += " or ";
        keys += sep == std::string::npos ? name : name.substr(sep + 2);
      }
      if (keys.empty()) {
        return Status::InvalidArgument("task " + task.instance_id + ": " + profile->repo +
                                       "'s -k selection needs FAIL_TO_PASS names");
      }
      plan.command += " " + DoubleQuoted(keys);
      plan.p2p_only_when_seen = true;
    }
    if (!plan.go) plan.restore_files = SafeOnly(SweSmithTestFiles(profile->test_files, names));
  }
  if (plan.parser.empty()) {
    if (!task.log_parser.empty()) {
      plan.parser = task.log_parser;
    } else if (plan.profile != nullptr) {
      plan.parser = plan.profile->log_parser;
    } else {
      plan.parser = plan.go ? kGoParser : kPytestParser;
    }
    // Profiles and rows name SWE-smith's Go parser by its harness name.
    if (plan.parser == "parse_log_gotest") plan.parser = kGoParser;
  }
  return plan;
}

void NarrowToLoggedFiles(std::string_view slice, SweSmithPlan& plan) {
  // Go test names are not paths, and mypy's -k names cases, not files.
  if (plan.profile == nullptr || plan.go ||
      plan.profile->selection == SweSmithProfile::Selection::kMypyK) {
    return;
  }
  const std::vector<std::string> cmd = XtraceWords(plan.profile->test_cmd);
  std::size_t pos = 0;
  while (pos < slice.size()) {
    std::size_t nl = slice.find('\n', pos);
    if (nl == std::string_view::npos) nl = slice.size();
    const std::string_view line = slice.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.starts_with("+ ")) continue;
    const std::vector<std::string> words = XtraceWords(line.substr(2));
    if (words.size() < cmd.size() || !std::equal(cmd.begin(), cmd.end(), words.begin())) continue;
    plan.graded_prefixes.assign(words.begin() + static_cast<std::ptrdiff_t>(cmd.size()),
                                words.end());
    return;
  }
}

}  // namespace r2e::internal
