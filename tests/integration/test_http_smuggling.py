"""Request smuggling through the HTTP proxy: malformed requests sent raw,
each must be refused with its documented status, the connection closed
after the refusal, and the server behind must never answer a request the
client slipped in (its /requests counter, read directly, grows only by the
legitimate requests). The corpus follows tests/unit/proto/test_http.c; each
case carries a smuggled "GET /smuggled" that a lax parser would see as a
second request."""
import time

import pytest

from conftest import free_port, wait_for, can_connect
from test_http_proxy import direct_int, http_conf, is_closed, raw_connect, read_response, start

SMUG = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
H = b"Host: a\r\n"
CHUNKED = b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"


def post(headers, body=b""):
    return b"POST / HTTP/1.1\r\n" + H + headers + b"\r\n" + body + SMUG


# (name, raw request, status weir answers)
CASES = [
    # framing: Content-Length and Transfer-Encoding
    ("CL and TE", post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"), 400),
    ("TE and CL", post(b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n"), 400),
    ("CL twice same", post(b"Content-Length: 1\r\nContent-Length: 1\r\n", b"x"), 400),
    ("CL twice differ", post(b"Content-Length: 1\r\nContent-Length: 40\r\n", b"x"), 400),
    ("CL list", post(b"Content-Length: 1, 1\r\n", b"x"), 400),
    ("CL negative", post(b"Content-Length: -1\r\n"), 400),
    ("CL plus", post(b"Content-Length: +1\r\n", b"x"), 400),
    ("CL hex", post(b"Content-Length: 0x1\r\n", b"x"), 400),
    ("CL inner space", post(b"Content-Length: 1 1\r\n", b"x"), 400),
    ("CL trailing junk", post(b"Content-Length: 1x\r\n", b"x"), 400),
    ("CL empty", post(b"Content-Length:\r\n"), 400),
    ("CL overflow", post(b"Content-Length: 99999999999999999999999\r\n"), 400),
    ("TE chunked not last", post(b"Transfer-Encoding: chunked, identity\r\n", b"0\r\n\r\n"), 400),
    ("TE identity", post(b"Transfer-Encoding: identity\r\n"), 400),
    ("TE xchunked", post(b"Transfer-Encoding: xchunked\r\n", b"0\r\n\r\n"), 400),
    ("TE twice", post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                      b"0\r\n\r\n"), 400),
    ("TE chunked twice", post(b"Transfer-Encoding: chunked, chunked\r\n", b"0\r\n\r\n"), 400),
    ("TE folded", post(b"Transfer-Encoding:\r\n chunked\r\n", b"0\r\n\r\n"), 400),
    ("TE space before colon", post(b"Transfer-Encoding : chunked\r\n", b"0\r\n\r\n"), 400),
    ("TE vertical tab", post(b"Transfer-Encoding: \x0bchunked\r\n", b"0\r\n\r\n"), 400),
    ("TE in 1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUG, 400),
    # chunked bodies
    ("bad chunk size", CHUNKED + b"zz\r\n" + SMUG, 400),
    ("negative chunk", CHUNKED + b"-1\r\n" + SMUG, 400),
    ("chunk size overflow", CHUNKED + b"ffffffffffffffffff\r\n" + SMUG, 400),
    ("chunk longer than size", CHUNKED + b"1\r\nxy\r\n0\r\n\r\n" + SMUG, 400),
    ("chunk size with space", CHUNKED + b"1 1\r\nx\r\n0\r\n\r\n" + SMUG, 400),
    ("chunk size LF only", CHUNKED + b"1\nx\r\n0\r\n\r\n" + SMUG, 400),
    ("chunk size 0x", CHUNKED + b"0x1\r\nx\r\n0\r\n\r\n" + SMUG, 400),
    ("chunk size leading space", CHUNKED + b" 1\r\nx\r\n0\r\n\r\n" + SMUG, 400),
    # trailers are a field section like the head: the same rules apply
    # (RFC 9112 5.1, 5.2, 7.1.2)
    ("trailer space in name", CHUNKED + b"0\r\nBad Trailer: x\r\n\r\n" + SMUG, 400),
    ("trailer space before colon", CHUNKED + b"0\r\nX : x\r\n\r\n" + SMUG, 400),
    ("trailer obs-fold", CHUNKED + b"0\r\nX: y\r\n z\r\n\r\n" + SMUG, 400),
    ("trailer bare LF", CHUNKED + b"0\r\nX: y\n\n" + SMUG, 400),
    ("trailer bare CR", CHUNKED + b"0\r\nX: y\rz\r\n\r\n" + SMUG, 400),
    ("trailer NUL", CHUNKED + b"0\r\nX: a\x00b\r\n\r\n" + SMUG, 400),
    ("chunk extension bare LF", CHUNKED + b"1;a\nx\r\n0\r\n\r\n" + SMUG, 400),
    ("chunk extension control char", CHUNKED + b"1;a\x01b\r\nx\r\n0\r\n\r\n" + SMUG, 400),
    ("last chunk bare LF", CHUNKED + b"0\n\r\n" + SMUG, 400),
    # line ends and folding
    ("obs-fold", b"GET / HTTP/1.1\r\n" + H + b"X-A: b\r\n\tc\r\n\r\n" + SMUG, 400),
    ("bare LF", b"GET / HTTP/1.1\nHost: a\n\n" + SMUG, 400),
    ("bare LF in header", b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n" + SMUG, 400),
    ("bare LF after headers", b"GET / HTTP/1.1\r\nHost: a\r\n\n" + SMUG, 400),
    ("bare CR", b"GET / HTTP/1.1\r\n" + H + b"X: a\rb\r\n\r\n" + SMUG, 400),
    ("two leading blank lines", b"\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n", 400),
    # header names and values
    ("space before colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n" + SMUG, 400),
    ("space in name", b"GET / HTTP/1.1\r\n" + H + b"X Y: b\r\n\r\n" + SMUG, 400),
    ("tab in name", b"GET / HTTP/1.1\r\n" + H + b"X\tY: b\r\n\r\n" + SMUG, 400),
    ("non-ASCII in name", b"GET / HTTP/1.1\r\n" + H + b"X\xffY: b\r\n\r\n" + SMUG, 400),
    ("empty name", b"GET / HTTP/1.1\r\n" + H + b": b\r\n\r\n" + SMUG, 400),
    ("NUL in value", b"GET / HTTP/1.1\r\n" + H + b"X: a\x00b\r\n\r\n" + SMUG, 400),
    ("control char in value", b"GET / HTTP/1.1\r\n" + H + b"X: a\x01b\r\n\r\n" + SMUG, 400),
    ("two Host", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + SMUG, 400),
    ("no Host in 1.1", b"GET / HTTP/1.1\r\nX: a\r\n\r\n" + SMUG, 400),
    ("too many fields", b"GET / HTTP/1.1\r\n" + H + b"X: 1\r\n" * 140 + b"\r\n" + SMUG, 431),
    # request line
    ("bad method", b"G@T / HTTP/1.1\r\n" + H + b"\r\n" + SMUG, 400),
    ("bad version", b"GET / HTTP/1.7\r\n" + H + b"\r\n" + SMUG, 400),
    ("lowercase version", b"GET / http/1.1\r\n" + H + b"\r\n" + SMUG, 400),
    ("trailing space", b"GET / HTTP/1.1 \r\n" + H + b"\r\n" + SMUG, 400),
    ("space in target", b"GET /a b HTTP/1.1\r\n" + H + b"\r\n" + SMUG, 400),
    ("control in target", b"GET /\x01 HTTP/1.1\r\n" + H + b"\r\n" + SMUG, 400),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\n" + H + b"\r\n" + SMUG, 505),
    ("HTTP/0.9", b"GET /\r\n\r\n" + SMUG, 505),
    ("CONNECT", b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n" + SMUG, 405),
    ("unknown expectation", post(b"Expect: 200-ok\r\nContent-Length: 0\r\n"), 417),
]

# Cases whose head is valid and whose body is not: sent in two steps, so
# the head has reached the server before the bad body arrives.
BODY_CASES = [c for c in CASES if c[1].startswith(CHUNKED)] + [
    ("chunk data then junk", CHUNKED + b"3\r\nabc\r\nXX\r\n" + SMUG, 400),
    ("chunk CRLF missing", CHUNKED + b"3\r\nabcGET /smuggled HTTP/1.1\r\n\r\n", 400),
]


@pytest.fixture
def proxy(weir, backends):
    """weir in front of one backend: (weir, port, backend)."""
    b = backends("b1")
    port = free_port()
    w = weir(http_conf(port, [b.addr]))
    wait_for(lambda: can_connect(port), what="weir listening")
    return w, port, b


def refused(port, parts, status, legit=0):
    """Sends <parts> (with a short pause between them) on one connection;
    expects <legit> 200 answers then <status>, and the connection closed."""
    with raw_connect(port, timeout=5) as s:
        for i, p in enumerate(parts):
            if i:
                time.sleep(0.2)
            try:
                s.sendall(p)
            except (BrokenPipeError, ConnectionResetError):
                break
        f = s.makefile("rb")
        for _ in range(legit):
            assert read_response(f)[0] == 200
        code, headers, body, head = read_response(f)
        assert code == status, head + body
        assert headers.get("connection", "").lower() == "close", head
        assert b"smuggled" not in body
        assert is_closed(s, 3.0), "connection left open after the refusal"


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name,raw,status", CASES, ids=[c[0] for c in CASES])
def test_refused(proxy, name, raw, status):
    w, port, b = proxy
    before = direct_int(b, "/requests")
    refused(port, [raw], status)
    # only our own /requests reached the server
    assert direct_int(b, "/requests") == before + 1, w.read_log()


@pytest.mark.parametrize("name,raw,status", BODY_CASES, ids=[c[0] for c in BODY_CASES])
def test_refused_body_after_head(proxy, name, raw, status):
    w, port, b = proxy
    before = direct_int(b, "/requests")
    cut = len(CHUNKED)
    refused(port, [raw[:cut], raw[cut:]], status)
    assert direct_int(b, "/requests") == before + 1, w.read_log()


@pytest.mark.parametrize("name,raw,status", CASES, ids=[c[0] for c in CASES])
def test_refused_after_legit_request(proxy, name, raw, status):
    """A valid request first on the same connection: it is answered, the bad
    one refused, and nothing else reaches the server."""
    w, port, b = proxy
    before = direct_int(b, "/requests")
    refused(port, [b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" + raw], status, legit=1)
    assert direct_int(b, "/requests") == before + 2, w.read_log()


def test_lenient_request_line_is_normalized(proxy):
    """RFC 9112 3 lets a recipient split the request line on runs of
    spaces; weir does, and the server gets a request line with single
    spaces, so both read the same request."""
    w, port, b = proxy
    with raw_connect(port, timeout=5) as s:
        s.sendall(b"GET  /echo  HTTP/1.1\r\nHost: a\r\n\r\n")
        code, headers, body, _ = read_response(s.makefile("rb"))
    if code == 400:
        return          # refusing is fine too
    assert code == 200
    assert body.startswith(b"GET /echo HTTP/1.1\r\n"), body


def test_valid_requests_still_pass(proxy):
    """The checks refuse no valid framing: chunk extensions, trailers,
    mixed-case chunked, absolute-form targets, OPTIONS *, HTTP/1.0."""
    w, port, b = proxy
    before = direct_int(b, "/requests")
    valid = [
        CHUNKED + b"3;ext=1\r\nabc\r\n0\r\nTrailer: t\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n",
        b"GET http://a/b?c HTTP/1.1\r\nHost: a\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n",
    ]
    with raw_connect(port, timeout=5) as s:
        s.sendall(b"".join(valid))
        f = s.makefile("rb")
        for _ in valid:
            assert read_response(f)[0] == 200
    s2 = raw_connect(port, timeout=5)
    with s2:
        s2.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert read_response(s2.makefile("rb"))[0] == 200
    assert direct_int(b, "/requests") == before + len(valid) + 2


def test_absolute_form_authority_wins_over_host(weir, backends):
    """RFC 9112 3.2.2: an absolute-form target's authority replaces Host.
    The request is routed by it (the admin pool here, not the public
    default) and the server gets an origin-form target with that Host."""
    public, admin = backends("public"), backends("admin")
    port = free_port()
    weir(f"""workers 1;
service tcp 127.0.0.1:{port} {{
    proxy http;
    scheduler rr;
    server {public.addr};
    pool admin {{ server {admin.addr}; }}
    route {{ host admin.example; pool admin; }}
}}
""")
    wait_for(lambda: can_connect(port), what="weir listening")
    with raw_connect(port, timeout=5) as s:
        s.sendall(b"GET http://admin.example/echo?x=1 HTTP/1.1\r\nHost: public.example\r\n\r\n")
        code, headers, body, _ = read_response(s.makefile("rb"))
    assert code == 200 and headers.get("x-backend") == "admin", (headers, body)
    assert body.startswith(b"GET /echo?x=1 HTTP/1.1\r\nHost: admin.example\r\n"), body
    assert b"public.example" not in body
    # without a path: "/"
    with raw_connect(port, timeout=5) as s:
        s.sendall(b"GET http://public.example HTTP/1.1\r\nHost: admin.example\r\n\r\n")
        code, headers, body, _ = read_response(s.makefile("rb"))
    assert code == 200 and headers.get("x-backend") == "public", (headers, body)


def test_empty_line_before_request_ignored(proxy):
    """RFC 9112 2.2: one CRLF before a request line is ignored, as the stray
    CRLF some clients send after a POST body; the next request is served."""
    w, port, b = proxy
    before = direct_int(b, "/requests")
    with raw_connect(port, timeout=5) as s:
        s.sendall(b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"
                  b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc\r\n"
                  b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        f = s.makefile("rb")
        assert [read_response(f)[0] for _ in range(3)] == [200, 200, 200]
    assert direct_int(b, "/requests") == before + 4    # (this reading is one)


@pytest.mark.parametrize("allow,by_server", [("off", False), ("on", True)])
def test_request_codings_501_unless_allowed(weir, backends, allow, by_server):
    """Transfer codings before chunked on a request: weir answers 501 by
    default (RFC 9112 6.1); when the service allows them the request goes
    to the server as it is (the demo backend then answers 501 itself)."""
    b = backends("b1")
    w, port = start(weir, [b], [f"request_transfer_codings {allow}"])
    with raw_connect(port, timeout=5) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                  b"3\r\nabc\r\n0\r\n\r\n")
        code, headers, body, _ = read_response(s.makefile("rb"))
    assert code == 501, body
    assert ("x-backend" in headers) == by_server, headers
    assert (body == b"Not Implemented\n") == (not by_server), body
