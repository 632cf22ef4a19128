// Observation text: UTF-8 sanitizing, ANSI stripping, line truncation and the
// scaffold's execute_bash format.
#include "r2e/observation.h"
#include "cpu_time.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>

namespace r2e {
namespace {

using namespace std::chrono_literals;

const std::string kFffd = "\xef\xbf\xbd";

// Whether `s` is well-formed UTF-8 (checked independently of SanitizeUtf8).
bool IsValidUtf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    std::size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1f) : n == 3 ? (b & 0x0f) : (b & 0x07);
    for (std::size_t k = 1; k < n; ++k) {
      unsigned char c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 2) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

std::string Lines(int from, int to) {
  std::string s;
  for (int i = from; i <= to; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

TEST(ObservationTest, ScaffoldTexts) {
  EXPECT_EQ(kFinishedText, "<<< Finished >>>");
  EXPECT_NE(kNoFunctionCallReminder.find("You forgot to use a function call in your response."),
            std::string_view::npos);
  EXPECT_NE(kNoFunctionCallReminder.find("YOU MUST USE A FUNCTION CALL IN EACH RESPONSE."),
            std::string_view::npos);
}

TEST(SanitizeUtf8Test, ValidTextIsUnchanged) {
  const std::string s =
      std::string("plain ascii, caf\xc3\xa9, \xe2\x82\xac, emoji \xf0\x9f\x98\x80, ") +
      "max \xf4\x8f\xbf\xbf, NUL:" + std::string(1, '\0') + ".";
  EXPECT_EQ(SanitizeUtf8(s), s);
  EXPECT_EQ(SanitizeUtf8(""), "");
}

TEST(SanitizeUtf8Test, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(SanitizeUtf8("a\xff"
                         "b"),
            "a" + kFffd + "b");
  EXPECT_EQ(SanitizeUtf8("\x80\x80"), kFffd + kFffd);  // lone continuation bytes
  EXPECT_EQ(SanitizeUtf8("\xf5\x80"), kFffd + kFffd);  // never a lead byte
}

TEST(SanitizeUtf8Test, TruncatedSequenceAtTheEndIsOneReplacement) {
  EXPECT_EQ(SanitizeUtf8("ok \xf0\x9f\x98"), "ok " + kFffd);
  EXPECT_EQ(SanitizeUtf8("ok \xe2\x82"), "ok " + kFffd);
  EXPECT_EQ(SanitizeUtf8("\xc3"), kFffd);
  // A truncated sequence before an ASCII byte keeps that byte.
  EXPECT_EQ(SanitizeUtf8("\xe2\x82x"), kFffd + "x");
}

TEST(SanitizeUtf8Test, OverlongsSurrogatesAndOutOfRangeAreRejected) {
  // Maximal-subpart practice (Unicode Table 3-8, as Python's 'replace'):
  // an invalid second byte ends the subpart after the lead byte.
  EXPECT_EQ(SanitizeUtf8("\xc0\xaf"), kFffd + kFffd);              // overlong '/'
  EXPECT_EQ(SanitizeUtf8("\xe0\x80\xaf"), kFffd + kFffd + kFffd);  // overlong 3-byte
  EXPECT_EQ(SanitizeUtf8("\xf0\x80\x80\xaf"), kFffd + kFffd + kFffd + kFffd);
  EXPECT_EQ(SanitizeUtf8("\xed\xa0\x80"), kFffd + kFffd + kFffd);              // surrogate U+D800
  EXPECT_EQ(SanitizeUtf8("\xf4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
  EXPECT_EQ(SanitizeUtf8("\xf1\x80\x80\xe1\x80\xc2"),
            kFffd + kFffd + kFffd);  // Table 3-8's example
  EXPECT_EQ(SanitizeUtf8("\xf1\x80\x80\xe1\x80\xc2"
                         "A"),
            kFffd + kFffd + kFffd + "A");
}

TEST(SanitizeUtf8Test, RandomBytesAlwaysGiveValidUtf8) {
  std::mt19937 rng(11);
  for (int round = 0; round < 3000; ++round) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? rng() % 128 : 0x80 + rng() % 128);
    std::string out = SanitizeUtf8(s);
    ASSERT_TRUE(IsValidUtf8(out));
    if (IsValidUtf8(s)) {
      EXPECT_EQ(out, s);
    }
  }
}

TEST(SanitizeUtf8Test, HugeInputIsFast) {
  std::string big(20 << 20, '\xe2');
  const auto started = r2e::testing_util::ThreadCpuTime();
  EXPECT_EQ(SanitizeUtf8(big).size(), big.size() * 3);
  // Linear work takes well under a second of CPU; a quadratic scan of 20 MiB
  // would take days. Loose, so that a sanitizer (3-5x) never fails it.
  EXPECT_LT(r2e::testing_util::ThreadCpuTime() - started, 30s);
}

TEST(ObservationStripTest, RemovesAnsiCodesAndCarriageReturns) {
  EXPECT_EQ(StripAnsiAndCr("\x1b[31mred\x1b[0m plain\r\n"), "red plain\n");
  EXPECT_EQ(StripAnsiAndCr("\x1b[1;32mbold\x1b[m"), "bold");
  // Only colour codes, as the scaffold's regex: erase and cursor codes stay.
  EXPECT_EQ(StripAnsiAndCr("a\x1b[2Kb\x1b[?25lc\x1b[10;5Hd\x1b[38:5:1me\r"),
            "a\x1b[2Kb\x1b[?25lc\x1b[10;5Hd\x1b[38:5:1me");
  EXPECT_EQ(StripAnsiAndCr("progress 10%\rprogress 100%\n"), "progress 10%progress 100%\n");
  EXPECT_EQ(StripAnsiAndCr("no codes"), "no codes");
  // Incomplete sequences and a lone ESC are kept as they are.
  EXPECT_EQ(StripAnsiAndCr("x\x1b[31"), "x\x1b[31");
  EXPECT_EQ(StripAnsiAndCr("\x1b"
                           "a"),
            "\x1b"
            "a");
}

TEST(TruncateLinesTest, EightyLinesAreKept) {
  std::string text = Lines(1, 80);
  EXPECT_EQ(TruncateLines(text), text);
  EXPECT_EQ(TruncateLines(""), "");
  // A final line without a newline counts as a line.
  std::string no_final_newline = text.substr(0, text.size() - 1);
  EXPECT_EQ(TruncateLines(no_final_newline), no_final_newline);
}

TEST(TruncateLinesTest, EightyOneLinesKeepFirstAndLastForty) {
  const std::string divider(50, '-');
  std::string expected = Lines(1, 40) + divider + "\n" +
                         "<Observation truncated in middle for saving context>\n" + divider + "\n" +
                         Lines(42, 81);
  expected.pop_back();  // the lines are joined, as the scaffold's "\n".join
  EXPECT_EQ(TruncateLines(Lines(1, 81)), expected);
}

TEST(TruncateLinesTest, CustomKeepAndPythonLineBreaks) {
  EXPECT_EQ(TruncateLines("a\nb\nc", 1),
            "a\n" + std::string(50, '-') +
                "\n<Observation truncated in middle for saving context>\n" + std::string(50, '-') +
                "\nc");
  // \r\n is one break and \r alone is one, as str.splitlines() counts them.
  EXPECT_EQ(TruncateLines("a\r\nb\r\n", 1), "a\r\nb\r\n");
  EXPECT_NE(TruncateLines("a\rb\rc", 1), "a\rb\rc");
}

TEST(ObservationBashTest, SuccessStripsAnsiAndReadsExitCodeZero) {
  ExecResult r;
  r.exit_code = 0;
  r.output = "\x1b[32mok\x1b[0m\r\n";
  Observation o = BashObservation("execute_bash", r, 120s);
  EXPECT_EQ(o.text, "Exit code: 0\nExecution output of [execute_bash]:\nok\n");
}

TEST(ObservationBashTest, FailureKeepsRawOutputAndUsesTheErrorCodeText) {
  ExecResult r;
  r.exit_code = 2;
  r.output = "\x1b[31mls: cannot access 'x'\x1b[0m\n\xff";
  Observation o = BashObservation("execute_bash", r, 120s);
  EXPECT_EQ(o.text,
            "Exit code: Error: Exit code 2\nExecution output of [execute_bash]:\n"
            "\x1b[31mls: cannot access 'x'\x1b[0m\n" +
                kFffd);
  EXPECT_TRUE(IsValidUtf8(o.text));
}

TEST(ObservationBashTest, TimeoutUsesTheScaffoldMessageAndKeepsPartialOutput) {
  ExecResult r;
  r.exit_code = 137;
  r.timed_out = true;
  r.output = "started\n";
  Observation o = BashObservation("bash", r, 90s);
  EXPECT_EQ(o.text,
            "Exit code: -1\nExecution output of [bash]:\n"
            "The command took too long to execute (>90s)\nstarted\n");

  r.output.clear();
  EXPECT_EQ(
      BashObservation("bash", r, 5s).text,
      "Exit code: -1\nExecution output of [bash]:\nThe command took too long to execute (>5s)");
}

TEST(ObservationBashTest, LongOutputIsLineTruncatedAndTruncationNoteKept) {
  ExecResult r;
  r.exit_code = 0;
  r.output = Lines(1, 200);
  Observation o = BashObservation("execute_bash", r, 120s);
  EXPECT_NE(o.text.find("line 40\n---"), std::string::npos);
  EXPECT_NE(o.text.find("---\nline 161\n"), std::string::npos);
  EXPECT_EQ(o.text.find("line 41\n"), std::string::npos);
  EXPECT_NE(o.text.find("<Observation truncated in middle for saving context>"), std::string::npos);

  ExecResult big;
  big.exit_code = 0;
  big.output = "head\n[... r2e: 1000 bytes of output omitted ...]\ntail\n";
  big.truncated_bytes = 1000;
  Observation ob = BashObservation("execute_bash", big, 120s);
  EXPECT_NE(ob.text.find("[... r2e: 1000 bytes of output omitted ...]"), std::string::npos);
}

}  // namespace
}  // namespace r2e
