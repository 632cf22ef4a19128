// Rows as the hubs publish them: the kind from the row's fields, the image
// named as each harness names it, and the errors for rows neither decides.
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/row_kind.h"
#include "r2e/task.h"

namespace r2e {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace fs = std::filesystem;

// A SWE-bench Lite row as published: no image, no kind; lists as JSON strings.
json SweBenchLiteRow() {
  return json{
      {"repo", "django/django"},
      {"instance_id", "django__django-11099"},
      {"base_commit", "d26b2424437dabeeca94d7900b37d2df4410da0c"},
      {"patch", "diff --git a/django/contrib/auth/validators.py b/django/contrib/auth/validators.py\n"},
      {"test_patch", "diff --git a/tests/auth_tests/test_validators.py b/tests/auth_tests/test_validators.py\n"},
      {"problem_statement", "UsernameValidator allows trailing newline in usernames"},
      {"hints_text", ""},
      {"created_at", "2019-03-20T03:46:18Z"},
      {"version", "3.0"},
      {"FAIL_TO_PASS", "[\"test_ascii_validator (auth_tests.test_validators.UsernameValidatorsTests)\"]"},
      {"PASS_TO_PASS", "[]"},
      {"environment_setup_commit", "419a78300f7cd27611196e1e464d50fd0385ff27"},
  };
}

// A SWE-bench 5.x row: its own image and eval script.
json SweBench5Row() {
  json row = SweBenchLiteRow();
  row.erase("test_patch");
  row.erase("version");
  row["image"] = "swebench/sweb.eval.x86_64.django_1776_django-11099:v5";
  row["eval_script"] = "#!/bin/bash\nset -uxo pipefail\n";
  row["log_parser"] = "parse_log_django";
  row["eval_type"] = "pass_and_fail";
  return row;
}

// A SWE-smith row as published (fields of the dataset's rows).
json SweSmithRow() {
  return json{
      {"instance_id", "pandas-dev__pandas.95280573.pr_53652"},
      {"repo", "swesmith/pandas-dev__pandas.95280573"},
      {"patch", "diff --git a/x b/x\n"},
      {"FAIL_TO_PASS", json::array({"pandas/tests/test_x.py::test_a"})},
      {"PASS_TO_PASS", json::array()},
      {"created_at", "2025-03-15T05:48:55.041513"},
      {"image_name", "swesmith.x86_64.pandas-dev__pandas.95280573"},
      {"base_commit", "d1c5199b6a9d7ae9382d26ee2859b837107165e7"},
      {"problem_statement", "..."},
  };
}

Task Parse(const json& row, const TaskParseOptions& options = {}) {
  Result<Task> task = ParseTask(row, options);
  EXPECT_TRUE(task.ok()) << task.status().ToString();
  return task.ok() ? *task : Task{};
}

TaskParseOptions Namespace(std::string ns) {
  TaskParseOptions o;
  o.swebench_namespace = std::move(ns);
  return o;
}

// --- SWE-bench ---

TEST(RowKindTest, SweBenchRowAsPublishedGetsTheHarnessImage) {
  Task task = Parse(SweBenchLiteRow());
  EXPECT_EQ(task.kind, TaskKind::kSweBench);
  // v4.1.0: namespace/sweb.eval.<arch>.<id lowercased>:<tag>, "__" as "_1776_".
  EXPECT_EQ(task.image, "swebench/sweb.eval.x86_64.django_1776_django-11099:latest");
  EXPECT_EQ(task.fail_to_pass.size(), 1u);
}

TEST(RowKindTest, NoNamespaceNamesTheLocallyBuiltImage) {
  for (const char* ns : {"", "none", "NULL", "None"}) {
    SCOPED_TRACE(ns);
    EXPECT_EQ(Parse(SweBenchLiteRow(), Namespace(ns)).image,
              "sweb.eval.x86_64.django__django-11099:latest");
  }
}

TEST(RowKindTest, TagArchAndNamespaceOptions) {
  TaskParseOptions o = Namespace("ghcr.io/acme");
  o.instance_image_tag = "v1.2";
  o.image_arch = "arm64";
  EXPECT_EQ(Parse(SweBenchLiteRow(), o).image, "ghcr.io/acme/sweb.eval.arm64.django_1776_django-11099:v1.2");
  // The harness replaces "__" over the whole name, the namespace too.
  EXPECT_EQ(Parse(SweBenchLiteRow(), Namespace("my__ns")).image,
            "my_1776_ns/sweb.eval.x86_64.django_1776_django-11099:latest");
}

TEST(RowKindTest, InstanceIdIsLoweredTheTagIsNot) {
  json row = SweBenchLiteRow();
  row["instance_id"] = "Project-MONAI__MONAI-1234";
  TaskParseOptions o = Namespace("");
  o.instance_image_tag = "Eval";
  EXPECT_EQ(Parse(row, o).image, "sweb.eval.x86_64.project-monai__monai-1234:Eval");
  EXPECT_EQ(Parse(row).image, "swebench/sweb.eval.x86_64.project-monai_1776_monai-1234:latest");
}

TEST(RowKindTest, RowsOwnImagesWinOverTheDerivedOne) {
  // 5.x: the row's `image`; detected as SWE-bench from eval_script.
  Task task = Parse(SweBench5Row());
  EXPECT_EQ(task.kind, TaskKind::kSweBench);
  EXPECT_EQ(task.image, "swebench/sweb.eval.x86_64.django_1776_django-11099:v5");
  // R2E-Gym's fields come first: docker_image, then image_name, then image.
  json row = SweBench5Row();
  row["image_name"] = "from/image_name:1";
  EXPECT_EQ(Parse(row).image, "from/image_name:1");
  row["docker_image"] = "from/docker_image:1";
  EXPECT_EQ(Parse(row).image, "from/docker_image:1");
  // The override beats them all.
  TaskParseOptions o;
  o.image_override = "mine:dev";
  Task overridden = Parse(row, o);
  EXPECT_EQ(overridden.image, "mine:dev");
  EXPECT_EQ(overridden.kind, TaskKind::kSweBench);
}

TEST(RowKindTest, ImageThatCannotBeFormedNamesTheRow) {
  json row = SweBenchLiteRow();
  row["instance_id"] = "django django/1";
  TaskParseOptions o;
  o.source = "lite.jsonl:7";
  Result<Task> task = ParseTask(row, o);
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(task.status().message(), StartsWith("lite.jsonl:7: row `django django/1`"));
  EXPECT_THAT(task.status().message(), HasSubstr("instance id"));
  EXPECT_THAT(task.status().message(), HasSubstr("docker_image"));

  o.instance_image_tag = "bad tag";
  task = ParseTask(SweBenchLiteRow(), o);
  ASSERT_FALSE(task.ok());
  EXPECT_THAT(task.status().message(), HasSubstr("`bad tag`"));

  o = Namespace("Acme/Team");
  task = ParseTask(SweBenchLiteRow(), o);
  ASSERT_FALSE(task.ok());
  EXPECT_THAT(task.status().message(), HasSubstr("namespace `Acme/Team`"));

  o = TaskParseOptions{};
  o.image_arch = "amd64";
  task = ParseTask(SweBenchLiteRow(), o);
  ASSERT_FALSE(task.ok());
  EXPECT_THAT(task.status().message(), HasSubstr("x86_64 or arm64"));

  // A row that states its image needs none of that.
  row["docker_image"] = "mine:1";
  EXPECT_EQ(Parse(row, o).image, "mine:1");
}

TEST(RowKindTest, MissingInstanceIdNamesTheRow) {
  json row = SweBenchLiteRow();
  row.erase("instance_id");
  TaskParseOptions o;
  o.source = "lite.jsonl:3";
  Result<Task> task = ParseTask(row, o);
  ASSERT_FALSE(task.ok());
  EXPECT_THAT(task.status().message(), StartsWith("lite.jsonl:3: "));
  EXPECT_THAT(task.status().message(), HasSubstr("instance_id"));
}

// --- SWE-smith ---

TEST(RowKindTest, SweSmithRowAsPublished) {
  Task task = Parse(SweSmithRow());
  EXPECT_EQ(task.kind, TaskKind::kSweSmith);
  EXPECT_EQ(task.image, "jyangballin/swesmith.x86_64.pandas-dev_1776_pandas.95280573:latest");
  TaskParseOptions off;
  off.swesmith_image_map = false;
  EXPECT_EQ(Parse(SweSmithRow(), off).image, "swesmith.x86_64.pandas-dev__pandas.95280573");
}

TEST(RowKindTest, SweSmithImageDerivedFromRepoOrInstanceId) {
  TaskParseOptions off;
  off.swesmith_image_map = false;
  json row = SweSmithRow();
  row.erase("image_name");
  EXPECT_EQ(Parse(row, off).image, "swesmith.x86_64.pandas-dev__pandas.95280573");
  EXPECT_EQ(Parse(row).image, "jyangballin/swesmith.x86_64.pandas-dev_1776_pandas.95280573:latest");
  // From the instance id alone; SWE-smith lowercases the repository.
  json bare = {{"instance_id", "Suor__funcy.207a7810.func_pm_remove_cond__x1"},
               {"FAIL_TO_PASS", json::array({"tests/test_x.py::test_a"})}};
  Task task = Parse(bare, off);
  EXPECT_EQ(task.kind, TaskKind::kSweSmith);
  EXPECT_EQ(task.image, "swesmith.x86_64.suor__funcy.207a7810");
}

TEST(RowKindTest, SweSmithInstanceIdShape) {
  EXPECT_EQ(internal::SweSmithRepoAtCommit("gin-gonic__gin.3c12d2a8.lm_rewrite__4pb48n1g"),
            "gin-gonic__gin.3c12d2a8");
  EXPECT_EQ(internal::SweSmithRepoAtCommit("getmoto__moto.694ce1f4.pr_7331"), "getmoto__moto.694ce1f4");
  // Repository names may hold dots.
  EXPECT_EQ(internal::SweSmithRepoAtCommit("owner__name.js.0123abcd.combine_file__z"),
            "owner__name.js.0123abcd");
  for (const char* id : {"django__django-11099", "r2e-demo__textstats-swesmith-1",
                         "pandas-dev__pandas.9528057.pr_1", "pandas.95280573.pr_1",
                         "a__b.95280573", "a__b.9528057G.pr_1"}) {
    EXPECT_EQ(internal::SweSmithRepoAtCommit(id), "") << id;
  }
}

TEST(RowKindTest, SweSmithImageThatCannotBeFormedNamesTheRow) {
  json row = {{"instance_id", "my-task-1"}, {"kind", "swesmith"}, {"repo", "me/mine"}};
  TaskParseOptions o;
  o.source = "smith.jsonl:2";
  Result<Task> task = ParseTask(row, o);
  ASSERT_FALSE(task.ok());
  EXPECT_THAT(task.status().message(), StartsWith("smith.jsonl:2: row `my-task-1`"));
  EXPECT_THAT(task.status().message(), HasSubstr("SWE-smith"));
}

TEST(RowKindTest, SweSmithFixtureRowDerivesItsOwnImageName) {
  const fs::path path =
      fs::path(R2E_SHARED_DIR) / "fixtures" / "swesmith" / "pandas-dev__pandas.95280573.pr_53652.json";
  if (!fs::exists(path)) GTEST_SKIP() << "no golden data at " << path;
  json row = json::parse(std::ifstream(path));
  const std::string published = row.at("image_name");
  Task task = Parse(row);
  EXPECT_EQ(task.kind, TaskKind::kSweSmith);
  EXPECT_EQ(task.image, "jyangballin/swesmith.x86_64.pandas-dev_1776_pandas.95280573:latest");
  // Without image_name, the name SWE-smith's get_image_name gave the row.
  row.erase("image_name");
  TaskParseOptions off;
  off.swesmith_image_map = false;
  EXPECT_EQ(Parse(row, off).image, published);
}

// --- R2E, precedence, undecided ---

TEST(RowKindTest, R2eFromItsFields) {
  for (const char* field : {"expected_output_json", "parsed_commit", "parsed_commit_content"}) {
    json row = {{"instance_id", "r-1"}, {"docker_image", "namanjain12/orange3_final:abc"}, {field, "{}"}};
    EXPECT_EQ(Parse(row).kind, TaskKind::kR2E) << field;
  }
}

TEST(RowKindTest, FieldsBeatTheImageNameAndKindBeatsFields) {
  // The symptom of the issue: a harness-named image, an R2E-looking row
  // otherwise would be SWE-bench by name; SWE-bench fields with a neutral image.
  json row = SweBenchLiteRow();
  row["docker_image"] = "mirror.local/django-11099:1";
  EXPECT_EQ(Parse(row).kind, TaskKind::kSweBench);
  // An image name is the last resort.
  json bare = {{"instance_id", "x-1"}, {"image_name", "sweb.eval.x86_64.x-1:latest"}};
  EXPECT_EQ(Parse(bare).kind, TaskKind::kSweBench);
  bare["image_name"] = "jyangballin/swesmith.x86_64.a_1776_b.12345678:latest";
  EXPECT_EQ(Parse(bare).kind, TaskKind::kSweSmith);
  // A row's kind beats its fields; the option beats the row's kind.
  row["kind"] = "swesmith";
  EXPECT_EQ(Parse(row).kind, TaskKind::kSweSmith);
  TaskParseOptions o;
  o.kind = TaskKind::kR2E;
  EXPECT_EQ(Parse(row, o).kind, TaskKind::kR2E);
}

TEST(RowKindTest, UndecidedKindNamesWhatWasLookedFor) {
  json row = {{"instance_id", "mystery-1"}, {"docker_image", "acme/repo:1"}, {"patch", "x"}};
  TaskParseOptions o;
  o.source = "rows.jsonl:5";
  Result<Task> task = ParseTask(row, o);
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().code(), StatusCode::kInvalidArgument);
  const std::string m = task.status().message();
  EXPECT_THAT(m, StartsWith("rows.jsonl:5: cannot tell the kind of row `mystery-1`"));
  for (const char* field : {"`FAIL_TO_PASS`", "`test_patch`", "`version`", "`eval_script`",
                            "`expected_output_json`", "`parsed_commit`", "<owner>__<repo>",
                            "`kind`", "--kind"}) {
    EXPECT_THAT(m, HasSubstr(field));
  }
  // FAIL_TO_PASS alone says neither SWE-bench nor SWE-smith.
  row["FAIL_TO_PASS"] = json::array({"t"});
  EXPECT_FALSE(ParseTask(row, o).ok());
}

}  // namespace
}  // namespace r2e
