"""HTTP routing rules: Host (exact and wildcard), path prefix and regex,
method, any header (User-Agent, Accept-Language), each to a pool with its
own scheduler; first match wins; the service's own servers by default.
Reload keeps connections and applies new rules."""
import http.client
import signal

from conftest import free_port, wait_for


def ask(port, path="/", method="GET", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read().decode().strip()
    c.close()
    return body


def routing_conf(port, bs, extra_route=""):
    d, api, img, mob, zh, wild, post = bs
    return f"""workers 2;
service tcp 127.0.0.1:{port} {{
    proxy http;
    scheduler rr;
    server {d.addr};
    pool api {{ scheduler lc; server {api.addr}; }}
    pool img {{ server {img.addr}; }}
    pool mobile {{ server {mob.addr}; }}
    pool zh {{ server {zh.addr}; }}
    pool wild {{ server {wild.addr}; }}
    pool writes {{ server {post.addr}; }}
{extra_route}    route {{ host api.example.com; pool api; }}
    route {{ path_prefix /static/; path_regex "\\.(png|jpg)$"; pool img; }}
    route {{ header User-Agent "Mobile|Android"; pool mobile; }}
    route {{ header Accept-Language "^zh"; pool zh; }}
    route {{ host *.example.org; pool wild; }}
    route {{ method POST; pool writes; }}
}}
"""


def test_routes(weir, backends):
    bs = [backends(n) for n in ("default", "api", "img", "mobile", "zh", "wild", "writes")]
    port = free_port()
    w = weir(routing_conf(port, bs))
    assert ask(port, headers={"Host": "api.example.com"}) == "api"
    assert ask(port, headers={"Host": "API.example.com:8080"}) == "api"
    assert ask(port, "/static/a/b.png") == "img"
    assert ask(port, "/static/a/b.css") == "default"      # prefix without the regex
    assert ask(port, "/img.png") == "default"             # regex without the prefix
    assert ask(port, headers={"User-Agent": "Foo Android 12"}) == "mobile"
    assert ask(port, headers={"Accept-Language": "zh-CN,zh;q=0.9"}) == "zh"
    assert ask(port, headers={"Accept-Language": "en-US,zh;q=0.9"}) == "default"
    assert ask(port, headers={"Host": "a.b.example.org"}) == "wild"
    assert ask(port, headers={"Host": "example.org"}) == "default"
    assert ask(port, method="POST") == "writes"
    # first match wins: an api.example.com POST goes to api
    assert ask(port, method="POST", headers={"Host": "api.example.com"}) == "api"
    assert ask(port) == "default"
    # reload: a new first rule; the pools keep working
    w.write_config(routing_conf(port, bs, "    route { path_prefix /new; pool zh; }\n"))
    w.signal(signal.SIGHUP)
    wait_for(lambda: ask(port, "/new/x") == "zh", what="new route")
    assert ask(port, headers={"Host": "api.example.com"}) == "api"


def test_bad_routes_refused(weir, tmpdir_path):
    import os
    import subprocess
    from conftest import WEIR
    bad = [
        ("service tcp 127.0.0.1:1 {\n proxy http;\n route { pool nope; }\n}\n", 3, "no pool named"),
        ("service tcp 127.0.0.1:1 {\n proxy http;\n route { host a; }\n}\n", 3, "needs a pool"),
        ("service tcp 127.0.0.1:1 {\n proxy http;\n pool p { server 1.2.3.4:80; }\n"
         " route { path_regex \"(\"; pool p; }\n}\n", 4, "not a regular expression"),
        ("service tcp 127.0.0.1:1 {\n proxy tcp;\n pool p { server 1.2.3.4:80; }\n}\n", 1,
         "for 'proxy http' services"),
        ("service tcp 127.0.0.1:1 {\n proxy http;\n pool p { }\n pool p { }\n}\n", 4,
         "declared twice"),
    ]
    for text, line, why in bad:
        path = os.path.join(tmpdir_path, "r.conf")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([WEIR, "-t", "-c", path], capture_output=True, text=True, timeout=10)
        assert r.returncode == 1 and f"{path}:{line}: " in r.stderr and why in r.stderr, r.stderr


# --- the numbers of pools (issue 10, defect 7) ------------------------------------

def pools_conf(port, mport, d, api):
    return f"""workers 2;
metrics 127.0.0.1:{mport};
service tcp 127.0.0.1:{port} {{
    proxy http;
    scheduler rr;
    server {d.addr};
    pool api {{ scheduler wrr; server {api.addr} weight 2; }}
    route {{ path_prefix /api/; pool api; }}
}}
"""


def http10(port, path):
    """One HTTP/1.0 request on its own connection; (sent, received) bytes."""
    import socket
    req = f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(req)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.0 200"), data[:80]
    return len(req), len(data)


def stats_rows(text):
    """`-L -n --stats --exact` as {row name: [Conns, InPkts, OutPkts, InBytes, OutBytes]}."""
    rows = {}
    for line in text.splitlines()[3:]:
        words = line.split()
        if line.startswith("  -> "):
            rows["-> " + words[1]] = [int(x) for x in words[2:]]
        elif line.startswith("  pool "):
            rows["pool " + words[1]] = [int(x) for x in words[2:]]
        else:
            rows[words[0] + " " + words[1]] = [int(x) for x in words[2:]]
    return rows


def test_pool_numbers_are_their_own(weir, backends):
    """N requests routed to pool api and M to the service's own servers:
    each pool row counts its own requests (pool "default": the service's
    own servers), the service counts them all, in /metrics, the JSON and
    -L --stats."""
    from conftest import http_get, weir_json
    from test_metrics import parse_prometheus, sample, value
    d, api = backends("default"), backends("api")
    port, mport = free_port(), free_port()
    w = weir(pools_conf(port, mport, d, api))
    wait_for(lambda: ask(port) == "default", what="weir listening")
    w.ctl("-Z")
    n, m = 5, 3
    sent = {"api": [0, 0], "default": [0, 0]}
    for pool, path, k in (("api", "/api/x", n), ("default", "/other", m)):
        for _ in range(k):
            s, r = http10(port, path)
            sent[pool][0] += s
            sent[pool][1] += r
    vip = f"127.0.0.1:{port}"

    fams = parse_prometheus(http_get(mport, "/metrics")[2].decode())
    svc = f"TCP {vip}"
    for pool, k in (("api", n), ("default", m)):
        lab = {"service": svc, "pool": pool}
        assert value(fams, "weir_service_requests_total", **lab) == k, pool
        assert value(fams, "weir_service_connections_total", **lab) == k, pool
        hits = [v for nm, l, v in fams["weir_service_responses_total"]["samples"]
                if l.get("pool") == pool and l.get("class") == "2xx"]
        assert hits == [k], (pool, hits)
        assert sample(fams, "weir_service_response_seconds",
                      "weir_service_response_seconds_count", **lab) == k
        # what its servers received and answered: the pool's bytes are theirs
        srv = d.addr if pool == "default" else api.addr
        for fam in ("bytes_in_total", "bytes_out_total", "packets_in_total",
                    "packets_out_total", "requests_total"):
            assert value(fams, f"weir_service_{fam}", **lab) == \
                value(fams, f"weir_server_{fam}", server=srv, **lab), (pool, fam)
        # the responses came to the client whole
        assert value(fams, "weir_service_bytes_out_total", **lab) == sent[pool][1]

    doc = weir_json(w, "-L", "-n")
    (js,) = [s for s in doc["services"] if s["address"] == vip]
    assert js["stats"]["requests"] == n + m
    assert js["stats"]["conns"] == n + m          # client connections
    assert js["stats"]["inbytes"] == sent["api"][0] + sent["default"][0]
    pools = {p["name"]: p for p in js["pools"]}
    assert list(pools) == ["default", "api"]
    assert pools["api"]["scheduler"] == "wrr" and pools["default"]["scheduler"] == "rr"
    for pool, k in (("api", n), ("default", m)):
        st = pools[pool]["stats"]
        assert st["requests"] == k and st["conns"] == k and st["responses"]["2xx"] == k
        assert st["outbytes"] == sent[pool][1]
    assert {s["address"]: s["pool"] for s in js["servers"]} == {d.addr: "default",
                                                                api.addr: "api"}

    out = w.ctl("-L", "-n", "--stats", "--exact").stdout
    rows = stats_rows(out)
    assert rows[f"TCP {vip}"][0] == n + m
    assert rows["pool api"][0] == n
    assert rows[f"-> {api.addr}"][0] == n and rows[f"-> {d.addr}"][0] == m
    assert rows["pool api"][2:] == rows[f"-> {api.addr}"][2:]
    # the pool's servers are listed under it, after the service's own
    starts = [x.split()[0] + " " + x.split()[1] for x in out.splitlines()[3:]]
    assert starts == [f"TCP {vip}", f"-> {d.addr}", "pool api", f"-> {api.addr}"], out
    plain = w.ctl("-L", "-n").stdout
    assert "  pool api wrr\n" in plain and f"  -> {api.addr}" in plain
    assert "  pool api" in w.ctl("-L", "-n", "--rate").stdout

    # -Z zeroes the pools too
    w.ctl("-Z")
    doc = weir_json(w, "-L", "-n")
    (js,) = [s for s in doc["services"] if s["address"] == vip]
    assert all(p["stats"]["requests"] == 0 for p in js["pools"])


def test_pool_servers_save_and_restore(weir, backends):
    """-S writes a service's pools and their servers (-A --pool, -a
    --pool); after -C, -R rebuilds them: the same -S, the pool serving
    again once a reload brings its route back."""
    d, api = backends("default"), backends("api")
    port, mport = free_port(), free_port()
    w = weir(pools_conf(port, mport, d, api))
    wait_for(lambda: ask(port, "/api/x") == "api", what="weir listening")
    vip = f"127.0.0.1:{port}"
    saved = w.ctl("-S", "-n").stdout
    assert f"-A -t {vip} --pool api -s wrr\n" in saved, saved
    assert f"-a -t {vip} -r {api.addr} -g -w 2 --pool api\n" in saved, saved
    w.ctl("-C")
    assert w.ctl("-S", "-n").stdout == ""
    w.ctl("-R", stdin=saved)
    assert w.ctl("-S", "-n").stdout == saved
    listing = w.ctl("-L", "-n").stdout
    assert f"  pool api wrr\n  -> {api.addr}" in listing, listing
    # the routes live in the file: a reload brings them back
    w.signal(signal.SIGHUP)
    wait_for(lambda: ask(port, "/api/x") == "api", what="route after reload")
    assert w.ctl("-S", "-n").stdout == saved
