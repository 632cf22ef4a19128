"""Pod watches: chunked JSON event lines with bookmarks, timeouts and 410s.

Events are cut into chunks at random points now and then, so clients that
assume one event per chunk (or per read) break here rather than in production.
"""

import json
import random
import time

from httpconn import ClientGone, status_object


def _line(etype, obj):
    return json.dumps({"type": etype, "object": obj}, separators=(",", ":")).encode() + b"\n"


def expired(since, current):
    return status_object(410, f"too old resource version: {since} ({current})", "Expired")


class Watch:
    def __init__(self, conn, store, pred, since, timeout, bookmarks, bookmark_interval, seed,
                 transform=None):
        self.conn = conn
        self.store = store
        self.pred = pred
        self.since = since
        self.timeout = timeout
        self.bookmarks = bookmarks
        self.bookmark_interval = bookmark_interval
        self.rng = random.Random(seed)
        self.batches = 0
        self.transform = transform or (lambda obj: obj)  # e.g. a Table row for kubectl get -w

    def send(self, lines):
        """Writes event lines; every third batch is split at a random point inside it."""
        data = b"".join(lines)
        if not data:
            return
        self.batches += 1
        if len(data) > 2 and self.batches % 3 == 0:
            cut = self.rng.randrange(1, len(data) - 1)
            self.conn.send_chunk(data[:cut])
            self.conn.send_chunk(data[cut:])
        else:
            self.conn.send_chunk(data)

    def convert(self, etype, obj, old):
        """Maps a store event through this watch's filter (Kubernetes' rules for selectors)."""
        new_match = self.pred(obj)
        if etype != "MODIFIED":
            return etype if new_match else None
        old_match = self.pred(old)
        if new_match and old_match:
            return "MODIFIED"
        if new_match:
            return "ADDED"
        if old_match:
            return "DELETED"
        return None

    def run(self, drop_after_initial, error_410):
        """Serves the stream; returns "dropped" when it cut the connection on purpose."""
        conn, store = self.conn, self.store
        watcher = store.register()
        try:
            start = store.snapshot_or_expired(self.since)
            conn.start_chunked()
            if error_410 or start is None:
                self.send([_line("ERROR", expired(self.since, store.rv))])
                conn.end_chunked()
                return "expired"
            initial, pos = start
            self.send([_line(t, self.transform(o)) for t, o, _ in initial if self.pred(o)])
            if drop_after_initial:
                conn.abort()
                return "dropped"
            now = time.monotonic()
            deadline = now + self.timeout
            next_bookmark = now + self.bookmark_interval if self.bookmarks else None
            while True:
                watcher.drain()
                events, current = store.events_after(pos)
                if events is None:
                    self.send([_line("ERROR", expired(pos, current))])
                    conn.end_chunked()
                    return "expired"
                lines = []
                for rv, etype, obj, old in events:
                    out = self.convert(etype, obj, old)
                    if out:
                        lines.append(_line(out, self.transform(obj)))
                    pos = rv
                self.send(lines)
                now = time.monotonic()
                if now >= deadline:
                    conn.end_chunked()
                    return "timeout"
                if next_bookmark is not None and now >= next_bookmark:
                    pos = max(pos, current)
                    self.send([_line("BOOKMARK", {"kind": "Pod", "apiVersion": "v1",
                                                  "metadata": {"resourceVersion": str(pos),
                                                               "creationTimestamp": None}})])
                    next_bookmark = now + self.bookmark_interval
                wake = deadline if next_bookmark is None else min(deadline, next_bookmark)
                conn.wait_readable([watcher.rfd], max(0.0, wake - time.monotonic()))
        except ClientGone:
            return "client"
        finally:
            store.unregister(watcher)
