// TrajectoryWriter and ReadTrajectory: one line per step, flushed as it is
// written, valid UTF-8, the summary line, and a lossless round trip.
#include "r2e/trajectory.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "r2e/repo_env.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class TrajectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("r2e_trajectory_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static std::vector<std::string> Lines(const fs::path& p) {
    std::vector<std::string> out;
    std::istringstream in(Slurp(p));
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  static StepRecord Step(int n) {
    StepRecord r;
    r.step = n;
    r.thought = "thinking " + std::to_string(n);
    r.action = "<function=execute_bash>\n<parameter=cmd>ls</parameter>\n</function>";
    r.observation = "Exit code: 0\nExecution output of [execute_bash]:\nfile" + std::to_string(n);
    r.exit_code = 0;
    r.duration_s = 0.25;
    return r;
  }

  fs::path dir_;
};

TEST_F(TrajectoryTest, OneLinePerStepWithTheNamedFields) {
  const fs::path file = dir_ / "nested" / "ep.jsonl";  // parents are created
  auto w = TrajectoryWriter::Open(file);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE(w->WriteStep(Step(1)).ok());
  StepRecord last = Step(2);
  last.done = true;
  last.exit_code = 1;
  last.timed_out = true;
  ASSERT_TRUE(w->WriteStep(last).ok());
  EXPECT_EQ(w->lines_written(), 2);
  ASSERT_TRUE(w->Close().ok());

  auto lines = Lines(file);
  ASSERT_EQ(lines.size(), 2u);
  json first = json::parse(lines[0]);
  EXPECT_EQ(first["type"], "step");
  EXPECT_EQ(first["step"], 1);
  EXPECT_EQ(first["thought"], "thinking 1");
  EXPECT_EQ(first["action"], Step(1).action);
  EXPECT_EQ(first["observation"], Step(1).observation);
  EXPECT_EQ(first["done"], false);
  EXPECT_EQ(first["exit_code"], 0);
  EXPECT_EQ(first["timed_out"], false);
  EXPECT_DOUBLE_EQ(first["duration_s"].get<double>(), 0.25);
  // Token counts and model time are optional: absent unless given.
  EXPECT_FALSE(first.contains("prompt_tokens"));
  EXPECT_FALSE(first.contains("completion_tokens"));
  EXPECT_FALSE(first.contains("total_tokens"));
  EXPECT_FALSE(first.contains("model_s"));
  json second = json::parse(lines[1]);
  EXPECT_EQ(second["done"], true);
  EXPECT_EQ(second["exit_code"], 1);
  EXPECT_EQ(second["timed_out"], true);
}

TEST_F(TrajectoryTest, TokenCountsAndExtraFieldsWhenGiven) {
  const fs::path file = dir_ / "ep.jsonl";
  auto w = TrajectoryWriter::Open(file).value();
  StepRecord r = Step(1);
  r.model_s = 1.5;
  r.prompt_tokens = 1200;
  r.completion_tokens = 80;
  r.total_tokens = 1280;
  r.extra = {{"model", "m"}, {"step", 99}, {"type", "bogus"}};  // named fields win
  ASSERT_TRUE(w.WriteStep(r).ok());
  json line = json::parse(Lines(file).at(0));
  EXPECT_EQ(line["prompt_tokens"], 1200);
  EXPECT_EQ(line["completion_tokens"], 80);
  EXPECT_EQ(line["total_tokens"], 1280);
  EXPECT_DOUBLE_EQ(line["model_s"].get<double>(), 1.5);
  EXPECT_EQ(line["model"], "m");
  EXPECT_EQ(line["step"], 1);
  EXPECT_EQ(line["type"], "step");
}

TEST_F(TrajectoryTest, EachLineIsFlushedBeforeTheCallReturns) {
  const fs::path file = dir_ / "ep.jsonl";
  auto w = TrajectoryWriter::Open(file).value();
  ASSERT_TRUE(w.WriteStep(Step(1)).ok());
  // Still open: another reader already sees the whole line.
  EXPECT_EQ(Lines(file).size(), 1u);
  ASSERT_TRUE(w.WriteStep(Step(2)).ok());
  auto read = ReadTrajectory(file);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->steps.size(), 2u);
  EXPECT_FALSE(read->summary.has_value());
}

TEST_F(TrajectoryTest, CrashKeepsTheLinesWritten) {
  const fs::path file = dir_ / "ep.jsonl";
  fs::create_directories(dir_);
  // A child process writes two steps and dies without closing or unwinding.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto w = TrajectoryWriter::Open(file);
    if (!w.ok()) ::_exit(2);
    if (!w->WriteStep(Step(1)).ok() || !w->WriteStep(Step(2)).ok()) ::_exit(3);
    ::_exit(0);  // no destructors, no stdio flush at exit
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto read = ReadTrajectory(file);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->steps.size(), 2u);
  EXPECT_EQ(read->steps[1].step, 2);
}

TEST_F(TrajectoryTest, InvalidUtf8IsReplaced) {
  const fs::path file = dir_ / "ep.jsonl";
  auto w = TrajectoryWriter::Open(file).value();
  StepRecord r = Step(1);
  r.observation = std::string("bad \xff\xfe bytes \xc3( and \xe2\x82 end ok: \xc3\xa9");
  r.thought = std::string("\x80");
  r.extra = {{"note", std::string("x\xffy")}};
  ASSERT_TRUE(w.WriteStep(r).ok());
  EpisodeSummary s;
  s.instance_id = "id";
  s.patch = std::string("+ \xfe\n");
  ASSERT_TRUE(w.WriteSummary(s).ok());
  ASSERT_TRUE(w.Close().ok());

  for (const std::string& line : Lines(file)) {
    json parsed = json::parse(line, nullptr, false);  // strict parser: rejects invalid UTF-8
    ASSERT_FALSE(parsed.is_discarded()) << line;
  }
  auto read = ReadTrajectory(file).value();
  const std::string kReplacement = "\xef\xbf\xbd";  // U+FFFD
  EXPECT_NE(read.steps.at(0).observation.find(kReplacement), std::string::npos);
  EXPECT_NE(read.steps.at(0).observation.find("bad "), std::string::npos);
  EXPECT_NE(read.steps.at(0).observation.find("\xc3\xa9"), std::string::npos);  // valid é kept
  EXPECT_EQ(read.steps.at(0).thought, kReplacement);
  EXPECT_EQ(read.steps.at(0).extra["note"], "x" + kReplacement + "y");
  EXPECT_EQ(read.summary->patch, "+ " + kReplacement + "\n");
}

TEST_F(TrajectoryTest, SummaryLineIsLastAndOnlyOnce) {
  const fs::path file = dir_ / "ep.jsonl";
  auto w = TrajectoryWriter::Open(file).value();
  ASSERT_TRUE(w.WriteStep(Step(1)).ok());
  EpisodeSummary s;
  s.instance_id = "r2e-demo__textstats-1";
  s.reward = 1.0;
  s.exit_reason = "finished";
  s.steps = 1;
  s.patch = "diff --git a/x b/x\n";
  s.extra = {{"runtime", "local"}, {"reward", 0.0}};
  ASSERT_TRUE(w.WriteSummary(s).ok());
  EXPECT_EQ(w.WriteSummary(s).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(w.WriteStep(Step(2)).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(w.Close().ok());
  EXPECT_TRUE(w.Close().ok());  // idempotent
  EXPECT_EQ(w.WriteStep(Step(3)).code(), StatusCode::kFailedPrecondition);

  auto lines = Lines(file);
  ASSERT_EQ(lines.size(), 2u);
  json summary = json::parse(lines[1]);
  EXPECT_EQ(summary["type"], "summary");
  EXPECT_EQ(summary["instance_id"], "r2e-demo__textstats-1");
  EXPECT_EQ(summary["reward"], 1.0);  // not replaced by extra
  EXPECT_EQ(summary["exit_reason"], "finished");
  EXPECT_EQ(summary["steps"], 1);
  EXPECT_EQ(summary["patch"], "diff --git a/x b/x\n");
  EXPECT_EQ(summary["runtime"], "local");
}

TEST_F(TrajectoryTest, ReaderRoundTrip) {
  const fs::path file = dir_ / "ep.jsonl";
  std::vector<StepRecord> steps;
  for (int i = 1; i <= 3; ++i) steps.push_back(Step(i));
  steps[1].prompt_tokens = 10;
  steps[1].completion_tokens = 5;
  steps[1].total_tokens = 15;
  steps[1].model_s = 0.5;
  steps[1].observation = "multi\nline \"quoted\" \t tab \\ backslash";
  steps[2].done = true;
  steps[2].extra = {{"llm_raw", {{"id", "x"}}}};
  EpisodeSummary s{"inst", 1.0, "finished", 3, "diff --git a/f b/f\n+x\n", {{"duration_s", 2.5}}};
  {
    auto w = TrajectoryWriter::Open(file).value();
    for (const auto& r : steps) ASSERT_TRUE(w.WriteStep(r).ok());
    ASSERT_TRUE(w.WriteSummary(s).ok());
  }  // destructor closes

  auto read = ReadTrajectory(file);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(read->torn_tail);
  ASSERT_EQ(read->steps.size(), 3u);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(TrajectoryWriter::StepJson(read->steps[i]), TrajectoryWriter::StepJson(steps[i]));
  }
  EXPECT_EQ(read->steps[1].prompt_tokens, 10);
  EXPECT_EQ(read->steps[1].model_s, 0.5);
  EXPECT_FALSE(read->steps[0].prompt_tokens.has_value());
  EXPECT_EQ(read->steps[2].extra, steps[2].extra);
  ASSERT_TRUE(read->summary.has_value());
  EXPECT_EQ(TrajectoryWriter::SummaryJson(*read->summary), TrajectoryWriter::SummaryJson(s));
}

TEST_F(TrajectoryTest, AppendModeKeepsEarlierLines) {
  const fs::path file = dir_ / "ep.jsonl";
  ASSERT_TRUE(TrajectoryWriter::Open(file).value().WriteStep(Step(1)).ok());
  TrajectoryWriterOptions o;
  o.append = true;
  ASSERT_TRUE(TrajectoryWriter::Open(file, o).value().WriteStep(Step(2)).ok());
  EXPECT_EQ(Lines(file).size(), 2u);
  // Without append the file is replaced.
  ASSERT_TRUE(TrajectoryWriter::Open(file).value().WriteStep(Step(3)).ok());
  EXPECT_EQ(Lines(file).size(), 1u);
}

TEST_F(TrajectoryTest, ReaderErrorsAndTornTail) {
  fs::create_directories(dir_);
  EXPECT_EQ(ReadTrajectory(dir_ / "missing.jsonl").status().code(), StatusCode::kNotFound);

  const fs::path bad = dir_ / "bad.jsonl";
  std::ofstream(bad) << TrajectoryWriter::StepJson(Step(1)).dump() << "\nnot json\n";
  auto r = ReadTrajectory(bad);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(":2:"), std::string::npos) << r.status().ToString();

  const fs::path wrong_type = dir_ / "wrong_type.jsonl";
  std::ofstream(wrong_type) << R"({"type":"step","step":"one"})"
                            << "\n";
  EXPECT_EQ(ReadTrajectory(wrong_type).status().code(), StatusCode::kInvalidArgument);

  const fs::path unknown = dir_ / "unknown.jsonl";
  std::ofstream(unknown) << R"({"type":"banana"})"
                         << "\n";
  EXPECT_EQ(ReadTrajectory(unknown).status().code(), StatusCode::kInvalidArgument);

  // A final partial line (a crash in the middle of a write) is skipped.
  const fs::path torn = dir_ / "torn.jsonl";
  std::ofstream(torn) << TrajectoryWriter::StepJson(Step(1)).dump() << "\n"
                      << R"({"type":"step","step":2,"obs)";
  auto t = ReadTrajectory(torn);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->torn_tail);
  EXPECT_EQ(t->steps.size(), 1u);
}

TEST_F(TrajectoryTest, OpenFailsClearly) {
  fs::create_directories(dir_);
  auto w = TrajectoryWriter::Open(dir_);  // a directory
  EXPECT_EQ(w.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(w.status().message().find(dir_.string()), std::string::npos);
  EXPECT_EQ(TrajectoryWriter::Open("").status().code(), StatusCode::kInvalidArgument);
}

TEST(StepRecordTest, FromAStepResult) {
  Action a = ParseAction(
      "Let me list.\n<function=execute_bash>\n<parameter=cmd>ls</parameter>\n</function>");
  StepResult res;
  res.observation.text = "Exit code: 2\nExecution output of [execute_bash]:\nnope";
  res.info.exit_code = 2;
  res.info.timed_out = true;
  res.done = false;
  res.info.total_time = std::chrono::milliseconds(750);
  StepRecord r = StepRecord::From(4, a, res);
  EXPECT_EQ(r.step, 4);
  EXPECT_EQ(r.thought, a.thought);
  EXPECT_EQ(r.action, a.ToXml());
  EXPECT_EQ(r.observation, res.observation.text);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.timed_out);
  EXPECT_DOUBLE_EQ(r.duration_s, 0.75);
}

}  // namespace
}  // namespace r2e
