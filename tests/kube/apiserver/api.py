"""Request routing: discovery, pods (CRUD, watch, exec), and the /r2e-test admin API."""

import random
import re
import threading

import docker_api
import execws
import podspec
import selector
import table
from faults import FaultError
from httpconn import authenticate, status_object
from watch import Watch

VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-r2e-test", "gitCommit": "r2e",
           "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23",
           "compiler": "gc", "platform": "linux/amd64"}

RESOURCES = {
    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
    "resources": [
        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
         "verbs": ["get", "list"], "shortNames": ["ns"]},
        {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
         "verbs": ["create", "delete", "get", "list", "watch"], "shortNames": ["po"],
         "categories": ["all"]},
        {"name": "pods/exec", "singularName": "", "namespaced": True, "kind": "PodExecOptions",
         "verbs": ["create", "get"]},
        {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
    ]}

# kubectl validates `create -f` input on the client unless the server's OpenAPI v3
# document shows that it validates fields itself (a `fieldValidation` parameter on
# the kind's PATCH operation): then kubectl leaves validation to the server. This
# server does not implement PATCH; the entry exists for that check only.
OPENAPI_V3_ROOT = {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=R2E0001"}}}
_OPEN = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
OPENAPI_V3_V1 = {
    "openapi": "3.0.0", "info": {"title": "Kubernetes (r2e test server)", "version": "v1.32.0"},
    "paths": {"/api/v1/namespaces/{namespace}/pods/{name}": {"patch": {
        "operationId": "patchCoreV1NamespacedPod",
        "x-kubernetes-group-version-kind": {"group": "", "kind": "Pod", "version": "v1"},
        "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "OK"}}}}},
    "components": {"schemas": {"io.k8s.api.core.v1.Pod": {
        "type": "object", "description": "A pod: one container backed by Docker.",
        "x-kubernetes-group-version-kind": [{"group": "", "kind": "Pod", "version": "v1"}],
        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                       "metadata": _OPEN, "spec": _OPEN, "status": _OPEN}}}}}

POD_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/pods(?:/([^/]+)(?:/(exec|log))?)?/?$")
NS_PATH = re.compile(r"^/api/v1/namespaces(?:/([^/]+))?/?$")
ALL_PODS = re.compile(r"^/api/v1/pods/?$")
NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


class Api:
    def __init__(self, store, controller, faults, token, options):
        self.store = store
        self.ctl = controller
        self.faults = faults
        self.token = token
        self.opts = options
        self.exec_stats = execws.Stats()
        self.seed = 0
        self.seed_lock = threading.Lock()

    def handle(self, conn, req):
        if not authenticate(req, conn, self.token):
            conn.send_json(401, status_object(401, "Unauthorized", "Unauthorized"))
            return
        path = req.path
        if path.startswith("/r2e-test/"):
            return self.admin(conn, req)
        m = POD_PATH.match(path)
        ns = m.group(1) if m else None
        fault = self.faults.take("http_429", ns, req.target)
        if fault:
            after = int(fault.get("retry_after", 1))
            conn.send_status(429, "Too many requests, please try again later.", "TooManyRequests",
                             {"retryAfterSeconds": after}, headers=[("Retry-After", str(after))])
            return
        if self.faults.take("http_500", ns, req.target):
            conn.send_status(500, "Internal error occurred: injected fault (r2e test server)",
                             "InternalError", {"causes": [{"message": "injected fault"}]})
            return
        if m:
            return self.pods(conn, req, m.group(1), m.group(2), m.group(3))
        if ALL_PODS.match(path):
            return self.pods(conn, req, None, None, None)
        if req.method != "GET":
            return conn.send_status(405, f"the server does not allow this method on {path}")
        if path == "/version":
            return conn.send_json(200, VERSION)
        if path in ("/api", "/api/"):
            return conn.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": [
                                            {"clientCIDR": "0.0.0.0/0",
                                             "serverAddress": f"127.0.0.1:{self.opts.port}"}]})
        if path in ("/api/v1", "/api/v1/"):
            return conn.send_json(200, RESOURCES)
        if path in ("/apis", "/apis/"):
            return conn.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        if path == "/openapi/v3":
            return conn.send_json(200, OPENAPI_V3_ROOT)
        if path == "/openapi/v3/api/v1":
            return conn.send_json(200, OPENAPI_V3_V1)
        if path in ("/healthz", "/readyz", "/livez"):
            return conn.send_response(200, [("Content-Type", "text/plain")], b"ok")
        nm = NS_PATH.match(path)
        if nm:
            return self.namespaces(conn, nm.group(1))
        conn.send_response(404, [("Content-Type", "text/plain; charset=utf-8")], b"404 page not found\n")

    # --- namespaces: any name exists (pods may be created in any namespace) ---

    def namespaces(self, conn, name):
        def ns_obj(n):
            return {"kind": "Namespace", "apiVersion": "v1",
                    "metadata": {"name": n, "uid": "00000000-0000-0000-0000-" + f"{abs(hash(n)) % 10**12:012d}",
                                 "resourceVersion": "1", "creationTimestamp": "2026-01-01T00:00:00Z"},
                    "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        if name:
            return conn.send_json(200, ns_obj(name))
        items, rv = self.store.list(None, lambda o: True)
        names = sorted({"default"} | {o["metadata"]["namespace"] for o in items})
        conn.send_json(200, {"kind": "NamespaceList", "apiVersion": "v1",
                             "metadata": {"resourceVersion": str(rv)},
                             "items": [ns_obj(n) for n in names]})

    # --- pods ---

    def pods(self, conn, req, ns, name, sub):
        if sub == "exec":
            if req.method not in ("GET", "POST"):
                return conn.send_status(405, "exec: use GET or POST with a websocket upgrade")
            return self.exec(conn, req, ns, name)
        if sub == "log":
            return self.log(conn, req, ns, name)
        if name is None:
            if req.method == "GET":
                return self.list_or_watch(conn, req, ns)
            if req.method == "POST" and ns is not None:
                return self.create(conn, req, ns)
            return conn.send_status(405, f"the server does not allow {req.method} on pods collections")
        if req.method == "GET":
            pod = self.store.get(ns, name)
            if pod is None:
                return self.not_found(conn, name)
            if table.wants_table(req.headers.get("accept")):
                return conn.send_json(200, table.table([pod], pod["metadata"]["resourceVersion"],
                                                       req.arg("includeObject", "Metadata")))
            return conn.send_json(200, pod)
        if req.method == "DELETE":
            return self.delete(conn, req, ns, name)
        conn.send_status(405, f"the server does not allow {req.method} on pods")

    def not_found(self, conn, name):
        conn.send_status(404, f'pods "{name}" not found', "NotFound", {"name": name, "kind": "pods"})

    def create(self, conn, req, ns):
        try:
            pod = req.json_body()
        except ValueError as e:
            return conn.send_status(400, f"invalid JSON body: {e}", "BadRequest")
        try:
            podspec.validate(pod, ns)
        except podspec.BadRequest as e:
            return conn.send_status(400, str(e), "BadRequest")
        except podspec.Invalid as e:
            return conn.send_status(422, str(e), "Invalid", e.details())
        meta = pod["metadata"]
        name = meta.get("name") or (meta["generateName"] + "".join(random.choice(NAME_CHARS) for _ in range(5)))
        image = pod["spec"]["containers"][0]["image"]
        unschedulable = self.faults.image_matches("unschedulable", image, ns)
        podspec.default(pod, ns, name, unschedulable)
        if req.arg("dryRun") == "All":
            pod["metadata"]["resourceVersion"] = ""
            return conn.send_json(201, pod)
        stored = self.store.add(pod)
        if stored is None:
            return conn.send_status(409, f'pods "{name}" already exists', "AlreadyExists",
                                    {"name": name, "kind": "pods"})
        self.ctl.pod_created(self.store.get(ns, name) or stored)
        conn.send_json(201, stored)

    def delete(self, conn, req, ns, name):
        try:
            opts = req.json_body() or {}
        except ValueError as e:
            return conn.send_status(400, f"invalid DeleteOptions body: {e}")
        if not isinstance(opts, dict):
            return conn.send_status(400, "DeleteOptions must be an object")
        grace = opts.get("gracePeriodSeconds", req.arg("gracePeriodSeconds"))
        policy = opts.get("propagationPolicy", req.arg("propagationPolicy"))
        if policy not in (None, "Orphan", "Background", "Foreground"):
            return conn.send_status(400, f'propagationPolicy: Unsupported value: "{policy}": supported '
                                         'values: "Foreground", "Background", "Orphan"')
        try:
            grace = None if grace is None else int(grace)
        except (TypeError, ValueError):
            return conn.send_status(400, f"gracePeriodSeconds: invalid value {grace!r}")
        pod = self.store.get(ns, name)
        if pod is None:
            return self.not_found(conn, name)
        want_uid = (opts.get("preconditions") or {}).get("uid")
        if want_uid and want_uid != pod["metadata"]["uid"]:
            return conn.send_status(409, f"Precondition failed: UID in precondition: {want_uid}, "
                                         f"UID in object meta: {pod['metadata']['uid']}", "Conflict")
        marked = self.ctl.delete_pod(ns, name, grace)
        if marked is None:
            return self.not_found(conn, name)
        conn.send_json(200, marked)

    def list_or_watch(self, conn, req, ns):
        try:
            labels = selector.parse_labels(req.arg("labelSelector", ""))
            fields = selector.parse_fields(req.arg("fieldSelector", ""))
        except selector.SelectorError as e:
            return conn.send_status(400, str(e), "BadRequest")

        def pred(obj):
            return ((ns is None or obj["metadata"]["namespace"] == ns)
                    and labels(obj["metadata"].get("labels")) and fields(obj))
        if req.flag("watch"):
            return self.watch(conn, req, ns, pred)
        items, rv = self.store.list(ns, pred)
        if table.wants_table(req.headers.get("accept")):
            return conn.send_json(200, table.table(items, str(rv), req.arg("includeObject", "Metadata")))
        for it in items:  # list items carry no kind/apiVersion, as in Kubernetes
            it.pop("kind", None)
            it.pop("apiVersion", None)
        conn.send_json(200, {"kind": "PodList", "apiVersion": "v1",
                             "metadata": {"resourceVersion": str(rv)}, "items": items})

    def watch(self, conn, req, ns, pred):
        rv = req.arg("resourceVersion", "")
        try:
            since = None if rv in ("", "0") else int(rv)
        except ValueError:
            return conn.send_status(400, f"invalid resourceVersion {rv!r}")
        try:
            timeout = float(req.arg("timeoutSeconds") or self.opts.watch_max_seconds)
        except ValueError:
            return conn.send_status(400, "invalid timeoutSeconds")
        fault410 = self.faults.take("watch_410", ns, req.target)
        if fault410 and fault410["mode"] == "http":
            return conn.send_json(410, status_object(410, f"too old resource version: {rv or 0} "
                                                          f"({self.store.rv})", "Expired"))
        drop = self.faults.take("drop_watch", ns, req.target) is not None
        with self.seed_lock:
            self.seed += 1
            seed = self.seed
        transform = None
        if table.wants_table(req.headers.get("accept")):
            include = req.arg("includeObject", "Metadata")

            def transform(obj):
                return table.table([obj], obj["metadata"]["resourceVersion"], include)
        w = Watch(conn, self.store, pred, since, min(timeout, self.opts.watch_max_seconds),
                  req.flag("allowWatchBookmarks"), self.opts.bookmark_interval, seed, transform)
        w.run(drop, fault410 is not None)

    def exec(self, conn, req, ns, name):
        pod = self.store.get(ns, name)
        if pod is None:
            return self.not_found(conn, name)
        container = req.arg("container")
        names = [c["name"] for c in pod["spec"]["containers"]]
        if container and container not in names:
            return conn.send_status(400, f"container {container} is not valid for pod {name}")
        phase = pod.get("status", {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            return conn.send_status(400, f"cannot exec into a container in a completed pod; "
                                         f"current phase is {phase}")
        cid = self.ctl.container_for_exec(pod)
        if cid is None:
            return conn.send_status(400, f'unable to upgrade connection: container not found ("{names[0]}")')
        execws.serve(conn, req, cid, self.faults, ns, self.exec_stats)

    def log(self, conn, req, ns, name):
        pod = self.store.get(ns, name)
        if pod is None:
            return self.not_found(conn, name)
        status = pod.get("status", {}).get("containerStatuses") or [{}]
        cid = (status[0].get("containerID") or status[0].get("state", {}).get("terminated", {})
               .get("containerID") or "").replace("docker://", "")
        if not cid:
            return conn.send_status(400, f'container "{pod["spec"]["containers"][0]["name"]}" in pod '
                                         f'"{name}" is waiting to start')
        tail = req.arg("tailLines")
        query = "stdout=1&stderr=1" + (f"&tail={int(tail)}" if tail and tail.isdigit() else "")
        try:
            raw = docker_api.logs(cid, query)
        except docker_api.DockerError as e:
            return conn.send_status(500, f"reading logs: {e.message}")
        conn.send_response(200, [("Content-Type", "text/plain")], raw)

    # --- admin ---

    def admin(self, conn, req):
        if req.path == "/r2e-test/faults":
            scope = req.arg("namespace")
            if req.method == "GET":
                return conn.send_json(200, self.faults.get(scope))
            if req.method == "DELETE":
                self.faults.clear(scope)
                return conn.send_json(200, {})
            if req.method == "POST":
                try:
                    self.faults.set(req.json_body())
                except (ValueError, FaultError) as e:
                    return conn.send_status(400, str(e))
                return conn.send_json(200, self.faults.get())
        if req.path == "/r2e-test/stats" and req.method == "GET":
            try:
                containers = self.ctl.container_count()
            except Exception:
                containers = -1
            return conn.send_json(200, {"pods": self.store.count(), "containers": containers,
                                        "exec_sessions_open": self.exec_stats.exec_open,
                                        "watches_open": self.store.watch_count()})
        conn.send_status(404, f"no admin endpoint {req.method} {req.path}", "NotFound")
