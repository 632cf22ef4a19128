#!/usr/bin/env python3
"""
Search for a term in a directory or in a single file.
* If `path` is a directory (the default is `.`), all non-hidden files under it are searched
  recursively and the number of matching lines is listed per file.
* If `path` is a file, every line containing the term is shown with its line number, as
  `grep -n` does.
* If more than 100 files match, the files are not listed: you are asked to narrow the search.
* The term is matched literally (not as a regular expression) and case-sensitively.
"""

import argparse
import os
import sys

MAX_FILES = 100
MAX_LINE_CHARS = 1000


def emit(text):
    out = getattr(sys.stdout, "buffer", None)
    data = text.encode("utf-8", "replace")
    if out is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        out.write(data)
    sys.stdout.flush()


def decode(data):
    return data.decode("utf-8", "replace")


def search_file(term, path):
    needle = term.encode("utf-8", "surrogateescape")
    found = []
    try:
        with open(path, "rb") as f:
            for number, line in enumerate(f, 1):
                if needle in line:
                    text = decode(line.rstrip(b"\r\n"))
                    if len(text) > MAX_LINE_CHARS:
                        text = text[:MAX_LINE_CHARS] + " ... [line clipped]"
                    found.append("{}:{}".format(number, text))
    except Exception as e:
        emit("ERROR: Cannot read {}: {}\n".format(path, e))
        return 1
    if not found:
        emit('No matches found for "{}" in {}\n'.format(term, path))
        return 0
    emit('Matches for "{}" in {}:\n{}\n'.format(term, path, "\n".join(found)))
    return 0


def count_in(path, needle):
    count = 0
    try:
        with open(path, "rb") as f:
            for line in f:
                if needle in line:
                    count += 1
    except Exception:
        return 0  # unreadable files are skipped, as grep -s does
    return count


def search_directory(term, directory):
    needle = term.encode("utf-8", "surrogateescape")
    counts = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            if not os.path.isfile(path):
                continue
            n = count_in(path, needle)
            if n:
                counts.append((path, n))
    if not counts:
        emit('No matches found for "{}" in {}\n'.format(term, directory))
        return 0
    if len(counts) > MAX_FILES:
        emit('More than {} files matched for "{}" in {}. Please narrow your search.\n'.format(
            len(counts), term, directory))
        return 0
    total = sum(n for _, n in counts)
    lines = ['Found {} matches for "{}" in {}:'.format(total, term, directory)]
    cwd = os.getcwd()
    for path, n in counts:
        shown = os.path.relpath(path, cwd)
        if not shown.startswith(("./", "../")):
            shown = "./" + shown
        lines.append("{} ({} matches)".format(shown, n))
    lines.append('End of matches for "{}" in {}'.format(term, directory))
    emit("\n".join(lines) + "\n")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="search", allow_abbrev=False,
        description="Search for a term in the files of a directory or in one file.")
    parser.add_argument("--search_term", type=str, required=True,
                        help="The term to search for.")
    parser.add_argument("--path", type=str, default=".",
                        help="The file or directory to search in. Defaults to the current "
                             "directory (`.`).")
    return parser


def main(argv):
    # `--key=value` keeps values that look like options (e.g. `--verbose`) as values.
    glued, i = [], 0
    while i < len(argv):
        if argv[i] in ("--search_term", "--path") and i + 1 < len(argv):
            glued.append(argv[i] + "=" + argv[i + 1])
            i += 2
        else:
            glued.append(argv[i])
            i += 1
    args = build_parser().parse_args(glued)
    if args.search_term == "":
        emit("ERROR: The search term must not be empty.\n")
        return 1
    path = os.path.realpath(args.path)
    if os.path.isfile(path):
        return search_file(args.search_term, path)
    if os.path.isdir(path):
        return search_directory(args.search_term, path)
    emit("ERROR: The path '{}' does not exist.\n".format(args.path))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
