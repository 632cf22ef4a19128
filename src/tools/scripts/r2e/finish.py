#!/usr/bin/env python3
"""
Finish the task: call this when the issue is resolved, or when you cannot make further progress.
* Pass `submit` as the command.
* `result` may hold a short summary of what was done.
"""

import argparse
import sys


def main(argv):
    parser = argparse.ArgumentParser(
        prog="finish", allow_abbrev=False, description="End the episode and submit the work.")
    parser.add_argument("command", type=str, choices=["submit"],
                        help="The command to run: `submit`.")
    parser.add_argument("--result", type=str, default=None,
                        help="Optional summary of the outcome.")
    glued, i = [], 0
    while i < len(argv):  # `--result=VALUE`: a summary starting with `-` stays the value
        if argv[i] == "--result" and i + 1 < len(argv):
            glued.append("--result=" + argv[i + 1])
            i += 2
        else:
            glued.append(argv[i])
            i += 1
    parser.parse_args(glued)
    sys.stdout.write("<<<Finished>>>\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
