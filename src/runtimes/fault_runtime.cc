#include "r2e/fault_runtime.h"

#include <utility>

namespace r2e {
namespace {

constexpr int kOpCount = 7;

int Index(FaultRuntime::Op op) { return static_cast<int>(op); }

Status KilledStatus() { return Status::Unavailable("sandbox was removed (injected fault)"); }

// Takes one failure from a plan (FaultRuntime::Plan is private, hence the
// template); remaining < 0 never runs out.
template <typename Plan>
std::optional<Status> Consume(Plan& plan) {
  if (plan.remaining == 0) return std::nullopt;
  if (plan.remaining > 0) --plan.remaining;
  return plan.status;
}

}  // namespace

FaultRuntime::FaultRuntime(std::unique_ptr<Runtime> inner) : RuntimeWrapper(std::move(inner)) {}

// The wrapped runtime's destructor stops its sandbox.
FaultRuntime::~FaultRuntime() = default;

void FaultRuntime::fail_next(Op op, Status status, int count) {
  // An OK status cannot be returned as a failure (a Result would turn it
  // into a confusing Internal error); make the injection explicit instead.
  if (status.ok()) status = Status::Internal("injected fault");
  std::lock_guard<std::mutex> lock(mu_);
  plans_[Index(op)] = Plan{std::move(status), count};
}

void FaultRuntime::fail_exec_containing(std::string needle, Status status) {
  if (status.ok()) status = Status::Internal("injected fault");
  std::lock_guard<std::mutex> lock(mu_);
  exec_needle_ = std::move(needle);
  exec_needle_status_ = std::move(status);
}

void FaultRuntime::kill_sandbox() { killed_ = true; }

void FaultRuntime::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  for (Plan& p : plans_) p = Plan{};
  exec_needle_.clear();
  exec_needle_status_ = Status();
  killed_ = false;
}

int FaultRuntime::calls(Op op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_[Index(op)];
}

std::optional<Status> FaultRuntime::take_fault(Op op, std::string_view command) {
  const int i = Index(op);
  if (i < 0 || i >= kOpCount) return Status::Internal("unknown FaultRuntime::Op");
  std::lock_guard<std::mutex> lock(mu_);
  // start() and stop() are not blocked by a killed sandbox: stop() must
  // always clean up, and start() makes a new sandbox.
  if (killed_ && op != Op::kStart && op != Op::kStop) return KilledStatus();
  if (auto fault = Consume(plans_[i])) return fault;
  if (op == Op::kExec && !exec_needle_.empty() &&
      command.find(exec_needle_) != std::string_view::npos) {
    return exec_needle_status_;
  }
  ++calls_[i];  // counted here, under the lock, because the caller forwards now
  return std::nullopt;
}

Status FaultRuntime::start(const SandboxSpec& spec) {
  if (auto fault = take_fault(Op::kStart)) return *fault;
  killed_ = false;  // a new sandbox replaces the removed one
  return RuntimeWrapper::start(spec);
}

Status FaultRuntime::stop() {
  // Always forward, so an injected stop failure still leaves nothing running.
  std::optional<Status> fault;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fault = Consume(plans_[Index(Op::kStop)]);
    ++calls_[Index(Op::kStop)];
  }
  Status s = RuntimeWrapper::stop();
  return fault ? *fault : s;
}

bool FaultRuntime::alive() { return !killed_ && RuntimeWrapper::alive(); }

Result<ExecResult> FaultRuntime::exec(std::string_view command, const ExecOptions& options) {
  if (auto fault = take_fault(Op::kExec, command)) return *fault;
  return RuntimeWrapper::exec(command, options);
}

Status FaultRuntime::upload(const std::filesystem::path& host_path,
                            const std::string& sandbox_path) {
  if (auto fault = take_fault(Op::kUpload)) return *fault;
  return RuntimeWrapper::upload(host_path, sandbox_path);
}

Status FaultRuntime::download(const std::string& sandbox_path,
                              const std::filesystem::path& host_path) {
  if (auto fault = take_fault(Op::kDownload)) return *fault;
  return RuntimeWrapper::download(sandbox_path, host_path);
}

Result<std::string> FaultRuntime::read_file(const std::string& sandbox_path) {
  if (auto fault = take_fault(Op::kReadFile)) return *fault;
  return RuntimeWrapper::read_file(sandbox_path);
}

Status FaultRuntime::write_file(const std::string& sandbox_path, std::string_view content,
                                int mode) {
  if (auto fault = take_fault(Op::kWriteFile)) return *fault;
  return RuntimeWrapper::write_file(sandbox_path, content, mode);
}

}  // namespace r2e
