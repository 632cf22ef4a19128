// SWE-bench's Prism parser (swebench/harness/log_parsers/javascript.py at
// v5.0.1, parse_log_prismjs): after each occurrence of its mocha command, the
// text from the first '{' to the last '}' is decoded as mocha's JSON report;
// "failures" then "passes" give each test's fullTitle. Where the Python
// raises (the JSON does not decode, a key is missing, a value has the wrong
// type) this fails with the same exception name. Python semantics as
// grading/parsers.h says.
#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/py_text.h"
#include "core/quick_json_reader.h"
#include "grading/parsers.h"
#include "grading/status_map_builder.h"
#include "grading/test_status.h"

namespace r2e::internal {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// One code point's byte length in UTF-8 (1 for a stray byte).
std::size_t Utf8Len(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// The position and reason of nlohmann's first parse error.
struct JsonErrorProbe : nlohmann::json_sax<nlohmann::json> {
  std::size_t position = 0;
  std::string token;
  std::string what;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t pos, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    position = pos;
    token = last_token;
    what = ex.what();
    return false;
  }
};

// json.loads' JSONDecodeError text for a document nlohmann refused: the
// reason in Python's words for the common cases, and Python's
// "line L column C (char N)" (code points) at the offending token, which
// nlohmann reports by the count of bytes read (one past a one-byte token).
// Exact for the usual cases (a stray character where a value, a key or a
// delimiter belongs; extra data); close for the rest.
std::string JsonDecodeError(std::string_view doc) {
  JsonErrorProbe probe;
  nlohmann::json::sax_parse(doc.begin(), doc.end(), &probe);
  static constexpr std::pair<std::string_view, std::string_view> kReasons[] = {
      {"missing closing quote", "Unterminated string starting at"},
      {"control character", "Invalid control character at"},
      {"'\\u' must be followed", "Invalid \\uXXXX escape"},
      {"surrogate", "Invalid \\uXXXX escape"},
      {"after backslash", "Invalid \\escape"},
      {"; expected end of input", "Extra data"},
      {"parsing object key", "Expecting property name enclosed in double quotes"},
      {"parsing object separator", "Expecting ':' delimiter"},
      {"parsing object -", "Expecting ',' delimiter"},
      {"parsing array -", "Expecting ',' delimiter"},
  };
  std::string_view reason = "Expecting value";
  for (const auto& [needle, text] : kReasons) {
    if (probe.what.find(needle) != std::string::npos) {
      reason = text;
      break;
    }
  }
  const std::string& what = probe.what;
  auto has = [&](std::string_view needle) { return what.find(needle) != std::string::npos; };
  // nlohmann counts the offending byte as read: step back to where Python
  // points.
  const std::size_t last = std::min(probe.position > 0 ? probe.position - 1 : 0, doc.size());
  std::size_t at = last;
  if (has("unexpected string literal") || has("unexpected number literal")) {
    at = probe.position - std::min(probe.position, probe.token.size());  // the token's start
  } else if (reason.starts_with("Unterminated")) {
    // At the quote; the end of input counts as one byte read.
    at = probe.position - std::min(probe.position, probe.token.size() + 1);
  } else if (reason == "Invalid \\escape") {
    at = last > 0 ? last - 1 : 0;  // the backslash
  } else if (has("invalid literal")) {
    // nlohmann reads on while the text spells a proper prefix of a literal.
    for (std::size_t k = std::min<std::size_t>(4, last); k > 0 && at == last; --k) {
      const std::string_view read = std::string_view(doc).substr(last - k, k);
      for (std::string_view literal : {"true", "false", "null"}) {
        if (k < literal.size() && literal.starts_with(read)) at = last - k;
      }
    }
  } else if (has("invalid number")) {
    // Python takes the longest prefix of -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?
    // and, having one, expects a delimiter after it.
    std::size_t start = last;
    while (start > 0 && std::string_view("0123456789.eE+-").find(doc[start - 1]) != kNpos) --start;
    auto digits = [&](std::size_t i) {
      while (i < doc.size() && doc[i] >= '0' && doc[i] <= '9') ++i;
      return i;
    };
    std::size_t i = start + (doc[start] == '-' ? 1 : 0);
    const std::size_t int_end = i < doc.size() && doc[i] == '0' ? i + 1 : digits(i);
    if (int_end == i) {
      at = start;
    } else {
      reason = "Expecting ',' delimiter";
      at = int_end;
      if (at < doc.size() && doc[at] == '.' && digits(at + 1) > at + 1) at = digits(at + 1);
      if (at < doc.size() && (doc[at] == 'e' || doc[at] == 'E')) {
        std::size_t e = at + 1;
        if (e < doc.size() && (doc[e] == '+' || doc[e] == '-')) ++e;
        if (digits(e) > e) at = digits(e);
      }
    }
  }
  std::size_t chars = 0, line = 1, col_chars = 0;
  for (std::size_t i = 0; i < at; i += Utf8Len(Byte(doc, i))) {
    ++chars;
    ++col_chars;
    if (doc[i] == '\n') {
      ++line;
      col_chars = 0;
    }
  }
  return "JSONDecodeError: " + std::string(reason) + ": line " + std::to_string(line) + " column " +
         std::to_string(col_chars + 1) + " (char " + std::to_string(chars) + ")";
}

constexpr std::string_view kStrIndexError = "TypeError: string indices must be integers, not 'str'";

// What `for test in report[key]: status_map[test["fullTitle"]] = status` meets
// in one of the report's lists: the titles in order, or the exception the
// loop raises first.
struct PrismList {
  bool seen = false;  // the key is in the report
  std::vector<std::string> titles;
  std::optional<std::string> error;
};

// Reads mocha's report as a stream and keeps each "failures" and "passes"
// entry's fullTitle, with the type facts the Python's loop would trip on:
// decoding a 10 MB report into a document first, as json.loads does, took
// over 150 ms. Like a Python dict, a key given twice keeps its last value.
class PrismReportReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::array<PrismList, 2> lists;  // "failures", "passes"

  bool null() override { return Scalar("NoneType", nlohmann::json(nullptr)); }
  bool boolean(bool v) override { return Scalar("bool", nlohmann::json(v)); }
  bool number_integer(number_integer_t v) override { return Scalar("int", nlohmann::json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Scalar("int", nlohmann::json(v)); }
  bool number_float(number_float_t v, const string_t&) override {
    return Scalar("float", nlohmann::json(v));
  }
  bool string(string_t& text) override {
    Value(Kind::kString, "str", &text, nullptr);
    return true;
  }
  bool binary(binary_t&) override { return true; }  // not in JSON text
  bool start_object(std::size_t) override {
    Value(Kind::kObject, "dict", nullptr, nullptr);
    ++depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    Value(Kind::kArray, "list", nullptr, nullptr);
    ++depth_;
    return true;
  }
  bool end_object() override {
    --depth_;
    if (depth_ == 2 && in_test_) FinishTest();
    if (depth_ == 1) list_ = -1;
    return true;
  }
  bool end_array() override {
    --depth_;
    if (depth_ == 1) list_ = -1;
    return true;
  }
  bool key(string_t& name) override {
    if (depth_ == 1) {
      next_list_ = name == "failures" ? 0 : name == "passes" ? 1 : -1;
    } else if (depth_ == 2 && list_ >= 0 && !list_is_array_) {
      // Iterating a dict gives its keys: `key["fullTitle"]` on a str.
      if (!lists[list_].error) lists[list_].error = kStrIndexError;
    } else if (depth_ == 3 && in_test_) {
      title_pending_ = name == "fullTitle";
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  enum class Kind { kObject, kArray, kString, kScalar };

  bool Scalar(std::string_view py_type, const nlohmann::json& value) {
    Value(Kind::kScalar, py_type, nullptr, &value);
    return true;
  }

  // A value begins at depth_ (a container's contents are one deeper).
  void Value(Kind kind, std::string_view py_type, string_t* text, const nlohmann::json* scalar) {
    if (depth_ == 1 && next_list_ >= 0) {  // report["failures"] or report["passes"]
      PrismList& list = lists[next_list_];
      list = PrismList{};
      list.seen = true;
      if (kind == Kind::kArray || kind == Kind::kObject) {
        list_ = next_list_;
        list_is_array_ = kind == Kind::kArray;
      } else if (kind == Kind::kString) {
        if (!text->empty()) list.error = kStrIndexError;  // iterating gives characters
      } else {
        list.error = "TypeError: '" + std::string(py_type) + "' object is not iterable";
      }
      next_list_ = -1;
    } else if (depth_ == 2 && list_ >= 0 && list_is_array_) {  // `test`
      PrismList& list = lists[list_];
      if (list.error) return;  // the loop stopped there
      if (kind == Kind::kObject) {
        in_test_ = true;
        title_pending_ = false;
        title_.reset();
        title_error_.reset();
      } else if (kind == Kind::kArray) {
        list.error = "TypeError: list indices must be integers or slices, not str";
      } else if (kind == Kind::kString) {
        list.error = kStrIndexError;
      } else {
        list.error = "TypeError: '" + std::string(py_type) + "' object is not subscriptable";
      }
    } else if (depth_ == 3 && in_test_ && title_pending_) {  // test["fullTitle"]
      title_pending_ = false;
      if (kind == Kind::kObject || kind == Kind::kArray) {
        title_.reset();
        title_error_ = "TypeError: unhashable type: '" + std::string(py_type) + "'";
      } else {
        title_error_.reset();
        // A number, bool or null title is a non-str key in the Python: it
        // can equal no test name but still makes the map non-empty. Its
        // JSON text stands in for it.
        title_ = kind == Kind::kString ? std::move(*text) : scalar->dump();
      }
    }
  }

  void FinishTest() {
    in_test_ = false;
    PrismList& list = lists[list_];
    if (title_error_) {
      list.error = std::move(*title_error_);
    } else if (!title_) {
      list.error = "KeyError: 'fullTitle'";
    } else {
      list.titles.push_back(std::move(*title_));
    }
  }

  int depth_ = 0;       // containers open
  int next_list_ = -1;  // the list whose value follows the last top-level key
  int list_ = -1;       // the list whose container is open at depth 1
  bool list_is_array_ = false;
  bool in_test_ = false;  // inside an object entry of list_
  bool title_pending_ = false;
  std::optional<std::string> title_;
  std::optional<std::string> title_error_;
};

Status PrismError(std::string_view what) {
  return Status::InvalidArgument("parse_log_prismjs: " + std::string(what));
}

}  // namespace

Result<StatusMap> ParsePrismJs(std::string_view log, const LogParserSpec& /*spec*/) {
  static constexpr std::string_view kTestCmd =
      "./node_modules/.bin/mocha tests/run.js --reporter json";
  StatusMapBuilder out(log);
  std::size_t cmd = log.find(kTestCmd);
  while (cmd != kNpos) {
    const std::size_t begin = cmd + kTestCmd.size();
    cmd = log.find(kTestCmd, begin);
    std::string_view part = log.substr(begin, cmd == kNpos ? kNpos : cmd - begin);
    // `"{" + part.split("{", 1)[-1].rsplit("}", 1)[0] + "}"`: a missing brace
    // cuts nothing. With both braces there, that text is in the log as is.
    const std::size_t open = part.find('{');
    if (open != kNpos) part.remove_prefix(open + 1);
    const std::size_t close = part.rfind('}');
    if (close != kNpos) part = part.substr(0, close);
    std::string joined;
    std::string_view doc;
    if (open != kNpos && close != kNpos) {
      doc = std::string_view(part.data() - 1, part.size() + 2);
    } else {
      joined.reserve(part.size() + 2);
      joined.append("{").append(part).append("}");
      doc = joined;
    }
    // Where json.loads differs, mocha's JSON reporter never goes: Python
    // also accepts NaN/Infinity, numbers beyond a double and lone
    // \uD800-style surrogates (nlohmann refuses them), and raises
    // RecursionError past about 1000 levels of nesting (nlohmann does not).
    PrismReportReader report;
    if (!QuickJsonReader(doc, report).Read()) {
      report = PrismReportReader();
      if (!nlohmann::json::sax_parse(doc.begin(), doc.end(), &report)) {
        return PrismError(JsonDecodeError(doc));
      }
    }
    for (std::size_t i = 0; i < report.lists.size(); ++i) {
      PrismList& list = report.lists[i];
      if (!list.seen) return PrismError(i == 0 ? "KeyError: 'failures'" : "KeyError: 'passes'");
      for (std::string& title : list.titles) out.Add(std::move(title), i == 0 ? kFailed : kPassed);
      if (list.error) return PrismError(*list.error);
    }
  }
  return out.Build();
}

}  // namespace r2e::internal
