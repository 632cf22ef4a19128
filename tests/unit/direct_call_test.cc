// Direct tool calls (src/tools/direct_call.h): which commands may skip the
// session, and, in a LocalRuntime sandbox with a pipe directory, calls that
// do give what the same calls through the session give: big requests, big
// outputs, stderr apart, each call's own environment and directory.
#include "tools/direct_call.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "r2e/local_runtime.h"
#include "r2e/tools.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using testing::ElementsAre;
using testing::HasSubstr;

TEST(LiteralWordsTest, TakesWhatTheQuotingFunctionsWrite) {
  EXPECT_THAT(*internal::LiteralWords("file_editor view --path /testbed/a.py"),
              ElementsAre("file_editor", "view", "--path", "/testbed/a.py"));
  // ShlexQuote's '"'"' and ShellQuote's '\'' for a quote; empty words; newlines
  // and spaces inside quotes.
  EXPECT_THAT(*internal::LiteralWords("search --search_term 'it'\"'\"'s' --x ''"),
              ElementsAre("search", "--search_term", "it's", "--x", ""));
  EXPECT_THAT(*internal::LiteralWords("t 'a'\\''b' 'two\nlines  here'"),
              ElementsAre("t", "a'b", "two\nlines  here"));
  EXPECT_THAT(*internal::LiteralWords("  t   a  "), ElementsAre("t", "a"));
  EXPECT_THAT(*internal::LiteralWords("t \"it's\"'$HOME'"), ElementsAre("t", "it's$HOME"));
}

TEST(LiteralWordsTest, RefusesWhatNeedsAShell) {
  for (const char* command : {"t $HOME", "t *.py", "t [1,2]", "t a;b", "t a|b", "t >out", "t `x`",
                              "t \"$x\"", "t \"a\\\"b\"", "t ~", "t a\nb", "t 'open", "t \"open",
                              "t {a,b}", "t a&", "t #c", "t \"!x\"", "t a\\"}) {
    EXPECT_FALSE(internal::LiteralWords(command).has_value()) << command;
  }
}

// A bubblewrap sandbox over a small repository with the r2egym tools and the
// tool server running.
class DirectCallTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
    repo_ = fs::temp_directory_path() / ("r2e-direct-" + std::to_string(::getpid()));
    fs::remove_all(repo_);
    fs::create_directories(repo_ / "sub");
    std::ofstream(repo_ / "a.py") << "VALUE = 1\n";
    LocalRuntimeOptions o;
    o.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
    runtime_ = std::make_unique<LocalRuntime>(o);
    SandboxSpec spec;
    spec.copy_in = {{repo_, "/testbed"}};
    ASSERT_TRUE(runtime_->start(spec).ok());
    ASSERT_FALSE(runtime_->pipe_directory().host_path.empty());
    auto files = ToolSet("r2egym");
    ASSERT_TRUE(files.ok());
    auto installed = AddCommands(*runtime_, *files);
    ASSERT_TRUE(installed.ok()) << installed.status().ToString();
    installed_ = std::move(installed).value();
    ExecOptions quick;
    quick.timeout = std::chrono::seconds(60);
    ASSERT_TRUE(StartToolServer(*runtime_, installed_, quick, /*wait=*/true).ok());
  }

  void TearDown() override {
    if (runtime_) (void)runtime_->stop();
    std::error_code ec;
    fs::remove_all(repo_, ec);
  }

  // The call with the test's link (`direct`) or without; it must be served,
  // and directly exactly when `expect_direct`.
  ToolCallResult Call(const std::string& command, bool direct, ToolCallOptions o = {}) {
    return Call(command, direct, o, direct);
  }
  ToolCallResult Call(const std::string& command, bool direct, ToolCallOptions o,
                      bool expect_direct) {
    const InstalledTool* tool = nullptr;
    for (const InstalledTool& t : installed_) {
      if (command.starts_with(t.description.name + " ")) tool = &t;
    }
    EXPECT_NE(tool, nullptr) << command;
    if (tool == nullptr) return {};
    if (o.exec.timeout == ExecOptions{}.timeout) o.exec.timeout = std::chrono::seconds(60);
    o.link = direct ? &link_ : nullptr;
    auto r = CallTool(*runtime_, installed_, *tool, command, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    EXPECT_EQ(r->path, o.serve ? ToolPath::kServed : ToolPath::kExec) << command;
    EXPECT_EQ(r->direct, expect_direct) << command;
    return std::move(r).value();
  }

  fs::path repo_;
  std::unique_ptr<LocalRuntime> runtime_;
  std::vector<InstalledTool> installed_;
  ToolServerLink link_;
};

TEST_F(DirectCallTest, ABigRequestAndABigOutputAreThoseOfTheSession) {
  // A request bigger than a pipe's buffer (64 KiB).
  const std::string big(300 * 1024, 'x');
  const ToolCallResult edit = Call(
      "file_editor str_replace --path /testbed/a.py --old_str 'VALUE = 1' --new_str 'VALUE = \"" +
          big + "\"'",
      /*direct=*/true);
  EXPECT_EQ(edit.result.exit_code, 0) << edit.result.output.substr(0, 500);
  auto content = runtime_->read_file("/testbed/a.py");
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "VALUE = \"" + big + "\"\n");
  // An output past the session's bound (64 KiB head and tail): the same bytes
  // kept and the same count dropped as by a plain call, whether the call is
  // served directly or through the session (whose trailer line the bound
  // keeps room for).
  const std::string lots = "execute_bash --cmd 'seq 1 40000; echo done >&2'";
  const ToolCallResult direct = Call(lots, /*direct=*/true);
  ToolCallOptions unserved;
  unserved.serve = false;
  const ToolCallResult plain = Call(lots, /*direct=*/false, unserved);
  const ToolCallResult through_session = Call(lots, /*direct=*/false);
  EXPECT_GT(direct.result.truncated_bytes, 0U);
  EXPECT_EQ(direct.result.truncated_bytes, plain.result.truncated_bytes);
  EXPECT_TRUE(direct.result.output == plain.result.output) << "outputs differ";
  EXPECT_EQ(through_session.result.truncated_bytes, plain.result.truncated_bytes);
  EXPECT_TRUE(through_session.result.output == plain.result.output) << "outputs differ";
  EXPECT_EQ(direct.result.exit_code, 0);
  EXPECT_THAT(direct.result.output, HasSubstr("done"));
}

TEST_F(DirectCallTest, StderrApartAndTheExitStatusAreThoseOfTheSession) {
  ToolCallOptions apart;
  apart.separate_stderr = true;
  // argparse writes its usage to stderr and exits 2.
  const std::string cmd = "search --bogus_argument x";
  const ToolCallResult direct = Call(cmd, /*direct=*/true, apart);
  const ToolCallResult session = Call(cmd, /*direct=*/false, apart);
  EXPECT_EQ(direct.result.output, session.result.output);
  EXPECT_EQ(direct.stderr_output, session.stderr_output);
  EXPECT_EQ(direct.result.exit_code, session.result.exit_code);
  EXPECT_EQ(direct.result.exit_code, 2);
  EXPECT_THAT(direct.stderr_output, HasSubstr("usage"));
  EXPECT_THAT(direct.result.output, testing::Not(HasSubstr("usage")));
}

TEST_F(DirectCallTest, EachCallHasItsOwnEnvironmentAndDirectory) {
  const std::string cmd = "execute_bash --cmd 'echo \"[$R2E_PROBE] $PWD\"; env | sort'";
  ToolCallOptions one, two;
  one.exec.env = {{"R2E_PROBE", "one"}};
  two.exec.env = {{"R2E_PROBE", "two"}};
  two.exec.workdir = "/testbed/sub";
  const ToolCallResult first = Call(cmd, /*direct=*/true, one);
  const ToolCallResult second = Call(cmd, /*direct=*/true, two);
  const ToolCallResult again = Call(cmd, /*direct=*/true, one);
  EXPECT_THAT(first.result.output, HasSubstr("[one] /testbed\n"));
  EXPECT_THAT(second.result.output, HasSubstr("[two] /testbed/sub\n"));
  EXPECT_EQ(again.result.output, first.result.output);
  // The whole environment is the one a call through the session sees.
  EXPECT_EQ(Call(cmd, /*direct=*/false, two).result.output, second.result.output);
  EXPECT_EQ(link_.direct_calls, 3);
}

TEST_F(DirectCallTest, ACommandThatNeedsAShellGoesThroughTheSession) {
  const ToolCallResult r =
      Call("execute_bash --cmd \"$(echo pwd)\"", /*direct=*/true, {}, /*expect_direct=*/false);
  EXPECT_THAT(r.result.output, HasSubstr("/testbed"));
  EXPECT_EQ(link_.direct_calls, 0);
}

TEST_F(DirectCallTest, ATimedOutCallIsKilledWithItsGroup) {
  ToolCallOptions o;
  o.exec.timeout = std::chrono::seconds(1);
  const auto started = std::chrono::steady_clock::now();
  auto r = Call("execute_bash --cmd 'sleep 30 & sleep 40; echo never'", /*direct=*/true, o);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_TRUE(r.result.timed_out);
  EXPECT_EQ(r.result.exit_code, 137);
  EXPECT_THAT(r.result.output, testing::Not(HasSubstr("never")));
  ExecOptions quick;
  quick.timeout = std::chrono::seconds(30);
  auto left = runtime_->exec("pgrep -x sleep || echo none", quick);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->output, "none\n");
}

}  // namespace
}  // namespace r2e
