#!/usr/bin/env python3
"""The local runtime on a task image, with no Docker daemon involved.

Writes the demo images as `docker save` archives (the only use of Docker
here), then, in a private mount namespace where /run is a new tmpfs and
/run/docker.sock is a listener of this script that records every connection
(so any use of the daemon's socket is seen, not just failed):

  - `r2e image pull` of both archives, `r2e image ls` lists them;
  - `r2e run --runtime local --image docker-archive:...`: the scripted agent
    earns reward 1, the noop agent 0 (R2E flavour of the demo task);
  - `r2e eval --runtime local --image docker-archive:...` of the SWE-bench
    flavour: the gold patch resolves, the empty one does not;
  - with Debian's docker-registry (distribution 2.8) on loopback holding the
    demo image (pushed by skopeo from the archive) when both are installed:
    `r2e image pull HOST:PORT/...` gives the same image ID as the archive, and
    `r2e run --use-task-image` on a row whose docker_image names it earns 1;
  - a second docker-registry with TLS (a test CA) and basic auth (htpasswd):
    `r2e image pull --registry-ca CA --docker-config CONFIG` gives the same
    image ID; without the CA the error names the certificate, without
    credentials it says the registry wants them;
  - skopeo's own writings of the image, an OCI layout (`oci:DIR:TAG`) and a
    docker-archive, pull to the image ID the layout's files name;
  - no sandbox directory, overlay mount or image lease is left, nobody
    connected to the socket; `r2e image rm` empties the cache.

Exit 77 (skipped) without Docker to write the archives, or without root (the
socket is hidden with a mount namespace).

    tests/cli/local_image_test.py PATH/TO/r2e
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
IMAGES = {"r2e": "r2e-demo/textstats:latest", "swebench": "r2e-demo/textstats-swebench:latest"}


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def run(argv, env, timeout=600):
    p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError("no JSON line in output:\n" + text)


class SocketWatch(object):
    """A Unix socket listener at `path` that counts connections."""

    def __init__(self, path):
        self.connections = 0
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            conn, _ = self.server.accept()
            self.connections += 1
            conn.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


USER, PASSWORD = "r2e-test", "s3cret-pass"


def make_tls(work):
    """A test CA and a certificate for 127.0.0.1 signed by it: (ca, cert, key) paths."""
    # The CA certificate alone in its directory: skopeo's --dest-cert-dir
    # takes any *.key there for a client key.
    d = os.path.join(work, "tls")
    os.makedirs(os.path.join(d, "ca"))
    ca = os.path.join(d, "ca", "ca.crt")
    ca_key, cert, key, csr = (os.path.join(d, n) for n in ("ca.key", "server.crt", "server.key", "server.csr"))
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.check_call(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                           "/CN=r2e test CA", "-keyout", ca_key, "-out", ca], **quiet)
    subprocess.check_call(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                           "-keyout", key, "-out", csr], **quiet)
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    subprocess.check_call(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                           "-days", "2", "-extfile", ext, "-out", cert], **quiet)
    return ca, cert, key


def htpasswd_line():
    """USER:bcrypt(PASSWORD), the only hash docker-registry's htpasswd accepts."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    return "%s:%s\n" % (USER, crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_BLOWFISH)))


def start_registry(work, archive, secure=False):
    """Debian's docker-registry on loopback with the demo image: (process, address, CA path) or Nones.

    secure: TLS with a test CA and basic auth (USER, PASSWORD)."""
    if shutil.which("docker-registry") is None or shutil.which("skopeo") is None:
        print("note: docker-registry or skopeo missing: the registry part is skipped")
        return None, None, None
    name = "secure-registry" if secure else "registry"
    port = free_port()
    config = "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%d\n" % (
        os.path.join(work, name + "-data"), port)
    push = ["--dest-tls-verify=false"]
    ca = None
    if secure:
        ca, cert, key = make_tls(work)
        htpasswd = os.path.join(work, "htpasswd")
        with open(htpasswd, "w") as f:
            f.write(htpasswd_line())
        config += "  tls:\n    certificate: %s\n    key: %s\n" % (cert, key)
        config += "auth:\n  htpasswd:\n    realm: r2e-test\n    path: %s\n" % htpasswd
        push = ["--dest-cert-dir", os.path.dirname(ca), "--dest-creds", "%s:%s" % (USER, PASSWORD)]
    config_path = os.path.join(work, name + ".yml")
    with open(config_path, "w") as f:
        f.write(config)
    log = open(os.path.join(work, name + ".log"), "w")
    proc = subprocess.Popen(["docker-registry", "serve", config_path], stdout=log, stderr=log)
    host = "127.0.0.1:%d" % port
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    subprocess.check_call(["skopeo", "copy", "--quiet"] + push + ["docker-archive:" + archive,
                                                                   "docker://%s/r2e-demo/textstats:latest" % host])
    return proc, host, ca


def check_secure_registry(r2e, env, work, host, ca, archive_id, check):
    """Pulls over TLS with basic auth; the errors without the CA or the credentials."""
    reference = host + "/r2e-demo/textstats:latest"
    no_auth = os.path.join(work, "docker-config-empty.json")
    with open(no_auth, "w") as f:
        json.dump({"auths": {}}, f)
    rc, out, err = run([r2e, "image", "pull", "--docker-config", no_auth, reference], env)
    check(rc != 0 and "certificate" in err.lower(),
          "r2e image pull from the TLS registry without its CA fails naming the certificate (rc %d: %s)"
          % (rc, err.strip()[-300:]))
    rc, out, err = run([r2e, "image", "pull", "--registry-ca", ca, "--docker-config", no_auth, reference], env)
    check(rc != 0 and ("credential" in err.lower() or "401" in err),
          "r2e image pull without credentials says the registry wants them (rc %d: %s)" % (rc, err.strip()[-300:]))
    config = os.path.join(work, "docker-config.json")
    token = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
    with open(config, "w") as f:
        json.dump({"auths": {host: {"auth": token}}}, f)
    rc, out, err = run([r2e, "image", "pull", "--registry-ca", ca, "--docker-config", config, reference], env)
    pulled = last_json(out) if rc == 0 else {}
    check(rc == 0 and [pulled.get("id")] == archive_id,
          "r2e image pull over TLS with basic auth gives the archive's image ID (rc %d: %s)" %
          (rc, err.strip()[-300:]))


def layout_config_digest(layout, tag):
    """The config digest of TAG in an OCI layout, read from its files: the image ID."""
    def blob(digest):
        with open(os.path.join(layout, "blobs", *digest.split(":", 1))) as f:
            return json.load(f)
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return blob(m["digest"])["config"]["digest"]
    return None


def check_skopeo_layouts(r2e, env, work, archive, check):
    """skopeo's OCI layout and docker-archive of the image (skopeo rewrites the
    config, so the ID is the layout's config digest, not the docker-save archive's)."""
    layout = os.path.join(work, "skopeo-oci")
    rewritten = os.path.join(work, "skopeo-archive.tar")
    subprocess.check_call(["skopeo", "copy", "--quiet", "docker-archive:" + archive, "oci:%s:demo" % layout])
    subprocess.check_call(["skopeo", "copy", "--quiet", "oci:%s:demo" % layout,
                           "docker-archive:%s:r2e-demo/textstats:skopeo" % rewritten])
    want = layout_config_digest(layout, "demo")
    references = ["oci:%s:demo" % layout, "docker-archive:" + rewritten]
    for reference in references:
        rc, out, err = run([r2e, "image", "pull", reference], env)
        pulled = last_json(out) if rc == 0 else {}
        check(rc == 0 and want and pulled.get("id") == want,
              "r2e image pull %s (written by skopeo) gives the layout's config digest %s (rc %d, %s: %s)" %
              (reference.split(":")[0], want, rc, pulled.get("id"), err.strip()[-300:]))
    rc, out, err = run([r2e, "image", "rm"] + references, env)
    check(rc == 0, "r2e image rm of skopeo's references (rc %d: %s)" % (rc, err.strip()[-300:]))


def inside_namespace(r2e, archives, work, registry, secure=None, ca=None):
    """The checks, with /run replaced (the caller re-executed us under unshare)."""
    subprocess.check_call(["mount", "-t", "tmpfs", "tmpfs", "/run"])
    watch = SocketWatch("/run/docker.sock")
    env = dict(os.environ, R2E_IMAGE_CACHE=os.path.join(work, "cache"), TMPDIR=os.path.join(work, "sandboxes"))
    os.makedirs(env["TMPDIR"])
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    refs = {k: "docker-archive:" + v for k, v in archives.items()}
    rc, out, err = run([r2e, "image", "pull", refs["r2e"], refs["swebench"]], env)
    check(rc == 0, "r2e image pull of both archives (rc %d: %s)" % (rc, err.strip()[-300:]))
    rc, out, err = run([r2e, "image", "ls", "--json"], env)
    listed = [json.loads(line) for line in out.splitlines() if line.strip()]
    check(rc == 0 and sorted(r for i in listed for r in i["references"]) == sorted(refs.values()),
          "r2e image ls lists both, by reference: %s" % out.strip()[:400])

    tasks = os.path.join(SOURCE, "examples", "tasks", "demo.jsonl")
    for agent, want in (("scripted", 1.0), ("noop", 0.0)):
        rc, out, err = run([r2e, "run", "--runtime", "local", "--image", refs["r2e"], "--tasks", tasks,
                            "--agent", agent, "--out", os.path.join(work, "out-" + agent)], env)
        summary = last_json(out) if out.strip() else {}
        check(rc == 0 and summary.get("reward") == want,
              "r2e run --agent %s on the image earns %s (rc %d, %s; %s)" %
              (agent, want, rc, summary.get("reward"), err.strip()[-300:]))

    dataset = os.path.join(SOURCE, "examples", "tasks", "demo-swebench.jsonl")
    for predictions, resolved in (("gold", 1), (os.path.join(SOURCE, "tests", "fixtures", "eval", "empty.jsonl"), 0)):
        run_id = "gold" if predictions == "gold" else "empty"
        rc, out, err = run([r2e, "eval", "--runtime", "local", "--image", refs["swebench"], "--dataset", dataset,
                            "--predictions", predictions, "--run-id", run_id,
                            "--report-dir", os.path.join(work, "reports")], env)
        check(rc == 0 and ("%d resolved" % resolved) in err,
              "r2e eval --predictions %s resolves %d (rc %d: %s)" % (run_id, resolved, rc, err.strip()[-300:]))

    if registry:
        reference = registry + "/r2e-demo/textstats:latest"
        rc, out, err = run([r2e, "image", "pull", reference], env)
        pulled = last_json(out) if rc == 0 else {}
        archive_id = [i["id"] for i in listed if refs["r2e"] in i["references"]]
        check(rc == 0 and [pulled.get("id")] == archive_id,
              "r2e image pull from the registry gives the archive's image ID (rc %d: %s)" % (rc, err.strip()[-300:]))
        with open(os.path.join(SOURCE, "examples", "tasks", "demo.jsonl")) as f:
            row = json.loads(f.readline())
        row.pop("local_repo", None)
        row.pop("local_tests", None)
        row["docker_image"] = reference
        task = os.path.join(work, "registry-task.jsonl")
        with open(task, "w") as f:
            f.write(json.dumps(row) + "\n")
        rc, out, err = run([r2e, "run", "--runtime", "local", "--use-task-image", "--tasks", task,
                            "--agent", "scripted", "--out", os.path.join(work, "out-registry")], env)
        summary = last_json(out) if out.strip() else {}
        check(rc == 0 and summary.get("reward") == 1.0,
              "r2e run --use-task-image with the row's registry image earns 1 (rc %d: %s)" % (rc, err.strip()[-300:]))
        # (The same image as the archive: the removal below takes both references.)
        check_skopeo_layouts(r2e, env, work, archives["r2e"], check)
    if secure:
        check_secure_registry(r2e, env, work, secure, ca,
                              [i["id"] for i in listed if refs["r2e"] in i["references"]], check)

    left = os.listdir(env["TMPDIR"])
    check(left == [], "no sandbox directory left: %s" % left)
    with open("/proc/self/mountinfo") as f:
        overlays = [line for line in f if " overlay " in line and "r2e-local" in line]
    check(overlays == [], "no overlay mount left: %s" % overlays)
    rc, out, err = run([r2e, "image", "ls", "--json"], env)
    in_use = [i["id"] for i in (json.loads(line) for line in out.splitlines() if line.strip()) if i["in_use"]]
    check(in_use == [], "no image still held by a sandbox: %s" % in_use)
    rc, out, err = run([r2e, "image", "rm", refs["r2e"], refs["swebench"]], env)
    rc2, out2, _ = run([r2e, "image", "ls", "--json"], env)
    check(rc == 0 and out2.strip() == "", "r2e image rm empties the cache (rc %d: %s; left %s)" % (rc, err, out2))
    check(watch.connections == 0, "the Docker socket was never opened (%d connections)" % watch.connections)
    return 1 if failures else 0


def main():
    r2e = os.path.abspath(sys.argv[1])
    if len(sys.argv) > 3 and sys.argv[2] == "--inside":
        work = sys.argv[3]
        archives = json.loads(sys.argv[4])
        sys.exit(inside_namespace(r2e, archives, work, *sys.argv[5:8]))
    if os.geteuid() != 0:
        skip("needs root to hide the Docker socket in a mount namespace")
    if shutil.which("docker") is None or subprocess.call(["docker", "info"], stdout=subprocess.DEVNULL,
                                                           stderr=subprocess.DEVNULL) != 0:
        skip("no Docker daemon to write the test archives with `docker save`")
    work = tempfile.mkdtemp(prefix="r2e-local-image-test-")
    try:
        archives = {}
        for flavour, image in IMAGES.items():
            path = os.path.join(work, flavour + ".tar")
            if subprocess.call(["docker", "save", "-o", path, image]) != 0:
                skip("image %s is missing (scripts/build-test-images.sh builds it)" % image)
            archives[flavour] = path
        registry, host, _ = start_registry(work, archives["r2e"])
        secure, secure_host, ca = start_registry(work, archives["r2e"], secure=True) if registry else (None,) * 3
        try:
            rc = subprocess.call(["unshare", "--mount", "--propagation", "private", "--", sys.executable,
                                  os.path.abspath(__file__), r2e, "--inside", work, json.dumps(archives)] +
                                 ([host, secure_host, ca] if host else []))
        finally:
            for proc in (registry, secure):
                if proc:
                    proc.terminate()
                    proc.wait()
        sys.exit(rc)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
