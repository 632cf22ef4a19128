// ShellSession over real local processes (plain, no sandbox): framing, exit
// codes, timeouts that kill process trees, bounded output, restarts.
#include "r2e/session.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "local/pipe_stream.h"
#include "session/marker_scanner.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;

StreamOpener LocalOpener(std::string cwd) {
  return [cwd](const std::vector<std::string>& argv) -> Result<std::unique_ptr<ByteStream>> {
    auto s = internal::PipeStream::Spawn(argv, {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}, cwd);
    if (!s.ok()) return s.status();
    return std::unique_ptr<ByteStream>(std::move(s).value());
  };
}

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("r2e-session-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    ShellSessionOptions o;
    o.default_workdir = dir_.string();
    o.head_bytes = 4096;
    o.tail_bytes = 4096;
    session_ = std::make_unique<ShellSession>(LocalOpener(dir_.string()), o);
  }
  void TearDown() override {
    session_.reset();
    std::filesystem::remove_all(dir_);
  }
  ExecResult Run(std::string_view cmd, std::chrono::milliseconds timeout = 10s) {
    ExecOptions o;
    o.timeout = timeout;
    auto r = session_->exec(cmd, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ExecResult{};
  }

  std::filesystem::path dir_;
  std::unique_ptr<ShellSession> session_;
};

TEST_F(SessionTest, RunsCommandAndReportsExitCode) {
  auto r = Run("echo hello; echo err >&2; exit 3");
  EXPECT_EQ(r.output, "hello\nerr\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(Run("true").exit_code, 0);
  EXPECT_EQ(Run("false").exit_code, 1);
}

TEST_F(SessionTest, OutputWithoutTrailingNewlineIsExact) {
  EXPECT_EQ(Run("printf abc").output, "abc");
  EXPECT_EQ(Run("printf 'a\\n\\n'").output, "a\n\n");
  EXPECT_EQ(Run(":").output, "");
}

TEST_F(SessionTest, ArbitraryCommandTextIsNotParsedByTheSession) {
  // Unbalanced quotes break only the child, never the session.
  auto bad = Run("echo 'unterminated");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_EQ(Run("echo still alive").output, "still alive\n");
  // Multi-line text, heredocs, a fake header line, and a forged marker.
  auto r = Run("cat <<'EOF'\nR2E deadbeef 1 1 1\nline two\nEOF\nprintf '\\nffff 0 0\\n'; exit 4");
  EXPECT_EQ(r.output, "R2E deadbeef 1 1 1\nline two\n\nffff 0 0\n");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(session_->starts(), 1);
}

TEST_F(SessionTest, StdinIsNotTheControlChannel) {
  auto r = Run("cat; read x; echo after");
  EXPECT_EQ(r.output, "after\n");
  EXPECT_EQ(Run("echo next").output, "next\n");
}

TEST_F(SessionTest, StateDoesNotLeakBetweenCommandsByDefault) {
  Run("cd /; export FOO=bar");
  EXPECT_EQ(Run("pwd").output, dir_.string() + "\n");
  EXPECT_EQ(Run("echo \"[${FOO:-}]\"").output, "[]\n");
}

TEST_F(SessionTest, KeepStateOptionKeepsCwdAndExports) {
  ShellSessionOptions o;
  o.default_workdir = dir_.string();
  o.keep_state = true;
  ShellSession s(LocalOpener(dir_.string()), o);
  ASSERT_TRUE(s.exec("cd /usr; export FOO=bar").ok());
  auto r = s.exec("pwd; echo $FOO");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, "/usr\nbar\n");
}

TEST_F(SessionTest, LargeCommandsArriveWhole) {
  // Over 64 KiB the loop reads the command through a file instead of builtins.
  for (std::size_t n : {100u, 65000u, 70000u, 1000000u}) {
    auto r = Run("echo " + std::string(n, 'a') + " | wc -c");
    EXPECT_EQ(r.output, std::to_string(n + 1) + "\n") << n;
  }
}

TEST_F(SessionTest, CommandShellOptionRunsUnderSh) {
  ShellSessionOptions o;
  o.default_workdir = dir_.string();
  o.command_shell = "/bin/sh";
  ShellSession s(LocalOpener(dir_.string()), o);
  auto r = s.exec("if [ -n \"${BASH_VERSION:-}\" ]; then echo bash; else echo sh; fi; exit 4");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output, "sh\n");
  EXPECT_EQ(r->exit_code, 4);
}

TEST_F(SessionTest, WorkdirAndEnvPerCommand) {
  ExecOptions o;
  o.workdir = "/";
  o.env = {{"X", "it's $HOME"}};
  // No variable is forced on the command (NO_COLOR was, before the image's
  // environment was kept).
  auto r = session_->exec("pwd; echo \"$X\"; echo ${NO_COLOR-unset}", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, "/\nit's $HOME\nunset\n");
  o.workdir = "/does/not/exist";
  r = session_->exec("echo unreachable", o);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->exit_code, 0);
  EXPECT_EQ(r->output.find("unreachable"), std::string::npos);
}

TEST_F(SessionTest, TimeoutKillsTheWholeProcessTreeAndKeepsPartialOutput) {
  const auto pidfile = dir_ / "child.pid";
  auto start = std::chrono::steady_clock::now();
  auto r = Run("echo started; (sleep 1000 & echo $! > child.pid; wait); sleep 1000", 1500ms);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, 137);
  EXPECT_EQ(r.output.rfind("started\n", 0), 0u) << r.output;
  // Far below the commands' 1000 s, with room for a loaded machine and sanitizers.
  EXPECT_LT(took, 6s);
  // The grandchild is gone, or a zombie waiting for init to reap it. SIGKILL
  // is delivered asynchronously and a reaped process's /proc entry vanishes
  // between two reads, so look for a while, reading its state once per look.
  auto pid = std::string(Run("cat child.pid").output);
  while (!pid.empty() && pid.back() == '\n') pid.pop_back();
  ASSERT_FALSE(pid.empty());
  auto gone = Run("for i in $(seq 50); do st=$(sed -n 's/^State:[[:space:]]*//p' /proc/" + pid +
                  "/status 2>/dev/null); case \"$st\" in ''|Z*) exit 0;; esac; sleep 0.1; done; echo \"$st\"; exit 1");
  EXPECT_EQ(gone.exit_code, 0) << "the grandchild is still " << gone.output;
  EXPECT_EQ(Run("echo next").output, "next\n");
}

TEST_F(SessionTest, TimeoutEndsCommandsThatIgnoreTermOrHoldStdout) {
  auto start = std::chrono::steady_clock::now();
  auto r = Run("trap '' TERM; sleep 1000", 1s);
  EXPECT_TRUE(r.timed_out);
  // Bounds far below the commands' 1000 s, with room for a loaded machine.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  // A detached child keeps the output stream open; we do not wait for EOF.
  start = std::chrono::steady_clock::now();
  r = Run("setsid sleep 1000 & sleep 1000", 1s);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(Run("echo ok").output, "ok\n");
  Run("pkill -f 'sleep 1000' || true");
}

TEST_F(SessionTest, BackgroundChildOutputAfterTheCommandIsDropped) {
  auto r = Run("(sleep 0.3; echo stray) & echo mine");
  EXPECT_EQ(r.output, "mine\n");
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(Run("echo next").output, "next\n");
}

TEST_F(SessionTest, HugeOutputIsBoundedHeadAndTail) {
  // ~50 MB through the stream; memory stays at head + tail.
  auto r = Run("head -c 50000000 /dev/zero | tr '\\0' 'x'; echo; echo END", 60s);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_GT(r.truncated_bytes, 49000000u);
  EXPECT_LT(r.output.size(), 4096u * 2 + 200);
  EXPECT_EQ(r.output.substr(0, 10), "xxxxxxxxxx");
  EXPECT_NE(r.output.find("bytes of output omitted"), std::string::npos);
  EXPECT_EQ(r.output.substr(r.output.size() - 4), "END\n");
}

TEST_F(SessionTest, BinaryOutputComesBackAsBytes) {
  auto r = Run("printf '\\000\\377\\376abc'");
  EXPECT_EQ(r.output, std::string("\0\xff\xfe" "abc", 6));
}

TEST_F(SessionTest, RestartsAfterTheShellDies) {
  EXPECT_EQ(Run("exit 7").exit_code, 7);  // exit ends the child only
  auto killed = Run("echo bye; kill -KILL $$");  // $$ in the command is the session shell
  EXPECT_EQ(killed.exit_code, -1);
  EXPECT_EQ(killed.output, "bye\n");
  EXPECT_EQ(Run("echo back").output, "back\n");
  EXPECT_EQ(session_->starts(), 2);
}

// A start that fails in a way ShellSessionOptions::retry_start calls
// transient (as bubblewrap's mounts fail while a container starts on the
// host) is tried again, also when the session restarts after it died.
TEST_F(SessionTest, RetriesATransientStartFailureAlsoOnRestart) {
  const auto run = [&](bool retry) {
    auto opens = std::make_shared<int>(0);
    StreamOpener real = LocalOpener(dir_.string());
    StreamOpener flaky = [opens, real](const std::vector<std::string>& argv) {
      ++*opens;
      // The first start works; the next two (the restart) fail.
      if (*opens == 2 || *opens == 3) {
        return real({"/bin/sh", "-c", "echo \"bwrap: Can't bind mount\"; exit 1"});
      }
      return real(argv);
    };
    ShellSessionOptions o;
    o.default_workdir = dir_.string();
    if (retry) {
      o.retry_start = [](const Status& failed) {
        return failed.message().find("Can't bind mount") != std::string::npos;
      };
    }
    ShellSession s(flaky, o);
    auto one = s.exec("echo one");
    EXPECT_TRUE(one.ok() && one->output == "one\n")
        << (one.ok() ? one->output : one.status().ToString());
    auto killed = s.exec("kill -KILL $$");
    EXPECT_TRUE(killed.ok() && killed->exit_code == -1)
        << (killed.ok() ? "" : killed.status().ToString());
    auto back = s.exec("echo back");
    EXPECT_EQ(*opens, retry ? 4 : 2);
    return back;
  };
  auto retried = run(true);
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(retried->output, "back\n");
  auto not_retried = run(false);
  EXPECT_EQ(not_retried.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(not_retried.status().message().find("Can't bind mount"), std::string::npos)
      << not_retried.status().ToString();
}

TEST_F(SessionTest, RejectsBadOptions) {
  ExecOptions o;
  o.timeout = 0ms;
  EXPECT_EQ(session_->exec("true", o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(session_->exec(std::string("a\0b", 3)).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SessionTest, InterruptCancelsARunningCommand) {
  std::thread t([&] {
    std::this_thread::sleep_for(300ms);
    session_->interrupt();
  });
  ExecOptions o;
  o.timeout = 30s;
  auto start = std::chrono::steady_clock::now();
  auto r = session_->exec("sleep 30", o);
  t.join();
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(SessionTest, FailsClearlyWhenTheShellCannotStart) {
  ShellSessionOptions o;
  o.loop_shell = "/nonexistent/bash";
  ShellSession s(LocalOpener(dir_.string()), o);
  auto r = s.exec("true");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("/nonexistent/bash"), std::string::npos) << r.status().ToString();
}

// SessionSlot: the start/exec/stop sequence every runtime shares.
TEST_F(SessionTest, SlotTakeCancelsARunningCommandAtOnce) {
  ShellSessionOptions o;
  o.default_workdir = dir_.string();
  SessionSlot slot;
  EXPECT_EQ(slot.Get(), nullptr);
  ASSERT_TRUE(slot.Open(LocalOpener(dir_.string()), o).ok());
  std::shared_ptr<ShellSession> session = slot.Get();
  ASSERT_NE(session, nullptr);
  Result<ExecResult> running = Status::Internal("not run");
  std::thread runner([&] {
    ExecOptions e;
    e.timeout = 30s;
    running = session->exec("sleep 20", e);
  });
  std::this_thread::sleep_for(300ms);
  const auto t0 = std::chrono::steady_clock::now();
  std::shared_ptr<ShellSession> taken = slot.Take();
  runner.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);  // not the command's 20 s
  EXPECT_EQ(taken, session);
  EXPECT_EQ(slot.Get(), nullptr);
  ASSERT_FALSE(running.ok());
  EXPECT_EQ(running.status().code(), StatusCode::kCancelled) << running.status().ToString();
  slot.Close(std::move(taken));
  EXPECT_FALSE(session->exec("true").ok());  // closed: no new shell
}

TEST_F(SessionTest, SlotCloseAlsoEndsASessionOpenedAfterTake) {
  // stop() takes the session, then waits for a start() that was running; the
  // session that start() opened meanwhile must not outlive stop().
  ShellSessionOptions o;
  o.default_workdir = dir_.string();
  SessionSlot slot;
  std::shared_ptr<ShellSession> taken = slot.Take();
  EXPECT_EQ(taken, nullptr);
  ASSERT_TRUE(slot.Open(LocalOpener(dir_.string()), o).ok());
  std::shared_ptr<ShellSession> late = slot.Get();
  ASSERT_NE(late, nullptr);
  slot.Close(std::move(taken));
  EXPECT_EQ(slot.Get(), nullptr);
  EXPECT_FALSE(late->exec("true").ok());
}

TEST_F(SessionTest, SlotStaysEmptyWhenTheSessionCannotStart) {
  SessionSlot slot;
  Status s = slot.Open(
      [](const std::vector<std::string>&) -> Result<std::unique_ptr<ByteStream>> {
        return Status::Unavailable("no sandbox here");
      },
      {});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no sandbox here"), std::string::npos) << s.ToString();
  EXPECT_EQ(slot.Get(), nullptr);
}

TEST(MarkerScannerTest, FindsMarkerSplitAcrossChunks) {
  const std::string stream = "out\nput\nabcd 42 1\nrest";
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    internal::BoundedOutput out(100, 100);
    internal::MarkerScanner scanner("abcd");
    auto end = scanner.feed(std::string_view(stream).substr(0, split), out);
    if (!end) end = scanner.feed(std::string_view(stream).substr(split), out);
    ASSERT_TRUE(end) << split;
    EXPECT_EQ(out.str(), "out\nput");
    EXPECT_EQ(end->exit_code, 42);
    EXPECT_TRUE(end->timed_out);
  }
}

// Regression (fuzz/marker_scanner): a marker followed by an over-long
// "status line" was accepted when the whole line arrived in one chunk but
// treated as output when it arrived in pieces. It is output either way.
TEST(MarkerScannerTest, OverlongStatusLineIsOutputWhateverTheChunking) {
  const std::string stream = "a\nabcd " + std::string(70, '9') + "\nb\nabcd 3 0\nrest";
  std::string first_output;
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    internal::BoundedOutput out(1000, 1000);
    internal::MarkerScanner scanner("abcd");
    auto end = scanner.feed(std::string_view(stream).substr(0, split), out);
    std::string rest;
    if (end) {
      rest = end->rest + stream.substr(split);  // the second chunk was not needed
    } else {
      end = scanner.feed(std::string_view(stream).substr(split), out);
      ASSERT_TRUE(end) << split;
      rest = end->rest;
    }
    EXPECT_EQ(end->exit_code, 3) << split;
    EXPECT_EQ(rest, "rest") << split;
    EXPECT_EQ(out.str(), "a\nabcd " + std::string(70, '9') + "\nb") << split;
  }
}

TEST(BoundedOutputTest, KeepsHeadAndTailAndCountsTheRest) {
  internal::BoundedOutput out(3, 4);
  for (char c = 'a'; c <= 'z'; ++c) out.append(std::string(1, c));
  EXPECT_EQ(out.dropped(), 26u - 7u);
  std::string s = out.str();
  EXPECT_EQ(s.substr(0, 3), "abc");
  EXPECT_EQ(s.substr(s.size() - 4), "wxyz");
  internal::BoundedOutput small(10, 10);
  small.append("hello");
  EXPECT_EQ(small.str(), "hello");
  EXPECT_EQ(small.dropped(), 0u);
}

}  // namespace
}  // namespace r2e
