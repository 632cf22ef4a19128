// Reading Python source without running it: enough of a tokenizer, of
// literals and of calls to find a module's docstring, its argparse calls and
// its functions' return annotations (what DescribeTool needs). Nothing here
// fails: what it does not understand becomes operator tokens and values of
// kind kOther.
#ifndef R2E_TOOLS_PYTHON_READER_H_
#define R2E_TOOLS_PYTHON_READER_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace r2e::internal::py {

enum class Tok { kString, kName, kNumber, kOp, kNewline };

struct Token {
  Tok kind;
  std::string text;  // kString: the decoded value
};

// The tokens of `source`: comments and line continuations dropped, kNewline
// at the end of each logical line (none inside brackets).
std::vector<Token> Tokenize(std::string_view source);

// Whether `c` may continue a Python name (ASCII letters, digits, '_', and any
// non-ASCII byte).
bool IsNameChar(char c);

bool IsOp(const Token& t, std::string_view op);

// A literal value of a call argument.
struct PyValue {
  enum class Kind { kOther, kString, kName, kNumber, kList };
  Kind kind = Kind::kOther;
  std::string text;  // string value, dotted name or number
  std::vector<PyValue> items;
};

// The literal of tokens [b, e): adjacent strings joined, a number, a dotted
// name, or a list or tuple of these; kOther for anything else.
PyValue ParseValue(const std::vector<Token>& t, std::size_t b, std::size_t e, int depth = 0);

// The arguments of a call.
struct CallArgs {
  std::vector<PyValue> positional;
  std::map<std::string, PyValue> keywords;
};

// Calls of `name(` (as a function or a method) in the token stream.
std::vector<CallArgs> FindCalls(const std::vector<Token>& t, std::string_view name);

// The JSON type named by a Python type name ("str" -> "string"), or "".
std::string JsonTypeOfPythonType(std::string_view name);

// JSON types (and array element types) from the return annotations of the
// functions defined in the file: `def parse(text) -> List[int]:`.
std::map<std::string, std::pair<std::string, std::string>> ReturnTypes(
    const std::vector<Token>& t);

// inspect.cleandoc: first line stripped, common indentation of the rest
// removed, blank lines at both ends dropped.
std::string CleanDoc(std::string_view doc);

}  // namespace r2e::internal::py

#endif  // R2E_TOOLS_PYTHON_READER_H_
