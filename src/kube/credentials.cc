#include "kube/credentials.h"

#include <cstdio>

#include "core/text.h"

namespace r2e::kube {

Result<std::string> Credentials::token(bool force) {
  if (!config_.token.empty()) return config_.token;
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = Clock::now();
  if (!config_.token_file.empty()) {
    // Re-read a minute after the last read at the latest: the file rotates.
    if (force || !loaded_ || now - loaded_at_ > std::chrono::seconds(60)) {
      std::FILE* f = std::fopen(config_.token_file.c_str(), "rb");
      if (!f) return Status::FailedPrecondition("cannot read the token file " + config_.token_file);
      std::string t;
      char buf[4096];
      for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) t.append(buf, n);
      std::fclose(f);
      cached_ = std::string(internal::Trim(t));
      loaded_ = true;
      loaded_at_ = now;
    }
    return cached_;
  }
  if (config_.exec) {
    const bool expired = expiry_ && std::chrono::system_clock::now() + std::chrono::seconds(10) >= *expiry_;
    if (force || !loaded_ || expired) {
      R2E_ASSIGN_OR_RETURN(ExecCredential c, RunExecPlugin(*config_.exec, config_.server, plugin_timeout_));
      cached_ = c.token;
      expiry_ = c.expiry;
      loaded_ = true;
      loaded_at_ = now;
    }
    return cached_;
  }
  return std::string();
}

Result<ExecCredential> Credentials::first_exec() {
  R2E_ASSIGN_OR_RETURN(ExecCredential c, RunExecPlugin(*config_.exec, config_.server, plugin_timeout_));
  std::lock_guard<std::mutex> lock(mu_);
  cached_ = c.token;
  expiry_ = c.expiry;
  loaded_ = true;
  loaded_at_ = Clock::now();
  return c;
}

}  // namespace r2e::kube
