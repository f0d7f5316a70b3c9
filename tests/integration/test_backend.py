"""weir-backend as an HTTP server with fault modes, checked directly (no
weir in between): the HTTP proxy's tests will lean on every path here, so
each one must do exactly what demo/backend_routes.c says."""
import hashlib
import http.client
import os
import random
import socket
import subprocess
import threading
import time

import pytest

from conftest import BACKEND, Backend, free_port, wait_for, can_connect

MiB = 1 << 20


@pytest.fixture
def srv(backends):
    return backends("b1")


def connect(b, timeout=5.0):
    return socket.create_connection((b.host, b.port), timeout=timeout)


def read_response(f):
    """Reads one response from the binary file <f>: (status, headers with
    lowercase names, body). The body follows Content-Length, chunked, or
    the close."""
    line = f.readline()
    assert line.startswith(b"HTTP/1.1 "), line
    status = int(line.split()[1])
    headers = {}
    while True:
        line = f.readline()
        assert line.endswith(b"\r\n"), line
        if line == b"\r\n":
            break
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    if status < 200 or status in (204, 304):
        return status, headers, b""
    if "content-length" in headers:
        body = f.read(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                assert f.readline() == b"\r\n"
                break
            body += f.read(size)
            assert f.read(2) == b"\r\n"
    else:
        body = f.read()
    return status, headers, body


def exchange(b, data, responses=1):
    """Sends raw <data> on a new connection and reads <responses> answers."""
    with connect(b) as s:
        s.sendall(data)
        f = s.makefile("rb")
        return [read_response(f) for _ in range(responses)]


def read_all(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def get(b, path, method="GET", body=None, headers=None, **kw):
    c = http.client.HTTPConnection(b.host, b.port, timeout=10)
    try:
        c.request(method, path, body=body, headers=headers or {}, **kw)
        r = c.getresponse()
        return r.status, r, r.read()
    finally:
        c.close()


def pattern(n):
    return (bytes(range(ord("a"), ord("z") + 1)) * (n // 26 + 1))[:n]


# --- the behaviour that existed before, unchanged ---------------------------

def test_root_answers_name_with_exact_head(srv):
    with connect(srv) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        data = read_all(s)
    assert data == (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
                    b"X-Backend: b1\r\nConnection: close\r\n\r\nb1\n")


def test_unlisted_path_answers_name(srv):
    status, r, body = get(srv, "/no/such/path?x=1")
    assert (status, body, r.getheader("X-Backend")) == (200, b"b1\n", "b1")


def test_echo_mode_unchanged(backends):
    e = backends("e1", mode="echo")
    with connect(e) as s:
        s.sendall(b"GET /reset HTTP/1.1\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        assert read_all(s) == b"GET /reset HTTP/1.1\r\n\r\n[eof e1]\n"


def echo_both_ways(s, payload):
    """Sends <payload> and a FIN from a thread while reading everything."""
    t = threading.Thread(target=lambda: (s.sendall(payload), s.shutdown(socket.SHUT_WR)))
    t.start()
    got = read_all(s)
    t.join()
    return got


def test_echo_mode_large_both_ways(backends):
    e = backends("e1", mode="echo")
    payload = random.Random(3).randbytes(8 * MiB)
    with connect(e, timeout=20) as s:
        assert echo_both_ways(s, payload) == payload + b"[eof e1]\n"


# --- keep-alive, counters, pipelining ---------------------------------------

def test_keep_alive_by_default_and_reqs_on_conn(srv):
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
    for i in range(1, 4):
        c.request("GET", "/reqs-on-conn")
        r = c.getresponse()
        assert r.read() == f"{i}\n".encode()
        assert r.getheader("Connection") is None
    c.close()
    assert get(srv, "/reqs-on-conn")[2] == b"1\n"


def test_http10_and_connection_close_close(srv):
    for req in (b"GET / HTTP/1.0\r\n\r\n",
                b"GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n"):
        with connect(srv) as s:
            s.sendall(req)
            f = s.makefile("rb")
            status, h, body = read_response(f)
            assert (status, h["connection"], body) == (200, "close", b"b1\n")
            assert f.read() == b""


def test_conns_and_requests_count(srv):
    base_conns = int(get(srv, "/conns")[2])
    base_reqs = int(get(srv, "/requests")[2])
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
    for _ in range(3):
        c.request("GET", "/")
        c.getresponse().read()
    c.request("GET", "/requests")
    assert c.getresponse().read() == f"{base_reqs + 4}\n".encode()
    c.request("GET", "/conns")
    assert c.getresponse().read() == f"{base_conns + 2}\n".encode()
    c.close()


def test_refused_requests_count(srv):
    """Anything that reaches the server counts, malformed or not, so a
    proxy test can tell that nothing leaked through."""
    base = int(get(srv, "/requests")[2])
    assert exchange(srv, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n")[0][0] == 400
    assert exchange(srv, b"GET /reset HTTP/9.9\r\n\r\n")[0][0] == 505
    assert get(srv, "/requests")[2] == f"{base + 3}\n".encode()


def test_pipelined_answers_in_order(srv):
    reqs = (b"GET /slow?ms=200 HTTP/1.1\r\n\r\n"
            b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
            b"\r\n"   # a stray blank line between requests is allowed
            b"GET /status?code=404 HTTP/1.1\r\n\r\n"
            b"GET /reqs-on-conn HTTP/1.1\r\n\r\n")
    got = exchange(srv, reqs, responses=4)
    assert [g[0] for g in got] == [200, 200, 404, 200]
    assert got[0][2] == b"b1\n"
    assert got[1][2].endswith(b"\r\n\r\nabc")
    assert got[3][2] == b"4\n"


def test_pipelined_flood_is_bounded_and_complete(srv):
    """Many pipelined answers the client does not read yet: the server stops
    taking requests instead of buffering, then finishes them all."""
    n, size = 40, 200000
    with connect(srv, timeout=20) as s:
        s.sendall(f"GET /big?bytes={size} HTTP/1.1\r\n\r\n".encode() * n)
        time.sleep(0.3)
        f = s.makefile("rb")
        for _ in range(n):
            status, _, body = read_response(f)
            assert status == 200 and body == pattern(size)


def test_request_sent_byte_by_byte(srv):
    req = (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: v\r\n\r\n")
    with connect(srv) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(req)):
            s.sendall(req[i:i + 1])
            time.sleep(0.001)
        status, h, body = read_response(s.makefile("rb"))
    assert status == 200 and h["x-body-length"] == "5" and body.endswith(b"\r\n\r\nabcde")


def test_bare_lf_line_ends(srv):
    status, _, body = exchange(srv, b"GET /echo HTTP/1.1\nHost: x\n\n")[0]
    assert (status, body) == (200, b"GET /echo HTTP/1.1\nHost: x\n\n")


def test_head_has_no_body(srv):
    with connect(srv) as s:
        s.sendall(b"HEAD /big?bytes=1000 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n")
        f = s.makefile("rb")
        assert f.readline() == b"HTTP/1.1 200 OK\r\n"
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += f.readline()
        assert b"Content-Length: 1000\r\n" in head
        assert read_response(f)[2] == b"b1\n"   # nothing between the two


# --- /echo and /headers ------------------------------------------------------

def test_echo_lists_request_exactly(srv):
    req = (b"POST /echo?q=1 HTTP/1.1\r\nHost: h\r\nX-Odd-Case:  spaced  \r\n"
           b"content-length: 5\r\n\r\nhello")
    status, h, body = exchange(srv, req)[0]
    assert status == 200
    assert body == req
    assert h["x-body-length"] == "5"
    assert h["x-body-sha256"] == hashlib.sha256(b"hello").hexdigest()


def test_echo_empty_body_digest(srv):
    status, r, _ = get(srv, "/echo")
    assert r.getheader("X-Body-Length") == "0"
    assert r.getheader("X-Body-Sha256") == hashlib.sha256(b"").hexdigest()


def test_echo_1mib_upload_intact(srv):
    data = random.Random(7).randbytes(MiB)
    status, r, body = get(srv, "/echo", "PUT", body=data,
                          headers={"Content-Type": "application/octet-stream"})
    assert status == 200
    assert r.getheader("X-Body-Length") == str(MiB)
    assert r.getheader("X-Body-Sha256") == hashlib.sha256(data).hexdigest()
    assert body.endswith(b"\r\n\r\n" + data)


def test_echo_chunked_upload_with_extensions_and_trailers(srv):
    data = random.Random(8).randbytes(300000)
    parts = [data[:1], data[1:70000], data[70000:]]
    chunks = b"".join(b"%x;name=\"v a l\";flag\r\n" % len(p) + p + b"\r\n" for p in parts)
    req = (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks +
           b"0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n")
    status, h, body = exchange(srv, req)[0]
    assert status == 200
    assert h["x-body-length"] == str(len(data))
    assert h["x-body-sha256"] == hashlib.sha256(data).hexdigest()
    assert h["x-trailer-count"] == "2"
    assert body == b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + data


def test_chunked_upload_from_http_client(srv):
    def gen():
        for i in range(50):
            yield bytes([i]) * 1000
    status, r, _ = get(srv, "/echo", "POST", body=gen(), encode_chunked=True,
                       headers={"Transfer-Encoding": "chunked"})
    expect = b"".join(bytes([i]) * 1000 for i in range(50))
    assert r.getheader("X-Body-Sha256") == hashlib.sha256(expect).hexdigest()


def test_headers_route_for_forwarded_for(srv):
    req = (b"GET /headers HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n"
           b"X-Real-IP:10.0.0.2\r\n\r\n")
    status, _, body = exchange(srv, req)[0]
    assert body == b"Host: x\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\nX-Real-IP:10.0.0.2\r\n"


def test_both_framings_chunked_wins_then_close(srv):
    req = (b"POST /echo HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"2\r\nok\r\n0\r\n\r\n")
    with connect(srv) as s:
        s.sendall(req)
        f = s.makefile("rb")
        status, h, body = read_response(f)
        assert (status, h["x-body-length"], h["connection"]) == (200, "2", "close")
        assert f.read() == b""


# --- timing, status, drain ---------------------------------------------------

def test_slow_waits_on_a_timer_not_the_process(srv):
    results = []

    def one():
        t = time.monotonic()
        status, _, body = get(srv, "/slow?ms=400")
        results.append((status, body, time.monotonic() - t))
    threads = [threading.Thread(target=one) for _ in range(5)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r[:2] == (200, b"b1\n") and r[2] >= 0.39 for r in results)
    assert time.monotonic() - t0 < 1.5, "slow requests were served one after another"


def test_slow_bad_ms(srv):
    assert get(srv, "/slow?ms=abc")[0] == 400
    assert get(srv, "/slow")[0] == 400


@pytest.mark.parametrize("code", [200, 201, 404, 429, 500, 502, 503, 599])
def test_status_codes(srv, code):
    status, r, body = get(srv, f"/status?code={code}")
    assert status == code
    assert body.startswith(f"{code} ".encode()) and body.endswith(b"\n")


def test_status_without_body(srv):
    with connect(srv) as s:
        s.sendall(b"GET /status?code=204 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n")
        f = s.makefile("rb")
        status, h, _ = read_response(f)
        assert status == 204 and "content-length" not in h
        assert read_response(f)[2] == b"b1\n"


@pytest.mark.parametrize("query", ["", "?code=99", "?code=600", "?code=x", "?code="])
def test_status_bad_code(srv, query):
    assert get(srv, "/status" + query)[0] == 400


def test_drain(srv):
    status, r, body = get(srv, "/drain")
    assert (status, r.getheader("X-Weir-Drain"), body) == (503, "1", b"draining\n")


# --- connection faults -------------------------------------------------------

def test_reset_after_reading_request(srv):
    with connect(srv) as s:
        s.sendall(b"POST /reset HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody")
        with pytest.raises(ConnectionResetError):
            read_all(s)


def test_reset_waits_for_earlier_pipelined_answer(srv):
    with connect(srv) as s:
        s.sendall(b"GET / HTTP/1.1\r\n\r\nGET /reset HTTP/1.1\r\n\r\n")
        f = s.makefile("rb")
        assert read_response(f)[2] == b"b1\n"
        with pytest.raises(ConnectionResetError):
            f.read()


def test_close_early_is_a_clean_fin(srv):
    with connect(srv) as s:
        s.sendall(b"POST /close-early HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")
        assert read_all(s) == b""


def test_partial_body_then_close(srv):
    with connect(srv) as s:
        s.sendall(b"GET /partial HTTP/1.1\r\n\r\n")
        data = read_all(s)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Content-Length: 100" in head and body == b"0123456789"
    with pytest.raises(http.client.IncompleteRead):
        get(srv, "/partial")


# --- response framings -------------------------------------------------------

def test_chunked_response(srv):
    with connect(srv) as s:
        s.sendall(b"GET /chunked HTTP/1.1\r\n\r\n")
        f = s.makefile("rb")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += f.readline()
        assert b"Transfer-Encoding: chunked\r\n" in head and b"Content-Length" not in head
        wire = b"8\r\nchunk 1\n\r\n8\r\nchunk 2\n\r\n8\r\nchunk 3\n\r\n0\r\n\r\n"
        assert f.read(len(wire)) == wire
    status, _, body = get(srv, "/chunked")
    assert body == b"chunk 1\nchunk 2\nchunk 3\n"


def test_chunked_route_to_http10_is_close_delimited(srv):
    with connect(srv) as s:
        s.sendall(b"GET /chunked HTTP/1.0\r\n\r\n")
        data = read_all(s)
    assert data.endswith(b"\r\n\r\nchunk 1\nchunk 2\nchunk 3\n")
    assert b"Transfer-Encoding" not in data


@pytest.mark.parametrize("n", [0, 1, 25, 26, 27, 16380, 16381, 5 * MiB + 3])
def test_big(srv, n):
    status, r, body = get(srv, f"/big?bytes={n}")
    assert status == 200 and r.getheader("Content-Length") == str(n)
    assert body == pattern(n)


def test_big_bad_query(srv):
    assert get(srv, "/big")[0] == 400
    assert get(srv, "/big?bytes=99999999999999999999")[0] == 400


# --- upgrade and 100-continue ------------------------------------------------

def test_upgrade_to_echo(srv):
    with connect(srv) as s:
        s.sendall(b"GET /chat HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n"
                  b"Upgrade: echo\r\n\r\nearly")
        f = s.makefile("rb")
        assert f.readline() == b"HTTP/1.1 101 Switching Protocols\r\n"
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += f.readline()
        assert b"Upgrade: echo\r\n" in head
        assert f.read(5) == b"early"
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")    # no longer HTTP
        assert f.read(18) == b"GET / HTTP/1.1\r\n\r\n"
        s.shutdown(socket.SHUT_WR)
        assert f.read() == b"[eof b1]\n"


def test_upgrade_echoes_large_stream(srv):
    payload = random.Random(4).randbytes(4 * MiB)
    with connect(srv, timeout=20) as s:
        s.sendall(b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
        got = echo_both_ways(s, payload)
    head, _, rest = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    assert rest == payload + b"[eof b1]\n"


def test_upgrade_needs_both_headers(srv):
    status, _, body = exchange(srv, b"GET / HTTP/1.1\r\nUpgrade: echo\r\n\r\n")[0]
    assert (status, body) == (200, b"b1\n")


def test_expect_100_continue(srv):
    with connect(srv) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        f = s.makefile("rb")
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert f.readline() == b"\r\n"
        s.sendall(b"data")
        status, h, body = read_response(f)
        assert status == 200 and body.endswith(b"\r\n\r\ndata")


def test_expect_reject_answers_before_body(srv):
    with connect(srv) as s:
        s.sendall(b"POST /expect-reject HTTP/1.1\r\nContent-Length: 100000\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        f = s.makefile("rb")
        status, h, _ = read_response(f)
        assert (status, h["connection"]) == (417, "close")
        assert f.read() == b""


# --- limits and garbage ------------------------------------------------------

def test_header_block_over_64k(srv):
    filler = b"X-Fill: " + b"a" * 1000 + b"\r\n"
    with connect(srv) as s:
        s.sendall(b"GET / HTTP/1.1\r\n" + filler * 70)
        status, h, _ = read_response(s.makefile("rb"))
    assert (status, h["connection"]) == (431, "close")


def test_header_block_just_under_64k(srv):
    filler = b"X-Fill: " + b"a" * 1000 + b"\r\n"
    status, _, body = exchange(srv, b"GET / HTTP/1.1\r\n" + filler * 63 + b"\r\n")[0]
    assert (status, body) == (200, b"b1\n")


def test_body_limit_content_length(srv):
    with connect(srv) as s:
        s.sendall(b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (64 * MiB + 1))
        status, h, _ = read_response(s.makefile("rb"))
    assert (status, h["connection"]) == (413, "close")


def test_body_of_exactly_64mib_is_read(srv):
    status, _, body = get(srv, "/", "POST", body=b"\0" * (64 * MiB))
    assert (status, body) == (200, b"b1\n")


def test_body_limit_chunked(srv):
    assert exchange(srv, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"4000001\r\n")[0][0] == 413
    with connect(srv, timeout=20) as s:
        s.sendall(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(64):
            s.sendall(b"100000\r\n" + b"z" * MiB + b"\r\n")
        s.sendall(b"1\r\nz\r\n0\r\n\r\n")
        status, h, _ = read_response(s.makefile("rb"))
    assert status == 413


@pytest.mark.parametrize("req,status", [
    (b"garbage\r\n\r\n", 400),
    (b"GET /\r\n\r\n", 400),
    (b"GET  / HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1 \r\n\r\n", 400),
    (b"G(T / HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\n\r\n", 505),
    (b"GET / HTTX/1.1\r\n\r\n", 400),
    (b"GET /\x01 HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nName : v\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\n", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n", 400),
])
def test_bad_requests_get_status_then_close(srv, req, status):
    with connect(srv) as s:
        s.sendall(req)
        f = s.makefile("rb")
        got, h, _ = read_response(f)
        assert (got, h["connection"]) == (status, "close")
        assert f.read() == b""
    assert get(srv, "/")[2] == b"b1\n"


def test_garbage_does_not_hurt(srv):
    rnd = random.Random(1)
    seeds = [b"GET / HTTP/1.1\r\n", b"Transfer-Encoding: chunked\r\n", b"\r\n",
             b"Content-Length: 5\r\n", b"ffffffffffffffff\r\n", b"\n", b":", b" "]
    for i in range(200):
        if i % 2:
            data = rnd.randbytes(rnd.randrange(1, 3000))
        else:
            data = b"".join(rnd.choice(seeds) for _ in range(rnd.randrange(1, 40)))
        with connect(srv) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            try:
                read_all(s)
            except ConnectionResetError:
                pass
    assert srv.proc.poll() is None
    assert get(srv, "/")[2] == b"b1\n"


def test_client_vanishing_mid_request(srv):
    for part in (b"GET / HT", b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab",
                 b"GET /slow?ms=300 HTTP/1.1\r\n\r\n"):
        s = connect(srv)
        s.sendall(part)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        s.close()   # an RST
    time.sleep(0.4)
    assert srv.proc.poll() is None
    assert get(srv, "/")[2] == b"b1\n"


# --- --fail-mode and --verbose -----------------------------------------------

def test_fail_mode_reset(flagged):
    b = flagged("f1", "--fail-mode", "reset")
    for path in ("/", "/echo", "/drain"):
        with connect(b) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\n\r\n".encode())
            with pytest.raises(ConnectionResetError):
                read_all(s)


def test_fail_mode_close_early(flagged):
    b = flagged("f1", "--fail-mode", "close-early")
    with connect(b) as s:
        s.sendall(b"POST /status?code=200 HTTP/1.1\r\nContent-Length: 1\r\n\r\nx")
        assert read_all(s) == b""


def test_fail_mode_drain(flagged):
    b = flagged("f1", "--fail-mode", "drain")
    for path in ("/", "/echo", "/big?bytes=10"):
        status, r, body = get(b, path)
        assert (status, r.getheader("X-Weir-Drain"), body) == (503, "1", b"draining\n")


def test_fail_mode_slow(flagged):
    b = flagged("f1", "--fail-mode", "slow:300")
    t = time.monotonic()
    status, r, body = get(b, "/echo", "POST", body=b"xyz")
    assert time.monotonic() - t >= 0.29
    assert status == 200 and body.endswith(b"xyz")
    t = time.monotonic()
    assert get(b, "/")[2] == b"f1\n"
    assert time.monotonic() - t >= 0.29


@pytest.mark.parametrize("mode", ["bogus", "slow:", "slow:x", "partial", "/reset"])
def test_fail_mode_refuses_unknown(mode):
    r = subprocess.run([BACKEND, "--listen", f"127.0.0.1:{free_port()}", "--fail-mode", mode],
                       capture_output=True, timeout=10)
    assert r.returncode == 2 and b"usage" in r.stderr


def test_verbose_logs_one_line_per_request(flagged):
    quiet = flagged("q1")
    loud = flagged("l1", "--verbose")
    for b in (quiet, loud):
        get(b, "/status?code=404")
        get(b, "/echo", "POST", body=b"12345")
        exchange(b, b"BAD\r\n\r\n")
    wait_for(lambda: loud.read_log().count("\n") >= 3, what="log lines")
    lines = loud.read_log().splitlines()
    assert len(lines) == 3
    assert '"GET /status?code=404 HTTP/1.1" 404' in lines[0]
    assert '"POST /echo HTTP/1.1" 200' in lines[1] and "body=5" in lines[1]
    assert " 400 " in lines[2]
    assert all(line.startswith("weir-backend l1: 127.0.0.1:") for line in lines)
    assert quiet.read_log() == ""


# --- health and control paths, the agent port ---------------------------------

def agent_line(port, host="127.0.0.1", send=b""):
    """Connects to an agent port, sends <send>, reads to the close."""
    with socket.create_connection((host, port), timeout=5) as s:
        if send:
            s.sendall(send)
        return read_all(s)


def test_health_default_and_set(srv):
    assert get(srv, "/health")[0::2] == (200, b"ok\n")
    assert get(srv, "/health/set?code=503")[0::2] == (200, b"health 503\n")
    assert get(srv, "/health")[0::2] == (503, b"503 Service Unavailable\n")
    status, r, body = get(srv, "/health/set?drain=1")
    assert (status, body) == (200, b"health drain\n")
    status, r, body = get(srv, "/health")
    assert (status, r.getheader("X-Weir-Drain"), body) == (503, "1", b"draining\n")
    assert get(srv, "/health/set?code=200")[0::2] == (200, b"health 200\n")
    status, r, body = get(srv, "/health")
    assert (status, r.getheader("X-Weir-Drain"), body) == (200, None, b"ok\n")
    assert get(srv, "/health", "HEAD")[0::2] == (200, b"")
    # the traffic paths never changed
    assert get(srv, "/")[0::2] == (200, b"b1\n")


@pytest.mark.parametrize("query", ["", "?code=199", "?code=600", "?code=x", "?drain=2",
                                   "?drain=", "?other=1"])
def test_health_set_refuses_bad_queries(srv, query):
    status, r, body = get(srv, "/health/set" + query)
    assert status == 400 and b"health/set needs" in body
    assert get(srv, "/health")[0::2] == (200, b"ok\n")


def test_fail_set_fails_traffic_not_health(srv):
    assert get(srv, "/fail/set?code=500")[0::2] == (200, b"fail 500\n")
    for path in ("/", "/echo", "/status?code=200", "/big?bytes=10"):
        assert get(srv, path)[0::2] == (500, b"500 Internal Server Error\n"), path
    assert get(srv, "/health")[0::2] == (200, b"ok\n")
    assert get(srv, "/fail/set?code=0")[0::2] == (200, b"fail 0\n")
    assert get(srv, "/")[0::2] == (200, b"b1\n")
    assert get(srv, "/fail/set?code=42")[0] == 400


def test_fail_mode_spares_health_and_control(flagged):
    b = flagged("f1", "--fail-mode", "reset")
    assert get(b, "/health")[0::2] == (200, b"ok\n")
    assert get(b, "/health/set?code=500")[0] == 200
    assert get(b, "/health")[0] == 500
    slow = flagged("f2", "--fail-mode", "slow:2000")
    t = time.monotonic()
    assert get(slow, "/health")[0] == 200
    assert time.monotonic() - t < 1.5


def test_agent_port(flagged):
    port = free_port()
    b = flagged("ag", "--agent", f"127.0.0.1:{port}")
    assert agent_line(port) == b"up\n"
    assert get(b, "/agent/set?say=weight%2040")[0::2] == (200, b"agent says weight 40\n")
    assert agent_line(port) == b"weight 40\n"
    # an agent check that speaks first gets its line all the same (no RST)
    assert agent_line(port, send=b"hello\n" * 1000) == b"weight 40\n"
    assert get(b, "/agent/set?say=drain+75%25")[0] == 200
    assert agent_line(port) == b"drain 75%\n"
    status, r, body = get(b, "/agent")
    assert (status, body, r.getheader("X-Agent-Polls")) == (200, b"drain 75%\n", "4")
    # HTTP traffic is not counted as agent polls, nor polls as connections
    assert get(b, "/conns")[2] == b"5\n"


@pytest.mark.parametrize("say", ["a%0Ab", "%7", "%zz", "x%00", "%C3%A9", "a" * 128])
def test_agent_set_refuses_unprintable_or_long(flagged, say):
    port = free_port()
    b = flagged("ag", "--agent", f"127.0.0.1:{port}", "--agent-reply", "maint")
    status, r, body = get(b, "/agent/set?say=" + say)
    assert status == 400 and b"agent/set needs" in body
    assert agent_line(port) == b"maint\n"


def test_agent_reply_option_and_echo_mode(flagged):
    port = free_port()
    b = flagged("ag", "--mode", "echo", "--agent", f"127.0.0.1:{port}",
                "--agent-reply", "ready 50%")
    assert agent_line(port) == b"ready 50%\n"
    with connect(b) as s:
        s.sendall(b"ping")
        assert s.recv(4) == b"ping"


@pytest.mark.parametrize("args", [["--agent", "nowhere"], ["--agent-reply", "a\nb"],
                                  ["--agent-reply", "x" * 128]])
def test_agent_options_refused(args):
    r = subprocess.run([BACKEND, "--listen", f"127.0.0.1:{free_port()}", *args],
                       capture_output=True, timeout=10)
    assert r.returncode == 2 and b"usage" in r.stderr
