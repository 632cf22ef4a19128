#!/usr/bin/env python3
"""
Description: Search for a term in either a directory or a single file.

Behavior:
* If `--path` points to a directory (default is `.`), we recursively search all non-hidden files and directories.
* If `--path` points to a file, we run `grep -n` on that file to find line numbers containing the search term.
* If more than 100 files match (directory search scenario), the tool will stop listing and inform you to narrow your search.
* If no files are found that match your search term, the tool will inform you of that as well.

**Parameters:**
  1. **search_term** (`string`, required): The term to search for in files.
  2. **path** (`string`, optional): The file or directory in which to search. If not provided, defaults to the current directory (i.e., `.`).
"""

# r2e's rewrite of the R2E-Gym scaffold's `search` tool (same argv, output and
# exit status). A directory is walked in os.walk order; each non-hidden file
# (only *.py unless `--python_only` is given an empty value: any other string is
# true) is read as text in the locale's encoding with undecodable bytes
# ignored, and the lines containing the term literally are counted. A file is
# handed to `grep -n TERM FILE` as is: the term is a grep pattern there, and a
# term that looks like an option reaches grep as one.

import argparse
import os
import subprocess
import sys

LISTED_FILES_LIMIT = 100


def make_parser():
    parser = argparse.ArgumentParser(
        prog="search",
        description="search tool: run subcommands such as `search` for files or directories.",
    )
    parser.add_argument("--search_term", help="Term to search for in files.", required=True)
    parser.add_argument(
        "--path",
        help="File or directory to search in (defaults to current dir).",
        default=".",
    )
    parser.add_argument(
        "--python_only",
        default=True,
        help="If set, only search for matches in .py files when searching a directory.",
    )
    return parser


def say(text):
    print(text)


def candidate_files(top, py_files_only):
    """Non-hidden files under `top`, hidden directories pruned, in walk order."""
    for folder, subfolders, names in os.walk(top):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            if name.startswith("."):
                continue
            if py_files_only and not name.endswith(".py"):
                continue
            yield os.path.join(folder, name)


def lines_with(term, filename):
    """How many lines of the file (read as text) hold `term`; None if unreadable."""
    hits = 0
    try:
        with open(filename, "r", errors="ignore") as stream:
            for text in stream:
                if term in text:
                    hits += 1
    except (UnicodeDecodeError, PermissionError):
        return None
    return hits


def search_tree(term, where, py_files_only):
    top = os.path.realpath(where)
    if not os.path.isdir(top):
        say("Directory '%s' not found or not a directory." % top)
        return 1

    per_file = []  # (path, count) in the order found
    for filename in candidate_files(top, py_files_only):
        hits = lines_with(term, filename)
        if hits:
            per_file.append((filename, hits))

    if not per_file:
        say('No matches found for "%s" in %s' % (term, top))
        return 0
    total = sum(hits for _, hits in per_file)
    if len(per_file) > LISTED_FILES_LIMIT:
        say('More than %d files matched for "%s" in %s. Please narrow your search.'
            % (len(per_file), term, top))
        return 0

    say('Found %d matches for "%s" in %s:' % (total, term, top))
    for filename, hits in per_file:
        shown = os.path.relpath(filename, start=os.getcwd())
        if not shown.startswith("./"):
            shown = "./" + shown
        say("%s (%d matches)" % (shown, hits))
    say('End of matches for "%s" in %s' % (term, top))
    return 0


def search_one_file(term, where):
    target = os.path.realpath(where)
    if not os.path.isfile(target):
        say("File '%s' not found or is not a file." % target)
        return 1

    # Text mode: grep's output is decoded strictly in the locale's encoding
    # (a line that does not decode is an uncaught UnicodeDecodeError).
    grep = subprocess.run(
        ["grep", "-n", term, target],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
    )
    if grep.returncode == 1:
        say('No matches found for "%s" in %s' % (term, target))
        return 0
    if grep.returncode != 0:
        say("Error executing grep:\n%s" % grep.stderr)
        return grep.returncode

    say('Matches for "%s" in %s:' % (term, target))
    say(grep.stdout.strip())
    return 0


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    options = make_parser().parse_args(argv)
    if os.path.isfile(options.path):
        return search_one_file(options.search_term, options.path)
    return search_tree(options.search_term, options.path, bool(options.python_only))


if __name__ == "__main__":
    sys.exit(main())
