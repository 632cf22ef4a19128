#!/usr/bin/env python3
"""The scaffold editor's two fast paths answer what the slow ones did.

  statements(tree)     must be the statements (with except handlers and match
                       cases) of ast.walk(tree), in ast.walk's order: the
                       condensed view lists its elided spans in that order;
  guess_encoding(data) must be chardet.detect(data)["encoding"], also for the
                       plain ASCII it answers without chardet.

Checked on a sample of the interpreter's standard library, and on crafted
inputs near the ASCII fast path's edges. And, as a tool server runs it, many
calls in one process (the history cached between them) print and leave on disk
what one process per call does, also when something else rewrites the
history file between two calls.

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


SEQUENCE = [
    ["create", "--path", "{d}/a.py", "--file_text", "x = 1\ny = 2\n"],
    ["view", "--path", "{d}/a.py"],
    ["str_replace", "--path", "{d}/a.py", "--old_str", "x = 1", "--new_str", "x = 10"],
    ["view", "--path", "{d}/a.py"],
    ["insert", "--path", "{d}/a.py", "--insert_line", "1", "--new_str", "z = 3"],
    ["undo_edit", "--path", "{d}/a.py"],
    "rewrite-history",
    ["undo_edit", "--path", "{d}/a.py"],
    ["undo_edit", "--path", "{d}/a.py"],
    ["undo_edit", "--path", "{d}/b.py"],
    ["view", "--path", "{d}"],
    "remove-history",
    ["undo_edit", "--path", "{d}/a.py"],
]


def run_sequence(editor_path, in_process):
    """[(output, history bytes)] of SEQUENCE run in this process or one process per call."""
    import io
    import shutil
    import subprocess
    import tempfile
    work = tempfile.mkdtemp()
    history = os.path.join(work, "state.json")
    results = []
    module = None
    if in_process:
        module = load(editor_path)
        module.HISTORY_FILE = history
    try:
        for step in SEQUENCE:
            if step == "rewrite-history":
                with open(history, "w") as f:
                    f.write('{"%s/a.py": ["q = 0\\n"]}' % work)
                continue
            if step == "remove-history":
                os.unlink(history)
                continue
            argv = [a.format(d=work) for a in step]
            if in_process:
                out = io.BytesIO()
                real, wrapper = sys.stdout, io.TextIOWrapper(out, encoding="utf-8")
                sys.stdout = wrapper
                try:
                    module.main(argv)
                except SystemExit:
                    pass
                finally:
                    sys.stdout = real
                    wrapper.flush()
                    wrapper.detach()
                text = out.getvalue().decode()
            else:
                code = ("import sys, importlib.machinery, importlib.util\n"
                        "l = importlib.machinery.SourceFileLoader('e', sys.argv[1])\n"
                        "m = importlib.util.module_from_spec(importlib.util.spec_from_loader('e', l))\n"
                        "l.exec_module(m); m.HISTORY_FILE = sys.argv[2]; m.main(sys.argv[3:])\n")
                text = subprocess.run([sys.executable, "-c", code, editor_path, history] + argv,
                                      stdout=subprocess.PIPE, universal_newlines=True).stdout
            try:
                with open(history, "rb") as f:
                    saved = f.read()
            except FileNotFoundError:
                saved = None
            results.append((text.replace(work, "<work>"), saved.replace(work.encode(), b"<work>") if saved else saved))
    finally:
        shutil.rmtree(work)
    return results


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
    fresh = run_sequence(argv[1], in_process=False)
    reused = run_sequence(argv[1], in_process=True)
    for n, (want, got) in enumerate(zip(fresh, reused)):
        if want != got:
            failures.append("call %d of a sequence in one process differs from one process per call:\n%r\n%r"
                            % (n, want, got))
    if len(fresh) != len(reused) or "undone successfully" not in "".join(text for text, _ in fresh):
        failures.append("the sequence did not run as expected: %r" % (fresh,))
    for line in failures:
        print("FAIL:", line)
    print("%d files checked, %d failures%s" % (checked, len(failures),
                                                "" if editor.chardet else " (no chardet: encodings not checked)"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
