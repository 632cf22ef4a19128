// SWE-bench's parse_log_chart_js, parse_log_marked and parse_log_p5js
// (swebench/harness/log_parsers/javascript.py at v4.1.0 and v5.0.1, the same
// in both): the JavaScript parsers that read karma's and mocha's failure
// lines (the others both versions have are in swebench_js_parsers.cc).
// Python semantics as grading/parsers.h says.
#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
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

// str.count: the non-overlapping `needle`s in text[begin, end).
std::size_t CountIn(std::string_view text, std::string_view needle, std::size_t begin,
                    std::size_t end) {
  const std::string_view range = text.substr(0, end);
  std::size_t count = 0;
  for (std::size_t q = range.find(needle, begin); q != kNpos;
       q = range.find(needle, q + needle.size())) {
    ++count;
  }
  return count;
}

// The Python loop: `re.search(r"<(\w+)>[\s\S]*?<\/\1>", text)` from the start
// each time, the match replaced by `<tag>` once per further `<tag>` inside
// it. Searching from the start again is quadratic, and so is the regex
// alone: at each `<tag>` with no `</tag>` after it (mocha's `<anonymous>` in
// every stack trace) the lazy scan runs to the end of the log. So the same
// matches are found by hand, left to right: the leftmost `<tag>` that some
// later `</tag>` follows, ending at the first such `</tag>`, the closing tags
// indexed once. Text left of the last match can match again only where a
// removal joins the text around it into a new tag: a new `<tag>` is tried
// there, and a new `</tag>` closes the first `<tag>` left of it. The result
// is kept as pieces of the text and counted runs of `<tag>`, so that nested
// or re-joined blocks are not copied again at every removal.
std::string RemoveXmlBlocks(std::string input) {
  static const PyRegex kOpen(R"(<(\w+)>)");
  static const PyRegex kClose(R"(</(\w+)>)");
  if (input.find("</") == kNpos) return input;  // no block can end
  const std::string_view text = input;
  const std::size_t n = text.size();
  std::unordered_map<std::string, std::vector<std::size_t>, TagHash, std::equal_to<>> closers;
  std::size_t closer_count = 0;
  for (std::size_t p = text.find("</"); p != kNpos; p = text.find("</", p + 1)) {
    const std::string_view tag = TagAt(text, p, "</", kClose);
    if (tag.empty()) continue;
    auto it = closers.find(tag);
    if (it == closers.end()) it = closers.try_emplace(std::string(tag)).first;
    it->second.push_back(p);
    ++closer_count;
  }
  // The text now: the pieces in `done` (done_size bytes), `run` copies of
  // `opener`, and text[live, n). No match starts in `done`; the closing tags
  // before `tail` are gone.
  struct Piece {
    std::size_t at;          // in the text now
    std::size_t begin, end;  // text[begin, end), or `copies` times run_openers[begin]
    std::size_t copies;
    std::size_t word_from;  // where the word bytes that end `done` up to here start
  };
  std::vector<Piece> done;
  done.reserve(closer_count + 1);  // about one piece a match
  std::vector<std::string> run_openers;
  std::size_t done_size = 0;
  std::size_t live = 0;
  std::size_t tail = 0;
  std::size_t run = 0;
  std::string opener;
  auto first_closer = [&](std::string_view tag, std::size_t from) {
    from = std::max(from, tail);
    const auto it = closers.find(tag);
    if (it == closers.end() || it->second.back() < from) return kNpos;
    return *std::lower_bound(it->second.begin(), it->second.end(), from);
  };
  // The openers in `done`: per tag the first one's position and their number,
  // and each (or each run) in text order.
  struct Openers {
    std::size_t first = 0;
    std::size_t count = 0;
  };
  std::unordered_map<std::string, Openers, TagHash, std::equal_to<>> done_openers;
  struct Noted {
    std::size_t at;
    std::string_view tag;  // a key of done_openers
    std::size_t count;
  };
  std::vector<Noted> noted;
  auto note_open = [&](std::string_view tag, std::size_t at, std::size_t count) {
    auto it = done_openers.find(tag);
    if (it == done_openers.end()) {
      it = done_openers.try_emplace(std::string(tag), Openers{at, 0}).first;
    }
    it->second.count += count;
    noted.push_back({at, it->first, count});
  };
  auto word_from = [&] { return done.empty() ? 0 : done.back().word_from; };
  auto append_text = [&](std::size_t begin, std::size_t end) {
    if (begin == end) return;
    std::size_t i = end;
    while (i > begin && MaybeWordByte(text[i - 1])) --i;
    const std::size_t from = i > begin ? done_size + (i - begin) : word_from();
    done.push_back({done_size, begin, end, 0, from});
    done_size += end - begin;
  };
  auto byte_at = [&](std::size_t at) {
    const Piece& p = *(std::upper_bound(done.begin(), done.end(), at,
                                        [](std::size_t a, const Piece& q) { return a < q.at; }) -
                       1);
    if (p.copies == 0) return text[p.begin + (at - p.at)];
    const std::string& what = run_openers[p.begin];
    return what[(at - p.at) % what.size()];
  };
  // Drops done[at, done_size). Never inside a run: a cut is at a '<' that
  // only word bytes follow, or at the first opener of a tag (a run is noted
  // at its start).
  auto cut = [&](std::size_t at) {
    for (; !noted.empty() && noted.back().at >= at; noted.pop_back()) {
      const auto it = done_openers.find(noted.back().tag);
      if ((it->second.count -= noted.back().count) == 0) done_openers.erase(it);
    }
    while (!done.empty() && done.back().at >= at) done.pop_back();
    done_size = at;
    if (done.empty() || done.back().copies > 0) return;
    Piece& p = done.back();
    if (p.at + (p.end - p.begin) <= at) return;
    p.end = p.begin + (at - p.at);
    std::size_t i = p.end;
    while (i > p.begin && MaybeWordByte(text[i - 1])) --i;
    const std::size_t before = done.size() > 1 ? done[done.size() - 2].word_from : 0;
    p.word_from = i > p.begin ? p.at + (i - p.begin) : before;
  };
  // The match text[begin, end) (after the run's `count` openers when it
  // starts with the run); text[live, begin) is done.
  auto take_match = [&](std::size_t begin, std::size_t end, std::size_t count) {
    append_text(live, begin);
    run = count + CountIn(text, opener, begin, end) - 1;  // >= 0: the match's own opener
    live = tail = end;
  };
  // After a removal that left nothing: `done` may end in "<", "</" or "<"
  // and the start of a tag that text[live, n) completes.
  auto join = [&] {
    while (run == 0 && live < n) {
      std::size_t r = live + (text[live] == '/');
      while (r < n && MaybeWordByte(text[r])) ++r;
      if (r == n || text[r] != '>') return;
      std::size_t s = word_from();
      if (s > 0 && byte_at(s - 1) == '/') --s;
      if (s == 0 || byte_at(s - 1) != '<') return;
      const std::size_t c = s - 1;
      std::string joint;
      for (std::size_t i = c; i < done_size; ++i) joint += byte_at(i);
      joint.append(text, live, r + 1 - live);
      if (joint[1] != '/') {
        const std::string_view tag = TagAt(joint, 0, "<", kOpen);
        if (tag.empty()) return;
        const std::size_t close = first_closer(tag, r + 1);
        if (close == kNpos) {
          note_open(tag, c, 1);
          return;
        }
        opener = "<" + std::string(tag) + ">";
        run = CountIn(text, opener, r + 1, close);
        cut(c);
        live = tail = close + tag.size() + 3;
      } else {
        const std::string_view tag = TagAt(joint, 0, "</", kClose);
        const auto it = done_openers.find(tag);
        if (tag.empty() || it == done_openers.end()) return;
        opener = "<" + std::string(tag) + ">";
        run = it->second.count - 1;
        cut(it->second.first);
        live = tail = r + 1;
      }
    }
  };
  std::size_t cursor = 0;
  for (;;) {
    if (run > 0) {
      // The run's first opener matches up to the first closer after it.
      const std::string_view tag = std::string_view(opener).substr(1, opener.size() - 2);
      const std::size_t close = first_closer(tag, live);
      if (close == kNpos) {
        // No opener of the run can match any more: it is done.
        note_open(tag, done_size, run);
        done_size += run * opener.size();
        done.push_back({done_size - run * opener.size(), run_openers.size(), 0, run, done_size});
        run_openers.push_back(opener);
        run = 0;
        continue;
      }
      take_match(live, close + opener.size() + 1, run);
    } else {
      const std::size_t p = text.find('<', cursor);
      if (p == kNpos) break;
      cursor = p + 1;
      const std::string_view tag = TagAt(text, p, "<", kOpen);
      if (tag.empty()) continue;
      const std::size_t close = first_closer(tag, p + tag.size() + 2);
      if (close == kNpos) {
        note_open(tag, done_size + (p - live), 1);  // where it will be done
        continue;
      }
      opener.assign(text.substr(p, tag.size() + 2));
      take_match(p, close + tag.size() + 3, 0);
    }
    join();
    cursor = live;
  }
  std::string out;
  for (const Piece& p : done) {
    if (p.copies == 0) out.append(text, p.begin, p.end - p.begin);
    for (std::size_t k = 0; k < p.copies; ++k) out += run_openers[p.begin];
  }
  out.append(text, live);
  return out;
}

// is_valid_fail: each line of the captured name indented deeper than the one
// before (the first deeper than 0).
bool IsValidFail(std::string_view name) {
  std::size_t last = 0;
  bool ok = true;
  ForEachLineWhile(name, [&](std::string_view line) {
    const std::size_t indent = PyIndent(line);
    ok = indent > last;
    last = indent;
    return ok;
  });
  return ok;
}

}  // namespace

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

}  // namespace r2e::internal
