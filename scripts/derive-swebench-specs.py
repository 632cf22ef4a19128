#!/usr/bin/env python3
"""Derives src/grading/data/swebench_specs_v4.1.0.json from a SWE-bench harness.

Usage:
  git -C <SWE-bench clone> archive v4.1.0 swebench | tar -x -C /tmp/swe
  python3 scripts/derive-swebench-specs.py /tmp/swe > src/grading/data/swebench_specs_v4.1.0.json

Reads the harness's swebench/harness/constants package (MAP_REPO_VERSION_TO_SPECS,
MAP_REPO_TO_EXT, NON_TEST_EXTS) and keeps, per repository and version, only the
values the harness's evaluation script reads (test_spec/python.py
make_eval_script_list_py and test_spec/utils.py make_eval_script_list_common):

  Python repositories: test_cmd (string), eval_commands (list), install (string)
  other languages:     test_cmd (string or list), build (list)

The constants package imports nothing outside the standard library; the
package __init__ files (which import docker, datasets, ...) are bypassed.
"""

import importlib
import json
import sys
import types

SOURCE = (
    "SWE-bench harness v4.1.0 (github.com/SWE-bench/SWE-bench, MIT licence): "
    "swebench/harness/constants/*.py MAP_REPO_VERSION_TO_SPECS, MAP_REPO_TO_EXT, NON_TEST_EXTS; "
    "derived by scripts/derive-swebench-specs.py"
)

PY_KEYS = ("test_cmd", "eval_commands", "install")
OTHER_KEYS = ("test_cmd", "build")


def load_constants(root):
    for name in ("swebench", "swebench.harness"):
        module = types.ModuleType(name)
        module.__path__ = [f"{root}/{name.replace('.', '/')}"]
        sys.modules[name] = module
    return importlib.import_module("swebench.harness.constants")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: derive-swebench-specs.py <directory holding swebench/ of harness v4.1.0>")
    c = load_constants(sys.argv[1])
    repos = {}
    for repo, versions in c.MAP_REPO_VERSION_TO_SPECS.items():
        language = c.MAP_REPO_TO_EXT[repo]
        keys = PY_KEYS if language == "py" else OTHER_KEYS
        repos[repo] = {
            "language": language,
            "versions": {
                version: {k: spec[k] for k in keys if k in spec}
                for version, spec in versions.items()
            },
        }
    table = {"source": SOURCE, "non_test_exts": list(c.NON_TEST_EXTS), "repos": repos}
    json.dump(table, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
