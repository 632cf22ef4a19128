// The R2E grader: runs /root/run_tests.sh with the hidden tests linked into
// /testbed for this run only, parses the log as R2E-Gym does and requires
// the whole status map to match the task's expected_output_json.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "grading/r2e_keys.h"
#include "grading/test_run.h"
#include "r2e/grader.h"

namespace r2e {
namespace {

constexpr std::string_view kField = "expected_output_json";
// R2E-Gym's fallback when a row has no expected map: the file in the alt path.
constexpr std::string_view kExpectedFile = "/root/expected_test_output.json";
// Bound on the small bookkeeping commands around the test run.
constexpr std::chrono::seconds kHousekeepingTimeout{60};

// Links the hidden tests into /testbed, first moving whatever is there to
// @ASIDE@. Without /root/r2e_tests /testbed is left alone (tests may already
// be in place there).
constexpr std::string_view kLinkScript = R"SH(
if [ ! -f /root/run_tests.sh ]; then echo 'no /root/run_tests.sh'; exit 3; fi
if [ -e /root/r2e_tests ]; then
  if [ -e /testbed/r2e_tests ] || [ -L /testbed/r2e_tests ]; then
    mv /testbed/r2e_tests @ASIDE@ || exit 4
  fi
  ln -sfn /root/r2e_tests /testbed/r2e_tests || exit 5
fi
)SH";

// Removes the link (only a symlink to the hidden tests) and puts back what
// was set aside. Safe to run whether or not the link was made.
constexpr std::string_view kUnlinkScript = R"SH(
if [ -L /testbed/r2e_tests ] && [ "$(readlink /testbed/r2e_tests)" = /root/r2e_tests ]; then
  rm -f /testbed/r2e_tests
fi
if [ -e @ASIDE@ ] || [ -L @ASIDE@ ]; then
  if [ ! -e /testbed/r2e_tests ] && [ ! -L /testbed/r2e_tests ]; then
    mv @ASIDE@ /testbed/r2e_tests
  fi
fi
)SH";

std::string Substitute(std::string_view script, const std::string& aside) {
  std::string out(script);
  static constexpr std::string_view kVar = "@ASIDE@";
  for (std::size_t pos = 0; (pos = out.find(kVar, pos)) != std::string::npos; pos += aside.size()) {
    out.replace(pos, kVar.size(), aside);
  }
  return out;
}

Result<StatusMap> ParseExpected(const Task& task, std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("task " + task.instance_id + ": field " + std::string(kField) +
                                   " " + std::string(why));
  };
  if (text.empty()) return bad("is empty (want a JSON object of test name -> status)");
  // No exceptions: parse errors give a discarded value.
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad("is not valid JSON");
  if (!j.is_object()) return bad("must be a JSON object of test name -> status");
  StatusMap map;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string())
      return bad("has a non-string status for test \"" + it.key() + "\"");
    map[it.key()] = it.value().get_ref<const std::string&>();
  }
  return map;
}

nlohmann::json ToJson(const StatusMap& map) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : map) j[k] = v;
  return j;
}

// Parse + compare; `log` is what the test run printed.
GradeResult Evaluate(const Task& task, const StatusMap& expected_raw, std::string log,
                     bool timed_out) {
  GradeResult result;
  result.log = std::move(log);
  result.timed_out = timed_out;
  // R2E-Gym parses its run_tests() output, which has colours and '\r' removed.
  result.status_map = ParseR2ELog(internal::CleanR2ETestOutput(result.log));
  // A run cut short by the timeout is never a pass.
  result.resolved = !timed_out && R2EStatusMapsMatch(result.status_map, expected_raw);
  result.reward = result.resolved ? 1.0 : 0.0;

  const StatusMap parsed = internal::NormalizeR2EKeys(result.status_map);
  const StatusMap expected = internal::NormalizeR2EKeys(expected_raw);
  nlohmann::json missing = nlohmann::json::array();
  nlohmann::json unexpected = nlohmann::json::array();
  nlohmann::json mismatched = nlohmann::json::object();
  for (const auto& [k, v] : expected) {
    auto it = parsed.find(k);
    if (it == parsed.end()) {
      missing.push_back(k);
    } else if (it->second != v) {
      mismatched[k] = {{"expected", v}, {"got", it->second}};
    }
  }
  for (const auto& [k, v] : parsed) {
    if (!expected.contains(k)) unexpected.push_back(k);
  }
  result.report = nlohmann::json::object();
  result.report[task.instance_id] = {
      {"resolved", result.resolved},
      {"expected", ToJson(expected)},
      {"parsed", ToJson(parsed)},
      {"missing", std::move(missing)},
      {"mismatched", std::move(mismatched)},
      {"unexpected", std::move(unexpected)},
  };
  return result;
}

class R2EGrader final : public Grader {
 public:
  std::string_view name() const override { return "r2e"; }

  Result<GradeResult> grade(Runtime& runtime, const Task& task,
                            const GradeOptions& options) override {
    const auto start = std::chrono::steady_clock::now();
    const std::string context = "grading " + task.instance_id;

    std::string expected_text = task.expected_output_json;
    if (expected_text.empty()) {
      auto file = runtime.read_file(std::string(kExpectedFile));
      if (!file.ok()) {
        return Status::InvalidArgument(
            "task " + task.instance_id + ": field " + std::string(kField) + " is empty and " +
            std::string(kExpectedFile) + " could not be read: " + file.status().ToString());
      }
      expected_text = std::move(file).value();
    }
    R2E_ASSIGN_OR_RETURN(StatusMap expected, ParseExpected(task, expected_text));

    const std::string suffix = internal::RandomHex(8);
    // Anything the agent left at /testbed/r2e_tests waits here during the
    // run, so that it can neither stand in for the hidden tests nor get lost.
    const std::string aside = "/tmp/r2e_grade_" + suffix + ".agent_r2e_tests";

    ExecOptions small;
    small.timeout = kHousekeepingTimeout;
    const std::string link_cmd = Substitute(kLinkScript, aside);
    const std::string unlink_cmd = Substitute(kUnlinkScript, aside);

    auto linked = runtime.exec(link_cmd, small);
    if (!linked.ok()) {
      (void)runtime.exec(unlink_cmd, small);
      return linked.status().WithContext(context);
    }
    if (!linked->success()) {
      (void)runtime.exec(unlink_cmd, small);
      return Status::FailedPrecondition(
                 "could not prepare the hidden tests (exit " + std::to_string(linked->exit_code) +
                 "): " + linked->output +
                 " (R2E sandboxes keep run_tests.sh and r2e_tests under /root)")
          .WithContext(context);
    }

    internal::TestRun test;
    test.script = "/root/run_tests.sh";
    test.log_file = "/tmp/r2e_grade_" + suffix + ".log";  // the summary sits at its very end
    test.run.timeout = options.timeout;
    test.run.workdir = "/testbed";
    test.housekeeping = small;
    // Always unlink, whatever happened to the run.
    Status unlinked;
    test.after_run = [&] { unlinked = runtime.exec(unlink_cmd, small).status(); };
    auto ran = internal::RunTests(runtime, test);
    if (!ran.ok()) return ran.status().WithContext(context);
    if (!unlinked.ok()) {
      return unlinked.WithContext(context + ": removing the hidden tests link");
    }

    GradeResult result = Evaluate(task, expected, std::move(ran->output), ran->timed_out);
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return result;
  }

  Result<GradeResult> grade_log(const Task& task, std::string_view log) const override {
    R2E_ASSIGN_OR_RETURN(StatusMap expected, ParseExpected(task, task.expected_output_json));
    return Evaluate(task, expected, std::string(log), /*timed_out=*/false);
  }
};

}  // namespace

std::unique_ptr<Grader> MakeR2EGrader() { return std::make_unique<R2EGrader>(); }

Result<std::unique_ptr<Grader>> MakeGrader(TaskKind kind, std::optional<GradingRules> rules) {
  switch (kind) {
    case TaskKind::kR2E:
      return MakeR2EGrader();
    case TaskKind::kSweBench:
      return MakeSweBenchGrader(rules);
    case TaskKind::kSweSmith:
      return MakeSweSmithGrader();
  }
  return Status::InvalidArgument("unknown task kind " + std::to_string(static_cast<int>(kind)));
}

}  // namespace r2e
