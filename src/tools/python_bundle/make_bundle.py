#!/usr/bin/env python3
"""Makes r2e-python: the static launcher with the modules the tools need.

    make_bundle.py LAUNCHER OUTPUT SCRIPT_DIR...

LAUNCHER is r2e_python.c linked statically against this interpreter's
libpython (so this script must run under the same CPython version: the
archive holds bytecode of this interpreter). The archive appended to it holds,
compiled, every module that the tool scripts under SCRIPT_DIR (the generated
tool sets and the tool server) import, found by modulefinder from this
interpreter's standard library, plus all of `encodings` (a file may be in any
codec chardet names) and chardet when it is installed (the editor guesses
encodings with it, as the scaffold does; without it the tools read UTF-8).
Only the standard library and chardet go in; packages no tool imports
(asyncio, email, xml, ...) are left out. Output: LAUNCHER's bytes followed by
the zip archive; zipimport finds an archive at the end of a file.
"""

import glob
import importlib.util
import io
import marshal
import modulefinder
import os
import pkgutil
import sys
import sysconfig
import zipfile

# Reached by modulefinder through imports the tools never run (optional
# features of modules they use); leaving them out keeps the file small.
UNUSED = [
    "asyncio", "multiprocessing", "http", "email", "xml", "unittest", "pydoc", "pydoc_data",
    "distutils", "lib2to3", "concurrent", "ctypes", "html", "tkinter", "sqlite3", "dbm",
    "curses", "idlelib", "test", "ensurepip", "venv", "xmlrpc", "wsgiref", "doctest", "pdb",
    "tarfile", "lzma", "bz2", "ftplib", "poplib", "imaplib", "smtplib", "nntplib", "telnetlib",
    "mailbox", "mimetypes", "netrc", "socketserver", "ssl",
]


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    launcher, output, script_dirs = argv[1], argv[2], argv[3:]
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    allowed = [stdlib + os.sep]
    finder = modulefinder.ModuleFinder(excludes=UNUSED)
    for d in script_dirs:
        sys.path.insert(0, d)  # the tool server imports toolcall from its directory
        for script in sorted(glob.glob(os.path.join(d, "**", "*.py"), recursive=True)):
            finder.run_script(script)
    for name in ["encodings", "runpy", "traceback", "linecache", "tokenize"]:
        finder.import_hook(name)
    import encodings
    for m in pkgutil.iter_modules(encodings.__path__):
        finder.import_hook("encodings." + m.name)
    try:
        import chardet
    except ImportError:
        chardet = None
    if chardet is not None:
        allowed.append(os.path.realpath(os.path.dirname(chardet.__file__)) + os.sep)
        finder.import_hook("chardet")
        for m in pkgutil.iter_modules(chardet.__path__):
            finder.import_hook("chardet." + m.name)

    archive = io.BytesIO()
    count = 0
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name, module in sorted(finder.modules.items()):
            path = module.__file__
            if not path or not path.endswith(".py") or name == "__main__":
                continue
            if not any(os.path.realpath(path).startswith(a) for a in allowed):
                continue  # the tool scripts themselves, or site packages
            with open(path, "rb") as f:
                code = compile(f.read(), path, "exec", dont_inherit=True)
            # A pyc with no source beside it in the archive: zipimport loads
            # it without checking the (zero) timestamp.
            data = importlib.util.MAGIC_NUMBER + b"\0" * 12 + marshal.dumps(code)
            entry = name.replace(".", "/") + ("/__init__.pyc" if module.__path__ else ".pyc")
            info = zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
            count += 1
    with open(launcher, "rb") as f:
        binary = f.read()
    tmp = output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(binary)
        f.write(archive.getvalue())
    os.chmod(tmp, 0o755)
    os.replace(tmp, output)
    print("r2e-python: %d modules, %d bytes (CPython %s%s)" % (
        count, len(binary) + len(archive.getvalue()), sys.version.split()[0],
        ", chardet " + chardet.__version__ if chardet else ", no chardet"))


if __name__ == "__main__":
    main(sys.argv)
