#!/usr/bin/env python3
# r2e-flavor: r2egym
"""
Description: Execute a bash command in the terminal, with Python version compatibility.

Parameters:
  --cmd (string, required): The bash command to execute. For example: --cmd 'python my_script.py'
"""
# r2e-flavor: openhands,v1
"""
Description: Execute a bash command in the terminal, with Python version compatibility.

Parameters:
  --command (string, optional): The bash command to execute. For example: --command 'python my_script.py'. If not provided, will show help.
"""
# r2e-flavor: end

# r2e's rewrite of the R2E-Gym scaffold's `execute_bash` tool (same argv, output
# and exit status). The command line runs through /bin/sh -c (no `--`: a line
# starting with `-` is read as shell options); the shell's stdin is ours; its
# stdout and stderr are captured and decoded strictly in text mode (universal
# newlines: \r\n and \r become \n), then shown stripped. The exit status is the
# command's. A first word of git/ipython/jupyter/nohup is refused (exit 1); an
# empty or blank command has no first word and ends in an IndexError.

import argparse
import subprocess
import sys

REFUSED = ("git", "ipython", "jupyter", "nohup")


# Built once per process: parse_args() leaves a parser as it found it, and a
# tool server worker takes many calls.
_PARSER = []


def command_line(argv):
    if not _PARSER:
        parser = argparse.ArgumentParser(prog="execute_bash", description="Execute a bash command.")
# r2e-flavor: r2egym
        parser.add_argument(
            "--cmd",
            required=True,
            help="The command (and optional arguments) to execute. For example: --cmd 'python my_script.py'",
        )
# r2e-flavor: openhands,v1
        parser.add_argument(
            "command",
            type=str,
            help="The command (and optional arguments) to execute. For example: 'python my_script.py'",
        )
# r2e-flavor: end
        _PARSER.append(parser)
    args = _PARSER[0].parse_args(argv)
    return args.cmd if hasattr(args, "cmd") else args.command


def report(code, out, err):
    text = "Error executing command:\n\n" if code != 0 else ""
    text += "[STDOUT]\n\n" + out.strip() + " \n\n"
    text += "[STDERR]\n\n" + err.strip() + "\n"
    sys.stdout.write(text)


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    line = command_line(argv)

    leading = line.split()[0]  # IndexError for a blank command, as the scaffold's
    if leading in REFUSED:
        print("Bash command '%s' is not allowed. Please use a different command or tool." % leading)
        return 1

    shell = subprocess.run(
        line,
        shell=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
    )
    report(shell.returncode, shell.stdout, shell.stderr)
    return shell.returncode


if __name__ == "__main__":
    sys.exit(main())
