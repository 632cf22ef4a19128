// Guarded(): the one place where a transport's exceptions (Boost.System from
// Asio/Beast, nlohmann::json, anything else) become a Status, so that nothing
// throws out of a client. Header-only; used by the translation units that
// already compile Boost (the Docker and Kubernetes clients).
#ifndef R2E_CORE_GUARDED_H_
#define R2E_CORE_GUARDED_H_

#include <exception>
#include <string>
#include <utility>

#include <boost/system/system_error.hpp>
#include <nlohmann/json.hpp>

#include "r2e/status.h"

namespace r2e::internal {

// Runs `f`; an exception becomes Unavailable (I/O) or Internal (anything
// else), with a message "<transport> <what>: ..." that names the `peer` for
// an answer we could not parse.
template <typename F>
auto Guarded(const char* transport, const char* peer, const std::string& what, F&& f) -> decltype(f()) {
  const std::string prefix = std::string(transport) + " " + what + ": ";
  try {
    return f();
  } catch (const boost::system::system_error& e) {
    return Status::Unavailable(prefix + e.what());
  } catch (const nlohmann::json::exception& e) {
    return Status::Internal(prefix + "unexpected answer from the " + peer + ": " + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(prefix + e.what());
  } catch (...) {
    return Status::Internal(prefix + "unknown exception");
  }
}

// Guarded() bound to one transport, for its files to define once:
//   inline constexpr internal::Guard Guarded{"docker", "daemon"};
//   return Guarded(what, [&]() -> Status { ... });
struct Guard {
  const char* transport;
  const char* peer;

  template <typename F>
  auto operator()(const std::string& what, F&& f) const -> decltype(f()) {
    return internal::Guarded(transport, peer, what, std::forward<F>(f));
  }
};

}  // namespace r2e::internal

#endif  // R2E_CORE_GUARDED_H_
