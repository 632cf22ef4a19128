"""Fault switches that tests set through POST /r2e-test/faults.

Counted faults (http_429, http_500, drop_watch, watch_410, exec_close) fire on
the next N matching requests and then disarm. Each may carry "namespace" to
affect only requests in that namespace, so tests running in parallel against
one server do not trip over each other's faults. image_pull_fail and
unschedulable stay armed (matching images) until cleared.
"""

import re
import threading

COUNTED = ("http_429", "http_500", "drop_watch", "watch_410", "exec_close")
PERSISTENT = ("image_pull_fail", "unschedulable")


class FaultError(ValueError):
    pass


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.settings = {}
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
            parsed[name] = spec
        with self.lock:
            self.settings.update(parsed)

    def get(self):
        with self.lock:
            return {k: dict(v) for k, v in self.settings.items() if v.get("count", 1) > 0}

    def clear(self):
        with self.lock:
            self.settings.clear()
            self.flips = 0

    def take(self, name, namespace=None, target=None):
        """Consumes one count of a counted fault if it matches; returns its spec or None."""
        with self.lock:
            spec = self.settings.get(name)
            if not spec or spec.get("count", 0) <= 0:
                return None
            if "namespace" in spec and spec["namespace"] != namespace:
                return None
            if target is not None and "path_regex" in spec and not re.search(spec["path_regex"], target):
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
                del self.settings[name]
            return result

    def image_matches(self, name, image):
        with self.lock:
            spec = self.settings.get(name)
            return bool(spec and re.search(spec["image_regex"], image))
