#include "r2e/status.h"

#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace r2e {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_EQ(status.message(), "");
  EXPECT_EQ(status.ToString(), "OK");
  EXPECT_EQ(Status::OK(), Status());
}

TEST(StatusTest, OkCodeDropsMessage) {
  Status status(StatusCode::kOk, "ignored");
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.message(), "");
}

TEST(StatusTest, FactoriesSetCodeAndMessage) {
  struct Case {
    Status status;
    StatusCode code;
    const char* name;
  };
  const Case cases[] = {
      {Status::InvalidArgument("m"), StatusCode::kInvalidArgument, "InvalidArgument"},
      {Status::NotFound("m"), StatusCode::kNotFound, "NotFound"},
      {Status::AlreadyExists("m"), StatusCode::kAlreadyExists, "AlreadyExists"},
      {Status::FailedPrecondition("m"), StatusCode::kFailedPrecondition, "FailedPrecondition"},
      {Status::Timeout("m"), StatusCode::kTimeout, "Timeout"},
      {Status::Unavailable("m"), StatusCode::kUnavailable, "Unavailable"},
      {Status::Cancelled("m"), StatusCode::kCancelled, "Cancelled"},
      {Status::ResourceExhausted("m"), StatusCode::kResourceExhausted, "ResourceExhausted"},
      {Status::Unimplemented("m"), StatusCode::kUnimplemented, "Unimplemented"},
      {Status::Internal("m"), StatusCode::kInternal, "Internal"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(c.status.ok());
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_EQ(c.status.message(), "m");
    EXPECT_EQ(StatusCodeName(c.code), c.name);
    EXPECT_EQ(c.status.ToString(), std::string(c.name) + ": m");
  }
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "OK");
}

TEST(StatusTest, Equality) {
  EXPECT_EQ(Status::NotFound("x"), Status(StatusCode::kNotFound, "x"));
  EXPECT_FALSE(Status::NotFound("x") == Status::NotFound("y"));
  EXPECT_FALSE(Status::NotFound("x") == Status::Internal("x"));
  EXPECT_FALSE(Status::NotFound("x") == Status::OK());
}

TEST(StatusTest, WithContextPrefixesMessage) {
  Status status = Status::NotFound("no such file").WithContext("loading tasks.jsonl");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "loading tasks.jsonl: no such file");
  EXPECT_EQ(status.ToString(), "NotFound: loading tasks.jsonl: no such file");
  // Context stacks outermost first.
  EXPECT_EQ(status.WithContext("run").message(), "run: loading tasks.jsonl: no such file");
}

TEST(StatusTest, WithContextKeepsOk) {
  Status status = Status::OK().WithContext("anything");
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.message(), "");
}

TEST(ResultTest, HoldsValue) {
  Result<int> result(42);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result.status().ok());
  EXPECT_EQ(result.value(), 42);
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(result.value_or(7), 42);
  *result = 5;
  EXPECT_EQ(result.value(), 5);
}

TEST(ResultTest, HoldsError) {
  Result<int> result(Status::Timeout("too slow"));
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status(), Status::Timeout("too slow"));
  EXPECT_EQ(result.value_or(7), 7);
}

TEST(ResultTest, OkStatusBecomesInternal) {
  Result<int> result{Status::OK()};
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
  EXPECT_FALSE(result.status().message().empty());
}

TEST(ResultTest, ArrowAndMoveOut) {
  Result<std::string> result(std::string("hello"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->size(), 5u);
  std::string moved = std::move(result).value();
  EXPECT_EQ(moved, "hello");
}

TEST(ResultTest, MoveOnlyValue) {
  Result<std::unique_ptr<int>> result(std::make_unique<int>(3));
  ASSERT_TRUE(result.ok());
  std::unique_ptr<int> owned = std::move(result).value();
  ASSERT_NE(owned, nullptr);
  EXPECT_EQ(*owned, 3);
}

// Helpers for the macros.
Status FailIf(bool fail) { return fail ? Status::Unavailable("down") : Status::OK(); }

Status UseReturnIfError(bool fail, int* reached) {
  R2E_RETURN_IF_ERROR(FailIf(fail));
  ++*reached;
  return Status::OK();
}

Result<int> Half(int n) {
  if (n % 2 != 0) return Status::InvalidArgument("odd: " + std::to_string(n));
  return n / 2;
}

Result<int> Quarter(int n) {
  R2E_ASSIGN_OR_RETURN(int half, Half(n));
  R2E_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Result<int> ReturnIfErrorInResult(bool fail) {
  R2E_RETURN_IF_ERROR(FailIf(fail));
  return 1;
}

Status AssignExisting(int n, int* out) {
  R2E_ASSIGN_OR_RETURN(*out, Half(n));
  return Status::OK();
}

TEST(StatusMacrosTest, ReturnIfErrorPassesOk) {
  int reached = 0;
  EXPECT_TRUE(UseReturnIfError(false, &reached).ok());
  EXPECT_EQ(reached, 1);
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsError) {
  int reached = 0;
  Status status = UseReturnIfError(true, &reached);
  EXPECT_EQ(status, Status::Unavailable("down"));
  EXPECT_EQ(reached, 0);
}

TEST(StatusMacrosTest, ReturnIfErrorInResultFunction) {
  EXPECT_EQ(ReturnIfErrorInResult(false).value_or(0), 1);
  Result<int> result = ReturnIfErrorInResult(true);
  EXPECT_EQ(result.status(), Status::Unavailable("down"));
}

TEST(StatusMacrosTest, AssignOrReturnChainsValues) {
  Result<int> result = Quarter(12);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 3);
}

TEST(StatusMacrosTest, AssignOrReturnPropagatesFirstError) {
  EXPECT_EQ(Quarter(7).status(), Status::InvalidArgument("odd: 7"));
  // 6 / 2 = 3 fails on the second step.
  EXPECT_EQ(Quarter(6).status(), Status::InvalidArgument("odd: 3"));
}

TEST(StatusMacrosTest, AssignOrReturnToExistingVariable) {
  int out = -1;
  EXPECT_TRUE(AssignExisting(8, &out).ok());
  EXPECT_EQ(out, 4);
  out = -1;
  EXPECT_EQ(AssignExisting(5, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out, -1);
}

}  // namespace
}  // namespace r2e
