"""Error answers reach the client (issue 10, defect 5). When weir answers an
error and ends the connection while the client is still sending (a head too
large, a body too large, a malformed request with more behind it), it must
not close with the client's bytes unread: the kernel would answer them with
a reset that can overtake the answer, and a client still in its send never
reads the status. weir shuts its write side, drops what still comes, and
closes when the client does or after a bound: the client reads the whole
answer and then a clean EOF, never a reset."""
import socket
import time

import pytest

from test_http_proxy import raw_connect, read_response, start

RUNS = 5


def send_all_then_read(port, data):
    """Sends <data> whole (as a client that finishes its send before it
    reads), then reads one response and what follows it. Returns (status,
    body, how the connection ended: 'eof' or 'reset')."""
    with raw_connect(port, timeout=10) as s:
        s.sendall(data)     # a reset here is the defect: it raises
        f = s.makefile("rb")
        code, _, body, _ = read_response(f)
        try:
            end = "eof" if s.recv(1) == b"" else "data"
        except ConnectionResetError:
            end = "reset"
        return code, body, end


@pytest.fixture
def proxy(weir, backends):
    b = backends("b1")
    w, port = start(weir, [b], ["max_body_size 1m"])
    return w, port


CASES = [
    ("431 head of 200 KB", 431,
     b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-Big: " + b"a" * (200 << 10) + b"\r\n\r\n"),
    ("413 declared body of 5 MB", 413,
     b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5242880\r\n\r\n" + b"z" * (5 << 20)),
    ("413 chunked body of 5 MB", 413,
     b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
     + b"".join(b"10000\r\n" + b"c" * 0x10000 + b"\r\n" for _ in range(80)) + b"0\r\n\r\n"),
    ("400 with 1 MB behind it", 400,
     b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n" + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" * 40000),
    ("400 bad chunk line, body behind", 400,
     b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\r;a\r\n"
     + b"x" * (1 << 20)),
]


@pytest.mark.parametrize("name,status,data", CASES, ids=[c[0] for c in CASES])
def test_error_answer_reaches_client(proxy, name, status, data):
    w, port = proxy
    for _ in range(RUNS):
        code, _, end = send_all_then_read(port, data)
        assert (code, end) == (status, "eof"), w.read_log()


def test_lingering_is_bounded(proxy):
    """A client that goes on sending after its answer is cut off: the
    lingering ends (here after LINGER_MS, 5 s), it does not hold the
    connection open for ever."""
    w, port = proxy
    s = raw_connect(port, timeout=10)
    with s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n")
        f = s.makefile("rb")
        assert read_response(f)[0] == 400
        t0 = time.monotonic()
        ended = None
        while time.monotonic() - t0 < 12:
            try:
                s.sendall(b"y" * 1024)
            except (ConnectionResetError, BrokenPipeError):
                ended = time.monotonic() - t0
                break
            time.sleep(0.2)
        assert ended is not None, "weir kept a lingering connection open for 12 s"
        assert 3 < ended < 9, ended


def test_idle_lingering_client_is_closed(proxy):
    """A client that neither sends nor closes after the answer: weir gives
    up after LINGER_IDLE_MS (2 s) and the connection is gone."""
    w, port = proxy
    with raw_connect(port, timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\nmore")
        f = s.makefile("rb")
        assert read_response(f)[0] == 400
        assert s.recv(1) == b""          # the write side is shut at once
        time.sleep(3.5)
        # weir's socket is closed by now: what we send is answered by RST
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            for _ in range(20):
                s.sendall(b"z" * 1024)
                time.sleep(0.05)
