#!/usr/bin/env python3
"""An agent loop written as the R2E scaffold's, run on r2e's environment.

The "policy" replays the demo task's scripted replies (a model's replies in
the scaffold's action format); swap in your model's. Prints each observation's
first line and the reward.

    PYTHONPATH=build/python python3 examples/python/agent_loop.py [--backend local|docker]
"""

import argparse
import json
import pathlib

import r2e

TASKS = pathlib.Path(__file__).resolve().parents[1] / "tasks"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="local", choices=["local", "docker", "kubernetes"])
    parser.add_argument("--max-steps", type=int, default=40)
    args = parser.parse_args()

    with open(TASKS / "demo.jsonl") as f:
        row = json.loads(f.readline())
    replies = iter(row["scripted_actions"])  # the policy

    # As in the scaffold: RepoEnv(EnvArgs(ds=row), backend=...), then steps.
    with r2e.RepoEnv(r2e.EnvArgs(ds=row), backend=args.backend, base_dir=str(TASKS)) as env:
        print("task:", env.get_task_instruction().splitlines()[0])
        for _ in range(args.max_steps):
            action = r2e.Action.from_string(next(replies))
            obs, reward, done, info = env.step(action)
            print("step %d (%s, %.3f s): %s" % (info["step"], info["tool"], info["total_time"],
                                                 str(obs).splitlines()[0]))
            if done:
                break
        reward = env.compute_reward()
    print("reward:", reward)
    return 0 if reward == 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
