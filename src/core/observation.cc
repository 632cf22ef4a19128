#include "r2e/observation.h"

#include <cstddef>
#include <utility>
#include <vector>

namespace r2e {

// The scaffold's CONTINUE_MSG (R2E-Gym, src/r2egym/agenthub/__init__.py),
// byte for byte, including the space after "response." that policies saw.
const std::string_view kNoFunctionCallReminder =
    "\n"
    "You forgot to use a function call in your response. \n"
    "YOU MUST USE A FUNCTION CALL IN EACH RESPONSE.\n"
    "\n"
    "IMPORTANT: YOU SHOULD NEVER ASK FOR HUMAN HELP.\n";

const std::string_view kFinishedText = "<<< Finished >>>";

namespace {

constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD

// The scaffold's middle-truncation block (observation.py), between the head
// and tail lines.
constexpr std::string_view kTruncationNote = "<Observation truncated in middle for saving context>";
constexpr std::size_t kDividerWidth = 50;

// Length of a line break at s[i] as Python's str.splitlines() sees it, or 0.
// The text is valid UTF-8 here, so multi-byte breaks can be matched directly.
std::size_t LineBreakLen(std::string_view s, std::size_t i) {
  switch (static_cast<unsigned char>(s[i])) {
    case '\n':
    case '\v':
    case '\f':
    case 0x1c:
    case 0x1d:
    case 0x1e:
      return 1;
    case '\r':
      return (i + 1 < s.size() && s[i + 1] == '\n') ? 2 : 1;
    case 0xc2:  // U+0085 NEL
      return (i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) ? 2 : 0;
    case 0xe2: {  // U+2028, U+2029
      if (i + 2 >= s.size() || static_cast<unsigned char>(s[i + 1]) != 0x80) return 0;
      unsigned char c = static_cast<unsigned char>(s[i + 2]);
      return (c == 0xa8 || c == 0xa9) ? 3 : 0;
    }
    default:
      return 0;
  }
}

}  // namespace

std::string SanitizeUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char b = static_cast<unsigned char>(bytes[i]);
    if (b < 0x80) {
      out += static_cast<char>(b);
      ++i;
      continue;
    }
    // Unicode 3.9 Table 3-7 (well-formed sequences): the allowed range of the
    // second byte excludes overlongs (E0, F0), surrogates (ED) and code points
    // above U+10FFFF (F4); later bytes are always 80..BF.
    std::size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b == 0xe0) lo = 0xa0;
      if (b == 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b == 0xf0) lo = 0x90;
      if (b == 0xf4) hi = 0x8f;
    } else {
      // 80..C1 (continuation or overlong lead) and F5..FF never start a character.
      out += kReplacement;
      ++i;
      continue;
    }
    // Replace the maximal subpart of an ill-formed sequence with one U+FFFD
    // and resume at the offending byte (the W3C/WHATWG and Python practice).
    std::size_t j = i + 1;
    bool ok = true;
    for (std::size_t k = 0; k < need; ++k, ++j) {
      if (j >= n) {
        ok = false;
        break;
      }
      const unsigned char c = static_cast<unsigned char>(bytes[j]);
      if (c < lo || c > hi) {
        ok = false;
        break;
      }
      lo = 0x80;
      hi = 0xbf;
    }
    if (ok) {
      out.append(bytes.substr(i, j - i));
    } else {
      out += kReplacement;
    }
    i = j;
  }
  return out;
}

std::string StripAnsiAndCr(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = text[i];
    if (c == '\r') {
      ++i;
      continue;
    }
    if (c == '\x1b' && i + 1 < n && text[i + 1] == '[') {
      // The scaffold's `\x1b\[[0-9;]*m`: colour codes only; cursor, erase
      // and other sequences stay, as its agent saw them.
      std::size_t j = i + 2;
      while (j < n && ((text[j] >= '0' && text[j] <= '9') || text[j] == ';')) ++j;
      if (j < n && text[j] == 'm') {
        i = j + 1;
        continue;
      }
    }
    out += c;
    ++i;
  }
  return out;
}

std::string TruncateLines(std::string_view text, std::size_t keep) {
  // Lines as Python's str.splitlines() gives them (the scaffold counts with
  // it): a final line break does not start another line.
  std::vector<std::pair<std::size_t, std::size_t>> lines;  // [begin, end)
  std::size_t begin = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (std::size_t br = LineBreakLen(text, i); br > 0) {
      lines.emplace_back(begin, i);
      i += br;
      begin = i;
    } else {
      ++i;
    }
  }
  if (begin < text.size()) lines.emplace_back(begin, text.size());
  if (lines.size() <= 2 * keep) return std::string(text);

  auto join = [&](std::size_t from, std::size_t to, std::string& out) {
    for (std::size_t k = from; k < to; ++k) {
      if (k > from) out += '\n';
      out.append(text.substr(lines[k].first, lines[k].second - lines[k].first));
    }
  };
  const std::string divider(kDividerWidth, '-');
  std::string out;
  join(0, keep, out);
  out += '\n';
  out += divider;
  out += '\n';
  out += kTruncationNote;
  out += '\n';
  out += divider;
  out += '\n';
  join(lines.size() - keep, lines.size(), out);
  return out;
}

RunOutput RunOutputOf(const ExecResult& result, std::chrono::seconds timeout) {
  RunOutput out;
  if (!result.timed_out && result.exit_code == 124) {
    // The scaffold takes exit code 124 for its `timeout` wrapper's, whatever
    // command returned it, and shows the timeout message alone.
    out.output = "The command took too long to execute (>" + std::to_string(timeout.count()) + "s)";
    out.code = "-1";
  } else if (result.timed_out) {
    out.output = "The command took too long to execute (>" + std::to_string(timeout.count()) + "s)";
    // Our improvement over the scaffold, which dropped everything the command
    // printed before the deadline: keep the partial output after the message.
    if (!result.output.empty()) {
      out.output += '\n';
      out.output += SanitizeUtf8(result.output);
    }
    out.code = "-1";
  } else if (result.exit_code == 0) {
    // Decode first, then strip, in the scaffold's order: stripping raw bytes
    // could join two invalid halves into a character the scaffold never showed.
    out.output = StripAnsiAndCr(SanitizeUtf8(result.output));
    out.code = "0";
  } else {
    // The scaffold keeps a failing command's output raw (colours and all).
    out.output = SanitizeUtf8(result.output);
    out.code = "Error: Exit code " + std::to_string(result.exit_code);
  }
  // A byte-truncation note from the session (result.truncated_bytes > 0) is
  // already inside the output and stays.
  return out;
}

std::string ObservationText(std::string_view function_name, std::string_view output,
                            std::string_view code) {
  if (function_name.empty()) return std::string(kNoFunctionCallReminder);
  if (function_name == "finish" || function_name == "submit") return std::string(kFinishedText);
  const std::string header = "Execution output of [" + SanitizeUtf8(function_name) + "]:\n";
  if (function_name == "execute_bash" || function_name == "bash") {
    // A long output keeps its head and tail; a byte-truncation note may fall
    // in the dropped middle, which the line-truncation note then covers.
    return "Exit code: " + std::string(code) + "\n" + header + TruncateLines(output);
  }
  return header + std::string(output);
}

Observation StepObservation(std::string_view function_name, const ExecResult& result,
                            std::chrono::seconds timeout) {
  const RunOutput run = RunOutputOf(result, timeout);
  return Observation{ObservationText(function_name, run.output, run.code)};
}

Observation BashObservation(std::string_view tool, const ExecResult& result,
                            std::chrono::seconds timeout) {
  const RunOutput run = RunOutputOf(result, timeout);
  return Observation{"Exit code: " + run.code + "\nExecution output of [" + SanitizeUtf8(tool) + "]:\n" +
                     TruncateLines(run.output)};
}

Observation ToolObservation(std::string_view tool, const ExecResult& result,
                            std::chrono::seconds timeout) {
  return Observation{"Execution output of [" + SanitizeUtf8(tool) + "]:\n" + RunOutputOf(result, timeout).output};
}

}  // namespace r2e
