"""Fault switches that tests set through POST /r2e-test/faults.

Counted faults (http_429, http_500, drop_watch, watch_410, exec_close) fire on
the next N matching requests and then disarm. image_pull_fail and
unschedulable stay armed (matching images) until cleared. Any fault may carry
"namespace" to affect only requests (pods) in that namespace, so tests running
in parallel against one server do not trip over each other's faults; such a
fault is armed, listed and cleared apart from the unscoped one of that name.
"""

import re
import threading

COUNTED = ("http_429", "http_500", "drop_watch", "watch_410", "exec_close")
PERSISTENT = ("image_pull_fail", "unschedulable")


class FaultError(ValueError):
    pass


class Faults:
    """Armed faults keyed by (name, namespace or None): tests in different
    namespaces arm and clear their own without touching each other's."""

    def __init__(self):
        self.lock = threading.Lock()
        self.settings = {}  # (name, namespace) -> spec
        self.flips = 0  # watch_410 "alternate" mode: even -> in-stream ERROR, odd -> HTTP 410

    def set(self, body):
        if not isinstance(body, dict):
            raise FaultError("expected a JSON object")
        parsed = {}
        for name, spec in body.items():
            if name not in COUNTED + PERSISTENT:
                raise FaultError(f"unknown fault {name!r}")
            if not isinstance(spec, dict):
                raise FaultError(f"{name}: expected an object")
            spec = dict(spec)
            if name in COUNTED:
                if not isinstance(spec.get("count", 1), int) or spec.get("count", 1) < 0:
                    raise FaultError(f"{name}.count: expected a non-negative integer")
                spec.setdefault("count", 1)
            for key in ("path_regex", "image_regex"):
                if key in spec:
                    try:
                        re.compile(spec[key])
                    except (re.error, TypeError) as e:
                        raise FaultError(f"{name}.{key}: {e}") from e
            if name in PERSISTENT and "image_regex" not in spec:
                raise FaultError(f"{name}: image_regex is required")
            if name == "watch_410" and spec.get("mode", "alternate") not in ("alternate", "http", "event"):
                raise FaultError("watch_410.mode: alternate, http or event")
            if not isinstance(spec.get("namespace", ""), str):
                raise FaultError(f"{name}.namespace: expected a string")
            parsed[(name, spec.get("namespace"))] = spec
        with self.lock:
            self.settings.update(parsed)

    def get(self, namespace=None):
        """{name: spec} of the faults armed for `namespace` (None: the unscoped ones);
        without a namespace, scoped faults are listed under "by_namespace"."""
        with self.lock:
            out, scoped = {}, {}
            for (name, ns), spec in self.settings.items():
                if spec.get("count", 1) <= 0:
                    continue
                if ns == namespace:
                    out[name] = dict(spec)
                elif namespace is None:
                    scoped.setdefault(ns, {})[name] = dict(spec)
            if scoped:
                out["by_namespace"] = scoped
            return out

    def clear(self, namespace=None):
        """Clears every fault, or only those scoped to `namespace`."""
        with self.lock:
            if namespace is None:
                self.settings.clear()
                self.flips = 0
            else:
                for key in [k for k in self.settings if k[1] == namespace]:
                    del self.settings[key]

    def _find(self, name, namespace, target=None):
        for key in ((name, namespace), (name, None)):
            spec = self.settings.get(key)
            if not spec or spec.get("count", 1) <= 0:
                continue
            if key[1] is not None and namespace is None:
                continue
            if target is not None and "path_regex" in spec and not re.search(spec["path_regex"], target):
                continue
            return key, spec
        return None, None

    def take(self, name, namespace=None, target=None):
        """Consumes one count of a counted fault if it matches; returns its spec or None."""
        with self.lock:
            key, spec = self._find(name, namespace, target)
            if spec is None:
                return None
            spec["count"] -= 1
            result = dict(spec)
            if name == "watch_410":
                mode = spec.get("mode", "alternate")
                if mode == "alternate":
                    mode = "event" if self.flips % 2 == 0 else "http"
                    self.flips += 1
                result["mode"] = mode
            if spec["count"] <= 0:
                del self.settings[key]
            return result

    def image_matches(self, name, image, namespace=None):
        with self.lock:
            for key in ((name, namespace), (name, None)):
                spec = self.settings.get(key)
                if spec and re.search(spec["image_regex"], image):
                    return True
            return False
