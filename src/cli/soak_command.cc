// `r2e soak`: the chaotic-agent soak (issue: reliability).
#include <iostream>

#include "cli/commands.h"

namespace r2e::cli {

int Soak(const CommonOptions&, const SoakOptions&) {
  std::cerr << "r2e soak: not built yet\n";
  return 1;
}

}  // namespace r2e::cli
