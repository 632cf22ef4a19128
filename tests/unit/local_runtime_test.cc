// LocalRuntime against this machine: bubblewrap isolation when available,
// the plain fallback always.
#include "r2e/local_runtime.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path MakeRepo(const std::string& name) {
  fs::path repo = fs::temp_directory_path() / ("r2e-local-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(repo);
  fs::create_directories(repo / "pkg");
  std::ofstream(repo / "pkg" / "mod.py") << "VALUE = 1\n";
  std::ofstream(repo / "README.md") << "demo\n";
  return repo;
}

class LocalRuntimeBwrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
    repo_ = MakeRepo(::testing::UnitTest::GetInstance()->current_test_info()->name());
    LocalRuntimeOptions o;
    o.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
    rt_ = std::make_unique<LocalRuntime>(o);
    SandboxSpec spec;
    spec.copy_in = {{repo_, "/testbed"}};
    ASSERT_TRUE(rt_->start(spec).ok());
  }
  void TearDown() override {
    rt_.reset();
    fs::remove_all(repo_);
  }
  ExecResult Run(std::string_view cmd, std::chrono::milliseconds timeout = 20s) {
    ExecOptions o;
    o.timeout = timeout;
    auto r = rt_->exec(cmd, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ExecResult{};
  }
  fs::path repo_;
  std::unique_ptr<LocalRuntime> rt_;
};

TEST_F(LocalRuntimeBwrapTest, RepositoryIsAtTestbedAndIsAPrivateCopy) {
  EXPECT_TRUE(rt_->isolated());
  EXPECT_EQ(Run("pwd").output, "/testbed\n");
  EXPECT_EQ(Run("cat pkg/mod.py").output, "VALUE = 1\n");
  EXPECT_EQ(Run("echo 'VALUE = 2' > pkg/mod.py").exit_code, 0);
  std::ifstream in(repo_ / "pkg" / "mod.py");
  std::string original((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(original, "VALUE = 1\n");  // the host's repository is untouched
  EXPECT_EQ(*rt_->read_file("/testbed/pkg/mod.py"), "VALUE = 2\n");
}

TEST_F(LocalRuntimeBwrapTest, HostIsReadOnlyAndRootIsPrivate) {
  EXPECT_NE(Run("touch /usr/r2e-should-not-exist").exit_code, 0);
  EXPECT_FALSE(fs::exists("/usr/r2e-should-not-exist"));
  EXPECT_EQ(Run("echo $HOME; ls -A /root | wc -l").output, "/root\n0\n");
  EXPECT_EQ(Run("echo hi > /root/x && cat /root/x").output, "hi\n");
}

TEST_F(LocalRuntimeBwrapTest, NothingOfTheHostButTheSystemIsVisible) {
  // The system's programs work (they are all the sandbox has of the host).
  EXPECT_EQ(Run("id -un; awk 'BEGIN{print 1}'; python3 -c 'print(2)'; git --version | cut -c1-11").output,
            "root\n1\n2\ngit version\n");
  // Host paths that hold other people's data do not exist: home directories,
  // /var (container engines' storage: other sandboxes' files), /opt, /srv,
  // /mnt, /media, this test's own directory and the repository it copied.
  for (const std::string path : {"/home", "/var/lib", "/var/lib/docker", "/opt", "/srv", "/mnt", "/media", "/work",
                                 "/boot", "/sys", "/etc/shadow", "/etc/machine-id"}) {
    EXPECT_NE(Run("test -e " + path).exit_code, 0) << path << " is visible in the sandbox";
  }
  for (const fs::path& host : {fs::current_path(), repo_, fs::path(rt_->workdir())}) {
    EXPECT_NE(Run("test -e '" + host.string() + "'").exit_code, 0) << host << " is visible in the sandbox";
  }
  // /var holds only the sandbox's own /var/tmp; / only the system's entries
  // and the sandbox's own.
  EXPECT_EQ(Run("ls -A /var").output, "tmp\n");
  const std::string top = Run("ls -A /").output;
  for (const char* absent : {"home\n", "var/lib", "opt\n", "srv\n"}) {
    EXPECT_EQ(top.find(absent), std::string::npos) << top;
  }
}

TEST_F(LocalRuntimeBwrapTest, AnotherSandboxsFilesCannotBeFound) {
  // A second sandbox running at the same time, with a file of its own.
  LocalRuntimeOptions o;
  o.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
  LocalRuntime other(o);
  SandboxSpec spec;
  spec.copy_in = {{repo_, "/testbed"}};
  ASSERT_TRUE(other.start(spec).ok());
  const std::string marker = "r2e-other-sandbox-marker-" + std::to_string(::getpid());
  ASSERT_TRUE(other.write_file("/testbed/" + marker, "secret\n").ok());
  ASSERT_TRUE(other.write_file("/root/" + marker, "secret\n").ok());
  ASSERT_TRUE(fs::exists(other.workdir() / "testbed" / marker));  // the host has it
  // Searched for from the first sandbox, everywhere.
  ExecResult found = Run("find / -name '" + marker + "' 2>/dev/null; echo done", 120s);
  EXPECT_EQ(found.output, "done\n");
}

TEST_F(LocalRuntimeBwrapTest, ExtraReadOnlyBindsAreShownAndCheckedAtStart) {
  const fs::path extra = fs::current_path() / ("r2e-local-extra-" + std::to_string(::getpid()));
  fs::create_directories(extra);
  std::ofstream(extra / "tool.txt") << "shared\n";
  LocalRuntimeOptions o;
  o.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
  o.read_only_binds = {extra};
  {
    LocalRuntime rt(o);
    ASSERT_TRUE(rt.start({}).ok());
    auto r = rt.exec("cat '" + (extra / "tool.txt").string() + "'; touch '" + (extra / "new").string() + "'");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->output.substr(0, 7), "shared\n");
    EXPECT_NE(r->exit_code, 0);  // read-only
    EXPECT_FALSE(fs::exists(extra / "new"));
  }
  o.read_only_binds = {"relative/dir"};
  EXPECT_EQ(LocalRuntime(o).start({}).code(), StatusCode::kInvalidArgument);
  o.read_only_binds = {extra / "missing"};
  EXPECT_EQ(LocalRuntime(o).start({}).code(), StatusCode::kNotFound);
  fs::remove_all(extra);
}

TEST_F(LocalRuntimeBwrapTest, OwnPidNamespace) {
  // Only the sandbox's own processes are visible.
  auto r = Run("ls /proc | grep -c '^[0-9]'");
  EXPECT_LT(std::stoi(r.output), 20) << r.output;
}

TEST_F(LocalRuntimeBwrapTest, StopRemovesEverything) {
  fs::path dir = rt_->workdir();
  ASSERT_TRUE(fs::exists(dir));
  Run("sleep 1000 > /dev/null 2>&1 &");
  EXPECT_TRUE(rt_->stop().ok());
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_FALSE(rt_->alive());
  EXPECT_EQ(rt_->exec("true").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(rt_->stop().ok());  // idempotent
}

TEST_F(LocalRuntimeBwrapTest, KillMinusOneRestartsTheSession) {
  auto r = Run("kill -9 -1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(Run("echo back; cat pkg/mod.py").output, "back\nVALUE = 1\n");
}

TEST_F(LocalRuntimeBwrapTest, TheSandboxOutlivesTheThreadsThatStartedIt) {
  // bubblewrap's --die-with-parent watches the thread that started it: a
  // session started on a worker thread that has since ended must still be
  // the one that answers (a fork makes its sandbox on such a thread). The
  // session shell's pid and start time tell one session from the next.
  const char* session_id = "echo $$ $(cut -d' ' -f22 /proc/$$/stat)";
  std::string first, second;
  std::thread([&] {
    Run("kill -9 -1");                // ends the session
    first = Run(session_id).output;  // a new one, started on this thread
  }).join();
  std::this_thread::sleep_for(300ms);
  second = Run(session_id).output;
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, second) << "the session started on the ended thread died with it";
}

TEST_F(LocalRuntimeBwrapTest, FilesRoundTripAndSymlinksCannotEscape) {
  ASSERT_TRUE(rt_->write_file("/root/deep/dir/f.txt", "content\n", 0600).ok());
  EXPECT_EQ(Run("cat /root/deep/dir/f.txt; stat -c %a /root/deep/dir/f.txt").output, "content\n600\n");
  // A link the agent planted to a host path resolves inside the sandbox dir.
  Run("ln -s /etc/passwd /testbed/evil");
  auto read = rt_->read_file("/testbed/evil");
  EXPECT_FALSE(read.ok() && read->find("root:") != std::string::npos);
  auto outside = fs::temp_directory_path() / ("r2e-escape-" + std::to_string(::getpid()));
  Run("ln -s " + outside.string() + " /testbed/escape");
  (void)rt_->write_file("/testbed/escape", "x");
  EXPECT_FALSE(fs::exists(outside));
  EXPECT_EQ(rt_->read_file("/testbed/nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(rt_->write_file("/etc/x", "x").code(), StatusCode::kInvalidArgument);
  // Files outside the private dirs are the host's, read through the sandbox.
  EXPECT_TRUE(rt_->read_file("/etc/os-release").ok());
  auto host_dir = fs::temp_directory_path() / ("r2e-up-" + std::to_string(::getpid()));
  fs::create_directories(host_dir / "a");
  std::ofstream(host_dir / "a" / "b.txt") << "B";
  ASSERT_TRUE(rt_->upload(host_dir, "/root/up").ok());
  EXPECT_EQ(Run("cat /root/up/a/b.txt").output, "B");
  auto back = fs::temp_directory_path() / ("r2e-down-" + std::to_string(::getpid()));
  ASSERT_TRUE(rt_->download("/root/up", back).ok());
  EXPECT_TRUE(fs::exists(back / "a" / "b.txt"));
  fs::remove_all(host_dir);
  fs::remove_all(back);
}

// A bwrap on PATH that fails like a mount race (a Docker container's mount
// going away during bwrap's recursive binds) for its first `failures` sandbox
// starts, then runs the real bwrap. Restores PATH when done.
class RacyBwrap {
 public:
  explicit RacyBwrap(int failures) : dir_(MakeRepo("racy-bwrap-" + std::to_string(failures))) {
    const std::string real = RealBwrap();
    std::ofstream(dir_ / "bwrap") << "#!/bin/sh\n"
                                  << "case \"$*\" in *r2e-sandbox*)\n"
                                  << "  n=$(cat " << (dir_ / "count").string() << " 2>/dev/null || echo 0)\n"
                                  << "  n=$((n + 1)); echo $n > " << (dir_ / "count").string() << "\n"
                                  << "  if [ $n -le " << failures << " ]; then\n"
                                  << "    echo \"bwrap: Can't bind mount /oldroot/var on /newroot/var: Unable to apply "
                                     "mount flags: remount \\\"/newroot/var/lib/x\\\": Invalid argument\" >&2; exit 1\n"
                                  << "  fi;;\n"
                                  << "esac\n"
                                  << "exec " << real << " \"$@\"\n";
    fs::permissions(dir_ / "bwrap", fs::perms::owner_all);
    old_path_ = std::getenv("PATH");
    ::setenv("PATH", (dir_.string() + ":" + old_path_).c_str(), 1);
  }
  ~RacyBwrap() {
    ::setenv("PATH", old_path_.c_str(), 1);
    fs::remove_all(dir_);
  }
  int sandbox_starts() const {
    std::ifstream in(dir_ / "count");
    int n = 0;
    in >> n;
    return n;
  }

 private:
  static std::string RealBwrap() {
    for (const char* p : {"/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"}) {
      if (fs::exists(p)) return p;
    }
    return "bwrap";
  }
  fs::path dir_;
  std::string old_path_;
};

TEST(LocalRuntimeBwrapRetryTest, TransientMountFailuresAreRetriedPermanentOnesReported) {
  if (!LocalRuntime::BubblewrapAvailable()) GTEST_SKIP() << "bubblewrap is not usable here";
  fs::path repo = MakeRepo("racy");
  LocalRuntimeOptions o;
  o.isolation = LocalRuntimeOptions::Isolation::kBubblewrap;
  SandboxSpec spec;
  spec.copy_in = {{repo, "/testbed"}};
  {
    RacyBwrap racy(2);
    LocalRuntime rt(o);
    Status s = rt.start(spec);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(racy.sandbox_starts(), 3);
    auto r = rt.exec("cat /testbed/README.md");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->output, "demo\n");
  }
  {
    RacyBwrap always(1000);
    LocalRuntime rt(o);
    Status s = rt.start(spec);
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
    EXPECT_NE(s.message().find("Can't bind mount"), std::string::npos) << s.message();
    EXPECT_EQ(always.sandbox_starts(), 5);
    EXPECT_TRUE(rt.workdir().empty());
  }
  fs::remove_all(repo);
}

TEST(LocalRuntimeTest, PlainModeRunsInTheWorkingDirectory) {
  auto repo = MakeRepo("plain");
  LocalRuntimeOptions o;
  o.isolation = LocalRuntimeOptions::Isolation::kNone;
  LocalRuntime rt(o);
  SandboxSpec spec;
  spec.copy_in = {{repo, "/testbed"}};
  ASSERT_TRUE(rt.start(spec).ok());
  EXPECT_FALSE(rt.isolated());
  auto r = rt.exec("cat pkg/mod.py; pwd");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, "VALUE = 1\n" + (rt.workdir() / "testbed").string() + "\n");
  ASSERT_TRUE(rt.write_file("/testbed/new.txt", "n").ok());
  EXPECT_EQ(rt.exec("cat new.txt")->output, "n");
  fs::remove_all(repo);
}

TEST(LocalRuntimeTest, StartFailsClearlyAndLeavesNothing) {
  LocalRuntime rt;
  SandboxSpec spec;
  spec.copy_in = {{"/nonexistent/repo", "/testbed"}};
  Status s = rt.start(spec);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nonexistent/repo"), std::string::npos);
  EXPECT_FALSE(rt.alive());
  EXPECT_TRUE(rt.workdir().empty());
  spec.copy_in = {{fs::temp_directory_path(), "/etc/x"}};
  EXPECT_EQ(rt.start(spec).code(), StatusCode::kInvalidArgument);
}

TEST(LocalRuntimeTest, StopFromAnotherThreadAbortsExec) {
  LocalRuntime rt;
  ASSERT_TRUE(rt.start({}).ok());
  std::thread t([&] {
    std::this_thread::sleep_for(300ms);
    rt.stop();
  });
  ExecOptions o;
  o.timeout = 60s;
  auto start = std::chrono::steady_clock::now();
  auto r = rt.exec("sleep 60", o);
  t.join();
  EXPECT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace r2e
