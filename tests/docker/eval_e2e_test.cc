// `r2e eval` end to end against a real dockerd (scripts/start-dockerd.sh) and
// the demo images (scripts/build-test-images.sh), running the r2e program as
// a child process: gold / empty / wrong predictions give resolved / empty /
// unresolved in the exact summary; every flavour's gold run resolves, also
// SWE-bench rows as published against harness-named images; a run
// stopped with SIGINT or killed with SIGKILL resumes and leaves no sandbox
// behind; four workers beat the sum of per-instance times; the multilingual
// demo tasks resolve in every language. Skips when the
// daemon, an image or the r2e program is missing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "docker/docker_client.h"
#include "r2e/evaluation.h"

extern char** environ;

namespace r2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const fs::path kSource = R2E_SOURCE_DIR;
const fs::path kTasks = kSource / "examples" / "tasks";
const fs::path kFixtures = kSource / "tests" / "fixtures" / "eval";
const fs::path kCli = R2E_CLI_PATH;

std::shared_ptr<docker::DockerClient> Client() {
  static std::shared_ptr<docker::DockerClient> client = [] {
    auto c = docker::DockerClient::Connect();
    return c.ok() ? std::shared_ptr<docker::DockerClient>(std::move(c).value()) : nullptr;
  }();
  return client;
}

bool HaveImage(const std::string& image) { return Client() && Client()->inspect_image(image).ok(); }

#define REQUIRE_EVAL(image)                                                                    \
  do {                                                                                         \
    if (!Client()) GTEST_SKIP() << "no Docker daemon answers (scripts/start-dockerd.sh)";      \
    if (!HaveImage(image)) GTEST_SKIP() << image << " missing (scripts/build-test-images.sh)"; \
    if (!fs::exists(kCli)) GTEST_SKIP() << kCli << " is not built (ninja src/cli/r2e)";        \
  } while (0)

constexpr const char* kSweBenchImage = "r2e-demo/textstats-swebench:latest";

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The r2e program as a child: stdout and stderr go to files.
class Child {
 public:
  Child(const std::vector<std::string>& args, const fs::path& dir, const std::string& name)
      : out_(dir / (name + ".out")), err_(dir / (name + ".err")) {
    std::vector<std::string> argv_s = {kCli.string()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  pid_t pid() const { return pid_; }
  // The exit status, 128+N for a signal.
  int Wait() {
    int status = 0;
    if (::waitpid(pid_, &status, 0) < 0) return -1;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string out() const { return ReadAll(out_); }
  std::string err() const { return ReadAll(err_); }

 private:
  fs::path out_, err_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

class EvalE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "r2e_eval_e2e.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // The run_instance.log of every instance in the summary's error_ids (to
  // tell a flaky sandbox from a wrong grade when a test fails).
  std::string ErrorLogs(const json& summary, const std::string& run_id) {
    std::string out;
    if (!summary.contains("error_ids")) return out;
    for (const auto& id : summary["error_ids"]) {
      const fs::path log =
          InstanceDir(dir_ / "logs", run_id, "gold", id.get<std::string>()) / "run_instance.log";
      out += "\n--- " + log.string() + "\n" + ReadAll(log);
    }
    return out;
  }

  std::vector<std::string> Args(const fs::path& dataset, const std::string& predictions,
                                const std::string& run_id, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"eval",
                                  "--dataset",
                                  dataset.string(),
                                  "--predictions",
                                  predictions,
                                  "--runtime",
                                  "docker",
                                  "--run-id",
                                  run_id,
                                  "--report-dir",
                                  (dir_ / "logs").string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  // Runs to the end; returns the summary from stdout (null on failure).
  json Run(const std::vector<std::string>& args, int expect_rc = 0,
           const std::string& name = "run") {
    Child child(args, dir_, name);
    EXPECT_GT(child.pid(), 0);
    const int rc = child.Wait();
    EXPECT_EQ(rc, expect_rc) << child.err();
    json j = json::parse(child.out(), nullptr, false);
    return j.is_discarded() ? json() : j;
  }

  // Containers of ours left from the run `run_id`.
  std::vector<json> Leftovers(const std::string& run_id) {
    auto list = Client()->list_containers({"r2e.managed", "r2e.eval.run_id=" + run_id});
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? *list : std::vector<json>{};
  }

  // True once no container of the run is left. A killed container may
  // still show as "Removal In Progress" for a moment: wait for that.
  bool NoLeftovers(const std::string& run_id) {
    for (int i = 0; i < 100; ++i) {
      if (Leftovers(run_id).empty()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  // Waits until `n` report.json files exist under the run (or `limit` passes).
  bool WaitForReports(const std::string& run_id, int n, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      int count = 0;
      std::error_code ec;
      const fs::path run_dir = dir_ / "logs" / run_id;
      if (fs::exists(run_dir, ec)) {
        for (auto it = fs::recursive_directory_iterator(run_dir, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
          count += it->path().filename() == "report.json";
        }
      }
      if (count >= n) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  fs::path dir_;
};

// The harness's part of the summary, without our extra keys.
json HarnessPart(json summary) {
  for (const char* k : {"run_id", "wall_time_s", "instance_time_sum_s", "workers", "error_reasons",
                        "interrupted"}) {
    summary.erase(k);
  }
  return summary;
}

json ExpectedSummary(const std::string& outcome) {
  const std::string id = "r2e-demo__textstats-swebench-1";
  json s = {{"total_instances", 1},
            {"submitted_instances", 1},
            {"completed_instances", 0},
            {"resolved_instances", 0},
            {"unresolved_instances", 0},
            {"empty_patch_instances", 0},
            {"error_instances", 0},
            {"completed_ids", json::array()},
            {"incomplete_ids", json::array()},
            {"empty_patch_ids", json::array()},
            {"submitted_ids", {id}},
            {"resolved_ids", json::array()},
            {"unresolved_ids", json::array()},
            {"error_ids", json::array()},
            {"schema_version", 2}};
  if (outcome == "resolved" || outcome == "unresolved") {
    s["completed_instances"] = 1;
    s["completed_ids"] = {id};
    s[outcome + "_instances"] = 1;
    s[outcome + "_ids"] = {id};
  } else if (outcome == "empty") {
    s["empty_patch_instances"] = 1;
    s["empty_patch_ids"] = {id};
  } else {
    s["error_instances"] = 1;
    s["error_ids"] = {id};
  }
  return s;
}

TEST_F(EvalE2ETest, GoldEmptyWrongGiveResolvedEmptyUnresolved) {
  REQUIRE_EVAL(kSweBenchImage);
  const fs::path dataset = kTasks / "demo-swebench.jsonl";
  struct Case {
    const char* file;
    const char* model;
    const char* outcome;
  };
  for (const Case& c : {Case{"gold.jsonl", "fixture-gold", "resolved"},
                        Case{"empty.jsonl", "fixture-empty", "empty"},
                        Case{"wrong.jsonl", "fixture-wrong", "unresolved"},
                        Case{"bad-apply.jsonl", "fixture-bad-apply", "error"}}) {
    SCOPED_TRACE(c.file);
    json summary = Run(Args(dataset, (kFixtures / c.file).string(), "fixtures"), 0, c.model);
    ASSERT_TRUE(summary.is_object());
    EXPECT_EQ(HarnessPart(summary), ExpectedSummary(c.outcome)) << summary.dump(2);
    const fs::path inst =
        InstanceDir(dir_ / "logs", "fixtures", c.model, "r2e-demo__textstats-swebench-1");
    if (std::string(c.outcome) == "empty") {
      EXPECT_FALSE(fs::exists(inst));
      continue;
    }
    for (const char* f : {"patch.diff", "run_instance.log"}) EXPECT_TRUE(fs::exists(inst / f)) << f;
    if (std::string(c.outcome) == "error") {
      EXPECT_FALSE(fs::exists(inst / "report.json"));
      EXPECT_NE(summary["error_reasons"].dump().find("Patch Apply Failed"), std::string::npos);
      continue;
    }
    for (const char* f : {"report.json", "test_output.txt", "eval.sh"}) {
      EXPECT_TRUE(fs::exists(inst / f)) << f;
    }
    json report = json::parse(ReadAll(inst / "report.json"));
    const json& r = report["r2e-demo__textstats-swebench-1"];
    EXPECT_EQ(r["patch_successfully_applied"], true);
    EXPECT_EQ(r["resolved"], std::string(c.outcome) == "resolved");
    if (std::string(c.outcome) == "unresolved") {
      EXPECT_EQ(r["tests_status"]["FAIL_TO_PASS"]["failure"].size(), 2u);
    }
  }
  // The gold run also wrote the harness's summary file.
  EXPECT_TRUE(fs::exists(dir_ / "logs" / "fixtures" / "fixture-gold.fixtures.json"));
}

TEST_F(EvalE2ETest, GoldResolvesInEveryFlavour) {
  for (const char* image :
       {"r2e-demo/textstats:latest", "r2e-demo/textstats-swesmith:latest", kSweBenchImage}) {
    REQUIRE_EVAL(image);
  }
  for (const char* file : {"demo.jsonl", "demo-swesmith.jsonl", "demo-swebench.jsonl"}) {
    SCOPED_TRACE(file);
    json s = Run(Args(kTasks / file, "gold", std::string("flavour-") + file), 0, file);
    ASSERT_TRUE(s.is_object());
    EXPECT_EQ(s["resolved_instances"], 1) << s.dump(2);
    EXPECT_EQ(s["error_instances"], 0) << s.dump(2);
  }
}

// The multilingual demo tasks (scripts/build-multilingual-images.sh: Go,
// Rust, JavaScript, Ruby, PHP; SWE-bench 5.x rows with their own eval_script
// and log_parser): every gold patch resolves; a patch that changes nothing the
// tests see runs the tests and leaves exactly FAIL_TO_PASS failing and
// PASS_TO_PASS passing, so each language's runner ran and its parser read
// every test; an empty patch is reported empty.
TEST_F(EvalE2ETest, MultilingualGoldResolvesAndANonFixDoesNot) {
  const fs::path dataset = kTasks / "demo-multilingual.jsonl";
  std::vector<json> rows;
  {
    std::ifstream in(dataset);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) rows.push_back(json::parse(line));
    }
  }
  ASSERT_EQ(rows.size(), 5u);
  for (const json& row : rows) REQUIRE_EVAL(row["image_name"].get<std::string>());

  std::ofstream nonfix(dir_ / "nonfix.jsonl");
  std::ofstream empty(dir_ / "empty.jsonl");
  for (const json& row : rows) {
    const std::string notes =
        "diff --git a/NOTES.md b/NOTES.md\nnew file mode 100644\nindex 0000000..e69de29\n"
        "--- /dev/null\n+++ b/NOTES.md\n@@ -0,0 +1 @@\n+Looked at this; no fix yet.\n";
    nonfix << json{{"instance_id", row["instance_id"]},
                   {"model_name_or_path", "nonfix"},
                   {"model_patch", notes}}
                  .dump()
           << "\n";
    empty << json{{"instance_id", row["instance_id"]},
                  {"model_name_or_path", "empty"},
                  {"model_patch", ""}}
                 .dump()
          << "\n";
  }
  nonfix.close();
  empty.close();

  const std::vector<std::string> two_workers = {"--workers", "2"};
  json gold = Run(Args(dataset, "gold", "ml", two_workers), 0, "ml-gold");
  ASSERT_TRUE(gold.is_object());
  EXPECT_EQ(gold["resolved_instances"], 5) << gold.dump(2) << ErrorLogs(gold, "ml");
  EXPECT_EQ(gold["error_instances"], 0) << gold.dump(2);

  json miss =
      Run(Args(dataset, (dir_ / "nonfix.jsonl").string(), "ml", two_workers), 0, "ml-nonfix");
  ASSERT_TRUE(miss.is_object());
  EXPECT_EQ(miss["unresolved_instances"], 5) << miss.dump(2);
  for (const json& row : rows) {
    const std::string id = row["instance_id"];
    SCOPED_TRACE(id + " (" + row["language"].get<std::string>() + ")");
    const fs::path inst = InstanceDir(dir_ / "logs", "ml", "nonfix", id);
    const json report = json::parse(ReadAll(inst / "report.json"), nullptr, false);
    ASSERT_TRUE(report.is_object()) << ReadAll(inst / "run_instance.log");
    const json& status = report[id]["tests_status"];
    EXPECT_EQ(status["FAIL_TO_PASS"]["failure"], row["FAIL_TO_PASS"]) << report.dump(2);
    EXPECT_EQ(status["FAIL_TO_PASS"]["success"], json::array()) << report.dump(2);
    EXPECT_EQ(status["PASS_TO_PASS"]["success"], row["PASS_TO_PASS"]) << report.dump(2);
    EXPECT_EQ(status["PASS_TO_PASS"]["failure"], json::array()) << report.dump(2);
  }

  json none = Run(Args(dataset, (dir_ / "empty.jsonl").string(), "ml"), 0, "ml-empty");
  ASSERT_TRUE(none.is_object());
  EXPECT_EQ(none["empty_patch_instances"], 5) << none.dump(2);
  EXPECT_EQ(none["resolved_instances"], 0) << none.dump(2);
}

// SWE-smith rows: a repository without a profile runs the default command
// and says so (stderr, run_instance.log, report.json); under a profiled
// repository's name the same row runs that profile's command (here the
// whole suite, as SWE-smith's harness runs it for a suite profile).
TEST_F(EvalE2ETest, SweSmithRowsRunTheirProfileOrWarn) {
  REQUIRE_EVAL("r2e-demo/textstats-swesmith:latest");
  const std::string id = "r2e-demo__textstats-swesmith-1";
  Child plain(Args(kTasks / "demo-swesmith.jsonl", "gold", "noprofile"), dir_, "noprofile");
  ASSERT_EQ(plain.Wait(), 0) << plain.err();
  EXPECT_NE(plain.err().find("warning: no SWE-smith profile for"), std::string::npos)
      << plain.err();
  const fs::path inst = InstanceDir(dir_ / "logs", "noprofile", "gold", id);
  const json report = json::parse(ReadAll(inst / "report.json"));
  EXPECT_EQ(report[id]["resolved"], true) << report.dump(2);
  ASSERT_TRUE(report[id]["warnings"].is_array()) << report.dump(2);
  EXPECT_NE(ReadAll(inst / "run_instance.log").find("warning: no SWE-smith profile"),
            std::string::npos);
  EXPECT_NE(
      ReadAll(inst / "test_output.txt")
          .find("+ pytest --disable-warnings --color=no --tb=no --verbose tests/test_stats.py\n"),
      std::string::npos);

  json row = json::parse(ReadAll(kTasks / "demo-swesmith.jsonl"));
  row["repo"] = "swesmith/mewwts__addict.75284f95";  // a suite profile
  std::ofstream(dir_ / "profiled.jsonl") << row.dump() << "\n";
  Child profiled(Args(dir_ / "profiled.jsonl", "gold", "profiled"), dir_, "profiled");
  ASSERT_EQ(profiled.Wait(), 0) << profiled.err();
  EXPECT_EQ(profiled.err().find("no SWE-smith profile"), std::string::npos) << profiled.err();
  const fs::path pinst = InstanceDir(dir_ / "logs", "profiled", "gold", id);
  const json preport = json::parse(ReadAll(pinst / "report.json"));
  EXPECT_EQ(preport[id]["resolved"], true) << preport.dump(2);
  EXPECT_FALSE(preport[id].contains("warnings"));
  EXPECT_NE(ReadAll(pinst / "test_output.txt")
                .find("+ pytest --disable-warnings --color=no --tb=no --verbose\n"),
            std::string::npos)
      << ReadAll(pinst / "test_output.txt");
}

// SWE-bench rows as the hub publishes them (no image, no kind) find the image
// under the name the harness gives one it built locally, and resolve.
TEST_F(EvalE2ETest, PublishedSweBenchRowsResolveAgainstHarnessNamedImages) {
  constexpr const char* kHarnessImage = "sweb.eval.x86_64.r2e-demo__textstats-swebench-1:latest";
  REQUIRE_EVAL(kHarnessImage);
  const fs::path dataset = kTasks / "demo-swebench-published.jsonl";
  const json row = json::parse(ReadAll(dataset));
  for (const char* field : {"docker_image", "image_name", "image", "kind"}) {
    EXPECT_FALSE(row.contains(field)) << field;
  }
  json s = Run(Args(dataset, "gold", "published", {"--image-namespace", ""}), 0, "published");
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(HarnessPart(s), ExpectedSummary("resolved")) << s.dump(2);
  const fs::path inst =
      InstanceDir(dir_ / "logs", "published", "gold", "r2e-demo__textstats-swebench-1");
  const std::string log = ReadAll(inst / "run_instance.log");
  EXPECT_NE(log.find(std::string("(swebench)")), std::string::npos) << log;
  EXPECT_NE(log.find(std::string("image ") + kHarnessImage), std::string::npos) << log;
  json report = json::parse(ReadAll(inst / "report.json"));
  EXPECT_EQ(report["r2e-demo__textstats-swebench-1"]["resolved"], true);

  // Without --image-namespace: the registry's name, which this daemon lacks.
  Child remote(Args(dataset, "gold", "remote"), dir_, "remote");
  EXPECT_EQ(remote.Wait(), 1);
  EXPECT_NE(
      remote.err().find("swebench/sweb.eval.x86_64.r2e-demo_1776_textstats-swebench-1:latest"),
      std::string::npos)
      << remote.err();
  // A kind that does not exist is bad input.
  Child bad(Args(dataset, "gold", "badkind", {"--kind", "swe-gym"}), dir_, "badkind");
  EXPECT_EQ(bad.Wait(), 2);
  EXPECT_NE(bad.err().find("--kind"), std::string::npos) << bad.err();
}

TEST_F(EvalE2ETest, BadInputAndMissingImagesAreReportedBeforeAnythingRuns) {
  REQUIRE_EVAL(kSweBenchImage);
  std::ofstream(dir_ / "bad.jsonl") << "{\"instance_id\": \"r2e-demo__textstats-swebench-1\", "
                                       "\"model_name_or_path\": \"m\", \"model_patch\": \"\"}\n"
                                       "not json\n";
  Child bad(Args(kTasks / "demo-swebench.jsonl", (dir_ / "bad.jsonl").string(), "bad"), dir_,
            "bad");
  EXPECT_EQ(bad.Wait(), 2);
  EXPECT_NE(bad.err().find((dir_ / "bad.jsonl").string() + ":2"), std::string::npos) << bad.err();

  json row = json::parse(ReadAll(kTasks / "demo-swebench.jsonl"));
  row["image_name"] = "r2e-missing/swebench-none:latest";
  std::ofstream(dir_ / "missing.jsonl") << row.dump() << "\n";
  Child missing(Args(dir_ / "missing.jsonl", "gold", "missing"), dir_, "missing");
  EXPECT_EQ(missing.Wait(), 1);
  EXPECT_NE(missing.err().find("r2e-missing/swebench-none:latest"), std::string::npos)
      << missing.err();
  EXPECT_NE(missing.err().find("--pull"), std::string::npos) << missing.err();
  EXPECT_FALSE(fs::exists(dir_ / "logs" / "missing" / "gold"));
}

std::string FirstIds(int n) {
  std::string ids;
  for (int i = 1; i <= n; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "r2e-demo__textstats-swebench-1-v%02d", i);
    ids += (ids.empty() ? "" : ",") + std::string(buf);
  }
  return ids;
}

TEST_F(EvalE2ETest, InterruptedRunResumesWithoutLeaks) {
  REQUIRE_EVAL(kSweBenchImage);
  const fs::path dataset = kTasks / "demo-swebench-20.jsonl";
  const std::vector<std::string> select = {"--workers", "2", "--instance-ids", FirstIds(8)};
  const std::string run_id = "sigint";
  {
    Child first(Args(dataset, "gold", run_id, select), dir_, "first");
    ASSERT_TRUE(WaitForReports(run_id, 1, 120s)) << first.err();
    ::kill(first.pid(), SIGINT);
    EXPECT_EQ(first.Wait(), 130) << first.err();
    EXPECT_NE(first.err().find("stopping"), std::string::npos) << first.err();
    json s = json::parse(first.out(), nullptr, false);
    ASSERT_FALSE(s.is_discarded()) << first.out();
    EXPECT_EQ(s["interrupted"], true);
    EXPECT_LT(s["completed_instances"].get<int>(), 8);
    // Every sandbox of the stopped run is gone already.
    EXPECT_TRUE(NoLeftovers(run_id));
  }
  json again = Run(Args(dataset, "gold", run_id, select), 0, "again");
  ASSERT_TRUE(again.is_object());
  EXPECT_EQ(again["resolved_instances"], 8) << again.dump(2);
  EXPECT_EQ(again["error_instances"], 0);
  EXPECT_EQ(again["interrupted"], false);
  EXPECT_NE(ReadAll(dir_ / "again.err").find("already done"), std::string::npos);
  EXPECT_TRUE(NoLeftovers(run_id));
}

TEST_F(EvalE2ETest, KilledRunResumesAndItsSandboxesAreCleanedUp) {
  REQUIRE_EVAL(kSweBenchImage);
  const fs::path dataset = kTasks / "demo-swebench-20.jsonl";
  const std::vector<std::string> select = {"--workers", "2", "--instance-ids", FirstIds(8)};
  const std::string run_id = "sigkill";
  int done_before = 0;
  {
    Child first(Args(dataset, "gold", run_id, select), dir_, "first");
    ASSERT_TRUE(WaitForReports(run_id, 1, 120s)) << first.err();
    ::kill(first.pid(), SIGKILL);
    EXPECT_EQ(first.Wait(), 128 + SIGKILL);
  }
  for (int i = 1; i <= 8; ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "r2e-demo__textstats-swebench-1-v%02d", i);
    done_before += HasInstanceReport(InstanceDir(dir_ / "logs", run_id, "gold", id), id);
  }
  EXPECT_GE(done_before, 1);
  json again = Run(Args(dataset, "gold", run_id, select), 0, "again");
  ASSERT_TRUE(again.is_object());
  EXPECT_EQ(again["resolved_instances"], 8) << again.dump(2);
  EXPECT_EQ(again["error_instances"], 0);
  // The rerun skipped what was done and removed the killed run's orphans.
  EXPECT_NE(ReadAll(dir_ / "again.err").find(std::to_string(done_before) + " already done"),
            std::string::npos)
      << ReadAll(dir_ / "again.err");
  EXPECT_TRUE(NoLeftovers(run_id));
}

TEST_F(EvalE2ETest, FourWorkersOnTwentyInstances) {
  REQUIRE_EVAL(kSweBenchImage);
  json s = Run(Args(kTasks / "demo-swebench-20.jsonl", "gold", "workers4", {"--workers", "4"}), 0,
               "workers4");
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["total_instances"], 20);
  EXPECT_EQ(s["resolved_instances"], 20) << s.dump(2) << ErrorLogs(s, "workers4");
  EXPECT_EQ(s["workers"], 4);
  const double wall = s["wall_time_s"];
  const double sum = s["instance_time_sum_s"];
  EXPECT_LT(wall, sum) << "no parallel speed-up";
  const std::string err = ReadAll(dir_ / "workers4.err");
  EXPECT_NE(err.find("wall time"), std::string::npos) << err;
  EXPECT_NE(err.find("sum of per-instance times"), std::string::npos) << err;
  std::cerr << "[ info ] 20 instances, 4 workers: wall " << wall << " s, sum of per-instance times "
            << sum << " s\n";
  EXPECT_TRUE(NoLeftovers("workers4"));
}

}  // namespace
}  // namespace r2e
