#!/usr/bin/env python3
"""The local runtime on a task image, with no Docker daemon involved.

Writes the demo images as `docker save` archives (the only use of Docker
here), then, in a private mount namespace where /run is a new tmpfs and
/run/docker.sock is a listener of this script that records every connection
(so any use of the daemon's socket is seen, not just failed):

  - `r2e image pull` of both archives, `r2e image ls` lists them;
  - `r2e run --runtime local --image docker-archive:...`: the scripted agent
    earns reward 1, the noop agent 0 (R2E flavour of the demo task);
  - `r2e eval --runtime local --image docker-archive:...` of the SWE-bench
    flavour: the gold patch resolves, the empty one does not;
  - no sandbox directory, overlay mount or image lease is left, nobody
    connected to the socket; `r2e image rm` empties the cache.

Exit 77 (skipped) without Docker to write the archives, or without root (the
socket is hidden with a mount namespace).

    tests/cli/local_image_test.py PATH/TO/r2e
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
IMAGES = {"r2e": "r2e-demo/textstats:latest", "swebench": "r2e-demo/textstats-swebench:latest"}


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def run(argv, env, timeout=600):
    p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError("no JSON line in output:\n" + text)


class SocketWatch(object):
    """A Unix socket listener at `path` that counts connections."""

    def __init__(self, path):
        self.connections = 0
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            conn, _ = self.server.accept()
            self.connections += 1
            conn.close()


def inside_namespace(r2e, archives, work):
    """The checks, with /run replaced (the caller re-executed us under unshare)."""
    subprocess.check_call(["mount", "-t", "tmpfs", "tmpfs", "/run"])
    watch = SocketWatch("/run/docker.sock")
    env = dict(os.environ, R2E_IMAGE_CACHE=os.path.join(work, "cache"), TMPDIR=os.path.join(work, "sandboxes"))
    os.makedirs(env["TMPDIR"])
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    refs = {k: "docker-archive:" + v for k, v in archives.items()}
    rc, out, err = run([r2e, "image", "pull", refs["r2e"], refs["swebench"]], env)
    check(rc == 0, "r2e image pull of both archives (rc %d: %s)" % (rc, err.strip()[-300:]))
    rc, out, err = run([r2e, "image", "ls", "--json"], env)
    listed = [json.loads(line) for line in out.splitlines() if line.strip()]
    check(rc == 0 and sorted(r for i in listed for r in i["references"]) == sorted(refs.values()),
          "r2e image ls lists both, by reference: %s" % out.strip()[:400])

    tasks = os.path.join(SOURCE, "examples", "tasks", "demo.jsonl")
    for agent, want in (("scripted", 1.0), ("noop", 0.0)):
        rc, out, err = run([r2e, "run", "--runtime", "local", "--image", refs["r2e"], "--tasks", tasks,
                            "--agent", agent, "--out", os.path.join(work, "out-" + agent)], env)
        summary = last_json(out) if out.strip() else {}
        check(rc == 0 and summary.get("reward") == want,
              "r2e run --agent %s on the image earns %s (rc %d, %s; %s)" %
              (agent, want, rc, summary.get("reward"), err.strip()[-300:]))

    dataset = os.path.join(SOURCE, "examples", "tasks", "demo-swebench.jsonl")
    for predictions, resolved in (("gold", 1), (os.path.join(SOURCE, "tests", "fixtures", "eval", "empty.jsonl"), 0)):
        run_id = "gold" if predictions == "gold" else "empty"
        rc, out, err = run([r2e, "eval", "--runtime", "local", "--image", refs["swebench"], "--dataset", dataset,
                            "--predictions", predictions, "--run-id", run_id,
                            "--report-dir", os.path.join(work, "reports")], env)
        check(rc == 0 and ("%d resolved" % resolved) in err,
              "r2e eval --predictions %s resolves %d (rc %d: %s)" % (run_id, resolved, rc, err.strip()[-300:]))

    left = os.listdir(env["TMPDIR"])
    check(left == [], "no sandbox directory left: %s" % left)
    with open("/proc/self/mountinfo") as f:
        overlays = [line for line in f if " overlay " in line and "r2e-local" in line]
    check(overlays == [], "no overlay mount left: %s" % overlays)
    rc, out, err = run([r2e, "image", "ls", "--json"], env)
    in_use = [i["id"] for i in (json.loads(line) for line in out.splitlines() if line.strip()) if i["in_use"]]
    check(in_use == [], "no image still held by a sandbox: %s" % in_use)
    rc, out, err = run([r2e, "image", "rm", refs["r2e"], refs["swebench"]], env)
    rc2, out2, _ = run([r2e, "image", "ls", "--json"], env)
    check(rc == 0 and out2.strip() == "", "r2e image rm empties the cache (rc %d: %s; left %s)" % (rc, err, out2))
    check(watch.connections == 0, "the Docker socket was never opened (%d connections)" % watch.connections)
    return 1 if failures else 0


def main():
    r2e = os.path.abspath(sys.argv[1])
    if len(sys.argv) > 3 and sys.argv[2] == "--inside":
        work = sys.argv[3]
        archives = json.loads(sys.argv[4])
        sys.exit(inside_namespace(r2e, archives, work))
    if os.geteuid() != 0:
        skip("needs root to hide the Docker socket in a mount namespace")
    if shutil.which("docker") is None or subprocess.call(["docker", "info"], stdout=subprocess.DEVNULL,
                                                           stderr=subprocess.DEVNULL) != 0:
        skip("no Docker daemon to write the test archives with `docker save`")
    work = tempfile.mkdtemp(prefix="r2e-local-image-test-")
    try:
        archives = {}
        for flavour, image in IMAGES.items():
            path = os.path.join(work, flavour + ".tar")
            if subprocess.call(["docker", "save", "-o", path, image]) != 0:
                skip("image %s is missing (scripts/build-test-images.sh builds it)" % image)
            archives[flavour] = path
        rc = subprocess.call(["unshare", "--mount", "--propagation", "private", "--", sys.executable,
                              os.path.abspath(__file__), r2e, "--inside", work, json.dumps(archives)])
        sys.exit(rc)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
