// Quoting words for POSIX shells: the one place r2e builds shell words from
// text it does not control (paths, test names, tool arguments).
//
// Both functions return a single shell word that a POSIX shell reads back as
// exactly `s`, whatever bytes it holds (a NUL byte is quoted like any other,
// but execve cuts an argument at it). They differ only in spelling:
// ShellQuote always quotes; ShlexQuote is Python's shlex.quote, which the R2E
// scaffold uses for tool calls, so that r2e's command lines equal its own.
#ifndef R2E_SHELL_QUOTE_H_
#define R2E_SHELL_QUOTE_H_

#include <string>
#include <string_view>

namespace r2e {

// In single quotes, each `'` written as `'\''`: 'it'\''s'.
std::string ShellQuote(std::string_view s);

// As Python's shlex.quote: bare when `word` is non-empty and has only ASCII
// letters, digits and `@%+=:,./-_`; else in single quotes, each `'` written
// as `'"'"'`.
std::string ShlexQuote(std::string_view word);

}  // namespace r2e

#endif  // R2E_SHELL_QUOTE_H_
