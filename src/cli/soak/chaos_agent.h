// The soak's chaotic agent: a policy that tries anything a model could type,
// drawn at random, to check that the library survives an adversary (issue:
// reliability). Pure: it only builds actions; the soak runner executes them.
#ifndef R2E_CLI_SOAK_CHAOS_AGENT_H_
#define R2E_CLI_SOAK_CHAOS_AGENT_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "r2e/action.h"

namespace r2e::soak {

struct ChaosOptions {
  // What the sandbox can take without harming the host. Off for an
  // unisolated local sandbox (plain processes: `kill -9 -1` or writes to `/`
  // would hit this machine).
  bool isolated = true;
  // A fork bomb is drawn only where a pids limit contains it (docker).
  bool fork_bomb = false;
  // Seconds a "sleep past the timeout" action sleeps (above the step timeout).
  int oversleep_s = 30;
};

struct ChaosAction {
  std::string kind;  // e.g. "bash", "huge_output", "kill_all"; the report counts by kind
  // Either text the model typed (parsed with ParseAction by RepoEnv::step)...
  std::string text;
  // ...or an OpenAI-style tool call (name + arguments JSON, possibly malformed).
  bool tool_call = false;
  std::string tool_name;
  std::string arguments_json;
  // The soak checks afterwards that this file does not exist in the sandbox:
  // the action tried to create it by injecting shell syntax into a tool
  // argument (empty: no check).
  std::string injection_canary;
  // Looks at the hidden tests; the observation must not show them.
  bool probes_hidden_tests = false;
};

class ChaosAgent {
 public:
  ChaosAgent(std::uint64_t seed, ChaosOptions options);
  ChaosAction Next();

 private:
  std::string Pick(const std::vector<std::string>& choices);
  std::string RandomBytes(std::size_t n, bool printable);

  std::mt19937_64 rng_;
  ChaosOptions options_;
};

}  // namespace r2e::soak

#endif  // R2E_CLI_SOAK_CHAOS_AGENT_H_
