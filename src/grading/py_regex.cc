// PyRegex on PCRE2 (see py_regex.h for the semantics kept from Python).
#include "grading/py_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace r2e::internal {
namespace {

// Three compiled forms per pattern: PCRE2's JIT ignores match-time anchoring
// options, so anchored matching gets its own compiled code.
struct Codes {
  pcre2_code* search = nullptr;
  pcre2_code* anchored = nullptr;   // re.match
  pcre2_code* fullmatch = nullptr;  // re.fullmatch
};

// Per-thread match state: reused so that a parser matching every line of a
// 10 MB log does not allocate per line. The JIT stack is larger than PCRE2's
// 32 KiB default because the harnesses' patterns (`(.*)` over long lines,
// `[\s\S]*?` across a log) recurse deeply.
class ThreadMatchState {
 public:
  ThreadMatchState() {
    context_ = pcre2_match_context_create(nullptr);
    jit_stack_ = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    if (context_ != nullptr && jit_stack_ != nullptr) {
      pcre2_jit_stack_assign(context_, nullptr, jit_stack_);
    }
  }
  ~ThreadMatchState() {
    if (data_ != nullptr) pcre2_match_data_free(data_);
    if (jit_stack_ != nullptr) pcre2_jit_stack_free(jit_stack_);
    if (context_ != nullptr) pcre2_match_context_free(context_);
  }
  ThreadMatchState(const ThreadMatchState&) = delete;
  ThreadMatchState& operator=(const ThreadMatchState&) = delete;

  pcre2_match_data* Data(std::size_t pairs) {
    if (data_ == nullptr || pairs_ < pairs) {
      if (data_ != nullptr) pcre2_match_data_free(data_);
      pairs_ = pairs < 16 ? 16 : pairs;
      data_ = pcre2_match_data_create(static_cast<uint32_t>(pairs_), nullptr);
    }
    return data_;
  }
  pcre2_match_context* context() { return context_; }

 private:
  pcre2_match_context* context_ = nullptr;
  pcre2_jit_stack* jit_stack_ = nullptr;
  pcre2_match_data* data_ = nullptr;
  std::size_t pairs_ = 0;
};

ThreadMatchState& MatchState() {
  thread_local ThreadMatchState state;
  return state;
}

// Python's whitespace (str.isspace(), re's \s for str patterns), as the
// inside of a character class. PCRE2's \s differs: it lacks \x1c-\x1f and
// has U+180E.
constexpr std::string_view kPySpaceClassBody =
    R"(\x09-\x0d\x1c-\x20\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000})";

// Rewrites \s and \S into Python's classes: outside a class as whole
// classes; inside one, \s adds Python's members (a \S inside a class keeps
// PCRE2's meaning: no class subtraction to express it with; the harnesses'
// only use, `[^\S\r\n]`, differs from Python's just on \x1c-\x1f and U+180E).
std::string PythonWhitespace(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 64);
  bool in_class = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[++i];
      if (next == 's') {
        if (in_class) {
          out += kPySpaceClassBody;
        } else {
          out += '[';
          out += kPySpaceClassBody;
          out += ']';
        }
      } else if (next == 'S' && !in_class) {
        out += "[^";
        out += kPySpaceClassBody;
        out += ']';
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' first in the class (after an optional '^') is a literal.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

pcre2_code* Compile(std::string_view python_pattern, unsigned flags, uint32_t anchoring) {
  const std::string pattern = PythonWhitespace(python_pattern);
  uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | anchoring;
  if (flags & kReMultiline) options |= PCRE2_MULTILINE;
  if (flags & kReDotAll) options |= PCRE2_DOTALL;
  // Python's `.` and `$` know only '\n' as a line end.
  pcre2_compile_context* context = pcre2_compile_context_create(nullptr);
  pcre2_set_newline(context, PCRE2_NEWLINE_LF);
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   options, &error, &offset, context);
  pcre2_compile_context_free(context);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    std::fprintf(stderr, "r2e: bad regular expression /%.*s/ at %zu: %s\n",
                 static_cast<int>(pattern.size()), pattern.data(), static_cast<std::size_t>(offset),
                 reinterpret_cast<const char*>(message));
    std::abort();
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if unsupported
  return code;
}

Codes& CodesOf(void* p) { return *static_cast<Codes*>(p); }

// Appends the escape at repl[i] (just after a backslash) of a Python sub()
// template to `out`; returns the index after it.
std::size_t AppendTemplateEscape(std::string_view repl, std::size_t i, const PyMatch& m,
                                 const PyRegex& regex, std::string& out) {
  const char c = repl[i];
  auto is_digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  if (c == 'g' && i + 1 < repl.size() && repl[i + 1] == '<') {
    const std::size_t close = repl.find('>', i + 2);
    if (close != std::string_view::npos) {
      const std::string_view ref = repl.substr(i + 2, close - i - 2);
      std::size_t index = 0;
      bool numeric = !ref.empty();
      for (char ch : ref) {
        if (!is_digit(ch)) numeric = false;
      }
      if (numeric) {
        index = static_cast<std::size_t>(std::stoul(std::string(ref)));
      } else {
        index = regex.GroupIndex(ref);
      }
      out += m.group(index);
      return close + 1;
    }
  }
  if (c == '0') {  // an octal escape: \0, \0N, \0NN
    std::size_t j = i + 1;
    int value = 0;
    while (j < repl.size() && j < i + 3 && repl[j] >= '0' && repl[j] <= '7') {
      value = value * 8 + (repl[j] - '0');
      ++j;
    }
    out += static_cast<char>(value);
    return j;
  }
  if (is_digit(c)) {
    std::size_t index = static_cast<std::size_t>(c - '0');
    std::size_t j = i + 1;
    if (j < repl.size() && is_digit(repl[j])) {
      index = index * 10 + static_cast<std::size_t>(repl[j] - '0');
      ++j;
    }
    out += m.group(index);
    return j;
  }
  switch (c) {
    case 'n':
      out += '\n';
      break;
    case 't':
      out += '\t';
      break;
    case 'r':
      out += '\r';
      break;
    case 'f':
      out += '\f';
      break;
    case 'v':
      out += '\v';
      break;
    case 'a':
      out += '\a';
      break;
    case 'b':
      out += '\b';
      break;
    case '\\':
      out += '\\';
      break;
    default:
      out += '\\';
      out += c;
  }
  return i + 1;
}

}  // namespace

// ---------------------------------------------------------------------------
// PyMatch

std::string_view PyMatch::group(std::size_t index) const {
  if (!has_group(index)) return {};
  return subject_.substr(spans_[index].begin, spans_[index].end - spans_[index].begin);
}

bool PyMatch::has_group(std::size_t index) const {
  return index < spans_.size() && spans_[index].begin != kUnset;
}

std::size_t PyMatch::start(std::size_t index) const {
  return index < spans_.size() ? spans_[index].begin : kUnset;
}

std::size_t PyMatch::end(std::size_t index) const {
  return index < spans_.size() ? spans_[index].end : kUnset;
}

// ---------------------------------------------------------------------------
// PyRegex

PyRegex::PyRegex(std::string_view pattern, unsigned flags) {
  auto* codes = new Codes;
  codes->search = Compile(pattern, flags, 0);
  codes->anchored = Compile(pattern, flags, PCRE2_ANCHORED);
  codes->fullmatch = Compile(pattern, flags, PCRE2_ANCHORED | PCRE2_ENDANCHORED);
  uint32_t captures = 0;
  pcre2_pattern_info(codes->search, PCRE2_INFO_CAPTURECOUNT, &captures);
  group_count_ = captures;
  code_ = codes;
}

PyRegex::~PyRegex() {
  Codes& codes = CodesOf(code_);
  pcre2_code_free(codes.search);
  pcre2_code_free(codes.anchored);
  pcre2_code_free(codes.fullmatch);
  delete &codes;
}

std::size_t PyRegex::GroupIndex(std::string_view name) const {
  const std::string key(name);
  const int n = pcre2_substring_number_from_name(CodesOf(code_).search,
                                                 reinterpret_cast<PCRE2_SPTR>(key.c_str()));
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::optional<PyMatch> PyRegex::Run(std::string_view subject, std::size_t pos, Anchor anchor,
                                    bool not_empty_at_start) const {
  if (pos > subject.size()) return std::nullopt;
  const Codes& codes = CodesOf(code_);
  pcre2_code* code = anchor == Anchor::kNone    ? codes.search
                     : anchor == Anchor::kStart ? codes.anchored
                                                : codes.fullmatch;
  ThreadMatchState& state = MatchState();
  pcre2_match_data* data = state.Data(group_count_ + 1);
  if (data == nullptr) return std::nullopt;
  const int rc =
      pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), pos,
                  not_empty_at_start ? PCRE2_NOTEMPTY_ATSTART : 0, data, state.context());
  // No match, or a resource limit (catastrophic backtracking on a hostile
  // line, where Python would run for hours): both read as no match.
  if (rc <= 0) return std::nullopt;
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
  PyMatch m;
  m.subject_ = subject;
  m.spans_.resize(group_count_ + 1);
  for (std::size_t i = 0; i < static_cast<std::size_t>(rc) && i <= group_count_; ++i) {
    if (ovector[2 * i] == PCRE2_UNSET) continue;
    m.spans_[i] = {ovector[2 * i], ovector[2 * i + 1]};
  }
  return m;
}

std::optional<PyMatch> PyRegex::Match(std::string_view subject, std::size_t pos) const {
  return Run(subject, pos, Anchor::kStart, false);
}

std::optional<PyMatch> PyRegex::Search(std::string_view subject, std::size_t pos) const {
  return Run(subject, pos, Anchor::kNone, false);
}

std::optional<PyMatch> PyRegex::FullMatch(std::string_view subject) const {
  return Run(subject, 0, Anchor::kBoth, false);
}

std::vector<PyMatch> PyRegex::FindIter(std::string_view subject) const {
  std::vector<PyMatch> matches;
  std::size_t pos = 0;
  bool last_empty = false;
  while (pos <= subject.size()) {
    auto m = Run(subject, pos, Anchor::kNone, last_empty);
    if (!m) break;
    last_empty = m->end() == m->start();
    pos = m->end();
    matches.push_back(std::move(*m));
  }
  return matches;
}

std::vector<std::string_view> PyRegex::FindAll(std::string_view subject) const {
  std::vector<std::string_view> out;
  for (const PyMatch& m : FindIter(subject)) out.push_back(m.group(group_count_ == 0 ? 0 : 1));
  return out;
}

std::string PyRegex::Sub(std::string_view repl, std::string_view subject, std::size_t count) const {
  std::string out;
  std::size_t copied = 0;
  std::size_t done = 0;
  for (const PyMatch& m : FindIter(subject)) {
    if (count != 0 && done == count) break;
    out.append(subject, copied, m.start() - copied);
    for (std::size_t i = 0; i < repl.size();) {
      if (repl[i] == '\\' && i + 1 < repl.size()) {
        i = AppendTemplateEscape(repl, i + 1, m, *this, out);
      } else {
        out += repl[i++];
      }
    }
    copied = m.end();
    ++done;
  }
  out.append(subject, copied, std::string_view::npos);
  return out;
}

std::vector<std::string> PyRegex::Split(std::string_view subject, std::size_t maxsplit) const {
  std::vector<std::string> pieces;
  std::size_t copied = 0;
  std::size_t done = 0;
  for (const PyMatch& m : FindIter(subject)) {
    if (maxsplit != 0 && done == maxsplit) break;
    pieces.emplace_back(subject.substr(copied, m.start() - copied));
    for (std::size_t g = 1; g <= group_count_; ++g) pieces.emplace_back(m.group(g));
    copied = m.end();
    ++done;
  }
  pieces.emplace_back(subject.substr(copied));
  return pieces;
}

}  // namespace r2e::internal
