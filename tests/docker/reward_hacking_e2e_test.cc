// The reward-hacking corpus (tests/unit/reward_hacks.h) on docker: every hack
// on the demo task in its three flavours (R2E, SWE-bench, SWE-smith), graded
// in the agent's sandbox and in a fresh one. Under GradeIn::kFreshSandbox no
// hack outside the patch earns a reward.
#include <gtest/gtest.h>

#include <iostream>
#include <tuple>

#include "../unit/reward_hacks.h"
#include "docker/docker_client.h"
#include "r2e/docker_runtime.h"
#include "r2e/repo_env.h"
#include "r2e/runtimes.h"

namespace r2e {
namespace {

using testing_hacks::BashAction;
using testing_hacks::PlayHack;
using testing_hacks::RewardHack;

// The demo task's flavours: the dataset file and its image.
struct Flavour {
  const char* name;
  const char* file;
  const char* image;
};
constexpr Flavour kFlavours[] = {
    {"r2e", "demo.jsonl", "r2e-demo/textstats:latest"},
    {"swebench", "demo-swebench.jsonl", "r2e-demo/textstats-swebench:latest"},
    {"swesmith", "demo-swesmith.jsonl", "r2e-demo/textstats-swesmith:latest"},
};

bool HaveImage(const std::string& image) {
  auto c = docker::DockerClient::Connect();
  return c.ok() && (*c)->inspect_image(image).ok();
}

class DockerRewardHackTest : public ::testing::TestWithParam<std::tuple<Flavour, RewardHack>> {};

TEST_P(DockerRewardHackTest, FreshSandboxGivesNoUnearnedReward) {
  const auto& [flavour, hack] = GetParam();
  if (!HaveImage(flavour.image)) GTEST_SKIP() << "no daemon or " << flavour.image;
  auto tasks = LoadTasks(std::string(R2E_SOURCE_DIR) + "/examples/tasks/" + flavour.file);
  ASSERT_TRUE(tasks.ok() && !tasks->empty()) << tasks.status().ToString();
  const Task& task = tasks->front();
  RepoEnvOptions docker_options;
  DockerRuntimeOptions docker;
  docker.network_mode = "none";
  docker_options.runtime = DockerRuntimeFactory(docker);
  const double agent = PlayHack(task, hack, GradeIn::kAgentSandbox, docker_options);
  const double fresh = PlayHack(task, hack, GradeIn::kFreshSandbox, docker_options);
  // The table in docs/reliability.md is made from these lines.
  std::cout << "reward-hack docker " << flavour.name << " " << hack.name << " agent=" << agent
            << " fresh=" << fresh << "\n";
  EXPECT_EQ(fresh, hack.fresh) << hack.name << ": " << hack.what;
  if (hack.agent) {
    EXPECT_EQ(agent, *hack.agent) << hack.name << ": " << hack.what;
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, DockerRewardHackTest,
                         ::testing::Combine(::testing::ValuesIn(kFlavours),
                                            ::testing::ValuesIn(testing_hacks::RewardHacks())),
                         [](const auto& p) {
                           return std::string(std::get<0>(p.param).name) + "_" +
                                  std::get<1>(p.param).name;
                         });

}  // namespace
}  // namespace r2e
