#!/usr/bin/env python3
"""
Submit the work and end the episode: call this when the issue is resolved.
"""

import argparse
import sys


def main(argv):
    parser = argparse.ArgumentParser(
        prog="submit", allow_abbrev=False, description="End the episode and submit the work.")
    parser.parse_args(argv)
    sys.stdout.write("<<<Finished>>>\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
