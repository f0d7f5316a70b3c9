"""Run-time control of real servers (issue 5): `weirctl server ... drain |
ready | maint | weight N`, `state` in the config, weight 0, and reloads
under continuous load. What a user sees: new connections stop, open ones
finish, states survive a reload, and no client request is lost."""
import http.client
import re
import signal
import socket
import threading
import time
from collections import Counter

import pytest

from conftest import (Load, backend_ctl, can_connect, free_port, json_server, rs_log,
                      svc_conf, tcp_get, wait_for, wait_log)

CHECK_HTTP = ("check http path /health interval 300ms fast_interval 100ms rise 2 fall 2 "
              "timeout 200ms")


def start(weir, servers, extra=(), proxy="http", sched="rr"):
    port = free_port()
    lines = [s if isinstance(s, str) else s.addr for s in servers]
    w = weir(svc_conf(port, lines, proxy=proxy, sched=sched, extra=extra))
    wait_for(lambda: can_connect(port), what="weir listening")
    w.ctl("-Z")
    return w, port, f"127.0.0.1:{port}"


def names_of(port, n=30):
    """Who answers <n> sequential requests, each on a new connection (each
    must be answered 200)."""
    return Counter(tcp_get(port) for _ in range(n))


class Pinned:
    """A keep-alive HTTP/1.1 connection through a TCP proxy: it stays on
    the server it landed on, whatever happens to that server's state."""

    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        self.name = self.ask()

    def ask(self):
        self.c.request("GET", "/")
        r = self.c.getresponse()
        assert r.status == 200
        return r.read().decode().strip()

    def close(self):
        self.c.close()


def pinned_to(port, name, tries=10):
    """A Pinned connection that landed on server <name> (rr: one of the
    next few does)."""
    others = []
    try:
        for _ in range(tries):
            p = Pinned(port)
            if p.name == name:
                return p
            others.append(p)
        raise AssertionError(f"no connection landed on {name}")
    finally:
        for p in others:
            p.close()


# --- drain and weight 0: new connections stop, open ones finish --------------

@pytest.mark.parametrize("how", ["drain", "weight0", "server-weight0"])
def test_open_connection_survives_drain_and_weight0(weir, backends, how):
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [a, b], proxy="tcp")
    held = pinned_to(port, "b")
    try:
        if how == "drain":
            w.ctl("server", "-t", vip, b.addr, "drain")
        elif how == "weight0":
            w.ctl("-e", "-t", vip, "-r", b.addr, "-w", "0")
        else:
            w.ctl("server", "-t", vip, b.addr, "weight", "0")
        assert names_of(port) == {"a": 30}
        # the open connection goes on, to the same server, both ways
        for _ in range(3):
            assert held.ask() == "b"
        out = w.ctl("-L", "-n").stdout
        assert re.search(rf"-> {re.escape(b.addr)}\s+Proxy\s+\d+\s+1\s", out), out
        state = json_server(w, vip, b.addr)["state"]
        assert state == ("drain" if how == "drain" else "quiesced"), state
    finally:
        held.close()
    wait_for(lambda: json_server(w, vip, b.addr)["active_conns"] == 0, 5,
             "the open connection counted closed")
    if how == "drain":
        w.ctl("server", "-t", vip, b.addr, "ready")
    else:
        w.ctl("-e", "-t", vip, "-r", b.addr, "-w", "1")
    assert set(names_of(port)) == {"a", "b"}


def test_drain_lets_http_requests_in_flight_finish(weir, backends):
    """HTTP proxy: slow requests already sent to a server that is then
    drained are answered by it; new ones go elsewhere."""
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [a, b])
    results = []

    def slow():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            c.request("GET", "/slow?ms=1500")
            r = c.getresponse()
            results.append((r.status, r.read().decode().strip()))
        except OSError as e:
            results.append((0, repr(e)))
        finally:
            c.close()
    threads = [threading.Thread(target=slow) for _ in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: json_server(w, vip, b.addr)["active_conns"] >= 1, 5,
             "a slow request on b")
    w.ctl("server", "-t", vip, b.addr, "drain")
    assert names_of(port, 20) == {"a": 20}
    for t in threads:
        t.join(10)
    assert sorted(results) == [(200, "a"), (200, "a"), (200, "b"), (200, "b")], results


def test_drain_under_load_no_request_fails(weir, backends):
    bs = [backends(f"b{i}") for i in range(3)]
    w, port, vip = start(weir, bs)
    with Load(port, threads=3) as load:
        load.wait_answers(30)
        w.ctl("server", "-t", vip, bs[0].addr, "drain")
        t = time.monotonic()
        load.wait_answers(60)
        t_asked = time.monotonic()
        w.ctl("server", "-t", vip, bs[0].addr, "ready")
        t_ready = time.monotonic()
        load.wait_answers(60)
    assert not load.failures, load.failures[:5]
    assert "b0" not in load.names(t + 0.05, t_asked)
    assert load.names(since=t_ready + 0.05)["b0"] > 5


# --- maint ------------------------------------------------------------------

def test_maint_in_config_gets_no_traffic(weir, backends):
    a, b, c = backends("a"), backends("b"), backends("c")
    w, port, vip = start(weir, [a, f"{b.addr} state maint", f"{c.addr} state drain"])
    assert set(names_of(port, 40)) == {"a"}
    assert json_server(w, vip, b.addr)["state"] == "maint"
    assert json_server(w, vip, c.addr)["state"] == "drain"
    assert backend_ctl(b, "/requests") == "1\n"     # this one
    w.ctl("server", "-t", vip, b.addr, "ready")
    assert set(names_of(port, 40)) == {"a", "b"}


def test_maint_by_hand_survives_reload(weir, backends):
    """`weirctl server ... maint`, then a reload (of a changed file that says
    nothing about that server's state) keeps it in maint; `ready` ends it."""
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [a, b])
    w.ctl("server", "-t", vip, b.addr, "maint")
    assert set(names_of(port)) == {"a"}
    conf = open(w.conf).read()
    w.write_config(conf.replace(f"server {a.addr};", f"server {a.addr} weight 3;"))
    assert "reloaded" in w.ctl("reload").stdout
    assert re.search(rf"-> {re.escape(a.addr)}\s+Proxy\s+3\s", w.ctl("-L", "-n").stdout)
    assert json_server(w, vip, b.addr)["state"] == "maint"
    assert set(names_of(port)) == {"a"}
    w.signal(signal.SIGHUP)
    time.sleep(0.5)
    assert set(names_of(port)) == {"a"}
    w.ctl("server", "-t", vip, b.addr, "ready")
    assert set(names_of(port)) == {"a", "b"}
    # the file's own state wins over the hand-set one
    w.ctl("server", "-t", vip, b.addr, "maint")
    w.write_config(conf.replace(f"server {b.addr};", f"server {b.addr} state ready;"))
    w.ctl("reload")
    assert set(names_of(port)) == {"a", "b"}


def test_maint_is_never_chosen_by_persistence(weir, backends):
    """A persistent client goes back to its server while it drains (IPVS),
    but never to one in maintenance."""
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [a, b], proxy="tcp", extra=["persistent 60"])
    first = names_of(port, 5)
    assert len(first) == 1
    mine = next(iter(first))
    srv = a if mine == "a" else b
    w.ctl("server", "-t", vip, srv.addr, "drain")
    assert names_of(port, 5) == {mine: 5}
    w.ctl("server", "-t", vip, srv.addr, "maint")
    other = "b" if mine == "a" else "a"
    assert names_of(port, 5) == {other: 5}


# --- weights ------------------------------------------------------------------

def test_weight_command_sets_distribution(weir, backends):
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [a, b], sched="wrr")
    w.ctl("server", vip, b.addr, "weight", "3")       # -t is the default
    got = names_of(port, 80)
    assert 18 <= got["a"] <= 22 and got["a"] + got["b"] == 80, got
    s = json_server(w, vip, b.addr)
    assert s["weight"] == 3 and s["effective_weight"] == 3
    assert re.search(rf"-> {re.escape(b.addr)}\s+Proxy\s+3\s", w.ctl("-L", "-n").stdout)


# --- ready clears what health said ----------------------------------------------

def test_ready_clears_drain_signal_and_ejection(weir, backends):
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [a, b], [CHECK_HTTP, "outlier errors 2 eject 60s"])
    mark = len(w.read_log())
    backend_ctl(b, "/health/set?drain=1")
    wait_log(w, rs_log(b.addr) + "real server is draining", mark, timeout=5)
    backend_ctl(b, "/health/set?code=200")
    time.sleep(0.5)                                   # passing checks do not undo it
    assert set(names_of(port)) == {"a"}
    w.ctl("server", "-t", vip, b.addr, "ready")
    assert set(names_of(port)) == {"a", "b"}
    # an ejection (60 s) ends too
    mark = len(w.read_log())
    backend_ctl(b, "/fail/set?code=502")
    with Load(port, threads=1) as load:
        wait_log(w, rs_log(b.addr) + "real server ejected", mark, timeout=5)
    backend_ctl(b, "/fail/set?code=0")
    assert set(names_of(port)) == {"a"}
    assert json_server(w, vip, b.addr)["state"] == "ejected"
    w.ctl("server", "-t", vip, b.addr, "ready")
    assert set(names_of(port)) == {"a", "b"}
    assert json_server(w, vip, b.addr)["state"] == "up"


@pytest.mark.parametrize("args,msg", [
    (["drain"], "usage"),
    (["127.0.0.1:1", "drain"], "no such|not found|unknown"),
    (["SRV", "sleep"], "unknown action"),
    (["SRV", "weight"], "usage|weight"),
    (["SRV", "weight", "70000"], "weight"),
    (["SRV", "weight", "x"], "weight"),
])
def test_server_command_errors_change_nothing(weir, backends, args, msg):
    a = backends("a")
    w, port, vip = start(weir, [a])
    args = [a.addr if x == "SRV" else x for x in args]
    r = w.ctl("server", "-t", vip, *args, check=False)
    assert r.returncode != 0 and re.search(msg, r.stderr, re.I), (r.stdout, r.stderr)
    assert json_server(w, vip, a.addr)["state"] == "up"
    assert json_server(w, vip, a.addr)["weight"] == 1
    r = w.ctl("server", "-t", f"127.0.0.1:{free_port()}", a.addr, "drain", check=False)
    assert r.returncode != 0 and r.stderr


# --- reloads under load -------------------------------------------------------------

def test_reload_under_load_loses_no_request(weir, backends):
    """Clients send continuously while the file changes (server added,
    weights, scheduler, checks, a server removed) and is reloaded by
    SIGHUP and by `weirctl reload`: every request sent is answered 200."""
    a, b, c = backends("a"), backends("b"), backends("c")
    port = free_port()
    confs = [
        svc_conf(port, [a.addr, b.addr]),
        svc_conf(port, [a.addr, b.addr, c.addr], extra=[CHECK_HTTP]),
        svc_conf(port, [f"{a.addr} weight 2", b.addr, c.addr], sched="wrr",
                 extra=[CHECK_HTTP, "outlier errors 5", "slow_start 1s"]),
        svc_conf(port, [a.addr, c.addr], sched="lc", extra=["check tcp interval 200ms"]),
        svc_conf(port, [a.addr, b.addr, c.addr], sched="rr"),
    ]
    w = weir(confs[0])
    wait_for(lambda: can_connect(port), what="weir listening")
    with Load(port, threads=4) as load:
        load.wait_answers(40)
        for i, text in enumerate(confs[1:] * 2):
            w.write_config(text)
            mark = len(w.read_log())
            if i % 2:
                assert "reloaded" in w.ctl("reload").stdout
            else:
                w.signal(signal.SIGHUP)
                wait_log(w, r"reloaded ", mark, timeout=5)
            load.wait_answers(40)
    sent, ok = load.sent, sum(1 for _, s, _ in load.answers if s == 200)
    assert not load.failures, (load.failures[:5], w.read_log()[-2000:])
    assert sent == ok and ok > 300, (sent, ok)
    assert "reload refused" not in w.read_log()
    assert set(load.names()) == {"a", "b", "c"}


def test_bad_reload_refused_under_load(weir, backends):
    """A reload with a bad health line is refused with FILE:LINE, by
    `weirctl reload` and by SIGHUP; traffic goes on under the old config."""
    a, b = backends("a"), backends("b")
    port = free_port()
    good = svc_conf(port, [a.addr, b.addr], extra=[CHECK_HTTP])
    w = weir(good)
    wait_for(lambda: can_connect(port), what="weir listening")
    with Load(port, threads=3) as load:
        load.wait_answers(30)
        for bad, line in [(good.replace("rise 2", "rise 0"), 7),
                          (good.replace(f"server {b.addr};",
                                        f"server {b.addr} state asleep;"), 9),
                          (good.replace("    proxy http;\n",
                                        "    proxy http;\n    agent interval 1s;\n"), 6)]:
            w.write_config(bad)
            r = w.ctl("reload", check=False)
            assert r.returncode != 0, r.stdout
            assert f"{w.conf}:{line}: " in r.stderr, (r.stderr, bad)
            mark = len(w.read_log())
            w.signal(signal.SIGHUP)
            wait_log(w, rf"reload refused.*{re.escape(w.conf)}:{line}: ", mark, timeout=5)
            load.wait_answers(30)
    assert not load.failures, load.failures[:5]
    assert set(load.names()) == {"a", "b"}
    # the old config, checks included, still runs
    mark = len(w.read_log())
    backend_ctl(b, "/health/set?code=500")
    wait_log(w, rs_log(b.addr) + "real server is down", mark, timeout=5)
