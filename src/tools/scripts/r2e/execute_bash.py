#!/usr/bin/env python3
"""
Execute a bash command in the terminal, in the repository's directory.
* Give the command as `cmd` (or `command`), e.g. `python my_script.py`.
* Its standard output and standard error are shown under [STDOUT] and [STDERR].
* Commands starting with `git`, `ipython`, `jupyter` or `nohup` are not allowed.
* Long-running commands are stopped at the step's time limit; do not start servers or
  interactive programs.
"""

import argparse
import subprocess
import sys
import threading

REFUSED_FIRST_WORDS = ("git", "ipython", "jupyter", "nohup")
# Bytes kept of each stream: the head and the tail, with a note about the middle.
KEEP_BYTES = 512 * 1024


def first_word(cmd):
    """The command's first word, ending at whitespace or a shell operator."""
    word = cmd.strip()
    for i, c in enumerate(word):
        if c.isspace() or c in ";&|()<>":
            return word[:i]
    return word


class BoundedReader(threading.Thread):
    """Reads a pipe to its end, keeping the first and last KEEP_BYTES bytes."""

    def __init__(self, pipe):
        threading.Thread.__init__(self)
        self.daemon = True
        self.pipe = pipe
        self.head = b""
        self.tail = b""
        self.dropped = 0

    def run(self):
        while True:
            chunk = self.pipe.read(65536)
            if not chunk:
                break
            room = KEEP_BYTES - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail += chunk
                if len(self.tail) > KEEP_BYTES:
                    self.dropped += len(self.tail) - KEEP_BYTES
                    self.tail = self.tail[-KEEP_BYTES:]
        self.pipe.close()

    def data(self):
        if self.dropped:
            note = "\n... [{} bytes of output omitted] ...\n".format(self.dropped).encode()
            return self.head + note + self.tail
        return self.head + self.tail


def emit(data):
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        sys.stdout.write(data.decode("utf-8", "replace"))
    else:
        out.write(data)
    sys.stdout.flush()


def main(argv):
    parser = argparse.ArgumentParser(
        prog="execute_bash", allow_abbrev=False,
        description="Execute a bash command and show its output.")
    parser.add_argument(
        "--cmd", type=str, default=None,
        help="The bash command to execute. For example: `python my_script.py`.")
    parser.add_argument(
        "command", type=str, nargs="?", default=None,
        help="The bash command to execute (the same as `cmd`).")
    parser.add_argument("--command", dest="command_option", type=str, default=None,
                        help=argparse.SUPPRESS)
    # `--cmd VALUE` as `--cmd=VALUE`, so a command such as `--version` stays the value.
    glued, i = [], 0
    while i < len(argv):
        if argv[i] in ("--cmd", "--command") and i + 1 < len(argv):
            glued.append(argv[i] + "=" + argv[i + 1])
            i += 2
        else:
            glued.append(argv[i])
            i += 1
    args = parser.parse_args(glued)
    given = [c for c in (args.cmd, args.command, args.command_option) if c is not None]
    if len(given) > 1:
        emit(b"ERROR: Give the command once: as `cmd` or as `command`, not both.\n")
        return 2
    cmd = given[0] if given else ""
    if not cmd.strip():
        emit(b"ERROR: No command given. Pass the bash command to run as `cmd`.\n")
        return 2
    word = first_word(cmd)
    if word in REFUSED_FIRST_WORDS:
        emit("Bash command '{}' is not allowed. Please use a different command or tool.\n".format(
            word).encode("utf-8", "surrogateescape"))
        return 1

    try:
        proc = subprocess.Popen(["bash", "-c", "--", cmd], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        emit("ERROR: Cannot start bash: {}\n".format(e).encode("utf-8", "replace"))
        return 127
    readers = [BoundedReader(proc.stdout), BoundedReader(proc.stderr)]
    for r in readers:
        r.start()
    code = proc.wait()
    for r in readers:
        r.join()
    out, err = readers[0].data().strip(), readers[1].data().strip()
    if code < 0:
        code = 128 - code  # killed by signal N: 128+N, as shells report it
    text = b""
    if code != 0:
        text += b"Error executing command:\n\n"
    text += b"[STDOUT]\n\n" + out + b" \n\n[STDERR]\n\n" + err + b"\n"
    emit(text)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
