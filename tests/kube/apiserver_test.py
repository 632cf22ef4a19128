#!/usr/bin/python3
"""The test API server's protocol, checked with raw sockets (no client library).

Runs its own server instance (faults and restarts must not disturb the shared
kube_apiserver fixture): usage `apiserver_test.py STATE_DIR [unittest args]`.
Exit 77 (skip) without Docker or the test image.
"""

import os
import statistics
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubetest as kt  # noqa: E402

SERVER = None
NS = "selftest"


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def pods_path(ns=NS, name=None, query=""):
    p = f"/api/v1/namespaces/{ns}/pods"
    if name:
        p += f"/{name}"
    return p + (f"?{query}" if query else "")


def create_running(name, ns=NS, **kw):
    SERVER.ok("POST", pods_path(ns), kt.pod_body(name, **kw))
    return kt.wait_pod(SERVER, ns, name, lambda p: p["status"].get("phase") == "Running")


def delete_now(name, ns=NS):
    SERVER.request("DELETE", pods_path(ns, name), {"kind": "DeleteOptions", "apiVersion": "v1",
                                                   "gracePeriodSeconds": 0})


class AuthAndDiscovery(unittest.TestCase):
    def test_no_token_is_401_with_status(self):
        for path in ("/api", pods_path(), "/r2e-test/stats", "/nonexistent"):
            status, _, body = SERVER.request("GET", path, token=None)
            self.assertEqual(status, 401, path)
            self.assertEqual(body, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                    "status": "Failure", "message": "Unauthorized",
                                    "reason": "Unauthorized", "code": 401})

    def test_wrong_token_is_401(self):
        status, _, _ = SERVER.request("GET", "/api", token="not-the-token")
        self.assertEqual(status, 401)

    def test_client_certificate_authenticates(self):
        status, _, body = SERVER.request("GET", "/api", token=None, client_cert=True)
        self.assertEqual(status, 200)
        self.assertEqual(body["versions"], ["v1"])

    def test_discovery(self):
        self.assertEqual(SERVER.ok("GET", "/version")["major"], "1")
        names = {r["name"] for r in SERVER.ok("GET", "/api/v1")["resources"]}
        self.assertTrue({"pods", "pods/exec"} <= names)
        self.assertEqual(SERVER.ok("GET", "/apis")["kind"], "APIGroupList")
        status, _, _ = SERVER.request("GET", "/no/such/path")
        self.assertEqual(status, 404)


class Pods(unittest.TestCase):
    def test_create_get_list_delete(self):
        name = uniq("crud")
        created = SERVER.ok("POST", pods_path(), kt.pod_body(name, labels={"app": "crud", "tier": "x"}))
        self.assertEqual(created["status"]["phase"], "Pending")
        self.assertTrue(created["metadata"]["uid"])
        self.assertTrue(created["metadata"]["creationTimestamp"].endswith("Z"))
        rv0 = int(created["metadata"]["resourceVersion"])
        pod = kt.wait_pod(SERVER, NS, name, lambda p: p["status"]["phase"] == "Running")
        self.assertGreater(int(pod["metadata"]["resourceVersion"]), rv0)
        cs = pod["status"]["containerStatuses"][0]
        self.assertIn("running", cs["state"])
        self.assertTrue(cs["ready"])
        conds = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        self.assertEqual(conds["Ready"], "True")
        self.assertEqual(conds["PodScheduled"], "True")
        self.assertEqual(len(kt.containers_of(SERVER.dir, f"{NS}/{name}")), 1)

        status, _, body = SERVER.request("POST", pods_path(), kt.pod_body(name))
        self.assertEqual((status, body["reason"]), (409, "AlreadyExists"))

        lst = SERVER.ok("GET", pods_path(query="labelSelector=app%3Dcrud,tier%3Dx"))
        self.assertEqual([p["metadata"]["name"] for p in lst["items"]], [name])
        self.assertGreaterEqual(int(lst["metadata"]["resourceVersion"]),
                                int(pod["metadata"]["resourceVersion"]))
        lst = SERVER.ok("GET", pods_path(query=f"fieldSelector=metadata.name%3D{name}"))
        self.assertEqual(len(lst["items"]), 1)
        lst = SERVER.ok("GET", pods_path(query="labelSelector=app%3Dnone"))
        self.assertEqual(lst["items"], [])

        deleted = SERVER.ok("DELETE", pods_path(name=name),
                            {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                             "propagationPolicy": "Background"})
        self.assertTrue(deleted["metadata"]["deletionTimestamp"])
        deadline = time.monotonic() + 20
        while SERVER.request("GET", pods_path(name=name))[0] != 404:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual(kt.containers_of(SERVER.dir, f"{NS}/{name}"), [])

    def test_get_missing_is_404_status(self):
        status, _, body = SERVER.request("GET", pods_path(name="does-not-exist"))
        self.assertEqual(status, 404)
        self.assertEqual((body["kind"], body["reason"], body["code"]), ("Status", "NotFound", 404))
        status, _, body = SERVER.request("DELETE", pods_path(name="does-not-exist"))
        self.assertEqual(status, 404)

    def test_invalid_pods_are_422(self):
        body = kt.pod_body(uniq("inv"))
        del body["spec"]["containers"][0]["image"]
        status, _, st = SERVER.request("POST", pods_path(), body)
        self.assertEqual((status, st["reason"]), (422, "Invalid"))
        self.assertEqual(st["details"]["causes"][0]["field"], "spec.containers[0].image")
        body = kt.pod_body(uniq("inv"))
        body["spec"]["containers"] = []
        status, _, st = SERVER.request("POST", pods_path(), body)
        self.assertEqual(status, 422)
        status, _, st = SERVER.request("POST", pods_path(), b"{not json")
        self.assertEqual(status, 400)

    def test_generate_name(self):
        body = kt.pod_body("")
        body["metadata"] = {"generateName": "gen-"}
        pod = SERVER.ok("POST", pods_path(), body)
        self.assertTrue(pod["metadata"]["name"].startswith("gen-"))
        self.assertEqual(len(pod["metadata"]["name"]), len("gen-") + 5)
        delete_now(pod["metadata"]["name"])

    def test_command_env_workdir_and_exit_phase(self):
        name = uniq("done")
        body = kt.pod_body(name)
        c = body["spec"]["containers"][0]
        c["command"] = ["sh", "-c"]
        c["args"] = ['test "$(pwd)" = /tmp && test "$GREETING" = hi && exit 3']
        c["workingDir"] = "/tmp"
        c["env"] = [{"name": "GREETING", "value": "hi"}]
        c["resources"] = {"limits": {"memory": "256Mi", "cpu": "500m"}}
        SERVER.ok("POST", pods_path(), body)
        pod = kt.wait_pod(SERVER, NS, name, lambda p: p["status"]["phase"] in ("Succeeded", "Failed"))
        self.assertEqual(pod["status"]["phase"], "Failed")
        self.assertEqual(pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 3)
        info = kt.containers_of(SERVER.dir, f"{NS}/{name}")
        self.assertEqual(len(info), 1)
        sys.path.insert(0, os.path.join(kt.ROOT, "tests", "kube", "apiserver"))
        import docker_api
        host = docker_api.inspect_container(info[0]["Id"])["HostConfig"]
        self.assertEqual((host["Memory"], host["NanoCpus"], host["PidsLimit"], host["NetworkMode"]),
                         (256 * 2**20, 500_000_000, 512, "none"))
        delete_now(name)

    def test_restart_policy_always_restarts_with_backoff(self):
        name = uniq("crash")
        SERVER.ok("POST", pods_path(), kt.pod_body(name, command=["sh", "-c", "exit 1"],
                                                   restartPolicy="Always"))
        pod = kt.wait_pod(SERVER, NS, name, lambda p: any(
            cs.get("restartCount", 0) >= 2 for cs in p["status"].get("containerStatuses") or []))
        cs = pod["status"]["containerStatuses"][0]
        self.assertEqual(cs["lastState"]["terminated"]["exitCode"], 1)
        self.assertNotIn(pod["status"]["phase"], ("Succeeded", "Failed"))
        delete_now(name)

    def test_active_deadline(self):
        name = uniq("deadline")
        SERVER.ok("POST", pods_path(), kt.pod_body(name, activeDeadlineSeconds=2))
        pod = kt.wait_pod(SERVER, NS, name, lambda p: p["status"]["phase"] == "Failed", timeout=30)
        self.assertEqual(pod["status"]["reason"], "DeadlineExceeded")
        self.assertEqual(kt.containers_of(SERVER.dir, f"{NS}/{name}"), [])
        delete_now(name)

    def test_grace_period_is_honoured(self):
        name = uniq("grace")
        # PID 1 ignores SIGTERM (no handler): only the SIGKILL after the grace period ends it.
        create_running(name, terminationGracePeriodSeconds=30)
        w = kt.WatchStream(SERVER, pods_path(query=f"watch=1&fieldSelector=metadata.name%3D{name}"
                                                   f"&resourceVersion={SERVER.ok('GET', pods_path(name=name))['metadata']['resourceVersion']}"))
        t0 = time.monotonic()
        marked = SERVER.ok("DELETE", pods_path(name=name), {"gracePeriodSeconds": 2})
        self.assertEqual(marked["metadata"]["deletionGracePeriodSeconds"], 2)
        types = []
        for ev in w.events():
            types.append(ev["type"])
            if ev["type"] == "DELETED":
                break
        elapsed = time.monotonic() - t0
        w.close()
        self.assertEqual(types[0], "MODIFIED")
        self.assertEqual(types[-1], "DELETED")
        self.assertGreater(elapsed, 1.5)
        self.assertLess(elapsed, 15)
        self.assertEqual(kt.containers_of(SERVER.dir, f"{NS}/{name}"), [])


class Watches(unittest.TestCase):
    def test_events_split_chunks_and_selectors(self):
        lst = SERVER.ok("GET", pods_path(ns="watchns"))
        rv = lst["metadata"]["resourceVersion"]
        w = kt.WatchStream(SERVER, pods_path(ns="watchns", query=f"watch=true&resourceVersion={rv}&labelSelector=w%3Dyes"))
        self.assertEqual(w.status, 200)
        self.assertEqual(w.headers.get("transfer-encoding"), "chunked")
        names = [uniq("w") for _ in range(4)]
        for n in names:
            SERVER.ok("POST", pods_path("watchns"), kt.pod_body(n, labels={"w": "yes"}))
        SERVER.ok("POST", pods_path("watchns"), kt.pod_body(uniq("other"), labels={"w": "no"}))
        seen_added, running = set(), set()
        last_rv = int(rv)
        for ev in w.events():
            obj = ev["object"]
            self.assertEqual(obj["metadata"]["labels"]["w"], "yes")
            self.assertGreater(int(obj["metadata"]["resourceVersion"]), last_rv)
            last_rv = int(obj["metadata"]["resourceVersion"])
            if ev["type"] == "ADDED":
                seen_added.add(obj["metadata"]["name"])
            if obj["status"].get("phase") == "Running":
                running.add(obj["metadata"]["name"])
            if running == set(names):
                break
        w.close()
        self.assertEqual(seen_added, set(names))
        status, hdrs, lst = SERVER.request("GET", pods_path("watchns"))  # > 4 KiB: chunked, as Go sends it
        self.assertEqual((status, hdrs.get("transfer-encoding"), len(lst["items"])), (200, "chunked", 5))
        # Some chunk ended inside an event line: clients must not assume line-aligned chunks.
        self.assertTrue(any(not c.endswith(b"\n") for c in w.raw_chunks), w.raw_chunks[:3])
        for n in SERVER.ok("GET", pods_path("watchns"))["items"]:
            delete_now(n["metadata"]["name"], "watchns")

    def test_initial_added_without_resource_version(self):
        name = uniq("init")
        SERVER.ok("POST", pods_path(), kt.pod_body(name))
        w = kt.WatchStream(SERVER, pods_path(query=f"watch=1&fieldSelector=metadata.name%3D{name}"))
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", name))
        w.close()
        delete_now(name)

    def test_bookmarks_and_timeout(self):
        rv = SERVER.ok("GET", pods_path())["metadata"]["resourceVersion"]
        t0 = time.monotonic()
        w = kt.WatchStream(SERVER, pods_path(query=f"watch=true&resourceVersion={rv}"
                                                   "&allowWatchBookmarks=true&timeoutSeconds=2"))
        bookmarks = [e for e in w.events() if e["type"] == "BOOKMARK"]
        elapsed = time.monotonic() - t0
        self.assertTrue(w.reader.clean_end, "a timed-out watch ends with the last chunk")
        self.assertGreaterEqual(len(bookmarks), 2)  # interval 0.3 s on this server
        self.assertGreaterEqual(int(bookmarks[-1]["object"]["metadata"]["resourceVersion"]), int(rv))
        self.assertGreater(elapsed, 1.5)
        self.assertLess(elapsed, 6)
        w.close()

    def test_too_old_resource_version_is_410_in_stream(self):
        w = kt.WatchStream(SERVER, pods_path(query="watch=true&resourceVersion=5"))
        ev = w.next()
        self.assertEqual(ev["type"], "ERROR")
        self.assertEqual((ev["object"]["code"], ev["object"]["reason"]), (410, "Expired"))
        w.close()

    def test_watch_count_returns_to_zero(self):
        w = kt.WatchStream(SERVER, pods_path(query="watch=true"))
        time.sleep(0.2)
        self.assertGreaterEqual(SERVER.ok("GET", "/r2e-test/stats")["watches_open"], 1)
        w.close()
        deadline = time.monotonic() + 5
        while SERVER.ok("GET", "/r2e-test/stats")["watches_open"] != 0:
            self.assertLess(time.monotonic(), deadline, "watch not released after client close")
            time.sleep(0.05)


class Exec(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pod = uniq("exec")
        create_running(cls.pod)

    @classmethod
    def tearDownClass(cls):
        delete_now(cls.pod)

    def run_exec(self, command, protocols="v5.channel.k8s.io, v4.channel.k8s.io", **kw):
        s = kt.ExecSocket(SERVER, NS, self.pod, command, protocols=protocols, **kw)
        return s

    def test_v5_and_v4_exit_codes_and_channels(self):
        for protocols, want in (("v5.channel.k8s.io, v4.channel.k8s.io", "v5.channel.k8s.io"),
                                ("v4.channel.k8s.io", "v4.channel.k8s.io")):
            s = self.run_exec(["sh", "-c", "echo out; echo err >&2; exit 7"], protocols, stdin=False)
            self.assertEqual(s.status, 101)
            self.assertEqual(s.protocol, want)
            s.run_to_end()
            self.assertEqual((bytes(s.out[1]), bytes(s.out[2])), (b"out\n", b"err\n"))
            self.assertEqual(s.status_msg["reason"], "NonZeroExitCode")
            self.assertEqual(s.exit_code(), 7)
            self.assertEqual(s.close_code, 1000)
            self.assertGreaterEqual(s.empty_messages, 1)
            s.close()
            s = self.run_exec(["true"], protocols, stdin=False).run_to_end()
            self.assertEqual(s.status_msg["status"], "Success")
            self.assertEqual(s.exit_code(), 0)
            s.close()

    def test_v5_stdin_close_and_fragmented_masked_input(self):
        s = self.run_exec(["sh", "-c", "cat; echo eof"])
        data = b"x" * 70000 + b"\n"  # 64-bit length frame, split over fragments
        s.send(0, data, fragments=3)
        s.send_raw(kt.ws_frame(9, b"ping!"))  # control frame between messages
        s.send(0, b"tail\n")
        s.close_stdin()
        s.run_to_end()
        self.assertEqual(bytes(s.out[1]), data + b"tail\neof\n")
        self.assertEqual(s.pongs, [b"ping!"])
        self.assertEqual(s.exit_code(), 0)
        s.close()

    def test_v4_stdin_without_close(self):
        s = self.run_exec(["head", "-c", "5"], "v4.channel.k8s.io")
        s.send(0, b"hello world")
        s.run_to_end()
        self.assertEqual(bytes(s.out[1]), b"hello")
        self.assertEqual(s.exit_code(), 0)
        s.close()

    def test_client_close_frame_ends_session(self):
        s = self.run_exec(["sleep", "30"])
        s.send_raw(kt.ws_frame(8, b"\x03\xe8"))
        t0 = time.monotonic()
        s.run_to_end()
        self.assertEqual(s.close_code, 1000)
        self.assertIsNone(s.status_msg)
        self.assertLess(time.monotonic() - t0, 5)
        s.close()

    def test_unmasked_client_frame_is_protocol_error(self):
        s = self.run_exec(["sleep", "30"])
        s.send_raw(kt.ws_frame(2, b"\x00abc", mask=False))
        s.run_to_end()
        self.assertEqual(s.close_code, 1002)
        s.close()

    def test_http_errors_before_upgrade(self):
        s = kt.ExecSocket(SERVER, NS, "no-such-pod", ["true"])
        self.assertEqual((s.status, s.body["reason"]), (404, "NotFound"))
        s = self.run_exec([], stdin=False)
        self.assertEqual((s.status, s.body["kind"]), (400, "Status"))
        s = self.run_exec(["true"], stdin=False, stdout=False, stderr=False)
        self.assertEqual(s.status, 400)
        s = self.run_exec(["true"], protocols="base64.channel.k8s.io")
        self.assertEqual(s.status, 400)
        s = self.run_exec(["true"], extra="&container=nope")
        self.assertEqual(s.status, 400)

    def test_tty(self):
        s = self.run_exec(["sh", "-c", "test -t 1 && echo tty"], stdin=False, stderr=False, tty=True)
        s.run_to_end()
        self.assertEqual(bytes(s.out[1]).replace(b"\r", b""), b"tty\n")
        s.close()

    def test_large_output_and_parallel_sessions(self):
        s = self.run_exec(["sh", "-c", "head -c 5000000 /dev/zero; echo done >&2"], stdin=False)
        s.run_to_end()
        self.assertEqual((len(s.out[1]), bytes(s.out[2])), (5000000, b"done\n"))
        self.assertEqual(s.exit_code(), 0)
        errors = []

        def session(k):
            try:
                x = self.run_exec(["sh"])
                for i in range(30):
                    x.send(0, b"echo %d-%d\n" % (k, i))
                    x.read_until(lambda: bytes(x.out[1]).endswith(b"%d-%d\n" % (k, i)))
                x.close_stdin()
                x.run_to_end()
                if x.exit_code() != 0:
                    errors.append(f"session {k}: exit {x.exit_code()}")
            except Exception as e:  # reported below
                errors.append(f"session {k}: {e!r}")
        threads = [threading.Thread(target=session, args=(k,)) for k in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])

    def test_session_step_latency(self):
        """A persistent shell fed through stdin, as the client's ShellSession does (reported, not asserted)."""
        s = self.run_exec(["sh"])
        times = []
        for i in range(200):
            marker = f"m{i}\n".encode()
            t0 = time.perf_counter()
            s.send(0, b"echo m%d\n" % i)
            s.read_until(lambda: bytes(s.out[1]).endswith(marker))
            times.append((time.perf_counter() - t0) * 1000)
        s.close_stdin()
        s.run_to_end()
        self.assertEqual(s.exit_code(), 0)
        times.sort()
        print(f"\n  exec-session step through the server (Python client): "
              f"p50 {statistics.median(times):.3f} ms, p90 {times[int(len(times) * 0.9)]:.3f} ms",
              file=sys.stderr)
        s.close()


class Faults(unittest.TestCase):
    def tearDown(self):
        SERVER.ok("DELETE", "/r2e-test/faults")

    def test_429_and_500_with_counts_and_regex(self):
        SERVER.ok("POST", "/r2e-test/faults",
                  {"http_429": {"count": 2, "retry_after": 3, "path_regex": "/pods/x429"},
                   "http_500": {"count": 1, "path_regex": "/pods/x500"}})
        self.assertEqual(SERVER.ok("GET", "/r2e-test/faults")["http_429"]["count"], 2)
        self.assertEqual(SERVER.request("GET", pods_path(name="other"))[0], 404)  # no match
        for _ in range(2):
            status, hdrs, body = SERVER.request("GET", pods_path(name="x429"))
            self.assertEqual((status, hdrs.get("retry-after"), body["reason"]), (429, "3", "TooManyRequests"))
        self.assertEqual(SERVER.request("GET", pods_path(name="x429"))[0], 404)
        status, _, body = SERVER.request("GET", pods_path(name="x500"))
        self.assertEqual((status, body["reason"]), (500, "InternalError"))
        self.assertEqual(SERVER.request("GET", pods_path(name="x500"))[0], 404)
        self.assertEqual(SERVER.ok("GET", "/r2e-test/faults"), {})

    def test_namespace_scoped_faults(self):
        SERVER.ok("POST", "/r2e-test/faults", {"http_500": {"count": 1, "namespace": "ns-a"}})
        SERVER.ok("POST", "/r2e-test/faults", {"http_500": {"count": 2, "namespace": "ns-b"},
                                               "unschedulable": {"image_regex": ".", "namespace": "ns-b"}})
        self.assertEqual(SERVER.ok("GET", "/r2e-test/faults?namespace=ns-a"), {"http_500": {"count": 1, "namespace": "ns-a"}})
        self.assertEqual(set(SERVER.ok("GET", "/r2e-test/faults")["by_namespace"]), {"ns-a", "ns-b"})
        self.assertEqual(SERVER.request("GET", pods_path())[0], 200)
        self.assertEqual(SERVER.request("GET", pods_path("ns-a"))[0], 500)
        self.assertEqual(SERVER.request("GET", pods_path("ns-a"))[0], 200)
        # A pod elsewhere is scheduled although ns-b has an unschedulable fault for every image.
        name = uniq("sched")
        pod = SERVER.ok("POST", pods_path(), kt.pod_body(name))
        self.assertEqual(pod["spec"].get("nodeName"), "r2e-test-node")
        delete_now(name)
        SERVER.ok("DELETE", "/r2e-test/faults?namespace=ns-b")
        self.assertEqual(SERVER.ok("GET", "/r2e-test/faults?namespace=ns-b"), {})
        self.assertEqual(SERVER.request("GET", pods_path("ns-b"))[0], 200)

    def test_bad_fault_is_400(self):
        self.assertEqual(SERVER.request("POST", "/r2e-test/faults", {"nope": {}})[0], 400)

    def test_drop_watch(self):
        SERVER.ok("POST", "/r2e-test/faults", {"drop_watch": {"count": 1}})
        w = kt.WatchStream(SERVER, pods_path(query="watch=true&timeoutSeconds=5"))
        list(w.events())
        self.assertFalse(w.reader.clean_end, "a dropped watch has no terminating chunk")
        w.close()

    def test_watch_410_alternates_forms(self):
        SERVER.ok("POST", "/r2e-test/faults", {"watch_410": {"count": 2}})
        w = kt.WatchStream(SERVER, pods_path(query="watch=true"))
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["code"]), ("ERROR", 410))
        w.close()
        w = kt.WatchStream(SERVER, pods_path(query="watch=true"))
        self.assertEqual(w.status, 410)
        w.close()

    def test_exec_close(self):
        name = uniq("xclose")
        create_running(name)
        SERVER.ok("POST", "/r2e-test/faults", {"exec_close": {"count": 1, "after_ms": 300}})
        t0 = time.monotonic()
        s = kt.ExecSocket(SERVER, NS, name, ["sleep", "10"])
        s.run_to_end()
        self.assertIsNone(s.status_msg)
        self.assertIsNone(s.close_code)  # abrupt: no close frame
        self.assertGreater(time.monotonic() - t0, 0.25)
        self.assertLess(time.monotonic() - t0, 5)
        s.close()
        s = kt.ExecSocket(SERVER, NS, name, ["true"], stdin=False).run_to_end()
        self.assertEqual(s.exit_code(), 0)
        delete_now(name)

    def test_image_pull_fail_and_unschedulable(self):
        SERVER.ok("POST", "/r2e-test/faults", {"image_pull_fail": {"image_regex": "^r2e-test/base"},
                                               "unschedulable": {"image_regex": "^busybox"}})
        name = uniq("pull")
        SERVER.ok("POST", pods_path(), kt.pod_body(name))
        reasons = set()
        deadline = time.monotonic() + 10
        while "ImagePullBackOff" not in reasons:
            self.assertLess(time.monotonic(), deadline)
            pod = SERVER.ok("GET", pods_path(name=name))
            self.assertEqual(pod["status"]["phase"], "Pending")
            for cs in pod["status"].get("containerStatuses") or []:
                reasons.add(cs["state"].get("waiting", {}).get("reason"))
            time.sleep(0.1)
        self.assertIn("ErrImagePull", reasons)
        self.assertEqual(kt.containers_of(SERVER.dir, f"{NS}/{name}"), [])
        name2 = uniq("sched")
        body = kt.pod_body(name2)
        body["spec"]["containers"][0]["image"] = "busybox:1.36"
        SERVER.ok("POST", pods_path(), body)
        time.sleep(0.3)
        pod = SERVER.ok("GET", pods_path(name=name2))
        cond = [c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled"][0]
        self.assertEqual((pod["status"]["phase"], cond["status"], cond["reason"]),
                         ("Pending", "False", "Unschedulable"))
        delete_now(name)
        delete_now(name2)

    def test_missing_image_is_err_image_pull(self):
        name = uniq("noimg")
        body = kt.pod_body(name)
        body["spec"]["containers"][0]["image"] = "r2e-test/does-not-exist:1"
        SERVER.ok("POST", pods_path(), body)
        kt.wait_pod(SERVER, NS, name, lambda p: any(
            cs["state"].get("waiting", {}).get("reason") in ("ErrImagePull", "ImagePullBackOff")
            for cs in p["status"].get("containerStatuses") or []))
        delete_now(name)


class ZRestartAndLeaks(unittest.TestCase):
    """Runs last (unittest sorts classes by name)."""

    def test_a_restart_keeps_pods(self):
        name = uniq("keep")
        before = create_running(name)
        SERVER.kill()
        SERVER.start("--bookmark-interval", "0.3")
        pod = kt.wait_pod(SERVER, NS, name, lambda p: p["status"]["phase"] == "Running")
        self.assertEqual(pod["metadata"]["uid"], before["metadata"]["uid"])
        self.assertGreater(int(pod["metadata"]["resourceVersion"]), int(before["metadata"]["resourceVersion"]))
        s = kt.ExecSocket(SERVER, NS, name, ["echo", "still here"], stdin=False).run_to_end()
        self.assertEqual(bytes(s.out[1]), b"still here\n")
        delete_now(name)

    def test_z_no_leaks(self):
        for pod in SERVER.ok("GET", "/api/v1/pods")["items"]:
            delete_now(pod["metadata"]["name"], pod["metadata"]["namespace"])
        deadline = time.monotonic() + 30
        while True:
            stats = SERVER.ok("GET", "/r2e-test/stats")
            if stats == {"pods": 0, "containers": 0, "exec_sessions_open": 0, "watches_open": 0}:
                break
            self.assertLess(time.monotonic(), deadline, stats)
            time.sleep(0.1)


def main():
    global SERVER
    args = sys.argv[1:]
    state_dir = args.pop(0) if args and not args[0].startswith("-") else tempfile.mkdtemp(prefix="kas-")
    if not kt.docker_reachable():
        kt.skip(f"Docker or the image {kt.IMAGE} is not available")
    SERVER = kt.Server(state_dir)
    SERVER.stop()  # a previous run that was killed
    SERVER.start("--bookmark-interval", "0.3")
    try:
        prog = unittest.main(argv=[sys.argv[0]] + args, exit=False, verbosity=2)
    finally:
        SERVER.stop()
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
