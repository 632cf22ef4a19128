#!/usr/bin/env python3
# r2e-flavor: none
# r2e's own file editors, written once for two commands (src/tools/toolsets.py
# generates one script per flavour; a section of flavour `none`, like this note,
# is in neither):
#   file_editor         view, create, str_replace, insert and undo_edit
#   str_replace_editor  the same without undo_edit
# r2e-flavor: end
"""
Custom editing tool for viewing, creating and editing files.
# r2e-flavor: file_editor
* State persists between calls: `undo_edit` reverts the last edit made to a file.
# r2e-flavor: end
* If `path` is a file, `view` shows it with line numbers, as `cat -n` does. If `path` is a
  directory, `view` lists the non-hidden files and directories in it up to 2 levels deep.
* `create` cannot be used when `path` already exists.
* Long outputs are clipped and marked with `<response clipped>`.
# r2e-flavor: file_editor
* `undo_edit` reverts the last edit made to the file at `path`.
# r2e-flavor: end

Notes for using the `str_replace` command:
* `old_str` must match EXACTLY one or more consecutive lines of the file, whitespace included.
* If `old_str` occurs more than once, nothing is replaced: include enough context to make it
  unique.
* `new_str` holds the lines that replace `old_str`.
"""

import argparse
import sys

# r2e-flavor: file_editor
# The commands this variant offers.
COMMANDS = ["view", "create", "str_replace", "insert", "undo_edit"]
TOOL_NAME = "file_editor"
# r2e-flavor: str_replace_editor
# The commands this variant offers (no undo_edit).
COMMANDS = ["view", "create", "str_replace", "insert"]
TOOL_NAME = "str_replace_editor"
# r2e-flavor: end

# --- shared editor implementation: keep identical in file_editor.py and str_replace_editor.py ---
import ast
import hashlib
import os

SNIPPET_LINES = 4
MAX_RESPONSE_LEN = 10000
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_UNDO_STEPS = 50
CLIPPED_NOTE = (
    "<response clipped><NOTE>To save on context only part of this file has been shown to you. "
    "You should retry this tool after you have searched inside the file with `grep -n` in order "
    "to find the line numbers of what you are looking for.</NOTE>"
)
LINT_ERROR_HEAD = (
    "Your proposed edit has introduced new syntax error(s). Please read this error message "
    "carefully and then retry editing the file.\nERRORS:\n"
)


class EditorError(Exception):
    """A mistake in the request or a file the editor cannot handle; shown as `ERROR: ...`."""


def clip(text):
    if len(text) <= MAX_RESPONSE_LEN:
        return text
    return text[:MAX_RESPONSE_LEN] + CLIPPED_NOTE


def numbered(text, first_line=1):
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the final line break does not start another line
    return "\n".join("{:6}\t{}".format(first_line + i, line) for i, line in enumerate(lines))


def cat_n(text, descriptor, first_line=1):
    return "Here's the result of running `cat -n` on {}:\n{}\n".format(
        descriptor, numbered(text, first_line))


def read_text(path):
    """The file's text; undecodable bytes survive a round trip (surrogateescape)."""
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise EditorError(
                "{} is {} bytes, too large for this tool (limit {} bytes). Use `grep -n` or "
                "`sed -n` to look at parts of it.".format(path, size, MAX_FILE_BYTES))
        with open(path, "rb") as f:
            data = f.read()
    except EditorError:
        raise
    except Exception as e:
        raise EditorError("Failed to read file {}: {}".format(path, e))
    if b"\0" in data[:8192]:
        raise EditorError("{} looks like a binary file; this tool handles text files only.".format(path))
    return data.decode("utf-8", "surrogateescape")


def write_text(path, text):
    try:
        with open(path, "wb") as f:
            f.write(text.encode("utf-8", "surrogateescape"))
    except Exception as e:
        raise EditorError("Failed to write file {}: {}".format(path, e))


def split_lines(text):
    """Lines without their breaks, and whether the text ended with a line break."""
    if text == "":
        return [], False
    lines = text.split("\n")
    if text.endswith("\n"):
        return lines[:-1], True
    return lines, False


def lint_error(text, path, old_text):
    """The syntax error a Python edit introduces, or "" (also when the file was already broken)."""
    if not path.endswith(".py"):
        return ""
    try:
        compile(text.encode("utf-8", "surrogateescape"), path, "exec")
        return ""
    except (SyntaxError, ValueError) as e:
        new_error = str(e)
    if old_text is not None:
        try:
            compile(old_text.encode("utf-8", "surrogateescape"), path, "exec")
        except (SyntaxError, ValueError):
            return ""  # not introduced by this edit
    return new_error


# Undo history: one directory per file under ~/.r2e_undo, holding numbered snapshots
# (the content before each edit) or an `.absent` marker (the edit created the file).
def history_dir(path):
    home = os.path.expanduser("~")
    key = hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return os.path.join(home, ".r2e_undo", key)


def history_entries(path):
    d = history_dir(path)
    try:
        names = os.listdir(d)
    except OSError:
        return d, []
    entries = sorted(n for n in names if n.split(".")[0].isdigit())
    return d, entries


def push_history(path, old_text):
    d, entries = history_entries(path)
    try:
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "path"), "wb") as f:
            f.write(path.encode("utf-8", "surrogateescape"))
        seq = int(entries[-1].split(".")[0]) + 1 if entries else 1
        name = "{:08d}".format(seq)
        if old_text is None:
            open(os.path.join(d, name + ".absent"), "wb").close()
        else:
            with open(os.path.join(d, name), "wb") as f:
                f.write(old_text.encode("utf-8", "surrogateescape"))
        for stale in entries[:max(0, len(entries) + 1 - MAX_UNDO_STEPS)]:
            os.remove(os.path.join(d, stale))
    except Exception as e:
        raise EditorError("Could not save the undo history for {}: {}".format(path, e))


def pop_history(path):
    """(True, text) for a snapshot, (True, None) when the edit created the file, (False, None)."""
    d, entries = history_entries(path)
    if not entries:
        return False, None
    last = os.path.join(d, entries[-1])
    if last.endswith(".absent"):
        os.remove(last)
        return True, None
    with open(last, "rb") as f:
        text = f.read().decode("utf-8", "surrogateescape")
    os.remove(last)
    return True, text


def parse_view_range(text) -> list:
    """`[start, end]` (brackets and comma optional) as two integers."""
    parts = text.strip().strip("[]()").replace(",", " ").split()
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(
            "expected two line numbers like `[3, 20]`, got {!r}".format(text))
    try:
        return [int(parts[0]), int(parts[1])]
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected two integers like `[3, 20]`, got {!r}".format(text))


def parse_flag(text) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off", "none"):
        return False
    raise argparse.ArgumentTypeError("expected true or false, got {!r}".format(text))


def list_directory(path):
    """`find PATH -maxdepth 2 -not -path '*/.*'`, sorted."""
    out = [path]

    def visible(parent):
        try:
            return sorted(n for n in os.listdir(parent) if not n.startswith("."))
        except OSError:
            return []

    for name in visible(path):
        child = os.path.join(path, name)
        out.append(child)
        if os.path.isdir(child):
            out.extend(os.path.join(child, n) for n in visible(child))
    return out


def elided_lines(text, path):
    """(line number, text) pairs of a Python file with long function bodies elided."""
    try:
        tree = ast.parse(text.encode("utf-8", "surrogateescape"), filename=path)
    except (SyntaxError, ValueError) as e:
        raise EditorError("Cannot show a condensed view of {}: {}".format(path, e))
    lines, _ = split_lines(text)
    ranges = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0].lineno
            last = max(getattr(n, "lineno", first) for n in ast.walk(node.body[-1]))
            last = max(last, getattr(node.body[-1], "end_lineno", None) or last)
            if last - first >= 3:
                ranges.append((first, last))
    hidden = set()
    notes = {}
    for first, last in ranges:
        if first in hidden:
            continue  # inside a body already elided
        notes[first] = "... eliding lines {}-{} ...".format(first, last)
        hidden.update(range(first, last + 1))
    out = []
    for number, line in enumerate(lines, 1):
        if number in notes:
            out.append((number, notes[number]))
        elif number not in hidden:
            out.append((number, line))
    return out


class Editor(object):
    def __init__(self, enable_linting):
        self.enable_linting = enable_linting

    def run(self, command, path, args):
        if command not in COMMANDS:
            raise EditorError("Unrecognized command '{}'. Allowed commands: {}.".format(
                command, ", ".join(COMMANDS)))
        if not path:
            raise EditorError("Parameter `path` is required for command: {}.".format(command))
        path = os.path.abspath(path)
        if command == "create":
            if os.path.exists(path):
                raise EditorError(
                    "File already exists at: {}. Cannot overwrite with 'create'.".format(path))
        elif not os.path.exists(path):
            raise EditorError("The path '{}' does not exist.".format(path))
        elif os.path.isdir(path) and command != "view":
            raise EditorError(
                "The path '{}' is a directory. Only 'view' can be used on directories.".format(path))
        return getattr(self, command)(path, args)

    def view(self, path, args):
        if os.path.isdir(path):
            if args.view_range:
                raise EditorError(
                    "The `view_range` parameter is not allowed when `path` points to a directory.")
            listing = "\n".join(list_directory(path))
            return clip("Here's the files and directories up to 2 levels deep in {}, excluding "
                        "hidden:\n{}\n".format(path, listing))
        text = read_text(path)
        concise = bool(args.concise) and path.endswith(".py") and not args.view_range
        if concise:
            pairs = elided_lines(text, path)
            head = ("Here is a condensed view for file: {}; [Note: Useful for understanding file "
                    "structure in a concise manner. Please use specific view_range without concise "
                    "cmd if you want to explore further into the relevant parts.]\n".format(path))
        else:
            lines, _ = split_lines(text)
            pairs = list(enumerate(lines, 1))
            head = "Here's the result of running `cat -n` on {}:\n".format(path)
        if args.view_range:
            start, end = args.view_range
            total = len(pairs)
            if not 1 <= start <= max(total, 1) or total == 0:
                raise EditorError("Invalid `view_range`: {}. Its first element `{}` should be within "
                                  "the range of lines of the file: [1, {}].".format(
                                      args.view_range, start, total))
            if end != -1 and (end < start or end > total):
                raise EditorError("Invalid `view_range`: {}. Its second element `{}` should be -1 "
                                  "(to the end) or within [{}, {}].".format(
                                      args.view_range, end, start, total))
            pairs = [p for p in pairs if p[0] >= start and (end == -1 or p[0] <= end)]
        body = "\n".join("{:6}\t{}".format(n, line) for n, line in pairs)
        return clip(head + body + ("\n" if body else ""))

    def create(self, path, args):
        if args.file_text is None:
            raise EditorError("Parameter `file_text` is required for command: create.")
        text = args.file_text
        if self.enable_linting:
            err = lint_error(text, path, None)
            if err:
                raise EditorError(LINT_ERROR_HEAD + err)
        parent = os.path.dirname(path)
        try:
            if parent:
                os.makedirs(parent, exist_ok=True)
        except Exception as e:
            raise EditorError("Cannot create the directory {}: {}".format(parent, e))
        if "undo_edit" in COMMANDS:
            push_history(path, None)
        write_text(path, text)
        return clip("File created at {}. {}Review the file and make sure that it is as expected. "
                    "Edit the file if necessary.".format(path, cat_n(text, path)))

    def replace_file(self, path, text, updated):
        """Writes `updated` over the file's `text`: linted first when asked,
        `text` kept for undo_edit."""
        if self.enable_linting:
            err = lint_error(updated, path, text)
            if err:
                raise EditorError(LINT_ERROR_HEAD + err)
        if "undo_edit" in COMMANDS:
            push_history(path, text)
        write_text(path, updated)

    def str_replace(self, path, args):
        old = args.old_str
        if old is None:
            raise EditorError("Parameter `old_str` is required for command: str_replace.")
        if old == "":
            raise EditorError("Parameter `old_str` must not be empty for command: str_replace.")
        new = args.new_str if args.new_str is not None else ""
        text = read_text(path)
        count = text.count(old)
        if count == 0:
            raise EditorError(
                "No occurrences of '{}' found in {} for replacement.".format(old, path))
        if count > 1:
            starts, pos = [], text.find(old)
            while pos != -1:
                starts.append(str(text.count("\n", 0, pos) + 1))
                pos = text.find(old, pos + len(old))
            raise EditorError(
                "Multiple occurrences of '{}' found in {} (starting at lines {}). Please ensure it "
                "is unique before using str_replace.".format(old, path, ", ".join(starts)))
        updated = text.replace(old, new, 1)
        self.replace_file(path, text, updated)
        line = text.count("\n", 0, text.find(old))
        first = max(0, line - SNIPPET_LINES)
        last = line + SNIPPET_LINES + new.count("\n")
        snippet = "\n".join(updated.split("\n")[first:last + 1])
        return clip("The file {} has been edited. {}Review the changes and make sure they are as "
                    "expected. Edit the file again if necessary.".format(
                        path, cat_n(snippet, "a snippet of " + path, first + 1)))

    def insert(self, path, args):
        if args.insert_line is None:
            raise EditorError("Parameter `insert_line` is required for command: insert.")
        if args.new_str is None:
            raise EditorError("Parameter `new_str` is required for command: insert.")
        text = read_text(path)
        lines, trailing = split_lines(text)
        at = args.insert_line
        if at < 0 or at > len(lines):
            raise EditorError("Invalid `insert_line` parameter: {}. It should be within the range "
                              "of lines of the file: [0, {}].".format(at, len(lines)))
        new_lines = args.new_str.split("\n")
        updated_lines = lines[:at] + new_lines + lines[at:]
        updated = "\n".join(updated_lines) + ("\n" if trailing or not lines else "")
        self.replace_file(path, text, updated)
        first = max(0, at - SNIPPET_LINES)
        snippet = "\n".join(updated_lines[first:at + len(new_lines) + SNIPPET_LINES])
        return clip("The file {} has been edited. {}Review the changes and make sure they are as "
                    "expected (correct indentation, no duplicate lines, etc). Edit the file again "
                    "if necessary.".format(
                        path, cat_n(snippet, "a snippet of the edited file", first + 1)))

    def undo_edit(self, path, args):
        found, old_text = pop_history(path)
        if not found:
            raise EditorError("No previous edits found for {} to undo.".format(path))
        if old_text is None:
            try:
                os.remove(path)
            except Exception as e:
                raise EditorError("Failed to remove {}: {}".format(path, e))
            return "Last edit to {} undone successfully: the file it created was removed.\n".format(
                path)
        write_text(path, old_text)
        return clip("Last edit to {} undone successfully. {}".format(path, cat_n(old_text, path)))


def glue_values(argv, value_options, optional_value_options):
    """Turns `--key VALUE` into `--key=VALUE` so values that look like options stay values.

    Options whose value is optional take the next word only when it is not an option itself.
    """
    out, i = [], 0
    while i < len(argv):
        word = argv[i]
        has_next = i + 1 < len(argv)
        if has_next and (word in value_options or (
                word in optional_value_options and not argv[i + 1].startswith("-"))):
            out.append(word + "=" + argv[i + 1])
            i += 2
        else:
            out.append(word)
            i += 1
    return out


def emit(text):
    out = getattr(sys.stdout, "buffer", None)
    data = text.encode("utf-8", "replace")
    if out is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        out.write(data)
    sys.stdout.flush()


def main_with(parser, argv):
    value_options, optional_value_options = set(), set()
    for action in parser._actions:
        if action.nargs == 0 or not action.option_strings:
            continue
        target = optional_value_options if action.nargs == "?" else value_options
        target.update(action.option_strings)
    args = parser.parse_args(glue_values(argv, value_options, optional_value_options))
    try:
        result = Editor(bool(args.enable_linting)).run(args.command, args.path, args)
    except EditorError as e:
        emit("ERROR: {}\n".format(e))
        return 1
    except Exception as e:  # a bug or an unexpected file system state: still a clear message
        emit("ERROR: Unhandled exception: {}: {}\n".format(type(e).__name__, e))
        return 1
    emit(result if result.endswith("\n") else result + "\n")
    return 0
# --- end of shared editor implementation ---


def build_parser():
# r2e-flavor: file_editor
    parser = argparse.ArgumentParser(
        prog=TOOL_NAME, allow_abbrev=False,
        description="View, create and edit files, with undo and optional Python syntax checks.")
    parser.add_argument(
        "command", type=str, choices=COMMANDS,
        help="The command to run. Allowed options are: `view`, `create`, `str_replace`, `insert`, "
             "`undo_edit`.")
# r2e-flavor: str_replace_editor
    parser = argparse.ArgumentParser(
        prog=TOOL_NAME, allow_abbrev=False,
        description="View, create and edit files, with optional Python syntax checks.")
    parser.add_argument(
        "command", type=str, choices=COMMANDS,
        help="The command to run. Allowed options are: `view`, `create`, `str_replace`, `insert`.")
# r2e-flavor: end
    parser.add_argument(
        "--path", type=str, required=True,
        help="Absolute path to file or directory, e.g. `/testbed/file.py` or `/testbed`.")
    parser.add_argument(
        "--file_text", type=str, default=None,
        help="Required parameter of `create` command, with the content of the file to be created.")
    parser.add_argument(
        "--old_str", type=str, default=None,
        help="Required parameter of `str_replace` command containing the string in `path` to "
             "replace.")
    parser.add_argument(
        "--new_str", type=str, default=None,
        help="Optional parameter of `str_replace` command containing the new string (if not given, "
             "no string will be added). Required parameter of `insert` command containing the "
             "string to insert.")
    parser.add_argument(
        "--insert_line", type=int, default=None,
        help="Required parameter of `insert` command. The `new_str` will be inserted AFTER the line "
             "`insert_line` of `path`.")
    parser.add_argument(
        "--view_range", type=parse_view_range, default=None,
        help="Optional parameter of `view` command when `path` points to a file. If none is given, "
             "the full file is shown. If provided, the file will be shown in the indicated line "
             "number range, e.g. [11, 12] will show lines 11 and 12. Indexing at 1 to start. "
             "Setting `[start_line, -1]` shows all lines from `start_line` to the end of the file.")
    parser.add_argument(
        "--concise", type=parse_flag, nargs="?", const=True, default=False,
        help="Optional parameter of `view` command for Python files: a condensed view that elides "
             "long function bodies. Default is `false`.")
    parser.add_argument(
        "--enable_linting", type=parse_flag, nargs="?", const=True, default=False,
        help="Optional parameter to check Python syntax before saving changes; an edit that "
             "introduces a syntax error is refused. Default is `false`.")
    return parser


if __name__ == "__main__":
    sys.exit(main_with(build_parser(), sys.argv[1:]))
