"""The kubelet of the test server: backs each pod with a Docker container.

Starts containers in the background (POST returns the Pending pod at once),
follows their deaths through Docker's event stream, restarts them per
restartPolicy, enforces activeDeadlineSeconds, and deletes with a grace period.
Containers carry the pod object in a label, so a restarted server finds its
pods again.
"""

import calendar
import json
import sys
import threading
import time

import docker_api
import podspec
from store import now_rfc3339

LBL_POD = "r2e-test-apiserver.pod"
LBL_DIR = "r2e-test-apiserver.dir"
LBL_UID = "r2e-test-apiserver.uid"
LBL_CONTAINER = "r2e-test-apiserver.container"
LBL_OBJECT = "r2e-test-apiserver.object"
LBL_PREFIX = "r2e-test-apiserver.label."


def log(msg):
    print(f"{now_rfc3339()} {msg}", file=sys.stderr, flush=True)


def docker_time(text):
    """Docker's RFC 3339 with nanoseconds -> our seconds-resolution form."""
    if not text or text.startswith("0001-"):
        return now_rfc3339()
    return text.split(".")[0].rstrip("Z") + "Z"


def epoch(rfc3339):
    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ"))


class PodRuntime:
    def __init__(self, ns, name, uid):
        self.ns, self.name, self.uid = ns, name, uid
        self.container_id = None
        self.running = False  # a start has been reported and no death since
        self.final = False  # Succeeded/Failed: no more restarts
        self.deleting = False
        self.restart_count = 0
        self.start_time = None
        self.deadline_timer = None
        self.last_state = None
        self.start_done = threading.Event()  # the delete waits for a start in progress


class Controller:
    def __init__(self, store, faults, state_dir, network):
        self.store = store
        self.faults = faults
        self.dir = state_dir
        self.network = network
        self.lock = threading.Lock()
        self.by_uid = {}
        self.by_cid = {}

    # --- helpers ---

    def _update(self, rt, mutate):
        return self.store.update(rt.ns, rt.name, mutate, uid=rt.uid)

    def _set_status(self, rt, status):
        def mutate(obj):
            obj["status"] = status
        return self._update(rt, mutate)

    def _pod(self, rt):
        return self.store.get(rt.ns, rt.name)

    def _spawn(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()

    # --- creation ---

    def pod_created(self, pod):
        meta = pod["metadata"]
        rt = PodRuntime(meta["namespace"], meta["name"], meta["uid"])
        with self.lock:
            self.by_uid[rt.uid] = rt
        if "nodeName" not in pod["spec"]:
            rt.start_done.set()
            return  # unschedulable: stays Pending, nothing to run
        rt.start_time = pod["status"].get("startTime") or now_rfc3339()
        self._arm_deadline(rt, pod)
        self._spawn(self._start, rt, pod)

    def _arm_deadline(self, rt, pod):
        ads = pod["spec"].get("activeDeadlineSeconds")
        if not ads:
            return
        delay = max(0.0, epoch(rt.start_time) + ads - time.time())
        rt.deadline_timer = threading.Timer(delay, self._deadline, args=(rt,))
        rt.deadline_timer.daemon = True
        rt.deadline_timer.start()

    def _container_config(self, pod):
        meta, spec = pod["metadata"], pod["spec"]
        c = spec["containers"][0]
        labels = {LBL_POD: f"{meta['namespace']}/{meta['name']}", LBL_DIR: self.dir,
                  LBL_UID: meta["uid"], LBL_CONTAINER: c["name"],
                  LBL_OBJECT: json.dumps({"metadata": meta, "spec": spec}, separators=(",", ":"))}
        for k, v in (meta.get("labels") or {}).items():
            labels[LBL_PREFIX + k] = str(v)
        env = []
        for e in c.get("env") or []:
            if "value" in e or "valueFrom" not in e:
                env.append(f"{e['name']}={e.get('value', '')}")
                continue
            path = ((e.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
            values = {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"],
                      "metadata.uid": meta["uid"], "spec.nodeName": podspec.NODE_NAME,
                      "status.podIP": "127.0.0.1", "status.hostIP": "127.0.0.1"}
            if path not in values:
                raise ValueError(f"env {e['name']}: only fieldRef to {sorted(values)} is supported")
            env.append(f"{e['name']}={values[path]}")
        host = {"NetworkMode": self.network, "PidsLimit": 512}
        limits = (c.get("resources") or {}).get("limits") or {}
        if "memory" in limits:
            host["Memory"] = int(podspec.parse_quantity(limits["memory"]))
        if "cpu" in limits:
            host["NanoCpus"] = int(podspec.parse_quantity(limits["cpu"]) * 1e9)
        config = {"Image": c["image"], "Labels": labels, "Env": env, "HostConfig": host,
                  "Hostname": meta["name"][:63].rstrip(".-"), "Tty": bool(c.get("tty")),
                  "OpenStdin": bool(c.get("stdin")), "StdinOnce": bool(c.get("stdinOnce"))}
        if c.get("workingDir"):
            config["WorkingDir"] = c["workingDir"]
        if c.get("command"):
            # Kubernetes: command replaces the entrypoint and drops the image's CMD.
            config["Entrypoint"] = c["command"]
            config["Cmd"] = c.get("args") or []
        elif c.get("args"):
            config["Cmd"] = c["args"]
        sc = c.get("securityContext") or spec.get("securityContext") or {}
        if "runAsUser" in sc:
            config["User"] = str(sc["runAsUser"]) + (f":{sc['runAsGroup']}" if "runAsGroup" in sc else "")
        return config

    def _waiting(self, rt, pod, reason, message):
        self._set_status(rt, podspec.waiting_status(pod, reason, message, rt.restart_count,
                                                    rt.last_state, rt.start_time))

    def _start(self, rt, pod):
        image = pod["spec"]["containers"][0]["image"]
        try:
            if (self.faults.image_matches("image_pull_fail", image, rt.ns)
                    or not docker_api.image_exists(image)):
                msg = (f'Failed to pull image "{image}": rpc error: code = NotFound desc = '
                       f'failed to pull and unpack image "{image}": not found')
                self._waiting(rt, pod, "ErrImagePull", msg)
                time.sleep(1.0)
                if not rt.deleting:
                    self._waiting(rt, pod, "ImagePullBackOff", f'Back-off pulling image "{image}"')
                return
            try:
                config = self._container_config(pod)
            except ValueError as e:
                self._waiting(rt, pod, "CreateContainerConfigError", str(e))
                return
            name = f"r2e-apiserver-{rt.ns}-{rt.name}"[:200] + "-" + rt.uid[:8]
            try:
                cid = docker_api.create_container(name, config)
            except docker_api.DockerError as e:
                reason = "InvalidImageName" if "invalid reference" in e.message else "CreateContainerError"
                self._waiting(rt, pod, reason, e.message)
                return
            with self.lock:
                rt.container_id = cid
                self.by_cid[cid] = rt
                deleting, final = rt.deleting, rt.final
            if deleting:
                return  # the delete thread removes it
            if final:  # the deadline passed while we were creating it
                docker_api.remove_container(cid)
                return
            self._run_container(rt)
        except Exception as e:  # keep the server alive; surface the problem on the pod
            log(f"start {rt.ns}/{rt.name}: {e!r}")
            pod = self._pod(rt)
            if pod:
                self._waiting(rt, pod, "CreateContainerError", str(e))
        finally:
            rt.start_done.set()

    def _run_container(self, rt):
        try:
            docker_api.start_container(rt.container_id)
        except docker_api.DockerError as e:
            pod = self._pod(rt)
            if pod:
                self._waiting(rt, pod, "RunContainerError", e.message)
            return
        self._observe(rt)

    def _observe(self, rt):
        """Reports the container's current state on the pod (after a start or on resync)."""
        try:
            info = docker_api.inspect_container(rt.container_id)
        except docker_api.DockerError:
            return
        state = info["State"]
        if state.get("Running"):
            with self.lock:
                if rt.deleting or rt.final or rt.running:
                    return
                rt.running = True
                pod = self._pod(rt)
                if pod:
                    self._set_status(rt, podspec.running_status(
                        pod, rt.container_id, docker_time(state.get("StartedAt")),
                        rt.restart_count, rt.last_state, rt.start_time))
        else:
            self._exited(rt, state)

    # --- deaths and restarts ---

    def container_died(self, cid):
        with self.lock:
            rt = self.by_cid.get(cid)
        if rt is None:
            return
        try:
            state = docker_api.inspect_container(cid)["State"]
        except docker_api.DockerError:
            return
        if not state.get("Running"):
            self._exited(rt, state)

    def _exited(self, rt, state):
        code = int(state.get("ExitCode", 0))
        with self.lock:
            if rt.deleting or rt.final:
                return
            pod = self._pod(rt)
            if pod is None:
                return
            policy = pod["spec"].get("restartPolicy", "Always")
            started, finished = docker_time(state.get("StartedAt")), docker_time(state.get("FinishedAt"))
            reason = "Completed" if code == 0 else ("OOMKilled" if state.get("OOMKilled") else "Error")
            term = podspec.terminated_state(code, reason, started, finished, rt.container_id)
            rt.running = False
            if policy == "Never" or (policy == "OnFailure" and code == 0):
                rt.final = True
                self._set_status(rt, podspec.finished_status(
                    pod, "Succeeded" if code == 0 else "Failed", term, rt.container_id,
                    rt.restart_count, start_time=rt.start_time))
                self._cancel_deadline(rt)
                return
            rt.restart_count += 1
            rt.last_state = term
            backoff = min(10.0, 0.5 * 2 ** (rt.restart_count - 1))
            self._set_status(rt, podspec.waiting_status(
                pod, "CrashLoopBackOff",
                f"back-off {backoff:g}s restarting failed container={pod['spec']['containers'][0]['name']} "
                f"pod={rt.name}_{rt.ns}({rt.uid})", rt.restart_count, term, rt.start_time))
        t = threading.Timer(backoff, self._restart, args=(rt,))
        t.daemon = True
        t.start()

    def _restart(self, rt):
        if rt.deleting or rt.final:
            return
        self._run_container(rt)

    # --- activeDeadlineSeconds ---

    def _cancel_deadline(self, rt):
        if rt.deadline_timer:
            rt.deadline_timer.cancel()

    def _deadline(self, rt):
        with self.lock:
            if rt.deleting or rt.final:
                return
            rt.final = True
            rt.running = False
            cid = rt.container_id
        if cid:
            docker_api.remove_container(cid)
        pod = self._pod(rt)
        if pod is None:
            return
        now = now_rfc3339()
        term = podspec.terminated_state(137, "Error", rt.start_time, now, cid)
        log(f"pod {rt.ns}/{rt.name}: DeadlineExceeded")
        self._set_status(rt, podspec.finished_status(
            pod, "Failed", term, cid, rt.restart_count, "DeadlineExceeded",
            "Pod was active on the node longer than the specified deadline", rt.start_time))

    # --- deletion ---

    def delete_pod(self, ns, name, grace):
        """Marks the pod deleted and removes it in the background; returns the marked object."""
        pod = self.store.get(ns, name)
        if pod is None:
            return None
        uid = pod["metadata"]["uid"]
        with self.lock:
            rt = self.by_uid.get(uid)
        if grace is None:
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        grace = max(0, int(grace))
        if rt is None or rt.container_id is None or rt.final:
            grace = 0  # nothing running: the kubelet would remove it at once
        already = pod["metadata"].get("deletionTimestamp") is not None

        def mark(obj):
            meta = obj["metadata"]
            if meta.get("deletionTimestamp") and meta.get("deletionGracePeriodSeconds", 0) <= grace:
                return False
            meta["deletionTimestamp"] = now_rfc3339(time.time() + grace)
            meta["deletionGracePeriodSeconds"] = grace
        marked = self.store.update(ns, name, mark, uid=uid)
        if marked is None:
            return None
        if rt is None:
            rt = PodRuntime(ns, name, uid)
            rt.start_done.set()
        with self.lock:
            first = not rt.deleting
            rt.deleting = True
        if first or (already and grace == 0):
            self._spawn(self._finish_delete, rt, grace)
        return marked

    def _finish_delete(self, rt, grace):
        self._cancel_deadline(rt)
        rt.start_done.wait(120.0)  # a start in progress records its container id first
        cid = rt.container_id
        try:
            if cid:
                if grace > 0:
                    docker_api.stop_container(cid, grace)
                docker_api.remove_container(cid)
        except docker_api.DockerError as e:
            log(f"delete {rt.ns}/{rt.name}: {e}")
        with self.lock:
            self.by_uid.pop(rt.uid, None)
            self.by_cid.pop(rt.container_id, None)
        self.store.remove(rt.ns, rt.name, uid=rt.uid)

    # --- restart of the server: find our pods again ---

    def rediscover(self):
        found = 0
        for c in docker_api.list_containers([f"{LBL_DIR}={self.dir}"]):
            labels = c.get("Labels") or {}
            try:
                obj = json.loads(labels[LBL_OBJECT])
            except (KeyError, ValueError):
                continue
            pod = {"kind": "Pod", "apiVersion": "v1", "metadata": obj["metadata"], "spec": obj["spec"]}
            meta = pod["metadata"]
            meta.pop("deletionTimestamp", None)
            rt = PodRuntime(meta["namespace"], meta["name"], meta["uid"])
            rt.container_id = c["Id"]
            rt.start_done.set()
            try:
                info = docker_api.inspect_container(c["Id"])
            except docker_api.DockerError:
                continue
            rt.start_time = docker_time(info.get("Created"))
            rt.restart_count = int(info.get("RestartCount", 0))
            pod["status"] = podspec.waiting_status(pod, "ContainerCreating", None, start_time=rt.start_time)
            if self.store.add(pod) is None:
                continue
            with self.lock:
                self.by_uid[rt.uid] = rt
                self.by_cid[rt.container_id] = rt
            self._arm_deadline(rt, pod)
            self._observe(rt)
            found += 1
        return found

    def resync(self):
        """After the event stream broke: catch deaths we may have missed."""
        with self.lock:
            rts = [rt for rt in self.by_uid.values() if rt.container_id and rt.running]
        for rt in rts:
            try:
                state = docker_api.inspect_container(rt.container_id)["State"]
            except docker_api.DockerError:
                continue
            if not state.get("Running"):
                self._exited(rt, state)

    def follow_events(self, stop):
        """Runs in a thread: feeds container deaths to the pods until `stop` is set."""
        while not stop.is_set():
            try:
                _, events = docker_api.events([f"{LBL_DIR}={self.dir}"])
                self.resync()
                for ev in events:
                    if ev.get("Action") == "die":
                        self._spawn(self.container_died, ev.get("id") or ev.get("Actor", {}).get("ID"))
            except Exception as e:  # the daemon restarted or the stream broke: reconnect
                log(f"docker events: {e!r}")
            stop.wait(1.0)

    def container_count(self):
        return len(docker_api.list_containers([f"{LBL_DIR}={self.dir}"]))

    def container_for_exec(self, pod):
        """The container id an exec goes to, or None when the pod is not running."""
        with self.lock:
            rt = self.by_uid.get(pod["metadata"]["uid"])
            if rt is None or not rt.running or rt.deleting:
                return None
            return rt.container_id

    def shutdown(self):
        with self.lock:
            for rt in self.by_uid.values():
                self._cancel_deadline(rt)
