#!/usr/bin/env python3
"""Replays the scaffold's tool corpus against r2e's tool scripts, directly.

A fast check of the tool scripts alone (no C++ build): every case of
../shared/fixtures/r2egym/tools.jsonl runs in a bubblewrap sandbox laid out as
the corpus's (repository at /testbed, tools in /usr/local/bin, /var/tmp for
the editor's undo history, only PATH and HOME set, /bin/sh -c 'timeout 90 CMD ')
and its stdout, stderr, exit code and changed files are compared with the
recorded ones. The C++ replay test (tests/unit/scaffold_replay_test.cc) runs
the same cases through RepoEnv and the runtimes.

    tests/tools/replay_tools.py [--fixtures DIR] [--only ID_PREFIX] [-v]

Exit status 0 when every case matches.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "src", "tools"))
import toolsets  # noqa: E402  (src/tools/toolsets.py: the sets and the flavour generator)

PATH = ("/root/.venv/bin:/root/.local/bin:/root/.cargo/bin:/usr/local/sbin:"
        "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")


def content_of(entry):
    if "text" in entry:
        return entry["text"].encode("utf-8", "surrogateescape")
    return base64.b64decode(entry["base64"])


def write_tree(root, files):
    for rel, entry in files.items():
        path = os.path.join(root, rel)
        if isinstance(entry, dict) and entry.get("dir"):
            os.makedirs(path, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content_of(entry))


def snapshot(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if not dirnames and not filenames and rel_dir != ".":
            out[rel_dir] = {"dir": True}
        for name in filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = b"symlink:" + os.readlink(path).encode()
            else:
                with open(path, "rb") as f:
                    out[rel] = f.read()
    return out


def changed(before, after):
    out = {}
    for rel, data in after.items():
        if before.get(rel) != data:
            out[rel] = data
    for rel in before:
        if rel not in after:
            out[rel] = None
    return out


def expected_changes(files_changed):
    out = {}
    for rel, entry in files_changed.items():
        if entry is None:
            out[rel] = None
        elif entry.get("dir"):
            out[rel] = {"dir": True}
        else:
            out[rel] = content_of(entry)
    return out


def bwrap_argv(case_dir, command):
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session"]
    for d in ("/usr", "/etc"):
        argv += ["--ro-bind", d, d]
    for d in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if os.path.islink(d):
            argv += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            argv += ["--ro-bind", d, d]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/root",
             # the corpus's /root/.venv/bin/python (CPython 3.11): commands run `python`
             "--symlink", "/usr/bin/python3", "/root/.venv/bin/python",
             "--bind", os.path.join(case_dir, "testbed"), "/testbed",
             "--bind", os.path.join(case_dir, "vartmp"), "/var/tmp",
             "--ro-bind", os.path.join(case_dir, "bin"), "/usr/local/bin",
             "--chdir", "/testbed", "--clearenv", "--setenv", "PATH", PATH,
             "--setenv", "HOME", "/root",
             "/bin/sh", "-c", "timeout 90 " + command + " "]
    return argv


def strip_traceback(text):
    """Drops 'Traceback (most recent call last):' blocks (frames vary by version)."""
    lines = text.split("\n")
    out, skipping = [], False
    for line in lines:
        if line.startswith("Traceback (most recent call last):"):
            skipping = True
            continue
        if skipping:
            if line.startswith(" "):
                continue
            skipping = False  # the exception's own line ends the block; keep it
        out.append(line)
    return "\n".join(out)


def compare_text(name, got, want, step, problems):
    if step.get("order_dependent_clip"):
        g, w = got.split("\n"), want.split("\n")
        if g[0] != w[0] or len(got) != len(want) or g[-3:] != w[-3:]:
            problems.append("%s: clipped listing differs (len %d vs %d)" % (name, len(got), len(want)))
        return
    if step.get("unordered_lines"):
        if sorted(got.split("\n")) != sorted(want.split("\n")):
            problems.append("%s differs (as a multiset of lines):\n--- got\n%s\n--- want\n%s" % (name, got, want))
        return
    if got != want:
        problems.append("%s differs:\n--- got\n%r\n--- want\n%r" % (name, got, want))


def run_case(case, repo_files, work, toolset_files):
    problems = []
    case_dir = tempfile.mkdtemp(dir=work)
    try:
        for d in ("testbed", "vartmp", "bin"):
            os.makedirs(os.path.join(case_dir, d))
        write_tree(os.path.join(case_dir, "testbed"), repo_files)
        write_tree(os.path.join(case_dir, "testbed"), case.get("setup_files", {}))
        for tool, content in toolset_files.items():
            path = os.path.join(case_dir, "bin", tool)
            with open(path, "wb") as f:
                f.write(content)
            os.chmod(path, 0o755)
        for i, step in enumerate(case["steps"]):
            before = snapshot(os.path.join(case_dir, "testbed"))
            p = subprocess.run(bwrap_argv(case_dir, step["command"]), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            after = snapshot(os.path.join(case_dir, "testbed"))
            tag = "step %d (%s)" % (i, step["command"][:80])
            step_problems = []
            stdout = p.stdout.decode("utf-8", "surrogateescape")
            stderr = p.stderr.decode("utf-8", "surrogateescape")
            want_stdout = step["stdout"] if "stdout" in step else base64.b64decode(step["stdout_b64"]).decode("utf-8", "surrogateescape")
            compare_text("stdout", stdout, want_stdout, step, step_problems)
            if step.get("stderr_traceback"):
                last = stderr.rstrip("\n").split("\n")[-1] if stderr else ""
                if last != step["stderr_last_line"]:
                    step_problems.append("stderr last line: got %r want %r" % (last, step["stderr_last_line"]))
            else:
                want_stderr = step["stderr"] if "stderr" in step else base64.b64decode(step["stderr_b64"]).decode("utf-8", "surrogateescape")
                compare_text("stderr", stderr, want_stderr, step, step_problems)
            if p.returncode != step["exit_code"]:
                step_problems.append("exit code: got %d want %d" % (p.returncode, step["exit_code"]))
            got_changes = changed(before, after)
            want_changes = expected_changes(step["files_changed"])
            if got_changes != want_changes:
                step_problems.append("changed files differ:\n--- got\n%r\n--- want\n%r" % (
                    {k: (v[:300] if isinstance(v, bytes) else v) for k, v in got_changes.items()},
                    {k: (v[:300] if isinstance(v, bytes) else v) for k, v in want_changes.items()}))
            problems += ["%s: %s" % (tag, s) for s in step_problems]
    finally:
        shutil.rmtree(case_dir, ignore_errors=True)
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fixtures", default=os.path.join(ROOT, "..", "shared", "fixtures", "r2egym"))
    parser.add_argument("--only", default="", help="run cases whose id starts with this")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    with open(os.path.join(args.fixtures, "repo.json")) as f:
        repo_files = json.load(f)["files"]
    cases = []
    with open(os.path.join(args.fixtures, "tools.jsonl")) as f:
        for line in f:
            case = json.loads(line)
            if case["id"].startswith(args.only):
                cases.append(case)
    sets = {}
    for name in ("r2egym", "openhands", "v1"):
        sets[name] = {}
        for cmd, src, flavor in toolsets.SETS[name]:
            try:
                sets[name][cmd] = toolsets.script(src, flavor).encode("utf-8")
            except FileNotFoundError:
                print("note: %s is missing; cases that call %s fail" % (src, cmd))
    work = tempfile.mkdtemp(prefix="replay-tools.")
    failed = 0
    try:
        for case in cases:
            problems = run_case(case, repo_files, work, sets[case["toolset"]])
            if problems:
                failed += 1
                print("FAIL %s [%s]" % (case["id"], case["toolset"]))
                for p in problems:
                    print("  " + p.replace("\n", "\n  "))
            elif args.verbose:
                print("ok   %s" % case["id"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
