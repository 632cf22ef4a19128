"""Pod objects: validation, defaulting, status shapes and resource quantities.

Only what a pod with one container needs; everything else in a submitted pod
is kept as sent (the server stores objects, it does not prune unknown fields).
"""

import re
import uuid

from store import now_rfc3339

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NODE_NAME = "r2e-test-node"


class Invalid(Exception):
    """422 Invalid with field causes."""

    def __init__(self, name, causes):
        self.name = name
        self.causes = causes  # [(field, reason, message)]
        text = ", ".join(f"{f}: {m}" for f, _, m in causes)
        super().__init__(f'Pod "{name}" is invalid: {text}')

    def details(self):
        return {"name": self.name, "kind": "Pod",
                "causes": [{"reason": r, "message": m, "field": f} for f, r, m in self.causes]}


class BadRequest(Exception):
    pass


_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
           "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "P": 1e15, "E": 1e18}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)$")


def parse_quantity(text):
    m = _QUANTITY.match(str(text).strip())
    if not m:
        raise BadRequest(f"quantities must match the regular expression "
                         f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}")
    number = float(m.group(1) + (m.group(2) or ""))
    return number * _SUFFIX[m.group(3)]


def validate(pod, ns):
    """Checks a submitted pod; raises Invalid or BadRequest."""
    if not isinstance(pod, dict):
        raise BadRequest("the request body must be a Pod object")
    if pod.get("kind", "Pod") != "Pod" or pod.get("apiVersion", "v1") != "v1":
        raise BadRequest(f"the API version in the data ({pod.get('apiVersion')}) and kind "
                         f"({pod.get('kind')}) do not match /v1, Kind=Pod")
    meta = pod.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise BadRequest("metadata must be an object")
    if meta.get("namespace") not in (None, "", ns):
        raise BadRequest("the namespace of the provided object does not match the namespace "
                         "sent on the request")
    name = meta.get("name") or ""
    causes = []
    if not name and not meta.get("generateName"):
        causes.append(("metadata.name", "FieldValueRequired", "Required value: name or generateName is required"))
    elif name and (len(name) > 253 or not DNS1123_SUBDOMAIN.match(name)):
        causes.append(("metadata.name", "FieldValueInvalid",
                       f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of '
                       "lower case alphanumeric characters, '-' or '.'"))
    spec = pod.get("spec")
    containers = spec.get("containers") if isinstance(spec, dict) else None
    if not containers or not isinstance(containers, list):
        causes.append(("spec.containers", "FieldValueRequired", "Required value"))
    else:
        if len(containers) > 1:
            causes.append(("spec.containers", "FieldValueNotSupported",
                           "Unsupported value: the r2e test API server runs one container per pod"))
        for i, c in enumerate(containers):
            if not isinstance(c, dict):
                causes.append((f"spec.containers[{i}]", "FieldValueInvalid", "Invalid value"))
                continue
            if not c.get("name"):
                causes.append((f"spec.containers[{i}].name", "FieldValueRequired", "Required value"))
            elif not DNS1123_LABEL.match(c["name"]):
                causes.append((f"spec.containers[{i}].name", "FieldValueInvalid",
                               f'Invalid value: "{c["name"]}": a lowercase RFC 1123 label'))
            if not c.get("image"):
                causes.append((f"spec.containers[{i}].image", "FieldValueRequired", "Required value"))
            for kind in ("limits", "requests"):
                for res, q in ((c.get("resources") or {}).get(kind) or {}).items():
                    parse_quantity(q)
    ads = spec.get("activeDeadlineSeconds") if isinstance(spec, dict) else None
    if ads is not None and (not isinstance(ads, int) or ads <= 0):
        causes.append(("spec.activeDeadlineSeconds", "FieldValueInvalid",
                       f"Invalid value: {ads}: must be greater than or equal to 1"))
    if isinstance(spec, dict) and spec.get("restartPolicy", "Always") not in ("Always", "OnFailure", "Never"):
        causes.append(("spec.restartPolicy", "FieldValueNotSupported",
                       f'Unsupported value: "{spec.get("restartPolicy")}"'))
    if causes:
        raise Invalid(name or meta.get("generateName", ""), causes)


def default(pod, ns, name, unschedulable):
    """Fills server-set fields of a validated pod (metadata, spec defaults, status)."""
    meta = pod["metadata"]
    meta["name"] = name
    meta["namespace"] = ns
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now_rfc3339()
    meta.pop("resourceVersion", None)
    meta.pop("deletionTimestamp", None)
    spec = pod["spec"]
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    for c in spec["containers"]:
        image = c["image"]
        tag = image.rsplit("/", 1)[-1]
        latest = ":" not in tag or tag.endswith(":latest")
        c.setdefault("imagePullPolicy", "Always" if latest and "@" not in tag else "IfNotPresent")
        c.setdefault("resources", {})
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
    if not unschedulable:
        spec["nodeName"] = NODE_NAME
    pod.pop("status", None)
    pod["kind"] = "Pod"
    pod["apiVersion"] = "v1"
    pod["status"] = pending_status(pod, unschedulable)
    return pod


def qos_class(pod):
    res = [c.get("resources") or {} for c in pod["spec"]["containers"]]
    if all(not r.get("limits") and not r.get("requests") for r in res):
        return "BestEffort"
    for r in res:
        lim = r.get("limits") or {}
        req = r.get("requests") or lim
        if not lim.get("cpu") or not lim.get("memory") or req != lim:
            return "Burstable"
    return "Guaranteed"


def condition(ctype, status, reason=None, message=None):
    c = {"type": ctype, "status": status, "lastProbeTime": None,
         "lastTransitionTime": now_rfc3339()}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def container_status(c, state, ready=False, restart_count=0, container_id=None, last_state=None):
    st = {"name": c["name"], "state": state, "lastState": last_state or {}, "ready": ready,
          "restartCount": restart_count, "image": c["image"], "imageID": "",
          "started": "running" in state}
    if container_id:
        st["containerID"] = "docker://" + container_id
    return st


def pending_status(pod, unschedulable):
    if unschedulable:
        return {"phase": "Pending", "qosClass": qos_class(pod),
                "conditions": [condition("PodScheduled", "False", "Unschedulable",
                                         "0/1 nodes are available: 1 node(s) didn't match "
                                         "Pod's node affinity/selector.")]}
    return waiting_status(pod, "ContainerCreating", None)


def waiting_status(pod, reason, message, restart_count=0, last_state=None, start_time=None):
    c = pod["spec"]["containers"][0]
    waiting = {"reason": reason}
    if message:
        waiting["message"] = message
    not_ready = "containers with unready status: [" + c["name"] + "]"
    status = {"phase": "Pending" if not restart_count else "Running",
              "conditions": [condition("Initialized", "True"),
                             condition("Ready", "False", "ContainersNotReady", not_ready),
                             condition("ContainersReady", "False", "ContainersNotReady", not_ready),
                             condition("PodScheduled", "True")],
              "hostIP": "127.0.0.1", "startTime": start_time or now_rfc3339(),
              "containerStatuses": [container_status(c, {"waiting": waiting},
                                                     restart_count=restart_count,
                                                     last_state=last_state)],
              "qosClass": qos_class(pod)}
    return status


def running_status(pod, container_id, started_at, restart_count=0, last_state=None, start_time=None):
    c = pod["spec"]["containers"][0]
    return {"phase": "Running",
            "conditions": [condition("Initialized", "True"), condition("Ready", "True"),
                           condition("ContainersReady", "True"), condition("PodScheduled", "True")],
            "hostIP": "127.0.0.1", "podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}],
            "startTime": start_time or started_at,
            "containerStatuses": [container_status(c, {"running": {"startedAt": started_at}}, True,
                                                   restart_count, container_id, last_state)],
            "qosClass": qos_class(pod)}


def terminated_state(exit_code, reason, started_at, finished_at, container_id=None, message=None):
    t = {"exitCode": exit_code, "reason": reason, "startedAt": started_at, "finishedAt": finished_at}
    if container_id:
        t["containerID"] = "docker://" + container_id
    if message:
        t["message"] = message
    return {"terminated": t}


def finished_status(pod, phase, state, container_id, restart_count=0, reason=None, message=None,
                    start_time=None):
    c = pod["spec"]["containers"][0]
    not_ready = "PodCompleted" if phase == "Succeeded" else "PodFailed"
    status = {"phase": phase,
              "conditions": [condition("Initialized", "True", not_ready if phase == "Succeeded" else None),
                             condition("Ready", "False", not_ready),
                             condition("ContainersReady", "False", not_ready),
                             condition("PodScheduled", "True")],
              "hostIP": "127.0.0.1", "startTime": start_time or now_rfc3339(),
              "containerStatuses": [container_status(c, state, False, restart_count, container_id)],
              "qosClass": qos_class(pod)}
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    return status
