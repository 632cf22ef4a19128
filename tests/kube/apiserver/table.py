"""Server-side printing: the meta.k8s.io/v1 Table kubectl asks for in `get`."""

import calendar
import time

COLUMNS = [
    ("Name", "string", "name", 0, "Name must be unique within a namespace."),
    ("Ready", "string", "", 0, "The aggregate readiness state of this pod for accepting traffic."),
    ("Status", "string", "", 0, "The aggregate status of the containers in this pod."),
    ("Restarts", "string", "", 0, "The number of times the containers in this pod have been restarted."),
    ("Age", "string", "", 0, "Time since the pod was created."),
    ("IP", "string", "", 1, "IP address allocated to the pod."),
    ("Node", "string", "", 1, "Name of the node the pod is running on."),
]


def wants_table(accept):
    return "as=Table" in (accept or "")


def _age(created):
    try:
        secs = max(0, int(time.time() - calendar.timegm(time.strptime(created, "%Y-%m-%dT%H:%M:%SZ"))))
    except (TypeError, ValueError):
        return "<unknown>"
    if secs < 120:
        return f"{secs}s"
    if secs < 7200:
        return f"{secs // 60}m"
    return f"{secs // 3600}h"


def _status(pod):
    st = pod.get("status") or {}
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    reason = st.get("reason") or st.get("phase", "Unknown")
    for cs in st.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if "waiting" in state and state["waiting"].get("reason"):
            return state["waiting"]["reason"]
        if "terminated" in state:
            t = state["terminated"]
            return t.get("reason") or f"ExitCode:{t.get('exitCode')}"
    return reason


def _row(pod, include):
    st = pod.get("status") or {}
    css = st.get("containerStatuses") or []
    ready = sum(1 for c in css if c.get("ready"))
    cells = [pod["metadata"]["name"], f"{ready}/{len(pod['spec']['containers'])}", _status(pod),
             str(sum(c.get("restartCount", 0) for c in css)),
             _age(pod["metadata"].get("creationTimestamp")),
             st.get("podIP", "<none>"), pod["spec"].get("nodeName", "<none>")]
    row = {"cells": cells}
    if include == "Object":
        row["object"] = dict(pod, kind="Pod", apiVersion="v1")
    elif include != "None":
        row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                         "metadata": pod["metadata"]}
    return row


def table(pods, resource_version, include):
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": [{"name": n, "type": t, "format": f, "priority": p, "description": d}
                                  for n, t, f, p, d in COLUMNS],
            "rows": [_row(p, include) for p in pods]}
