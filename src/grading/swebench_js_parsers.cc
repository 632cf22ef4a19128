// SWE-bench's JavaScript log parsers that harness v4.1.0 and v5.0.1 both have
// (swebench/harness/log_parsers/javascript.py: the whole file at v4.1.0, its
// last part at v5.0.1), restated with PyRegex. Python semantics as
// grading/parsers.h says. The versions differ in one place: v5 strips the
// test names parse_log_jest captures (spec.rules picks).
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/py_text.h"
#include "grading/parsers.h"
#include "grading/py_regex.h"
#include "grading/status_map_builder.h"
#include "grading/test_status.h"

namespace r2e::internal {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// ForEachLine that stops once f returns false (the Python's break/return).
template <typename F>
void ForEachLineWhile(std::string_view text, F&& f) {
  std::size_t pos = 0;
  for (;;) {
    const std::size_t nl = text.find('\n', pos);
    if (!f(text.substr(pos, nl == kNpos ? kNpos : nl - pos)) || nl == kNpos) return;
    pos = nl + 1;
  }
}

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// The end of the `\d*` run (any script's digits) at text[i].
std::size_t DigitsEnd(std::string_view text, std::size_t i) {
  static const PyRegex kDigit(R"(\d)");
  while (i < text.size()) {
    if (IsAsciiDigit(text[i])) {
      ++i;
    } else if (const auto m =
                   Byte(text, i) >= 0x80 ? kDigit.Match(text.substr(i, 4)) : std::nullopt) {
      i += m->end();
    } else {
      break;
    }
  }
  return i;
}

// Python's len(): code points, not bytes.
std::size_t CharCount(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// `len(line) - len(line.lstrip())`.
std::size_t IndentChars(std::string_view line) {
  return CharCount(line.substr(0, line.size() - PyLStrip(line).size()));
}

std::string_view PyRStrip(std::string_view s) {
  while (!s.empty()) {
    const std::size_t w = PySpaceLenAtEnd(s);
    if (w == 0) break;
    s.remove_suffix(w);
  }
  return s;
}

// The end of the ANSI sequence starting with the ESC at text[i], or 0: the
// pattern `\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])` of the harness's ansi_escape
// (harness/utils.py at v4.1.0, utils.py at v5.0.1). Read by hand: PyRegex
// costs about a microsecond a match, and a coloured log has millions. It is
// exact: every class is an ASCII range, the two branches start differently,
// and giving back a character of a `*` run never lets the next class match.
std::size_t AnsiSequenceEnd(std::string_view text, std::size_t i) {
  auto in = [&](std::size_t j, char lo, char hi) {
    return j < text.size() && text[j] >= lo && text[j] <= hi;
  };
  if (in(i + 1, '@', 'Z') || in(i + 1, '\\', '_')) return i + 2;
  if (!in(i + 1, '[', '[')) return 0;
  std::size_t j = i + 2;
  while (in(j, '0', '?')) ++j;
  while (in(j, ' ', '/')) ++j;
  return in(j, '@', '~') ? j + 1 : 0;
}

// ansi_escape(text): `text` itself when it has no ESC, else the result kept
// in `storage`.
std::string_view AnsiEscape(std::string_view text, std::string& storage) {
  std::size_t esc = text.find('\x1b');
  if (esc == kNpos) return text;
  storage.clear();
  storage.reserve(text.size());
  std::size_t copied = 0;
  for (; esc != kNpos; esc = text.find('\x1b', esc + 1)) {
    const std::size_t end = AnsiSequenceEnd(text, esc);
    if (end == 0) continue;  // a lone ESC stays
    storage.append(text, copied, esc - copied);
    copied = end;
    esc = end - 1;
  }
  storage.append(text, copied);
  return storage;
}

// A stack of suite names and `sep.join(names)`, kept joined so that a test
// line costs the length of its own name rather than the whole stack's.
class SuiteStack {
 public:
  explicit SuiteStack(std::string_view sep) : sep_(sep) {}
  bool empty() const { return ends_.empty(); }
  const std::string& joined() const { return joined_; }
  void Push(std::string_view name) {
    if (!ends_.empty()) joined_ += sep_;
    joined_ += name;
    ends_.push_back(joined_.size());
  }
  void Pop() {
    ends_.pop_back();
    joined_.resize(ends_.empty() ? 0 : ends_.back());
  }

 private:
  std::string_view sep_;
  std::string joined_;
  std::vector<std::size_t> ends_;
};

// The jest/vitest/tap/jest_json shape: `re.match(pattern, line.strip())`
// per line; group 1 names the status, group `name_group` the test. The
// pattern can only match a stripped line that starts with one of `starts`
// (its leading `\s*` matches nothing there), so other lines skip the regex.
template <typename StatusOf>
StatusMap ParseSymbolLines(std::string_view log, std::initializer_list<std::string_view> starts,
                           const PyRegex& pattern, std::size_t name_group, bool strip_name,
                           StatusOf status_of) {
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    const std::string_view stripped = PyStrip(line);
    if (std::none_of(starts.begin(), starts.end(),
                     [&](std::string_view s) { return stripped.starts_with(s); })) {
      return;
    }
    const auto m = pattern.Match(stripped);
    if (!m) return;
    const std::string_view name = m->group(name_group);
    out.Add(strip_name ? PyStrip(name) : name, status_of(m->group(1)));
  });
  return out.Build();
}

// ---------------------------------------------------------------------------
// p5.js: remove_json_blocks, remove_xml_blocks.

// Drops the lines of JSON-looking blocks: from a line ending in '{' or '['
// to a line that is just the closing bracket, and one-line {...} / [...].
std::string RemoveJsonBlocks(std::string_view log) {
  std::string out;
  out.reserve(log.size());
  bool in_object = false;
  bool in_list = false;
  bool first = true;
  ForEachLine(log, [&](std::string_view line) {
    const std::string_view s = PyRStrip(line);
    if (s.ends_with('{')) {
      in_object = true;
    } else if (s.ends_with('[')) {
      in_list = true;
    } else if (s == "}" && in_object) {
      in_object = false;
    } else if (s == "]" && in_list) {
      in_list = false;
    } else if (!in_object && !in_list && !(s.starts_with('{') && s.ends_with('}')) &&
               !(s.starts_with('[') && s.ends_with(']'))) {
      if (!first) out += '\n';
      first = false;
      out += line;
    }
  });
  return out;
}

bool IsAsciiWord(char c) {
  return IsAsciiDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// A byte that may belong to a `\w` character.
bool MaybeWordByte(char c) { return IsAsciiWord(c) || static_cast<unsigned char>(c) >= 0x80; }

// The tag of `<(\w+)>` (prefix "<") or `</(\w+)>` (prefix "</") matched at
// text[p], or empty. ASCII tags are read by hand (this runs at every '<').
std::string_view TagAt(std::string_view text, std::size_t p, std::string_view prefix,
                       const PyRegex& pattern) {
  std::size_t i = p + prefix.size();
  while (i < text.size() && IsAsciiWord(text[i])) ++i;
  if (i == text.size()) return {};
  if (text[i] == '>') return text.substr(p + prefix.size(), i - p - prefix.size());
  if (static_cast<unsigned char>(text[i]) < 0x80) return {};
  const auto m = pattern.Match(text, p);
  return m ? m->group(1) : std::string_view();
}

struct TagHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// The Python loop: `re.search(r"<(\w+)>[\s\S]*?<\/\1>", text)` from the start
// each time, the match replaced by `<tag>` once per further `<tag>` inside
// it. Searching from the start again is quadratic, and so is the regex
// alone: at each `<tag>` with no `</tag>` after it (mocha's `<anonymous>` in
// every stack trace) the lazy scan runs to the end of the log. So the same
// matches are found by hand, left to right: the leftmost `<tag>` that some
// later `</tag>` follows, ending at the first such `</tag>`, the closing tags
// indexed once. Text left of the last match can match again only where a
// removal joins the text around it into a new tag: a new `<tag>` is scanned
// from its start, and a new `</tag>` closes the first `<tag>` left of it.
// The `<tag>`s a removal leaves are kept as a count, not text: nested blocks
// would otherwise be counted again at every removal.
std::string RemoveXmlBlocks(std::string buf) {
  static const PyRegex kOpen(R"(<(\w+)>)");
  static const PyRegex kClose(R"(</(\w+)>)");
  if (buf.find("</") == kNpos) return buf;  // no block can end
  // The text is buf[0, pre) + `run` copies of `opener` + buf[live, n), and no
  // match starts in buf[0, pre). Closing tags from `tail` on are where they
  // were indexed.
  const std::size_t n = buf.size();
  std::size_t pre = 0;
  std::size_t live = 0;
  std::size_t tail = 0;
  std::size_t run = 0;
  std::string opener;
  std::unordered_map<std::string, std::vector<std::size_t>, TagHash, std::equal_to<>> closers;
  for (std::size_t p = buf.find("</"); p != kNpos; p = buf.find("</", p + 1)) {
    const std::string_view tag = TagAt(buf, p, "</", kClose);
    if (tag.empty()) continue;
    auto it = closers.find(tag);
    if (it == closers.end()) it = closers.try_emplace(std::string(tag)).first;
    it->second.push_back(p);
  }
  auto first_closer = [&](std::string_view tag, std::size_t from) {
    from = std::max(from, tail);
    const auto it = closers.find(tag);
    if (it == closers.end() || it->second.back() < from) return kNpos;
    return *std::lower_bound(it->second.begin(), it->second.end(), from);
  };
  // The first `<tag>` of each tag in buf[0, pre), and the same in text order.
  std::unordered_map<std::string, std::size_t, TagHash, std::equal_to<>> first_open;
  std::vector<std::pair<std::size_t, std::string_view>> first_open_order;
  auto note_open = [&](std::string_view tag, std::size_t pos) {
    if (first_open.find(tag) != first_open.end()) return;
    const auto it = first_open.try_emplace(std::string(tag), pos).first;
    first_open_order.emplace_back(pos, it->first);
  };
  auto cut_prefix = [&](std::size_t at) {
    while (!first_open_order.empty() && first_open_order.back().first >= at) {
      first_open.erase(first_open.find(first_open_order.back().second));
      first_open_order.pop_back();
    }
    pre = at;
  };
  auto count_openers = [&](std::size_t begin, std::size_t end) {
    const std::string_view text(buf.data(), end);
    std::size_t count = 0;
    for (std::size_t q = text.find(opener, begin); q != kNpos;
         q = text.find(opener, q + opener.size())) {
      ++count;
    }
    return count;
  };
  // Removes the match [begin, end) of buf[live, n) (after `count` openers of
  // the run, if it starts with the run); buf[live, begin) joins the prefix.
  auto take_match = [&](std::size_t begin, std::size_t end, std::size_t count) {
    count += count_openers(begin, end);
    std::memmove(buf.data() + pre, buf.data() + live, begin - live);
    pre += begin - live;
    live = tail = end;
    run = count - 1;  // count >= 1: the match's own opener
  };
  // After a removal that left nothing: the prefix may end in "<", "</" or
  // "<" and the start of a tag, which buf[live, n) completes.
  auto join = [&] {
    while (run == 0 && live < n) {
      std::size_t b = pre;
      while (b > 0 && MaybeWordByte(buf[b - 1])) --b;
      if (b > 0 && buf[b - 1] == '/') --b;
      if (b == 0 || buf[b - 1] != '<') return;
      const std::size_t c = b - 1;
      std::size_t r = live + (buf[live] == '/');
      while (r < n && MaybeWordByte(buf[r])) ++r;
      std::string joint = buf.substr(c, pre - c);
      joint.append(buf, live, std::min(r + 1, n) - live);
      if (joint[1] != '/') {
        if (TagAt(joint, 0, "<", kOpen).empty()) return;
        // A new opener: put its start next to the rest and scan from it.
        std::memmove(buf.data() + live - (pre - c), buf.data() + c, pre - c);
        live -= pre - c;
        cut_prefix(c);
        return;
      }
      const std::string_view tag = TagAt(joint, 0, "</", kClose);
      if (tag.empty()) return;
      const auto first = first_open.find(tag);
      if (first == first_open.end()) return;
      // A new closer: it closes the first opener of its tag in the prefix.
      const std::size_t from = first->second;
      const std::size_t end = live + joint.find('>') + 1 - (pre - c);
      opener = "<" + std::string(tag) + ">";
      run = count_openers(from, c) - 1;
      cut_prefix(from);
      live = tail = end;
    }
  };
  std::size_t cursor = 0;
  for (;;) {
    if (run > 0) {
      // The run's first opener matches up to the first closer after it.
      const std::string_view tag = std::string_view(opener).substr(1, opener.size() - 2);
      const std::size_t close = first_closer(tag, live);
      if (close != kNpos) {
        take_match(live, close + opener.size() + 1, run);
      } else {
        // No opener of the run can match any more: it is text now (pre + its
        // length <= live, as the run is no longer than what it replaced).
        note_open(tag, pre);
        for (; run > 0; --run, pre += opener.size()) {
          std::memcpy(buf.data() + pre, opener.data(), opener.size());
        }
      }
    } else {
      const std::string_view text(buf.data(), n);
      const std::size_t p = text.find('<', cursor);
      if (p == kNpos) break;
      cursor = p + 1;
      const std::string_view tag = TagAt(text, p, "<", kOpen);
      if (tag.empty()) continue;
      const std::size_t close = first_closer(tag, p + tag.size() + 2);
      if (close == kNpos) {
        note_open(tag, pre + (p - live));  // where it lands in the prefix
        continue;
      }
      opener.assign(text.substr(p, tag.size() + 2));
      take_match(p, close + tag.size() + 3, 0);
    }
    join();
    cursor = live;
  }
  std::string out(buf, 0, pre);
  for (; run > 0; --run) out += opener;
  out.append(buf, live, n - live);
  return out;
}
// is_valid_fail: each line of the captured name indented deeper than the one
// before (the first deeper than 0).
bool IsValidFail(std::string_view name) {
  std::size_t last = 0;
  bool ok = true;
  ForEachLineWhile(name, [&](std::string_view line) {
    const std::size_t indent = IndentChars(line);
    ok = indent > last;
    last = indent;
    return ok;
  });
  return ok;
}

}  // namespace

// Test lines of the jest runs the log holds (after each
// " ./node_modules/.bin/jest "), named by the indented suite lines above them.
Result<StatusMap> ParseCalypso(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kDuration(R"(\(\d+ms\))");
  static const PyRegex kPassTimed(R"(^\s+✓\s(.*)\(\d+ms\)$)");
  static const PyRegex kPass(R"(^\s+✓\s(.*))");
  static const PyRegex kFailTimed(R"(^\s+✕\s(.*)\(\d+ms\)$)");
  static const PyRegex kFail(R"(^\s+✕\s(.*))");
  constexpr std::string_view kRun = " ./node_modules/.bin/jest ";
  StatusMapBuilder out(log);
  // The suite stack lives on from one run to the next, as in the Python.
  SuiteStack suite(" - ");
  std::vector<std::size_t> indents;
  bool crashed = false;
  for (std::size_t hit = log.find(kRun); hit != kNpos && !crashed;) {
    const std::size_t begin = hit + kRun.size();
    hit = log.find(kRun, begin);
    const std::string_view run = log.substr(begin, hit == kNpos ? kNpos : hit - begin);
    ForEachLineWhile(run, [&](std::string_view line) {
      if (line.starts_with("Test Suites") || line.starts_with("  ● ")) return false;
      const std::string_view stripped = PyStrip(line);
      const bool passed = stripped.starts_with("✓");
      if (passed || stripped.starts_with("✕")) {
        const bool timed = kDuration.Search(line).has_value();
        const PyRegex& pattern =
            passed ? (timed ? kPassTimed : kPass) : (timed ? kFailTimed : kFail);
        const auto m = pattern.Match(line);
        // `re.match(...).group(1)` on None: e.g. "✓" without indent, or a
        // "(12ms)" that is not at the end of the line.
        if (!m) {
          crashed = true;
          return false;
        }
        std::string name = suite.joined();
        name += " - ";
        name += m->group(1);
        out.Add(std::string(PyStrip(name)), passed ? kPassed : kFailed);
        return true;
      }
      const std::size_t indent = IndentChars(line);
      if (indent > 0) {
        while (!indents.empty() && indents.back() >= indent) {
          indents.pop_back();
          suite.Pop();
        }
        indents.push_back(indent);
        suite.Push(stripped);
      }
      return true;
    });
  }
  if (crashed) {
    return Status::InvalidArgument(
        "parse_log_calypso: AttributeError: 'NoneType' object has no attribute 'group'");
  }
  return out.Build();
}

// Karma's "Chrome <version> (<platform>) <test> FAILED" lines (ANSI codes
// removed); the group may run across a line end after "Chrome".
Result<StatusMap> ParseChartJs(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kFailure(R"(Chrome\s[\d\.]+[^\S\r\n]\(.+?\)[^\S\r\n](.*)FAILED$)",
                                kReMultiline);
  std::string storage;
  const std::string_view text = AnsiEscape(log, storage);
  StatusMapBuilder out(text);
  for (const PyMatch& m : kFailure.FindIter(text)) out.Add(m.group(1), kFailed);
  return out.Build();
}

// Mocha/jasmine's numbered failure lines "<n>) <name>".
Result<StatusMap> ParseMarked(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kFailure(R"(^\d+\)\s(.*))");
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    if (DigitsEnd(line, 0) == 0) return;
    if (const auto m = kFailure.Match(line)) out.Add(PyStrip(m->group(1)), kFailed);
  });
  return out.Build();
}

// Mocha's numbered failures "<n>) <suite>\n   <test>:" once JSON-looking and
// <tag>...</tag> blocks are gone; the name's lines, stripped, joined by ':'.
Result<StatusMap> ParseP5js(std::string_view log, const LogParserSpec& /*spec*/) {
  // The Python's `^\s*(\d+)\)(.{0,1000}?):` (MULTILINE | DOTALL), its
  // `^\s*(\d+)\)` done by hand. From every line start of a run of blank lines
  // `\s*` reaches the same place, so it is tried there once (else 10 MB of
  // blank lines would take quadratic time); and the regex runs only where
  // "<digits>)" is, on a window just long enough for the rest (PCRE2 looks
  // for the ':' as far ahead as the subject lets it, on every line).
  static const PyRegex kFailTail(R"((\d+)\)(.{0,1000}?):)", kReDotAll);
  std::string storage;
  const std::string text = RemoveXmlBlocks(RemoveJsonBlocks(AnsiEscape(log, storage)));
  StatusMapBuilder out(text);
  std::size_t line_start = 0;
  for (;;) {
    std::size_t q = line_start;
    for (std::size_t w; q < text.size() && (w = PySpaceLen(text, q)) > 0;) q += w;
    std::size_t after = q;
    const std::size_t paren = DigitsEnd(text, q);
    const bool tried = paren > q && paren < text.size() && text[paren] == ')';
    // ')' and at most 1000 characters (4 bytes each at most) before the ':'.
    const std::string_view window = std::string_view(text).substr(0, paren + 4002);
    if (const auto m = tried ? kFailTail.Match(window, q) : std::nullopt) {
      after = m->end();
      const std::string_view body = m->group(2);
      if (IsValidFail(body)) {
        std::string name;
        bool first = true;
        ForEachLine(body, [&](std::string_view part) {
          if (!first) name += ':';
          first = false;
          name += PyStrip(part);
        });
        out.Add(std::move(name), kFailed);
      }
    }
    const std::size_t nl = text.find('\n', after);
    if (nl == kNpos) break;
    line_start = nl + 1;
  }
  return out.Build();
}

// Jest's per-file "PASS <file> (<time>)" / "FAIL <file>" lines.
Result<StatusMap> ParseReactPdf(std::string_view log, const LogParserSpec& /*spec*/) {
  struct Pattern {
    PyRegex regex;
    std::string_view status;
  };
  static const Pattern kPatterns[] = {
      {PyRegex(R"(^PASS\s(.*)\s\([\d\.]+ms\))"), kPassed},
      {PyRegex(R"(^PASS\s(.*)\s\([\d\.]+\ss\))"), kPassed},
      {PyRegex(R"(^PASS\s(.*)\s\([\d\.]+s\))"), kPassed},
      {PyRegex(R"(^PASS\s(.*))"), kPassed},
      {PyRegex(R"(^FAIL\s(.*)\s\([\d\.]+ms\))"), kFailed},
      {PyRegex(R"(^FAIL\s(.*)\s\([\d\.]+\ss\))"), kFailed},
      {PyRegex(R"(^FAIL\s(.*)\s\([\d\.]+s\))"), kFailed},
      {PyRegex(R"(^FAIL\s(.*))"), kFailed},
  };
  StatusMapBuilder out(log);
  ForEachLine(log, [&](std::string_view line) {
    if (!line.starts_with("PASS") && !line.starts_with("FAIL")) return;
    for (const Pattern& p : kPatterns) {
      if (const auto m = p.regex.Match(line)) {
        out.Add(m->group(1), p.status);
        return;
      }
    }
  });
  return out.Build();
}

// Jest --verbose: "✓|✕|○ <name> (<time>)".
Result<StatusMap> ParseJest(std::string_view log, const LogParserSpec& spec) {
  static const PyRegex kLine(R"(^\s*(✓|✕|○)\s(.+?)(?:\s\((\d+\s*m?s)\))?$)");
  return ParseSymbolLines(log, {"✓", "✕", "○"}, kLine, 2, spec.rules == GradingRules::kV5,
                          [](std::string_view sym) {
                            return sym == "✓" ? kPassed : sym == "✕" ? kFailed : kSkipped;
                          });
}

// Jest --json turned into "[PASSED] <name>" / "[FAILED] <name>" lines by jq.
Result<StatusMap> ParseJestJson(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^\[(PASSED|FAILED)\]\s(.+)$)");
  return ParseSymbolLines(
      log, {"[PASSED]", "[FAILED]"}, kLine, 2, false,
      [](std::string_view status) { return status == "PASSED" ? kPassed : kFailed; });
}

// Vitest --reporter=verbose: "✓|×|↓ <name> <time>|[skipped]".
Result<StatusMap> ParseVitest(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^\s*(✓|×|↓)\s(.+?)(?:\s(\d+\s*m?s?|\[skipped\]))?$)");
  return ParseSymbolLines(log, {"✓", "×", "↓"}, kLine, 2, false, [](std::string_view sym) {
    return sym == "✓" ? kPassed : sym == "×" ? kFailed : kSkipped;
  });
}

// Karma's spec reporter between "Starting browser" and "SUMMARY:": "✔|✖
// <name>" under suite lines, the suite told by indentation.
Result<StatusMap> ParseKarma(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^(\s*)?([✔✖])?\s(.*)$)");
  StatusMapBuilder out(log);
  SuiteStack suite(" > ");
  std::ptrdiff_t current_indent = -1;
  bool started = false;
  bool crashed = false;
  ForEachLineWhile(log, [&](std::string_view line) {
    if (line.starts_with("SUMMARY:")) return false;
    if (line.find("Starting browser") != kNpos) {
      started = true;
      return true;
    }
    if (!started) return true;
    // The pattern needs a `\s`, '✔' or '✖' first.
    if (line.empty() || (Byte(line, 0) < 0x80 && PySpaceLen(line, 0) == 0)) return true;
    const auto m = kLine.Match(line);
    if (!m) return true;
    const std::string_view indent = m->group(1);
    const std::string_view status = m->group(2);
    const std::string_view name = m->group(3);
    if (!indent.empty() && status.empty()) {
      const auto new_indent = static_cast<std::ptrdiff_t>(CharCount(indent));
      if (new_indent > current_indent) {
        current_indent = new_indent;
        suite.Push(name);
      } else if (new_indent < current_indent) {
        current_indent = new_indent;
        // `current_suite.pop()` on an empty list: a line less indented than
        // the line that emptied the stack.
        if (suite.empty()) {
          crashed = true;
          return false;
        }
        suite.Pop();
        return true;
      }
    }
    if (status.empty()) return true;
    const std::string_view result = status == "✔" ? kPassed : kFailed;
    if (suite.empty()) {
      out.Add(name, result);
    } else {
      std::string full = suite.joined();
      full += " > ";
      full += name;
      out.Add(std::move(full), result);
    }
    return true;
  });
  if (crashed) return Status::InvalidArgument("parse_log_karma: IndexError: pop from empty list");
  return out.Build();
}

// TAP: "ok <n> <name>" / "not ok <n> <name>".
Result<StatusMap> ParseTap(std::string_view log, const LogParserSpec& /*spec*/) {
  static const PyRegex kLine(R"(^(ok|not ok) (\d+) (.+)$)");
  return ParseSymbolLines(log, {"ok ", "not ok "}, kLine, 3, false, [](std::string_view status) {
    return status == "ok" ? kPassed : kFailed;
  });
}

// immutable-js: jest or jest_json by the pull request number that ends the
// instance id.
Result<StatusMap> ParseImmutableJs(std::string_view log, const LogParserSpec& spec) {
  const std::string_view id = spec.instance_id;
  const std::size_t dash = id.rfind('-');
  const std::string_view pr = dash == kNpos ? id : id.substr(dash + 1);
  if (pr == "2006") return ParseJest(log, spec);
  if (pr == "2005") return ParseJestJson(log, spec);
  return Status::InvalidArgument("parse_log_immutable_js: ValueError: Unknown instance id: " +
                                 spec.instance_id);
}

}  // namespace r2e::internal
