#include "tools/served_tools.h"

#include <utility>

#include "r2e/shell_quote.h"
#include "tools/embedded_scripts.h"

namespace r2e::internal {
namespace {

constexpr std::string_view kServableMarker = "\n# r2e-tool-server: main\n";

// The client side, a bash function. $1 is the trailer's nonce, the rest the
// tool command. The fast path runs bash builtins only, and writes the whole
// request (argv and `declare -px`) into the request fifo. The server opens
// the client's streams by the copies {i} {o} {e} (while builtins write the
// request, bash has the request fifo on fd 1), and takes the environment from
// `declare -px` (/proc/<pid>/environ of a forked shell shows the one it was
// started with). A server that does not answer within 5 s is taken for
// stuck: it is killed, this call runs plainly and the next one starts a new
// server. While a call runs, a server that dies (the agent killed it) ends the
// call with 137, unless its answer is already in the reply fifo (a server
// that another one took over exits right after its last call's answer). The
// function's own variables are named __r2e_*, so that they hide none of the
// exported ones from the tool. @DIR@ and @BIN@ are replaced by the quoted
// directories, @START@ by the start command.
//
// The reply fifo is read a line at a time by __r2e_line: bash reads a fifo a
// byte at a time, and a `read -t` whose time runs out in the middle of a
// line (a loaded machine descheduled it there) has consumed the line's start.
// So a timed-out read that got part of a line is completed by the next one,
// and only a read that got nothing counts as a timeout (the server writes
// each line in one write). __r2e_line FD SECONDS leaves the line in the
// caller's __r2e_l.
constexpr std::string_view kClientFunction = R"SH(__r2e_line() {
  local __r2e_q=
  __r2e_l=
  until IFS= read -t "$2" -r __r2e_q <&"$1"; do
    [ -n "$__r2e_q" ] || return 1
    __r2e_l+=$__r2e_q
  done
  __r2e_l+=$__r2e_q
}
__r2e_served() {
  local __r2e_dir=@DIR@ __r2e_bin=@BIN@ __r2e_n=$1 __r2e_s= __r2e_id= __r2e_r= __r2e_w= __r2e_x= __r2e_rc= __r2e_t= __r2e_p= __r2e_i= __r2e_o= __r2e_e= __r2e_l=
  shift
  if [ ! -e "$__r2e_dir/failed" ]; then
    if [ -p "$__r2e_dir/req" ] && [ -p "$__r2e_dir/reply" ] && read -r __r2e_s 2>/dev/null < "$__r2e_dir/pid" && kill -0 "$__r2e_s" 2>/dev/null; then
      __r2e_id=$BASHPID.$RANDOM$RANDOM
      exec {__r2e_r}<>"$__r2e_dir/reply" {__r2e_w}<>"$__r2e_dir/req" {__r2e_i}<&0 {__r2e_o}>&1 {__r2e_e}>&2
      { printf '%s %s %s %s %s %s\n' "$__r2e_id" "$BASHPID" "$__r2e_i" "$__r2e_o" "$__r2e_e" "$#"; printf '%s\0' "$__r2e_bin/$1" "${@:2}"; declare -px; printf '\0'; } >&$__r2e_w
      exec {__r2e_w}>&-
      while __r2e_line $__r2e_r 5 && __r2e_x=${__r2e_l%% *} && [ "$__r2e_x" != "$__r2e_id" ]; do :; done
      __r2e_rc=${__r2e_l#* }
      if [ "$__r2e_x" = "$__r2e_id" ] && [ "${__r2e_rc%% *}" = ok ]; then
        __r2e_s=${__r2e_rc#ok }
        until __r2e_line $__r2e_r 1 && [ "${__r2e_l%% *}" = "$__r2e_id" ]; do
          kill -0 "$__r2e_s" 2>/dev/null && continue
          while __r2e_line $__r2e_r 0.2 && [ "${__r2e_l%% *}" != "$__r2e_id" ]; do :; done
          [ "${__r2e_l%% *}" = "$__r2e_id" ] || __r2e_l="$__r2e_id 137"
          break
        done
        __r2e_rc=${__r2e_l#* }
        exec {__r2e_r}<&- {__r2e_i}<&- {__r2e_o}>&- {__r2e_e}>&-
        printf '%s s\n' "$__r2e_n"
        return "$__r2e_rc"
      fi
      exec {__r2e_r}<&- {__r2e_i}<&- {__r2e_o}>&- {__r2e_e}>&-
      if [ "$__r2e_x" != "$__r2e_id" ]; then
        kill -KILL "$__r2e_s" 2>/dev/null; rm -f "$__r2e_dir/pid"
        echo "no answer from server $__r2e_s in 5 s" > "$__r2e_dir/last-exec"
      else
        echo "server $__r2e_s answered: $__r2e_rc" > "$__r2e_dir/last-exec"
      fi
    else
      echo "no server running (pid file: ${__r2e_s:-none})" > "$__r2e_dir/last-exec"
      @START@
    fi
  fi
  "$@"
  __r2e_rc=$?
  printf '%s x\n' "$__r2e_n"
  return $__r2e_rc
}
)SH";

// Starts a server unless one is starting (for less than 30 s): the marker
// file is made here, before the launcher goes to the background, so that a
// call right after a start never starts a second server. The launcher returns
// once the server has detached; one that fails (no python3, a Python too old
// to run the server) writes `failed`, so that no later call tries again. It
// runs on r2e-python when AddCommands installed that beside the server.
constexpr std::string_view kStart =
    R"SH({ __r2e_t=; read -r __r2e_t < "$__r2e_dir/starting"; case $__r2e_t in '') ;; *[!0-9]*) rm -f "$__r2e_dir/starting" ;; *) [ $(( ${EPOCHSECONDS:-0} - __r2e_t )) -gt 30 ] && rm -f "$__r2e_dir/starting" ;; esac; if ( set -C; echo "${EPOCHSECONDS:-0}" > "$__r2e_dir/starting" ); then { __r2e_p=python3; [ -x "$__r2e_dir/r2e-python" ] && __r2e_p="$__r2e_dir/r2e-python"; "$__r2e_p" "$__r2e_dir/toolserver.py" @DIRECT@"$__r2e_dir" @TOOLS@ || echo "the tool server did not start" > "$__r2e_dir/failed"; } </dev/null >/dev/null 2>&1 & fi; } 2>/dev/null)SH";

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
}

std::string QuotedList(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + ShellQuote(w);
  return out;
}

std::string StartSnippet(const std::vector<std::string>& tool_paths, std::string_view direct_fifo) {
  std::string start(kStart);
  ReplaceAll(start, "@TOOLS@", QuotedList(tool_paths));
  ReplaceAll(start, "@DIRECT@",
             direct_fifo.empty() ? "" : "--direct " + ShellQuote(direct_fifo) + " ");
  return start;
}

}  // namespace

std::string ToolServerDir(std::string_view bin_dir) { return std::string(bin_dir) + "/.r2e-tools"; }

std::string ToolServerNotesCommand(std::string_view tool) {
  return "d=$(dirname \"$(command -v " + ShellQuote(tool) +
         ")\")/.r2e-tools; for f in last-exec last-plain last-orphan last-death failed; do "
         "[ -e \"$d/$f\" ] && echo \"$f: $(cat \"$d/$f\")\"; done; true";
}

std::vector<std::pair<std::string, std::string_view>> ToolServerFiles(std::string_view bin_dir) {
  constexpr std::string_view kPrefix = "server/";
  std::vector<std::pair<std::string, std::string_view>> out;
  for (std::size_t i = 0; i < kEmbeddedScriptCount; ++i) {
    const std::string_view file = kEmbeddedScripts[i].file;
    if (file.starts_with(kPrefix)) {
      out.emplace_back(ToolServerDir(bin_dir) + "/" + std::string(file.substr(kPrefix.size())),
                       kEmbeddedScripts[i].content);
    }
  }
  return out;
}

bool ServableTool(std::string_view content) {
  return content.starts_with("#!") && content.substr(0, content.find('\n')).find("python") != std::string_view::npos &&
         content.find(kServableMarker) != std::string_view::npos;
}

std::string ToolServerStartCommand(std::string_view bin_dir,
                                   const std::vector<std::string>& tool_paths,
                                   std::string_view direct_fifo) {
  // The same start as the client's, outside the function.
  std::string cmd = "__r2e_dir=" + ShellQuote(ToolServerDir(bin_dir)) + "; ";
  cmd +=
      "if ! { [ -p \"$__r2e_dir/req\" ] && [ -p \"$__r2e_dir/reply\" ] && "
      "read -r s < \"$__r2e_dir/pid\" && kill -0 \"$s\"; } 2>/dev/null; then ";
  cmd += StartSnippet(tool_paths, direct_fifo);
  cmd += "; fi";
  return cmd;
}

std::string ServedCommand(std::string_view bin_dir, const std::vector<std::string>& tool_paths,
                          std::string_view direct_fifo, std::string_view nonce,
                          std::string_view command) {
  std::string fn(kClientFunction);
  ReplaceAll(fn, "@START@", StartSnippet(tool_paths, direct_fifo));
  ReplaceAll(fn, "@DIR@", ShellQuote(ToolServerDir(bin_dir)));
  ReplaceAll(fn, "@BIN@", ShellQuote(bin_dir));
  return fn + "__r2e_served " + std::string(nonce) + " " + std::string(command);
}

std::size_t ServedTrailerBytes(std::string_view nonce) { return nonce.size() + 3; }

std::string StripServedTrailer(std::string& output, std::string_view nonce) {
  static constexpr std::pair<char, std::string_view> kTags[] = {{'s', "served"}, {'x', "exec"}};
  for (const auto& [tag, how] : kTags) {
    const std::string trailer = std::string(nonce) + " " + tag + "\n";
    const std::size_t at = output.rfind(trailer);
    if (at != std::string::npos) {
      output.erase(at, trailer.size());
      return std::string(how);
    }
  }
  return "";
}

}  // namespace r2e::internal
