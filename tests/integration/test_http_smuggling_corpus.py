"""Request smuggling, judged by what the server behind weir receives.

A corpus of payload shapes from public research (smuggling_corpus.py says
where each group comes from) is sent raw through one weir instance to a
recording backend: a Python server on 127.0.0.1 that keeps every byte each
connection brings and answers, keep-alive, each request it frames. For every
case, either weir refuses (the client reads a 4xx/5xx) and the backend
frames no request the client did not legitimately send, or weir forwards,
and a strict RFC 9112 reading and two lenient readings (bare LF, bare CR as
a line end, junk after chunk sizes...) of the forwarded bytes agree on every
message boundary. No reading may ever frame the smuggled "GET /smuggled".

The last tests check that error answers reach a client that sends all it
has before reading: the full status line, then FIN rather than RST.
"""
import re
import shutil
import socket
import struct
import tempfile
import threading
import time

import pytest

from conftest import LocalServer, Weir, can_connect, free_port, wait_for
from test_http_proxy import http_conf
import smuggling_corpus as corpus
from smuggling_corpus import ABSOLUTE, ANY, CASES, PASS


# --- the recording backend -----------------------------------------------------------

class Recorded:
    """One connection the backend accepted: every byte, in order."""

    def __init__(self):
        self.data = bytearray()
        self.answered = 0       # end of the last request answered


class RecordingBackend(LocalServer):
    """Accepts on 127.0.0.1, records each connection, and answers each
    request the lenient framing finds (the way a lax real server would)
    with a 200 naming the target it saw. Threads end at close()."""

    def __init__(self):
        self.conns = []
        self.lock = threading.Lock()
        self.threads = []
        super().__init__(64)

    def serve_conn(self, c):
        rec = Recorded()
        with self.lock:
            self.conns.append(rec)
        t = threading.Thread(target=self.serve, args=(c, rec), daemon=True)
        self.threads.append(t)
        t.start()

    def serve(self, c, rec):
        with c:
            c.settimeout(0.2)
            while not self.stop_flag:
                try:
                    chunk = c.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                with self.lock:
                    rec.data += chunk
                    data = bytes(rec.data)
                msgs, _ = corpus.frame(data[rec.answered:], strict=False)
                for m in msgs:
                    seen = re.sub(r"[^\x21-\x7e]", "?", m["target"]).encode()
                    body = b"" if m["method"] == "HEAD" else seen
                    try:
                        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Seen: %s\r\n\r\n"
                                  % (len(seen), seen) + body)
                    except OSError:
                        return
                if msgs:
                    rec.answered += msgs[-1]["end"]

    def mark(self):
        """Where each connection stands now."""
        with self.lock:
            return [len(r.data) for r in self.conns]

    def total(self):
        with self.lock:
            return sum(len(r.data) for r in self.conns), len(self.conns)

    def since(self, mark):
        """What each connection received after <mark>, non-empty ones only."""
        with self.lock:
            segs = [bytes(r.data[(mark[i] if i < len(mark) else 0):])
                    for i, r in enumerate(self.conns)]
        return [s for s in segs if s]

    def settle(self, quiet=0.06, limit=1.5):
        """Waits until nothing new has arrived for <quiet> s."""
        end = time.monotonic() + limit
        last, t = self.total(), time.monotonic()
        while time.monotonic() < end:
            time.sleep(0.02)
            now = self.total()
            if now != last:
                last, t = now, time.monotonic()
            elif time.monotonic() - t >= quiet:
                return

    def close(self):
        super().close()
        for t in self.threads:
            t.join(5)


# --- the client ----------------------------------------------------------------------

def parse_response(buf, eof):
    """One response from the start of <buf>: ((status, headers, body), rest),
    or (None, buf) if incomplete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, buf
    head = buf[:end].decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", head[0])
    assert m, f"not a status line: {head[0]!r}"
    status = int(m.group(1))
    headers = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    rest = buf[end + 4:]
    if status < 200 or status in (204, 304):
        return (status, headers, b""), rest
    if "content-length" in headers:
        n = int(headers["content-length"])
        if len(rest) < n:
            return None, buf
        return (status, headers, rest[:n]), rest[n:]
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, p = b"", 0
        while True:
            e = rest.find(b"\r\n", p)
            if e < 0:
                return None, buf
            size = int(rest[p:e].split(b";")[0], 16)
            if size == 0:
                t = rest.find(b"\r\n\r\n", e)
                if t < 0 and rest[e:e + 4] != b"\r\n\r\n":
                    return None, buf
                return (status, headers, body), rest[rest.find(b"\r\n\r\n", e - 2) + 4:]
            if len(rest) < e + 2 + size + 2:
                return None, buf
            body += rest[e + 2:e + 2 + size]
            p = e + 2 + size + 2
    if not eof:
        return None, buf
    return (status, headers, rest), b""


def exchange(port, raw, want=None, first_wait=2.5, idle=0.3):
    """Sends <raw> on a new connection and reads answers until the close,
    <want> answers, or silence (<first_wait> s before the first, <idle> s
    after one). Returns (answers, closed, seconds to the first answer)."""
    answers, buf, closed, first = [], b"", False, None
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = t0 + first_wait
        while not closed and (want is None or len(answers) < want):
            wait = deadline - time.monotonic()
            if wait <= 0:
                break
            s.settimeout(wait)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                chunk = b""
            closed = not chunk
            buf += chunk
            while True:
                r, buf = parse_response(buf, closed)
                if r is None:
                    break
                if first is None:
                    first = time.monotonic() - t0
                answers.append(r)
                deadline = time.monotonic() + idle
    return answers, closed, first


# --- one weir for the module ------------------------------------------------------

BODY_LIMIT = "1m"


@pytest.fixture(scope="module")
def env():
    """(weir, port, backend): one weir in front of the recording backend."""
    rec = RecordingBackend()
    d = tempfile.mkdtemp(prefix="weir-test-")
    w = None
    try:
        port = free_port()
        w = Weir(d, http_conf(port, [rec.addr], [f"max_body_size {BODY_LIMIT}"]))
        w.start()
        wait_for(lambda: can_connect(port), what="weir listening")
        yield w, port, rec
        rc = w.stop()
        w = None
        assert rc == 0, f"weir exited {rc}"
    finally:
        if w is not None and w.proc is not None:
            w.proc.kill()
            w.proc.wait()
        rec.close()
        shutil.rmtree(d, ignore_errors=True)


def describe(segs):
    out = []
    for seg in segs:
        out.append(f"  bytes: {seg[:400]!r}")
        for name, (msgs, tail) in corpus.framings(seg).items():
            out.append(f"    {name}: {[(m['method'], m['target']) for m in msgs]} {tail}")
    return "\n".join(out)


def check_backend(segs, oks):
    """The readings agree, none frames /smuggled, and the backend framed
    exactly the requests the client got answers for."""
    report = describe(segs)
    total = 0
    for seg in segs:
        f = corpus.framings(seg)
        for name, (msgs, _) in f.items():
            smuggled = [m for m in msgs if "/smuggled" in m["target"]]
            assert not smuggled, f"{name} framed {smuggled[0]['target']!r}\n{report}"
        bounds = {name: [(m["start"], m["end"], m["method"], m["target"]) for m in msgs]
                  for name, (msgs, _) in f.items()}
        assert bounds["strict"] == bounds["lenient-lf"] == bounds["lenient-cr"], \
            f"the readings of the forwarded bytes disagree\n{report}"
        total += len(bounds["strict"])
    assert total == oks, f"backend framed {total} requests, client got {oks} answers\n{report}"


def test_corpus_is_large_enough():
    assert len(CASES) >= 100
    assert {c.family for c in CASES} >= {"issue10", "smuggler", "portswigger", "garden",
                                         "http11probe", "haproxy"}


def test_readers_model_what_they_claim():
    """The framings themselves (no weir): they agree on every valid case,
    and the lenient ones do fall for the issue's stream and a CL.TE shape
    that the strict one refuses, or the corpus would prove nothing."""
    for case in CASES:
        if case.expect == PASS:
            f = corpus.framings(case.raw)
            assert all(len(m) == case.oks and tail == "" for m, tail in f.values()), (case.id, f)
    for raw in (CASES[0].raw, corpus.te_cl(b"Transfer-Encoding: chunked\r\n")):
        f = corpus.framings(raw)
        assert f["strict"][0] == [] and f["strict"][1].startswith("error")
        assert [m["target"] for m in f["lenient-lf"][0]] == ["/", "/smuggled"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus(env, case):
    w, port, rec = env
    rec.settle()
    mark = rec.mark()
    want = case.oks if case.expect == PASS else None
    answers, closed, first = exchange(port, case.raw, want)
    rec.settle()
    segs = rec.since(mark)
    statuses = [a[0] for a in answers]
    oks = sum(1 for s in statuses if 200 <= s < 300)
    where = f"answers {statuses}, closed {closed}\n{describe(segs)}"

    if case.expect == PASS:
        assert statuses == [200] * case.oks, where
    elif case.expect == ABSOLUTE:
        assert statuses in ([400], [200]), where
        if statuses == [200]:
            msgs, _ = corpus.frame(b"".join(segs), strict=True)
            assert [(m["target"], m["host"]) for m in msgs] == [("/", "admin.example")], where
    elif isinstance(case.expect, int):
        assert statuses == [case.expect], where
        assert first is not None and first < 2.0, f"answered after {first} s"
    else:
        assert statuses, f"no answer at all\n{where}"
        assert all(200 <= s < 300 for s in statuses[:-1]) and \
            (statuses[-1] < 300 or 400 <= statuses[-1] < 600), where
    if statuses and statuses[-1] >= 400:
        assert closed, f"connection left open after {statuses[-1]}\n{where}"
    check_backend(segs, oks)


# --- error answers reach a client that sends everything first ----------------------

MiB = 1 << 20
ERROR_STREAMS = {
    "431-200k-head": (b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 200_000
                      + b"\r\n\r\n", 431),
    "413-5m-body": (corpus.POST + b"Content-Length: %d\r\n\r\n" % (5 * MiB) + b"z" * (5 * MiB),
                    413),
    "400-then-more": (b"GET / HTTP/1.1\r\nHost: localhost\r\nX: a\x00b\r\n\r\n"
                      + (b"GET /more HTTP/1.1\r\nHost: localhost\r\n\r\n") * 2000, 400),
}


@pytest.mark.parametrize("run", range(5))
@pytest.mark.parametrize("name", sorted(ERROR_STREAMS))
def test_error_answer_survives_unread_data(env, name, run):
    """All of the request is sent before anything is read (SO_LINGER off,
    as clients have it): the client must then read the whole status line,
    and the end of the connection must be a FIN (recv gives b""), not an
    RST that would have thrown the answer away."""
    w, port, rec = env
    data, status = ERROR_STREAMS[name]
    mark = rec.mark()
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 0, 0))
        sent = []

        def send():
            try:
                s.sendall(data)
                sent.append("all")
            except OSError as e:
                sent.append(repr(e))
        t = threading.Thread(target=send, daemon=True)
        t.start()
        t.join(10)
        assert not t.is_alive(), "sender stuck"
        s.settimeout(5)
        got, end = b"", None
        while end is None:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                end = "RST"
                break
            except socket.timeout:
                end = "timeout"
                break
            if not chunk:
                end = "FIN"
            got += chunk
    line = got.split(b"\r\n", 1)[0]
    assert line.startswith(b"HTTP/1.1 %d " % status) and b"\r\n" in got, \
        f"status line {line!r}; send: {sent}; end: {end}"
    assert end == "FIN", f"got {end} after {line!r} (send: {sent})"
    rec.settle()
    assert corpus.frame(b"".join(rec.since(mark)), strict=False)[0] == []
