"""A small Docker Engine API client over the daemon's Unix socket.

Plain HTTP/1.1 on a fresh AF_UNIX connection per call (cheap on loopback, and
no connection state to share between threads). `exec_start` returns the raw
hijacked socket: exec output is read from it without any polling.
"""

import json
import os
import socket
import urllib.parse

API = "/v1.41"  # Docker 20.10+; every call we make exists in that version.


class DockerError(Exception):
    def __init__(self, status, message):
        super().__init__(f"docker API {status}: {message}")
        self.status = status
        self.message = message


def socket_path():
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        return host[len("unix://"):]
    if host:
        raise DockerError(0, f"DOCKER_HOST={host}: only unix:// sockets are supported")
    return "/var/run/docker.sock"


def _connect(timeout):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(socket_path())
    except OSError as e:
        s.close()
        raise DockerError(0, f"cannot connect to {socket_path()}: {e}") from e
    return s


def _read_head(sock, buf):
    """Reads until the end of the response head; returns (status, headers, rest)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise DockerError(0, "connection closed before the response head")
        buf += chunk
    head, rest = bytes(buf).split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, bytearray(rest)


def _read_body(sock, headers, buf):
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out = bytearray()
        while True:
            while b"\r\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    raise DockerError(0, "truncated chunked body")
                buf += chunk
            line, _, rest = bytes(buf).partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            buf = bytearray(rest)
            while len(buf) < size + 2:
                chunk = sock.recv(65536)
                if not chunk:
                    raise DockerError(0, "truncated chunk")
                buf += chunk
            if size == 0:
                return bytes(out)
            out += buf[:size]
            buf = buf[size + 2:]
    n = headers.get("content-length")
    if n is None:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return bytes(buf)
            buf += chunk
    n = int(n)
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise DockerError(0, "truncated body")
        buf += chunk
    return bytes(buf[:n])


def _send_request(sock, method, path, body, extra_headers=""):
    data = b"" if body is None else json.dumps(body).encode()
    head = (f"{method} {API}{path} HTTP/1.1\r\nHost: docker\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"{extra_headers}")
    sock.sendall(head.encode() + b"\r\n" + data)


def request(method, path, body=None, timeout=60.0):
    """One API call; returns (status, parsed JSON or None). Raises DockerError."""
    sock = _connect(timeout)
    try:
        _send_request(sock, method, path, body, "Connection: close\r\n")
        status, headers, rest = _read_head(sock, bytearray())
        raw = _read_body(sock, headers, rest)
    except OSError as e:
        raise DockerError(0, f"{method} {path}: {e}") from e
    finally:
        sock.close()
    parsed = None
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = {"message": raw.decode("utf-8", "replace")}
    return status, parsed


def call(method, path, body=None, ok=(200, 201, 204, 304), timeout=60.0):
    status, parsed = request(method, path, body, timeout)
    if status not in ok:
        msg = parsed.get("message", "") if isinstance(parsed, dict) else str(parsed)
        raise DockerError(status, msg)
    return parsed


def q(value):
    return urllib.parse.quote(value, safe="")


def ping():
    return call("GET", "/_ping", timeout=5.0)


def list_containers(label_filters):
    filters = json.dumps({"label": label_filters})
    return call("GET", f"/containers/json?all=true&filters={q(filters)}") or []


def inspect_container(cid):
    return call("GET", f"/containers/{q(cid)}/json")


def image_exists(image):
    status, _ = request("GET", f"/images/{q(image)}/json")
    return status == 200


def create_container(name, config):
    return call("POST", f"/containers/create?name={q(name)}", config)["Id"]


def start_container(cid):
    call("POST", f"/containers/{q(cid)}/start")


def stop_container(cid, grace_seconds):
    # Docker's stop is SIGTERM, wait t seconds, SIGKILL: the kubelet's grace period.
    call("POST", f"/containers/{q(cid)}/stop?t={int(grace_seconds)}",
         ok=(204, 304, 404), timeout=grace_seconds + 60.0)


def kill_container(cid):
    call("POST", f"/containers/{q(cid)}/kill", ok=(204, 404, 409))


def remove_container(cid):
    call("DELETE", f"/containers/{q(cid)}?force=true&v=true", ok=(204, 404, 409))


def exec_create(cid, cmd, stdin, stdout, stderr, tty):
    body = {"AttachStdin": stdin, "AttachStdout": stdout, "AttachStderr": stderr,
            "Tty": tty, "Cmd": cmd}
    return call("POST", f"/containers/{q(cid)}/exec", body)["Id"]


def exec_start(exec_id, tty):
    """Starts an exec and returns (socket, leftover bytes): the hijacked stream.

    Output is multiplexed in 8-byte-header frames unless tty; writing sends
    stdin and shutdown(SHUT_WR) is stdin EOF.
    """
    sock = _connect(30.0)
    try:
        _send_request(sock, "POST", f"/exec/{q(exec_id)}/start", {"Detach": False, "Tty": tty},
                      "Connection: Upgrade\r\nUpgrade: tcp\r\n")
        status, headers, rest = _read_head(sock, bytearray())
        if status not in (101, 200):
            body = _read_body(sock, headers, rest)
            try:
                msg = json.loads(body).get("message", "")
            except ValueError:
                msg = body.decode("utf-8", "replace")
            raise DockerError(status, msg)
    except OSError as e:
        sock.close()
        raise DockerError(0, f"exec start: {e}") from e
    except DockerError:
        sock.close()
        raise
    sock.settimeout(None)
    return sock, bytes(rest)


def exec_inspect(exec_id):
    return call("GET", f"/exec/{q(exec_id)}/json")


def exec_resize(exec_id, width, height):
    call("POST", f"/exec/{q(exec_id)}/resize?h={int(height)}&w={int(width)}", ok=(200, 201, 404, 409))


def events(label_filters):
    """Opens the event stream; returns an iterator of event dicts (ends on EOF)."""
    sock = _connect(None)
    filters = json.dumps({"type": ["container"], "label": label_filters,
                          "event": ["start", "die", "destroy"]})
    _send_request(sock, "GET", f"/events?filters={q(filters)}", None)
    status, headers, buf = _read_head(sock, bytearray())
    if status != 200:
        sock.close()
        raise DockerError(status, "events")
    chunked = headers.get("transfer-encoding", "").lower() == "chunked"

    def gen():
        data = bytearray(buf)
        body = bytearray()
        try:
            while True:
                # De-chunk what we have, then split the body into JSON lines.
                if chunked:
                    while True:
                        i = data.find(b"\r\n")
                        if i < 0:
                            break
                        size = int(bytes(data[:i]).split(b";")[0] or b"0", 16)
                        if len(data) < i + 2 + size + 2:
                            break
                        if size == 0:
                            return
                        body += data[i + 2:i + 2 + size]
                        del data[:i + 2 + size + 2]
                else:
                    body += data
                    data.clear()
                while True:
                    j = body.find(b"\n")
                    if j < 0:
                        break
                    line = bytes(body[:j]).strip()
                    del body[:j + 1]
                    if line:
                        yield json.loads(line)
                chunk = sock.recv(65536)
                if not chunk:
                    return
                data += chunk
        finally:
            sock.close()

    return sock, gen()


def logs(cid, query):
    """A container's log so far, stdout and stderr interleaved (demultiplexed unless tty)."""
    sock = _connect(60.0)
    try:
        _send_request(sock, "GET", f"/containers/{q(cid)}/logs?{query}", None, "Connection: close\r\n")
        status, headers, rest = _read_head(sock, bytearray())
        raw = _read_body(sock, headers, rest)
    except OSError as e:
        raise DockerError(0, f"logs: {e}") from e
    finally:
        sock.close()
    if status != 200:
        raise DockerError(status, raw.decode("utf-8", "replace"))
    # Non-tty logs are multiplexed (8-byte headers); API 1.41 labels both kinds raw-stream.
    if not (len(raw) >= 8 and raw[0] in (0, 1, 2) and raw[1:4] == b"\0\0\0"):
        return raw
    out, i = bytearray(), 0
    while i + 8 <= len(raw):
        size = int.from_bytes(raw[i + 4:i + 8], "big")
        out += raw[i + 8:i + 8 + size]
        i += 8 + size
    return bytes(out)
