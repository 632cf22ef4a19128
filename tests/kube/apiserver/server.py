#!/usr/bin/python3
"""The r2e test Kubernetes API server (Pod subset) in front of dockerd.

Started by scripts/test-apiserver.sh, which generates the certificates and the
token. Python 3 standard library only. Writes DIR/port and then DIR/ready once
it accepts connections (after finding pods left by a previous run in DIR).
"""

import argparse
import os
import signal
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import docker_api  # noqa: E402
from api import Api  # noqa: E402
from controller import LBL_DIR, Controller, log  # noqa: E402
from faults import Faults  # noqa: E402
from httpconn import ClientGone, Conn, make_tls_context  # noqa: E402
from store import Store  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dir", required=True, help="state directory (certs, token, port, ready)")
    p.add_argument("--port", type=int, default=0, help="0: a free port")
    p.add_argument("--preferred-port", type=int, default=0,
                   help="try this port first, fall back to a free one (the port of a previous run)")
    p.add_argument("--cleanup", action="store_true",
                   help="remove every container of DIR and exit (used by `stop`)")
    p.add_argument("--network", default="none", help="Docker network mode of pod containers")
    p.add_argument("--bookmark-interval", type=float, default=5.0,
                   help="seconds between BOOKMARK events on watches that allow them")
    p.add_argument("--access-log", action="store_true",
                   help="log every request with its status and duration (to stderr: server.log)")
    p.add_argument("--watch-max-seconds", type=float, default=1800.0,
                   help="a watch without timeoutSeconds ends after this long")
    return p.parse_args(argv)


def serve_connection(raw, ctx, api, access_log):
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    raw.settimeout(30.0)
    try:
        sock = ctx.wrap_socket(raw, server_side=True)
    except (OSError, ssl.SSLError) as e:
        log(f"TLS handshake failed: {e}")
        raw.close()
        return
    conn = Conn(sock, sock.getpeercert())
    try:
        while not conn.closed:
            req = conn.read_request()
            if req is None:
                break
            t0 = time.monotonic()
            conn.last_status = None
            try:
                api.handle(conn, req)
            finally:
                if access_log:
                    log(f"{req.method} {req.target} -> {conn.last_status} "
                        f"({(time.monotonic() - t0) * 1000:.1f} ms)")
            if req.headers.get("connection", "").lower() == "close":
                break
    except ClientGone:
        pass
    except Exception as e:  # a bug must not take the server down; answer 500 if we still can
        log(f"error serving {getattr(req, 'method', '?')} {getattr(req, 'target', '?')}: {e!r}")
        try:
            conn.send_status(500, f"internal error: {e}", keep_alive=False)
        except Exception:
            pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def cleanup(state_dir):
    try:
        containers = docker_api.list_containers([f"{LBL_DIR}={state_dir}"])
        for c in containers:
            docker_api.remove_container(c["Id"])
    except docker_api.DockerError as e:
        print(f"test-apiserver: cleanup: {e}", file=sys.stderr)
        return 3
    print(f"removed {len(containers)} containers", file=sys.stderr)
    return 0


def main(argv):
    args = parse_args(argv)
    state_dir = os.path.abspath(args.dir)
    ready = os.path.join(state_dir, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    if args.cleanup:
        return cleanup(state_dir)
    with open(os.path.join(state_dir, "token")) as f:
        token = f.read().strip()
    ctx = make_tls_context(os.path.join(state_dir, "server.crt"), os.path.join(state_dir, "server.key"),
                           os.path.join(state_dir, "ca.crt"))
    try:
        docker_api.ping()
    except docker_api.DockerError as e:
        print(f"test-apiserver: Docker is not reachable: {e}", file=sys.stderr)
        return 3

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", args.port or args.preferred_port))
    except OSError:
        if args.port or not args.preferred_port:
            raise
        listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    args.port = listener.getsockname()[1]

    # Resource versions keep growing across restarts (clients may hold old ones):
    # start from the clock in microseconds, which no run outpaces with its events.
    store = Store(int(time.time() * 1_000_000))
    faults = Faults()
    ctl = Controller(store, faults, state_dir, args.network)
    found = ctl.rediscover()
    stop = threading.Event()
    threading.Thread(target=ctl.follow_events, args=(stop,), daemon=True).start()
    api = Api(store, ctl, faults, token, args)

    def on_signal(signum, frame):
        stop.set()
        ctl.shutdown()
        log("stopping")
        os._exit(0)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    with open(os.path.join(state_dir, "port"), "w") as f:
        f.write(f"{args.port}\n")
    with open(ready, "w") as f:
        f.write(f"{os.getpid()}\n")
    log(f"listening on https://127.0.0.1:{args.port} (dir {state_dir}, {found} pods found)")
    while True:
        try:
            raw, _ = listener.accept()
        except InterruptedError:
            continue
        threading.Thread(target=serve_connection, args=(raw, ctx, api, args.access_log), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
