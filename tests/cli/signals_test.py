#!/usr/bin/env python3
"""Checks that an r2e command ends cleanly on SIGINT, SIGTERM and SIGHUP.

For each signal: starts the command doing work that lasts (a step that sleeps,
tests that hang, a benchmark with a huge --n) with a private TMPDIR, waits
until it holds sandboxes (Docker: containers labelled
r2e.owner.pid=<its pid>; local: r2e-local-* working directories under that
TMPDIR), sends the signal, and asserts that it exits 128 + the signal's
number, that no container of it is left, that the TMPDIR is empty, and
(local) that the processes it had started are gone.

`--command second` checks the second signal instead: `r2e run --agent llm`
against a model endpoint that never answers is stopped with SIGTERM (its
sandbox is removed while the model call still blocks), then SIGINT must end
it at once, by that signal. A repeat of SIGTERM from the same sender must
not count as a second signal (`timeout` signals the process and then its
group).

    tests/cli/signals_test.py PATH/TO/r2e --runtime docker|local --command NAME

Deadlines are generous and only bound a failure: nothing depends on how fast
the machine is. Exit 0 when every case passes, 1 otherwise, 77 (skip) when
Docker or the test images are missing.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TASKS = os.path.join(SOURCE, "examples", "tasks")
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
HOLD_DEADLINE = 180  # s until the command holds its sandboxes
EXIT_DEADLINE = 120  # s from the signal to the exit
GONE_DEADLINE = 10   # s for the daemon or init to finish what the exit started
SKIP = 77


def bash_action(cmd):
    return "<function=execute_bash>\n<parameter=cmd>%s</parameter>\n</function>" % cmd


def sleeping_task(work):
    """The demo task (local paths absolute) whose one scripted step sleeps."""
    with open(os.path.join(TASKS, "demo.jsonl")) as f:
        row = json.loads(f.readline())
    for key in ("local_repo", "local_tests"):
        row[key] = os.path.join(TASKS, row[key])
    row["scripted_actions"] = [bash_action("sleep 600")]
    path = os.path.join(work, "task.jsonl")
    with open(path, "w") as f:
        f.write(json.dumps(row) + "\n")
    return path


def hanging_predictions(work):
    """A prediction for the SWE-bench demo row whose tests never end."""
    patch = ("diff --git a/tests/conftest.py b/tests/conftest.py\nnew file mode 100644\n--- /dev/null\n"
             "+++ b/tests/conftest.py\n@@ -0,0 +1,2 @@\n+import time\n+time.sleep(600)\n")
    path = os.path.join(work, "predictions.json")
    with open(path, "w") as f:
        json.dump([{"instance_id": "r2e-demo__textstats-swebench-1", "model_name_or_path": "hang",
                    "model_patch": patch}], f)
    return path


def command_args(name, runtime, work):
    """(argv after the program, sandboxes to wait for, seconds to let the work go on)."""
    rt = ["--runtime", runtime, "--log-level", "warn"]
    repo = os.path.join(work, "repo")
    os.makedirs(repo, exist_ok=True)
    with open(os.path.join(repo, "a.txt"), "w") as f:
        f.write("a\n")
    if name == "run":
        return ["run", "--tasks", sleeping_task(work), "--step-timeout", "900"] + rt, 1, 1
    if name == "eval":
        return ["eval", "--dataset", os.path.join(TASKS, "demo-swebench.jsonl"), "--predictions",
                hanging_predictions(work), "--report-dir", os.path.join(work, "logs"), "--run-id", "signals",
                "--workers", "1"] + rt, 1, 1
    if name == "tool-run":
        image = ["--image", "r2e-test/base:bookworm"] if runtime == "docker" else []
        return ["tool", "run", "--repo", repo, "--timeout", "900"] + image + rt + \
            ["--", "execute_bash", "--cmd", "sleep 600"], 1, 1
    if name == "soak":
        return ["soak", "--episodes", "100000", "--max-steps", "30", "--concurrency", "2", "--seed", "1",
                "--pids-limit", "0"] + rt, 1, 1
    if name == "bench-step":
        return ["bench", "step", "--n", "100000000"] + rt, 1, 1
    if name == "bench-tools":
        return ["bench", "tools", "--n", "1000000"] + rt, 1, 1
    if name == "bench-throughput":
        return ["bench", "throughput", "--envs", "4", "--n", "100000000"] + rt, 4, 1
    if name == "bench-rollout":
        return ["bench", "rollout", "--tasks", "100", "--group", "4", "--workers", "2"] + rt, 2, 1
    if name == "bench-reset":
        # Three or more containers at once: the warm-pool phase (the cold one
        # holds one), signalled at once (it ends within seconds).
        return ["bench", "reset", "--n", "3"] + rt, 3, 0
    raise SystemExit("unknown command " + name)


class Case:
    """One run of the command with a private TMPDIR."""

    def __init__(self, r2e, argv, runtime, work):
        self.runtime = runtime
        self.tmp = os.path.join(work, "tmp")
        os.makedirs(self.tmp)
        self.err_path = os.path.join(work, "stderr.txt")
        self.lingered = 0.0
        env = dict(os.environ, TMPDIR=self.tmp)
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([r2e] + argv, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=work,
                                         start_new_session=True)

    def err(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def containers(self):
        out = subprocess.run(["docker", "ps", "-aq", "--filter", "label=r2e.owner.pid=%d" % self.proc.pid],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return len(out.stdout.split())

    def workdirs(self):
        n = 0
        for _, dirs, _ in os.walk(self.tmp):
            n += sum(d.startswith("r2e-local-") for d in dirs)
        return n

    def sandboxes(self):
        return self.containers() if self.runtime == "docker" else self.workdirs()

    def descendants(self):
        """{pid: start time} of every process below the command."""
        parent, start = {}, {}
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parent[int(p)], start[int(p)] = int(fields[1]), fields[19]
            except (OSError, IndexError):
                pass
        found, todo = {}, [self.proc.pid]
        while todo:
            pid = todo.pop()
            for child, ppid in parent.items():
                if ppid == pid and child not in found:
                    found[child] = start[child]
                    todo.append(child)
        return found

    def wait_until(self, what, deadline, done):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if done():
                return True
            time.sleep(0.1)
        raise AssertionError("%s: not within %d s; stderr:\n%s" % (what, deadline, self.err()[-3000:]))

    def wait_holding(self, want):
        def holding():
            if self.proc.poll() is not None:
                raise AssertionError("exited %d before holding %d sandbox(es): make its work longer; stderr:\n%s"
                                     % (self.proc.returncode, want, self.err()[-3000:]))
            return self.sandboxes() >= want
        self.wait_until("holding %d sandbox(es)" % want, HOLD_DEADLINE, holding)

    def leftovers(self):
        """What is left of the command once it exited: [] when nothing."""
        problems = []
        if self.runtime == "docker":
            # A container killed with AutoRemove may still be listed while
            # the daemon removes it: `lingered` says how long that took.
            t0 = time.monotonic()
            end = t0 + GONE_DEADLINE
            while self.containers() > 0 and time.monotonic() < end:
                time.sleep(0.2)
                self.lingered = time.monotonic() - t0
            if self.containers() > 0:
                problems.append("%d container(s) left" % self.containers())
        left = sorted(os.listdir(self.tmp))
        if left:
            problems.append("left in TMPDIR: %s" % left[:10])
        return problems

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def alive(procs):
    """Those of {pid: start time} still running (zombies are not)."""
    found = []
    for pid, start in procs.items():
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if fields[19] == start and fields[0] != "Z":
                found.append(pid)
        except (OSError, IndexError):
            pass
    return found


def check_signal(r2e, name, runtime, sig):
    work = tempfile.mkdtemp(prefix="r2e-signals-")
    try:
        argv, want, settle = command_args(name, runtime, work)
        case = Case(r2e, argv, runtime, work)
        try:
            return run_signal(case, name, runtime, sig, want, settle)
        except AssertionError as e:
            return [str(e)]
        finally:
            case.kill()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_signal(case, name, runtime, sig, want, settle):
    t0 = time.monotonic()
    case.wait_holding(want)
    held = time.monotonic() - t0
    time.sleep(settle)  # into the work; the assertions hold at any point
    procs = case.descendants() if runtime == "local" else {}
    if case.proc.poll() is not None:
        return ["exited %d before the signal: make its work longer; stderr:\n%s"
                % (case.proc.returncode, case.err()[-3000:])]
    t1 = time.monotonic()
    case.proc.send_signal(sig)
    try:
        rc = case.proc.wait(EXIT_DEADLINE)
    except subprocess.TimeoutExpired:
        return ["still running %d s after %s; stderr:\n%s" % (EXIT_DEADLINE, sig.name, case.err()[-3000:])]
    took = time.monotonic() - t1
    problems = []
    if rc != 128 + sig:
        problems.append("exit status %d, want %d" % (rc, 128 + sig))
    if "stopping" not in case.err():
        problems.append("no `stopping` message on stderr")
    problems += case.leftovers()
    end = time.monotonic() + GONE_DEADLINE
    while alive(procs) and time.monotonic() < end:
        time.sleep(0.2)
    if alive(procs):
        problems.append("processes left: %s" % alive(procs))
    if problems:
        return problems + ["stderr:\n" + case.err()[-3000:]]
    lingered = " (a container listed %.1f s longer)" % case.lingered if case.lingered else ""
    print("ok %s %s %s: held after %.1f s, exited %.1f s after the signal%s"
          % (name, runtime, sig.name, held, took, lingered))
    return []


class SilentModel:
    """A model endpoint that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = threading.Event()
        self.conns = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()


def check_repeat(r2e, runtime):
    """SIGTERM twice from one sender, as `timeout` sends it (to the process,
    then to its group): one stop, not a second signal."""
    work = tempfile.mkdtemp(prefix="r2e-signals-")
    try:
        case = Case(r2e, ["run", "--tasks", sleeping_task(work), "--step-timeout", "900", "--runtime", runtime,
                          "--log-level", "warn"], runtime, work)
        try:
            case.wait_holding(1)
            os.kill(case.proc.pid, signal.SIGTERM)
            os.kill(case.proc.pid, signal.SIGTERM)
            try:
                rc = case.proc.wait(EXIT_DEADLINE)
            except subprocess.TimeoutExpired:
                return ["repeat: still running %d s after SIGTERM" % EXIT_DEADLINE]
            problems = [] if rc == 128 + signal.SIGTERM else ["repeat: exit status %d, want %d" % (rc, 128 + 15)]
            problems += ["repeat: " + p for p in case.leftovers()]
            if not problems:
                print("ok repeated SIGTERM %s: one stop, exit %d" % (runtime, rc))
            return problems
        except AssertionError as e:
            return ["repeat: %s" % e]
        finally:
            case.kill()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_second(r2e, runtime):
    """SIGTERM while the command blocks in a model call nothing interrupts:
    its sandbox goes at once; then SIGINT ends it at once, by that signal."""
    work = tempfile.mkdtemp(prefix="r2e-signals-")
    model = SilentModel()
    try:
        argv = ["run", "--tasks", sleeping_task(work), "--agent", "llm", "--base-url",
                "http://127.0.0.1:%d/v1" % model.port, "--model", "m", "--runtime", runtime, "--log-level", "warn"]
        case = Case(r2e, argv, runtime, work)
        try:
            case.wait_holding(1)
            case.wait_until("the model call", HOLD_DEADLINE, model.accepted.is_set)
            case.proc.send_signal(signal.SIGTERM)
            case.wait_until("the sandbox removed after SIGTERM", EXIT_DEADLINE,
                            lambda: "stopping" in case.err() and case.sandboxes() == 0)
            if case.proc.poll() is not None:
                return ["second: exited %d before the second signal" % case.proc.returncode]
            t1 = time.monotonic()
            case.proc.send_signal(signal.SIGINT)
            try:
                rc = case.proc.wait(20)
            except subprocess.TimeoutExpired:
                return ["second: still running 20 s after SIGINT"]
            if rc != -signal.SIGINT:
                return ["second: exit status %d, want death by SIGINT" % rc]
            print("ok second signal %s: sandbox gone while the model call blocked; ended by SIGINT %.1f s after it"
                  % (runtime, time.monotonic() - t1))
            return []
        except AssertionError as e:
            return ["second: %s" % e]
        finally:
            case.kill()
    finally:
        model.sock.close()
        for c in model.conns:
            c.close()
        shutil.rmtree(work, ignore_errors=True)


def docker_ready():
    images = ["r2e-test/base:bookworm", "r2e-demo/textstats:latest", "r2e-demo/textstats-swebench:latest"]
    if shutil.which("docker") is None:
        return "no docker program"
    for args in (["info"], ["image", "inspect"] + images):
        if subprocess.run(["docker"] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
            return "`docker %s` failed (no daemon, or scripts/build-test-images.sh not run)" % args[0]
    return None


def bwrap_ready():
    probe = ["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--die-with-parent", "true"]
    try:
        ok = subprocess.run(probe, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        ok = False
    return None if ok else "bubblewrap cannot run here (the local runtime cannot set up a task)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("r2e")
    parser.add_argument("--runtime", choices=("docker", "local"), required=True)
    parser.add_argument("--command", required=True)
    args = parser.parse_args()
    r2e = os.path.abspath(args.r2e)
    why = docker_ready() if args.runtime == "docker" else bwrap_ready()
    if why:
        print("skipped: " + why)
        return SKIP
    if args.command == "second":
        problems = check_second(r2e, args.runtime) + check_repeat(r2e, args.runtime)
    else:
        problems = []
        for sig in SIGNALS:
            problems += ["%s: %s" % (sig.name, p) for p in check_signal(r2e, args.command, args.runtime, sig)]
    for p in problems:
        print("FAIL " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
