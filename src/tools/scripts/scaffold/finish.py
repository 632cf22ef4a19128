#!/usr/bin/env python3
"""
Description: A simple finish tool with a "submit" command.

Notes about the `submit` command:
* When invoked with `--result`, the provided string is used for submitting required task results (e.g., localization files).
* If no `--result` is provided, it defaults to an empty string.

**Parameters:**
  1. **command** (`string`, required): The command to run. Currently allowed option is: `submit`.
     - Allowed value: [`submit`]
  2. **result** (`string`, optional): The result text to submit. Defaults to an empty string.
"""

# r2e's rewrite of the R2E-Gym scaffold's `finish` tool (same argv, output and
# exit status): `finish submit [--result TEXT]` prints the end marker; the
# result text is accepted and not shown; any other command exits 1.

import argparse
import sys

END_MARKER = "<<<Finished>>>"


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    parser = argparse.ArgumentParser(
        prog="finish",
        description="submit tool: run the `submit` command with an optional `--result` argument.",
    )
    parser.add_argument("command", help="Subcommand to run (currently only `submit`).")
    parser.add_argument("--result", help="The result text to submit (optional).", default="")
    options = parser.parse_args(argv)

    if options.command != "submit":
        print("Unknown command '%s'. Only `submit` is supported." % options.command)
        return 1
    print(END_MARKER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
