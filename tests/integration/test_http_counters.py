"""weirctl -L --http: requests, responses by status class, retries and mean
response time, per service and per server, as traffic moves them."""
import http.client
import re

from conftest import free_port


def test_http_counters(weir, backends):
    a, b = backends("a"), backends("b")
    port = free_port()
    w = weir(f"workers 2;\nservice tcp 127.0.0.1:{port} {{\n proxy http;\n scheduler rr;\n"
             f" server {a.addr};\n server {b.addr};\n}}\n")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for path in ["/", "/", "/status?code=404", "/status?code=500", "/"]:
        c.request("GET", path)
        c.getresponse().read()
    c.close()
    b.kill()  # the next request to b is retried on a
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for _ in range(2):
        c.request("GET", "/")
        assert c.getresponse().read() == b"a\n"
    c.close()
    out = w.ctl("-L", "-n", "--http", "--exact").stdout
    lines = out.splitlines()
    assert lines[1].split() == ["Prot", "LocalAddress:Port", "Reqs", "1xx", "2xx", "3xx",
                                "4xx", "5xx", "Retries", "RTms"]
    svc = [l for l in lines if l.startswith("TCP")][0].split()
    reqs, c1, c2, c3, c4, c5, retries = map(int, svc[2:9])
    assert (reqs, c2, c4, c5) == (7, 5, 1, 1), out
    # each request rr sends to the dead b is retried on a (no health checks here)
    assert retries == 2, out
    assert float(svc[9]) >= 0
    row_a = [l for l in lines if re.search(rf"-> {re.escape(a.addr)}\s", l)][0].split()
    assert int(row_a[2]) >= 4, out
