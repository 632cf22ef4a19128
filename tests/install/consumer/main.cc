// Uses the installed r2e: Status/Result, ParseAction and ParseTask on an
// inline row. Exits 0 when every check holds, 1 otherwise (and says which).
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "r2e/action.h"
#include "r2e/status.h"
#include "r2e/task.h"

namespace {

int failures = 0;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  // Status and Result.
  r2e::Status st = r2e::Status::NotFound("no such file");
  Check(!st.ok() && st.code() == r2e::StatusCode::kNotFound, "Status::NotFound code");
  Check(st.ToString() == "NotFound: no such file", "Status::ToString");
  Check(r2e::Status::OK().ok(), "Status::OK");
  r2e::Result<int> good = 42;
  r2e::Result<int> bad = r2e::Status::Timeout("too slow");
  Check(good.ok() && *good == 42, "Result value");
  Check(!bad.ok() && bad.status().code() == r2e::StatusCode::kTimeout, "Result error");

  // ParseAction.
  r2e::Action action = r2e::ParseAction(
      "Let me look.\n<function=execute_bash>\n<parameter=cmd>ls -la</parameter>\n</function>");
  Check(action.function_name == "execute_bash", "ParseAction function name");
  Check(action.parameter("cmd").value_or("") == "ls -la", "ParseAction parameter");
  Check(!action.is_finish(), "ParseAction is_finish for execute_bash");
  Check(r2e::ParseAction("<function=finish>\n</function>").is_finish(), "ParseAction finish");
  Check(r2e::ParseAction("no tool call here").empty(), "ParseAction without a function");

  // ParseTask: FAIL_TO_PASS as a JSON-encoded string, the kind the row states.
  nlohmann::json row = nlohmann::json::parse(R"({
    "instance_id": "demo__calc-1",
    "kind": "r2e",
    "docker_image": "example/r2e-demo:latest",
    "repo_name": "demo/calc",
    "FAIL_TO_PASS": "[\"tests/test_calc.py::test_add\"]",
    "PASS_TO_PASS": ["tests/test_calc.py::test_sub"],
    "problem_statement": "[ISSUE]add() is wrong[/ISSUE]"
  })");
  r2e::Result<r2e::Task> task = r2e::ParseTask(row);
  Check(task.ok(), "ParseTask on a good row");
  if (task.ok()) {
    Check(task->instance_id == "demo__calc-1", "Task instance_id");
    Check(task->image == "example/r2e-demo:latest", "Task image");
    Check(task->kind == r2e::TaskKind::kR2E, "Task kind");
    Check(task->fail_to_pass.size() == 1 && task->fail_to_pass[0] == "tests/test_calc.py::test_add",
          "Task FAIL_TO_PASS from a JSON-encoded string");
    Check(task->pass_to_pass.size() == 1, "Task PASS_TO_PASS from a list");
  }
  row.erase("docker_image");
  r2e::Result<r2e::Task> no_image = r2e::ParseTask(row);
  Check(!no_image.ok() && no_image.status().code() == r2e::StatusCode::kInvalidArgument,
        "ParseTask without an image is InvalidArgument");

  if (failures == 0) std::printf("install consumer: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
