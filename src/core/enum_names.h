// NameOf(): an enumerator's name from a table, the one way r2e's
// XxxName(enum) functions are written (a switch per enum repeated itself).
#ifndef R2E_CORE_ENUM_NAMES_H_
#define R2E_CORE_ENUM_NAMES_H_

#include <cstddef>
#include <string_view>
#include <utility>

namespace r2e::internal {

template <typename E>
using EnumName = std::pair<E, std::string_view>;

// The name `names` gives `value`, or `fallback` for a value it does not list
// (a cast integer). Tables are short, so a linear search is enough.
template <typename E, std::size_t N>
constexpr std::string_view NameOf(E value, const EnumName<E> (&names)[N],
                                  std::string_view fallback) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return fallback;
}

}  // namespace r2e::internal

#endif  // R2E_CORE_ENUM_NAMES_H_
