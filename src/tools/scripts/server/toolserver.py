"""r2e's tool server: runs the sandbox's Python tools without an interpreter start per call.

Started in the background inside a sandbox as

    python3 toolserver.py [--direct FIFO] DIR TOOL_PATH...

it detaches (new session), imports toolcall.py (one call in a worker) from
its own directory and each tool script once (with what the tools
import, e.g. chardet), and then serves calls until it is killed. A call is made
by the shell function that RepoEnv puts in front of a tool step (see
src/tools/served_tools.cc), one call at a time (a sandbox's session runs one
command at a time):

  client: writes to DIR/req the line
          "<id> <client pid> <fd> <fd> <fd> <argc>\\n" (<id> a fresh random name
          of digits and dots, the fds copies of its stdin, stdout and stderr),
          its argc arguments, each ended by a NUL, and its exported variables
          as `declare -px` prints them, ended by a NUL
  server: hands the request to its idle worker (a child forked ahead, in
          a process group of its own; one is forked when none is idle). The
          worker opens the client's streams through /proc/<pid>/fd/<fd>,
          answers "<id> ok <server pid>\\n" on DIR/reply and runs the tool's
          main() with the client's argv, environment, working directory and
          streams; or answers
          "<id> plain\\n" when it cannot serve the call (unknown tool, a tool
          file changed since it was imported, streams that cannot be
          reopened): the client then runs the tool itself.
  worker: writes "<id> <exit status>\\n" on DIR/reply; the server writes
          the same line when a worker dies during a call (128+N for a
          signal N). Clients take the first line of their id and skip
          lines of other ids.

Direct calls (with --direct FIFO: a fifo that r2e made in a directory both
it and the sandbox see, e.g. Docker's session pipe directory; see
src/tools/direct_call.cc) skip the session and the shell function: r2e
writes the request to FIFO itself, with the client pid 0, the names of three
pipes it made beside FIFO in place of the fds (the call's status pipe, its
stdout, and its stderr or "-" for stdout), and the call's working directory
as a NUL-terminated field after the arguments. The worker answers on the
status pipe ("ok", "plain" or the exit status, a line each), the tool's
stdin is /dev/null, and a call whose status pipe has no reader any more
(r2e gave up: a timeout) is an orphan. r2e tells whether a server listens
by opening FIFO without waiting (ENXIO: nobody reads it).

A worker takes calls one after another, which is what makes a call cheap: a
fresh fork of the server pays a copy-on-write fault for every page the tool
touches (about 800 for `execute_bash`, 5 ms), a worker pays them once. It
takes another call only when the tool declares, on a line of its own,
`# r2e-tool-server: reusable` (main() leaves no state that changes what a
later call prints; module globals are caches at most) and the call left it
as it found it: no thread running and no process in its group (a command the
tool put in the background keeps that group, and a later timed-out call's
group kill must not reach it); descriptors the tool left open are closed.
Otherwise it exits after the call and a new worker takes the next one. A
client that goes away (its command timed out and was killed) has the
worker's whole process group killed, as a timed-out command's group is.
Files: DIR/pid (the server's pid, written once it serves), DIR/req and
DIR/reply (fifos), DIR/failed (why it could not start; clients then stop
trying), DIR/starting (a start is under way), and notes for whoever debugs
a call that was not served: DIR/last-plain (the server answered "plain":
why), DIR/last-exec (the client ran the tool itself: why), DIR/last-orphan
(a worker killed because its client was gone), DIR/last-death (a worker
that died during a call). A server whose DIR/req is gone or replaced (a
second server started: two starts raced) takes no new call and exits once
the calls under way are over and its workers are gone: their clients watch
it, not the new one. The
outputs are the tool's own: the worker runs the same code with the same
argv, environment, directory and streams, so what it prints, its exit status
and its traceback on a crash are what the plain `TOOL ARGS` command gives.

Python 3.6 or later; standard library only.
"""

import errno
import gc
import importlib.machinery
import importlib.util
import os
import select
import signal
import stat
import sys
import time
import traceback

sys.dont_write_bytecode = True  # nothing written beside the server, or the tools
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for toolcall, also under PYTHONSAFEPATH
from toolcall import identity, list_fds, open_direct, split_message, take_call  # noqa: E402

# A tool whose main() may run many times in one process: it leaves no state
# that changes what a later call prints (module globals are caches at most).
REUSABLE_MARKER = "# r2e-tool-server: reusable"
POLL_SECONDS = 0.2  # how often clients are checked for being gone


def load(path):
    """The tool at `path` as a module (not __main__), with its file's identity."""
    name = "r2e_tool_" + os.path.basename(path).replace("-", "_").replace(".", "_")
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    if not callable(getattr(module, "main", None)):
        raise ImportError("%s has no main()" % path)
    return module


def declares(path, marker):
    """Whether the file at `path` has the line `marker`."""
    with open(path, "rb") as f:
        return ("\n%s\n" % marker).encode() in f.read()


def alive(pid):
    """Whether `pid` exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            text = f.read()
    except OSError:
        return False
    return text[text.rfind(b")") + 2:][:1] != b"Z"


def client_alive(call):
    """Whether the client of `call` (client pid, call id, a direct call's
    status pipe or None) is still there: its process, or for a direct call a
    reader on its status pipe (r2e closes and removes it when it gives up)."""
    if call[2] is None:
        return alive(call[0])
    try:
        os.close(open_direct(call[2]))
    except OSError:
        return False
    return True


def answer_direct(path, code):
    """The status line of a direct call whose worker died."""
    try:
        fd = open_direct(path)
    except OSError:
        return
    try:
        os.write(fd, b"%d\n" % code)
    except OSError:
        pass
    os.close(fd)


def set_policy(policy):
    """Sets this process's scheduling policy where the system has it. The
    server runs as SCHED_BATCH: a client writes its request in many small
    writes (one per variable), and a batch process that they wake does not
    preempt the writer, so the request is written in one go instead of one
    context switch per write. It never runs a tool itself."""
    if policy is None or not hasattr(os, "sched_setscheduler"):
        return
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))
    except OSError:
        pass


def tell(done_w, again):
    """A worker's word to the server that its call is over: a server that
    is gone (or let it go) must not keep the status from the client."""
    try:
        os.write(done_w, b"idle\n" if again else b"exit\n")
    except OSError:
        pass


class Worker(object):
    """The server's side of a worker: its pid, the pipe calls are handed over
    on, the pipe it says "done" on, and the call it runs, if any."""

    def __init__(self, pid, assign_w, done_r):
        self.pid = pid
        self.assign_w = assign_w
        self.done_r = done_r
        self.call = None  # (client pid, call id)
        self.exiting = False  # said it exits after its last call

    def close(self):
        for fd in (self.assign_w, self.done_r):
            try:
                os.close(fd)
            except OSError:
                pass


class Server(object):
    def __init__(self, directory, tool_paths, direct=None):
        self.dir = directory
        self.direct = direct  # the direct request fifo's path, or None
        self.direct_dir = os.path.dirname(direct) if direct else None
        self.tools = {}  # path -> (identity, module, reusable)
        for path in tool_paths:
            try:
                self.tools[path] = (identity(path), load(path), declares(path, REUSABLE_MARKER))
            except Exception:
                pass  # such a tool runs plainly
        self.workers = {}  # pid -> Worker
        self.leaving = set()  # pids of workers let go that have not exited yet
        self.reply_fd = -1
        self.direct_fd = -1
        self.direct_ino = None
        self.superseded = False  # another server took over: end once the calls under way are over

    def note(self, name, text):
        """Why the last call was not served, for whoever debugs it."""
        try:
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        except OSError:
            pass

    def answer(self, text):
        """A line on the reply fifo. Lines nobody read (their client was
        killed) fill it up at worst: then they are drained first."""
        data = text.encode()
        try:
            os.write(self.reply_fd, data)
        except BlockingIOError:
            try:
                while os.read(self.reply_fd, 65536):
                    pass
            except OSError:
                pass
            try:
                os.write(self.reply_fd, data)
            except OSError:
                pass
        except OSError:
            pass

    def idle_worker(self):
        for worker in self.workers.values():
            if worker.call is None and not worker.exiting:
                return worker
        return None

    def fork_worker(self):
        """Forks a worker: the fork and resetting signals are paid here,
        before a call comes."""
        assign_r, assign_w = os.pipe()
        done_r, done_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                self.become_worker(assign_r, done_w)
            finally:
                os._exit(1)
        os.close(assign_r)
        os.close(done_w)
        os.set_blocking(done_r, False)
        worker = Worker(pid, assign_w, done_r)
        self.workers[pid] = worker
        return worker

    def become_worker(self, assign_r, done_w):
        """The worker's loop: takes the calls handed to it one at a time
        until the server closes the pipe, or a call leaves it unfit for
        another (see take_call). Its collector only looks at what it made
        (gc.freeze): a collection of the server's objects would touch, and
        copy, every page of them."""
        os.setpgid(0, 0)
        set_policy(getattr(os, "SCHED_OTHER", None))  # the tools run as in a plain call
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        keep = {assign_r, done_w, self.reply_fd}
        for fd in list_fds():
            if fd > 2 and fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if hasattr(gc, "freeze"):
            gc.freeze()
        else:
            gc.disable()
        pending = b""
        while True:
            message, pending = split_message(pending)
            if message is None:
                chunk = os.read(assign_r, 65536)
                if not chunk:
                    os._exit(0)  # the server let this worker go, or is gone
                pending += chunk
                continue
            call_id, code, again = take_call(self, message, lambda again: tell(done_w, again))
            if not again:
                os._exit(code)

    def serve_request(self, message):
        try:  # the header is enough here; the worker parses the rest
            header = os.fsdecode(message[:message.index(b"\n")]).split(" ")
            call_id, client = header[0], int(header[1])
            status = None
            if client == 0:
                if self.direct_dir is None or "/" in header[2]:
                    return
                status = os.path.join(self.direct_dir, header[2])
        except (ValueError, IndexError):
            return
        for attempt in range(2):
            worker = self.idle_worker() or self.fork_worker()
            try:
                os.write(worker.assign_w, message)
            except OSError:  # that worker died: another one
                self.retire(worker)
                continue
            worker.call = (client, call_id, status)
            break

    def retire(self, worker):
        """Lets an idle worker go (it exits when its pipe closes, after the
        status of its last call, which it may still be writing)."""
        worker.close()
        self.workers.pop(worker.pid, None)
        self.leaving.add(worker.pid)

    def read_done(self, worker):
        """A worker said its call is over: "idle" (it takes another; one idle
        worker is enough) or "exit" (it exits next: neither idle nor running
        a call, so that what the call left in its group is not taken for an
        orphan's when its client is gone)."""
        try:
            data = os.read(worker.done_r, 4096)
        except OSError:
            return
        if not data or worker.call is None:
            return
        worker.call = None
        if data.split()[-1] == b"exit":
            worker.exiting = True
        elif any(w.call is None and not w.exiting for w in self.workers.values() if w is not worker):
            self.retire(worker)

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                break
            self.leaving.discard(pid)
            worker = self.workers.pop(pid, None)
            if worker is None:
                continue
            worker.close()
            if worker.call is not None:
                code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
                self.note("last-death", "worker %d died (%d) during call %s\n" % (pid, code, worker.call[1]))
                if worker.call[2] is None:
                    self.answer("%s %d\n" % (worker.call[1], code))
                else:
                    answer_direct(worker.call[2], code)
        if self.idle_worker() is None and not self.workers and not self.superseded:
            self.fork_worker()  # not while a call runs: it would take CPU from it

    def kill_orphans(self):
        """Kills the process group of every call whose client is gone. A
        worker says its call is over before its client hears the status, so
        a client may be gone because its call ended: what the worker said is
        read first. A worker killed here takes no other call."""
        for worker in list(self.workers.values()):
            if worker.call is not None and not client_alive(worker.call):
                self.read_done(worker)
                if worker.call is None:
                    continue
                self.note("last-orphan", "killed worker %d: client %d of call %s is gone\n"
                          % (worker.pid, worker.call[0], worker.call[1]))
                worker.exiting = True
                try:
                    os.killpg(worker.pid, signal.SIGKILL)
                except OSError:
                    pass

    def wait_for_workers(self, seconds=5.0):
        """Before a superseded server exits: lets its workers go and waits
        (bounded) until they are gone, also those let go earlier, so that
        the last call's status line is on the reply fifo by then (its client
        takes this server's exit for the end of the call)."""
        for worker in list(self.workers.values()):
            worker.close()
        deadline = time.monotonic() + seconds
        while (self.workers or self.leaving) and time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                time.sleep(0.01)
            else:
                self.workers.pop(pid, None)
                self.leaving.discard(pid)

    def watch_direct(self):
        """Keeps the direct request fifo open: opened at start, and again when
        r2e made a new one (the sandbox removed the old one). Returns its fd
        or -1."""
        if self.direct is None or self.superseded:
            return self.direct_fd
        try:
            st = os.stat(self.direct)
            ino = st.st_ino if stat.S_ISFIFO(st.st_mode) else None
        except OSError:
            ino = None
        if ino == self.direct_ino:
            return self.direct_fd
        if self.direct_fd >= 0:
            os.close(self.direct_fd)
            self.direct_fd = -1
        self.direct_ino = None
        if ino is not None:
            try:
                self.direct_fd = os.open(self.direct, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
                self.direct_ino = os.fstat(self.direct_fd).st_ino
            except OSError:
                self.direct_fd = -1
        return self.direct_fd

    def stop_direct(self):
        if self.direct_fd >= 0:
            os.close(self.direct_fd)
            self.direct_fd = -1

    def read_requests(self, fd, pending):
        """Serves the whole requests read from `fd` after `pending`; returns
        what is left of a request not yet complete."""
        try:
            pending += os.read(fd, 65536)
        except OSError as e:
            if e.errno != errno.EAGAIN:
                raise
        while pending:
            try:
                message, pending = split_message(pending)
            except (ValueError, IndexError):
                return b""  # out of step (a client killed mid-request): drop it
            if message is None:
                break
            self.serve_request(message)
        return pending

    def run(self):
        req = os.path.join(self.dir, "req")
        try:
            os.unlink(req)
        except OSError:
            pass
        reply = os.path.join(self.dir, "reply")
        try:
            os.unlink(reply)
        except OSError:
            pass
        os.mkfifo(reply, 0o600)
        self.reply_fd = os.open(reply, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        os.mkfifo(req, 0o600)
        req_fd = os.open(req, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        mine = os.fstat(req_fd).st_ino
        wake_r, wake_w = os.pipe()
        for fd in (wake_r, wake_w):
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.watch_direct()  # before the pid file: a server that says it serves takes direct calls too
        tmp = os.path.join(self.dir, "pid.%d" % os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, os.path.join(self.dir, "pid"))
        try:
            os.unlink(os.path.join(self.dir, "starting"))
        except OSError:
            pass
        self.fork_worker()
        pending = b""
        pending_direct = b""
        while True:
            done = {w.done_r: w for w in self.workers.values()}
            direct_fd = self.watch_direct()
            listen = [] if self.superseded else [fd for fd in (req_fd, direct_fd) if fd >= 0]
            try:
                ready, _, _ = select.select(listen + [wake_r] + list(done), [], [], POLL_SECONDS)
            except InterruptedError:
                ready = []
            for fd in ready:
                if fd in done:
                    self.read_done(done[fd])
            if wake_r in ready:
                try:
                    while os.read(wake_r, 4096):
                        pass
                except OSError:
                    pass
            self.reap()
            if req_fd in ready:
                pending = self.read_requests(req_fd, pending)
            if direct_fd >= 0 and direct_fd in ready and not self.superseded:
                pending_direct = self.read_requests(direct_fd, pending_direct)
            self.kill_orphans()
            try:
                current = os.stat(req).st_ino
            except OSError:
                current = None
            # The directory was removed, or another server took over: no new
            # call, but the calls under way end as they would have (their
            # clients watch this process).
            self.superseded = self.superseded or current != mine
            if self.superseded:
                self.stop_direct()
                for worker in list(self.workers.values()):
                    if worker.call is None and not worker.exiting:
                        self.retire(worker)
                if all(worker.call is None for worker in self.workers.values()):
                    self.wait_for_workers()
                    return 0


def main(argv):
    direct = None
    if len(argv) > 2 and argv[1] == "--direct":
        direct, argv = argv[2], argv[:1] + argv[3:]
    if len(argv) < 2:
        sys.stderr.write("usage: toolserver.py [--direct FIFO] DIR TOOL_PATH...\n")
        return 2
    directory = argv[1]
    # Detach: the call that started us must not wait for us, nor take us down.
    if os.fork() > 0:
        return 0
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.closerange(3, 65536)  # what the starting shell left open (its session's fifos)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        set_policy(getattr(os, "SCHED_BATCH", None))
        server = Server(directory, argv[2:], direct)
        return server.run()
    except Exception:
        try:
            with open(os.path.join(directory, "failed"), "w") as f:
                f.write(traceback.format_exc())
        except OSError:
            pass
        return 1


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    os._exit(code)
