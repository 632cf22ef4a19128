"""`import r2e` against real sandboxes: the demo episode to reward 1 and 0 on
local (and docker where a daemon and the demo image are there), an agent loop
written as the scaffold's, four environments stepped from four threads and
three from asyncio, an EnvPool, the errors' codes and types, docstrings, and
sandboxes removed when the interpreter exits with environments still open.

Run by ctest (python_bindings) with PYTHONPATH=<build>/python."""

import json
import os
import pathlib
import subprocess
import sys
import threading
import time

import pytest

import r2e

SOURCE = pathlib.Path(os.environ.get("R2E_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
TASKS = SOURCE / "examples" / "tasks"


def demo_row():
    with open(TASKS / "demo.jsonl") as f:
        return json.loads(f.readline())


def local_env(row=None, **kw):
    return r2e.RepoEnv(r2e.EnvArgs(ds=row or demo_row()), backend="local", base_dir=str(TASKS), **kw)


FINISH = "<function=finish>\n<parameter=command>submit</parameter>\n</function>"


def bash(cmd):
    return "<function=execute_bash>\n<parameter=cmd>%s</parameter>\n</function>" % cmd


def run_scaffold_loop(env, replies):
    """The scaffold's agent loop: parse each reply, step, stop on finish."""
    steps = 0
    for reply in replies:
        action = r2e.Action.from_string(reply)
        obs, reward, done, info = env.step(action)
        steps += 1
        assert isinstance(str(obs), str) and isinstance(info, dict)
        assert info["step"] == steps
        if done:
            break
    return env.compute_reward()


def test_the_fix_earns_1_and_no_fix_earns_0_locally():
    row = demo_row()
    with local_env(row) as env:
        assert "moving_average" in env.get_task_instruction()
        assert run_scaffold_loop(env, row["scripted_actions"]) == 1.0
        assert env.check_done()
        assert env.get_stats()["instance_id"] == row["instance_id"]
        # A new episode in the same object: nothing fixed, reward 0.
        obs = env.reset()
        assert str(obs) == env.get_task_instruction()
        assert not env.check_done()
        assert run_scaffold_loop(env, [bash("ls"), FINISH]) == 0.0


def test_snapshots_restore_and_fork_from_python():
    row = demo_row()
    with local_env(row, prime_snapshots=True) as env:
        env.step(bash("echo broken > /root/note && echo x >> textstats/stats.py"))
        whole = env.snapshot("sandbox")
        repo = env.snapshot()
        assert [s["scope"] for s in env.snapshots()] == ["sandbox", "repository"]
        assert env.snapshots()[0]["step"] == 1
        env.step(bash("rm /root/note && git checkout -q ."))
        env.restore(repo)
        assert env.run("tail -1 textstats/stats.py")[0] == "x\n"
        assert env.run("cat /root/note 2>&1")[1] != 0, "a repository restore leaves /root as it is"
        env.restore(whole)
        assert env.run("cat /root/note")[0] == "broken\n"
        assert env.steps == 1
        child = env.fork(repo)
        try:
            assert child.run("tail -1 textstats/stats.py")[0] == "x\n"
            assert child.snapshots()[0]["id"] == 1
        finally:
            child.close()
        env.drop(repo)
        with pytest.raises(r2e.NotFound):
            env.restore(repo)
        with pytest.raises(r2e.InvalidArgument):
            env.snapshot("everything")


def test_observations_are_the_scaffolds_text():
    with local_env() as env:
        obs, reward, done, info = env.step(bash("echo hi; exit 3"))
        assert str(obs).startswith("Exit code: Error: Exit code 3\nExecution output of [execute_bash]:\n")
        assert "hi" in str(obs)
        assert (reward, done, info["exit_code"], info["tool"]) == (0.0, False, 3, "execute_bash")
        obs, _, done, _ = env.step("no function call here")
        assert done is False and "function call" in str(obs)
        obs, _, done, _ = env.step(FINISH)
        assert done and str(obs) == "<<< Finished >>>"


def test_info_dicts_hold_what_the_cxx_step_info_holds():
    # The dict is built field by field (not through ToJson): every key,
    # its type, and the optional ones present exactly when set.
    with local_env() as env:
        _, _, _, info = env.step(bash("exit 4"))
        # tool_direct (True) only for a call served without the session.
        direct = ["tool_direct"] if info["tool_path"] == "served" else []
        assert sorted(info) == sorted(["exit_code", "step", "timed_out", "tool", "tool_path", "tool_python",
                                       "total_time"] + direct)
        assert info.get("tool_direct", True) is True
        assert (info["exit_code"], info["step"], info["timed_out"], info["tool"]) == (4, 1, False, "execute_bash")
        assert isinstance(info["total_time"], float) and 0 < info["total_time"] < 60
        assert isinstance(info["tool_path"], str) and info["tool_path"]
        assert info["tool_python"] in ("sandbox", "bundled")
        _, _, _, info = env.step("no call")
        assert sorted(info) == ["exit_code", "step", "timed_out", "tool", "total_time"]
        assert info["tool"] == "" and info["exit_code"] == 0
        assert info["step"] == 2
        _, _, done, info = env.step(r2e.Action("finish", {"command": "submit", "result": "done é"}))
        assert done and info["result"] == "done é" and "reward_time" not in info
    with r2e.EnvPool([local_env()], reward_on_done=True) as pool:
        (result,) = pool.step([FINISH], [0])
        assert isinstance(result.info["reward_time"], float) and result.info["reward_time"] > 0


def docker_env():
    try:
        return r2e.RepoEnv(r2e.EnvArgs(ds=demo_row()), backend="docker", base_dir=str(TASKS))
    except (r2e.Unavailable, r2e.NotFound) as e:
        pytest.skip("no docker daemon or demo image here: %s" % e.message)


def test_the_fix_earns_1_and_no_fix_earns_0_on_docker():
    with docker_env() as env:
        assert run_scaffold_loop(env, demo_row()["scripted_actions"]) == 1.0
        env.reset()
        assert run_scaffold_loop(env, [FINISH]) == 0.0


def test_four_threads_step_four_environments_at_once():
    # Each step sleeps 2 s in its sandbox: one after another the four take at
    # least 8 s; with the GIL released while they wait, about 2 s.
    envs = [local_env() for _ in range(4)]
    try:
        errors = []

        def work(env):
            try:
                _, _, _, info = env.step(bash("sleep 2"))
                assert info["exit_code"] == 0
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(env,)) for env in envs]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        assert not errors, errors
        assert elapsed < 7.0, "the steps ran one after another (%.1f s)" % elapsed
    finally:
        for env in envs:
            env.close()


def test_errors_carry_their_codes():
    with pytest.raises(r2e.InvalidArgument) as bad_row:
        r2e.RepoEnv(r2e.EnvArgs(ds={"instance_id": "x"}), backend="local")
    assert bad_row.value.code == "InvalidArgument"
    assert "instance" in bad_row.value.message or "row" in bad_row.value.message
    assert isinstance(bad_row.value, r2e.Error) and isinstance(bad_row.value, RuntimeError)

    with pytest.raises(r2e.InvalidArgument):
        r2e.RepoEnv(r2e.EnvArgs(ds=demo_row()), backend="nowhere", base_dir=str(TASKS))

    env = local_env(start=False)
    with pytest.raises(r2e.FailedPrecondition) as before_reset:
        env.step(FINISH)
    assert before_reset.value.code == "FailedPrecondition"
    env.close()
    env.close()  # idempotent
    assert env.closed
    with pytest.raises(r2e.FailedPrecondition):
        env.reset()

    with pytest.raises(r2e.InvalidArgument):
        r2e.Action.from_tool_call("execute_bash", "[not an object]")


def test_wrong_types_name_the_parameter():
    with pytest.raises(TypeError, match="args"):
        r2e.RepoEnv(42, backend="local")
    with pytest.raises(TypeError, match="ds"):
        r2e.EnvArgs(ds="a row")
    with pytest.raises(TypeError, match="is not a JSON value"):
        r2e.RepoEnv({"instance_id": object()}, backend="local")
    with local_env() as env:
        with pytest.raises(TypeError, match="action"):
            env.step(42)
        with pytest.raises(ValueError, match="timeout"):
            env.step(FINISH, timeout=-1)


def test_actions_convert_both_ways():
    text = bash("ls -la")
    action = r2e.Action.from_string(text)
    assert action.function_name == "execute_bash"
    assert action.parameters == {"cmd": "ls -la"}
    assert r2e.Action.from_string(str(action)).parameters == action.parameters
    call = r2e.Action.from_tool_call("file_editor", json.dumps({"command": "view", "path": "/testbed"}))
    assert call.function_name == "file_editor" and call.parameters["path"] == "/testbed"
    assert r2e.Action("finish", {"command": "submit"}).is_finish()
    assert r2e.Action.from_string("no call").function_name == ""


def test_every_public_method_has_a_docstring():
    for cls in (r2e.RepoEnv, r2e.Action, r2e.Observation, r2e.EnvPool, r2e.EnvResult, r2e.RolloutScheduler):
        for name in dir(cls):
            if name.startswith("_"):
                continue
            assert getattr(cls, name).__doc__, "%s.%s has no docstring" % (cls.__name__, name)
    assert "backend" in r2e.RepoEnv.__doc__


def test_sandboxes_are_removed_when_the_interpreter_exits(tmp_path):
    # A child opens an environment, takes a step and exits without closing it.
    script = (
        "import json, r2e\n"
        "row = json.loads(open(%r).readline())\n"
        "env = r2e.RepoEnv(r2e.EnvArgs(ds=row), backend='local', base_dir=%r)\n"
        "env.step(%r)\n"
        "import os; print(len(os.listdir(%r)))\n"
    ) % (str(TASKS / "demo.jsonl"), str(TASKS), bash("true"), str(tmp_path))
    child_env = dict(os.environ, TMPDIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], env=child_env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) > 0, "the sandbox was not where the test looks"
    assert os.listdir(tmp_path) == [], "left behind: %s" % os.listdir(tmp_path)


def test_env_pool_steps_many_environments_and_keeps_errors_per_result():
    envs = [local_env() for _ in range(3)]
    with r2e.EnvPool(envs, auto_reset=True, reward_on_done=True) as pool:
        assert len(pool) == 3 and all(env.closed for env in envs)
        results = pool.step([bash("echo env0"), bash("exit 7"), FINISH], [0, 1, 2])
        assert [r.env_id for r in results] == [0, 1, 2]
        assert all(r.error is None and r.kind == "step" for r in results)
        assert "env0" in str(results[0].observation)
        assert results[1].info["exit_code"] == 7
        # The final step is graded (no fix: 0) and the next episode begins.
        assert results[2].done and results[2].reward == 0.0
        assert str(results[2].info["next_observation"]).startswith("Title: moving_average")
        pool.send_reset([1])
        (reset,) = pool.recv(timeout=120)
        assert reset.kind == "reset" and reset.env_id == 1 and reset.error is None
        with pytest.raises(r2e.InvalidArgument):
            pool.send([FINISH], [5])
        with pytest.raises(r2e.FailedPrecondition):
            pool.recv()
    with pytest.raises(r2e.FailedPrecondition):
        pool.reset()
    with pytest.raises(r2e.InvalidArgument):
        r2e.EnvPool(envs)  # already pooled
    with pytest.raises(TypeError, match="envs"):
        r2e.EnvPool(["not an env"])


def test_async_steps_run_concurrently():
    import asyncio

    async def main():
        envs = [local_env() for _ in range(3)]
        t0 = time.monotonic()
        await asyncio.gather(*(env.astep(bash("sleep 2")) for env in envs))
        elapsed = time.monotonic() - t0
        rewards = await asyncio.gather(*(env.acompute_reward() for env in envs))
        await asyncio.gather(*(env.aclose() for env in envs))
        return rewards, elapsed, envs

    rewards, elapsed, envs = asyncio.run(main())
    assert rewards == [0.0, 0.0, 0.0]
    assert all(env.closed for env in envs)
    # Three 2 s sleeps one after another take at least 6 s.
    assert elapsed < 5.0, "the steps did not overlap (%.1f s)" % elapsed

def test_rollout_scheduler_hands_out_groups_and_masks_infra_errors(tmp_path):
    # The third rollout's repository is gone by the time its turn comes (one
    # live sandbox at a time: it is prepared only after the second is
    # released), so its sandbox cannot be set up.
    vanishing = tmp_path / "repo"
    vanishing.mkdir()
    broken = dict(demo_row(), instance_id="r2e-demo__broken", local_repo=str(vanishing))
    with r2e.RolloutScheduler(backend="local", base_dir=str(TASKS), max_live=1, max_concurrent_starts=1,
                              reset_retries=0) as scheduler:
        batch = scheduler.submit([(r2e.EnvArgs(ds=demo_row()), 2), (broken, 1)])
        vanishing.rmdir()
        assert batch == 1
        for member in (0, 1):
            rollout = scheduler.acquire(timeout=120)
            assert (rollout["batch"], rollout["task_index"], rollout["member"]) == (1, 0, member)
            assert rollout["outcome"] == "ok" and rollout["error"] is None
            env = rollout["env"]
            assert str(rollout["observation"]) == env.get_task_instruction()
            _, _, done, _ = env.step(FINISH)
            assert done and env.compute_reward() == 0.0
            scheduler.release(env)
            assert env.closed
        masked = scheduler.acquire(timeout=120)
        assert masked["outcome"] == "infra_error" and masked["env"] is None
        assert isinstance(masked["error"], r2e.Error)
        with pytest.raises(r2e.NotFound):
            scheduler.acquire(timeout=1)
        assert scheduler.stats()["infra_errors"] == 1
    with pytest.raises(r2e.Cancelled):
        scheduler.submit([(demo_row(), 1)])
    with pytest.raises(TypeError, match="batch"):
        r2e.RolloutScheduler(backend="local").submit([demo_row()])


def test_env_pool_slots_fed_from_the_scheduler():
    with r2e.RolloutScheduler(backend="local", base_dir=str(TASKS), max_live=2) as scheduler:
        scheduler.submit([(r2e.EnvArgs(ds=demo_row()), 2)])
        with r2e.EnvPool.from_scheduler(scheduler, 1, auto_reset=True, reward_on_done=True) as pool:
            (first,) = pool.reset()
            assert first.error is None and first.rollout["member"] == 0
            (last,) = pool.step([FINISH], [0])
            assert last.done and last.reward == 0.0
            assert last.rollout["member"] == 1 and last.reset_error is None
            (empty,) = pool.step([FINISH], [0])
            assert isinstance(empty.reset_error, r2e.NotFound)


def test_closing_a_handed_out_environment_frees_its_live_slot():
    # One live sandbox at a time: the second rollout is prepared only once
    # the first is back, whether by release(), close() or the with block.
    with r2e.RolloutScheduler(backend="local", base_dir=str(TASKS), max_live=1, max_concurrent_starts=1) as scheduler:
        scheduler.submit([(demo_row(), 3)])
        first = scheduler.acquire(timeout=120)["env"]
        first.close()
        with scheduler.acquire(timeout=120)["env"] as second:
            second.step(FINISH)
        third = scheduler.acquire(timeout=120)
        assert third["member"] == 2 and third["outcome"] == "ok"
        with local_env() as stranger:
            with pytest.raises(r2e.InvalidArgument):
                scheduler.release(stranger)
            assert not stranger.closed
        with pytest.raises(r2e.InvalidArgument, match="from_scheduler"):
            r2e.EnvPool([third["env"]])
        scheduler.release(third["env"])


def test_a_refused_pool_leaves_the_environments_with_their_holder():
    with local_env() as env:
        with pytest.raises(r2e.InvalidArgument):
            r2e.EnvPool([env], batch_size=5)
        with pytest.raises(r2e.InvalidArgument, match="twice"):
            r2e.EnvPool([env, env])
        assert not env.closed
        _, _, _, info = env.step(bash("true"))
        assert info["exit_code"] == 0
        for bad in (0, -1, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="timeout"):
                env.step(bash("true"), timeout=bad)
    with pytest.raises(ValueError, match="step_timeout"):
        local_env(step_timeout=float("nan"), start=False)
