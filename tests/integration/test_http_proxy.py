"""The HTTP/1.x reverse proxy (proxy http) and the redirect mode (proxy
redirect): keep-alive on both sides, pipelining, bodies, 100-continue,
upgrades, invisible retries, the drain signal, forwarded headers, limits
and timeouts, the access log, counters. Real daemon, real weir-backend
servers (demo/backend_routes.c says what each path answers), real clients
(http.client, raw sockets, curl) on 127.0.0.1."""
import hashlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import BACKEND, Backend, LocalServer, can_connect, free_port, wait_for

MiB = 1 << 20
TIMEOUT = 10.0


# --- helpers --------------------------------------------------------------------

class RawServer(LocalServer):
    """A TCP server that reads a request head and answers <reply> (bytes)
    verbatim, then closes: for answers weir-backend would never give."""

    conn_timeout = 2

    def __init__(self, reply):
        self.reply = reply
        self.requests = 0
        super().__init__()

    def handle(self, c):
        if b"\r\n\r\n" in self.read_until(c, b"\r\n\r\n"):
            self.requests += 1
            c.sendall(self.reply)
            c.shutdown(socket.SHUT_WR)
            c.recv(65536)


class OneShotKeepAliveServer(RawServer):
    """Answers the first request on each connection (keep-alive, 200 "ok")
    and closes a connection without answering its second request: what a
    server whose keep-alive timeout fires just as a request comes does."""

    def __init__(self):
        super().__init__(b"")

    def serve_conn(self, c):
        threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        with c:
            c.settimeout(5)
            data, n = b"", 0
            try:
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                    while b"\r\n\r\n" in data:
                        _, _, data = data.partition(b"\r\n\r\n")
                        n += 1
                        if n > 1:
                            return          # close, no answer
                        self.requests += 1
                        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
            except OSError:
                pass


@pytest.fixture
def raw_server():
    made = []

    def make(reply):
        s = OneShotKeepAliveServer() if reply is None else RawServer(reply)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def http_conf(port, servers, extra=(), sched="rr", mode="http", workers=2):
    """A config with one HTTP service on 127.0.0.1:<port>; <extra> are
    service directives without their ';'."""
    lines = [f"    proxy {mode};", f"    scheduler {sched};"]
    lines += [f"    {d};" for d in extra]
    lines += [f"    server {s};" for s in servers]
    return (f"workers {workers};\nlog_level info;\ngrace 2s;\n"
            f"service tcp 127.0.0.1:{port} {{\n" + "\n".join(lines) + "\n}\n")


def start(weir, servers, extra=(), **kw):
    """Starts weir with an HTTP service in front of <servers> (Backends or
    address strings); returns (weir, port)."""
    port = free_port()
    addrs = [s if isinstance(s, str) else s.addr for s in servers]
    w = weir(http_conf(port, addrs, extra, **kw))
    wait_for(lambda: can_connect(port), what="weir listening")
    w.ctl("-Z")     # forget the probe connection
    return w, port


def conn(port, timeout=TIMEOUT):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


def request(port, method, path, body=None, headers=None, timeout=TIMEOUT):
    """One request on a new connection: (status, response, body)."""
    c = conn(port, timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r, r.read()
    finally:
        c.close()


def get(port, path="/", **kw):
    return request(port, "GET", path, **kw)


def direct(b, path):
    """GETs <path> from backend <b> itself (not through weir); the body."""
    status, _, body = request(b.port, "GET", path)
    assert status == 200, (path, status, body)
    return body.decode()


def direct_int(b, path):
    return int(direct(b, path).strip())


def raw_connect(port, timeout=TIMEOUT):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_response(f):
    """Reads one response from the binary file <f>: (status, headers with
    lowercase names, body, raw head). The body follows Content-Length,
    chunked (decoded), or the close."""
    line = f.readline()
    assert line.startswith(b"HTTP/1.1 "), line
    status = int(line.split()[1])
    head = line
    headers = {}
    while True:
        line = f.readline()
        head += line
        assert line.endswith(b"\r\n"), head
        if line == b"\r\n":
            break
        name, _, value = line.decode().partition(":")
        name = name.strip().lower()
        headers[name] = (headers[name] + ", " if name in headers else "") + value.strip()
    if status < 200 or status in (204, 304):
        return status, headers, b"", head
    if "content-length" in headers:
        body = f.read(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b""):
                    pass
                break
            body += f.read(size)
            assert f.read(2) == b"\r\n"
    else:
        body = f.read()
    return status, headers, body, head


def read_to_eof(s, limit=1 << 24):
    """Everything until the peer's FIN. An RST after the data counts as
    the end too (weir may close with our bytes unread)."""
    data = b""
    while len(data) < limit:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def is_closed(s, timeout=3.0):
    """Whether the peer closed <s> (FIN or RST) within <timeout>, with no
    further bytes."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def exchange(port, data, responses=1, timeout=TIMEOUT, wait_close=1.5):
    """Sends raw <data> on a new connection, reads <responses> answers and
    whether the connection was closed within <wait_close> s afterwards."""
    with raw_connect(port, timeout) as s:
        s.sendall(data)
        f = s.makefile("rb")
        out = [read_response(f) for _ in range(responses)]
        return out, is_closed(s, wait_close)


def pattern(n, seed=0):
    block = bytes((i * 7 + seed) & 0xFF for i in range(4096))
    return (block * (n // len(block) + 1))[:n]


def sha(b):
    return hashlib.sha256(b).hexdigest()


def stats(w):
    """weirctl -L -n --stats --exact: {address: (conns, inbytes, outbytes)}
    for the service ("TCP" line) and each server ("->" lines)."""
    out = {}
    for line in w.ctl("-L", "-n", "--stats", "--exact").stdout.splitlines():
        f = line.split()
        if f and f[0] == "TCP":
            out[f[1]] = (int(f[2]), int(f[5]), int(f[6]))
        elif f and f[0] == "->" and f[1][0].isdigit():
            out[f[1]] = (int(f[2]), int(f[5]), int(f[6]))
    return out


# --- keep-alive ------------------------------------------------------------------

def test_keepalive_client_side_many_requests_one_connection(weir, backends):
    b1, b2 = backends("b1"), backends("b2")
    w, port = start(weir, [b1, b2])
    c = conn(port)
    try:
        names = []
        for i in range(6):
            c.request("GET", f"/?i={i}")
            r = c.getresponse()
            assert r.status == 200
            assert r.getheader("Connection") is None, r.getheaders()
            names.append(r.read().decode().strip())
            if i == 0:
                sock = c.sock
            assert c.sock is sock, "http.client had to reconnect: weir closed the connection"
    finally:
        c.close()
    # rr per request, not per connection
    assert names == ["b1", "b2"] * 3, names
    assert stats(w)[f"127.0.0.1:{port}"][0] == 1


def test_keepalive_server_side_connections_reused(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    c = conn(port)
    try:
        seen = []
        for _ in range(10):
            c.request("GET", "/reqs-on-conn")
            r = c.getresponse()
            assert r.status == 200
            seen.append(int(r.read()))
    finally:
        c.close()
    # the same server connection carried them all
    assert seen == list(range(1, 11)), seen

    conns0, reqs0 = direct_int(b, "/conns"), direct_int(b, "/requests")
    for _ in range(10):
        status, _, body = get(port)          # a new client connection each time
        assert (status, body) == (200, b"b1\n")
    conns1, reqs1 = direct_int(b, "/conns"), direct_int(b, "/requests")
    # 10 requests (+2: our own /conns and /requests), but at most one new
    # server connection per worker (+2 for ours): the pool was used
    assert reqs1 - reqs0 == 12, (reqs0, reqs1)
    assert conns1 - conns0 - 2 <= 2, (conns0, conns1)


def test_http10_client_gets_close(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    (resp,), closed = exchange(port, b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    status, headers, body, _ = resp
    assert (status, body) == (200, b"b1\n")
    assert headers.get("connection", "").lower() == "close", headers
    assert closed


def test_http10_keepalive_when_asked(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    with raw_connect(port) as s:
        f = s.makefile("rb")
        for _ in range(2):
            s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
            status, headers, body, _ = read_response(f)
            assert (status, body) == (200, b"b1\n")
            assert headers.get("connection", "").lower() == "keep-alive", headers
        assert not is_closed(s, 0.3)


def test_client_connection_close_closes_after_response(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    (resp,), closed = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status, headers, body, _ = resp
    assert (status, body) == (200, b"b1\n")
    assert headers.get("connection", "").lower() == "close", headers
    assert closed


def test_keepalive_timeout_closes_idle_client(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["keepalive_timeout 700ms"])
    with raw_connect(port) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body, _ = read_response(s.makefile("rb"))
        assert (status, body) == (200, b"b1\n")
        t0 = time.monotonic()
        assert is_closed(s, 5.0)     # silently: no 408 for an idle connection
        assert 0.4 < time.monotonic() - t0 < 3.0


def test_parked_keepalive_connection_serves_the_next_request(weir, backends):
    # idle for 1 s, a keep-alive connection parks (its session is freed):
    # the next request on it is served as before, and the keep-alive
    # timeout still counts from the end of the last answer
    b = backends("b1")
    w, port = start(weir, [b], ["keepalive_timeout 3s"], workers=1)
    get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    # the last one in pieces across a park: a slow head still works
    asks = [[get], [get], [b"GET / HTTP/1.1\r\n", b"Host: x\r\n\r\n"]]
    with raw_connect(port) as s:
        f = s.makefile("rb")
        for n, pieces in enumerate(asks):
            if n:
                time.sleep(1.6)
            for i, piece in enumerate(pieces):
                if i:
                    time.sleep(1.3)
                s.sendall(piece)
            status, _, body, _ = read_response(f)
            assert (status, body) == (200, b"b1\n"), n
        t0 = time.monotonic()
        assert is_closed(s, 6.0)
        assert 2.0 < time.monotonic() - t0 < 4.5


def test_parked_connection_the_client_closes_is_released(weir, backends):
    # max_conn 1: the second client is served only once the first one's
    # parked connection has really ended
    b = backends("b1")
    w, port = start(weir, [b], ["max_conn 1"], workers=1)
    with raw_connect(port) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(s.makefile("rb"))[0] == 200
        time.sleep(1.6)   # parked
    wait_for(lambda: request(port, "GET", "/", timeout=1.0)[0] == 200, timeout=5.0,
             what="a new connection served after the parked one closed")


# --- pipelining --------------------------------------------------------------------

def test_pipelined_requests_answered_in_order(weir, backends):
    b1, b2 = backends("b1"), backends("b2")
    w, port = start(weir, [b1, b2])
    reqs = (b"GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /status?code=201 HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            b"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n")
    with raw_connect(port) as s:
        s.sendall(reqs)
        f = s.makefile("rb")
        r1, r2, r3, r4 = (read_response(f) for _ in range(4))
        assert not is_closed(s, 0.3)
    assert r1[0] == 200 and r1[2] in (b"b1\n", b"b2\n")
    assert (r2[0], r2[2]) == (201, b"201 Created\n")
    assert r3[0] == 200 and r3[2].startswith(b"POST /echo HTTP/1.1\r\n") and \
        r3[2].endswith(b"\r\n\r\nhello"), r3
    assert r3[1]["x-body-length"] == "5"
    assert (r4[0], r4[2]) == (200, b"chunk 1\nchunk 2\nchunk 3\n")


# --- bodies -------------------------------------------------------------------------

def test_chunked_request_body_relayed_intact(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    chunks = [pattern(1000, 1), pattern(70000, 2), b"x"]
    body = b"".join(b"%x;ext=1\r\n" % len(c) + c + b"\r\n" for c in chunks) + \
        b"0\r\nX-Trailer: t\r\n\r\n"
    (resp,), closed = exchange(port, b"POST /echo HTTP/1.1\r\nHost: x\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\n" + body)
    status, headers, echoed, _ = resp
    whole = b"".join(chunks)
    assert status == 200
    assert headers["x-body-length"] == str(len(whole))
    assert headers["x-body-sha256"] == sha(whole)
    assert headers["x-trailer-count"] == "1"
    assert not closed


def test_chunked_response_relayed(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    with raw_connect(port) as s:
        s.sendall(b"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n")
        f = s.makefile("rb")
        status, headers, body, _ = read_response(f)
        assert status == 200
        assert headers.get("transfer-encoding") == "chunked", headers
        assert body == b"chunk 1\nchunk 2\nchunk 3\n"
        # and the connection goes on
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(f)[2] == b"b1\n"


def test_big_upload_and_download_intact(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["retry_buffer 64k"])
    data = pattern(MiB, 3)
    status, r, body = request(port, "POST", "/echo", body=data,
                              headers={"Content-Type": "application/octet-stream"})
    assert status == 200
    assert r.getheader("X-Body-Length") == str(MiB)
    assert r.getheader("X-Body-Sha256") == sha(data)
    assert body.endswith(data)

    n = 5 * MiB + 7
    status, r, body = get(port, f"/big?bytes={n}")
    assert status == 200 and len(body) == n
    assert body == (bytes(range(ord("a"), ord("z") + 1)) * (n // 26 + 1))[:n]


def test_head_request_has_no_body(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    with raw_connect(port) as s:
        s.sendall(b"HEAD /big?bytes=1000 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        f = s.makefile("rb")
        line = f.readline()
        assert line.startswith(b"HTTP/1.1 200")
        head = b""
        while (l := f.readline()) != b"\r\n":
            head += l
        assert b"Content-Length: 1000" in head
        # the next bytes are the next response, not a body
        assert read_response(f)[2] == b"b1\n"


def test_expect_100_continue(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    with raw_connect(port) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Length: 11\r\n\r\n")
        f = s.makefile("rb")
        status, _, _, head = read_response(f)
        assert status == 100, head
        s.sendall(b"hello world")
        status, headers, body, _ = read_response(f)
        assert status == 200
        assert headers["x-body-length"] == "11"
        assert body.endswith(b"\r\n\r\nhello world")


def test_expect_100_continue_with_curl(weir, backends):
    if not shutil.which("curl"):
        pytest.skip("no curl")
    b = backends("b1")
    w, port = start(weir, [b])
    data = pattern(200000, 5)
    r = subprocess.run(["curl", "-sS", "-v", "--max-time", "10", "-H", "Expect: 100-continue",
                        "--data-binary", "@-", "-D", "-", "-o", "/dev/null",
                        f"http://127.0.0.1:{port}/echo"], input=data, capture_output=True,
                       timeout=20)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "HTTP/1.1 100 Continue" in out, out
    assert "HTTP/1.1 200" in out
    assert f"X-Body-Sha256: {sha(data)}" in out


def test_upgrade_tunnel_echoes(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    with raw_connect(port) as s:
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
        f = s.makefile("rb")
        status, headers, _, head = read_response(f)
        assert status == 101, head
        assert headers.get("upgrade") == "echo", headers
        assert "upgrade" in headers.get("connection", "").lower(), headers
        for msg in (b"hello", b"x" * 100000, b"bye"):
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                got += f.read1(65536)
            assert got == msg
        s.shutdown(socket.SHUT_WR)
        assert f.read() == b"[eof b1]\n"


# --- retries ---------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["reset", "close-early", "killed"])
def test_get_retried_invisibly(weir, backends, flagged, how):
    good = backends("good")
    if how == "killed":
        bad = backends("bad")
    else:
        bad = flagged("bad", "--fail-mode", how)
    w, port = start(weir, [bad, good])
    if how == "killed":
        bad.kill()
    c = conn(port)
    try:
        for i in range(6):
            c.request("GET", f"/?n={i}")
            r = c.getresponse()
            assert (r.status, r.read()) == (200, b"good\n")
    finally:
        c.close()
    assert direct_int(good, "/requests") == 7   # each once, + this one


def post_echo(port, data, timeout=TIMEOUT):
    return request(port, "POST", "/echo", body=data, timeout=timeout,
                   headers={"Content-Type": "application/octet-stream"})


def test_post_not_retried_after_reset_by_default(weir, backends, flagged):
    good = backends("good")
    bad = flagged("bad", "--fail-mode", "reset", "--verbose")
    w, port = start(weir, [bad, good], ["retry_buffer 64k"])
    data = pattern(MiB, 7)
    results = [post_echo(port, data) for _ in range(4)]
    statuses = sorted(r[0] for r in results)
    # the reset came after the whole request was sent: the server may have
    # acted on it, so it is not sent again
    assert statuses == [200, 200, 502, 502], statuses
    for status, r, body in results:
        if status == 200:
            assert r.getheader("X-Backend") == "good"
            assert r.getheader("X-Body-Sha256") == sha(data)
        else:
            assert b"Bad Gateway" in body
    assert direct_int(good, "/requests") == 3
    assert "not retried" in w.read_log()


def test_post_retried_after_reset_with_retry_unsafe(weir, backends, flagged):
    good = backends("good")
    bad = flagged("bad", "--fail-mode", "reset", "--verbose")
    w, port = start(weir, [bad, good], ["retry_buffer 64k", "retry_unsafe on"])
    data = pattern(MiB, 9)
    for _ in range(4):
        status, r, body = post_echo(port, data)
        assert status == 200, body
        assert r.getheader("X-Backend") == "good"
        assert r.getheader("X-Body-Length") == str(MiB)
        assert r.getheader("X-Body-Sha256") == sha(data)
    # the good server got each POST exactly once
    assert direct_int(good, "/requests") == 5
    # and the bad one really received (some of) them whole before resetting
    assert f"body={MiB}" in bad.read_log()


def post_trickle(port, data, piece=1024):
    """POSTs <data> to /echo on a raw socket, <piece> bytes per send, as a
    client on a slow link would; returns (status, headers, body)."""
    with raw_connect(port) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(data))
        try:
            for i in range(0, len(data), piece):
                s.sendall(data[i:i + piece])
        except OSError:
            pass        # answered (and closed) before the end of the body
        status, headers, body, _ = read_response(s.makefile("rb"))
        return status, headers, body


def test_post_retried_when_server_refuses_connection(weir, backends):
    """A refused connect means the server saw nothing: the POST goes to the
    next server, even while its body is still arriving."""
    good = backends("good")
    dead = f"127.0.0.1:{free_port()}"
    w, port = start(weir, [dead, good], ["retry_buffer 64k"])
    data = pattern(256 << 10, 11)
    for _ in range(6):
        status, headers, body = post_trickle(port, data)
        assert status == 200, (body, w.read_log())
        assert headers["x-body-sha256"] == sha(data)
    status, r, body = post_echo(port, pattern(MiB, 12))
    assert status == 200 and r.getheader("X-Body-Sha256") == sha(pattern(MiB, 12))
    assert direct_int(good, "/requests") == 8


# --- the drain signal ---------------------------------------------------------------

def test_drain_signal_retried_and_server_avoided(weir, backends, flagged):
    good = backends("good")
    dr = flagged("dr", "--fail-mode", "drain")
    w, port = start(weir, [dr, good])
    for i in range(8):
        status, r, body = get(port, f"/?i={i}")
        assert (status, body) == (200, b"good\n")
    listing = w.ctl("-L", "-n").stdout
    assert dr.addr in listing and good.addr in listing, listing
    st = stats(w)
    assert st[dr.addr][0] == 1, st          # asked once, then avoided
    assert st[good.addr][0] == 8, st
    assert "drain signal" in w.read_log()
    # a POST is retried too: the draining server did not process it
    status, r, body = post_echo(port, b"abc")
    assert status == 200 and r.getheader("X-Backend") == "good"


def test_drain_signal_all_draining_gives_503(weir, flagged):
    d1 = flagged("d1", "--fail-mode", "drain")
    d2 = flagged("d2", "--fail-mode", "drain")
    w, port = start(weir, [d1, d2])
    status, r, body = get(port)
    assert status == 503
    assert r.getheader("X-Backend") is None       # weir's own answer
    assert r.getheader("X-Weir-Drain") is None


def test_plain_503_is_relayed_not_drained(weir, backends):
    b1, b2 = backends("b1"), backends("b2")
    w, port = start(weir, [b1, b2])
    status, r, body = get(port, "/status?code=503")
    assert (status, body) == (503, b"503 Service Unavailable\n")
    assert r.getheader("X-Backend") in ("b1", "b2")
    # nobody was put to drain: rr goes on over both
    names = {get(port)[2] for _ in range(4)}
    assert names == {b"b1\n", b"b2\n"}


def test_drain_signal_custom_status_only(weir, backends):
    b1, b2 = backends("b1"), backends("b2")
    w, port = start(weir, [b1, b2], ["drain_signal 429"])
    # every server says 429 to this path: all drained, weir answers 503
    status, r, body = get(port, "/status?code=429")
    assert status == 503, (status, body)
    assert "answered the drain signal" in w.read_log()


# --- headers ------------------------------------------------------------------------

def headers_seen(port, extra=b""):
    (resp,), _ = exchange(port, b"GET /headers HTTP/1.1\r\nHost: h.example\r\n" + extra + b"\r\n")
    assert resp[0] == 200, resp
    return resp[2].decode(), resp


def test_forwarded_headers_and_via(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["via on"])
    seen, resp = headers_seen(port, b"X-Forwarded-For: 10.1.2.3\r\nX-Forwarded-Proto: https\r\n"
                                    b"Forwarded: for=6.6.6.6\r\n")
    lines = seen.splitlines()
    assert "X-Forwarded-For: 10.1.2.3, 127.0.0.1" in lines, seen
    assert "X-Forwarded-Proto: http" in lines, seen
    # earlier proxies' Forwarded elements are kept, ours appended (RFC 7239)
    assert "Forwarded: for=6.6.6.6, for=127.0.0.1;proto=http" in lines, seen
    assert "Via: 1.1 weir" in lines, seen
    assert "Host: h.example" in lines, seen
    # one of each: the proto is weir's, the last Forwarded element is weir's
    assert seen.count("X-Forwarded-Proto") == 1 and seen.count("Forwarded:") == 1, seen
    fwd = [l for l in lines if l.startswith("Forwarded:")][0]
    assert fwd.endswith("for=127.0.0.1;proto=http"), fwd
    # and the response says it came through weir
    assert "weir" in resp[1].get("via", ""), resp[1]


def test_forwarded_headers_without_prior_value(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    seen, resp = headers_seen(port)
    lines = seen.splitlines()
    assert "X-Forwarded-For: 127.0.0.1" in lines, seen
    assert not any(l.startswith("Via:") for l in lines), seen   # via is off by default
    assert "via" not in resp[1]


def test_forwarded_headers_off(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["forwarded_headers off"])
    seen, _ = headers_seen(port, b"X-Forwarded-For: 10.1.2.3\r\n")
    assert "X-Forwarded-For: 10.1.2.3" in seen.splitlines(), seen
    assert "127.0.0.1" not in seen and "Forwarded:" not in seen, seen


def test_hop_by_hop_headers_removed(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    seen, _ = headers_seen(port, b"Connection: keep-alive, X-Custom\r\nX-Custom: secret\r\n"
                                 b"Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n"
                                 b"TE: trailers\r\nX-Kept: yes\r\n"
                                 b"Proxy-Authorization: Basic Zm9vOmJhcg==\r\n")
    low = seen.lower()
    for name in ("x-custom", "keep-alive", "proxy-connection", "te:", "proxy-authorization",
                 "connection:"):
        assert name not in low, (name, seen)
    assert "X-Kept: yes" in seen.splitlines()


# --- limits and timeouts ---------------------------------------------------------------

def assert_error(resp, closed, status, reason):
    code, headers, body, head = resp
    assert code == status, head + body
    assert body == reason.encode() + b"\n", body
    assert headers.get("connection", "").lower() == "close", headers
    assert closed


def test_header_too_large_431(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["max_header_size 2k"])
    reqs0 = direct_int(b, "/requests")
    big = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: " + b"a" * 3000 + b"\r\n\r\n"
    (resp,), closed = exchange(port, big)
    assert_error(resp, closed, 431, "Request Header Fields Too Large")
    # one just under the limit is fine
    ok = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: " + b"a" * 1500 + b"\r\n\r\n"
    (resp,), _ = exchange(port, ok)
    assert resp[0] == 200
    assert direct_int(b, "/requests") == reqs0 + 2


def test_header_over_default_limit_431(weir, backends):
    """The default limit is 32k: a 40k head is refused, however it arrives."""
    b = backends("b1")
    w, port = start(weir, [b])
    reqs0 = direct_int(b, "/requests")
    big = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: " + b"a" * 40000 + b"\r\n\r\n"
    (resp,), closed = exchange(port, big)
    assert_error(resp, closed, 431, "Request Header Fields Too Large")
    assert direct_int(b, "/requests") == reqs0 + 1


def test_header_too_large_without_end_431(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["max_header_size 2k"])
    # no blank line ever comes: the size alone decides
    with raw_connect(port) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 1000)
        resp = read_response(s.makefile("rb"))
        assert_error(resp, is_closed(s), 431, "Request Header Fields Too Large")


def test_body_too_large_413_content_length(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["max_body_size 1k"])
    reqs0 = direct_int(b, "/requests")
    (resp,), closed = exchange(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n"
                                     b"\r\n" + b"z" * 2000)
    assert_error(resp, closed, 413, "Content Too Large")
    # at the limit is fine
    status, r, body = post_echo(port, b"y" * 1024)
    assert status == 200 and r.getheader("X-Body-Length") == "1024"
    assert direct_int(b, "/requests") == reqs0 + 2


def test_body_too_large_413_chunked(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["max_body_size 1k"])
    reqs0 = direct_int(b, "/requests")
    body = b"".join(b"200\r\n" + b"q" * 0x200 + b"\r\n" for _ in range(4)) + b"0\r\n\r\n"
    with raw_connect(port) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        time.sleep(0.2)       # the head goes out first: the body is streamed
        try:
            s.sendall(body)
        except (ConnectionResetError, BrokenPipeError):
            pass
        resp = read_response(s.makefile("rb"))
        assert_error(resp, is_closed(s), 413, "Content Too Large")
    assert direct_int(b, "/requests") == reqs0 + 1   # the server answered nothing


def test_slowloris_header_timeout_408(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["header_timeout 1s"])
    with raw_connect(port) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        resp = read_response(s.makefile("rb"))
        took = time.monotonic() - t0
        assert_error(resp, is_closed(s), 408, "Request Timeout")
    assert 0.8 < took < 3.0, took


def test_slowloris_trickle_still_408(weir, backends):
    """A head sent a byte at a time never completes: the timeout counts
    from its first byte, not from the last one."""
    b = backends("b1")
    w, port = start(weir, [b], ["header_timeout 1s"])
    with raw_connect(port) as s:
        t0 = time.monotonic()
        got = b""
        s.settimeout(0.2)
        for ch in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            try:
                s.sendall(bytes([ch]))
                got = s.recv(4096)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                break
            if got or time.monotonic() - t0 > 5:
                break
        took = time.monotonic() - t0
        assert got.startswith(b"HTTP/1.1 408"), got
        assert 0.8 < took < 3.0, took


def test_server_timeout_504(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["server_timeout 500ms"])
    t0 = time.monotonic()
    status, r, body = get(port, "/slow?ms=3000")
    took = time.monotonic() - t0
    assert (status, body) == (504, b"Gateway Timeout\n"), (status, body, w.read_log())
    assert took < 2.5, took
    # a fast request right after is fine
    assert get(port, "/slow?ms=10")[0] == 200


def test_server_timeout_504_post(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["server_timeout 500ms"])
    status, r, body = request(port, "POST", "/slow?ms=3000", body=b"x")
    assert (status, body) == (504, b"Gateway Timeout\n"), (status, body)


def test_server_timeout_get_retried_on_other_server(weir, backends, flagged):
    slow = flagged("slow", "--fail-mode", "slow:3000")
    fast = backends("fast")
    w, port = start(weir, [slow, fast], ["server_timeout 500ms"])
    for _ in range(4):
        status, r, body = get(port)
        assert (status, body) == (200, b"fast\n")


def test_no_server_503(weir):
    port = free_port()
    w = weir(f"workers 1;\nservice tcp 127.0.0.1:{port} {{\n    proxy http;\n}}\n")
    wait_for(lambda: can_connect(port), what="weir listening")
    (resp,), closed = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_error(resp, closed, 503, "Service Unavailable")


def test_only_weight_zero_servers_503(weir, backends):
    b = backends("b1")
    w, port = start(weir, [f"{b.addr} weight 0"])
    status, r, body = get(port)
    assert (status, body) == (503, b"Service Unavailable\n")


def test_all_servers_killed(weir, backends):
    b1, b2 = backends("b1"), backends("b2")
    w, port = start(weir, [b1, b2])
    assert get(port)[0] == 200
    b1.kill()
    b2.kill()
    for method in ("GET", "POST"):
        status, r, body = request(port, method, "/", body=b"x" if method == "POST" else None)
        assert status in (502, 503), (method, status, body)
        assert body in (b"Bad Gateway\n", b"Service Unavailable\n")


def test_garbage_response_502(weir, raw_server):
    g = raw_server(b"this is not http\r\n\r\n")
    w, port = start(weir, [g.addr])
    for method in ("GET", "POST"):
        status, r, body = request(port, method, "/", body=b"x" if method == "POST" else None)
        assert (status, body) == (502, b"Bad Gateway\n"), (method, status, body)


def test_response_with_cl_and_te_refused(weir, raw_server):
    g = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled")
    w, port = start(weir, [g.addr])
    status, r, body = request(port, "POST", "/", body=b"x")
    assert (status, body) == (502, b"Bad Gateway\n"), (status, body)


def test_partial_response_truncated(weir, backends):
    """The server announces 100 bytes, sends 10 and closes: weir cannot say
    anything once the answer started, so the client sees the 10 bytes and
    the connection end (a truncated response)."""
    b = backends("b1")
    w, port = start(weir, [b])
    with raw_connect(port) as s:
        s.sendall(b"GET /partial HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_to_eof(s)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data
    assert b"Content-Length: 100" in head
    assert body == b"0123456789"


def test_response_until_close_relayed(weir, raw_server):
    g = raw_server(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it until the close")
    w, port = start(weir, [g.addr])
    with raw_connect(port) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_to_eof(s)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data
    assert b"Connection: close" in head
    assert body == b"all of it until the close"


# --- access log and counters --------------------------------------------------------------

# client service server status bytes Tw/Tc/Tr/Tt retries "request"
LOG_RE = re.compile(r'^(\S+) (\S+) (\S+) (\d+) (\d+) (\d+)/(\d+)/(\d+)/(\d+) (\d+) "(.*)"$')


def test_access_log_file(weir, backends, tmpdir_path):
    b = backends("b1")
    path = os.path.join(tmpdir_path, "access.log")
    w, port = start(weir, [b], [f"access_log {path}"])
    c = conn(port)
    try:
        for p in ("/", "/status?code=404", "/slow?ms=200"):
            c.request("GET", p)
            r = c.getresponse()
            r.read()
    finally:
        c.close()
    request(port, "POST", "/echo", body=b"abcdef")

    def lines():
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return f.read().splitlines()
    wait_for(lambda: len(lines()) >= 4, what="4 access log lines")
    time.sleep(0.2)
    ls = lines()
    assert len(ls) == 4, ls
    parsed = [LOG_RE.match(l) for l in ls]
    assert all(parsed), ls
    for m in parsed:
        assert m.group(1).startswith("127.0.0.1:"), m.group(0)
        assert m.group(2) == f"127.0.0.1:{port}", m.group(0)
        assert m.group(3) == b.addr, m.group(0)
        assert m.group(10) == "0"                # no retry
    by_req = {m.group(11): m for m in parsed}
    assert set(by_req) == {"GET /", "GET /status?code=404", "GET /slow?ms=200", "POST /echo"}
    assert by_req["GET /"].group(4) == "200" and by_req["GET /"].group(5) == "3"
    assert by_req["GET /status?code=404"].group(4) == "404"
    assert by_req["GET /status?code=404"].group(5) == str(len("404 Not Found\n"))
    slow = by_req["GET /slow?ms=200"]
    # Tr (to the response head) holds the server's 200 ms; Tt holds Tr
    assert int(slow.group(8)) >= 190 and int(slow.group(9)) >= int(slow.group(8)), slow.group(0)
    assert by_req["POST /echo"].group(4) == "200"


def test_access_log_retries_and_errors(weir, backends, tmpdir_path):
    good = backends("good")
    dead = f"127.0.0.1:{free_port()}"
    path = os.path.join(tmpdir_path, "access.log")
    w, port = start(weir, [dead, good], [f"access_log {path}", "max_body_size 10"])
    for _ in range(2):
        assert get(port)[0] == 200
    status, _, _ = request(port, "POST", "/", body=b"x" * 100)
    assert status == 413
    wait_for(lambda: os.path.exists(path) and len(open(path).read().splitlines()) >= 3,
             what="3 access log lines")
    ms = [LOG_RE.match(l) for l in open(path).read().splitlines()]
    assert all(ms)
    gets = [m for m in ms if m.group(11) == "GET /"]
    assert all(m.group(3) == good.addr for m in gets)
    # rr offers the dead server in turn (no health check here): each GET
    # tried it first, then went on
    assert [m.group(10) for m in gets] == ["1", "1"], [m.group(0) for m in gets]
    err = [m for m in ms if m.group(11) == "POST /"][0]
    assert (err.group(3), err.group(4)) == ("-", "413"), err.group(0)


def test_access_log_stderr(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["access_log stderr"])
    get(port, "/some/where?q=1")
    wait_for(lambda: '"GET /some/where?q=1"' in w.read_log(), what="access log on stderr")
    line = [l for l in w.read_log().splitlines() if '"GET /some/where?q=1"' in l][0]
    assert LOG_RE.match(line), line


def test_counters_move(weir, backends):
    b1, b2 = backends("b1"), backends("b2")
    w, port = start(weir, [b1, b2])
    vip = f"127.0.0.1:{port}"
    assert stats(w)[vip] == (0, 0, 0)
    for _ in range(3):
        c = conn(port)
        for _ in range(2):
            c.request("GET", "/")
            c.getresponse().read()
        c.close()
    st = stats(w)
    conns, inb, outb = st[vip]
    assert conns == 3, st                  # client connections
    assert inb > 0 and outb > 0, st
    assert st[b1.addr][0] >= 1 and st[b2.addr][0] >= 1, st
    assert st[b1.addr][2] > 0 and st[b2.addr][2] > 0, st
    w.ctl("-Z")
    assert stats(w)[vip] == (0, 0, 0)


# --- redirect mode ------------------------------------------------------------------------

def test_redirect_mode(weir):
    port = free_port()
    plain = f"127.0.0.1:{free_port()}"
    w = weir(http_conf(port, ["127.0.0.1:9001 url http://a.example:8080/",
                              "127.0.0.1:9002 url https://b.example",
                              plain], mode="redirect"))
    wait_for(lambda: can_connect(port), what="weir listening")
    c = conn(port)
    locs = []
    try:
        for _ in range(6):
            c.request("GET", "/p/q?x=1&y=%20")
            r = c.getresponse()
            assert r.status == 302
            assert r.read() == b""
            locs.append(r.getheader("Location"))
    finally:
        c.close()
    assert locs == ["http://a.example:8080/p/q?x=1&y=%20", "https://b.example/p/q?x=1&y=%20",
                    f"http://{plain}/p/q?x=1&y=%20"] * 2, locs
    st = stats(w)
    assert st["127.0.0.1:9001"][0] == 2, st


def test_redirect_mode_http10_and_post(weir):
    port = free_port()
    w = weir(http_conf(port, ["127.0.0.1:9001 url http://a.example"], mode="redirect"))
    wait_for(lambda: can_connect(port), what="weir listening")
    (resp,), closed = exchange(port, b"GET /x HTTP/1.0\r\n\r\n")
    assert resp[0] == 302 and resp[1]["location"] == "http://a.example/x"
    assert closed
    # a request with a body is answered, then the connection closes: what
    # follows the body is never taken for a request
    (r1,), closed = exchange(port, b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
                                   b"hello"
                                   b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
    assert r1[0] == 302 and r1[1]["location"] == "http://a.example/form"
    assert r1[1]["connection"] == "close"
    assert closed
    # a pipeline of GETs is answered in order on one connection
    (r1, r2), closed = exchange(port, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                                      b"GET /b?c HTTP/1.1\r\nHost: x\r\n\r\n", responses=2)
    assert [r1[1]["location"], r2[1]["location"]] == ["http://a.example/a",
                                                      "http://a.example/b?c"]
    assert not closed


def test_redirect_mode_no_server_503(weir):
    port = free_port()
    w = weir(f"workers 1;\nservice tcp 127.0.0.1:{port} {{\n    proxy redirect;\n}}\n")
    wait_for(lambda: can_connect(port), what="weir listening")
    status, r, body = get(port)
    assert status == 503


# --- the server connection pool ---------------------------------------------------------

def test_server_keepalive_max_zero_disables_reuse(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["server_keepalive_max 0"])
    c = conn(port)
    try:
        seen = []
        for _ in range(3):
            c.request("GET", "/reqs-on-conn")
            seen.append(int(c.getresponse().read()))
    finally:
        c.close()
    assert seen == [1, 1, 1], seen


def test_server_keepalive_timeout_closes_idle_server_connections(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["server_keepalive_timeout 300ms"], workers=1)
    c = conn(port)
    try:
        seen = []
        for pause in (0, 0, 1.0, 0):
            time.sleep(pause)
            c.request("GET", "/reqs-on-conn")
            seen.append(int(c.getresponse().read()))
    finally:
        c.close()
    assert seen == [1, 2, 1, 2], seen


def test_pooled_connection_to_restarted_server(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], workers=1)
    assert get(port)[2] == b"b1\n"          # leaves an idle connection in the pool
    b.stop()
    backends("b1-again", port=b.port)
    for _ in range(3):
        status, r, body = get(port)
        assert (status, body) == (200, b"b1-again\n"), (status, body, w.read_log())


def test_pooled_connection_closed_as_request_arrives(weir, raw_server):
    """The server closes a kept-alive connection instead of answering the
    request sent on it: it cannot have processed it, the GET goes again on
    a new connection (to the same server, the only one) and succeeds."""
    srv = raw_server(None)
    w, port = start(weir, [srv.addr], workers=1)
    c = conn(port)
    try:
        for i in range(4):
            c.request("GET", f"/?i={i}")
            r = c.getresponse()
            body = r.read()
            assert (r.status, body) == (200, b"ok\n"), (i, r.status, body, w.read_log())
    finally:
        c.close()


# --- more of the response side ------------------------------------------------------------

def test_no_body_statuses_keep_the_connection(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    (r1, r2, r3), closed = exchange(port, b"GET /status?code=204 HTTP/1.1\r\nHost: x\r\n\r\n"
                                          b"GET /status?code=304 HTTP/1.1\r\nHost: x\r\n\r\n"
                                          b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", responses=3,
                                    wait_close=0.3)
    assert [r1[0], r2[0], r3[0]] == [204, 304, 200]
    assert r3[2] == b"b1\n"
    assert not closed


def test_response_hop_by_hop_headers_removed(weir, raw_server):
    g = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: X-Secret\r\n"
                   b"X-Secret: 1\r\nKeep-Alive: timeout=5\r\nX-Kept: yes\r\n\r\nok\n")
    w, port = start(weir, [g.addr])
    status, r, body = get(port)
    assert (status, body) == (200, b"ok\n")
    names = {k.lower() for k, _ in r.getheaders()}
    assert "x-secret" not in names and "keep-alive" not in names, r.getheaders()
    assert r.getheader("X-Kept") == "yes"


def test_expect_rejected_by_server(weir, backends):
    """The server refuses the body (417) before it is sent: the client gets
    the 417 instead of 100 Continue, and never has to send the body."""
    b = backends("b1")
    w, port = start(weir, [b])
    with raw_connect(port) as s:
        s.sendall(b"POST /expect-reject HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Length: 100000\r\n\r\n")
        status, headers, body, head = read_response(s.makefile("rb"))
        assert status == 417, head
        assert body == b"expectation refused\n"
        assert is_closed(s, 3.0)


def test_slow_reader_large_download(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    n = 16 * MiB
    with raw_connect(port, timeout=20) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        s.sendall(b"GET /big?bytes=%d HTTP/1.1\r\nHost: x\r\n\r\n" % n)
        f = s.makefile("rb")
        head = b""
        while (l := f.readline()) != b"\r\n":
            head += l
        assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: %d" % n in head
        time.sleep(1.0)           # weir and the server must hold back, not buffer it all
        got = 0
        h = hashlib.sha256()
        while got < n:
            chunk = f.read1(min(1 << 20, n - got))
            assert chunk
            h.update(chunk)
            got += len(chunk)
    want = hashlib.sha256((bytes(range(ord("a"), ord("z") + 1)) * (n // 26 + 1))[:n]).hexdigest()
    assert h.hexdigest() == want


def test_graceful_stop_finishes_request_in_flight(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    idle = raw_connect(port)
    idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    read_response(idle.makefile("rb"))
    result = {}

    def slow():
        result["r"] = get(port, "/slow?ms=800")
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    w.signal(15)
    t.join(10)
    status, r, body = result["r"]
    assert (status, body) == (200, b"b1\n")
    # the idle keep-alive connection was closed, not left to the grace time
    assert is_closed(idle, 3.0)
    idle.close()


def test_failed_request_does_not_poison_connection(weir, backends):
    """Servers that failed one request are tried again for the next request
    on the same client connection."""
    b1, b2 = backends("b1"), backends("b2")
    w, port = start(weir, [b1, b2])
    c = conn(port)
    try:
        for _ in range(3):
            c.request("GET", "/reset")          # every server resets it
            r = c.getresponse()
            assert (r.status, r.read()) == (502, b"Bad Gateway\n")
            if r.getheader("Connection") == "close":
                c.close()
            c.request("GET", "/")
            r = c.getresponse()
            assert r.status == 200, (r.status, r.read())
            assert r.read() in (b"b1\n", b"b2\n")
    finally:
        c.close()


def test_x_forwarded_for_several_fields_all_kept(weir, backends):
    """Two X-Forwarded-For fields are one list (RFC 9110 5.3): every hop in
    it is kept, in order, and the client is appended."""
    b = backends("b1")
    w, port = start(weir, [b])
    seen, _ = headers_seen(port, b"X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\n")
    xff = [l for l in seen.splitlines() if l.lower().startswith("x-forwarded-for:")]
    assert xff == ["X-Forwarded-For: 10.0.0.1, 10.0.0.2, 127.0.0.1"], seen


# --- clients that go away, half-close, or hurry ---------------------------------------------

def test_client_half_close_after_request_still_answered(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    with raw_connect(port) as s:
        s.sendall(b"GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        data = read_to_eof(s)
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"\r\n\r\nb1\n"), data


def test_client_gone_mid_body(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    reqs0 = direct_int(b, "/requests")
    with raw_connect(port) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" +
                  b"z" * 300000)
        time.sleep(0.2)
    time.sleep(0.3)
    # the server answered nothing, and weir goes on
    assert direct_int(b, "/requests") == reqs0 + 1
    assert get(port)[2] == b"b1\n"


def test_client_gone_mid_response(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b])
    with raw_connect(port) as s:
        s.sendall(b"GET /big?bytes=50000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(1000).startswith(b"HTTP/1.1 200")
    for _ in range(3):
        assert get(port)[2] == b"b1\n"
    # the server side of the abandoned download was let go too
    wait_for(lambda: re.search(r"Proxy\s+1\s+0\s+", w.ctl("-L", "-n").stdout), timeout=5,
             what="no active connection left")


def test_server_answers_before_body_is_sent(weir, backends):
    """The server refuses a big upload at once (417, then closes): the client
    gets that answer, and the connection is closed after it."""
    b = backends("b1")
    w, port = start(weir, [b])
    with raw_connect(port) as s:
        s.sendall(b"POST /expect-reject HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n")
        f = s.makefile("rb")

        def push():
            try:
                for _ in range(40):
                    s.sendall(b"u" * 100000)
            except OSError:
                pass
        t = threading.Thread(target=push)
        t.start()
        status, headers, body, head = read_response(f)
        t.join(10)
    assert status == 417, head
    assert body == b"expectation refused\n"


def test_many_concurrent_clients(weir, backends):
    bs = [backends(f"b{i}") for i in range(3)]
    w, port = start(weir, bs)
    errors = []

    def client(k):
        try:
            c = conn(port)
            for i in range(15):
                if i % 3 == 0:
                    data = pattern(1000 + 997 * i, k)
                    c.request("POST", "/echo", body=data)
                    r = c.getresponse()
                    r.read()
                    assert r.status == 200 and r.getheader("X-Body-Sha256") == sha(data)
                elif i % 3 == 1:
                    c.request("GET", f"/status?code={400 + i}")
                    r = c.getresponse()
                    assert (r.status, r.read()) == (400 + i, f"{400 + i} ".encode() +
                                                    r.reason.encode() + b"\n")
                else:
                    c.request("GET", "/chunked")
                    r = c.getresponse()
                    assert r.read() == b"chunk 1\nchunk 2\nchunk 3\n"
            c.close()
        except Exception as e:      # noqa: BLE001 - reported below
            errors.append(repr(e))
    ts = [threading.Thread(target=client, args=(k,)) for k in range(30)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, errors[:5]
    assert sum(direct_int(b, "/requests") - 1 for b in bs) == 30 * 15


# --- retries and tunnels, more settings -------------------------------------------------

def test_retries_zero_means_one_try(weir, backends):
    good = backends("good")
    dead = f"127.0.0.1:{free_port()}"
    w, port = start(weir, [dead, good], ["retries 0"])
    statuses = sorted(get(port)[0] for _ in range(4))
    assert statuses == [200, 200, 502, 502], statuses


def test_upgraded_tunnel_idle_timeout(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["idle_timeout 700ms"])
    with raw_connect(port) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n")
        f = s.makefile("rb")
        assert read_response(f)[0] == 101
        s.sendall(b"ping")
        assert f.read1(4) == b"ping"
        t0 = time.monotonic()
        assert is_closed(s, 5.0)
        assert 0.4 < time.monotonic() - t0 < 3.0


def test_connection_close_stops_the_pipeline(weir, backends):
    """After a request saying Connection: close, what follows on the
    connection is not a request: it never reaches a server."""
    b = backends("b1")
    w, port = start(weir, [b])
    reqs0 = direct_int(b, "/requests")
    (r1,), closed = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                   b"GET /second HTTP/1.1\r\nHost: x\r\n\r\n")
    assert r1[2] == b"b1\n" and closed
    assert direct_int(b, "/requests") == reqs0 + 2     # ours and the first only


# --- runtime changes ------------------------------------------------------------------------

def test_server_deleted_at_runtime(weir, backends):
    b1, b2 = backends("b1"), backends("b2")
    w, port = start(weir, [b1, b2])
    c = conn(port)
    try:
        for _ in range(4):                    # pooled connections to both
            c.request("GET", "/")
            c.getresponse().read()
        w.ctl("-d", "-t", f"127.0.0.1:{port}", "-r", b1.addr)
        names = []
        for _ in range(4):
            c.request("GET", "/")
            names.append(c.getresponse().read())
    finally:
        c.close()
    assert names == [b"b2\n"] * 4, names
    assert b1.addr not in w.ctl("-L", "-n").stdout


def test_weight_zero_at_runtime_takes_no_new_requests(weir, backends):
    b1, b2 = backends("b1"), backends("b2")
    w, port = start(weir, [b1, b2])
    w.ctl("-e", "-t", f"127.0.0.1:{port}", "-r", b1.addr, "-w", "0")
    assert {get(port)[2] for _ in range(6)} == {b"b2\n"}


def test_reload_changes_http_options(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["max_body_size 1k"])
    assert post_echo(port, b"x" * 2000)[0] == 413
    w.write_config(http_conf(port, [b.addr], ["max_body_size 4k"]))
    w.ctl("reload")
    wait_for(lambda: post_echo(port, b"x" * 2000)[0] == 200, timeout=5, what="new limit")
    assert post_echo(port, b"x" * 5000)[0] == 413


# --- what a server may send that weir-backend never does -------------------------------------

@pytest.mark.parametrize("reply", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!",
    b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nX-Big: " + b"b" * 70000 + b"\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok",
], ids=["two CL", "negative CL", "70k head", "bad status"])
def test_bad_response_heads_502(weir, raw_server, reply):
    g = raw_server(reply)
    w, port = start(weir, [g.addr])
    status, r, body = request(port, "POST", "/", body=b"x")
    assert (status, body) == (502, b"Bad Gateway\n"), (status, body)


def test_interim_103_relayed_before_final(weir, raw_server):
    g = raw_server(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                   b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
    w, port = start(weir, [g.addr])
    with raw_connect(port) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        f = s.makefile("rb")
        status, headers, _, head = read_response(f)
        assert status == 103 and "s.css" in headers.get("link", ""), head
        status, headers, body, head = read_response(f)
        assert (status, body) == (200, b"ok\n"), head


def test_server_connections_beyond_keepalive_max_kept_briefly(weir, backends):
    """server_keepalive_max bounds the idle connections kept for
    server_keepalive_timeout; the ones a burst used beyond it are kept 2 s,
    so that the next burst finds them instead of connecting again (issue
    10: 200 clients on 2 servers made one connect per 7 requests)."""
    b = backends("b1")
    w, port = start(weir, [b], ["server_keepalive_max 1"], workers=1)

    def burst():
        out = []
        ts = [threading.Thread(target=lambda: out.append(get(port, "/slow?ms=300")[0]))
              for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert out == [200, 200], out

    def conns():  # the backend's accepted connections, less this request's own
        return int(direct(b, "/conns")) - 1

    c0 = conns()
    burst()
    c1 = conns()
    assert c1 - c0 == 3, (c0, c1)        # 2 for the burst, 1 for the probe
    burst()
    c2 = conns()
    assert c2 - c1 == 1, (c1, c2)        # both pooled ones reused
    time.sleep(2.5)                      # the surplus one is closed by now
    burst()
    c3 = conns()
    assert c3 - c2 == 2, (c2, c3)        # one reused, one new, and the probe
