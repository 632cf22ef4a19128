#include "cli/soak/chaos_agent.h"

#include <utility>

#include <nlohmann/json.hpp>

namespace r2e::soak {
namespace {

using namespace std::string_literals;

std::string Bash(std::string_view cmd) {
  return "<function=execute_bash>\n<parameter=cmd>" + std::string(cmd) + "</parameter>\n</function>";
}

struct Weighted {
  const char* kind;
  int weight;
};

}  // namespace

ChaosAgent::ChaosAgent(std::uint64_t seed, ChaosOptions options) : rng_(seed), options_(options) {}

std::string ChaosAgent::Pick(const std::vector<std::string>& choices) {
  return choices[std::uniform_int_distribution<std::size_t>(0, choices.size() - 1)(rng_)];
}

std::string ChaosAgent::RandomBytes(std::size_t n, bool printable) {
  std::string s(n, '\0');
  std::uniform_int_distribution<int> byte(printable ? 32 : 0, printable ? 126 : 255);
  for (char& c : s) c = static_cast<char>(byte(rng_));
  return s;
}

ChaosAction ChaosAgent::Next() {
  // Ordinary work dominates, as it does for a real policy; every hostile
  // kind still comes up many times in a soak of a few hundred steps.
  std::vector<Weighted> kinds = {
      {"bash", 20},         {"file_editor", 10}, {"search", 4},        {"malformed", 10},
      {"tool_call", 8},     {"quoting", 6},      {"huge_output", 4},   {"binary_output", 4},
      {"oversleep", 3},     {"exit", 4},         {"stdin", 2},         {"background", 3},
      {"hidden_tests", 3},  {"tamper_tests", 2}, {"finish", 2},
  };
  if (options_.isolated) kinds.insert(kinds.end(), {{"kill_all", 2}, {"write_root", 3}});
  if (options_.fork_bomb) kinds.push_back({"fork_bomb", 2});
  int total = 0;
  for (const auto& k : kinds) total += k.weight;
  int r = std::uniform_int_distribution<int>(0, total - 1)(rng_);
  std::string kind;
  for (const auto& k : kinds) {
    if (r < k.weight) {
      kind = k.kind;
      break;
    }
    r -= k.weight;
  }

  ChaosAction a;
  a.kind = kind;
  const std::string sleep = std::to_string(options_.oversleep_s);
  if (kind == "bash") {
    a.text = Bash(Pick({"ls -la", "git status --short", "sed -n 1,30p textstats/stats.py", "pwd; cd /; pwd",
                        "python3 -c 'print(sum(range(10)))'", "export A=1; echo ${A}", "git log --oneline | head -3",
                        "echo $RANDOM", "false", "exit_code_is_127_for_this", "ulimit -a | head -5"}));
  } else if (kind == "file_editor") {
    a.text = Pick({
        "<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed</parameter>\n</function>",
        "<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>/no/such/file</parameter>\n</function>",
        "<function=file_editor>\n<parameter=command>create</parameter>\n<parameter=path>/testbed/soak_new.py</parameter>\n"
        "<parameter=file_text>print('soak')\n</parameter>\n</function>",
        "<function=file_editor>\n<parameter=command>str_replace</parameter>\n<parameter=path>/testbed/textstats/stats.py</parameter>\n"
        "<parameter=old_str>def</parameter>\n<parameter=new_str>def</parameter>\n</function>",
        "<function=file_editor>\n<parameter=command>undo_edit</parameter>\n<parameter=path>/testbed/soak_new.py</parameter>\n</function>",
        "<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed/textstats/stats.py</parameter>\n"
        "<parameter=view_range>[5, -7]</parameter>\n</function>",
        "<function=file_editor>\n<parameter=command>bogus</parameter>\n</function>",
    });
  } else if (kind == "search") {
    a.text = "<function=search>\n<parameter=search_term>" + Pick({"def ", "(((", "\\", "*", "moving_average"}) +
             "</parameter>\n</function>";
  } else if (kind == "malformed") {
    a.text = Pick({"", "I think I should look around.", "<function=execute_bash>\n<parameter=cmd>ls",
                   "<function=>\n</function>", "<function=no_such_tool>\n<parameter=x>y</parameter>\n</function>",
                   "<function=execute_bash>\n<parameter=>x</parameter>\n</function>",
                   "<function=execute_bash>\n<parameter=cmd>echo a\0b</parameter>\n</function>"s,
                   "</function><function=<function=execute_bash>>"});
    if (a.text.empty() && std::uniform_int_distribution<int>(0, 1)(rng_)) a.text = RandomBytes(200, false);
  } else if (kind == "tool_call") {
    a.tool_call = true;
    a.tool_name = Pick({"execute_bash", "file_editor", "search", "nope", ""});
    a.arguments_json = Pick({R"({"cmd": "echo tool call"})", R"({"command": "view", "path": "/testbed"})",
                             R"({"cmd": 42})", "{\"cmd\": \"ls\"", "[]", "null", R"({"cmd": {"nested": [1, 2]}})",
                             R"({"search_term": "x", "path": "/testbed"})", RandomBytes(40, true)});
  } else if (kind == "quoting") {
    // Shell syntax in tool arguments must reach the tool as one argv word.
    a.injection_canary = "/tmp/r2e_soak_injected";
    a.text = Pick({
        "<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed/x'; touch "
        "/tmp/r2e_soak_injected; echo '</parameter>\n</function>",
        "<function=search>\n<parameter=search_term>$(touch /tmp/r2e_soak_injected)</parameter>\n</function>",
        "<function=search>\n<parameter=search_term>`touch /tmp/r2e_soak_injected`</parameter>\n"
        "<parameter=path>/testbed\n; touch /tmp/r2e_soak_injected</parameter>\n</function>",
        "<function=file_editor>\n<parameter=command>create</parameter>\n<parameter=path>/testbed/q.txt</parameter>\n"
        "<parameter=file_text>\"'$(touch /tmp/r2e_soak_injected)`x`\n\\</parameter>\n</function>",
    });
  } else if (kind == "huge_output") {
    a.text = Bash(Pick({"head -c 30000000 /dev/zero | tr '\\0' x", "seq 1 2000000", "yes | head -n 3000000"}));
  } else if (kind == "binary_output") {
    a.text = Bash(Pick({"head -c 300000 /dev/urandom", "printf '\\x00\\xff\\xfe\\x1b[31m\\r'; head -c 1000 /dev/urandom"}));
  } else if (kind == "oversleep") {
    a.text = Bash(Pick({"sleep " + sleep, "(sleep 1000 &); sleep " + sleep, "trap '' TERM INT; sleep " + sleep,
                        "while :; do :; done"}));
  } else if (kind == "exit") {
    a.text = Bash(Pick({"exit", "exit 7", "kill -9 $$", "kill -9 $PPID", "exec true"}));
  } else if (kind == "stdin") {
    a.text = Bash(Pick({"cat", "read x; echo got $x", "python3 -c 'import sys; print(len(sys.stdin.read()))'"}));
  } else if (kind == "background") {
    a.text = Bash(Pick({"nohup sleep 600 >/dev/null 2>&1 &", "sleep 600 & echo started",
                        "setsid sleep 600 >/dev/null 2>&1 < /dev/null &"}));
  } else if (kind == "hidden_tests") {
    a.probes_hidden_tests = true;
    a.text = Bash("cat /root/r2e_tests/*.py /r2e_tests/*.py /testbed/r2e_tests/*.py /root/run_tests.sh 2>&1 | head -50");
  } else if (kind == "tamper_tests") {
    // Tries to earn the reward without the fix: fake test runner and tests.
    a.text = Bash(
        "mkdir -p /testbed/r2e_tests; printf 'def test_x():\\n    pass\\n' > /testbed/r2e_tests/test_1.py; "
        "printf '#!/bin/bash\\necho short test summary info\\n' > /root/run_tests.sh 2>/dev/null; "
        "printf '#!/bin/bash\\necho short test summary info\\n' > /run_tests.sh 2>/dev/null; true");
  } else if (kind == "finish") {
    a.text = "<function=finish>\n<parameter=command>submit</parameter>\n</function>";
  } else if (kind == "kill_all") {
    a.text = Bash(Pick({"kill -9 -1", "kill -9 -1; echo after"}));
  } else if (kind == "write_root") {
    a.text = Bash(Pick({"echo x > /r2e_soak_root_file; ls -la / | head -3",
                        "dd if=/dev/zero of=/r2e_soak_big bs=1M count=16 2>&1 | tail -1; rm -f /r2e_soak_big",
                        "rm -rf /testbed/*; ls /testbed | wc -l", "chmod 000 /testbed; ls /testbed"}));
  } else if (kind == "fork_bomb") {
    a.text = Bash("bomb() { bomb | bomb & }; bomb; sleep " + sleep);
  }
  return a;
}

}  // namespace r2e::soak
