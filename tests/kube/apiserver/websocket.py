"""RFC 6455 server side: handshake and frame codec (no I/O here).

Client frames must be masked; server frames are not. Fragmented messages are
reassembled; control frames (ping, pong, close) may arrive between fragments.
"""

import base64
import hashlib
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
MAX_MESSAGE = 64 * 1024 * 1024


class ProtocolError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def encode(opcode, payload=b""):
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def close_frame(code=1000, reason=b""):
    return encode(OP_CLOSE, struct.pack("!H", code) + reason)


def _unmask(mask, data):
    n = len(data)
    if n == 0:
        return b""
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


class Decoder:
    """Feed bytes; `messages()` yields (opcode, payload) for complete messages and control frames."""

    def __init__(self):
        self.buf = bytearray()
        self.frag_op = None
        self.frag = bytearray()

    def feed(self, data):
        self.buf += data

    def messages(self):
        out = []
        while True:
            frame = self._frame()
            if frame is None:
                return out
            fin, opcode, payload = frame
            if opcode >= 8:
                if not fin or len(payload) > 125:
                    raise ProtocolError(1002, "fragmented or oversized control frame")
                out.append((opcode, payload))
            elif opcode == OP_CONT:
                if self.frag_op is None:
                    raise ProtocolError(1002, "continuation without a first frame")
                self.frag += payload
                if len(self.frag) > MAX_MESSAGE:
                    raise ProtocolError(1009, "message too big")
                if fin:
                    out.append((self.frag_op, bytes(self.frag)))
                    self.frag_op, self.frag = None, bytearray()
            elif opcode in (OP_TEXT, OP_BINARY):
                if self.frag_op is not None:
                    raise ProtocolError(1002, "new message inside a fragmented one")
                if fin:
                    out.append((opcode, payload))
                else:
                    self.frag_op, self.frag = opcode, bytearray(payload)
            else:
                raise ProtocolError(1002, f"unknown opcode {opcode}")

    def _frame(self):
        b = self.buf
        if len(b) < 2:
            return None
        fin = bool(b[0] & 0x80)
        if b[0] & 0x70:
            raise ProtocolError(1002, "reserved bits set")
        opcode = b[0] & 0x0F
        masked = bool(b[1] & 0x80)
        n = b[1] & 0x7F
        pos = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = struct.unpack_from("!H", b, 2)[0]
            pos = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = struct.unpack_from("!Q", b, 2)[0]
            pos = 10
        if not masked:
            raise ProtocolError(1002, "client frames must be masked")
        if n > MAX_MESSAGE:
            raise ProtocolError(1009, "frame too big")
        if len(b) < pos + 4 + n:
            return None
        mask = bytes(b[pos:pos + 4])
        payload = _unmask(mask, bytes(b[pos + 4:pos + 4 + n]))
        del b[:pos + 4 + n]
        return fin, opcode, payload
