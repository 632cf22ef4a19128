#!/usr/bin/env python3
"""
Description: A simple submit tool to finish tasks.

This tool signals completion of a task or submission of results.
No parameters required - simply call to indicate task completion.
"""

# r2e's rewrite of the R2E-Gym scaffold's `submit` tool (same argv, output and
# exit status): takes no arguments and prints the end marker.

import argparse
import sys

END_MARKER = "<<<Finished>>>"


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    parser = argparse.ArgumentParser(prog="submit", description="Submit tool: Signal task completion.")
    parser.parse_args(argv)
    print(END_MARKER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
