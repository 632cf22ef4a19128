// R2E-Gym's pytest log parser and reward rule, restated from its Python
// (r2egym/repo_analysis/execution_log_parser.py: parse_log_pytest,
// decolor_dict_keys; agenthub/runtime/docker.py: run_tests,
// _calculate_reward_r2e). Quirks are kept on purpose: a reward must equal
// what R2E-Gym computes on the same log.
#include "r2e/log_parsers.h"

#include <cstddef>
#include <string>
#include <string_view>

#include "core/py_text.h"
#include "core/text.h"
#include "grading/r2e_keys.h"

namespace r2e {
namespace {

constexpr std::string_view kSummaryMarker = "short test summary info";

using internal::PyStrip;  // Python's str.strip() with no arguments

// `".".join(line.split("::")[1:])`: empty when the line has no "::".
std::string JoinPartsAfterFirst(std::string_view line) {
  std::string key;
  std::size_t pos = line.find("::");
  if (pos == std::string_view::npos) return key;
  std::string_view rest = line.substr(pos + 2);
  for (;;) {
    std::size_t next = rest.find("::");
    if (next == std::string_view::npos) {
      key.append(rest);
      return key;
    }
    key.append(rest.substr(0, next));
    key.push_back('.');
    rest.remove_prefix(next + 2);
  }
}

// `s.split(" - ")[0]`.
std::string_view BeforeDash(std::string_view s) { return s.substr(0, s.find(" - ")); }

using internal::Contains;

}  // namespace

StatusMap ParseR2ELog(std::string_view log) {
  StatusMap map;
  std::size_t first = log.find(kSummaryMarker);
  if (first == std::string_view::npos) return map;
  // `log.split(marker)[1]`: the text up to a second occurrence, if any.
  std::string_view section = log.substr(first + kSummaryMarker.size());
  section = section.substr(0, section.find(kSummaryMarker));
  section = PyStrip(section);

  while (true) {
    std::size_t nl = section.find('\n');
    std::string_view line = section.substr(0, nl);
    // Substring tests in this order, as R2E-Gym does: a FAILED line whose
    // message mentions PASSED counts as PASSED.
    if (Contains(line, "PASSED")) {
      map[JoinPartsAfterFirst(line)] = "PASSED";
    } else if (Contains(line, "FAILED")) {
      map[std::string(BeforeDash(JoinPartsAfterFirst(line)))] = "FAILED";
    } else if (Contains(line, "ERROR")) {
      map[std::string(BeforeDash(JoinPartsAfterFirst(line)))] = "ERROR";
    }
    if (nl == std::string_view::npos) break;
    section.remove_prefix(nl + 1);
  }
  return map;
}

std::string StripColorCodes(std::string_view text) {
  // re.sub(r"\x1b\[\d+m", "", text): one or more digits, nothing else.
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      std::size_t j = i + 2;
      while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
      if (j > i + 2 && j < text.size() && text[j] == 'm') {
        i = j + 1;
        continue;
      }
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

bool R2EStatusMapsMatch(const StatusMap& parsed, const StatusMap& expected) {
  StatusMap p = internal::NormalizeR2EKeys(parsed);
  StatusMap e = internal::NormalizeR2EKeys(expected);
  if (p.size() != e.size()) return false;
  for (const auto& [key, status] : p) {
    // An empty key (e.g. from an ERROR line without "::") still counts in
    // the size check above but is never compared.
    if (key.empty()) continue;
    auto it = e.find(key);
    if (it == e.end() || it->second != status) return false;
  }
  return true;
}

namespace internal {

StatusMap NormalizeR2EKeys(const StatusMap& map) {
  StatusMap decolored;
  for (const auto& [key, status] : map) decolored[StripColorCodes(key)] = status;
  // std::map iterates in sorted order, so a later key overwrites an earlier
  // one exactly as in R2E-Gym's comprehension over sorted(keys).
  StatusMap rekeyed;
  for (const auto& [key, status] : decolored) rekeyed[std::string(BeforeDash(key))] = status;
  return rekeyed;
}

std::string CleanR2ETestOutput(std::string_view output) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(output.size());
  const std::size_t n = output.size();
  std::size_t i = 0;
  while (i < n) {
    const auto b = static_cast<unsigned char>(output[i]);
    if (b < 0x80) {
      if (b == '\r') {
        ++i;
        continue;
      }
      if (b == 0x1b && i + 1 < n && output[i + 1] == '[') {
        // \x1b\[[0-9;]*m
        std::size_t j = i + 2;
        while (j < n && ((output[j] >= '0' && output[j] <= '9') || output[j] == ';')) ++j;
        if (j < n && output[j] == 'm') {
          i = j + 1;
          continue;
        }
      }
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    // UTF-8 validation with "maximal subpart" replacement, as Python's
    // decoder does with errors="replace".
    int need = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b == 0xE0) {
      need = 2;
      lo = 0xA0;
    } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
      need = 2;
    } else if (b == 0xED) {
      need = 2;
      hi = 0x9F;  // no surrogates
    } else if (b == 0xF0) {
      need = 3;
      lo = 0x90;
    } else if (b >= 0xF1 && b <= 0xF3) {
      need = 3;
    } else if (b == 0xF4) {
      need = 3;
      hi = 0x8F;
    }
    std::size_t j = i + 1;
    for (int k = 0; k < need && j < n; ++k) {
      const auto c = static_cast<unsigned char>(output[j]);
      const unsigned char min = k == 0 ? lo : 0x80;
      const unsigned char max = k == 0 ? hi : 0xBF;
      if (c < min || c > max) break;
      ++j;
    }
    if (need > 0 && j - i == static_cast<std::size_t>(need) + 1) {
      out.append(output.substr(i, j - i));
    } else {
      out.append(kReplacement);
    }
    i = j;
  }
  return out;
}

}  // namespace internal
}  // namespace r2e
