// SWE-bench evaluation scripts (r2e/swebench.h): r2e's scripts equal, byte for
// byte, the ones the harness's own code writes (tests/data/
// swebench_eval_scripts, see its README.md) under every rule set; the specs
// table; the options; the 5.x wrapping of a row's eval_script; the test-file
// reset run with bash and git (v4.1.0 lets a prediction's file at a
// test-patch path break the test patch, #539's reset does not).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "r2e/swebench.h"
#include "r2e/task.h"
#include "swebench_test_util.h"
#include "test_files.h"
#include "swebench_grading_test_util.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Names = std::vector<std::string>;

const fs::path kGoldens = fs::path(R2E_SOURCE_DIR) / "tests" / "data" / "swebench_eval_scripts";
using swebench_grading_test_util::kClassic;
using swebench_grading_test_util::kV5;

using test_util::ReadFile;

std::vector<Task> GoldenTasks() {
  TaskParseOptions parse;
  parse.kind = TaskKind::kSweBench;
  parse.image_override = "unused";  // the scripts do not depend on the image
  auto tasks = LoadTasks(kGoldens / "instances.jsonl", parse);
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  return tasks.ok() ? *tasks : std::vector<Task>{};
}

// Where two scripts first differ, for a readable failure.
std::string FirstDifference(const std::string& got, const std::string& want) {
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  const std::size_t line_start = want.rfind('\n', i == 0 ? 0 : i - 1);
  const std::size_t from = line_start == std::string::npos ? 0 : line_start + 1;
  return "first difference at byte " + std::to_string(i) +
         "\n  want: " + want.substr(from, want.find('\n', i) - from) +
         "\n  got:  " + got.substr(from, got.find('\n', i) - from);
}

// Compares `script` with tests/data/swebench_eval_scripts/<folder>/<id>.sh;
// false when there is no such golden.
bool ExpectGolden(const std::string& folder, const Task& task, const Result<std::string>& script) {
  const fs::path golden = kGoldens / folder / (task.instance_id + ".sh");
  if (!fs::exists(golden)) return false;
  const std::string want = ReadFile(golden);
  EXPECT_TRUE(script.ok()) << folder << "/" << task.instance_id << ": "
                           << script.status().ToString();
  if (script.ok()) {
    EXPECT_TRUE(*script == want) << folder << "/" << task.instance_id << ": "
                                 << FirstDifference(*script, want);
  }
  return true;
}

TEST(SweBenchEvalScriptGolden, ClassicIsHarnessV410) {
  const std::vector<Task> tasks = GoldenTasks();
  ASSERT_EQ(tasks.size(), 34u);
  for (const Task& task : tasks) {
    EXPECT_TRUE(ExpectGolden("v4.1.0", task, MakeSweBenchEvalScript(task, kClassic)))
        << "no golden for " << task.instance_id;
  }
}

TEST(SweBenchEvalScriptGolden, RowScriptWrappedAsV501) {
  int compared = 0;
  for (Task task : GoldenTasks()) {
    // The v4.1.0 script as the row's own eval_script, as 5.x rows carry it.
    task.eval_script = ReadFile(kGoldens / "v4.1.0" / (task.instance_id + ".sh"));
    ASSERT_FALSE(task.eval_script.empty());
    compared += ExpectGolden("v5.0.1-row", task, SweBenchEvalScriptFor(task, kV5));
    ExpectGolden("v5.0.1-row", task, SweBenchWrapEvalScript(task.eval_script));
    // Classic rules ignore the row's script: v4.1.0 regenerates it.
    ExpectGolden("v4.1.0", task, SweBenchEvalScriptFor(task, kClassic));
  }
  EXPECT_EQ(compared, 34);
}

TEST(SweBenchEvalScriptGolden, V5GeneratedIsTheLaterGeneratorWrapped) {
  int compared = 0;
  for (const Task& task : GoldenTasks()) {
    compared += ExpectGolden("v5-generated", task, MakeSweBenchEvalScript(task, kV5));
    ExpectGolden("v5-generated", task, SweBenchEvalScriptFor(task, kV5));  // no eval_script
  }
  EXPECT_EQ(compared, 33);  // all but gson, whose specs changed later
}

TEST(SweBenchEvalScriptGolden, RemoveCreatedTestFilesOption) {
  SweBenchEvalScriptOptions options;
  options.remove_created_test_files = true;
  int compared = 0;
  for (const Task& task : GoldenTasks()) {
    compared +=
        ExpectGolden("remove-created", task, MakeSweBenchEvalScript(task, kClassic, options));
  }
  EXPECT_EQ(compared, 33);
}

// ---------------------------------------------------------------------------
// The specs table and the options

TEST(SweBenchSpecs, TableHoldsTheHarnessValues) {
  const SweBenchSpec* django = FindSweBenchSpec("django/django", "2.2");
  ASSERT_NE(django, nullptr);
  EXPECT_EQ(django->language, "py");
  EXPECT_EQ(django->test_cmd,
            (Names{"./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1"}));
  EXPECT_EQ(django->install, "python setup.py install");
  EXPECT_EQ(django->eval_commands.size(), 4u);
  const SweBenchSpec* redis = FindSweBenchSpec("redis/redis", "13115");
  ASSERT_NE(redis, nullptr);
  EXPECT_EQ(redis->language, "c");
  EXPECT_EQ(redis->build, (Names{"make distclean", "make"}));
  EXPECT_FALSE(redis->install.has_value());  // not in the eval script for C
  EXPECT_EQ(FindSweBenchSpec("django/django", "9.9"), nullptr);
  EXPECT_EQ(FindSweBenchSpec("r2e-demo/textstats", "0.1"), nullptr);
  EXPECT_TRUE(SweBenchSpecsHaveRepo("sympy/sympy"));
  EXPECT_FALSE(SweBenchSpecsHaveRepo("r2e-demo/textstats"));
  // Every repository of the harness's specs is there.
  int repos = 0;
  for (const char* repo : {"astropy/astropy",
                           "dbt-labs/dbt-core",
                           "django/django",
                           "matplotlib/matplotlib",
                           "marshmallow-code/marshmallow",
                           "mwaskom/seaborn",
                           "pallets/flask",
                           "psf/requests",
                           "pvlib/pvlib-python",
                           "pydata/xarray",
                           "pydicom/pydicom",
                           "pylint-dev/astroid",
                           "pylint-dev/pylint",
                           "pytest-dev/pytest",
                           "pyvista/pyvista",
                           "scikit-learn/scikit-learn",
                           "sphinx-doc/sphinx",
                           "sqlfluff/sqlfluff",
                           "swe-bench/humaneval",
                           "sympy/sympy",
                           "Automattic/wp-calypso",
                           "tokio-rs/axum",
                           "apache/lucene"}) {
    repos += SweBenchSpecsHaveRepo(repo);
  }
  EXPECT_EQ(repos, 23);
}

Task Row(std::string repo, std::string version) {
  Task task;
  task.instance_id = "owner__repo-1";
  task.kind = TaskKind::kSweBench;
  task.repo = std::move(repo);
  task.version = std::move(version);
  task.base_commit = "abc123";
  task.test_patch =
      "diff --git a/tests/test_a.py b/tests/test_a.py\n--- a/tests/test_a.py\n"
      "+++ b/tests/test_a.py\n@@ -1 +1 @@\n-x\n+y\n";
  task.fail_to_pass = {"tests/test_a.py::t"};
  return task;
}

TEST(SweBenchEvalScript, VersionsTheSpecsLackAreErrors) {
  auto unknown = MakeSweBenchEvalScript(Row("django/django", "9.9"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("\"9.9\" of django/django"), std::string::npos)
      << unknown.status().ToString();
  EXPECT_NE(unknown.status().message().find("eval_script"), std::string::npos);
  // dbt-core has specs but no test command in v4.1.0.
  auto dbt = MakeSweBenchEvalScript(Row("dbt-labs/dbt-core", "0.13"));
  ASSERT_FALSE(dbt.ok());
  EXPECT_NE(dbt.status().message().find("no test command"), std::string::npos);
  // A test command of one's own makes a script for either.
  SweBenchEvalScriptOptions options;
  options.test_command = "python -m pytest -rA";
  auto own = MakeSweBenchEvalScript(Row("django/django", "9.9"), kClassic, options);
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_NE(own->find("\npython -m pytest -rA test_a\n"), std::string::npos) << *own;
  // Under v5 a row's own eval_script needs no specs at all.
  Task row = Row("django/django", "9.9");
  row.eval_script =
      "#!/bin/bash\nset -uxo pipefail\n: '>>>>> Start Test Output'\nmake test\n"
      ": '>>>>> End Test Output'\n";
  auto v5 = SweBenchEvalScriptFor(row, kV5);
  ASSERT_TRUE(v5.ok());
  EXPECT_EQ(*v5,
            "#!/bin/bash\nset -uxo pipefail\n: '>>>>> Start Test Output'\nmake test\n"
            "SWEBENCH_TEST_EXIT_CODE=$?\n: '>>>>> End Test Output'\n"
            "echo \">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE\"\n");
  EXPECT_FALSE(SweBenchEvalScriptFor(row, kClassic).ok());
}

TEST(SweBenchEvalScript, UnknownRepositoriesGetPytest) {
  auto script = MakeSweBenchEvalScript(Row("r2e-demo/textstats", "0.1"));
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  EXPECT_EQ(*script,
            "#!/bin/bash\nset -uxo pipefail\nsource /opt/miniconda3/bin/activate\n"
            "conda activate testbed\ncd /testbed\n"
            "git config --global --add safe.directory /testbed\ncd /testbed\ngit status\n"
            "git show\ngit -c core.fileMode=false diff abc123\n"
            "source /opt/miniconda3/bin/activate\nconda activate testbed\n"
            "git checkout abc123 tests/test_a.py\n"
            "git apply -v - <<'EOF_114329324912'\n"
            "diff --git a/tests/test_a.py b/tests/test_a.py\n--- a/tests/test_a.py\n"
            "+++ b/tests/test_a.py\n@@ -1 +1 @@\n-x\n+y\n\nEOF_114329324912\n"
            ": '>>>>> Start Test Output'\npytest -rA tests/test_a.py\n"
            ": '>>>>> End Test Output'\ngit checkout abc123 tests/test_a.py\n");
}

TEST(SweBenchEvalScript, Options) {
  SweBenchEvalScriptOptions options;
  options.guard_conda_activation = true;
  options.install = "";
  options.env_name = "py311";
  options.repo_directory = "/work";
  auto script = MakeSweBenchEvalScript(Row("psf/requests", "2.4"), kClassic, options);
  ASSERT_TRUE(script.ok());
  const std::string guarded =
      "if [ -f /opt/miniconda3/bin/activate ]; then source /opt/miniconda3/bin/activate && "
      "conda activate py311; fi\n";
  EXPECT_TRUE(script->starts_with("#!/bin/bash\nset -uxo pipefail\n" + guarded + "cd /work\n"))
      << *script;
  EXPECT_NE(script->find("diff abc123\n" + guarded + "git checkout abc123"), std::string::npos)
      << *script;
  EXPECT_EQ(script->find("pip install"), std::string::npos);  // install: "" drops it
  // Without the override requests reinstalls as a copy, as the harness does.
  auto plain = MakeSweBenchEvalScript(Row("psf/requests", "2.4"));
  ASSERT_TRUE(plain.ok());
  EXPECT_NE(plain->find("conda activate testbed\npython -m pip install .\ngit checkout abc123"),
            std::string::npos)
      << *plain;
  // Off explicitly under v5: the v4.1.0 reset, wrapped.
  SweBenchEvalScriptOptions keep;
  keep.remove_created_test_files = false;
  Task created = Row("psf/requests", "2.4");
  created.test_patch =
      "diff --git a/t/test_n.py b/t/test_n.py\nnew file mode 100644\n--- /dev/null\n"
      "+++ b/t/test_n.py\n@@ -0,0 +1 @@\n+x\n";
  auto v5 = MakeSweBenchEvalScript(created, kV5, keep);
  ASSERT_TRUE(v5.ok());
  EXPECT_NE(v5->find("\ngit checkout abc123 \ngit apply"), std::string::npos) << *v5;
  EXPECT_EQ(v5->find("rm -f"), std::string::npos);
  auto v5_default = MakeSweBenchEvalScript(created, kV5);
  ASSERT_TRUE(v5_default.ok());
  EXPECT_NE(v5_default->find("\nrm -f t/test_n.py\ngit apply"), std::string::npos) << *v5_default;
  EXPECT_EQ(v5_default->find("git checkout abc123"), std::string::npos);
}

TEST(SweBenchEvalScript, BadImageAssetsAreErrors) {
  Task task = Row("processing/p5.js", "1.5");
  task.row = json{{"image_assets", "{not json"}};
  auto bad = MakeSweBenchEvalScript(task);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("image_assets"), std::string::npos);
  task.row = json{{"image_assets", {{"test_patch", {{{"path", "a.png"}}}}}}};
  EXPECT_FALSE(MakeSweBenchEvalScript(task).ok());  // no url
  task.row = json{{"image_assets", {{"test_patch", {{{"path", "a.png"}, {"url", "u"}}}}}}};
  auto ok = MakeSweBenchEvalScript(task);
  ASSERT_TRUE(ok.ok());
  EXPECT_NE(ok->find("\nmkdir -p .\ncurl -o a.png u\nchmod 777 a.png\ngit apply --verbose"),
            std::string::npos)
      << *ok;
}

TEST(SweBenchEvalScript, WrapAsParseEvalScriptAndRecordTestExitCode) {
  // (Expected texts: v5.0.1's own functions on the same inputs.) Surrounding
  // whitespace goes, header lines go wherever they are, the first End-marker
  // line is wrapped, and a script without one is kept.
  EXPECT_EQ(SweBenchWrapEvalScript("\n  #!/bin/bash\nset -uxo pipefail\nrun\n"
                                   "set -uxo pipefail\n: '>>>>> End Test Output'\n"
                                   "x >>>>> End Test Output\n \t\n"),
            "#!/bin/bash\nset -uxo pipefail\nrun\n"
            "SWEBENCH_TEST_EXIT_CODE=$?\n: '>>>>> End Test Output'\n"
            "echo \">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE\"\n"
            "x >>>>> End Test Output\n");
  EXPECT_EQ(SweBenchWrapEvalScript("make test"), "#!/bin/bash\nset -uxo pipefail\nmake test\n");
  EXPECT_EQ(SweBenchWrapEvalScript("a\n  #!/bin/bash\nb"),
            "#!/bin/bash\nset -uxo pipefail\na\n  #!/bin/bash\nb\n");
  EXPECT_EQ(SweBenchWrapEvalScript(""), "#!/bin/bash\nset -uxo pipefail\n\n");
  // '\r' stays in its line (split on '\n' only); the header must match exactly.
  EXPECT_EQ(SweBenchWrapEvalScript("#!/bin/bash\r\nrun\r\n"),
            "#!/bin/bash\nset -uxo pipefail\n#!/bin/bash\r\nrun\n");
}

// ---------------------------------------------------------------------------
// Test patches: files and directives

// Modifies tests/test_basic.py and docs/changes.md, creates tests/test_new.py,
// a JSON fixture, a CSV and a binary PNG (header-only section).
constexpr char kFlaskTestPatch[] = R"(diff --git a/tests/test_basic.py b/tests/test_basic.py
index 1111111..2222222 100644
--- a/tests/test_basic.py
+++ b/tests/test_basic.py
@@ -1,3 +1,4 @@
 import flask
+import pytest
 
 def test_x():
diff --git a/docs/changes.md b/docs/changes.md
index 3333333..4444444 100644
--- a/docs/changes.md
+++ b/docs/changes.md
@@ -1 +1,2 @@
 # Changes
+- fixed
diff --git a/tests/test_new.py b/tests/test_new.py
new file mode 100644
index 0000000..5555555
--- /dev/null
+++ b/tests/test_new.py
@@ -0,0 +1,2 @@
+def test_new():
+    assert True
diff --git a/tests/data/fixture.json b/tests/data/fixture.json
new file mode 100644
index 0000000..6666666
--- /dev/null
+++ b/tests/data/fixture.json
@@ -0,0 +1 @@
+{}
diff --git a/tests/data/table.csv b/tests/data/table.csv
index 7777777..8888888 100644
--- a/tests/data/table.csv
+++ b/tests/data/table.csv
@@ -1 +1 @@
-a,b
+a,c
diff --git a/tests/static/logo.png b/tests/static/logo.png
new file mode 100644
index 0000000..e69de29
Binary files /dev/null and b/tests/static/logo.png differ
)";

TEST(SweBenchEvalScript, PatchFiles) {
  PatchFiles files = SweBenchPatchFiles(kFlaskTestPatch);
  EXPECT_EQ(files.modified,
            (Names{"tests/test_basic.py", "docs/changes.md", "tests/data/table.csv"}));
  EXPECT_EQ(files.created,
            (Names{"tests/test_new.py", "tests/data/fixture.json", "tests/static/logo.png"}));

  // Deleted files exist at base: they are reset like modified ones. A
  // "--- " line inside a hunk is content, not a header.
  PatchFiles more = SweBenchPatchFiles(
      "diff --git a/tests/old.py b/tests/old.py\n"
      "deleted file mode 100644\n"
      "index 1111111..0000000\n"
      "--- a/tests/old.py\n"
      "+++ /dev/null\n"
      "@@ -1,2 +0,0 @@\n"
      "--- a/not/a/header.py\n"
      "-x = 1\n"
      "diff --git a/tests/moved.py b/tests/renamed.py\n"
      "similarity index 100%\n"
      "rename from tests/moved.py\n"
      "rename to tests/renamed.py\n");
  EXPECT_EQ(more.modified, (Names{"tests/old.py", "tests/moved.py"}));
  EXPECT_TRUE(more.created.empty());
  // unidiff's PatchedFile.path: the target of a rename.
  EXPECT_EQ(more.paths, (Names{"tests/old.py", "tests/renamed.py"}));
  EXPECT_EQ(files.paths,
            (Names{"tests/test_basic.py", "docs/changes.md", "tests/test_new.py",
                   "tests/data/fixture.json", "tests/data/table.csv", "tests/static/logo.png"}));
  EXPECT_TRUE(SweBenchPatchFiles("").modified.empty());
}

TEST(SweBenchEvalScript, DirectivesDropNonTestFiles) {
  EXPECT_EQ(SweBenchTestDirectives("pallets/flask", kFlaskTestPatch),
            (Names{"tests/test_basic.py", "tests/test_new.py"}));
  std::string patch;
  for (const char* f : {"a.json", "b.png", "c.csv", "dcsv", "e.txt", "f.md", "g.jpg", "h.jpeg",
                        "i.pkl", "j.yml", "k.yaml", "l.toml", "m.py", "n.cfg", "o.gif", "p.rst"}) {
    patch += std::string("diff --git a/") + f + " b/" + f + "\n";
  }
  // "csv" has no dot in the harness's list, so "dcsv" goes too; .gif stays.
  EXPECT_EQ(SweBenchTestDirectives("pytest-dev/pytest", patch),
            (Names{"m.py", "n.cfg", "o.gif", "p.rst"}));
  // The b/ path is what follows the last " b/" of the header line.
  EXPECT_EQ(SweBenchTestDirectives("x/y", "diff --git a/old name.py b/new b/name.py\n"),
            (Names{"name.py"}));
}

constexpr char kDjangoTestPatch[] =
    R"(diff --git a/tests/admin_views/tests.py b/tests/admin_views/tests.py
index 1111111..2222222 100644
--- a/tests/admin_views/tests.py
+++ b/tests/admin_views/tests.py
@@ -1 +1,2 @@
 import os
+import sys
diff --git a/tests/admin_views/test_forms.py b/tests/admin_views/test_forms.py
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/tests/admin_views/test_forms.py
@@ -0,0 +1 @@
+from django.test import TestCase
diff --git a/tests/admin_views/fixtures/data.json b/tests/admin_views/fixtures/data.json
new file mode 100644
index 0000000..4444444
--- /dev/null
+++ b/tests/admin_views/fixtures/data.json
@@ -0,0 +1 @@
+[]
diff --git a/tests/i18n/sampleproject/locale/fr/LC_MESSAGES/django.po b/tests/i18n/sampleproject/locale/fr/LC_MESSAGES/django.po
index 5555555..6666666 100644
--- a/tests/i18n/sampleproject/locale/fr/LC_MESSAGES/django.po
+++ b/tests/i18n/sampleproject/locale/fr/LC_MESSAGES/django.po
@@ -1 +1 @@
-msgid "a"
+msgid "b"
)";

TEST(SweBenchEvalScript, DjangoDirectives) {
  EXPECT_EQ(SweBenchTestDirectives("django/django", kDjangoTestPatch),
            (Names{"admin_views.tests", "admin_views.test_forms",
                   "i18n.sampleproject.locale.fr.LC_MESSAGES.django.po"}));
  // The option keeps only django test files (SWE-bench PR #615).
  EXPECT_EQ(SweBenchTestDirectives("django/django", kDjangoTestPatch, true),
            (Names{"admin_views.tests", "admin_views.test_forms"}));
}

// ---------------------------------------------------------------------------
// The reset, run: a prediction that creates a file the test patch creates

// Runs `script` (an eval script for a repository at `repo.dir()`) with bash,
// HOME in the scratch directory (the script sets a global git option).
std::string RunEvalScript(const test_util::TempRepo& repo, const std::string& script) {
  repo.Write("eval.sh", script);
  const fs::path home = repo.dir() / "home";
  fs::create_directories(home);
  const std::string cmd = "cd " + repo.dir().string() + "/repo && HOME=" + home.string() +
                          " GIT_CONFIG_NOSYSTEM=1 bash ../eval.sh > ../out.txt 2>&1";
  (void)std::system(cmd.c_str());
  return repo.Read("out.txt");
}

TEST(SweBenchEvalScript, PredictionCreatingATestFile) {
  test_util::TempRepo repo;
  const fs::path dir = repo.dir() / "repo";
  fs::create_directories(dir);
  std::string out;
  repo.Write("repo/lib.py", "x = 1\n");
  ASSERT_EQ(repo.Bash("cd " + dir.string() + " && git init -q && git add -A && " +
                          "git -c user.email=t@t -c user.name=t commit -qm base && "
                          "git rev-parse HEAD",
                      &out),
            0)
      << out;
  Task task = Row("owner/unknown", "1.0");
  task.base_commit = out.substr(0, out.find('\n'));
  task.test_patch =
      "diff --git a/tests/test_new.py b/tests/test_new.py\nnew file mode 100644\n"
      "--- /dev/null\n+++ b/tests/test_new.py\n@@ -0,0 +1 @@\n+print('official test')\n";
  // The prediction left its own file at the test patch's path.
  fs::create_directories(dir / "tests");
  repo.Write("repo/tests/test_new.py", "print('prediction')\n");
  SweBenchEvalScriptOptions options;
  options.repo_directory = dir.string();
  options.test_command = "cat";

  // v4.1.0: nothing removes it, the test patch does not apply, and the
  // prediction's file is what runs.
  auto classic = MakeSweBenchEvalScript(task, kClassic, options);
  ASSERT_TRUE(classic.ok());
  std::string log = RunEvalScript(repo, *classic);
  EXPECT_NE(log.find("already exists in working directory"), std::string::npos) << log;
  EXPECT_NE(log.find("\nprint('prediction')\n"), std::string::npos) << log;
  EXPECT_EQ(log.find("\nprint('official test')\n"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(dir / "tests" / "test_new.py"));

  // #539's reset (v5): removed first, the official test runs, removed after.
  auto v5 = MakeSweBenchEvalScript(task, kV5, options);
  ASSERT_TRUE(v5.ok());
  log = RunEvalScript(repo, *v5);
  EXPECT_EQ(log.find("already exists"), std::string::npos) << log;
  EXPECT_NE(log.find("\nprint('official test')\n"), std::string::npos) << log;
  EXPECT_NE(log.find("\n>>>>> Test Exit Code: 0\n"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(dir / "tests" / "test_new.py"));
}

}  // namespace
}  // namespace r2e
