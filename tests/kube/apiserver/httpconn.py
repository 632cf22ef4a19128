"""HTTP/1.1 over TLS: request parsing, responses, chunked streaming, auth.

Our own loop rather than http.server because watch (chunked streams we cut on
purpose) and exec (a websocket taking over the socket) need the raw socket.
One thread per connection; keep-alive; no pipelining beyond what a buffered
reader gives for free.
"""

import hmac
import json
import select
import socket
import ssl
import urllib.parse

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024
IDLE_TIMEOUT = 600.0
CHUNKED_ABOVE = 4096  # JSON bodies larger than this go out chunked

REASONS = {200: "OK", 201: "Created", 202: "Accepted", 101: "Switching Protocols",
           400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict", 410: "Gone",
           413: "Request Entity Too Large", 431: "Request Header Fields Too Large", 415: "Unsupported Media Type",
           422: "Unprocessable Entity", 429: "Too Many Requests",
           500: "Internal Server Error", 503: "Service Unavailable", 504: "Gateway Timeout"}

STATUS_REASON = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                 405: "MethodNotAllowed", 406: "NotAcceptable", 409: "AlreadyExists",
                 410: "Expired", 413: "RequestEntityTooLarge", 415: "UnsupportedMediaType",
                 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
                 503: "ServiceUnavailable", 504: "Timeout"}


class ClientGone(Exception):
    """The peer closed or reset the connection."""


def status_object(code, message, reason=None, details=None):
    obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason or STATUS_REASON.get(code, "Unknown"),
           "code": code}
    if details is not None:
        obj["details"] = details
    return obj


class Request:
    def __init__(self, method, target, version, headers, body):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers  # lower-case name -> value (repeated names joined by ", ")
        self.body = body
        parsed = urllib.parse.urlsplit(target)
        self.path = urllib.parse.unquote(parsed.path)
        self.query_string = parsed.query
        self.query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)

    def arg(self, name, default=None):
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name):
        return (self.arg(name, "") or "").lower() in ("true", "1")

    def json_body(self):
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


class Conn:
    """A TLS connection with a read buffer; all writes go through `send`."""

    def __init__(self, sock, peer_cert):
        self.sock = sock
        self.peer_cert = peer_cert
        self.buf = bytearray()
        self.closed = False
        self.last_status = None  # for the access log

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (OSError, ssl.SSLError) as e:
            raise ClientGone(str(e)) from e
        if not chunk:
            raise ClientGone("eof")
        self.buf += chunk

    def read_request(self):
        """Returns the next Request, or None when the client closed cleanly between requests."""
        self.sock.settimeout(IDLE_TIMEOUT)
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                break
            if len(self.buf) > MAX_HEAD:
                self.send_json(431, status_object(431, "request header too large", "RequestHeaderFieldsTooLarge"),
                               keep_alive=False)
                return None
            try:
                self._fill()
            except ClientGone:
                return None
            except socket.timeout:
                return None
        head = bytes(self.buf[:i]).decode("latin-1")
        del self.buf[:i + 4]
        lines = head.split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            self.send_json(400, status_object(400, "malformed request line"), keep_alive=False)
            return None
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            k = k.strip().lower()
            v = v.strip()
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        self.sock.settimeout(60.0)
        if headers.get("expect", "").lower() == "100-continue":
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self._read_body(headers)
        if body is None:
            return None
        return Request(method, target, version, headers, body)

    def _read_body(self, headers):
        if "chunked" in headers.get("transfer-encoding", "").lower():
            out = bytearray()
            while True:
                while b"\r\n" not in self.buf:
                    self._fill()
                i = self.buf.find(b"\r\n")
                size = int(bytes(self.buf[:i]).split(b";")[0] or b"0", 16)
                while len(self.buf) < i + 2 + size + 2:
                    self._fill()
                out += self.buf[i + 2:i + 2 + size]
                del self.buf[:i + 2 + size + 2]
                if size == 0:
                    # Trailers: none expected; the zero chunk ends with an empty line.
                    return bytes(out)
                if len(out) > MAX_BODY:
                    self.send_json(413, status_object(413, "request body too large"), keep_alive=False)
                    return None
        n = int(headers.get("content-length", "0") or "0")
        if n > MAX_BODY:
            self.send_json(413, status_object(413, "request body too large"), keep_alive=False)
            return None
        while len(self.buf) < n:
            self._fill()
        body = bytes(self.buf[:n])
        del self.buf[:n]
        return body

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            raise ClientGone(str(e)) from e

    def send_response(self, code, headers, body=b"", keep_alive=True):
        self.last_status = code
        lines = [f"HTTP/1.1 {code} {REASONS.get(code, 'Status')}"]
        for k, v in headers:
            lines.append(f"{k}: {v}")
        lines.append(f"Content-Length: {len(body)}")
        lines.append("Cache-Control: no-cache, private")
        if not keep_alive:
            lines.append("Connection: close")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        if not keep_alive:
            self.closed = True

    def send_json(self, code, obj, keep_alive=True, headers=()):
        body = json.dumps(obj, separators=(",", ":")).encode()
        if len(body) > CHUNKED_ABOVE and keep_alive and code != 101:
            # As Go's net/http does for a handler that sets no length: larger
            # bodies (a list of a few pods) arrive chunked, so clients must cope.
            self.last_status = code
            head = [f"HTTP/1.1 {code} {REASONS.get(code, 'Status')}", "Content-Type: application/json",
                    "Transfer-Encoding: chunked", "Cache-Control: no-cache, private"]
            head += [f"{k}: {v}" for k, v in headers]
            out = ("\r\n".join(head) + "\r\n\r\n").encode()
            for i in range(0, len(body), CHUNKED_ABOVE):
                part = body[i:i + CHUNKED_ABOVE]
                out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
            self.send(out + b"0\r\n\r\n")
            return
        self.send_response(code, [("Content-Type", "application/json")] + list(headers), body,
                           keep_alive)

    def send_status(self, code, message, reason=None, details=None, headers=(), keep_alive=True):
        self.send_json(code, status_object(code, message, reason, details), keep_alive, headers)

    # --- chunked streaming (watch) ---

    def start_chunked(self, code=200, content_type="application/json"):
        self.last_status = code
        self.send((f"HTTP/1.1 {code} {REASONS.get(code, 'Status')}\r\n"
                   f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n"
                   "Cache-Control: no-cache, private\r\n\r\n").encode())

    def send_chunk(self, data):
        if data:
            self.send(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def end_chunked(self):
        self.send(b"0\r\n\r\n")

    def wait_readable(self, extra_fds, timeout):
        """Waits until the client sent something (or closed) or an extra fd is readable.

        Returns the list of ready extra fds, or raises ClientGone when the client
        closed (a watch client has nothing to say: any byte or EOF ends it).
        """
        if self.buf or self.sock.pending():
            raise ClientGone("client sent data during a stream")
        fds = [self.sock] + list(extra_fds)
        r, _, _ = select.select(fds, [], [], timeout)
        if self.sock in r:
            try:
                self.sock.settimeout(0.5)
                chunk = self.sock.recv(4096)
            except ssl.SSLWantReadError:
                chunk = b"x"  # TLS-level data only (e.g. a key update)
            except (OSError, ssl.SSLError):
                raise ClientGone("reset")
            finally:
                self.sock.settimeout(60.0)
            if not chunk:
                raise ClientGone("eof")
            self.buf += chunk
        return [f for f in r if f is not self.sock]

    def abort(self):
        """Closes the TCP connection without TLS close_notify or a final chunk."""
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def authenticate(req, conn, token):
    if conn.peer_cert:
        return True  # verified against our CA during the handshake
    auth = req.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return hmac.compare_digest(auth[7:].strip().encode(), token.encode())
    return False


def make_tls_context(cert, key, ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL  # a client certificate is one way to authenticate
    ctx.set_alpn_protocols(["http/1.1"])  # no HTTP/2: clients fall back to 1.1
    return ctx
