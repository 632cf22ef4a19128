// Batch evaluation without a daemon: predictions formats, validation errors
// with file and line, the run summary's shape and sorting, and the runner
// (outcomes, per-instance files, resume, timeout, stop) on a fake runtime
// that plays the SWE-bench demo task.
#include "r2e/evaluation.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "r2e/swebench.h"
#include "scripted_runtime.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const fs::path kTasksDir = fs::path(R2E_SOURCE_DIR) / "examples" / "tasks";
const fs::path kFixtures = fs::path(R2E_SOURCE_DIR) / "tests" / "fixtures" / "eval";

class EvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "r2e_eval_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path Write(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  fs::path dir_;
};

std::string Row(const std::string& id, const json& patch, const std::string& model = "m") {
  return json{{"instance_id", id}, {"model_name_or_path", model}, {"model_patch", patch}}.dump();
}

// ---------------------------------------------------------------------------
// Predictions formats

TEST_F(EvalTest, PredictionsJsonl) {
  auto p = LoadPredictions(Write(
      "p.jsonl", Row("a", "diff a") + "\n\n" + Row("b", nullptr) + "\n" + Row("c", "") + "\n"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 3u);
  EXPECT_EQ((*p)[0].instance_id, "a");
  EXPECT_EQ((*p)[0].model_name_or_path, "m");
  EXPECT_EQ(*(*p)[0].model_patch, "diff a");
  EXPECT_FALSE((*p)[0].empty());
  EXPECT_EQ((*p)[1].model_patch, std::nullopt);
  EXPECT_TRUE((*p)[1].empty());
  EXPECT_TRUE((*p)[2].empty());
  EXPECT_EQ((*p)[1].source, (dir_ / "p.jsonl").string() + ":3");
}

TEST_F(EvalTest, PredictionsJsonList) {
  auto p = ParsePredictions("[\n  " + Row("a", "x") + ",\n  " + Row("b", "y") + "\n]\n", "p.json");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[1].instance_id, "b");
  EXPECT_EQ((*p)[1].source, "p.json:3");
}

TEST_F(EvalTest, PredictionsObjectKeyedById) {
  auto p = ParsePredictions(
      "{\n \"b\": {\"model_name_or_path\": \"m\", \"model_patch\": \"y\"},\n"
      " \"a\": {\"instance_id\": \"a\", \"model_name_or_path\": \"m\", \"model_patch\": null}\n}",
      "p.json");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].instance_id, "b");  // file order
  EXPECT_EQ((*p)[0].source, "p.json:2");
  EXPECT_EQ((*p)[1].instance_id, "a");
  EXPECT_TRUE((*p)[1].empty());
}

TEST_F(EvalTest, PredictionsSingleObjectAndBom) {
  auto p = ParsePredictions("\xEF\xBB\xBF" + Row("only", "x"), "p.json");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0].instance_id, "only");
}

TEST_F(EvalTest, GoldPredictionsUseEachRowsPatch) {
  auto tasks = LoadTasks(kTasksDir / "demo-swebench.jsonl");
  ASSERT_TRUE(tasks.ok());
  auto gold = GoldPredictions(*tasks);
  ASSERT_EQ(gold.size(), 1u);
  EXPECT_EQ(gold[0].model_name_or_path, "gold");
  EXPECT_EQ(*gold[0].model_patch, tasks->front().patch);
}

TEST_F(EvalTest, FixturesLoad) {
  for (const char* f : {"gold.jsonl", "empty.jsonl", "wrong.jsonl", "bad-apply.jsonl"}) {
    auto p = LoadPredictions(kFixtures / f);
    ASSERT_TRUE(p.ok()) << f << ": " << p.status().ToString();
    EXPECT_EQ(p->size(), 1u);
  }
}

// ---------------------------------------------------------------------------
// Errors name the file and the line

TEST_F(EvalTest, MalformedLineNamesFileAndLine) {
  auto p = ParsePredictions(Row("a", "x") + "\n" + Row("b", "y") + "\n{\"instance_id\": oops}\n",
                            "preds.jsonl");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("preds.jsonl:3: line is not valid JSON"), std::string::npos)
      << p.status().message();
}

TEST_F(EvalTest, MissingFieldsNameFileLineAndField) {
  auto p = ParsePredictions(
      Row("a", "x") + "\n" + json{{"instance_id", "b"}, {"model_patch", "y"}}.dump() + "\n" +
          json{{"instance_id", "c"}, {"model_name_or_path", "m"}}.dump() + "\n" +
          json{{"model_name_or_path", "m"}, {"model_patch", "z"}}.dump() + "\n" +
          json{{"instance_id", "e"}, {"model_name_or_path", "m"}, {"model_patch", 3}}.dump() + "\n",
      "preds.jsonl");
  ASSERT_FALSE(p.ok());
  const std::string m = p.status().message();
  EXPECT_NE(m.find("preds.jsonl:2: field `model_name_or_path`"), std::string::npos) << m;
  EXPECT_NE(m.find("preds.jsonl:3: field `model_patch`: missing"), std::string::npos) << m;
  EXPECT_NE(m.find("preds.jsonl:4: field `instance_id`"), std::string::npos) << m;
  EXPECT_NE(m.find("preds.jsonl:5: field `model_patch`: expected a string or null"),
            std::string::npos)
      << m;
}

TEST_F(EvalTest, DuplicateIdsNameBothLines) {
  auto p = ParsePredictions(Row("a", "x") + "\n" + Row("b", "y") + "\n" + Row("a", "z") + "\n",
                            "preds.jsonl");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("preds.jsonl:3: duplicate instance_id `a` (first at "
                                      "preds.jsonl:1)"),
            std::string::npos)
      << p.status().message();

  auto keyed = ParsePredictions(
      "{\n\"a\": {\"model_name_or_path\": \"m\", \"model_patch\": \"x\"},\n"
      "\"a\": {\"model_name_or_path\": \"m\", \"model_patch\": \"y\"}\n}",
      "keyed.json");
  ASSERT_FALSE(keyed.ok());
  EXPECT_NE(
      keyed.status().message().find("keyed.json:3: duplicate instance_id `a` (first at line 2)"),
      std::string::npos)
      << keyed.status().message();
}

TEST_F(EvalTest, BrokenJsonListNamesTheLine) {
  auto p = ParsePredictions("[\n" + Row("a", "x") + ",\n" + Row("b", "y") + ",,\n]\n", "p.json");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("p.json:3: not a valid JSON list"), std::string::npos)
      << p.status().message();
  auto element =
      ParsePredictions("[\n" + Row("a", "x") + ",\n\n  {\"instance_id\": \"b\"}\n]", "q.json");
  ASSERT_FALSE(element.ok());
  EXPECT_NE(element.status().message().find("q.json:4: field `model_name_or_path`"),
            std::string::npos)
      << element.status().message();
}

TEST_F(EvalTest, EmptyOrMissingPredictionsFile) {
  EXPECT_EQ(ParsePredictions(" \n", "e.jsonl").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadPredictions(dir_ / "nope.jsonl").status().code(), StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------
// Dataset rows, selection and validation

std::string SweRow(const std::string& id) {
  auto tasks = LoadTasks(kTasksDir / "demo-swebench.jsonl");
  json row = tasks.ok() ? tasks->front().row : json::object();
  row["instance_id"] = id;
  return row.dump();
}

TEST_F(EvalTest, DatasetRowsKnowTheirLines) {
  auto rows = LoadDataset(Write("d.jsonl", "\n" + SweRow("x") + "\n\n" + SweRow("y") + "\n"));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].source, (dir_ / "d.jsonl").string() + ":2");
  EXPECT_EQ((*rows)[1].source, (dir_ / "d.jsonl").string() + ":4");

  auto array = LoadDataset(Write("d.json", "[\n" + SweRow("x") + ",\n" + SweRow("y") + "\n]\n"));
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ((*array)[1].source, (dir_ / "d.json").string() + ":3");
}

TEST_F(EvalTest, SelectRowsByIdAndUnknownIds) {
  auto rows = LoadDataset(Write("d.jsonl", SweRow("x") + "\n" + SweRow("y") + "\n" + SweRow("z")));
  ASSERT_TRUE(rows.ok());
  auto picked = SelectRows(*rows, {"z", "x"});
  ASSERT_TRUE(picked.ok());
  ASSERT_EQ(picked->size(), 2u);
  EXPECT_EQ((*picked)[0].task.instance_id, "x");  // dataset order
  auto bad = SelectRows(*rows, {"x", "nope"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("`nope`"), std::string::npos);
}

TEST_F(EvalTest, ValidationNamesFilesAndLines) {
  json broken = json::parse(SweRow("broken"));
  broken.erase("test_patch");
  auto rows = LoadDataset(Write("d.jsonl", SweRow("ok") + "\n" + broken.dump() + "\n"));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  auto preds = ParsePredictions(
      Row("ok", "x") + "\n" + Row("broken", "y") + "\n" + Row("ghost", "z") + "\n", "p.jsonl");
  ASSERT_TRUE(preds.ok());
  auto docker = MakeRuntime("docker").value();
  auto local = MakeRuntime("local").value();
  Status s = ValidateEvaluation(*rows, *preds, *docker);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("p.jsonl:3: prediction for `ghost`"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find((dir_ / "d.jsonl").string() + ":2: row `broken`: field `test_patch`"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("2 problems"), std::string::npos) << s.message();

  // An empty prediction needs nothing from its row.
  auto empty = ParsePredictions(Row("broken", ""), "p.jsonl");
  EXPECT_TRUE(ValidateEvaluation(*rows, *empty, *docker).ok());
  // The local runtime needs local_repo.
  Status local_status = ValidateEvaluation(*rows, *ParsePredictions(Row("ok", "x"), "p.jsonl"), *local);
  EXPECT_NE(local_status.message().find("field `local_repo`"), std::string::npos) << local_status.message();
}

// ---------------------------------------------------------------------------
// Run summary

void WriteReport(const fs::path& root, const std::string& run, const std::string& model,
                 const std::string& id, bool resolved) {
  fs::path d = InstanceDir(root, run, model, id);
  fs::create_directories(d);
  std::ofstream(d / "report.json") << json{{id, {{"resolved", resolved}}}}.dump();
}

TEST_F(EvalTest, SummaryHasTheHarnessShapeAndSortedLists) {
  EXPECT_EQ(ModelDirName("org/model"), "org__model");
  EXPECT_EQ(InstanceDir("logs", "r", "org/model", "i"), fs::path("logs/r/org__model/i"));
  WriteReport(dir_, "run", "org/m", "d", true);
  WriteReport(dir_, "run", "org/m", "b", true);
  WriteReport(dir_, "run", "org/m", "c", false);
  // A report of the wrong instance does not count.
  fs::create_directories(InstanceDir(dir_, "run", "org/m", "e"));
  std::ofstream(InstanceDir(dir_, "run", "org/m", "e") / "report.json") << "{\"zzz\": {}}";
  std::vector<Prediction> preds;
  for (const char* id : {"d", "b", "c", "e", "a"}) {
    Prediction p;
    p.instance_id = id;
    p.model_name_or_path = "org/m";
    if (std::string(id) != "a") p.model_patch = "diff";
    preds.push_back(p);
  }
  auto s = MakeRunSummary({"e", "d", "c", "b", "a", "f"}, preds, dir_, "run");
  const std::string expected = R"({
    "total_instances": 6,
    "submitted_instances": 5,
    "completed_instances": 3,
    "resolved_instances": 2,
    "unresolved_instances": 1,
    "empty_patch_instances": 1,
    "error_instances": 1,
    "completed_ids": [
        "b",
        "c",
        "d"
    ],
    "incomplete_ids": [
        "f"
    ],
    "empty_patch_ids": [
        "a"
    ],
    "submitted_ids": [
        "a",
        "b",
        "c",
        "d",
        "e"
    ],
    "resolved_ids": [
        "b",
        "d"
    ],
    "unresolved_ids": [
        "c"
    ],
    "error_ids": [
        "e"
    ],
    "schema_version": 2
})";
  EXPECT_EQ(s.dump(4), expected);
}

// ---------------------------------------------------------------------------
// The runner on a fake runtime

// Plays the SWE-bench demo task: the patch cascade fails on patches holding
// "NOT-IN-FILE" and dies silently (exit 137, no output) on "SILENT-DEATH";
// its shell ends under the command (no exit status) on "SHELL-DIES" while
// shell_deaths_left lasts;
// the eval script's log passes FAIL_TO_PASS only for the
// task's gold patch, and a patch holding "SLOW" makes the tests hang until
// stop(). Counts sandboxes started and alive.
struct FakeWorld {
  std::atomic<int> starts{0};
  std::atomic<int> alive{0};
  std::atomic<int> stops_while_running{0};
  std::atomic<int> hanging{0};  // SLOW test runs waiting for stop()
  std::atomic<int> shell_deaths_left{0};  // patch steps on "SHELL-DIES" that end without a status
};

class FakeRuntime final : public test_util::ScriptedRuntime {
 public:
  FakeRuntime(const Task& task, FakeWorld& world) : task_(task), world_(world) { runtime_name = "fake"; }
  ~FakeRuntime() override { stop(); }
  Status start(const SandboxSpec&) override {
    std::lock_guard<std::mutex> lock(state_mu_);
    ++world_.starts;
    ++world_.alive;
    running_ = true;
    return Status::OK();
  }
  Status stop() override {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (running_) {
      running_ = false;
      --world_.alive;
      if (busy_) ++world_.stops_while_running;
    }
    cv_.notify_all();
    return Status::OK();
  }
  bool alive() override {
    std::lock_guard<std::mutex> lock(state_mu_);
    return running_;
  }
  Result<ExecResult> exec(std::string_view command, const ExecOptions& options) override {
    std::unique_lock<std::mutex> lock(state_mu_);
    if (!running_) return Status::FailedPrecondition("not started");
    ExecResult r;
    r.exit_code = 0;
    const std::string patch = read_file("/tmp/patch.diff").value_or("");
    if (command.find("r2e_applied") != std::string_view::npos) {
      if (patch.find("SILENT-DEATH") != std::string::npos) {
        r.exit_code = 137;
      } else if (patch.find("SHELL-DIES") != std::string::npos && world_.shell_deaths_left.fetch_sub(1) > 0) {
        r.exit_code = -1;  // the session's stream ended under the command
      } else if (patch.find("NOT-IN-FILE") != std::string::npos) {
        r.exit_code = 1;
        r.output =
            std::string(kSweApplyPatchFail) + ":\nerror: patch failed: textstats/stats.py:30\n";
      } else {
        r.output = std::string(kSweApplyPatchPass) + ":\nApplied patch cleanly.\n";
      }
    } else if (command.find("r2e_eval.sh") != std::string_view::npos &&
               command.find("tee") != std::string_view::npos) {
      if (patch.find("SLOW") != std::string::npos) {
        busy_ = true;
        ++world_.hanging;
        cv_.wait_for(lock, options.timeout, [&] { return !running_; });
        --world_.hanging;
        busy_ = false;
        if (!running_) return Status::Cancelled("sandbox stopped");
        r.timed_out = true;
        r.exit_code = 137;
        return r;
      }
      const bool fixed = patch == task_.patch;
      r.output = "+ : '>>>>> Start Test Output'\n";
      for (const auto& t : task_.fail_to_pass)
        r.output += (fixed ? "PASSED " : "FAILED ") + t + "\n";
      for (const auto& t : task_.pass_to_pass) r.output += "PASSED " + t + "\n";
      r.output += "+ : '>>>>> End Test Output'\n";
    }
    return r;
  }
  Status upload(const fs::path&, const std::string&) override { return Status::OK(); }
  Status download(const std::string&, const fs::path&) override { return Status::OK(); }

 private:
  Task task_;
  FakeWorld& world_;
  std::mutex state_mu_;
  std::condition_variable cv_;
  bool running_ = false;
  bool busy_ = false;
};

class EvalRunTest : public EvalTest {
 protected:
  void SetUp() override {
    EvalTest::SetUp();
    std::string rows;
    for (const char* id : {"e", "d", "c", "b", "a"}) rows += SweRow(id) + "\n";
    auto loaded = LoadDataset(Write("d.jsonl", rows));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    rows_ = *loaded;
    gold_ = rows_[0].task.patch;
    options_.run_id = "r1";
    options_.report_dir = dir_ / "logs";
    options_.workers = 3;
    options_.make_runtime = [this](const Task& t) -> Result<std::unique_ptr<Runtime>> {
      return std::unique_ptr<Runtime>(std::make_unique<FakeRuntime>(t, world_));
    };
  }

  std::vector<Prediction> Preds(const std::map<std::string, json>& patches) {
    std::string text;
    for (const auto& [id, patch] : patches) text += Row(id, patch) + "\n";
    auto p = ParsePredictions(text, "p.jsonl");
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : std::vector<Prediction>{};
  }

  std::vector<DatasetRow> rows_;
  std::string gold_;
  EvalOptions options_;
  FakeWorld world_;
};

// A patch step that dies without a word (the shell killed, say) is an error
// with its exit code, not an internal error from reading an empty output.
TEST_F(EvalRunTest, PatchStepDyingWithoutOutputIsReportedWithItsExitCode) {
  auto run = RunEvaluation(rows_, Preds({{"d", "SILENT-DEATH"}}), options_);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const auto& s = run->summary;
  EXPECT_EQ(s["error_ids"], nlohmann::ordered_json({"d"}));
  EXPECT_EQ(s["error_reasons"]["d"], "Patch Apply Failed (exit 137)") << s.dump(2);
  EXPECT_EQ(world_.alive.load(), 0);
}

// A sandbox whose shell dies under the patch step is the sandbox's fault:
// the instance runs again in a new sandbox, and the log keeps both attempts.
TEST_F(EvalRunTest, SandboxDyingUnderThePatchIsRetriedInANewSandbox) {
  std::ostringstream progress;
  options_.progress = &progress;
  options_.workers = 1;
  world_.shell_deaths_left = 1;
  const std::string patch = gold_ + "\n# SHELL-DIES\n";
  rows_[4].task.patch = patch;  // "a": this patch is its gold patch, so it resolves
  auto run = RunEvaluation(rows_, Preds({{"a", patch}}), options_);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->summary["resolved_ids"], nlohmann::ordered_json({"a"})) << run->summary.dump(2);
  EXPECT_EQ(world_.starts.load(), 2);
  EXPECT_EQ(world_.alive.load(), 0);
  EXPECT_NE(progress.str().find("running it again in a new sandbox (attempt 2 of 2)"), std::string::npos)
      << progress.str();
  std::ifstream in(InstanceDir(options_.report_dir, "r1", "m", "a") / "run_instance.log");
  const std::string log((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(log.find("--- attempt 1 ---"), std::string::npos) << log;
  EXPECT_NE(log.find("the sandbox shell ended without an exit status"), std::string::npos) << log;
  EXPECT_NE(log.find("--- attempt 2 ---"), std::string::npos) << log;
}

// Without retries (or when they run out) it is an infrastructure error that
// says what happened.
TEST_F(EvalRunTest, SandboxDyingUnderThePatchWithoutRetriesIsAnInfrastructureError) {
  options_.infrastructure_retries = 0;
  world_.shell_deaths_left = 1;
  auto run = RunEvaluation(rows_, Preds({{"a", gold_ + "\n# SHELL-DIES\n"}}), options_);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->instances.size(), 1u);
  EXPECT_EQ(run->instances[0].error_kind, EvalErrorKind::kInfrastructure);
  EXPECT_EQ(run->summary["error_ids"], nlohmann::ordered_json({"a"}));
  EXPECT_NE(run->summary["error_reasons"]["a"].get<std::string>().find("sandbox shell ended"), std::string::npos);
  EXPECT_EQ(world_.starts.load(), 1);
}

TEST_F(EvalRunTest, OutcomesFilesAndResume) {
  // a: gold, b: applies but does not fix, c: empty, d: does not apply, e: none.
  auto preds = Preds({{"a", gold_},
                      {"b", "diff --git a/README.md b/README.md\n"},
                      {"c", ""},
                      {"d", "NOT-IN-FILE"}});
  auto run = RunEvaluation(rows_, preds, options_);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const auto& s = run->summary;
  EXPECT_EQ(s["resolved_ids"], nlohmann::ordered_json({"a"}));
  EXPECT_EQ(s["unresolved_ids"], nlohmann::ordered_json({"b"}));
  EXPECT_EQ(s["empty_patch_ids"], nlohmann::ordered_json({"c"}));
  EXPECT_EQ(s["error_ids"], nlohmann::ordered_json({"d"}));
  EXPECT_EQ(s["incomplete_ids"], nlohmann::ordered_json({"e"}));
  EXPECT_EQ(s["completed_ids"], nlohmann::ordered_json({"a", "b"}));
  EXPECT_EQ(s["submitted_ids"], nlohmann::ordered_json({"a", "b", "c", "d"}));
  EXPECT_EQ(s["total_instances"], 5);
  EXPECT_EQ(s["schema_version"], 2);
  EXPECT_NE(s["error_reasons"]["d"].get<std::string>().find("Patch Apply Failed"),
            std::string::npos);
  EXPECT_EQ(world_.starts.load(), 3);  // the empty patch is not run
  EXPECT_EQ(world_.alive.load(), 0);   // every sandbox closed
  EXPECT_EQ(run->attempted, 3);
  EXPECT_GT(run->instance_seconds_sum, 0.0);

  const fs::path a = InstanceDir(options_.report_dir, "r1", "m", "a");
  for (const char* f :
       {"report.json", "test_output.txt", "patch.diff", "eval.sh", "run_instance.log"}) {
    EXPECT_TRUE(fs::exists(a / f)) << f;
  }
  std::ifstream report_in(a / "report.json");
  json report = json::parse(report_in);
  EXPECT_EQ(report["a"]["resolved"], true);
  EXPECT_EQ(report["a"]["patch_successfully_applied"], true);
  std::stringstream eval_sh;
  eval_sh << std::ifstream(a / "eval.sh").rdbuf();
  EXPECT_NE(eval_sh.str().find(">>>>> Start Test Output"), std::string::npos);
  const fs::path d = InstanceDir(options_.report_dir, "r1", "m", "d");
  EXPECT_FALSE(fs::exists(d / "report.json"));
  EXPECT_TRUE(fs::exists(d / "run_instance.log"));
  EXPECT_TRUE(fs::exists(options_.report_dir / "r1" / "m.r1.json"));

  // Rerun with the same id: a and b are skipped, only d runs again.
  auto again = RunEvaluation(rows_, preds, options_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(world_.starts.load(), 4);
  EXPECT_EQ(again->attempted, 1);
  EXPECT_EQ(again->summary["resolved_ids"], nlohmann::ordered_json({"a"}));
  EXPECT_EQ(again->summary["unresolved_ids"], nlohmann::ordered_json({"b"}));
  int skipped = 0;
  for (const auto& r : again->instances) skipped += r.outcome == InstanceOutcome::kSkipped;
  EXPECT_EQ(skipped, 2);

  // A truncated report.json does not count as done.
  std::ofstream(InstanceDir(options_.report_dir, "r1", "m", "a") / "report.json") << "{\"a\": ";
  auto third = RunEvaluation(rows_, preds, options_);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(world_.starts.load(), 6);  // a and d
  EXPECT_EQ(third->summary["resolved_ids"], nlohmann::ordered_json({"a"}));
}

TEST_F(EvalRunTest, ValidationStopsTheRunBeforeAnySandbox) {
  auto preds = Preds({{"a", gold_}, {"ghost", gold_}});
  auto run = RunEvaluation(rows_, preds, options_);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(world_.starts.load(), 0);
  options_.run_id = "a/b";
  EXPECT_EQ(RunEvaluation(rows_, Preds({{"a", gold_}}), options_).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(EvalRunTest, TimeoutStopsTheSandboxAndTheRunGoesOn) {
  options_.timeout = 1s;
  options_.workers = 2;
  auto run = RunEvaluation(rows_, Preds({{"a", gold_}, {"b", "SLOW"}}), options_);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->summary["resolved_ids"], nlohmann::ordered_json({"a"}));
  EXPECT_EQ(run->summary["error_ids"], nlohmann::ordered_json({"b"}));
  const std::string why = run->summary["error_reasons"]["b"];
  EXPECT_NE(why.find("timed out"), std::string::npos) << why;
  EXPECT_EQ(world_.alive.load(), 0);
  for (const auto& r : run->instances) {
    if (r.instance_id == "b") {
      EXPECT_EQ(r.error_kind, EvalErrorKind::kTimeout);
    }
  }
}

TEST_F(EvalRunTest, StopFlagClosesEverySandbox) {
  std::atomic<bool> stop{false};
  options_.stop = &stop;
  options_.workers = 2;
  options_.timeout = 60s;
  // Stops once both workers hang in their test runs (however long getting
  // there takes on a loaded machine).
  std::thread stopper([&] {
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (world_.hanging.load() < 2 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(10ms);
    stop.store(true);
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto run = RunEvaluation(
      rows_, Preds({{"e", "SLOW"}, {"d", "SLOW"}, {"c", "SLOW"}, {"a", gold_}}), options_);
  stopper.join();
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 40s);  // not the 60 s timeout
  EXPECT_TRUE(run->interrupted);
  EXPECT_EQ(run->summary["interrupted"], true);
  EXPECT_EQ(world_.alive.load(), 0);
  // Dataset order is e, d, c, b, a: e and d hang, nothing starts after the stop.
  EXPECT_EQ(world_.starts.load(), 2);
  EXPECT_EQ(world_.stops_while_running.load(), 2);
  EXPECT_EQ(run->summary["completed_instances"], 0);
}

TEST_F(EvalRunTest, ProgressLinesWhenNotATerminal) {
  std::ostringstream progress;
  options_.progress = &progress;
  auto run = RunEvaluation(rows_, Preds({{"a", gold_}, {"b", ""}}), options_);
  ASSERT_TRUE(run.ok());
  EXPECT_NE(progress.str().find("[1/1] a: resolved"), std::string::npos) << progress.str();
  EXPECT_EQ(progress.str().find('\r'), std::string::npos);

  std::ostringstream bar;
  options_.progress = &bar;
  options_.progress_bar = true;
  options_.run_id = "r2";
  ASSERT_TRUE(RunEvaluation(rows_, Preds({{"a", gold_}}), options_).ok());
  EXPECT_NE(bar.str().find("1/1  resolved 1"), std::string::npos) << bar.str();
}

TEST(EvalDefaultsTest, DefaultWorkers) { EXPECT_GE(DefaultEvalWorkers(), 1); }

}  // namespace
}  // namespace r2e
