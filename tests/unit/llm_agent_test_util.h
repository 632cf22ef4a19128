// Test helpers for the LlmAgent tests (llm_agent_test.cc and
// llm_agent_retry_test.cc): the demo task, a fresh RepoEnv on it, agent
// options pointing at a scripted model server (fake_model.h), and a clock.
#ifndef R2E_TESTS_UNIT_LLM_AGENT_TEST_UTIL_H_
#define R2E_TESTS_UNIT_LLM_AGENT_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "fake_model.h"
#include "r2e/llm_agent.h"
#include "r2e/repo_env.h"
#include "r2e/task.h"
#include "demo_task.h"

namespace r2e::llm_agent_test_util {

using test_util::DemoTask;

inline LlmAgentOptions Options(const testing_model::FakeModel& model) {
  using namespace std::chrono_literals;
  LlmAgentOptions o;
  o.client.base_url = model.base_url();
  o.client.model = "test-model";
  o.client.api_key = "test-key";
  o.client.initial_backoff = 10ms;
  o.client.max_backoff = 50ms;
  o.client.read_timeout = 10s;
  o.client.request_timeout = 20s;
  o.max_steps = 20;
  return o;
}

inline std::unique_ptr<RepoEnv> MakeEnv() {
  auto env = RepoEnv::Create(DemoTask());
  EXPECT_TRUE(env.ok()) << env.status().ToString();
  return std::move(env).value();
}

// Seconds since `t`.
inline double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace r2e::llm_agent_test_util

#endif  // R2E_TESTS_UNIT_LLM_AGENT_TEST_UTIL_H_
