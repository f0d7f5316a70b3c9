"""Options declared once (src/core/option.h): weirctl sets the HTTP proxy's
options as the config file does, -S | -C | -R keeps them, and
-S --config writes a config file that weir -c reads back to the same
table."""
import http.client
import os
import subprocess

from conftest import WEIR, can_connect, free_port, wait_for


def post(port, size):
    """POSTs <size> bytes: (status, response headers, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("POST", "/echo", body=b"x" * size)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def saved(w):
    return w.ctl("-S", "-n").stdout


def test_weirctl_sets_an_http_option(weir, backends):
    b = backends("b1")
    w = weir()
    port = free_port()
    vip = f"127.0.0.1:{port}"
    w.ctl("-A", "-t", vip, "-s", "rr", "--proxy", "http", "--max-body-size", "1k")
    w.ctl("-a", "-t", vip, "-r", b.addr)
    wait_for(lambda: can_connect(port), what="weir listening")
    assert post(port, 2000)[0] == 413
    assert post(port, 1024)[0] == 200
    # -E keeps it when not named, changes it when named
    w.ctl("-E", "-t", vip, "-s", "wrr")
    assert post(port, 2000)[0] == 413
    w.ctl("-E", "-t", vip, "--max-body-size", "4k")
    assert post(port, 2000)[0] == 200
    # a bad value: the config file's reason behind the flag, nothing changed
    before = saved(w)
    r = w.ctl("-E", "-t", vip, "--max-body-size", "lots", check=False)
    assert r.returncode == 2
    assert r.stderr.startswith("--max-body-size: 'lots' is not a size"), r.stderr
    assert saved(w) == before


def test_save_restore_keeps_http_options(weir, backends, tmpdir_path):
    b = backends("b1")
    w = weir()
    port = free_port()
    vip = f"127.0.0.1:{port}"
    log = os.path.join(tmpdir_path, "access log.txt")
    w.ctl("-A", "-t", vip, "-s", "rr", "--proxy", "http", "--max-body-size", "1k",
          "--via", "on", "--sticky", "cookie SRV", "--access-log", log,
          "--forwarded-headers", "off", "--drain-signal", "502 X-Going")
    w.ctl("-a", "-t", vip, "-r", b.addr, "-w", "2")
    text = saved(w)
    line = next(l for l in text.splitlines() if l.startswith("-A"))
    for part in ("--proxy http", "--max-body-size 1k", "--via on", '--sticky "cookie SRV"',
                 f'--access-log "{log}"', "--forwarded-headers off",
                 '--drain-signal "502 X-Going"'):
        assert part in line, (part, line)
    w.ctl("-C")
    wait_for(lambda: not can_connect(port), what="listener closed")
    w.ctl("-R", stdin=text)
    assert saved(w) == text
    wait_for(lambda: can_connect(port), what="weir listening again")
    # and they act again: the limit, Via, the sticky cookie, the access log
    assert post(port, 2000)[0] == 413
    status, headers, _ = post(port, 100)
    assert status == 200
    assert "weir" in headers.get("Via", ""), headers
    assert headers.get("Set-Cookie", "").startswith("SRV="), headers
    wait_for(lambda: os.path.exists(log) and "POST" in open(log).read(), what="access log")


def test_save_as_config_is_read_by_weir(weir, backends, tmpdir_path):
    b1, b2 = backends("b1"), backends("b2")
    port = free_port()
    conf = f"""workers 2;
grace 2s;
service tcp 127.0.0.1:{port} {{
    proxy http;
    scheduler rr;
    max_body_size 1k;
    sticky hash header X-User;
    check tcp interval 1s;
    server {b1.addr} weight 3;
    pool api {{ scheduler wrr; server {b2.addr} {{ weight 2; state drain; }} }}
    route {{ path_prefix /api/; method POST; pool api; }}
    route {{ header X-Mobile "^(yes|1)$"; pool api; }}
}}
service udp 10.9.8.7:53 {{
    scheduler sh sh-port;
    persistent 120;
    netmask 255.255.255.0;
    on_server_gone reset;
    server 10.9.8.8:53 forward masq;
}}
"""
    w = weir(conf)
    wait_for(lambda: can_connect(port), what="weir listening")
    # weirctl adds one more, with options only weirctl gave
    p2 = free_port()
    w.ctl("-A", "-t", f"127.0.0.1:{p2}", "--proxy", "tcp", "--send-proxy", "v2",
          "--accept-proxy", "10.0.0.0/8,::1")
    w.ctl("-a", "-t", f"127.0.0.1:{p2}", "-r", b1.addr, "--check", "off")
    written = w.ctl("-S", "--config").stdout
    assert "route {" in written and "pool api" in written, written
    path = os.path.join(tmpdir_path, "written.conf")
    with open(path, "w") as f:
        f.write(written)
    r = subprocess.run([WEIR, "-t", "-c", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "3 services" in r.stdout
    before, rules = saved(w), w.ctl("-S", "--config").stdout
    assert w.stop() == 0
    # a new weir from the written file: the same table, written the same
    w2 = weir(written)
    wait_for(lambda: can_connect(port) and can_connect(p2), what="weir from the file")
    assert saved(w2) == before
    assert w2.ctl("-S", "--config").stdout == rules
    # the route came back: POST /api/ goes to the pool (b2, drained by hand:
    # no server, 503), GET / to b1
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/")
    assert c.getresponse().read().strip() == b"b1"
    c.close()
    assert post(port, 10)[0] == 200
