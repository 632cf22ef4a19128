// Replays the R2E-Gym scaffold's tool corpus (../shared/fixtures/r2egym/
// tools.jsonl) through r2e: each case runs in two local sandboxes laid out as
// the corpus's (repository at /testbed, /root/.venv/bin/python the sandbox's
// Python 3, /var/tmp empty), with the case's tool set installed by AddCommands
// and every step run by CallTool as RepoEnv::step runs it, through the tool
// server. One sandbox keeps stderr apart (stdout, stderr, exit code and the
// files changed are compared), the other merges them as a step does (the
// merged output and the observation text are compared). The comparison rules
// (unordered listings, tracebacks) are those of the corpus README.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "kube/kube_text.h"
#include "r2e/action.h"
#include "r2e/local_runtime.h"
#include "r2e/observation.h"
#include "r2e/tools.h"
#include "tools/direct_call.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kCorpus = fs::path(R2E_SHARED_DIR) / "fixtures" / "r2egym";

std::string Base64Decode(std::string_view in) { return kube::Base64Decode(in).value_or(""); }

// A file entry of the corpus: {"text"} or {"base64"}.
std::string Content(const json& entry) {
  if (entry.contains("text")) return entry["text"].get<std::string>();
  return Base64Decode(entry["base64"].get<std::string>());
}

// A step's text field, or its `<field>_b64` sibling.
std::string Field(const json& step, const std::string& name) {
  if (step.contains(name)) return step[name].get<std::string>();
  if (step.contains(name + "_b64")) return Base64Decode(step[name + "_b64"].get<std::string>());
  return "";
}

std::vector<json> LoadCases() {
  std::vector<json> cases;
  std::ifstream in(kCorpus / "tools.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) cases.push_back(json::parse(line));
  }
  return cases;
}

const std::vector<json>& Cases() {
  static const std::vector<json> cases = LoadCases();
  return cases;
}

std::vector<std::string> CaseIds() {
  std::vector<std::string> ids;
  for (const json& c : Cases()) ids.push_back(c["id"].get<std::string>());
  return ids;
}

const json& CaseById(const std::string& id) {
  for (const json& c : Cases()) {
    if (c["id"] == id) return c;
  }
  static const json none;
  return none;
}

// Files under a host directory (relative path -> content; new empty
// directories as "<dir>").
std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), root).generic_string();
    if (it->is_symlink()) {
      out[rel] = "symlink:" + fs::read_symlink(it->path()).string();
    } else if (it->is_regular_file()) {
      std::ifstream f(it->path(), std::ios::binary);
      std::ostringstream s;
      s << f.rdbuf();
      out[rel] = s.str();
    } else if (it->is_directory() && fs::is_empty(it->path())) {
      out[rel] = "<dir>";
    }
  }
  return out;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (true) {
    const std::size_t e = s.find('\n', b);
    out.push_back(s.substr(b, e == std::string::npos ? std::string::npos : e - b));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Drops "Traceback (most recent call last):" blocks (their frames name the
// interpreter's files); the exception's own line stays.
std::string WithoutTraceback(const std::string& s) {
  std::string out;
  bool skipping = false;
  std::istringstream in(s);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (line.starts_with("Traceback (most recent call last):")) {
      skipping = true;
      continue;
    }
    if (skipping && line.starts_with(" ")) continue;
    skipping = false;
    out += (first ? "" : "\n") + line;
    first = false;
  }
  return out;
}

// Compares text as the corpus says for this step.
void ExpectText(const std::string& what, const std::string& got, const std::string& want, const json& step) {
  if (step.value("order_dependent_clip", false)) {
    EXPECT_EQ(got.size(), want.size()) << what << ": clipped listing length";
    EXPECT_EQ(got.substr(0, got.find('\n')), want.substr(0, want.find('\n'))) << what << ": header";
    return;
  }
  if (step.value("unordered_lines", false)) {
    EXPECT_EQ(Lines(got), Lines(want)) << what << " (as a multiset of lines)";
    return;
  }
  EXPECT_EQ(got, want) << what;
}

class Sandbox {
 public:
  Status Start(const json& c, ToolPython python) {
    dir_ = fs::temp_directory_path() / ("r2e-replay-" + std::to_string(::getpid()) + "-" + std::to_string(++count_));
    fs::remove_all(dir_);
    const json repo = json::parse(std::ifstream(kCorpus / "repo.json"));
    for (const json* files : {&repo["files"], &c["setup_files"]}) {
      for (const auto& [rel, entry] : files->items()) {
        fs::create_directories((dir_ / rel).parent_path());
        if (entry.contains("dir")) {
          fs::create_directories(dir_ / rel);
          continue;
        }
        std::ofstream(dir_ / rel, std::ios::binary) << Content(entry);
      }
    }
    LocalRuntimeOptions o;
    o.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
    runtime_ = std::make_unique<LocalRuntime>(o);
    SandboxSpec spec;
    spec.copy_in = {{dir_, "/testbed"}};
    R2E_RETURN_IF_ERROR(runtime_->start(spec));
    ExecOptions quick;
    quick.timeout = std::chrono::seconds(60);
    // The corpus's interpreter: /root/.venv/bin/python.
    auto venv = runtime_->exec("mkdir -p /root/.venv/bin && ln -s \"$(command -v python3)\" /root/.venv/bin/python", quick);
    if (!venv.ok()) return venv.status();
    R2E_ASSIGN_OR_RETURN(auto files, ToolSet(c["toolset"].get<std::string>()));
    AddCommandsOptions add;
    add.python = python;
    R2E_ASSIGN_OR_RETURN(installed_, AddCommands(*runtime_, files, add));
    for (const InstalledTool& t : installed_) {
      if (t.python != python) return Status::Internal("a tool runs on " + std::string(ToolPythonName(t.python)));
    }
    return StartToolServer(*runtime_, installed_, quick, /*wait=*/true);
  }

  ~Sandbox() {
    if (runtime_) (void)runtime_->stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // With `direct`, as a step runs it: straight to the tool server where it
  // can (ToolCallOptions::link); else through the session.
  Result<ToolCallResult> Run(const std::string& command, bool separate_stderr, bool direct) {
    const std::string tool = command.substr(0, command.find(' '));
    const InstalledTool* found = &installed_.front();
    for (const InstalledTool& t : installed_) {
      if (t.description.name == tool) found = &t;
    }
    ToolCallOptions o;
    o.exec.timeout = std::chrono::seconds(90);
    o.separate_stderr = separate_stderr;
    if (direct) o.link = &link_;
    return CallTool(*runtime_, installed_, *found, command, o);
  }

  std::map<std::string, std::string> Files() {
    auto host = runtime_->host_path("/testbed");
    return host.ok() ? Snapshot(*host) : std::map<std::string, std::string>{};
  }

 private:
  static inline int count_ = 0;
  fs::path dir_;
  std::unique_ptr<LocalRuntime> runtime_;
  std::vector<InstalledTool> installed_;
  ToolServerLink link_;
};

// Replays case `id` with the tools on `python` (kSandbox: the host's python3,
// as the bubblewrap sandbox sees it; kBundled: r2e-python).
void Replay(const std::string& id, ToolPython python) {
  if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
  if (python == ToolPython::kBundled && !BundledPythonAvailable()) {
    GTEST_SKIP() << "this build has no r2e-python (R2E_TOOL_PYTHON, libpython3-dev, zlib1g-dev)";
  }
  const json& c = CaseById(id);
  ASSERT_FALSE(c.is_null());
  Sandbox apart, merged;
  Status started = apart.Start(c, python);
  ASSERT_TRUE(started.ok()) << started.ToString();
  started = merged.Start(c, python);
  ASSERT_TRUE(started.ok()) << started.ToString();
  int index = 0;
  for (const json& step : c["steps"]) {
    SCOPED_TRACE("step " + std::to_string(index++) + ": " + step["command"].get<std::string>());
    const auto before = apart.Files();
    auto a =
        apart.Run(step["command"].get<std::string>(), /*separate_stderr=*/true, /*direct=*/false);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    auto m =
        merged.Run(step["command"].get<std::string>(), /*separate_stderr=*/false, /*direct=*/true);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    // Served unless the server could not take the call (the path is reported);
    // the merged sandbox's served calls skip the session, as a step's do,
    // unless the command needs a shell to be taken apart (a glob, ...).
    EXPECT_THAT(a->path, testing::AnyOf(ToolPath::kServed, ToolPath::kExec));
    EXPECT_FALSE(a->direct);
    const bool literal = internal::LiteralWords(step["command"].get<std::string>()).has_value();
    EXPECT_EQ(m->direct, m->path == ToolPath::kServed && literal);

    ExpectText("stdout", a->result.output, Field(step, "stdout"), step);
    EXPECT_EQ(a->result.exit_code, step["exit_code"].get<int>());
    if (step.value("stderr_traceback", false)) {
      std::string err = a->stderr_output;
      while (!err.empty() && err.back() == '\n') err.pop_back();
      EXPECT_EQ(err.substr(err.rfind('\n') + 1), step["stderr_last_line"].get<std::string>());
    } else {
      ExpectText("stderr", a->stderr_output, Field(step, "stderr"), step);
    }

    std::map<std::string, std::optional<std::string>> changed, want;
    const auto after = apart.Files();
    for (const auto& [rel, content] : after) {
      auto it = before.find(rel);
      if (it == before.end() || it->second != content) changed[rel] = content;
    }
    for (const auto& [rel, content] : before) {
      if (!after.contains(rel)) changed[rel] = std::nullopt;
    }
    for (const auto& [rel, entry] : step["files_changed"].items()) {
      if (entry.is_null()) {
        want[rel] = std::nullopt;
      } else {
        want[rel] = entry.contains("dir") ? std::string("<dir>") : Content(entry);
      }
    }
    EXPECT_EQ(changed, want) << "files changed";

    const bool traceback = step.value("stderr_traceback", false);
    auto output = [&](const std::string& s) { return traceback ? WithoutTraceback(s) : s; };
    ExpectText("merged output", output(m->result.output), output(Field(step, "output")), step);
    if (step.contains("action")) {
      const std::string name = step["action"]["function_name"].get<std::string>();
      Action action;
      action.function_name = name;
      const bool bash = name == "execute_bash" || name == "bash";
      const std::string text = action.is_finish() ? std::string(kFinishedText)
                               : bash ? BashObservation(name, m->result, std::chrono::seconds(90)).text
                                      : ToolObservation(name, m->result, std::chrono::seconds(90)).text;
      ExpectText("observation", output(text), output(Field(step, "observation")), step);
    }
  }
}

std::string CaseTestName(const testing::TestParamInfo<std::string>& case_info) {
  std::string name;
  for (char ch : case_info.param) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return name;
}

class ScaffoldToolReplay : public testing::TestWithParam<std::string> {};
TEST_P(ScaffoldToolReplay, MatchesTheScaffold) { Replay(GetParam(), ToolPython::kSandbox); }
INSTANTIATE_TEST_SUITE_P(Corpus, ScaffoldToolReplay, testing::ValuesIn(CaseIds()), CaseTestName);

// The same cases with the tools on r2e-python, the interpreter installed where
// a sandbox has no python3: the same outputs, byte for byte. A sixth of the
// corpus (every sixth case, all tool sets among them) runs in
// ctest; R2E_REPLAY_BUNDLED_ALL=1 runs all of it (docs/tools.md).
std::vector<std::string> BundledCaseIds() {
  std::vector<std::string> all = CaseIds(), some;
  const char* every = std::getenv("R2E_REPLAY_BUNDLED_ALL");
  const bool take_all = every != nullptr && std::string(every) == "1";
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (take_all || i % 6 == 0) some.push_back(all[i]);
  }
  return some;
}
class ScaffoldToolReplayBundled : public testing::TestWithParam<std::string> {};
TEST_P(ScaffoldToolReplayBundled, MatchesTheScaffold) { Replay(GetParam(), ToolPython::kBundled); }
INSTANTIATE_TEST_SUITE_P(CorpusOnBundledPython, ScaffoldToolReplayBundled, testing::ValuesIn(BundledCaseIds()),
                         CaseTestName);

}  // namespace
}  // namespace r2e
