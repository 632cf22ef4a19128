"""The pod store: objects, the global resourceVersion, the event history, watchers.

Every change bumps one global resourceVersion (as etcd's revision does) and
appends an event to a bounded history. A watch from resourceVersion R replays
the history after R; R older than the history window is 410 Expired. Watchers
sleep on a per-watcher pipe that `publish` pokes, so a watch thread can also
select() on its client socket and notice a disconnect at once.
"""

import bisect
import copy
import os
import threading
import time

HISTORY_LIMIT = 2000


def now_rfc3339(t=None):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if t is None else t))


class Watcher:
    def __init__(self):
        self.rfd, self.wfd = os.pipe()
        os.set_blocking(self.wfd, False)
        os.set_blocking(self.rfd, False)

    def poke(self):
        try:
            os.write(self.wfd, b"x")
        except BlockingIOError:
            pass  # already poked

    def drain(self):
        try:
            while os.read(self.rfd, 4096):
                pass
        except BlockingIOError:
            pass

    def close(self):
        os.close(self.rfd)
        os.close(self.wfd)


class Store:
    def __init__(self, initial_rv):
        self.lock = threading.RLock()
        self.rv = initial_rv
        self.window_start = initial_rv  # every event with rv > window_start is in history
        self.objects = {}  # (ns, name) -> pod dict (owned by the store; callers get copies)
        self.history = []  # (rv, type, obj, old_obj)
        self.history_rvs = []
        self.watchers = set()

    # --- reads ---

    def get(self, ns, name):
        with self.lock:
            obj = self.objects.get((ns, name))
            return copy.deepcopy(obj) if obj else None

    def list(self, ns, pred):
        with self.lock:
            items = [copy.deepcopy(o) for (n, _), o in sorted(self.objects.items())
                     if (ns is None or n == ns) and pred(o)]
            return items, self.rv

    def count(self):
        with self.lock:
            return len(self.objects)

    # --- writes: each returns a copy of the stored object ---

    def _record(self, etype, obj, old):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.history.append((self.rv, etype, copy.deepcopy(obj), old))
        self.history_rvs.append(self.rv)
        if len(self.history) > HISTORY_LIMIT:
            drop = len(self.history) - HISTORY_LIMIT
            self.window_start = self.history_rvs[drop - 1]
            del self.history[:drop]
            del self.history_rvs[:drop]
        for w in self.watchers:
            w.poke()
        return copy.deepcopy(obj)

    def add(self, obj):
        """Adds a new object; returns None if the name is taken."""
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        with self.lock:
            if key in self.objects:
                return None
            self.objects[key] = obj
            return self._record("ADDED", obj, None)

    def update(self, ns, name, mutate, uid=None):
        """Applies mutate(obj) under the lock; returns the new copy (None if gone).

        mutate may return False to signal "no change" (no event, no new version).
        """
        with self.lock:
            obj = self.objects.get((ns, name))
            if obj is None or (uid and obj["metadata"].get("uid") != uid):
                return None
            old = copy.deepcopy(obj)
            if mutate(obj) is False:
                return copy.deepcopy(obj)
            return self._record("MODIFIED", obj, old)

    def remove(self, ns, name, uid=None):
        with self.lock:
            obj = self.objects.get((ns, name))
            if obj is None or (uid and obj["metadata"].get("uid") != uid):
                return None
            del self.objects[(ns, name)]
            return self._record("DELETED", obj, copy.deepcopy(obj))

    # --- watch support ---

    def register(self):
        w = Watcher()
        with self.lock:
            self.watchers.add(w)
        return w

    def unregister(self, w):
        with self.lock:
            self.watchers.discard(w)
        w.close()

    def watch_count(self):
        with self.lock:
            return len(self.watchers)

    def snapshot_or_expired(self, since):
        """For a watch starting at `since` (an int, or None for "now with ADDED for all").

        Returns (initial_events, position) or None when `since` is too old.
        """
        with self.lock:
            if since is None:
                events = [("ADDED", copy.deepcopy(o), None) for _, o in sorted(self.objects.items())]
                return events, self.rv
            if since < self.window_start:
                return None
            return [], min(since, self.rv)

    def events_after(self, position):
        """Events with rv > position: list of (rv, type, obj, old), and the current rv."""
        with self.lock:
            i = bisect.bisect_right(self.history_rvs, position)
            if i == 0 and position < self.window_start:
                return None, self.rv  # compacted away while the watch was slow
            return list(self.history[i:]), self.rv
