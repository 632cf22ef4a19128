// Status and Result<T>: how every fallible r2e call reports failure.
//
// No exception crosses the library boundary. A call that can fail returns a
// Status (success or a code plus a message) or a Result<T> (a value or a
// non-OK Status). Messages say what failed and, where it helps, what to do.
//
// Status and Result are plain values: copyable, movable, and safe to use from
// any thread as long as one object is not mutated concurrently.
#ifndef R2E_STATUS_H_
#define R2E_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace r2e {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong (a bad row, a bad option)
  kNotFound,            // a file, image, sandbox or test does not exist
  kAlreadyExists,       // a name is taken
  kFailedPrecondition,  // the object is in the wrong state (e.g. step() before reset())
  kTimeout,             // a deadline passed
  kUnavailable,         // a daemon, server or sandbox cannot be reached; retrying may help
  kCancelled,           // the operation was stopped on request
  kResourceExhausted,   // a limit was hit
  kUnimplemented,       // not supported by this runtime or build
  kInternal,            // a bug or an unexpected failure in r2e or below it
};

// The name of a code, e.g. "InvalidArgument".
std::string_view StatusCodeName(StatusCode code);

class Status {
 public:
  // Success.
  Status() = default;
  Status(StatusCode code, std::string message);

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
  static Status Timeout(std::string msg) { return {StatusCode::kTimeout, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }
  static Status Unimplemented(std::string msg) { return {StatusCode::kUnimplemented, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK", or "<CodeName>: <message>".
  std::string ToString() const;

  // The same status with "<context>: " put before the message (OK stays OK).
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A T or a non-OK Status. Constructing a Result from an OK Status is a bug;
// it is turned into an Internal error rather than an empty value.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : state_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    if (std::get<1>(state_).ok()) {
      state_.template emplace<1>(StatusCode::kInternal, "Result constructed from an OK status without a value");
    }
  }

  bool ok() const { return state_.index() == 0; }
  // OK when a value is held. A copy: keep it (not a reference into it) to
  // use its message after the statement.
  Status status() const { return ok() ? Status() : std::get<1>(state_); }

  // Accessing the value of an error Result is a programming error (asserts in
  // debug builds; use ok() first).
  T& value() & { assert(ok()); return std::get<0>(state_); }
  const T& value() const& { assert(ok()); return std::get<0>(state_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? std::get<0>(state_) : std::move(fallback); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace r2e

// Return early from a function returning Status or Result<U> when `expr`
// (a Status) is not OK.
#define R2E_RETURN_IF_ERROR(expr)                     \
  do {                                                \
    ::r2e::Status r2e_status_tmp_ = (expr);           \
    if (!r2e_status_tmp_.ok()) return r2e_status_tmp_; \
  } while (0)

#define R2E_CONCAT_INNER_(a, b) a##b
#define R2E_CONCAT_(a, b) R2E_CONCAT_INNER_(a, b)
// `R2E_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result or returns
// its error.
#define R2E_ASSIGN_OR_RETURN(lhs, expr) \
  R2E_ASSIGN_OR_RETURN_IMPL_(R2E_CONCAT_(r2e_result_tmp_, __LINE__), lhs, expr)
#define R2E_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

#endif  // R2E_STATUS_H_
