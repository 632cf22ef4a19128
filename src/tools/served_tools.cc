#include "tools/served_tools.h"

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
// that another one took over exits right after its last call's answer). @DIR@ and @BIN@ are replaced by the quoted directories,
// @START@ by the start command.
constexpr std::string_view kClientFunction = R"SH(__r2e_served() {
  local d=@DIR@ b=@BIN@ n=$1 s= id= r= w= x= rc= t= i= o= e=
  shift
  if [ ! -e "$d/failed" ]; then
    if [ -p "$d/req" ] && [ -p "$d/reply" ] && read -r s < "$d/pid" 2>/dev/null && kill -0 "$s" 2>/dev/null; then
      id=$BASHPID.$RANDOM$RANDOM
      exec {r}<>"$d/reply" {w}<>"$d/req" {i}<&0 {o}>&1 {e}>&2
      { printf '%s %s %s %s %s %s\n' "$id" "$BASHPID" "$i" "$o" "$e" "$#"; printf '%s\0' "$b/$1" "${@:2}"; declare -px; printf '\0'; } >&$w
      exec {w}>&-
      while read -t 5 -r x rc s <&$r && [ "$x" != "$id" ]; do :; done
      if [ "$x" = "$id" ] && [ "$rc" = ok ]; then
        until read -t 1 -r x rc <&$r && [ "$x" = "$id" ]; do
          kill -0 "$s" 2>/dev/null && continue
          while read -t 0.2 -r x rc <&$r && [ "$x" != "$id" ]; do :; done
          [ "$x" = "$id" ] || rc=137
          break
        done
        exec {r}<&- {i}<&- {o}>&- {e}>&-
        printf '%s served\n' "$n"
        return "$rc"
      fi
      exec {r}<&- {i}<&- {o}>&- {e}>&-
      if [ "$x" != "$id" ]; then
        kill -KILL "$s" 2>/dev/null; rm -f "$d/pid"
        echo "no answer from server $s in 5 s" > "$d/last-exec"
      else
        echo "server $s answered: $rc" > "$d/last-exec"
      fi
    else
      echo "no server running (pid file: ${s:-none})" > "$d/last-exec"
      @START@
    fi
  fi
  "$@"
  rc=$?
  printf '%s exec\n' "$n"
  return $rc
}
)SH";

// Starts a server unless one is starting (for less than 30 s): the marker
// file is made here, before the launcher goes to the background, so that a
// call right after a start never starts a second server. The launcher returns
// once the server has detached; one that fails (no python3, a Python too old
// to run the server) writes `failed`, so that no later call tries again. It
// runs on r2e-python when AddCommands installed that beside the server.
constexpr std::string_view kStart =
    R"SH({ t=; read -r t < "$d/starting"; case $t in '') ;; *[!0-9]*) rm -f "$d/starting" ;; *) [ $(( ${EPOCHSECONDS:-0} - t )) -gt 30 ] && rm -f "$d/starting" ;; esac; if ( set -C; echo "${EPOCHSECONDS:-0}" > "$d/starting" ); then { p=python3; [ -x "$d/r2e-python" ] && p="$d/r2e-python"; "$p" "$d/toolserver.py" "$d" @TOOLS@ || echo "the tool server did not start" > "$d/failed"; } </dev/null >/dev/null 2>&1 & fi; } 2>/dev/null)SH";

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

std::string StartSnippet(const std::vector<std::string>& tool_paths) {
  std::string start(kStart);
  ReplaceAll(start, "@TOOLS@", QuotedList(tool_paths));
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

std::string ToolServerStartCommand(std::string_view bin_dir, const std::vector<std::string>& tool_paths) {
  // The same start as the client's, outside the function.
  std::string cmd = "d=" + ShellQuote(ToolServerDir(bin_dir)) + "; ";
  cmd += "if ! { [ -p \"$d/req\" ] && [ -p \"$d/reply\" ] && read -r s < \"$d/pid\" && kill -0 \"$s\"; } 2>/dev/null; then ";
  cmd += StartSnippet(tool_paths);
  cmd += "; fi";
  return cmd;
}

std::string ServedCommand(std::string_view bin_dir, const std::vector<std::string>& tool_paths,
                          std::string_view nonce, std::string_view command) {
  std::string fn(kClientFunction);
  ReplaceAll(fn, "@START@", StartSnippet(tool_paths));
  ReplaceAll(fn, "@DIR@", ShellQuote(ToolServerDir(bin_dir)));
  ReplaceAll(fn, "@BIN@", ShellQuote(bin_dir));
  return fn + "__r2e_served " + std::string(nonce) + " " + std::string(command);
}

std::string StripServedTrailer(std::string& output, std::string_view nonce) {
  for (std::string_view how : {"served", "exec"}) {
    const std::string trailer = std::string(nonce) + " " + std::string(how) + "\n";
    const std::size_t at = output.rfind(trailer);
    if (at != std::string::npos) {
      output.erase(at, trailer.size());
      return std::string(how);
    }
  }
  return "";
}

}  // namespace r2e::internal
