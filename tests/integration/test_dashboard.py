"""The live dashboard (issue 14) in a real chromium: a real weir with real
backends behind an HTTP service, the page from its metrics listener. The
page loads without console errors, lists the services and servers, its
graph's numbers rise under load, a server's state changes on the page
within 2 s of the health change, drain works from the page with the
config's token and is refused without it; names from the config reach the
page as text, never as HTML. A screenshot is saved as build/dashboard.png."""
import json
import os
import socket
import subprocess
import time

from browser import ROOT, browser  # noqa: F401 (the fixture)
from conftest import Load, can_connect, free_port, json_server, wait_for

TIMING = "interval 300ms fast_interval 100ms rise 2 fall 2 timeout 200ms"
HOSTILE = "<img src=x onerror=window.pwned=1>"


def dash_conf(port, mport, bs, token_file=None, top=""):
    top += f"metrics 127.0.0.1:{mport};\n"
    if token_file:
        top += f"metrics_token {token_file};\n"
    return f"""workers 2;
{top}service tcp 127.0.0.1:{port} {{
    proxy http;
    scheduler rr;
    check http path /health expect 200-299 {TIMING};
    server {bs[0].addr};
    server {bs[1].addr};
    pool api {{ server {bs[2].addr}; }}
    route {{ path_prefix /api/; path_regex "{HOSTILE}"; pool api; }}
}}
"""


def start(weir, backends, tmpdir, token=None, top=""):
    bs = [backends(n) for n in ("alpha", "beta", "gamma")]
    port, mport = free_port(), free_port()
    token_file = None
    if token:
        token_file = os.path.join(tmpdir, "token")
        with open(token_file, "w") as f:
            f.write(token + "\n")
    w = weir(dash_conf(port, mport, bs, token_file, top))
    wait_for(lambda: can_connect(port) and can_connect(mport), what="weir listening")
    return w, bs, port, mport, f"127.0.0.1:{port}"


def row(vip, rip):
    return f'section[data-service="TCP {vip}"] tr[data-server="{rip}"]'


def page_state(b, vip, rip):
    return b.eval(f"(() => {{ const r = document.querySelector('{row(vip, rip)}');"
                  " return r ? r.querySelector('.state').textContent : null; })()")


def post(mport, query, token=None):
    """POST /api/server?<query>; returns (status, JSON answer)."""
    head = f"POST /api/server?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
    if token is not None:
        head += f"X-Weir-Token: {token}\r\n"
    with socket.create_connection(("127.0.0.1", mport), timeout=5) as s:
        s.sendall((head + "\r\n").encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


def test_dashboard_live_in_a_browser(weir, backends, browser, tmpdir_path):
    w, bs, port, mport, vip = start(weir, backends, tmpdir_path, token="s3cret-token")
    wait_for(lambda: all(json_server(w, vip, b.addr)["state"] == "up" for b in bs), 10,
             "servers up")
    b = browser
    b.goto(f"http://127.0.0.1:{mport}/")
    # every server of the service and of its pool, with its state
    for s in bs:
        b.wait(f"document.querySelector('{row(vip, s.addr)} .state')"
               f" && document.querySelector('{row(vip, s.addr)} .state').textContent === 'up'")
    assert b.eval("document.querySelectorAll('section.svc').length") == 1
    assert b.eval(f"document.querySelector('{row(vip, bs[2].addr)}').dataset.pool") == "api"
    # the config's route is shown as text, not run as HTML
    assert b.wait(f"[...document.querySelectorAll('td')].some(t => t.textContent === {json.dumps(HOSTILE)})")
    assert b.eval("document.querySelectorAll('main img').length") == 0
    assert b.eval("window.pwned === undefined")
    # the last check's result and its age, from weir's time of it; the age moves
    chk = f"document.querySelector('{row(vip, bs[0].addr)} td.check')"
    first = b.eval(f"Number({chk}.dataset.checked)")
    assert abs(first / 1000 - time.time()) < 5, first
    assert b.wait(f"/^HTTP 200 \\(.* ms\\) · \\d+ s ago$/.test({chk}.textContent)"), \
        b.eval(f"{chk}.textContent")
    b.wait(f"Number({chk}.dataset.checked) > {first}", timeout=3)

    # the requests/s graph: its latest number rises while a client sends requests
    rps = "Number(document.querySelector(`section[data-service=\"TCP " + vip + \
          "\"] .now[data-chart=\"rps\"]`).dataset.value)"
    assert b.eval(rps) == 0
    with Load(port, threads=2, pace=0.01) as load:
        got = b.wait(f"{rps} > 5 && {rps}", timeout=10)
    assert got > 5, got
    assert not load.failures, load.failures[:3]
    # the graph's data: the service's samples hold the load
    assert b.eval(f"Math.max(...window.weirDash.hist.get('TCP {vip}|default|').rps)") > 5
    # every graph has a line per server (requests, traffic, connections, p99)
    # and the traffic and p99 graphs carry the load too
    for chart in ("rps", "bps", "active", "p99"):
        n = b.eval(f"window.weirDash.services.get('TCP {vip}').charts['{chart}'].plot"
                   ".series.length")
        assert n == 1 + 3, (chart, n)
    for chart in ("bps", "p99"):
        v = b.eval("Number(document.querySelector(`section[data-service=\"TCP " + vip +
                   f"\"] .now[data-chart=\"{chart}\"]`).dataset.value)")
        assert v > 0, (chart, v)
    b.screenshot(os.path.join(ROOT, "build", "dashboard.png"))

    # a server's state follows its health within 2 s
    bs[1].stop()
    wait_for(lambda: json_server(w, vip, bs[1].addr)["state"] == "down", 10, "beta down")
    t0 = time.monotonic()
    b.wait(f"document.querySelector('{row(vip, bs[1].addr)} .state').textContent === 'down'",
           timeout=2.0)
    assert time.monotonic() - t0 <= 2.0
    # with the reason weir gives (-L --health's)
    why = json_server(w, vip, bs[1].addr)["health"]["reason"]
    assert why and b.wait(f"document.querySelector('{row(vip, bs[1].addr)} td.why').textContent"
                          f" === {json.dumps(why)}", timeout=2.0)
    bs[1].start()
    wait_for(lambda: json_server(w, vip, bs[1].addr)["state"] == "up", 10, "beta back")
    b.wait(f"document.querySelector('{row(vip, bs[1].addr)} .state').textContent === 'up'",
           timeout=2.0)
    assert b.console_errors() == []

    # drain from the page: refused without the token ...
    drain = f"{row(vip, bs[0].addr)} button[data-action=drain]"
    b.click(drain)
    b.wait("document.getElementById('err').textContent.includes('X-Weir-Token')")
    assert json_server(w, vip, bs[0].addr)["state"] == "up"
    errs = b.console_errors()   # the browser logs the refused request (403)
    assert all("403" in e for e in errs), errs
    # ... carried out with it
    b.fill("#token", "s3cret-token")
    b.click(drain)
    b.wait(f"document.querySelector('{row(vip, bs[0].addr)} .state').textContent === 'drain'",
           timeout=3.0)
    assert json_server(w, vip, bs[0].addr)["state"] == "drain"
    assert b.console_errors() == []


def test_dashboard_read_only_without_token(weir, backends, browser, tmpdir_path):
    w, bs, port, mport, vip = start(weir, backends, tmpdir_path)
    b = browser
    b.goto(f"http://127.0.0.1:{mport}/dashboard")
    b.wait(f"document.querySelector('{row(vip, bs[0].addr)}')")
    assert b.eval("document.getElementById('ctl').textContent") == "read-only"
    assert b.eval("document.querySelectorAll('button').length") == 0
    status, doc = post(mport, f"vip={vip}&server={bs[0].addr}&action=drain", "anything")
    assert status == 403 and "off" in doc["error"]
    assert json_server(w, vip, bs[0].addr)["state"] == "up"
    assert b.console_errors() == []


def test_dashboard_api_control_and_history(weir, backends, tmpdir_path):
    """Without a browser: the control request and its refusals, and the
    history after a given time."""
    w, bs, port, mport, vip = start(weir, backends, tmpdir_path, token="tok")
    q = f"proto=tcp&vip={vip}&server={bs[0].addr}&action=maint"
    assert post(mport, q)[0] == 403
    assert post(mport, q, "tok2")[0] == 403
    assert json_server(w, vip, bs[0].addr)["state"] != "maint"
    assert post(mport, q, "tok") == (200, {"ok": True})
    assert json_server(w, vip, bs[0].addr)["state"] == "maint"
    st, doc = post(mport, f"vip={vip}&server={bs[0].addr}&action=weight&weight=x", "tok")
    assert st == 400 and "weight" in doc["error"]
    assert post(mport, f"vip={vip}&server={bs[0].addr}&action=ready", "tok")[0] == 200
    assert json_server(w, vip, bs[0].addr)["state"] == "up"
    # the time of the last check: recent, and it moves (checks every 300 ms);
    # maintenance forgot the checks, so the first one after `ready` first
    wait_for(lambda: json_server(w, vip, bs[0].addr)["health"]["last"] == "HTTP 200", 3,
             "a check after ready")
    h = json_server(w, vip, bs[0].addr)["health"]
    assert h["last"] == "HTTP 200" and abs(h["last_check_ms"] / 1000 - time.time()) < 5, h
    assert h["checked"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(h["last_check_ms"] // 1000))
    wait_for(lambda: json_server(w, vip, bs[0].addr)["health"]["last_check_ms"] > h["last_check_ms"],
             3, "a later check")

    def history(since=0):
        with socket.create_connection(("127.0.0.1", mport), timeout=5) as s:
            s.sendall(f"GET /api/history?since={since} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return json.loads(data.partition(b"\r\n\r\n")[2])

    def series(doc, server=""):
        return next(s for s in doc["series"] if s["server"] == server and s["pool"] == "default")
    wait_for(lambda: len(series(history())["t"]) >= 2, 10, "two samples")
    doc = history()
    t = series(doc)["t"]
    assert all(len(series(doc)[k]) == len(t) for k in ("rps", "inbps", "outbps", "active", "p99_ms"))
    later = history(int(t[0] * 1000))
    assert series(later)["t"][0] == t[1]


def curl(mport, path, host=None, method="GET", token=None):
    """curl's status for <path> on the metrics listener; Host: <host> if given
    (curl's own: 127.0.0.1:PORT)."""
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method,
           f"http://127.0.0.1:{mport}{path}"]
    if host is not None:
        cmd += ["-H", f"Host: {host}"]
    if token is not None:
        cmd += ["-H", f"X-Weir-Token: {token}"]
    return int(subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout)


def test_dashboard_refuses_other_hosts(weir, backends, tmpdir_path):
    """DNS rebinding: a page on evil.example that points its name at
    127.0.0.1 sends Host: evil.example; the listener answers 421 to every
    path, control included, and serves IP literals, localhost and the names
    of metrics_hosts (what scrapers and people type)."""
    w, bs, port, mport, vip = start(weir, backends, tmpdir_path, token="tok",
                                    top="metrics_hosts weir.example lb1.internal;\n")
    paths = ("/", "/dashboard", "/api/dash", "/api/history", "/metrics", "/status")
    for path in paths:
        assert curl(mport, path) == 200, path                  # Host: 127.0.0.1:PORT
        assert curl(mport, path, "evil.example") == 421, path
        assert curl(mport, path, f"evil.example:{mport}") == 421, path
    for host in ("localhost", f"LOCALHOST:{mport}", "localhost.", "127.0.0.1", f"[::1]:{mport}",
                 "weir.example", f"WEIR.Example.:{mport}", "lb1.internal"):
        assert curl(mport, "/api/dash", host) == 200, host
    for host in ("weir.example.evil.example", "localhost.evil.example", "127.0.0.1.evil.example",
                 "lb1.internal.."):
        assert curl(mport, "/api/dash", host) == 421, host
    for host in ("::1", "[::1", f"127.0.0.1:{mport}x"):   # malformed: the parser's 400, or 421
        assert curl(mport, "/api/dash", host) in (400, 421), host
    # the reason is said
    out = subprocess.run(["curl", "-s", "-H", "Host: evil.example", f"http://127.0.0.1:{mport}/"],
                         capture_output=True, text=True, timeout=10).stdout
    assert out.startswith("421 Misdirected Request: Host is not this listener's"), out
    # control through a rebound name is refused even with the token
    q = f"/api/server?vip={vip}&server={bs[0].addr}&action=maint"
    assert curl(mport, q, "evil.example", "POST", "tok") == 421
    assert json_server(w, vip, bs[0].addr)["state"] == "up"
    assert curl(mport, q, None, "POST", "tok") == 200
    assert json_server(w, vip, bs[0].addr)["state"] == "maint"
    # HTTP/1.1 must name a Host: 400; HTTP/1.0 may leave it out
    for raw, want in ((b"GET /api/dash HTTP/1.1\r\n\r\n", b"400"),
                      (b"GET /api/dash HTTP/1.0\r\n\r\n", b"200")):
        with socket.create_connection(("127.0.0.1", mport), timeout=5) as s:
            s.sendall(raw)
            assert s.recv(100).split(b" ")[1] == want, raw
    # the names follow a reload
    w.write_config(open(w.conf).read().replace("metrics_hosts weir.example lb1.internal;",
                                               "metrics_hosts other.example;"))
    w.ctl("reload")
    wait_for(lambda: curl(mport, "/api/dash", "weir.example") == 421, 5, "the reload")
    assert curl(mport, "/api/dash", "other.example") == 200
