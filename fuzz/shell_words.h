// A strict reader of the only shell syntax our command builders may emit for
// agent-controlled words: bare words of shlex-safe characters, '...' single
// quotes, \' and "'" (Python's shlex.quote), separated by single spaces. Anything else (a $, a `,
// an unquoted space or newline) makes it fail, so a fuzz target can assert that a built command
// line parses back to exactly the argv it was built from.
#ifndef R2E_FUZZ_SHELL_WORDS_H_
#define R2E_FUZZ_SHELL_WORDS_H_

#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace r2e::fuzz {

inline bool ShlexSafe(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("@%+=:,./-_").find(c) != std::string_view::npos;
}

inline std::optional<std::vector<std::string>> SplitShellWords(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size();) {
    char c = line[i];
    if (c == ' ') {
      if (!in_word) return std::nullopt;  // double or leading space
      words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '\'') {
      std::size_t end = line.find('\'', i + 1);
      if (end == std::string_view::npos) return std::nullopt;
      word.append(line.substr(i + 1, end - i - 1));
      in_word = true;
      i = end + 1;
    } else if (line.substr(i, 3) == "\"'\"") {
      word += '\'';
      in_word = true;
      i += 3;
    } else if (c == '\\') {
      if (i + 1 >= line.size() || line[i + 1] != '\'') return std::nullopt;
      word += '\'';
      in_word = true;
      i += 2;
    } else if (ShlexSafe(c)) {
      word += c;
      in_word = true;
      ++i;
    } else {
      return std::nullopt;
    }
  }
  if (!in_word) return std::nullopt;  // empty line or trailing space
  words.push_back(std::move(word));
  return words;
}

}  // namespace r2e::fuzz

#endif  // R2E_FUZZ_SHELL_WORDS_H_
