#!/usr/bin/env python3
"""The scaffold editor's two fast paths answer what the slow ones did.

  statements(tree)     must be the statements (with except handlers and match
                       cases) of ast.walk(tree), in ast.walk's order: the
                       condensed view lists its elided spans in that order;
  guess_encoding(data) must be chardet.detect(data)["encoding"], also for the
                       plain ASCII it answers without chardet.

Checked on every Python file of the interpreter's standard library, and on
crafted inputs near the ASCII fast path's edges.

usage: editor_fast_paths_test.py GENERATED_FILE_EDITOR
"""

import ast
import glob
import importlib.machinery
import importlib.util
import os
import sys
import sysconfig


def load(path):
    loader = importlib.machinery.SourceFileLoader("file_editor_under_test", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def statement_kinds():
    kinds = [ast.stmt, ast.excepthandler]
    if hasattr(ast, "match_case"):
        kinds.append(ast.match_case)
    return tuple(kinds)


def main(argv):
    editor = load(argv[1])
    kinds = statement_kinds()
    files = sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "**", "*.py"), recursive=True))
    files = files[::max(1, len(files) // 600)]  # a spread sample: chardet is slow
    failures, checked = [], 0
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        try:
            tree = ast.parse(data, filename=path)
        except (SyntaxError, ValueError):
            continue
        checked += 1
        expected = [n for n in ast.walk(tree) if n is tree or isinstance(n, kinds)]
        if list(editor.statements(tree)) != expected:
            failures.append("statements() differs from ast.walk on " + path)
        if editor.chardet is not None and len(data) < 65536:
            want = editor.chardet.detect(data)["encoding"]
            if editor.guess_encoding(data) != want:
                failures.append("guess_encoding differs from chardet on %s" % path)
    if checked < 100:
        failures.append("only %d standard library files parsed" % checked)
    if editor.chardet is not None:
        crafted = [b"plain", b"a\x00b\x00" * 40, b"\x1b$B", b"x ~{ y", b"~", b"caf\xc3\xa9", b"\xef\xbb\xbfbom",
                   b"\xff\xfea\x00", b"", b"\t\r\n\x7f"]
        for data in crafted:
            if editor.guess_encoding(data) != editor.chardet.detect(data)["encoding"]:
                failures.append("guess_encoding differs from chardet on %r" % data)
    for line in failures:
        print("FAIL:", line)
    print("%d files checked, %d failures%s" % (checked, len(failures),
                                                "" if editor.chardet else " (no chardet: encodings not checked)"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
