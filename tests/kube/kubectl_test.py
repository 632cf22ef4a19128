#!/usr/bin/python3
"""kubectl (1.30+, a client we did not write) against the test API server.

Usage: kubectl_test.py STATE_DIR (the kube_apiserver fixture's directory).
Exit 77 (skip) without kubectl >= 1.30 or without the fixture's server.
kubectl exec speaks only websockets to this server (it has no SPDY), so a
working exec proves the v5 websocket protocol.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubetest as kt  # noqa: E402

KUBECTL = None
STATE = None
NS = "kubectl-" + uuid.uuid4().hex[:6]
CACHE = tempfile.mkdtemp(prefix="kubectl-cache-")


def kubectl(*args, kubeconfig="kubeconfig", stdin=None, timeout=90):
    env = dict(os.environ, KUBECTL_REMOTE_COMMAND_WEBSOCKETS="true")  # the default since 1.30
    cmd = [KUBECTL, "--kubeconfig", os.path.join(STATE, kubeconfig), "--cache-dir", CACHE,
           "--request-timeout", "60s", "-n", NS, *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, env=env)


POD_YAML = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels:
    app: kubectl-check
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: {image}
    command: ["sleep", "600"]
    env:
    - name: GREETING
      value: hello
"""


class Kubectl(unittest.TestCase):
    def ok(self, *args, **kw):
        r = kubectl(*args, **kw)
        self.assertEqual(r.returncode, 0, f"kubectl {' '.join(args)}: {r.stdout}\n{r.stderr}")
        return r.stdout

    def test_pod_lifecycle(self):
        name = "yaml-" + uuid.uuid4().hex[:6]
        out = self.ok("create", "-f", "-", stdin=POD_YAML.format(name=name, image=kt.IMAGE))
        self.assertIn(f"pod/{name} created", out)
        self.ok("run", "runpod", f"--image={kt.IMAGE}", "--restart=Never",
                "--", "sleep", "600")
        # `wait` lists and watches with a field selector until the condition holds.
        self.ok("wait", "--for=condition=Ready", f"pod/{name}", "pod/runpod", "--timeout=60s")

        table = self.ok("get", "pods")
        lines = table.strip().splitlines()
        self.assertEqual(lines[0].split()[:3], ["NAME", "READY", "STATUS"])
        rows = {ln.split()[0]: ln.split() for ln in lines[1:]}
        self.assertEqual(rows[name][1:3], ["1/1", "Running"])
        self.assertIn("runpod", rows)
        self.assertEqual(self.ok("get", "pods", "-l", "run=runpod", "-o", "name").split(), ["pod/runpod"])
        pod = json.loads(self.ok("get", "pod", name, "-o", "json"))
        self.assertEqual(pod["status"]["phase"], "Running")

        self.assertEqual(self.ok("exec", name, "--", "sh", "-c", "echo $GREETING"), "hello\n")
        r = kubectl("exec", name, "--", "sh", "-c", "echo to-err >&2; exit 5")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("to-err", r.stderr)
        # -i: stdin through the websocket, closed with v5's close signal (else cat never ends).
        self.assertEqual(self.ok("exec", "-i", name, "--", "sh", "-c", "cat; echo end", stdin="piped\n"),
                         "piped\nend\n")
        missing = kubectl("exec", "no-such-pod", "--", "true")
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("not found", missing.stderr)

        # Client-certificate auth instead of the token.
        self.assertIn(name, self.ok("get", "pods", "-o", "name", kubeconfig="kubeconfig-cert"))

        # delete waits (a watch) until the pod is gone.
        out = self.ok("delete", "pod", name, "runpod", "--grace-period=1", timeout=120)
        self.assertIn(f'pod "{name}" deleted', out)
        gone = kubectl("get", "pod", name)
        self.assertNotEqual(gone.returncode, 0)
        self.assertIn("NotFound", gone.stderr)


def kubectl_version(path):
    try:
        out = subprocess.run([path, "version", "--client", "-o", "json"], capture_output=True,
                             text=True, timeout=60)
        v = json.loads(out.stdout)["clientVersion"]
        return int(v["major"]), int("".join(ch for ch in v["minor"] if ch.isdigit()))
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired):
        return None


def main():
    global KUBECTL, STATE
    STATE = os.path.abspath(sys.argv[1])
    KUBECTL = shutil.which("kubectl")
    if not KUBECTL:
        kt.skip("kubectl is not on PATH")
    version = kubectl_version(KUBECTL)
    if version is None or version < (1, 30):
        kt.skip(f"kubectl {version} is older than 1.30 (no websocket exec)")
    kt.kubeconfig_or_skip(STATE)
    try:
        prog = unittest.main(argv=[sys.argv[0]] + sys.argv[2:], exit=False, verbosity=2)
    finally:
        kubectl("delete", "pods", "--all", "--grace-period=0", "--wait=false", timeout=60)
        shutil.rmtree(CACHE, ignore_errors=True)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
