// Quick start: one episode on the embedded local runtime.
//
//   r2e_quickstart [tasks.jsonl]   (default: the source tree's demo task)
//
// Loads the first task, starts a sandbox, runs `ls` as the agent's tool call,
// prints what the agent sees, then grades the (unchanged) repository.
#include <cstdio>

#include "r2e/action.h"
#include "r2e/repo_env.h"
#include "r2e/task.h"

static int Fail(const char* what, const r2e::Status& status) {
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  return 1;
}

int main(int argc, char** argv) {
  auto tasks = r2e::LoadTasks(argc > 1 ? argv[1] : R2E_DEMO_TASKS);
  if (!tasks.ok()) return Fail("load", tasks.status());
  if (tasks->empty()) return Fail("load", r2e::Status::NotFound("the tasks file has no rows"));

  auto env = r2e::RepoEnv::Create(tasks->front());
  if (!env.ok()) return Fail("create", env.status());
  if (auto first = (*env)->reset(); !first.ok()) return Fail("reset", first.status());

  auto step = (*env)->step(
      r2e::ParseAction("<function=execute_bash>\n<parameter=cmd>ls</parameter>\n</function>"));
  if (!step.ok()) return Fail("step", step.status());
  std::printf("%s\n", step->observation.text.c_str());

  auto reward = (*env)->compute_reward();
  if (!reward.ok()) return Fail("compute_reward", reward.status());
  std::printf("reward: %g\n", *reward);
  if (auto closed = (*env)->close(); !closed.ok()) return Fail("close", closed);
  return 0;
}
