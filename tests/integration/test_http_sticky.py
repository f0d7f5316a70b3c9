"""Sticky sessions in the HTTP proxy: cookie insert (opaque, not the
address), hashing on a cookie, header or URL parameter; a sticky server that
is down falls back to the scheduler."""
import collections
import http.client
import re

import pytest

from conftest import free_port


def conf(port, servers, sticky):
    return (f"workers 2;\nservice tcp 127.0.0.1:{port} {{\n proxy http;\n scheduler rr;\n"
            f" sticky {sticky};\n" + "".join(f" server {b.addr};\n" for b in servers) + "}\n")


def ask(port, path="/", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read().decode().strip()
    cookie = r.getheader("Set-Cookie")
    c.close()
    return body, cookie


def test_cookie_insert(weir, backends):
    bs = [backends(f"b{i}") for i in range(3)]
    port = free_port()
    weir(conf(port, bs, "cookie WEIRSRV"))
    first, cookie = ask(port)
    assert cookie and cookie.startswith("WEIRSRV=") and "Path=/" in cookie
    value = re.match(r"WEIRSRV=([^;]+)", cookie).group(1)
    assert "127.0.0.1" not in value and re.fullmatch(r"[0-9a-f]{16}", value)
    # with the cookie: always the same server, no new cookie
    for _ in range(6):
        body, again = ask(port, headers={"Cookie": f"other=1; WEIRSRV={value}"})
        assert body == first and again is None
    # without: the scheduler spreads, each answer names its server
    seen = collections.Counter(ask(port)[0] for _ in range(6))
    assert len(seen) == 3


def test_cookie_server_down_falls_back(weir, backends):
    bs = [backends(f"b{i}") for i in range(2)]
    port = free_port()
    w = weir(conf(port, bs, "cookie WEIRSRV"))
    first, cookie = ask(port)
    value = re.match(r"WEIRSRV=([^;]+)", cookie).group(1)
    victim = [b for b in bs if b.name == first][0]
    w.ctl("-d", "-t", f"127.0.0.1:{port}", "-r", victim.addr)
    body, new_cookie = ask(port, headers={"Cookie": f"WEIRSRV={value}"})
    assert body != first and new_cookie and value not in new_cookie


@pytest.mark.parametrize("how,req", [
    ("hash cookie sid", lambda k: ("/", {"Cookie": f"sid={k}"})),
    ("hash header X-User", lambda k: ("/", {"X-User": k})),
    ("hash param user", lambda k: (f"/?a=1&user={k}", {})),
])
def test_hash_sticky(weir, backends, how, req):
    bs = [backends(f"b{i}") for i in range(3)]
    port = free_port()
    weir(conf(port, bs, how))
    owner = {}
    for k in (f"key{i}" for i in range(30)):
        path, hdrs = req(k)
        owner[k] = ask(port, path, hdrs)[0]
        for _ in range(2):
            assert ask(port, path, hdrs)[0] == owner[k]
    # the keys spread over the servers
    assert len(set(owner.values())) == 3


def test_cookie_follows_replacement_when_server_stops(weir, backends):
    """The cookie's server stops (no health check to notice): requests that
    carry its cookie are retried on another server, and the answer carries a
    new cookie naming that server; with it the client sticks there."""
    bs = [backends(f"b{i}") for i in range(3)]
    port = free_port()
    weir(conf(port, bs, "cookie WEIRSRV"))
    first, cookie = ask(port)
    value = re.match(r"WEIRSRV=([^;]+)", cookie).group(1)
    [b for b in bs if b.name == first][0].kill()
    body, new = ask(port, headers={"Cookie": f"WEIRSRV={value}"})
    assert body != first and new and value not in new
    value2 = re.match(r"WEIRSRV=([^;]+)", new).group(1)
    seen = collections.Counter()
    for _ in range(20):
        b, again = ask(port, headers={"Cookie": f"WEIRSRV={value2}"})
        seen[b] += 1
        assert again is None
    assert seen == {body: 20}
