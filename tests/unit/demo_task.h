// The demo task the tests share: the first row of examples/tasks/demo.jsonl.
#ifndef R2E_TESTS_UNIT_DEMO_TASK_H_
#define R2E_TESTS_UNIT_DEMO_TASK_H_

#include <gtest/gtest.h>

#include <string>

#include "r2e/task.h"

namespace r2e::test_util {

// The demo task; a failure to load it fails the calling test.
inline Task DemoTask() {
  auto tasks = LoadTasks(std::string(R2E_SOURCE_DIR) + "/examples/tasks/demo.jsonl");
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  return tasks.ok() ? tasks->front() : Task{};
}

}  // namespace r2e::test_util

#endif  // R2E_TESTS_UNIT_DEMO_TASK_H_
