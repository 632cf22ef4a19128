"""r2e's tool server: runs the sandbox's Python tools without an interpreter start per call.

Started in the background inside a sandbox as

    python3 toolserver.py DIR TOOL_PATH...

it detaches (new session), imports each tool script once (with what the tools
import, e.g. chardet), and then serves calls until it is killed. A call is made
by the shell function that RepoEnv puts in front of a tool step (see
src/tools/served_tools.cc), one call at a time (a sandbox's session runs one
command at a time):

  client: writes to DIR/req the line
          "<id> <client pid> <fd> <fd> <fd> <argc>\\n" (<id> a fresh random name
          of digits and dots, the fds copies of its stdin, stdout and stderr),
          its argc arguments, each ended by a NUL, and its exported variables
          as `declare -px` prints them, ended by a NUL
  server: hands the line to its spare child (forked ahead, in a process
          group of its own) and forks the next spare. The child opens the
          client's streams through /proc/<pid>/fd/<fd>, answers
          "<id> ok <server pid>\\n" on DIR/reply and runs the tool's main()
          with the client's argv, environment, working directory and
          streams; or answers
          "<id> plain\\n" when it cannot serve the call (unknown tool, a tool
          file changed since it was imported, streams that cannot be
          reopened): the client then runs the tool itself.
  child:  writes "<id> <exit status>\\n" on DIR/reply and exits; the
          server writes the same line when it reaps the child (128+N for a
          signal N: a child killed before it could report). Clients take
          the first line of their id and skip lines of other ids.

A client that goes away (its command timed out and was killed) has the child's
whole process group killed, as a timed-out command's group is. Files: DIR/pid
(the server's pid, written once it serves), DIR/req and DIR/reply (fifos),
DIR/failed (why it could not start; clients then stop trying), DIR/starting
(a start is under way), DIR/last-plain (why the last call was not served). A server whose DIR/req is gone or replaced exits. The outputs are
the tool's own: the child is the same code with the same argv and streams, so
what it prints, its exit status and its traceback on a crash are what the
plain `TOOL ARGS` command gives.

Python 3.6 or later; standard library only.
"""

import errno
import gc
import importlib.machinery
import io
import importlib.util
import os
import re
import select
import signal
import sys
import time
import traceback

POLL_SECONDS = 0.2  # how often clients are checked for being gone
RETIRED = []  # stream objects a child replaced (see fresh_stdio)


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


def identity(path):
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def split_message(pending):
    """(message, rest) when `pending` starts with a whole request: the header
    line "<id> <pid> <fd> <fd> <fd> <argc>", argc NUL-terminated arguments,
    then `declare -px` text ended by a NUL. (None, pending) when it is not
    complete yet; ValueError when the header is malformed."""
    newline = pending.find(b"\n")
    if newline < 0:
        if len(pending) > 4096:
            raise ValueError("no header line")
        return None, pending
    argc = int(pending[:newline].split(b" ")[5])
    pos = newline + 1
    for _ in range(argc + 1):
        nul = pending.find(b"\0", pos)
        if nul < 0:
            return None, pending
        pos = nul + 1
    return pending[:pos], pending[pos:]


def parse_request(message):
    """(call id, client pid, [stdin, stdout, stderr fds], argv, env) of a whole
    request (see split_message); ValueError if malformed."""
    newline = message.index(b"\n")
    call_id, pid_text, in_fd, out_fd, err_fd, argc_text = os.fsdecode(message[:newline]).split(" ")
    if not call_id or call_id.strip("0123456789."):
        raise ValueError("not a call id")
    fields = message[newline + 1:-1].split(b"\0")
    argc = int(argc_text)
    argv = [os.fsdecode(a) for a in fields[:argc]]
    if len(argv) != argc or argc < 1:
        raise ValueError("malformed arguments")
    env = parse_declared(b"\0".join(fields[argc:]))
    return call_id, int(pid_text), [int(in_fd), int(out_fd), int(err_fd)], argv, env


ANSI_C = {ord("a"): 7, ord("b"): 8, ord("e"): 27, ord("E"): 27, ord("f"): 12, ord("n"): 10,
          ord("r"): 13, ord("t"): 9, ord("v"): 11, ord("\\"): 92, ord("'"): 39, ord('"'): 34, ord("?"): 63}


DECLARED = re.compile(rb"""declare -\S+ ([^=\s]+)(?:="((?:[^"\\]|\\.)*)"|=\$'((?:[^'\\]|\\.)*)')?\n""")
DOUBLE_QUOTED_ESCAPE = re.compile(rb'\\(["\\$`])')


def parse_declared(data):
    """The exported variables in what bash's `declare -px` printed: lines
    `declare -x NAME="VALUE"`, `declare -x NAME=$'VALUE'` (non-printable
    bytes), or `declare -x NAME` (exported but unset, skipped)."""
    env = {}
    for m in DECLARED.finditer(data):
        if m.group(2) is not None:
            value = DOUBLE_QUOTED_ESCAPE.sub(rb"\1", m.group(2))
        elif m.group(3) is not None:
            value = ansi_c(m.group(3))
        else:
            continue
        env[os.fsdecode(m.group(1))] = os.fsdecode(value)
    return env


def ansi_c(text):
    """The bytes of a bash $'...' string's body."""
    value = bytearray()
    m, n = 0, len(text)
    while m < n:
        c = text[m]
        if c != 0x5C or m + 1 >= n:
            value.append(c)
            m += 1
            continue
        e = text[m + 1]
        if e in ANSI_C:
            value.append(ANSI_C[e])
            m += 2
        elif 0x30 <= e <= 0x37:
            j = m + 1
            while j < min(m + 4, n) and 0x30 <= text[j] <= 0x37:
                j += 1
            value.append(int(text[m + 1:j], 8) & 0xFF)
            m = j
        elif e == ord("x"):
            j = m + 2
            while j < min(m + 4, n) and chr(text[j]) in "0123456789abcdefABCDEF":
                j += 1
            value.append(int(text[m + 2:j] or b"0", 16))
            m = j
        else:
            value += text[m:m + 2]
            m += 2
    return bytes(value)


def coerce_locale(env):
    """What CPython's start-up does to a C or POSIX locale (PEP 538)."""
    if env.get("LC_ALL") or env.get("PYTHONCOERCECLOCALE") == "0":
        return
    ctype = env.get("LC_CTYPE") or env.get("LANG") or ""
    if ctype in ("", "C", "POSIX"):
        env["LC_CTYPE"] = "C.UTF-8"


def list_fds():
    """This process's open fds (listed: sweeping the whole table costs milliseconds)."""
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(0, 1024))


def fresh_stdio(env):
    """New sys.stdin/stdout/stderr over fds 0-2, made as the interpreter makes
    them at start-up (buffer sizes from the file type, line buffering for
    terminals and stderr, the same encodings), so that output is flushed, and
    interleaved, as in a plain run."""
    encoding, errors = None, None
    if env.get("PYTHONIOENCODING"):
        enc, _, err = env["PYTHONIOENCODING"].partition(":")
        encoding, errors = enc or None, err or None
    unbuffered = bool(env.get("PYTHONUNBUFFERED"))
    made = []
    for fd, like, mode in ((0, sys.__stdin__, "rb"), (1, sys.__stdout__, "wb"), (2, sys.__stderr__, "wb")):
        tty = os.isatty(fd)
        if mode == "wb" and unbuffered:
            raw = io.open(fd, mode, buffering=0, closefd=False)
        else:
            raw = io.open(fd, mode, buffering=-1, closefd=False)
        text = io.TextIOWrapper(raw, encoding=encoding or like.encoding,
                                errors=errors or like.errors if fd != 2 else "backslashreplace",
                                newline="\n", line_buffering=mode == "wb" and (tty or fd == 2),
                                write_through=mode == "wb" and unbuffered)
        made.append(text)
    # The server's own stream objects own fds 0-2: dropping them would close
    # the fds under the new ones. They stay referenced until os._exit.
    RETIRED.extend([sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__])
    sys.stdin, sys.stdout, sys.stderr = made
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = made


def become_tool(server, message):
    """In a spare child that was given the call `message`: take over the client's
    streams, environment and directory, run the tool, report its exit status
    on the reply fifo; never returns. A call it cannot take is answered
    "plain" (the client then runs the tool itself)."""
    code = 1
    call_id = None
    try:
        call_id, client, fds, argv, env = parse_request(message)
        streams = []
        try:
            tool_path = argv[0]
            entry = server.tools.get(tool_path)
            if entry is None or identity(tool_path) != entry[0]:
                raise LookupError("%s is not served (unknown or changed since the server started)" % tool_path)
            for n, mode in zip(fds, (os.O_RDONLY, os.O_WRONLY, os.O_WRONLY)):
                streams.append(os.open("/proc/%d/fd/%d" % (client, n), mode | os.O_APPEND | os.O_CLOEXEC))
        except Exception as e:
            server.note("last-plain", "%s: %s\n" % (type(e).__name__, e))
            server.answer("%s plain\n" % call_id)
            os._exit(0)
        server.answer("%s ok %d\n" % (call_id, os.getppid()))
        for target, fd in enumerate(streams):
            os.dup2(fd, target)
        os.chdir("/proc/%d/cwd" % client)
        os.chdir(os.getcwd())  # the real path, not the /proc link
        coerce_locale(env)
        os.environ.clear()
        os.environ.update(env)
        fresh_stdio(env)
        sys.argv = [tool_path] + argv[1:]
        sys.path[0] = os.path.dirname(tool_path)
        try:
            result = entry[1].main(argv[1:])
            code = exit_code(result)
        except SystemExit as e:
            code = exit_code(e.code)
        except BaseException:
            traceback.print_exc()
            code = 1
        try:
            sys.stdout.flush()
        except BaseException:
            code = 120  # what the interpreter exits with when it cannot flush stdout
        try:
            sys.stderr.flush()
        except BaseException:
            pass
        # Reported before exiting, so that the caller does not wait for the
        # process to be torn down; the server reports again when it reaps it
        # (the client takes the first, later clients skip the second).
        server.answer("%s %d\n" % (call_id, code))
    finally:
        os._exit(code)


def exit_code(value):
    """The status `sys.exit(value)` gives."""
    if value is None:
        return 0
    if isinstance(value, bool) or isinstance(value, int):
        return int(value) & 0xFF
    try:
        sys.stderr.write(str(value) + "\n")
    except BaseException:
        pass
    return 1


def alive(pid):
    """Whether `pid` exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] != b"Z"


class Server(object):
    def __init__(self, directory, tool_paths):
        self.dir = directory
        self.tools = {}  # path -> (identity, module)
        for path in tool_paths:
            try:
                self.tools[path] = (identity(path), load(path))
            except Exception:
                pass  # such a tool runs plainly
        self.calls = {}  # child pid -> (client pid, call id)
        self.reply_fd = -1
        self.spare = None  # (pid, assignment pipe) of the child that takes the next call

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

    def fork_spare(self):
        """Forks the child that takes the next call: the fork and resetting
        signals are paid here, before the call comes. The child's collector
        is off (a short-lived tool; a collection would touch, and copy, every
        page of the server's objects)."""
        assign_r, assign_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(assign_w)
                os.setpgid(0, 0)
                signal.set_wakeup_fd(-1)
                for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
                    signal.signal(sig, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                keep = {assign_r, self.reply_fd}
                for fd in list_fds():
                    if fd > 2 and fd not in keep:
                        try:
                            os.close(fd)
                        except OSError:
                            pass
                gc.disable()
                message = b""
                while True:  # the server closes its end after the request
                    chunk = os.read(assign_r, 65536)
                    if not chunk:
                        break
                    message += chunk
                os.close(assign_r)
                if not message:
                    os._exit(0)  # the server is gone
            except BaseException:
                os._exit(1)
            become_tool(self, message)
        os.close(assign_r)
        self.spare = (pid, assign_w)

    def serve_request(self, message):
        try:  # the header is enough here; the child parses the rest
            header = os.fsdecode(message[:message.index(b"\n")]).split(" ")
            call_id, client = header[0], int(header[1])
        except (ValueError, IndexError):
            return
        for attempt in range(2):
            if self.spare is None:
                self.fork_spare()
            pid, assign_w = self.spare
            self.spare = None
            try:
                os.write(assign_w, message)
                os.close(assign_w)
            except OSError:
                os.close(assign_w)  # that spare died: another one
                continue
            self.calls[pid] = (client, call_id)
            break
        # The next spare is forked once this call is over (see reap): forked
        # now, it would take CPU from the call.

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.spare is not None and self.spare[0] == pid:
                os.close(self.spare[1])
                self.spare = None
                self.fork_spare()
                continue
            call = self.calls.pop(pid, None)
            if call is None:
                continue
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
            self.answer("%s %d\n" % (call[1], code))
            if self.spare is None:
                self.fork_spare()

    def kill_orphans(self):
        """Kills the process group of every call whose client is gone."""
        for child, (client, _) in list(self.calls.items()):
            if not alive(client):
                try:
                    os.killpg(child, signal.SIGKILL)
                except OSError:
                    pass

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
        tmp = os.path.join(self.dir, "pid.%d" % os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, os.path.join(self.dir, "pid"))
        try:
            os.unlink(os.path.join(self.dir, "starting"))
        except OSError:
            pass
        self.fork_spare()
        pending = b""
        while True:
            try:
                ready, _, _ = select.select([req_fd, wake_r], [], [], POLL_SECONDS)
            except InterruptedError:
                ready = []
            if wake_r in ready:
                try:
                    while os.read(wake_r, 4096):
                        pass
                except OSError:
                    pass
            self.reap()
            if req_fd in ready:
                try:
                    pending += os.read(req_fd, 65536)
                except OSError as e:
                    if e.errno != errno.EAGAIN:
                        raise
                while pending:
                    try:
                        message, pending = split_message(pending)
                    except (ValueError, IndexError):
                        pending = b""  # out of step (a client killed mid-request): drop it
                        break
                    if message is None:
                        break
                    self.serve_request(message)
            if self.calls:
                self.kill_orphans()
            try:
                current = os.stat(req).st_ino
            except OSError:
                current = None
            if current != mine:
                return 0  # the directory was removed, or another server took over


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: toolserver.py DIR TOOL_PATH...\n")
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
        server = Server(directory, argv[2:])
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
