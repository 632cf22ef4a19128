// QuickJsonReader against nlohmann's parser, on generated JSON and on
// corruptions of it: whatever the quick reader accepts, nlohmann accepts too,
// with the same handler events; and the quick reader does accept the common
// text (else the parsers that use it would always take the slow path).
#include "core/quick_json_reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace r2e::internal {
namespace {

// Every event as text, in order.
struct SaxRecorder : nlohmann::json_sax<nlohmann::json> {
  std::vector<std::string> events;

  bool null() override { return Add("null"); }
  bool boolean(bool v) override { return Add(v ? "true" : "false"); }
  bool number_integer(number_integer_t v) override { return Add("int " + std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Add("uint " + std::to_string(v)); }
  bool number_float(number_float_t v, const string_t& text) override {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return Add("float " + std::string(buf) + " " + text);
  }
  bool string(string_t& v) override { return Add("string " + v); }
  bool binary(binary_t&) override { return Add("binary"); }
  bool start_object(std::size_t) override { return Add("{"); }
  bool key(string_t& v) override { return Add("key " + v); }
  bool end_object() override { return Add("}"); }
  bool start_array(std::size_t) override { return Add("["); }
  bool end_array() override { return Add("]"); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool Add(std::string event) {
    events.push_back(std::move(event));
    return true;
  }
};

class JsonTextGenerator {
 public:
  explicit JsonTextGenerator(unsigned seed) : rng_(seed) {}

  // A value of at most `depth` levels, with random spacing. `plain` leaves
  // out what the quick reader hands to nlohmann (\u escapes, huge numbers).
  std::string Value(int depth, bool plain) {
    const int kind = Pick(depth > 0 ? 8 : 6);
    std::string out = Space();
    switch (kind) {
      case 0:
        out += Pick(2) ? "true" : "false";
        break;
      case 1:
        out += "null";
        break;
      case 2:
      case 3:
        out += Number(plain);
        break;
      case 4:
      case 5:
        out += String(plain);
        break;
      case 6: {
        out += '[';
        const int n = Pick(4);
        for (int i = 0; i < n; ++i) out += (i ? "," : "") + Value(depth - 1, plain);
        out += Space() + ']';
        break;
      }
      default: {
        out += '{';
        const int n = Pick(4);
        for (int i = 0; i < n; ++i) {
          out += (i ? "," : "") + Space() + String(plain) + Space() + ":" + Value(depth - 1, plain);
        }
        out += Space() + '}';
        break;
      }
    }
    return out + Space();
  }

  // The text with one to three random edits.
  std::string Corrupt(std::string text) {
    static const char* const kBytes[] = {"\"",
                                         "\\",
                                         "{",
                                         "}",
                                         "[",
                                         "]",
                                         ",",
                                         ":",
                                         "\x01",
                                         "\xff",
                                         "\xc3",
                                         "\xed\xa0\x80",
                                         "\xe0\x80\xaf",
                                         "\xf0\x80\x80\x80",
                                         "\xf4\x90\x80\x80",
                                         "\xc0\xaf",
                                         "e",
                                         "-",
                                         ".",
                                         "0",
                                         "\t",
                                         "\\u",
                                         "tru",
                                         "nul"};
    for (int edits = 1 + Pick(3); edits > 0 && !text.empty(); --edits) {
      const std::size_t at = rng_() % text.size();
      switch (Pick(3)) {
        case 0:
          text.erase(at, 1 + Pick(3));
          break;
        case 1:
          text.insert(at, kBytes[Pick(static_cast<int>(std::size(kBytes)))]);
          break;
        default:
          text.resize(at);
      }
    }
    return text;
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<unsigned>(n)); }

  std::string Space() {
    static const char* const kSpaces[] = {"", "", "", " ", "\n  ", "\r\n", "\t"};
    return kSpaces[Pick(7)];
  }

  std::string Number(bool plain) {
    static const char* const kNumbers[] = {"0",
                                           "-0",
                                           "7",
                                           "-42",
                                           "3.25",
                                           "-0.5",
                                           "1e3",
                                           "2.5E-3",
                                           "6e+2",
                                           "9007199254740993",
                                           "-9223372036854775808",
                                           "18446744073709551615",
                                           "0.1",
                                           "1e-7",
                                           "123456.789"};
    static const char* const kHuge[] = {"18446744073709551616", "-9223372036854775809", "1e400",
                                        "1e-400"};
    if (!plain && Pick(4) == 0) return kHuge[Pick(4)];
    return kNumbers[Pick(static_cast<int>(std::size(kNumbers)))];
  }

  std::string String(bool plain) {
    static const char* const kPieces[] = {"a",   "fullTitle", " ", "\\\"", "\\\\", "\\/",  "\\n",
                                          "\\t", "\\b\\f\\r", "ü", "日本", "✓",    "\x7f", "x y"};
    std::string out = "\"";
    for (int n = Pick(5); n > 0; --n) {
      if (!plain && Pick(5) == 0) {
        out += Pick(2) ? "\\u00e9" : "\\ud83d\\ude00";
      } else {
        out += kPieces[Pick(static_cast<int>(std::size(kPieces)))];
      }
    }
    return out + "\"";
  }

  std::mt19937 rng_;
};

struct Verdicts {
  bool quick = false;
  bool nlohmann = false;
  bool same_events = false;
};

Verdicts ReadBoth(const std::string& text) {
  SaxRecorder quick_events, nlohmann_events;
  Verdicts v;
  v.quick = QuickJsonReader(text, quick_events).Read();
  v.nlohmann = nlohmann::json::sax_parse(text, &nlohmann_events);
  v.same_events = quick_events.events == nlohmann_events.events;
  return v;
}

TEST(QuickJsonReader, AcceptsPlainJsonWithNlohmannsEvents) {
  JsonTextGenerator gen(20261206);
  for (int i = 0; i < 3000; ++i) {
    const std::string text = gen.Value(4, /*plain=*/true);
    const Verdicts v = ReadBoth(text);
    ASSERT_TRUE(v.nlohmann) << text;
    ASSERT_TRUE(v.quick) << text;
    ASSERT_TRUE(v.same_events) << text;
  }
}

TEST(QuickJsonReader, WhatItAcceptsNlohmannReadsTheSame) {
  JsonTextGenerator gen(7);
  int quick_accepted = 0, handed_over = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = gen.Value(4, /*plain=*/false);
    if (i % 2) text = gen.Corrupt(std::move(text));
    const Verdicts v = ReadBoth(text);
    if (v.quick) {
      ++quick_accepted;
      ASSERT_TRUE(v.nlohmann) << text;
      ASSERT_TRUE(v.same_events) << text;
    } else if (v.nlohmann) {
      ++handed_over;
    }
  }
  // Both sides of the hand-over occur in the sample.
  EXPECT_GT(quick_accepted, 2000);
  EXPECT_GT(handed_over, 100);
}

TEST(QuickJsonReader, RefusesWhatIsNotJson) {
  for (const char* text : {"",
                           " ",
                           "{",
                           "[1,]",
                           "{\"a\":1,}",
                           "{\"a\" 1}",
                           "01",
                           "1.",
                           "-",
                           "1e",
                           ".5",
                           "+1",
                           "tru",
                           "nulls",
                           "\"a",
                           "\"\x01\"",
                           "\"\\x\"",
                           "\"\xff\"",
                           "\"\xc0\xaf\"",
                           "\"\xed\xa0\x80\"",
                           "\"\xf4\x90\x80\x80\"",
                           "\"\xe0\x80\xaf\"",
                           "\"\xf0\x80\x80\x80\"",
                           "\"\xe2\x82\"",
                           "[1] [2]",
                           "{'a':1}",
                           "NaN",
                           "[1}",
                           "{\"a\":1]"}) {
    SaxRecorder events;
    EXPECT_FALSE(QuickJsonReader(std::string_view(text), events).Read()) << text;
  }
}

}  // namespace
}  // namespace r2e::internal
