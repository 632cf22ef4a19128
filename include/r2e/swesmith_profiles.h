// SWE-smith repository profiles: how SWE-smith's harness runs and parses
// each repository's tests (its test command, log parser and quirks), as
// data. The table is src/grading/data/swesmith_profiles.json, built into the
// library; docs/swesmith-profiles.md says where each row came from and how
// to add a repository.
//
// Thread-safety: the table is built once on first use and never changes;
// every function here may be called from any thread.
#ifndef R2E_SWESMITH_PROFILES_H_
#define R2E_SWESMITH_PROFILES_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "r2e/status.h"
#include "r2e/task.h"

namespace r2e {

struct SweSmithProfile {
  // What the command is given besides the profile's test_cmd when an
  // instance is evaluated.
  enum class Selection {
    kSuite,      // nothing: the whole suite runs
    kTestFiles,  // the test files of FAIL_TO_PASS, then of PASS_TO_PASS
    kMypyK,      // `"k1 or k2"` (mypy's -k) from the FAIL_TO_PASS case names
  };
  // How a test name maps to the file that holds it.
  enum class TestFiles {
    kPytest,          // the part before the first "::"
    kPytestStripDev,  // the same without a leading "../dev/" (pytest -c /dev/null)
    kTestPy,          // always test.py
    kUnittestClass,   // "name (pkg.mod.Class)" -> pkg/mod.py
    kGo,              // Go test names are not paths
  };

  std::string key;         // "owner__repo.<commit[:8]>", the instance-id prefix
  std::string repo;        // "owner/repo"
  std::string commit;      // the mirrored commit, as the profile states it
  std::string language;    // "python" or "go"
  std::string test_cmd;    // without the conda activation the run script does
  std::string log_parser;  // a name ParseLog knows
  Selection selection = Selection::kSuite;
  TestFiles test_files = TestFiles::kPytest;
  std::chrono::seconds timeout{90};  // the harness's bound on the test run
  std::string source;                // where the row came from (keys of the file's "sources")
  std::string notes;
};

// The built-in table, sorted as in the file.
const std::vector<SweSmithProfile>& SweSmithProfiles();

// Parses a table in the file's format. InvalidArgument names the row and
// field on any error (unknown selection, parser, duplicate key, ...).
Result<std::vector<SweSmithProfile>> ParseSweSmithProfiles(std::string_view json);

// The key a task's profile is looked up by: the row's `repo` without its
// organisation ("swesmith/pandas-dev__pandas.95280573" ->
// "pandas-dev__pandas.95280573"), else the instance id up to its last '.',
// else from a SWE-smith image name ("...swesmith.x86_64.<owner>_1776_<repo>.<c8>").
// Empty when none has the shape "<owner>__<repo>.<hex>".
std::string SweSmithProfileKey(const Task& task);

// The task's profile in the built-in table, or nullptr when it has none
// (matched without regard to case, as SWE-smith's image names are
// lower-case).
const SweSmithProfile* FindSweSmithProfile(const Task& task);

}  // namespace r2e

#endif  // R2E_SWESMITH_PROFILES_H_
