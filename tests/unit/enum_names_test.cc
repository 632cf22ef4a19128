// Every XxxName(enum) function names each enumerator as the logs, reports
// and trajectories expect (they are tables: a missing row would fall back).
#include <gtest/gtest.h>

#include "core/enum_names.h"
#include "r2e/evaluation.h"
#include "r2e/llm_agent.h"
#include "r2e/repo_env.h"
#include "r2e/swebench.h"
#include "r2e/tools.h"

namespace r2e {
namespace {

TEST(EnumNamesTest, NameOfFindsTheRowOrFallsBack) {
  enum class Color { kRed, kGreen, kBlue };
  static constexpr internal::EnumName<Color> kNames[] = {{Color::kRed, "red"},
                                                         {Color::kGreen, "green"}};
  static_assert(internal::NameOf(Color::kGreen, kNames, "?") == "green");
  EXPECT_EQ(internal::NameOf(Color::kRed, kNames, "?"), "red");
  EXPECT_EQ(internal::NameOf(Color::kBlue, kNames, "?"), "?");
  EXPECT_EQ(internal::NameOf(static_cast<Color>(42), kNames, "?"), "?");
}

TEST(EnumNamesTest, EveryEnumeratorHasItsName) {
  EXPECT_EQ(ResetKindName(ResetKind::kNone), "none");
  EXPECT_EQ(ResetKindName(ResetKind::kCold), "cold");
  EXPECT_EQ(ResetKindName(ResetKind::kWarm), "warm");
  EXPECT_EQ(ResetKindName(ResetKind::kFast), "fast");

  EXPECT_EQ(HiddenTestModeName(HiddenTestMode::kLeaveInPlace), "leave");
  EXPECT_EQ(HiddenTestModeName(HiddenTestMode::kMoveUnderRoot), "move");
  EXPECT_EQ(HiddenTestModeName(HiddenTestMode::kRemoveFromSandbox), "remove");

  EXPECT_EQ(ToolPathName(ToolPath::kServed), "served");
  EXPECT_EQ(ToolPathName(ToolPath::kExec), "exec");
  EXPECT_EQ(ToolPathName(ToolPath::kUnknown), "");

  EXPECT_EQ(LlmExitName(LlmExit::kFinished), "finished");
  EXPECT_EQ(LlmExitName(LlmExit::kMaxSteps), "max_steps");
  EXPECT_EQ(LlmExitName(LlmExit::kMaxTokens), "max_tokens");
  EXPECT_EQ(LlmExitName(LlmExit::kTimeLimit), "time_limit");
  EXPECT_EQ(LlmExitName(LlmExit::kLlmError), "llm_error");
  EXPECT_EQ(LlmExitName(LlmExit::kEnvError), "env_error");

  EXPECT_EQ(InstanceOutcomeName(InstanceOutcome::kResolved), "resolved");
  EXPECT_EQ(InstanceOutcomeName(InstanceOutcome::kUnresolved), "unresolved");
  EXPECT_EQ(InstanceOutcomeName(InstanceOutcome::kEmptyPatch), "empty patch");
  EXPECT_EQ(InstanceOutcomeName(InstanceOutcome::kSkipped), "skipped (report exists)");
  EXPECT_EQ(InstanceOutcomeName(InstanceOutcome::kError), "error");

  EXPECT_EQ(ResolvedStatusName(ResolvedStatus::kFull), "RESOLVED_FULL");
  EXPECT_EQ(ResolvedStatusName(ResolvedStatus::kPartial), "RESOLVED_PARTIAL");
  EXPECT_EQ(ResolvedStatusName(ResolvedStatus::kNo), "RESOLVED_NO");
}

}  // namespace
}  // namespace r2e
