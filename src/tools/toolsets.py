#!/usr/bin/env python3
"""The tool sets r2e ships, and the flavour generator that makes their files.

A tool set maps each command name to a script. Scripts that differ between sets
only in places are written once, with flavour sections:

    # r2e-flavor: v1,openhands
    ...lines kept only for these flavours...
    # r2e-flavor: end

`generate(source, flavor)` keeps the lines of sections that name `flavor`, drops
the other sections and the marker lines (a section of flavour `none` is a note
on the source, in no script). The build runs this file to write every
set's scripts (`toolsets.py OUTDIR` -> OUTDIR/<set>/<command>.py), which
src/tools/embed_scripts.cmake then compiles into the library; the replay harness
(tests/tools/replay_tools.py) imports it to test the same files.

Sets:
  r2egym     the R2E-Gym scaffold's r2egym configs: file_editor, search,
             execute_bash (--cmd), finish
  openhands  the scaffold's openhands/sweagent configs: str_replace_editor,
             execute_bash (positional), submit
  sweagent   the same as openhands
  v1         the scaffold's non_fn_calling config: file_editor (v1), search,
             execute_bash (positional), finish
  r2e        r2e's own tools (docs/tools.md lists how they differ)
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "scripts")
MARKER = "# r2e-flavor:"

# set -> [(command, source file relative to scripts/, flavour or None)]
R2EGYM = [
    ("file_editor", "scaffold/editor.py", "r2egym"),
    ("search", "scaffold/search.py", None),
    ("execute_bash", "scaffold/execute_bash.py", "r2egym"),
    ("finish", "scaffold/finish.py", None),
]
SETS = {
    "r2egym": R2EGYM,
    "openhands": [
        ("str_replace_editor", "scaffold/editor.py", "openhands"),
        ("execute_bash", "scaffold/execute_bash.py", "openhands"),
        ("submit", "scaffold/submit.py", None),
    ],
    # The r2egym set's commands and scripts, in their v1 flavours.
    "v1": [(cmd, src, "v1" if flavor == "r2egym" else flavor) for cmd, src, flavor in R2EGYM],
    "r2e": [
        ("file_editor", "r2e/editor.py", "file_editor"),
        ("search", "r2e/search.py", None),
        ("execute_bash", "r2e/execute_bash.py", None),
        ("finish", "r2e/finish.py", None),
        ("str_replace_editor", "r2e/editor.py", "str_replace_editor"),
        ("submit", "r2e/submit.py", None),
    ],
}
SETS["sweagent"] = SETS["openhands"]


def generate(source, flavor):
    """The lines of `source` for `flavor` (see the module docstring)."""
    out = []
    keep = True
    for line in source.splitlines(True):
        stripped = line.strip()
        if stripped.startswith(MARKER):
            names = stripped[len(MARKER):].strip()
            keep = names == "end" or flavor in [n.strip() for n in names.split(",")]
            continue
        if keep:
            out.append(line)
    return "".join(out)


# Appended to the scripts that r2e's tool server may run (see
# src/tools/served_tools.h): importing them has no effect, main(argv) runs them,
# and main may run many times in one process (nothing it leaves behind changes
# what a later call prints).
SERVABLE = "\n# r2e-tool-server: main\n# r2e-tool-server: reusable\n"


def script(source_path, flavor):
    with open(os.path.join(SCRIPTS, source_path), "r", encoding="utf-8", newline="") as f:
        text = f.read()
    text = generate(text, flavor) if flavor else text
    if source_path.startswith("scaffold/"):
        text += SERVABLE
    return text


def toolset_files(name):
    """{command: bytes} for a set."""
    return {cmd: script(src, flavor).encode("utf-8") for cmd, src, flavor in SETS[name]}


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: toolsets.py OUTDIR\n")
        return 2
    # sets.txt: one line per set, "<set> <command>...", in the set's order.
    index = "".join("%s %s\n" % (name, " ".join(cmd for cmd, _, _ in SETS[name])) for name in SETS)
    write_if_changed(os.path.join(argv[1], "sets.txt"), index.encode("utf-8"))
    for name in SETS:
        directory = os.path.join(argv[1], name)
        for cmd, content in toolset_files(name).items():
            write_if_changed(os.path.join(directory, cmd + ".py"), content)
    return 0


def write_if_changed(path, content):
    """Unchanged files keep their time stamps (no needless rebuilds)."""
    try:
        with open(path, "rb") as f:
            if f.read() == content:
                return
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(content)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
