"""One call of r2e's tool server, in a worker (see toolserver.py): the request
a client wrote, the client's streams, environment and directory taken over,
the tool run, its status reported, and the worker checked fit for another
call. Imported by toolserver.py from its own directory.

Python 3.6 or later; standard library only.
"""

import io
import os
import re
import sys
import traceback

# The server's own stream objects: they own fds 0-2 (dropping them would close
# the fds under a call's streams), and they give a call's streams their
# defaults (see fresh_stdio). Taken when the server imports this module.
SERVER_STDIO = (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__)


def identity(path):
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def split_message(pending):
    """(message, rest) when `pending` starts with a whole request: the header
    line "<id> <pid> <in> <out> <err> <argc>", argc NUL-terminated arguments,
    for a direct call (pid 0) its working directory ended by a NUL, then
    `declare -px` text ended by a NUL. (None, pending) when it is not
    complete yet; ValueError when the header is malformed."""
    newline = pending.find(b"\n")
    if newline < 0:
        if len(pending) > 4096:
            raise ValueError("no header line")
        return None, pending
    header = pending[:newline].split(b" ")
    argc = int(header[5])
    pos = newline + 1
    for _ in range(argc + (2 if header[1] == b"0" else 1)):
        nul = pending.find(b"\0", pos)
        if nul < 0:
            return None, pending
        pos = nul + 1
    return pending[:pos], pending[pos:]


class Request(object):
    """A whole request (see split_message). A call from a client in the
    sandbox names its pid and the fds of its streams (`fds`); a direct call
    (client pid 0, from r2e through the runtime's pipe directory) names the
    pipes, in the server's direct directory, for its status, its stdout and
    its stderr ("-": merged into stdout), and its working directory."""

    def __init__(self, call_id, client, streams, argv, cwd, env):
        self.call_id, self.client, self.streams = call_id, client, streams
        self.argv, self.cwd, self.env = argv, cwd, env

    @property
    def direct(self):
        return self.client == 0


PIPE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def parse_request(message):
    """The Request in a whole message; ValueError if malformed."""
    newline = message.index(b"\n")
    call_id, pid_text, in_text, out_text, err_text, argc_text = os.fsdecode(message[:newline]).split(" ")
    if not call_id or call_id.strip("0123456789."):
        raise ValueError("not a call id")
    client = int(pid_text)
    if client == 0:
        streams = [in_text, out_text, err_text]
        if not all(PIPE_NAME.match(name) for name in streams[:2]) or not (err_text == "-" or PIPE_NAME.match(err_text)):
            raise ValueError("not a pipe name")
    else:
        streams = [int(in_text), int(out_text), int(err_text)]
    fields = message[newline + 1:-1].split(b"\0")
    argc = int(argc_text)
    argv = [os.fsdecode(a) for a in fields[:argc]]
    if len(argv) != argc or argc < 1:
        raise ValueError("malformed arguments")
    cwd = None
    if client == 0:
        cwd = os.fsdecode(fields[argc])
        argc += 1
    declared = b"\0".join(fields[argc:])
    if LAST_ENV[0] != declared:  # a session's calls mostly have the same environment
        env = parse_declared(declared)
        coerce_locale(env)
        LAST_ENV[:] = [declared, env]
    return Request(call_id, client, streams, argv, cwd, LAST_ENV[1])


LAST_ENV = [None, None]  # (`declare -px` text, the environment it gives): never changed in place
APPLIED_ENV = [None]  # the environment os.environ holds


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
    for fd, like, mode in zip((0, 1, 2), SERVER_STDIO[3:], ("rb", "wb", "wb")):
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
    sys.stdin, sys.stdout, sys.stderr = made
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = made


def open_direct(path):
    """A pipe of a direct call, opened for writing without waiting: a pipe
    whose reader (r2e) is gone fails with ENXIO (or ENOENT) rather than
    blocking. The descriptor it gives blocks, as a tool's streams do."""
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    os.set_blocking(fd, True)
    return fd


def open_streams(server, request):
    """The call's stdin, stdout and stderr, opened here: the client's own
    (through /proc), or a direct call's /dev/null and pipes."""
    streams = []
    try:
        if not request.direct:
            for n, mode in zip(request.streams, (os.O_RDONLY, os.O_WRONLY, os.O_WRONLY)):
                streams.append(os.open("/proc/%d/fd/%d" % (request.client, n), mode | os.O_APPEND | os.O_CLOEXEC))
            return streams
        streams.append(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
        streams.append(open_direct(os.path.join(server.direct_dir, request.streams[1])))
        err = request.streams[2]
        streams.append(os.dup(streams[1]) if err == "-" else open_direct(os.path.join(server.direct_dir, err)))
        return streams
    except BaseException:
        for fd in streams:
            os.close(fd)
        raise


class Answer(object):
    """Where a call's answers go: the server's reply fifo, as lines
    "<id> ok <server pid>", "<id> plain" and "<id> <status>"; for a direct
    call its own status pipe, as lines "ok", "plain" and "<status>" (closed
    after the status)."""

    def __init__(self, server, request):
        self.server, self.call_id, self.fd = server, request.call_id, -1
        if request.direct:
            self.fd = open_direct(os.path.join(server.direct_dir, request.streams[0]))

    def say(self, word):
        if self.fd < 0:
            self.server.answer("%s %s\n" % (self.call_id, "ok %d" % os.getppid() if word == "ok" else word))
            return
        try:
            os.write(self.fd, ("%s\n" % word).encode())
        except OSError:
            pass

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def take_call(server, message, say_done):
    """In a worker that was given the call `message`: takes over the client's
    streams, environment and directory, runs the tool and reports its exit
    status (see Answer). Returns (call id, exit status, whether this process
    may take another call: a reusable tool that left it clean). A call it
    cannot take is answered "plain" (the client then runs the tool itself);
    a direct call whose client is gone is dropped. `say_done(again)` tells
    the server, before the client hears the status, that the call is over
    and whether this worker takes another one (if not, it exits next)."""
    request = parse_request(message)
    call_id, argv, env = request.call_id, request.argv, request.env
    try:
        answer = Answer(server, request)
    except OSError:
        say_done(True)  # a direct call's client gone before the call began
        return call_id, 0, True
    streams = []
    try:
        tool_path = argv[0]
        entry = server.tools.get(tool_path)
        if entry is None or identity(tool_path) != entry[0]:
            raise LookupError("%s is not served (unknown or changed since the server started)" % tool_path)
        streams = open_streams(server, request)
        os.chdir(request.cwd if request.direct else "/proc/%d/cwd" % request.client)
        os.chdir(os.getcwd())  # the real path, not the /proc link
    except Exception as e:
        for fd in streams:
            os.close(fd)
        server.note("last-plain", "%s: %s\n" % (type(e).__name__, e))
        say_done(True)
        answer.say("plain")
        answer.close()
        return call_id, 0, True
    answer.say("ok")
    for target, fd in enumerate(streams):
        os.dup2(fd, target)
        os.close(fd)
    if APPLIED_ENV[0] is not env:
        os.environ.clear()
        os.environ.update(env)
        APPLIED_ENV[0] = env
    fds_before = set(list_fds())
    pid_before = last_pid()
    fresh_stdio(env)
    sys.argv = [tool_path] + argv[1:]
    sys.path[0] = os.path.dirname(tool_path)
    code = 1
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
    # The client's streams are let go before it hears the status: it may
    # close or reuse them as soon as it does.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    again = entry[2] and clean_after_call(fds_before, pid_before)
    say_done(again)
    answer.say("%d" % code)
    answer.close()
    return call_id, code, again


def clean_after_call(fds_before, pid_before):
    """Whether this worker is as it was before the call, so that the next
    call sees what a new process would: descriptors the tool left open are
    closed; a thread left running, or a process left in its process group
    (a command the tool put in the background keeps that group), means no:
    the next call then gets a new worker, in a new group, so that a
    timed-out call's group kill never reaches what an earlier call left."""
    os.chdir("/")
    for fd in list_fds():
        if fd not in fds_before:
            try:
                os.close(fd)
            except OSError:
                pass
    if threading_count() > 1:
        return False
    pid_after = last_pid()
    if pid_before is not None and pid_after == pid_before:
        return True  # no process was made during the call
    if pid_before is not None and pid_after is not None and 0 < pid_after - pid_before <= 256:
        candidates = range(pid_before + 1, pid_after + 1)  # only those made during the call
    else:
        try:
            candidates = [int(n) for n in os.listdir("/proc") if n.isdigit()]
        except OSError:
            return False
    me = os.getpid()
    for pid in candidates:
        if pid == me:
            continue
        try:
            with open("/proc/%d/stat" % pid, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split(b" ")
        if fields[0] != b"Z" and int(fields[2]) == me:
            return False
    return True


def last_pid():
    """The last process id given out in this pid namespace, or None."""
    try:
        with open("/proc/sys/kernel/ns_last_pid", "rb") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def threading_count():
    threading = sys.modules.get("threading")
    return threading.active_count() if threading is not None else 1


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
