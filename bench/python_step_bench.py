"""`r2e bench step --python`: what a step costs on the Python side of
`import r2e`, over the C++ step it wraps.

Per step, the wall time of env.step() in Python minus the step's own time as
RepoEnv::step measured it (info["total_time"]): the binding's share (the GIL
given up and taken back, the action handed over, the observation, the info
dict and the tuple built). Three actions: a reply without a function call (the
C++ step does almost nothing), `execute_bash true` (a real tool call) and
`file_editor view` of the demo's source (a real call whose observation is a
file). Prints one JSON line per action. Run by the r2e program, which sets
PYTHONPATH to the build's python/ directory."""

import argparse
import json
import pathlib
import time

import r2e


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def measure(env, action, n, warmup):
    overheads, walls, steps = [], [], []
    for i in range(warmup + n):
        t0 = time.perf_counter()
        _, _, _, info = env.step(action)
        wall = time.perf_counter() - t0
        if i >= warmup:
            walls.append(wall)
            steps.append(info["total_time"])
            overheads.append(wall - info["total_time"])
    return overheads, walls, steps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runtime", default="local")
    parser.add_argument("--tasks", required=True, help="the demo task's JSONL")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    tasks = pathlib.Path(args.tasks)
    row = json.loads(tasks.read_text().splitlines()[0])
    backend = "kubernetes" if args.runtime == "kube" else args.runtime
    actions = {
        "no_call": r2e.Action.from_string("a reply without a function call"),
        "execute_bash_true": r2e.Action("execute_bash", {"cmd": "true"}),
        # A real call with a real observation (the demo's source file, about
        # 3 KB): the text crosses into Python.
        "file_editor_view": r2e.Action("file_editor", {"command": "view", "path": "/testbed/textstats/stats.py"}),
    }
    with r2e.RepoEnv(r2e.EnvArgs(ds=row), backend=backend, base_dir=str(tasks.parent)) as env:
        for name, action in actions.items():
            overheads, walls, steps = measure(env, action, args.n, args.warmup)
            print(json.dumps({
                "bench": "step", "runtime": args.runtime, "variant": "python_" + name, "n": args.n,
                "python_overhead_p50_us": 1e6 * percentile(overheads, 0.50),
                "python_overhead_p99_us": 1e6 * percentile(overheads, 0.99),
                "python_step_p50_ms": 1e3 * percentile(walls, 0.50),
                "cxx_step_p50_ms": 1e3 * percentile(steps, 0.50),
                "target_overhead_p50_us": 50,
            }), flush=True)


if __name__ == "__main__":
    main()
