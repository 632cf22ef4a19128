#!/usr/bin/python3
"""Debian's python3-kubernetes (a client we did not write) against the test API server.

Usage: pyclient_test.py STATE_DIR (the kube_apiserver fixture's directory).
Exit 77 (skip) when /usr/bin/python3 cannot import kubernetes or the fixture's
server is not running. This client offers only v4.channel.k8s.io for exec.
"""

import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubetest as kt  # noqa: E402

try:
    from kubernetes import client, config, watch
    from kubernetes.client.rest import ApiException
    from kubernetes.stream import stream
    HAVE_CLIENT = True
except ImportError:
    HAVE_CLIENT = False

STATE = None
NS = "pyclient-" + uuid.uuid4().hex[:6]


def api(kubeconfig="kubeconfig"):
    cfg = client.Configuration()
    config.load_kube_config(os.path.join(STATE, kubeconfig), client_configuration=cfg)
    return client.CoreV1Api(client.ApiClient(cfg))


def pod(name):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"suite": "pyclient"}),
        spec=client.V1PodSpec(restart_policy="Never", termination_grace_period_seconds=1,
                              containers=[client.V1Container(name="main", image=kt.IMAGE,
                                                             command=["sleep", "600"])]))


class PythonKubernetes(unittest.TestCase):
    def test_create_watch_exec_delete(self):
        v1 = api()
        name = "py-" + uuid.uuid4().hex[:6]
        created = v1.create_namespaced_pod(NS, pod(name))
        self.assertEqual(created.status.phase, "Pending")
        with self.assertRaises(ApiException) as dup:
            v1.create_namespaced_pod(NS, pod(name))
        self.assertEqual(dup.exception.status, 409)

        w = watch.Watch()
        phases = []
        for ev in w.stream(v1.list_namespaced_pod, NS, field_selector=f"metadata.name={name}",
                           timeout_seconds=60):
            phases.append((ev["type"], ev["object"].status.phase))
            if ev["object"].status.phase == "Running":
                w.stop()
        self.assertEqual(phases[0][0], "ADDED")
        self.assertEqual(phases[-1], ("MODIFIED", "Running"))

        listed = v1.list_namespaced_pod(NS, label_selector="suite=pyclient")
        self.assertEqual([p.metadata.name for p in listed.items], [name])

        # stream exec (v4): output channels and the exit code from the status channel.
        resp = stream(v1.connect_get_namespaced_pod_exec, name, NS,
                      command=["sh", "-c", "echo out; echo err >&2; exit 3"],
                      stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
        resp.run_forever(timeout=30)
        self.assertEqual(resp.read_stdout(), "out\n")
        self.assertEqual(resp.read_stderr(), "err\n")
        self.assertEqual(resp.returncode, 3)
        resp.close()

        resp = stream(v1.connect_get_namespaced_pod_exec, name, NS, command=["cat"],
                      stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
        resp.write_stdin("interactive\n")
        got = ""
        while "interactive\n" not in got and resp.is_open():
            resp.update(timeout=10)
            got += resp.read_stdout(timeout=10) or ""
        self.assertEqual(got, "interactive\n")
        resp.close()

        ok = stream(v1.connect_get_namespaced_pod_exec, name, NS, command=["echo", "preloaded"],
                    stderr=True, stdin=False, stdout=True, tty=False)
        self.assertEqual(ok, "preloaded\n")

        # Client-certificate auth.
        self.assertIn(name, [p.metadata.name for p in api("kubeconfig-cert").list_namespaced_pod(NS).items])

        rv = v1.list_namespaced_pod(NS).metadata.resource_version
        deleted = v1.delete_namespaced_pod(name, NS, body=client.V1DeleteOptions(
            grace_period_seconds=1, propagation_policy="Foreground"))
        self.assertIsNotNone(deleted.metadata.deletion_timestamp)
        types = []
        for ev in w.stream(v1.list_namespaced_pod, NS, resource_version=rv, timeout_seconds=60):
            types.append(ev["type"])
            if ev["type"] == "DELETED":
                w.stop()
        self.assertEqual(types[-1], "DELETED")
        with self.assertRaises(ApiException) as gone:
            v1.read_namespaced_pod(name, NS)
        self.assertEqual(gone.exception.status, 404)


def main():
    global STATE
    STATE = os.path.abspath(sys.argv[1])
    if not HAVE_CLIENT:
        kt.skip(f"{sys.executable} cannot import kubernetes (apt-get install python3-kubernetes)")
    kt.kubeconfig_or_skip(STATE)
    prog = unittest.main(argv=[sys.argv[0]] + sys.argv[2:], exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
