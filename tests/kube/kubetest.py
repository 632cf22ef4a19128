"""Raw-socket helpers for the test API server's own tests (no client library).

HTTPS requests with the kubeconfig's token, a chunked-stream reader that keeps
chunk boundaries visible, and a websocket client (masking, fragmentation,
control frames) for exec.
"""

import base64
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import time
import urllib.parse

SKIP = 77
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "test-apiserver.sh")
IMAGE = "r2e-test/base:bookworm"


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def docker_reachable():
    sys.path.insert(0, os.path.join(ROOT, "tests", "kube", "apiserver"))
    import docker_api
    try:
        docker_api.ping()
    except docker_api.DockerError:
        return False
    return docker_api.image_exists(IMAGE)


def kubeconfig_or_skip(state_dir):
    path = os.path.join(state_dir, "kubeconfig")
    if not os.path.exists(path):
        skip(f"{path} does not exist: the kube_apiserver fixture did not start the server "
             "(Docker not reachable?)")
    return path


class Server:
    """A test server instance in `state_dir` (started by the test or by the fixture)."""

    def __init__(self, state_dir):
        self.dir = os.path.abspath(state_dir)

    def start(self, *server_flags):
        out = subprocess.run([SCRIPT, "start", self.dir, "--", *server_flags],
                             capture_output=True, text=True, timeout=60)
        if out.returncode == 3:
            skip("Docker is not reachable")
        if out.returncode != 0:
            raise RuntimeError(f"start failed: {out.stderr}")
        return self

    def stop(self):
        subprocess.run([SCRIPT, "stop", self.dir], capture_output=True, timeout=120)

    def kill(self):
        """Ends the server process only (containers stay): a crash or restart."""
        with open(os.path.join(self.dir, "pid")) as f:
            pid = int(f.read())
        os.kill(pid, 15)
        for _ in range(200):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)

    @property
    def port(self):
        with open(os.path.join(self.dir, "port")) as f:
            return int(f.read())

    @property
    def token(self):
        with open(os.path.join(self.dir, "token")) as f:
            return f.read().strip()

    def tls(self, client_cert=False):
        ctx = ssl.create_default_context(cafile=os.path.join(self.dir, "ca.crt"))
        if client_cert:
            ctx.load_cert_chain(os.path.join(self.dir, "client.crt"), os.path.join(self.dir, "client.key"))
        return ctx

    def connect(self, client_cert=False):
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.tls(client_cert).wrap_socket(raw, server_hostname="127.0.0.1")

    def request(self, method, path, body=None, token=True, headers=None, client_cert=False):
        """One request on a fresh connection; returns (status, headers, parsed JSON or bytes)."""
        sock = self.connect(client_cert)
        try:
            send_request(sock, method, path, body, self.token if token is True else token, headers)
            status, hdrs, rest = read_head(sock)
            data = read_body(sock, hdrs, rest)
        finally:
            sock.close()
        if hdrs.get("content-type", "").startswith("application/json"):
            return status, hdrs, json.loads(data)
        return status, hdrs, data

    def ok(self, method, path, body=None, expect=(200, 201)):
        status, _, data = self.request(method, path, body)
        if status not in expect:
            raise AssertionError(f"{method} {path}: {status} {data}")
        return data


def send_request(sock, method, path, body=None, token=None, headers=None):
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(data)}",
             "Accept: application/json"]
    if body is not None:
        lines.append("Content-Type: application/json")
    if token:
        lines.append(f"Authorization: Bearer {token}")
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)


def _recv(sock):
    try:
        return sock.recv(65536)
    except (ssl.SSLEOFError, ConnectionResetError):
        return b""


def read_head(sock, buf=b""):
    buf = bytearray(buf)
    while b"\r\n\r\n" not in buf:
        chunk = _recv(sock)
        if not chunk:
            raise EOFError("connection closed before the response head")
        buf += chunk
    head, rest = bytes(buf).split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, bytearray(rest)


def read_body(sock, headers, buf):
    if headers.get("transfer-encoding") == "chunked":
        return b"".join(ChunkReader(sock, buf).chunks())
    n = int(headers.get("content-length", "0"))
    while len(buf) < n:
        chunk = _recv(sock)
        if not chunk:
            raise EOFError("truncated body")
        buf += chunk
    return bytes(buf[:n])


class ChunkReader:
    """Reads a chunked body chunk by chunk; `clean_end` tells whether the 0-chunk arrived."""

    def __init__(self, sock, buf):
        self.sock = sock
        self.buf = bytearray(buf)
        self.clean_end = False

    def _need(self, n):
        while len(self.buf) < n:
            chunk = _recv(self.sock)
            if not chunk:
                raise EOFError("stream cut")
            self.buf += chunk

    def chunks(self):
        while True:
            try:
                while b"\r\n" not in self.buf:
                    self._need(len(self.buf) + 1)
                i = self.buf.find(b"\r\n")
                size = int(bytes(self.buf[:i]), 16)
                self._need(i + 2 + size + 2)
            except EOFError:
                return
            data = bytes(self.buf[i + 2:i + 2 + size])
            del self.buf[:i + 2 + size + 2]
            if size == 0:
                self.clean_end = True
                return
            yield data


class WatchStream:
    """A watch: yields events; records raw chunks to check chunk/line boundaries."""

    def __init__(self, server, path):
        self.sock = server.connect()
        self.sock.settimeout(30)
        send_request(self.sock, "GET", path, token=server.token)
        self.status, self.headers, rest = read_head(self.sock)
        self.reader = ChunkReader(self.sock, rest)
        self.raw_chunks = []
        self.pending = b""
        self.gen = self.reader.chunks() if self.status == 200 else iter(())

    def events(self):
        for chunk in self.gen:
            self.raw_chunks.append(chunk)
            self.pending += chunk
            while b"\n" in self.pending:
                line, self.pending = self.pending.split(b"\n", 1)
                yield json.loads(line)

    def next(self):
        return next(self.events())

    def close(self):
        self.sock.close()


# --- websocket client ---

def ws_frame(opcode, payload, fin=True, mask=True):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        head = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


class ExecSocket:
    def __init__(self, server, ns, pod, command, stdin=True, stdout=True, stderr=True, tty=False,
                 protocols="v5.channel.k8s.io, v4.channel.k8s.io", extra=""):
        q = [("command", c) for c in command] + [
            ("stdin", str(stdin).lower()), ("stdout", str(stdout).lower()),
            ("stderr", str(stderr).lower()), ("tty", str(tty).lower())]
        path = f"/api/v1/namespaces/{ns}/pods/{pod}/exec?{urllib.parse.urlencode(q)}{extra}"
        self.sock = server.connect()
        self.sock.settimeout(30)
        key = base64.b64encode(os.urandom(16)).decode()
        headers = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                   "Sec-WebSocket-Key": key}
        if protocols:
            headers["Sec-WebSocket-Protocol"] = protocols
        send_request(self.sock, "GET", path, token=server.token, headers=headers)
        self.status, self.headers, rest = read_head(self.sock)
        self.buf = bytearray(rest)
        self.body = None
        if self.status != 101:
            self.body = json.loads(read_body(self.sock, self.headers, self.buf) or b"null")
            self.sock.close()
        self.protocol = self.headers.get("sec-websocket-protocol")
        self.out = {1: bytearray(), 2: bytearray()}
        self.status_msg = None
        self.closed = False
        self.close_code = None
        self.pongs = []
        self.empty_messages = 0

    def send(self, channel, data, fragments=1):
        payload = bytes([channel]) + data
        if fragments <= 1:
            self.sock.sendall(ws_frame(2, payload))
            return
        step = max(1, len(payload) // fragments)
        parts = [payload[i:i + step] for i in range(0, len(payload), step)]
        for i, part in enumerate(parts):
            self.sock.sendall(ws_frame(2 if i == 0 else 0, part, fin=i == len(parts) - 1))

    def send_raw(self, frame):
        self.sock.sendall(frame)

    def close_stdin(self):
        self.sock.sendall(ws_frame(2, b"\xff\x00"))

    def _frame(self):
        """One server frame: (fin, opcode, payload) or None at EOF."""
        def need(n):
            while len(self.buf) < n:
                chunk = _recv(self.sock)
                if not chunk:
                    raise EOFError
                self.buf += chunk
        try:
            need(2)
            n = self.buf[1] & 0x7F
            if self.buf[1] & 0x80:
                raise AssertionError("server frames must not be masked")
            pos = 2
            if n == 126:
                need(4)
                n, pos = struct.unpack_from("!H", self.buf, 2)[0], 4
            elif n == 127:
                need(10)
                n, pos = struct.unpack_from("!Q", self.buf, 2)[0], 10
            need(pos + n)
        except EOFError:
            return None
        fin, opcode = bool(self.buf[0] & 0x80), self.buf[0] & 0x0F
        payload = bytes(self.buf[pos:pos + n])
        del self.buf[:pos + n]
        return fin, opcode, payload

    def read_message(self):
        """Processes one message; False at close/EOF."""
        frame = self._frame()
        if frame is None:
            self.closed = True
            return False
        _, opcode, payload = frame
        if opcode == 8:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            self.closed = True
            return False
        if opcode == 10:
            self.pongs.append(payload)
        elif opcode == 2:
            if len(payload) <= 1:
                self.empty_messages += 1
            elif payload[0] in (1, 2):
                self.out[payload[0]] += payload[1:]
            elif payload[0] == 3:
                self.status_msg = json.loads(payload[1:])
        return True

    def read_until(self, pred, timeout=20):
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                raise TimeoutError("exec output did not arrive")
            if not self.read_message():
                return False
        return True

    def run_to_end(self):
        while self.read_message():
            pass
        self.sock.close()
        return self

    def exit_code(self):
        s = self.status_msg
        if s is None:
            return None
        if s.get("status") == "Success":
            return 0
        for c in (s.get("details") or {}).get("causes") or []:
            if c.get("reason") == "ExitCode":
                return int(c["message"])
        return -1

    def close(self):
        self.sock.close()


def pod_body(name, command=("sleep", "600"), labels=None, **spec):
    s = {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
         "containers": [{"name": "main", "image": IMAGE, "command": list(command)}]}
    s.update(spec)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}}, "spec": s}


def wait_pod(server, ns, name, pred, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        status, _, pod = server.request("GET", f"/api/v1/namespaces/{ns}/pods/{name}")
        if status == 200 and pred(pod):
            return pod
        if time.monotonic() > deadline:
            raise AssertionError(f"pod {ns}/{name} did not reach the state; last: {status} "
                                 f"{json.dumps(pod)[:2000]}")
        time.sleep(0.05)


def containers_of(state_dir, pod_ref=None):
    sys.path.insert(0, os.path.join(ROOT, "tests", "kube", "apiserver"))
    import docker_api
    filters = [f"r2e-test-apiserver.dir={os.path.abspath(state_dir)}"]
    if pod_ref:
        filters.append(f"r2e-test-apiserver.pod={pod_ref}")
    return docker_api.list_containers(filters)
