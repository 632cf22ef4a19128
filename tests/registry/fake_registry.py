#!/usr/bin/env python3
"""A fake registry (Docker registry v2 API, read side) for the faults a real
registry cannot be made to show. Serves the single image of an OCI image
layout under several repository names, one behaviour each:

  fake/image         correct, no authentication
  bearer/image       401 with a Bearer challenge; GET /token gives "t0k3n"
                     only with Basic r2e:r2e-secret
  ratelimited/image  the first 2 requests of each path: 429, Retry-After: 1
  flaky/image        the first request of each path: 503
  corrupt/image      layer blobs with one byte flipped
  truncated/image    layer blobs cut in half (Content-Length says the whole)
  armonly/image      `latest` is an image index with only linux/arm64
  missing/image      manifests: 404 MANIFEST_UNKNOWN
  redirect/image     blobs: 307 to /_storage/<digest>, which refuses requests
                     that carry an Authorization header

GET /_stats gives request counts per path.

    fake_registry.py --port 0 --port-file F --blobs-from OCI_LAYOUT_DIR [--verbose]
"""

import argparse
import base64
import collections
import hashlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("fake", "bearer", "ratelimited", "flaky", "corrupt", "truncated", "armonly", "missing", "redirect")
TOKEN = "t0k3n"
CREDENTIALS = "r2e:r2e-secret"


class Image(object):
    def __init__(self, layout):
        self.layout = layout
        with open(os.path.join(layout, "index.json")) as f:
            index = json.load(f)
        descriptor = index["manifests"][0]
        self.manifest_digest = descriptor["digest"]
        self.manifest = self.blob(self.manifest_digest)
        manifest = json.loads(self.manifest)
        self.manifest_type = manifest.get("mediaType", "application/vnd.oci.image.manifest.v1+json")
        self.layers = set(layer["digest"] for layer in manifest["layers"])
        arm = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [{"mediaType": self.manifest_type, "digest": self.manifest_digest,
                              "size": len(self.manifest), "platform": {"os": "linux", "architecture": "arm64"}}]}
        self.arm_index = json.dumps(arm).encode()

    def blob(self, digest):
        path = os.path.join(self.layout, "blobs", "sha256", digest.split(":", 1)[1])
        if not digest.startswith("sha256:") or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    image = None
    counts = collections.Counter()
    lock = threading.Lock()
    verbose = False

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("fake_registry: " + (fmt % args) + "\n")

    def reply(self, status, body=b"", headers=None, length=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message, headers=None):
        body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
        self.reply(status, body, dict({"Content-Type": "application/json"}, **(headers or {})))

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        with self.lock:
            self.counts[path] += 1
            seen = self.counts[path]
        if path == "/_stats":
            return self.reply(200, json.dumps(self.counts).encode(), {"Content-Type": "application/json"})
        if path == "/v2/" or path == "/v2":
            return self.reply(200, b"{}", {"Docker-Distribution-API-Version": "registry/2.0"})
        if path == "/token":
            auth = self.headers.get("Authorization", "")
            if auth != "Basic " + base64.b64encode(CREDENTIALS.encode()).decode():
                return self.error(401, "UNAUTHORIZED", "bad credentials")
            return self.reply(200, json.dumps({"token": TOKEN}).encode(), {"Content-Type": "application/json"})
        if path.startswith("/_storage/"):
            if "Authorization" in self.headers:
                return self.error(400, "BAD_REQUEST", "storage takes no Authorization header")
            data = self.image.blob(path[len("/_storage/"):])
            return self.reply(200, data) if data is not None else self.error(404, "BLOB_UNKNOWN", "no blob")
        parts = path.split("/")
        # /v2/<mode>/image/(manifests|blobs)/<ref>
        if len(parts) != 6 or parts[1] != "v2" or parts[3] != "image" or parts[2] not in MODES:
            return self.error(404, "NAME_UNKNOWN", "repository name not known to registry")
        mode, kind, ref = parts[2], parts[4], parts[5]
        if mode == "bearer" and self.headers.get("Authorization", "") != "Bearer " + TOKEN:
            host = self.headers.get("Host", "127.0.0.1")
            challenge = 'Bearer realm="http://%s/token",service="fake-registry",scope="repository:bearer/image:pull"' % host
            return self.error(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": challenge})
        if mode == "ratelimited" and seen <= 2:
            return self.error(429, "TOOMANYREQUESTS", "slow down", {"Retry-After": "1"})
        if mode == "flaky" and seen <= 1:
            return self.error(503, "UNAVAILABLE", "try again")
        if kind == "manifests":
            if mode == "missing":
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            if mode == "armonly" and ref == "latest":
                digest = "sha256:" + hashlib.sha256(self.image.arm_index).hexdigest()
                return self.reply(200, self.image.arm_index, {"Content-Type": "application/vnd.oci.image.index.v1+json",
                                                              "Docker-Content-Digest": digest})
            if ref not in ("latest", self.image.manifest_digest):
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            return self.reply(200, self.image.manifest, {"Content-Type": self.image.manifest_type,
                                                         "Docker-Content-Digest": self.image.manifest_digest})
        if kind != "blobs":
            return self.error(404, "UNSUPPORTED", "unsupported")
        data = self.image.blob(ref)
        if data is None:
            return self.error(404, "BLOB_UNKNOWN", "blob unknown")
        if mode == "redirect":
            return self.reply(307, b"", {"Location": "/_storage/" + ref})
        if ref in self.image.layers and mode == "corrupt":
            data = data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF]) + data[len(data) // 2 + 1:]
        if ref in self.image.layers and mode == "truncated":
            self.reply(200, data[:len(data) // 2], length=len(data))
            self.close_connection = True
            return
        return self.reply(200, data, {"Content-Type": "application/octet-stream", "Docker-Content-Digest": ref})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--blobs-from", required=True)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    Handler.image = Image(args.blobs_from)
    Handler.verbose = args.verbose
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
