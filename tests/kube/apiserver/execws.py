"""pods/exec over websockets (v4/v5.channel.k8s.io) bridged to a Docker exec.

One thread per session, no polling: select() on the client's TLS socket (plus
its pending decrypted bytes) and the hijacked Docker socket. Client frames
`[channel][payload]`: 0 stdin, 4 resize, 255 close (v5: `[255, 0]` closes
stdin). Server frames: 1 stdout, 2 stderr, 3 status (a JSON Status), sent
after the process ended; then a close frame.
"""

import json
import select
import socket
import ssl
import struct
import threading
import time

import docker_api
import websocket as ws_codec

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN_BUFFER_LIMIT = 4 * 1024 * 1024


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.exec_open = 0

    def add(self, n):
        with self.lock:
            self.exec_open += n


def choose_protocol(header):
    offered = [p.strip() for p in (header or "").split(",") if p.strip()]
    for p in PROTOCOLS:
        if p in offered:
            return p
    return None


def parse_params(req):
    """Returns (command, stdin, stdout, stderr, tty, container) or raises ValueError."""
    command = req.query.get("command") or []
    if not command:
        raise ValueError("you must specify at least one command for the container")
    opts = {k: req.flag(k) for k in ("stdin", "stdout", "stderr", "tty")}
    if not (opts["stdin"] or opts["stdout"] or opts["stderr"]):
        raise ValueError("you must specify at least 1 of stdin, stdout, stderr")
    if opts["tty"] and opts["stderr"]:
        raise ValueError("stdout and stderr cannot both be used with a tty; stderr is merged into stdout")
    return command, opts["stdin"], opts["stdout"], opts["stderr"], opts["tty"], req.arg("container")


def exit_status(exit_code, command):
    if exit_code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"{json.dumps(command)}: exit status {exit_code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]}}


def wait_exit_code(exec_id):
    # The attach stream can end a moment before Docker records the exit code.
    deadline = time.monotonic() + 5.0
    while True:
        info = docker_api.exec_inspect(exec_id)
        if not info.get("Running") or time.monotonic() > deadline:
            return info.get("ExitCode")
        time.sleep(0.001)


class Session:
    def __init__(self, conn, protocol, dk, dk_leftover, exec_id, command, stdin, tty, close_after_ms):
        self.conn = conn
        self.ws = conn.sock
        self.v5 = protocol.startswith("v5")
        self.dk = dk
        self.dk_buf = bytearray(dk_leftover)
        self.exec_id = exec_id
        self.command = command
        self.stdin = stdin
        self.tty = tty
        self.dec = ws_codec.Decoder()
        self.dec.feed(bytes(conn.buf))
        conn.buf.clear()
        self.stdin_out = bytearray()
        self.stdin_close_wanted = False
        self.dk_write_shut = False
        self.close_at = None if close_after_ms is None else time.monotonic() + close_after_ms / 1000.0

    def send_ws(self, *messages):
        """Sends each websocket message in its own TLS record, as Go servers do.

        A client that polls its raw socket (python3-kubernetes does) would not see
        a second message already decrypted into its TLS buffer. Writes block (with
        a bound): a client that stops reading stalls its own session only.
        """
        self.ws.settimeout(30.0)
        try:
            for m in messages:
                self.ws.sendall(m)
        finally:
            self.ws.setblocking(False)

    def frame(self, channel, payload=b""):
        return ws_codec.encode(ws_codec.OP_BINARY, bytes([channel]) + payload)

    def run(self):
        """Bridges until the process ends or the client leaves."""
        self.ws.setblocking(False)
        self.dk.setblocking(False)
        if self.dk_buf:
            self.on_docker_data(b"")
        while True:
            timeout = None
            if self.close_at is not None:
                timeout = max(0.0, self.close_at - time.monotonic())
            rlist = [self.dk]
            if len(self.stdin_out) < STDIN_BUFFER_LIMIT:
                rlist.append(self.ws)
            wlist = [self.dk] if self.stdin_out and not self.dk_write_shut else []
            if self.ws.pending() or self.dec.buf:
                timeout = 0.0
            r, w, _ = select.select(rlist, wlist, [], timeout)
            if self.close_at is not None and time.monotonic() >= self.close_at:
                return "fault"
            if self.ws in rlist and (self.ws in r or self.ws.pending()):
                if not self.read_client():
                    return "client"
            if self.dk in w:
                self.write_stdin()
            if self.dk in r:
                try:
                    data = self.dk.recv(65536)
                except BlockingIOError:
                    data = None
                except OSError:
                    data = b""
                if data == b"":
                    return "exited"
                if data:
                    self.on_docker_data(data)
            if self.stdin_close_wanted and not self.stdin_out and not self.dk_write_shut:
                self.shut_stdin()

    def read_client(self):
        """Reads what the client sent; False when the client is gone or closed."""
        while True:
            try:
                data = self.ws.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            except (OSError, ssl.SSLError):
                return False
            if not data:
                return False
            self.dec.feed(data)
            if not self.ws.pending():
                break
        try:
            messages = self.dec.messages()
        except ws_codec.ProtocolError as e:
            self.send_ws(ws_codec.close_frame(e.code, str(e).encode()[:100]))
            return False
        for opcode, payload in messages:
            if opcode == ws_codec.OP_PING:
                self.send_ws(ws_codec.encode(ws_codec.OP_PONG, payload))
            elif opcode == ws_codec.OP_CLOSE:
                code = payload[:2] if len(payload) >= 2 else struct.pack("!H", 1000)
                self.send_ws(ws_codec.encode(ws_codec.OP_CLOSE, code))
                return False
            elif opcode in (ws_codec.OP_BINARY, ws_codec.OP_TEXT) and payload:
                # Like the kubelet, text messages count as data too (python3-kubernetes
                # sends str stdin as text).
                channel = payload[0]
                if channel == 0 and self.stdin and not self.stdin_close_wanted:
                    self.stdin_out += payload[1:]
                elif channel == 4 and self.tty:
                    self.resize(payload[1:])
                elif channel == 255 and self.v5 and payload[1:2] == b"\x00":
                    self.stdin_close_wanted = True
        return True

    def resize(self, data):
        try:
            size = json.loads(data)
            docker_api.exec_resize(self.exec_id, size.get("Width", 80), size.get("Height", 24))
        except (ValueError, AttributeError, docker_api.DockerError):
            pass

    def write_stdin(self):
        try:
            n = self.dk.send(self.stdin_out[:262144])
            del self.stdin_out[:n]
        except BlockingIOError:
            pass
        except OSError:
            self.stdin_out.clear()
            self.dk_write_shut = True

    def shut_stdin(self):
        self.dk_write_shut = True
        try:
            self.dk.shutdown(socket.SHUT_WR)  # Docker: stdin EOF for the process
        except OSError:
            pass

    def on_docker_data(self, data):
        self.dk_buf += data
        out = []
        if self.tty:
            if self.dk_buf:
                out.append(self.frame(1, bytes(self.dk_buf)))
                self.dk_buf.clear()
        else:
            buf = self.dk_buf
            while len(buf) >= 8:
                size = struct.unpack_from("!I", buf, 4)[0]
                if len(buf) < 8 + size:
                    break
                channel = 2 if buf[0] == 2 else 1
                out.append(self.frame(channel, bytes(buf[8:8 + size])))
                del buf[:8 + size]
        if out:
            self.send_ws(*out)

    def finish(self, status):
        """Status message and close frame, then FIN, then a short wait for the client's close.

        The FIN goes out at once (as the kubelet closes at once): some clients
        poll the raw socket and would not notice frames already decrypted into
        their TLS buffer until the connection ends.
        """
        self.send_ws(self.frame(3, json.dumps(status, separators=(",", ":")).encode()),
                     ws_codec.close_frame(1000))
        try:
            socket.socket.shutdown(self.ws, socket.SHUT_WR)  # TCP only; TLS reads still work
        except OSError:
            return

    def linger(self):
        """Reads (and drops) what the client still sends until its close frame or EOF."""
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            if not self.ws.pending():
                r, _, _ = select.select([self.ws], [], [], deadline - time.monotonic())
                if not r:
                    return
            try:
                data = self.ws.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                continue
            except (OSError, ssl.SSLError):
                return
            if not data:
                return
            self.dec.feed(data)
            try:
                if any(op == ws_codec.OP_CLOSE for op, _ in self.dec.messages()):
                    return
            except ws_codec.ProtocolError:
                return


def serve(conn, req, container_id, faults, namespace, stats):
    """Answers an exec request (the pod is known to be running). Ends the connection."""
    try:
        command, stdin, stdout, stderr, tty, _ = parse_params(req)
    except ValueError as e:
        conn.send_status(400, str(e))
        return
    if req.headers.get("upgrade", "").lower() != "websocket":
        conn.send_status(400, "Upgrade request required: this test server speaks websocket "
                              "exec (v5.channel.k8s.io, v4.channel.k8s.io) only")
        return
    key = req.headers.get("sec-websocket-key")
    if not key or req.headers.get("sec-websocket-version") != "13":
        conn.send_status(400, "bad websocket handshake: need Sec-WebSocket-Key and version 13")
        return
    protocol = choose_protocol(req.headers.get("sec-websocket-protocol"))
    if protocol is None:
        conn.send_status(400, "unsupported websocket subprotocol "
                              f"{req.headers.get('sec-websocket-protocol')!r}; supported: "
                              + ", ".join(PROTOCOLS))
        return
    try:
        exec_id = docker_api.exec_create(container_id, command, stdin, stdout, stderr, tty)
        dk, leftover = docker_api.exec_start(exec_id, tty)
    except docker_api.DockerError as e:
        conn.send_status(500, f"error executing command in container: {e.message}")
        return
    fault = faults.take("exec_close", namespace=namespace, target=req.target)
    finished = False
    session = Session(conn, protocol, dk, leftover, exec_id, command, stdin, tty,
                      fault.get("after_ms", 0) if fault else None)
    stats.add(1)
    try:
        conn.send(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Accept: {ws_codec.accept_key(key)}\r\n"
                   f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n").encode())
        conn.closed = True  # the connection is the session's now
        conn.last_status = 101
        # Like the kubelet: an empty message on each output channel first.
        hello = []
        if stdout or tty:
            hello.append(session.frame(1))
        if stderr:
            hello.append(session.frame(2))
        hello.append(session.frame(3))
        session.send_ws(*hello)
        how = session.run()
        if how == "exited":
            code = wait_exit_code(exec_id)
            session.finish(exit_status(code if code is not None else 1, command))
            finished = True
    except (OSError, ssl.SSLError, docker_api.DockerError):
        pass
    finally:
        stats.add(-1)
        dk.close()
    if finished:
        session.linger()
    conn.abort()
