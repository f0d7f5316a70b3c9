"""Fixtures for weir's integration tests: the real daemon, real backends,
real clients, all on 127.0.0.1 and all cleaned up, pass or fail."""
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("WEIR_BUILD", "build/asan"))
REL = os.path.join(ROOT, "build/rel")
WEIR = os.path.join(BUILD, "weir")
WEIRCTL = os.path.join(BUILD, "weirctl")
BACKEND = os.path.join(REL, "weir-backend")
SCHED_PREDICT = os.path.join(REL, "sched-predict")
DGRAM_ECHO = os.path.join(BUILD, "dgram-echo")

# The sanitizers must fail a run, not just print.
os.environ.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1:exitcode=99")
os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=98")
# weir must never attach its XDP program to this machine's own interfaces for
# a test's packet-mode services (1.2.3.4:80...): only inside a lab's namespaces
# (netns.NsWeir turns it back on there).
os.environ["WEIR_XDP_AUTO"] = "off"


_handed_out = set()


def free_port(host="127.0.0.1"):
    """A port free now for TCP and UDP both, and never one this run handed
    out before (the kernel may offer a just-released port again)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port in _handed_out:
            continue
        _handed_out.add(port)
        try:
            with socket.socket(fam, socket.SOCK_DGRAM) as u:
                u.bind((host, port))
        except OSError:
            continue
        return port


def listen_local(backlog=16):
    """A listening TCP socket on 127.0.0.1 with a free port, its accept()
    timing out every 0.2 s so that a server thread can notice it must stop.
    Returns (socket, port)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    sock.settimeout(0.2)
    return sock, sock.getsockname()[1]


class LocalServer:
    """A TCP server written in Python on 127.0.0.1, for answers no real
    server gives: a thread accepts connections and hands each to
    serve_conn(conn), which by default gives handle(conn) <conn_timeout>
    seconds a read and closes the connection after it. close() stops it."""

    conn_timeout = 0.3

    def __init__(self, backlog=16):
        import threading
        self.sock, self.port = listen_local(backlog)
        self.addr = f"127.0.0.1:{self.port}"
        self.stop_flag = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_flag:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.serve_conn(c)

    def serve_conn(self, c):
        with c:
            c.settimeout(self.conn_timeout)
            try:
                self.handle(c)
            except OSError:
                pass

    def handle(self, c):
        raise NotImplementedError

    @staticmethod
    def read_until(c, end):
        """What <c> sends until <end>, its close, or the timeout."""
        data = b""
        try:
            while end not in data:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        return data

    def close(self):
        self.stop_flag = True
        self.thread.join(5)
        self.sock.close()


def wait_for(pred, timeout=10.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def can_connect(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Backend:
    """A weir-backend process: http (answers its name) or echo."""

    def __init__(self, name, mode="http", port=None, host="127.0.0.1"):
        self.name, self.mode, self.host = name, mode, host
        self.port = port or free_port(host)
        self.proc = None

    @property
    def addr(self):
        if ":" in self.host:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"

    def start(self):
        self.proc = subprocess.Popen(
            [BACKEND, "--listen", self.addr, "--name", self.name, "--mode", self.mode])
        wait_for(lambda: can_connect(self.port, self.host), what=f"backend {self.name}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class FlagBackend(Backend):
    """A Backend started with extra flags; its stderr goes to a file."""

    def __init__(self, name, flags, tmpdir, host="127.0.0.1"):
        super().__init__(name, host=host)
        self.flags = list(flags)
        self.log = os.path.join(tmpdir, f"{name}.log")

    def start(self):
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(
                [BACKEND, "--listen", self.addr, "--name", self.name, *self.flags], stderr=err)
        wait_for(lambda: can_connect(self.port, self.host), what=f"backend {self.name}")
        return self

    def read_log(self):
        with open(self.log) as f:
            return f.read()


@pytest.fixture
def flagged(tmpdir_path):
    """A factory of backends started with extra flags, stopped at the end."""
    made = []

    def make(name, *flags, host="127.0.0.1"):
        b = FlagBackend(name, flags, tmpdir_path, host).start()
        made.append(b)
        return b
    yield make
    for b in made:
        b.stop()


class DgramEcho:
    """dgram-echo (tests/tools/dgram_echo.c): weir's datagram listener on
    <addr> answering every datagram with its own bytes. <ready> is False if
    it could not bind (its reason is in stop()'s stderr)."""

    @staticmethod
    def binary():
        return DGRAM_ECHO

    def __init__(self, addr, *args):
        self.proc = subprocess.Popen([DGRAM_ECHO, addr, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.ready = self.proc.stdout.readline().strip() == "ready"

    def stop(self):
        """SIGTERM; (exit code, the counters it printed as a dict, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=20)
        assert "ERROR: AddressSanitizer" not in err and "runtime error" not in err, err
        words = out.split()
        return (self.proc.returncode,
                {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2)}, err)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Weir:
    """The weir daemon with its own config file and admin socket."""

    def __init__(self, tmpdir, config=None):
        self.dir = tmpdir
        self.sock = os.path.join(tmpdir, "weir.sock")
        self.conf = os.path.join(tmpdir, "weir.conf") if config is not None else None
        if config is not None:
            self.write_config(config)
        self.proc = None
        self.log = os.path.join(tmpdir, "weir.log")

    def write_config(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    def start(self, wait=True):
        args = [WEIR, "--socket", self.sock]
        if self.conf:
            args += ["-c", self.conf]
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(args, stderr=self.logf)
        if wait:
            wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None,
                     what="weir admin socket")
            assert self.proc.poll() is None, f"weir exited early:\n{self.read_log()}"
        return self

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def ctl(self, *args, stdin=None, check=True):
        r = subprocess.run([WEIRCTL, "--socket", self.sock, *args], input=stdin,
                           capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError(f"weirctl {' '.join(args)} -> {r.returncode}: {r.stderr}")
        return r

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit code. Sanitizer reports fail."""
        if not self.proc:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"weir did not stop in {timeout}s:\n{self.read_log()}")
        self.proc = None
        self.logf.close()
        log = self.read_log()
        assert "ERROR: AddressSanitizer" not in log, log
        assert "ERROR: LeakSanitizer" not in log, log
        assert "runtime error:" not in log, log
        return rc


@pytest.fixture
def tmpdir_path():
    with tempfile.TemporaryDirectory(prefix="weir-test-") as d:
        yield d


@pytest.fixture
def backends():
    """A factory of started backends, all stopped at the end."""
    made = []

    def make(name, mode="http", **kw):
        b = Backend(name, mode, **kw).start()
        made.append(b)
        return b
    yield make
    for b in made:
        b.stop()


@pytest.fixture
def weir(tmpdir_path):
    """A factory of weir daemons; each is stopped (and checked clean) at the end."""
    made = []

    def make(config=None, start=True):
        w = Weir(tmpdir_path, config)
        made.append(w)
        return w.start() if start else w
    yield make
    for w in made:
        rc = w.stop()
        assert rc == 0, f"weir exited {rc}:\n{w.read_log()}"


def tcp_get(port, host="127.0.0.1", src=None, timeout=5.0):
    """One HTTP/1.0 request over a new connection; returns the body."""
    with socket.create_connection((host, port), timeout=timeout,
                                  source_address=(src, 0) if src else None) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data
    return body.decode().strip()


def service_conf(port, servers, sched="rr", extra=""):
    lines = [f"    server {s};" for s in servers]
    return (f"workers 2;\nlog_level info;\ngrace 2s;\n"
            f"service tcp 127.0.0.1:{port} {{\n    proxy tcp;\n    scheduler {sched};\n"
            f"{extra}" + "\n".join(lines) + "\n}\n")


# --- health, run-time control and the numbers (issue 5) ------------------------
#
# Helpers shared by test_health.py, test_server_states.py and test_metrics.py.
# weir-backend's health and control paths (demo/backend_routes.c): /health,
# /health/set?code=N|drain=1, /agent/set?say=TEXT, /fail/set?code=N.

def http_get(port, path="/", host="127.0.0.1", timeout=5.0):
    """One GET on a new connection: (status, headers with lowercase names,
    body bytes)."""
    import http.client
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def backend_ctl(b, path):
    """GETs a control <path> from backend <b> itself; it must answer 200."""
    status, _, body = http_get(b.port, path, host=b.host)
    assert status == 200, (b.name, path, status, body)
    return body.decode()


def wait_log(w, pattern, since=0, timeout=10.0, what=None):
    """Waits until weir's log, from offset <since>, matches the regex
    <pattern>; returns the match. `since = len(w.read_log())` taken before
    an action finds only what the action caused."""
    import re
    found = []

    def seen():
        m = re.search(pattern, w.read_log()[since:])
        if m:
            found.append(m)
        return bool(m)
    try:
        wait_for(seen, timeout, what or f"log line /{pattern}/")
    except AssertionError:
        raise AssertionError(f"timed out waiting for log /{pattern}/:\n"
                             f"{w.read_log()[since:][-3000:]}") from None
    return found[0]


def rs_log(rip):
    """The start of weir's log lines about real server <rip>, as a regex."""
    import re
    return rf"-> {re.escape(rip)}: "


class Load:
    """Client threads sending GET <path> through weir in a loop, each request
    on a new connection (HTTP/1.0), until stop(). Every answer is kept as
    (monotonic time, status, server name) and every failure (no answer, not
    200) in <failures>: the issue's promise is that there are none.
    Use as a context manager so the threads stop even when a test fails."""

    def __init__(self, port, threads=4, path="/", pace=0.005, timeout=5.0):
        import threading
        self.port, self.path, self.pace, self.timeout = port, path, pace, timeout
        self.answers, self.failures = [], []
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(threads)]

    def _one(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout) as s:
            s.sendall(f"GET {self.path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.") else 0
        return status, body.decode(errors="replace").strip()

    def _run(self):
        while not self.done.is_set():
            t = time.monotonic()
            try:
                status, name = self._one()
            except OSError as e:
                self.failures.append((t, repr(e)))
                continue
            self.answers.append((t, status, name))
            if status != 200:
                self.failures.append((t, f"status {status}: {name[:80]}"))
            if self.pace:
                time.sleep(self.pace)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(self.timeout + 5)
        assert not any(t.is_alive() for t in self.threads), "client threads stuck"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def sent(self):
        return len(self.answers) + sum(1 for f in self.failures if not f[1].startswith("status"))

    def names(self, since=0.0, until=float("inf")):
        """How many 200 answers each server gave between two instants."""
        from collections import Counter
        return Counter(n for t, s, n in list(self.answers) if s == 200 and since <= t < until)

    def wait_answers(self, n, timeout=10.0):
        start = len(self.answers)
        wait_for(lambda: len(self.answers) >= start + n, timeout, f"{n} more answers")


def weir_json(w, *args):
    """weirctl <args> --json, parsed."""
    import json
    r = w.ctl(*args, "--json")
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        raise AssertionError(f"weirctl {' '.join(args)} --json: not JSON ({e}):\n"
                             f"{r.stdout[:2000]}") from None


def json_server(w, vip, rip):
    """The server <rip> of service <vip> in `weirctl -L -n --json`."""
    doc = weir_json(w, "-L", "-n")
    for svc in doc["services"]:
        if svc["address"] == vip:
            for s in svc["servers"]:
                if s["address"] == rip:
                    return s
    raise AssertionError(f"{vip} -> {rip} not in -L --json: {doc}")


def svc_conf(port, servers, proxy="http", sched="rr", extra=(), top=(), workers=2):
    """A config with one service on 127.0.0.1:<port>. <servers> are server
    lines without "server" and ';' ("127.0.0.1:9001 weight 3"); <extra> are
    service directives and <top> top-level ones, without their ';'."""
    lines = [f"    proxy {proxy};", f"    scheduler {sched};"]
    lines += [f"    {d};" for d in extra]
    lines += [f"    server {s}" + ("" if s.endswith("}") else ";") for s in servers]
    head = "".join(f"{d};\n" for d in top)
    proto = "udp" if proxy == "udp" else "tcp"
    return (f"workers {workers};\nlog_level info;\ngrace 2s;\n{head}"
            f"service {proto} 127.0.0.1:{port} {{\n" + "\n".join(lines) + "\n}\n")
