// GradeIn::kFreshSandbox: the agent's changes to /testbed, as a patch, graded
// in a new sandbox of the same task, as the official harnesses grade.
#include <mutex>

#include "core/enum_names.h"
#include "env/hidden_tests.h"
#include "env/task_prep.h"
#include "r2e/git_ops.h"
#include "r2e/grader.h"
#include "r2e/repo_env.h"
#include "r2e/warm_pool.h"

namespace r2e {
namespace {

// Failures that say the sandbox or its backend is broken (an error for the
// caller), as opposed to what the agent did to its repository (a 0).
bool IsInfrastructureFailure(const Status& s) {
  switch (s.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kCancelled:
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

// A grade of 0 whose tests never ran, with the reason.
GradeResult Unearned(const std::string& why) {
  GradeResult g;
  g.log = why + "\n";
  g.warnings.push_back(why);
  g.report = {{"resolved", false}, {"patch_successfully_applied", false}};
  return g;
}

}  // namespace

std::string_view GradeInName(GradeIn where) {
  using enum GradeIn;
  static constexpr internal::EnumName<GradeIn> kNames[] = {{kAgentSandbox, "agent"},
                                                           {kFreshSandbox, "fresh"}};
  return internal::NameOf(where, kNames, "fresh");
}

void RepoEnv::record_grade_base() {
  if (options_.grade_in != GradeIn::kFreshSandbox) return;
  grade_base_ = WorkingTreeId(*runtime_);
}

Result<GradeResult> RepoEnv::grade_in_fresh_sandbox() {
  if (!grade_base_.ok()) {
    return grade_base_.status().WithContext(
        "grading in a fresh sandbox needs the git repository at /testbed as reset() left it; "
        "set RepoEnvOptions::grade_in = GradeIn::kAgentSandbox for tasks without one");
  }
  GitOptions git;
  git.scratch_index = true;  // the agent's sandbox stays as it is
  git.timeout = options_.reward_timeout;
  auto patch = GetPatch(*runtime_, *grade_base_, git);
  if (!patch.ok()) {
    if (IsInfrastructureFailure(patch.status()))
      return patch.status().WithContext("reading the agent's patch");
    // A sandbox that is gone (cancelled, died) is the infrastructure's
    // failure, not a patch worth 0.
    if (!runtime_->alive()) {
      return Status::Unavailable("reading the agent's patch: its sandbox is no longer running (" +
                                 patch.status().message() + "); reset() starts a new one");
    }
    return Unearned("the agent's changes could not be read from its sandbox: " +
                    patch.status().message());
  }

  RepoEnvOptions o = options_;
  o.grade_in = GradeIn::kAgentSandbox;
  o.reward_fn = nullptr;
  o.fast_reset = false;
  o.tool_server = false;      // nobody calls tools there
  o.prime_snapshots = false;  // nor takes snapshots
  // Without a pool the hidden tests may stay in the grading sandbox (nobody
  // else works in it); /testbed is the same either way.
  if (!o.warm_pool && o.hidden_tests == HiddenTestMode::kRemoveFromSandbox) {
    o.hidden_tests = HiddenTestMode::kMoveUnderRoot;
  }
  o.runtime = internal::FactoryOf(options_);
  auto made = RepoEnv::Create(task_, o);
  if (!made.ok()) return made.status().WithContext("making the grading sandbox");
  RepoEnv& fresh = **made;
  {
    std::lock_guard<std::mutex> lock(runtime_mu_);
    grading_env_ = &fresh;
  }
  auto graded = [&]() -> Result<GradeResult> {
    auto reset = fresh.reset();
    if (!reset.ok()) return reset.status().WithContext("starting the grading sandbox");
    if (!patch->empty()) {
      GitOptions apply;
      apply.fix_whitespace = false;  // exactly the agent's bytes
      apply.timeout = options_.reward_timeout;
      Status applied = ApplyPatch(fresh.runtime(), *patch, apply);
      if (!applied.ok()) {
        if (IsInfrastructureFailure(applied))
          return applied.WithContext("applying the agent's patch");
        return Unearned("the agent's patch did not apply to a fresh sandbox: " + applied.message());
      }
    }
    // As fresh.grade(), without taking the tests out again afterwards: the
    // sandbox goes right after.
    R2E_ASSIGN_OR_RETURN(auto grader, MakeGrader(task_.kind, options_.rules));
    if (fresh.hidden_) R2E_RETURN_IF_ERROR(fresh.hidden_->PutBack(fresh.runtime()));
    GradeOptions go;
    go.timeout = options_.reward_timeout;
    return grader->grade(fresh.runtime(), task_, go);
  }();
  {
    std::lock_guard<std::mutex> lock(runtime_mu_);
    grading_env_ = nullptr;
  }
  if (options_.warm_pool && fresh.runtime_) {
    // The pool deletes it in the background, as it does the agents' sandboxes.
    fresh.started_ = false;
    std::unique_ptr<Runtime> used;
    {
      std::lock_guard<std::mutex> lock(fresh.runtime_mu_);
      used = std::move(fresh.runtime_);
    }
    options_.warm_pool->retire(std::move(used));
  } else {
    fresh.close();
  }
  return graded;
}

}  // namespace r2e
