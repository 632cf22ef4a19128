#!/usr/bin/env python3
"""Checks `r2e tool run` against the scaffold's corpus.

Runs single-step cases of ../shared/fixtures/r2egym/tools.jsonl (every
`--every`-th, default 4) with `r2e tool run --set SET --repo DIR -- ARGV...`,
DIR holding the corpus repository and the case's setup files, and compares the
printed JSON (stdout, stderr, exit_code, changed_files) with the recorded step.
Also checks the command's errors: a missing --repo directory and an unknown
tool exit 2 with a message. Prints "N passed, N failed"; exit status 0 when all
pass.

    tests/tools/tool_run_test.py PATH/TO/r2e [--every N]
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
sys.path.insert(0, HERE)
from replay_tools import content_of as content, write_tree  # noqa: E402  (the corpus's file entries)

FIXTURES = os.path.join(HERE, "..", "..", "..", "shared", "fixtures", "r2egym")


def decoded(value):
    if isinstance(value, dict):
        return base64.b64decode(value["base64"])
    return value.encode("utf-8", "surrogateescape")


def field(step, name):
    if name in step:
        return step[name].encode("utf-8", "surrogateescape")
    return base64.b64decode(step[name + "_b64"])


def check_case(r2e, case, repo_files, work):
    step = case["steps"][0]
    repo = tempfile.mkdtemp(dir=work)
    write_tree(repo, repo_files)
    write_tree(repo, case.get("setup_files", {}))
    p = subprocess.run([r2e, "tool", "run", "--set", case["toolset"], "--repo", repo, "--"] + step["argv"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        return ["r2e tool run exited %d: %s" % (p.returncode, p.stderr.decode(errors="replace"))]
    got = json.loads(p.stdout)
    problems = []
    if decoded(got["stdout"]) != field(step, "stdout"):
        problems.append("stdout: got %r want %r" % (decoded(got["stdout"])[:300], field(step, "stdout")[:300]))
    if not step.get("stderr_traceback") and decoded(got["stderr"]) != field(step, "stderr"):
        problems.append("stderr: got %r want %r" % (decoded(got["stderr"]), field(step, "stderr")))
    if got["exit_code"] != step["exit_code"]:
        problems.append("exit code: got %d want %d" % (got["exit_code"], step["exit_code"]))
    want_changed = {k: (None if v is None else content(v)) for k, v in step["files_changed"].items()}
    got_changed = {k: (None if v is None else decoded(v)) for k, v in got["changed_files"].items()}
    if got_changed != want_changed:
        problems.append("changed files: got %r want %r" % (sorted(got_changed), sorted(want_changed)))
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("r2e")
    parser.add_argument("--every", type=int, default=4)
    args = parser.parse_args()
    with open(os.path.join(FIXTURES, "repo.json")) as f:
        repo_files = json.load(f)["files"]
    cases = []
    with open(os.path.join(FIXTURES, "tools.jsonl")) as f:
        for line in f:
            case = json.loads(line)
            step = case["steps"][0]
            # One step, an exact comparison, and no new empty directory (which
            # changed_files does not list).
            if (len(case["steps"]) == 1 and not step.get("unordered_lines") and not step.get("order_dependent_clip")
                    and not any(isinstance(v, dict) and v.get("dir") for v in step["files_changed"].values())):
                cases.append(case)
    cases = cases[::args.every]
    work = tempfile.mkdtemp(prefix="tool-run-test.")
    passed = failed = 0
    try:
        for case in cases:
            problems = check_case(args.r2e, case, repo_files, work)
            if problems:
                failed += 1
                print("FAIL %s\n  %s" % (case["id"], "\n  ".join(problems)))
            else:
                passed += 1
        # Bad arguments: exit 2 and a message that says what to do.
        missing = subprocess.run([args.r2e, "tool", "run", "--repo", os.path.join(work, "nope"), "--", "search"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        unknown = subprocess.run([args.r2e, "tool", "run", "--repo", work, "--", "no_such_tool"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name, p, words in (("missing repo", missing, b"is not a directory"),
                               ("unknown tool", unknown, b"has no tool `no_such_tool`")):
            if p.returncode == 2 and words in p.stderr:
                passed += 1
            else:
                failed += 1
                print("FAIL %s: exit %d, stderr %r" % (name, p.returncode, p.stderr))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
