// PyRegex: Python's `re` (str patterns) over UTF-8 bytes, on PCRE2, for the
// log parsers that restate a harness's regular expressions one for one.
//
// Why PCRE2: Python's re is a backtracking engine with the same syntax for
// everything the harnesses use ((?P<name>...), lazy quantifiers, lookaround,
// backreferences, \s \d \w as Unicode classes); PCRE2 compiles the same
// patterns (with UTF and UCP) and its JIT keeps a 10 MB log well under 100 ms.
// Hand-restating forty parsers' regexes would be slower to write and to check.
//
// Semantics kept from Python:
// - match() is anchored at the start, fullmatch() at both ends, search() is
//   not anchored; `$` matches at the end and before a final '\n'.
// - findall()/finditer()/sub()/split() step over an empty match as Python 3.7+
//   does (the next match may not be empty at the same position).
// - Invalid UTF-8 in the subject never fails: such bytes match nothing (but
//   `.`-free literals around them still match). Python would have refused to
//   read the log at all; a parser must not fail on any bytes.
// Offsets and spans are byte offsets into the subject.
//
// Thread-safety: a PyRegex is immutable after construction; any number of
// threads may match with one instance at once. Construct parsers' patterns
// once (function-local statics).
#ifndef R2E_GRADING_PY_REGEX_H_
#define R2E_GRADING_PY_REGEX_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace r2e::internal {

// The subset of Python's re flags the harnesses use.
enum PyRegexFlags : unsigned {
  kReNone = 0,
  kReMultiline = 1u << 0,  // re.MULTILINE
  kReDotAll = 1u << 1,     // re.DOTALL
};

// One match: group spans into the subject the match was made on (which must
// outlive it).
class PyMatch {
 public:
  // group(0) is the whole match. An unmatched (or out-of-range) group gives an
  // empty view; has_group() tells the two apart (Python's None).
  std::string_view group(std::size_t index = 0) const;
  bool has_group(std::size_t index) const;
  std::size_t start(std::size_t index = 0) const;
  std::size_t end(std::size_t index = 0) const;

 private:
  friend class PyRegex;
  static constexpr std::size_t kUnset = static_cast<std::size_t>(-1);
  struct Span {
    std::size_t begin = kUnset;
    std::size_t end = kUnset;
  };
  std::string_view subject_;
  std::vector<Span> spans_;
};

class PyRegex {
 public:
  // A pattern that does not compile is a programming error: the constructor
  // aborts with the PCRE2 message (patterns are constants in our code).
  explicit PyRegex(std::string_view pattern, unsigned flags = kReNone);
  ~PyRegex();
  PyRegex(const PyRegex&) = delete;
  PyRegex& operator=(const PyRegex&) = delete;

  // re.match / re.search / re.fullmatch, from byte offset `pos`.
  std::optional<PyMatch> Match(std::string_view subject, std::size_t pos = 0) const;
  std::optional<PyMatch> Search(std::string_view subject, std::size_t pos = 0) const;
  std::optional<PyMatch> FullMatch(std::string_view subject) const;

  // Every non-overlapping match, left to right (re.finditer).
  std::vector<PyMatch> FindIter(std::string_view subject) const;
  // re.findall's strings: the whole match when the pattern has no group, else
  // group 1 (use FindIter for patterns with several groups).
  std::vector<std::string_view> FindAll(std::string_view subject) const;

  // re.sub(pattern, repl, subject, count): `repl` is a template as in Python
  // (\1..\99, \g<n>, \g<name>, \n \t \\ and the other escapes); count 0 = all.
  std::string Sub(std::string_view repl, std::string_view subject, std::size_t count = 0) const;

  // re.split(pattern, subject, maxsplit): the pieces, with each capturing
  // group's text between them as Python does (an unmatched group gives an
  // empty piece where Python gives None).
  std::vector<std::string> Split(std::string_view subject, std::size_t maxsplit = 0) const;

  // The index of a named group, or 0 when there is none of that name.
  std::size_t GroupIndex(std::string_view name) const;

 private:
  enum class Anchor { kNone, kStart, kBoth };
  std::optional<PyMatch> Run(std::string_view subject, std::size_t pos, Anchor anchor,
                             bool not_empty_at_start) const;

  void* code_ = nullptr;  // pcre2_code_8*
  std::size_t group_count_ = 0;
};

}  // namespace r2e::internal

#endif  // R2E_GRADING_PY_REGEX_H_
