// The command environment (ShellSessionOptions): the image's variables kept,
// PATH the session's followed by the image's own entries, opt-in variables,
// and the Isolated() preset. Over real local processes whose environment
// plays the image's (what `docker exec` or a pod's exec would inherit).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "local/pipe_stream.h"
#include "r2e/session.h"

namespace r2e {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kScaffold(kScaffoldPath);

StreamOpener OpenerWithEnv(std::vector<std::string> env, std::string cwd) {
  return [env, cwd](const std::vector<std::string>& argv) -> Result<std::unique_ptr<ByteStream>> {
    auto s = internal::PipeStream::Spawn(argv, env, cwd);
    if (!s.ok()) return s.status();
    return std::unique_ptr<ByteStream>(std::move(s).value());
  };
}

void WriteScript(const fs::path& p, const std::string& body) {
  std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
  ::chmod(p.c_str(), 0755);
}

class SessionEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("r2e-session-env-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "imgbin");
    imgbin_ = (dir_ / "imgbin").string();
    // A toolchain only the image's PATH reaches, and an `ls` that must lose
    // to the system's because the session's PATH comes first.
    WriteScript(dir_ / "imgbin" / "imgtool", "echo imgtool ran");
    WriteScript(dir_ / "imgbin" / "ls", "echo image ls");
  }
  void TearDown() override {
    sessions_.clear();
    fs::remove_all(dir_);
  }
  ShellSession& Make(std::vector<std::string> image_env, ShellSessionOptions o = {}) {
    o.default_workdir = dir_.string();
    sessions_.push_back(std::make_unique<ShellSession>(OpenerWithEnv(std::move(image_env), dir_.string()), o));
    return *sessions_.back();
  }
  static std::string Out(ShellSession& s, std::string_view cmd, const ExecOptions& o = {}) {
    auto r = s.exec(cmd, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "<error>";
    EXPECT_EQ(r->exit_code, 0) << cmd << "\n" << r->output;
    return r->output;
  }

  fs::path dir_;
  std::string imgbin_;
  std::vector<std::unique_ptr<ShellSession>> sessions_;
};

TEST_F(SessionEnvTest, ImageVariablesReachCommandsAndTheirChildren) {
  auto& s = Make({"PATH=" + imgbin_ + ":/usr/bin:/bin", "FOO=from image", "VIRTUAL_ENV=/opt/venv", "LANG=C.UTF-8"});
  EXPECT_EQ(Out(s, "echo \"$FOO|$VIRTUAL_ENV|$LANG\""), "from image|/opt/venv|C.UTF-8\n");
  EXPECT_EQ(Out(s, "sh -c 'echo \"$FOO\"'; env | grep '^VIRTUAL_ENV='"), "from image\nVIRTUAL_ENV=/opt/venv\n");
  // Nothing of r2e's earlier fixed set is forced (bash itself gives its own
  // shell TERM=dumb when none is set, unexported; a child sees none).
  EXPECT_EQ(Out(s, "sh -c 'echo ${TERM-unset} ${NO_COLOR-unset} ${LC_ALL-unset} ${PYTHONDONTWRITEBYTECODE-unset} "
                   "${PAGER-unset} ${GIT_PAGER-unset}'"),
            "unset unset unset unset unset unset\n");
  // The loop's own variables are not exported to commands.
  EXPECT_EQ(Out(s, "env | grep -c '^__r2e' || true"), "0\n");
}

TEST_F(SessionEnvTest, PathIsTheSessionsThenTheImagesOwnEntries) {
  auto& s = Make({"PATH=" + imgbin_ + ":/usr/bin:/bin", "FOO=x"});
  // /usr/bin and /bin are already in the scaffold's PATH: not repeated.
  EXPECT_EQ(Out(s, "echo \"$PATH\""), kScaffold + ":" + imgbin_ + "\n");
  EXPECT_EQ(Out(s, "imgtool"), "imgtool ran\n");
  EXPECT_EQ(Out(s, "ls -d /"), "/\n");  // the system's ls, not the image's
  EXPECT_EQ(Out(s, "bash -c 'imgtool'"), "imgtool ran\n");
}

TEST_F(SessionEnvTest, UnusableImagePathDoesNotStopCommands) {
  auto& s = Make({"PATH=/nonexistent:/also/missing", "HOME=/nowhere"});
  EXPECT_EQ(Out(s, "echo \"$PATH\""), kScaffold + ":/nonexistent:/also/missing\n");
  EXPECT_EQ(Out(s, "ls -d / && printf abcdef | head -c 3"), "/\nabc");
  EXPECT_EQ(Out(s, "echo $HOME"), "/nowhere\n");
  // An image with no PATH at all.
  auto& none = Make({"FOO=x"});
  EXPECT_EQ(Out(none, "echo \"$PATH\"; printf x | wc -c"), kScaffold + "\n1\n");
}

TEST_F(SessionEnvTest, ImageLocaleAndReadTimeoutAreKeptAndDoNotBreakTheLoop) {
  // The loop reads commands by bytes in the C locale and without TMOUT; the
  // commands still see the image's values.
  auto& s = Make({"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "TMOUT=1"});
  EXPECT_EQ(Out(s, "echo \"$LC_ALL $TMOUT\"; printf '%s' 'héllo wörld ✓'"), "C.UTF-8 1\nhéllo wörld ✓");
  EXPECT_EQ(Out(s, "printf %s \"${#LC_ALL}\"; x='é✓'; echo \" ${#x}\""), "7 2\n");  // characters, UTF-8
  for (std::size_t n : {100u, 70000u}) {  // below and above the loop's 64 KiB file threshold
    std::string word;
    for (std::size_t i = 0; i < n; ++i) word += "é";
    EXPECT_EQ(Out(s, "echo " + word + " | wc -c"), std::to_string(2 * n + 1) + "\n") << n;
  }
  std::this_thread::sleep_for(1500ms);  // idle past TMOUT: the loop must still be there
  EXPECT_EQ(Out(s, "echo still"), "still\n");
  EXPECT_EQ(s.starts(), 1);
  // An image without LC_ALL: commands do not get the loop's C locale.
  auto& plain = Make({"PATH=/usr/bin:/bin", "LANG=C.UTF-8"});
  EXPECT_EQ(Out(plain, "echo ${LC_ALL-unset}; x='é'; echo ${#x}"), "unset\n1\n");
}

TEST_F(SessionEnvTest, SessionThenCommandVariablesOverrideTheImages) {
  ShellSessionOptions o;
  o.env = {{"FOO", "session"}, {"ONLY", "it's $HOME"}};
  auto& s = Make({"PATH=/usr/bin:/bin", "FOO=image", "BAR=image"}, o);
  ExecOptions e;
  e.env = {{"BAR", "command"}};
  EXPECT_EQ(Out(s, "echo \"$FOO $BAR $ONLY\"", e), "session command it's $HOME\n");
  EXPECT_EQ(Out(s, "echo \"$FOO $BAR\""), "session image\n");
  // A session PATH variable replaces the computed one entirely.
  o.env = {{"PATH", "/bin:/usr/bin"}};
  auto& p = Make({"PATH=" + imgbin_}, o);
  EXPECT_EQ(Out(p, "echo \"$PATH\""), "/bin:/usr/bin\n");
}

TEST_F(SessionEnvTest, PathOptions) {
  const std::string image_path = "/bin:" + imgbin_ + ":/bin::/usr/bin:" + imgbin_;
  ShellSessionOptions keep;
  keep.path = "";  // the image's PATH as it is
  EXPECT_EQ(Out(Make({"PATH=" + image_path}, keep), "echo \"$PATH\""), image_path + "\n");

  ShellSessionOptions own;
  own.path = "/usr/bin:/bin";  // deduplicated, empty entries dropped, order kept
  EXPECT_EQ(Out(Make({"PATH=" + image_path}, own), "echo \"$PATH\""), "/usr/bin:/bin:" + imgbin_ + "\n");

  ShellSessionOptions scaffold;
  scaffold.append_image_path = false;  // the scaffold's PATH alone
  auto& s = Make({"PATH=" + image_path}, scaffold);
  EXPECT_EQ(Out(s, "echo \"$PATH\""), kScaffold + "\n");
  auto r = s.exec("imgtool");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 127) << r->output;
}

TEST_F(SessionEnvTest, IsolatedPresetIsTheEarlierFixedEnvironment) {
  auto& s = Make({"PATH=" + imgbin_ + ":/usr/bin:/bin", "FOO=image", "VIRTUAL_ENV=/opt/venv"},
                 ShellSessionOptions::Isolated());
  EXPECT_EQ(Out(s, "echo \"${FOO-unset} ${VIRTUAL_ENV-unset}\"; echo \"$PATH\"; "
                   "echo \"$HOME $LANG $LC_ALL $TERM $NO_COLOR $PYTHONDONTWRITEBYTECODE $PAGER $GIT_PAGER\""),
            "unset unset\n" + kScaffold + "\n/root C.UTF-8 C.UTF-8 dumb 1 1 cat cat\n");
  auto r = s.exec("imgtool");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 127);
}

TEST_F(SessionEnvTest, KeepStateCarriesTheImagesAndExportedVariables) {
  ShellSessionOptions o;
  o.keep_state = true;
  auto& s = Make({"PATH=/usr/bin:/bin", "FOO=image"}, o);
  Out(s, "export BAR=1 FOO=changed; cd /");
  EXPECT_EQ(Out(s, "echo \"$FOO $BAR\"; pwd"), "changed 1\n/\n");
  EXPECT_EQ(Out(s, "echo \"$FOO $BAR\"; pwd"), "changed 1\n/\n");
  Out(s, "unset FOO");
  EXPECT_EQ(Out(s, "echo \"${FOO-unset} $BAR\""), "unset 1\n");
}

TEST_F(SessionEnvTest, ShCommandShellSeesTheSameEnvironment) {
  ShellSessionOptions o;
  o.command_shell = "/bin/sh";
  auto& s = Make({"PATH=" + imgbin_ + ":/usr/bin:/bin", "FOO=image"}, o);
  EXPECT_EQ(Out(s, "echo \"$FOO\"; echo \"$PATH\"; imgtool"), "image\n" + kScaffold + ":" + imgbin_ + "\nimgtool ran\n");
}

// The launcher the runtimes' one-exec-per-command modes use.
std::string RunToEnd(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  auto s = internal::PipeStream::Spawn(argv, env, "/");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return "";
  std::string out;
  char buf[4096];
  const auto deadline = Clock::now() + 10s;
  for (;;) {
    auto n = (*s)->read_some(buf, sizeof buf, deadline);
    if (!n.ok() || *n == 0) break;
    out.append(buf, *n);
  }
  return out;
}

TEST(SandboxArgvTest, SetsPathEntersTheDirectoryAndClearsOnRequest) {
  const std::vector<std::string> image = {"PATH=/opt/none:/usr/bin:/bin", "FOO=image"};
  const std::vector<std::string> cmd = {"env", "X=1", "sh", "-c", "echo \"$X ${FOO-unset} $PATH\"; pwd"};
  ShellSessionOptions o;
  EXPECT_EQ(RunToEnd(internal::SandboxArgv(o, "/usr", cmd), image), "1 image " + kScaffold + ":/opt/none\n/usr\n");
  o.keep_image_env = false;
  o.append_image_path = false;
  EXPECT_EQ(RunToEnd(internal::SandboxArgv(o, "", cmd), image), "1 unset " + kScaffold + "\n/\n");
  // A directory that does not exist: the command does not run.
  const std::string out = RunToEnd(internal::SandboxArgv(o, "/does/not/exist", cmd), image);
  EXPECT_EQ(out.find("unset"), std::string::npos) << out;
}

TEST(SandboxArgvTest, RemovesTheNamedVariablesAndIgnoresNamesThatAreNotIdentifiers) {
  const std::vector<std::string> image = {"PATH=/usr/bin:/bin", "TERM=xterm", "container=podman", "FOO=image"};
  const std::vector<std::string> cmd = {"sh", "-c", "echo \"${TERM-unset} ${container-unset} ${FOO-unset}\""};
  ShellSessionOptions o;
  EXPECT_EQ(RunToEnd(internal::SandboxArgv(o, "", cmd), image), "xterm podman image\n");
  // A bad name would make dash's `unset` end the launcher: it is skipped.
  o.unset_env = {"TERM", "container", "1bad", "a-b", "x;y", ""};
  EXPECT_EQ(RunToEnd(internal::SandboxArgv(o, "", cmd), image), "unset unset image\n");
}

}  // namespace
}  // namespace r2e
