// The tool server under a hostile or unlucky agent: killed, stopped, its
// files removed, a tool replaced, a call timing out. Each costs at most one
// slow step; outputs stay those of the plain command.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "r2e/local_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/task.h"
#include "tools/served_tools.h"
#include "demo_task.h"

namespace r2e {
namespace {

using testing::HasSubstr;

using test_util::DemoTask;

Action Bash(const std::string& cmd) {
  Action a;
  a.function_name = "execute_bash";
  a.set_parameter("cmd", cmd);
  return a;
}

Action View(const std::string& path) {
  Action a;
  a.function_name = "file_editor";
  a.set_parameter("command", "view");
  a.set_parameter("path", path);
  return a;
}

// Each test runs twice: with served calls handed to the server directly (the
// default where the runtime has a pipe directory, as here) and through the
// session's client function (RepoEnvOptions::direct_tool_calls off).
class ToolServerTest : public testing::TestWithParam<bool> {
 protected:
  bool direct() const { return GetParam(); }

  void SetUp() override {
    if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
    RepoEnvOptions options;
    options.direct_tool_calls = direct();
    auto env = RepoEnv::Create(DemoTask(), options);
    ASSERT_TRUE(env.ok()) << env.status().ToString();
    env_ = std::move(env).value();
    ASSERT_TRUE(env_->reset().ok());
  }

  // Steps `action` until the server serves it (it starts in the background),
  // directly in the Direct runs; returns that step.
  StepResult StepServed(const Action& action) {
    // Bounded by time, not steps: a loaded machine (or a sanitizer build)
    // starts the server slowly.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = env_->step(action);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return {};
      // Served, and directly in the Direct runs (a call just after a server
      // started may have gone through the session: it was not listening yet
      // when the call was made).
      if (r->info.tool_path == ToolPath::kServed && r->info.tool_direct == direct()) return *r;
    }
    ADD_FAILURE() << (direct() ? "never served directly" : "never served through the session");
    return {};
  }

  std::string Path(const StepResult& r) { return ToJson(r.info).value("tool_path", "(none)"); }

  // What the client and the server noted about calls that were not served.
  std::string ServerNotes() {
    auto r = env_->run(internal::ToolServerNotesCommand("execute_bash"));
    return r.ok() ? r->output : r.status().ToString();
  }

  std::unique_ptr<RepoEnv> env_;
};

TEST_P(ToolServerTest, ServedAndPlainCallsSeeTheSame) {
  const Action view = View("/testbed/textstats/stats.py");
  const StepResult served = StepServed(view);
  RepoEnvOptions plain_options;
  plain_options.tool_server = false;
  auto plain_env = RepoEnv::Create(DemoTask(), plain_options).value();
  ASSERT_TRUE(plain_env->reset().ok());
  auto plain = plain_env->step(view);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(Path(*plain), "exec");
  EXPECT_EQ(served.observation.text, plain->observation.text);
  // The environment, working directory and streams are the caller's.
  auto env_seen = StepServed(Bash("echo \"$PWD $HOME $PATH\"; echo err >&2; exit 3"));
  auto env_plain = plain_env->step(Bash("echo \"$PWD $HOME $PATH\"; echo err >&2; exit 3"));
  ASSERT_TRUE(env_plain.ok());
  EXPECT_EQ(env_seen.observation.text, env_plain->observation.text);
  EXPECT_THAT(env_seen.observation.text, HasSubstr("Exit code: Error: Exit code 3"));
}

TEST_P(ToolServerTest, AKilledServerCostsOneStep) {
  StepServed(Bash("true"));
  // The agent kills every python process, the server included (and the tool
  // running the command, as it would kill the scaffold's own tool process).
  auto killed = env_->step(Bash("pkill -9 -f toolserver.py; echo done"));
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  // The next call runs plainly (and starts a new server) or is served by it.
  auto next = env_->step(Bash("echo after"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_THAT(next->observation.text, HasSubstr("after"));
  EXPECT_EQ(next->info.exit_code, 0);
  const StepResult again = StepServed(Bash("echo served again"));
  EXPECT_THAT(again.observation.text, HasSubstr("served again"));
}

TEST_P(ToolServerTest, KillingEverythingCostsOneStep) {
  StepServed(Bash("true"));
  auto all = env_->step(Bash("kill -9 -1"));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  auto next = env_->step(View("/testbed/textstats/stats.py"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_THAT(next->observation.text, HasSubstr("Numeric summaries"));
  StepServed(Bash("true"));
}

TEST_P(ToolServerTest, AStoppedServerIsReplaced) {
  StepServed(Bash("true"));
  // SIGSTOP: alive but never answering. The next call waits for its answer
  // for 5 s, kills it and runs plainly.
  auto stop = env_->run("d=$(ls -d /usr/local/bin/.r2e-tools /root/.local/bin/.r2e-tools 2>/dev/null | head -1); "
                        "kill -STOP \"$(cat \"$d/pid\")\"");
  ASSERT_TRUE(stop.ok());
  ASSERT_EQ(stop->exit_code, 0) << stop->output;
  const auto t0 = std::chrono::steady_clock::now();
  auto next = env_->step(Bash("echo still works"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_THAT(next->observation.text, HasSubstr("still works"));
  EXPECT_EQ(Path(*next), "exec");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  StepServed(Bash("true"));
}

TEST_P(ToolServerTest, AReplacedToolRunsAsReplaced) {
  StepServed(Bash("true"));
  auto replace = env_->run(
      "f=$(command -v search) && printf '#!/bin/sh\\necho replaced search\\n' > \"$f\"");
  ASSERT_TRUE(replace.ok());
  ASSERT_EQ(replace->exit_code, 0) << replace->output;
  Action search;
  search.function_name = "search";
  search.set_parameter("search_term", "mean");
  auto r = env_->step(search);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->observation.text, HasSubstr("replaced search"));
  EXPECT_EQ(Path(*r), "exec");
}

TEST_P(ToolServerTest, ATimedOutCallLeavesNothingRunning) {
  StepServed(Bash("true"));
  auto slow = env_->step(Bash("sleep 1000 & sleep 1001; echo never"), std::chrono::seconds(2));
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  EXPECT_TRUE(slow->info.timed_out);
  EXPECT_THAT(slow->observation.text, HasSubstr("took too long"));
  // The tool's process group is killed once the server sees its client gone.
  bool gone = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    auto ps = env_->run("ps -eo args | grep -c '^sleep 10' || true");
    ASSERT_TRUE(ps.ok());
    gone = ps->output.find_first_not_of("0\n") == std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(gone) << "the timed-out tool's processes are still running";
  auto next = env_->step(Bash("echo next"));
  ASSERT_TRUE(next.ok());
  EXPECT_THAT(next->observation.text, HasSubstr("next"));
}

// Calls are served by one long-lived worker in turn: each must see its own
// environment and directory, not those of the call before. (A step's
// environment and directory are the session's; a served command run by
// hand sets its own.)
TEST_P(ToolServerTest, EachCallSeesItsOwnEnvironmentAndDirectory) {
  StepServed(Bash("true"));
  auto which = env_->run("command -v execute_bash");
  ASSERT_TRUE(which.ok());
  ASSERT_EQ(which->exit_code, 0) << which->output;
  const std::string bin = which->output.substr(0, which->output.rfind('/'));
  const auto served = [&](const std::string& setup) {
    const std::string cmd = internal::ServedCommand(
        bin, {}, "", "N0NCE", "execute_bash --cmd 'echo \"[$R2E_PROBE] $PWD\"'");
    auto r = env_->run(setup + "\n" + cmd);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->output : std::string();
  };
  const std::string first = served("export R2E_PROBE=one; cd /tmp");
  EXPECT_THAT(first, HasSubstr("[one] /tmp"));
  EXPECT_THAT(first, HasSubstr("N0NCE s\n")) << ServerNotes();
  const std::string second = served("unset R2E_PROBE; cd /testbed");
  EXPECT_THAT(second, HasSubstr("[] /testbed"));
  EXPECT_THAT(second, HasSubstr("N0NCE s\n")) << ServerNotes();
}

// A second server (two starts that raced) takes over the fifos; the first
// one ends only once the call it runs is over, so that call ends as it would
// have (its client watches the first server, and took it for dead when it
// went away: exit 137).
TEST_P(ToolServerTest, ACallOutlivesAServerTakingOver) {
  StepServed(Bash("true"));
  auto which = env_->run("command -v execute_bash");
  ASSERT_TRUE(which.ok());
  ASSERT_EQ(which->exit_code, 0) << which->output;
  const std::string tool = which->output.substr(0, which->output.find('\n'));
  const std::string bin = tool.substr(0, tool.rfind('/'));
  const std::string dir = internal::ToolServerDir(bin);
  // The second server starts once the call is under way (whatever the load),
  // as the client function starts one (with the direct fifo when there is one).
  const PipeDirectory pipes = env_->runtime().pipe_directory();
  const std::string direct_fifo =
      direct() && !pipes.host_path.empty() ? "--direct " + pipes.sandbox_path + "/tools.req " : "";
  const std::string takeover = "( until [ -e /tmp/call-started ]; do sleep 0.05; done; python3 " +
                               dir + "/toolserver.py " + direct_fifo + dir + " " + tool + " ) &\n";
  auto r = env_->run(takeover +
                     internal::ServedCommand(
                         bin, {}, "", "N0NCE",
                         "execute_bash --cmd 'touch /tmp/call-started; sleep 2; echo finished'") +
                     "\nrc=$?; wait; exit $rc");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->output, HasSubstr("finished"));
  EXPECT_THAT(r->output, HasSubstr("N0NCE s\n")) << ServerNotes();
  EXPECT_EQ(r->exit_code, 0) << r->output << ServerNotes();
  const StepResult next = StepServed(Bash("echo next"));
  EXPECT_THAT(next.observation.text, HasSubstr("next"));
}

// The worker that ran a call is reused, unless the call left a process in
// its process group: then the next call gets a new worker, so that a later
// timed-out call's group kill does not reach what the earlier call left
// running (as with plain calls, each in a group of its own).
TEST_P(ToolServerTest, WhatACallLeftRunningOutlivesALaterTimeout) {
  const Action parent = Bash("echo \"worker=$PPID\"");
  const std::string first = StepServed(parent).observation.text;
  const std::string second = StepServed(parent).observation.text;
  ASSERT_THAT(first, HasSubstr("worker="));
  EXPECT_EQ(first, second) << "consecutive calls are served by one worker";

  StepServed(Bash("sleep 1234 >/dev/null 2>&1 &"));
  const std::string after = StepServed(parent).observation.text;
  EXPECT_NE(after, first) << "a call that left a process running retires its worker";

  auto slow = env_->step(Bash("sleep 1001"), std::chrono::seconds(2));
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  EXPECT_TRUE(slow->info.timed_out);
  bool gone = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    auto ps = env_->run("ps -eo args | grep -c '^sleep 1001' || true");
    ASSERT_TRUE(ps.ok());
    gone = ps->output.find_first_not_of("0\n") == std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(gone) << "the timed-out call's processes are still running";
  auto left = env_->run("ps -eo args | grep -c '^sleep 1234' || true");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->output, "1\n") << "what the earlier call left running was killed";
}

TEST_P(ToolServerTest, ItsFilesRemovedCostsOneStep) {
  StepServed(Bash("true"));
  auto rm = env_->run("rm -rf /usr/local/bin/.r2e-tools/* /root/.local/bin/.r2e-tools/* 2>/dev/null; true");
  ASSERT_TRUE(rm.ok());
  auto next = env_->step(Bash("echo works"));
  ASSERT_TRUE(next.ok());
  EXPECT_THAT(next->observation.text, HasSubstr("works"));
  EXPECT_EQ(next->info.exit_code, 0);
}

// While a server starts, its fifos exist before its pid file: a call in that
// window runs plainly, and its output is the tool's alone (the client's own
// failed read of the pid file must not show in it).
TEST_P(ToolServerTest, AMissingPidFileShowsNothingInTheOutput) {
  const std::string served = StepServed(Bash("echo works")).observation.text;
  auto rm = env_->run("rm -f /usr/local/bin/.r2e-tools/pid /root/.local/bin/.r2e-tools/pid");
  ASSERT_TRUE(rm.ok());
  auto next = env_->step(Bash("echo works"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  // A direct call does not read the pid file.
  EXPECT_EQ(next->info.tool_path, direct() ? ToolPath::kServed : ToolPath::kExec) << ServerNotes();
  EXPECT_EQ(next->observation.text, served);
  EXPECT_EQ(StepServed(Bash("echo works")).observation.text, served);
}

// Something in the sandbox that reads the direct fifo takes requests meant
// for the server: each such call waits 5 s, then runs through the session.
// After two of them the calls go through the session from the start.
TEST_P(ToolServerTest, AThiefOfDirectRequestsCostsAtMostTwoSlowSteps) {
  if (!direct()) GTEST_SKIP() << "direct calls only";
  StepServed(Bash("true"));
  const std::string fifo = env_->runtime().pipe_directory().sandbox_path + "/tools.req";
  // Read and write: it never sees the end of the fifo, whoever closes it.
  auto thief = env_->run("(exec cat 0<>" + fifo + " > /dev/null) > /dev/null 2>&1 &");
  ASSERT_TRUE(thief.ok());
  int slow = 0;
  for (int i = 0; i < 6; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = env_->step(Bash("echo call " + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_THAT(r->observation.text, HasSubstr("call " + std::to_string(i)));
    EXPECT_EQ(r->info.exit_code, 0);
    if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(4)) ++slow;
  }
  EXPECT_LE(slow, 2);
  // It was there all along (without the limit, each of the six would wait).
  auto alive = env_->run("pgrep -x cat >/dev/null && echo thief-alive");
  ASSERT_TRUE(alive.ok());
  EXPECT_EQ(alive->output, "thief-alive\n");
}

// The client function against a scripted server on the host: the status
// line arrives in two writes, the first just before a 1 s read of the client
// times out (as a line written in one write can be, half read, when the
// client is descheduled as its time runs out). The call's status is the
// whole line's, not 137 nor a wait for a line that never comes.
TEST(ServedClientTest, AStatusLineReadInPiecesIsWhole) {
  char tmpl[] = "/tmp/r2e-served-client-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string bin = tmpl;
  const std::string dir = internal::ToolServerDir(bin);
  const std::string script = bin + "/client.sh";
  {
    std::ofstream out(script);
    out << "d=" << dir
        << "\nmkdir \"$d\" && mkfifo \"$d/req\" \"$d/reply\" || exit 9\n"
        // The server's fifos are open before it says it serves: a request
        // written to a fifo nobody else holds would be lost.
        << "( exec 3<>\"$d/req\" 4<>\"$d/reply\"; echo $BASHPID > \"$d/pid.new\"\n"
        << "  mv \"$d/pid.new\" \"$d/pid\"; read -r id rest <&3\n"
        << "  printf '%s ok %s\\n' \"$id\" \"$BASHPID\" >&4\n"
        << "  sleep 1.5; printf '%s' \"$id\" >&4; sleep 1; printf ' 7\\n' >&4; sleep 1.5 ) &\n"
        << "until [ -e \"$d/pid\" ]; do sleep 0.01; done\n"
        << internal::ServedCommand(bin, {}, "", "N0NCE", "no-such-tool") << "\n"
        << "echo \"rc=$?\"; wait\n";
  }
  FILE* p = ::popen(("bash " + script + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) output += buf;
  ::pclose(p);
  std::filesystem::remove_all(bin);
  EXPECT_THAT(output, HasSubstr("N0NCE s\nrc=7\n"));
}

INSTANTIATE_TEST_SUITE_P(Calls, ToolServerTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& p) {
                           return p.param ? "Direct" : "ThroughSession";
                         });

}  // namespace
}  // namespace r2e
