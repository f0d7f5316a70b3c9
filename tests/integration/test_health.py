"""Health checking (issue 5): active checks (tcp, http), the agent, passive
checks (outlier ejection), slow start and the HTTP drain signal, as a user
sees them: which servers get new requests, how soon, what the log and the
listing say, and that no client request fails meanwhile. Real daemon, real
weir-backend servers steered through their health and control paths
(/health/set, /agent/set, /fail/set: demo/backend_routes.c), real clients."""
import re
import socket
import subprocess
import time

import pytest

from conftest import (WEIR, Load, LocalServer, backend_ctl, can_connect, free_port, json_server,
                      rs_log, svc_conf, wait_for, wait_log)

INTERVAL, FAST, TIMEOUT, RISE, FALL = 0.3, 0.1, 0.2, 2, 2
TIMING = (f"interval {int(INTERVAL * 1000)}ms fast_interval {int(FAST * 1000)}ms "
          f"rise {RISE} fall {FALL} timeout {int(TIMEOUT * 1000)}ms")
CHECK_HTTP = f"check http path /health expect 200-299 {TIMING}"
CHECK_TCP = f"check tcp {TIMING}"
# The first failing check comes within an interval (+10% jitter), the others
# at fast_interval; each may take its timeout. The slack is for a loaded CI
# machine running weir under ASan.
SLACK = 1.2
DOWN_WITHIN = INTERVAL * 1.1 + (FALL - 1) * FAST + FALL * TIMEOUT + SLACK
UP_WITHIN = INTERVAL * 1.1 + (RISE - 1) * FAST + RISE * TIMEOUT + SLACK


def start(weir, servers, extra=(), proxy="http", sched="rr", top=()):
    """weir with one service in front of <servers> (Backends or server lines);
    returns (weir, port, vip) once it listens, counters zeroed."""
    port = free_port()
    lines = [s if isinstance(s, str) else s.addr for s in servers]
    w = weir(svc_conf(port, lines, proxy=proxy, sched=sched, extra=extra, top=top))
    wait_for(lambda: can_connect(port), what="weir listening")
    w.ctl("-Z")
    return w, port, f"127.0.0.1:{port}"


def share(counts, name):
    total = sum(counts.values())
    return counts[name] / total if total else 0.0


def free_port_on(hosts):
    """A port free on every one of <hosts> (the agent port is one number
    for all the servers of a service, each on its own address)."""
    for _ in range(50):
        port = free_port(hosts[0])
        ok = True
        for h in hosts[1:]:
            with socket.socket() as s:
                try:
                    s.bind((h, port))
                except OSError:
                    ok = False
        if ok:
            return port
    raise AssertionError("no common free port")


def agent_servers(flagged, replies):
    """One backend per reply, each on its own loopback address (127.0.0.2,
    .3 ...) with its agent on the same port; returns (backends, port)."""
    hosts = [f"127.0.0.{2 + i}" for i in range(len(replies))]
    port = free_port_on(hosts)
    bs = [flagged(f"s{i}", "--agent", f"{h}:{port}", "--agent-reply", r, host=h)
          for i, (h, r) in enumerate(zip(hosts, replies))]
    return bs, port


# --- active checks -----------------------------------------------------------

@pytest.mark.parametrize("proxy,check", [("http", CHECK_HTTP), ("tcp", CHECK_TCP)])
def test_killed_server_marked_down_no_request_fails(weir, backends, proxy, check):
    """A server killed under load is down within fall x interval (+ slack);
    no request started after the kill fails (HTTP: none at all, in-flight
    GETs are retried), and the dead server gets none once it is down."""
    bs = [backends(f"b{i}") for i in range(3)]
    victim = bs[1]
    w, port, vip = start(weir, bs, [check], proxy=proxy)
    with Load(port, threads=3) as load:
        load.wait_answers(60)
        assert set(load.names()) == {"b0", "b1", "b2"}
        mark = len(w.read_log())
        t0 = time.monotonic()
        victim.kill()
        # "after the kill": once kill() has returned (it waits for the
        # process to be gone); a request started while the victim was
        # dying may have been accepted by it and reset
        t_kill = time.monotonic()
        wait_log(w, rs_log(victim.addr) + r"real server is down: check failed", mark,
                 timeout=DOWN_WITHIN + 5)
        took = time.monotonic() - t0
        t_down = time.monotonic()
        load.wait_answers(100)
    assert took <= DOWN_WITHIN, f"down after {took:.2f}s, bound {DOWN_WITHIN:.2f}s"
    late = [f for f in load.failures if f[0] >= t_kill]
    assert not late, (late[:5], w.read_log()[-2000:])
    if proxy == "http":
        assert not load.failures, load.failures[:5]
    assert len(load.failures) <= 3, load.failures   # at most the ones in flight
    after = load.names(since=t_down + 0.05)
    assert "b1" not in after and after["b0"] > 20 and after["b2"] > 20, after


def test_restarted_server_comes_back_and_ramps_up(weir, backends):
    """A server restarted is seen up again (log, listing), and with
    slow_start its share of new requests grows from well below its fair
    share to about it."""
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [f"{a.addr} weight 10", f"{b.addr} weight 10"],
                         [CHECK_HTTP, "slow_start 3s"], sched="wrr")
    with Load(port, threads=2) as load:
        load.wait_answers(40)
        mark = len(w.read_log())
        b.kill()
        wait_log(w, rs_log(b.addr) + "real server is down", mark, timeout=DOWN_WITHIN + 5)
        mark = len(w.read_log())
        t_start = time.monotonic()
        b.start()
        wait_log(w, rs_log(b.addr) + r"real server is up: check passed: HTTP 200", mark,
                 timeout=UP_WITHIN + 5)
        t_up = time.monotonic()
        assert t_up - t_start <= UP_WITHIN
        time.sleep(4.2)
    assert not load.failures, load.failures[:5]
    early, late = load.names(t_up, t_up + 1.0), load.names(t_up + 3.3, t_up + 4.2)
    assert sum(early.values()) > 30 and sum(late.values()) > 30, (early, late)
    # weight 1 growing to 10 over 3 s: about 20% of the first second, 50% at the end
    assert share(early, "b") < 0.33, (early, late)
    assert 0.4 < share(late, "b") < 0.6, (early, late)
    assert share(late, "b") > share(early, "b") + 0.15, (early, late)


def test_without_slow_start_server_takes_fair_share_at_once(weir, backends):
    """The control for the ramp above: no slow_start, full share at once."""
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [f"{a.addr} weight 10", f"{b.addr} weight 10"],
                         [CHECK_HTTP], sched="wrr")
    mark = len(w.read_log())
    b.kill()
    wait_log(w, rs_log(b.addr) + "real server is down", mark, timeout=DOWN_WITHIN + 5)
    mark = len(w.read_log())
    b.start()
    wait_log(w, rs_log(b.addr) + "real server is up", mark, timeout=UP_WITHIN + 5)
    t_up = time.monotonic()
    with Load(port, threads=2) as load:
        wait_for(lambda: time.monotonic() > t_up + 1.0, what="a second")
    early = load.names(t_up, t_up + 1.0)
    assert 0.4 < share(early, "b") < 0.6, early


def test_http_check_expect_and_body_of_health_path(weir, backends):
    """/health answering a status outside `expect` is a failed check, and
    the server goes down; answering 200 again brings it up."""
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [a, b], [CHECK_HTTP])
    mark = len(w.read_log())
    backend_ctl(b, "/health/set?code=500")
    m = wait_log(w, rs_log(b.addr) + r"real server is down: check failed: (.*)", mark,
                 timeout=DOWN_WITHIN + 5)
    assert "500" in m.group(1), m.group(0)
    with Load(port, threads=2) as load:
        load.wait_answers(40)
    assert set(load.names()) == {"a"} and not load.failures
    mark = len(w.read_log())
    backend_ctl(b, "/health/set?code=200")
    wait_log(w, rs_log(b.addr) + "real server is up", mark, timeout=UP_WITHIN + 5)
    with Load(port, threads=2) as load:
        load.wait_answers(40)
    assert set(load.names()) == {"a", "b"}


def test_server_own_check_block(weir, backends):
    """A server's own `check` in its { } block replaces the service's: here
    a tcp check on another port (nothing listens there: down), and
    `check off` exempts a server whose /health fails."""
    a, b, c = backends("a"), backends("b"), backends("c")
    backend_ctl(c, "/health/set?code=500")
    dead = free_port()
    w, port, vip = start(weir, [a, f"{b.addr} {{ check tcp port {dead} {TIMING}; }}",
                                f"{c.addr} {{ check off; }}"], [CHECK_HTTP])
    wait_log(w, rs_log(b.addr) + "real server is down", 0, timeout=DOWN_WITHIN + 5)
    time.sleep(INTERVAL * 3)
    assert not re.search(rs_log(c.addr) + "real server is down", w.read_log())
    with Load(port, threads=2) as load:
        load.wait_answers(40)
    assert set(load.names()) == {"a", "c"}, load.names()


class CannedServer(LocalServer):
    """Answers every request with the same bytes, in the pieces given (a
    short pause between them, so that they arrive in separate reads)."""

    def __init__(self, *pieces):
        self.pieces = pieces
        super().__init__()

    def handle(self, c):
        self.read_until(c, b"\r\n\r\n")
        for p in self.pieces:
            c.sendall(p)
            time.sleep(0.01)


def test_http_check_reads_bodies_and_refuses_garbage(weir, backends):
    """The http check reads answers with the proxy's HTTP parser: a body
    text split across chunks (and reads) is found, a chunked body without
    it fails the check, and a server answering something that is not HTTP
    is down with that reason in the log, -L --health and the JSON."""
    a, b, c = backends("a"), backends("b"), backends("c")
    good = CannedServer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                        b"4\r\nsta", b"t\r\n", b"5;x=y\r\nus:ok\r\n0\r\n\r\n")
    textless = CannedServer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"4\r\nstat\r\n0\r\nX: status:ok\r\n\r\n")
    garbage = CannedServer(b"SSH-2.0-OpenSSH_9.6\r\n")
    try:
        check = f"check http path /health body status:ok {TIMING}"
        w, port, vip = start(weir, [f"{s.addr} {{ {check} port {p.port}; }}" for s, p in
                                    ((a, good), (b, textless), (c, garbage))])
        mark = 0
        wait_log(w, rs_log(b.addr) + r'real server is down: check failed: HTTP 200 without '
                 r'"status:ok"', mark, timeout=DOWN_WITHIN + 5)
        wait_log(w, rs_log(c.addr) + r"real server is down: check failed: not an HTTP response",
                 mark, timeout=DOWN_WITHIN + 5)
        wait_for(lambda: json_server(w, vip, a.addr)["health"]["last"] == "HTTP 200", 5,
                 "a passed check of a")
        time.sleep(INTERVAL * 3)
        assert json_server(w, vip, a.addr)["state"] == "up"
        assert not re.search(rs_log(a.addr) + "real server is down", w.read_log())
        jc = json_server(w, vip, c.addr)
        assert jc["state"] == "down" and jc["health"]["last"] == "not an HTTP response", jc
        assert "check failed: not an HTTP response" in jc["health"]["reason"], jc
        out = w.ctl("-L", "-n", "--health").stdout
        row = next(l for l in out.splitlines() if c.addr in l)
        assert re.search(r"\bdown\b", row) and "not an HTTP response" in row, out
        with Load(port, threads=2) as load:
            load.wait_answers(30)
        assert set(load.names()) == {"a"} and not load.failures
    finally:
        for srv in (good, textless, garbage):
            srv.close()


# --- the HTTP drain signal ----------------------------------------------------

def test_http_check_drain_signal_drains_until_seen_restarted(weir, backends):
    """/health answering the drain signal (503 + X-Weir-Drain) drains the
    server: no new requests. It stays drained while /health says 200 again
    (a drain is not undone by a pass) until it is seen down and up (a
    restart)."""
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [a, b], [CHECK_HTTP])
    mark = len(w.read_log())
    backend_ctl(b, "/health/set?drain=1")
    wait_log(w, rs_log(b.addr) + r"real server is draining: .*drain signal", mark,
             timeout=DOWN_WITHIN + 5)
    t = time.monotonic()
    backend_ctl(b, "/health/set?code=200")
    with Load(port, threads=2) as load:
        wait_for(lambda: time.monotonic() > t + 3 * INTERVAL, what="some checks")
    assert set(load.names()) == {"a"} and not load.failures, load.names()
    mark = len(w.read_log())
    backend_ctl(b, "/health/set?code=500")
    wait_log(w, rs_log(b.addr) + "real server is down", mark, timeout=DOWN_WITHIN + 5)
    backend_ctl(b, "/health/set?code=200")
    wait_log(w, rs_log(b.addr) + "real server is up", mark, timeout=UP_WITHIN + 5)
    with Load(port, threads=2) as load:
        load.wait_answers(40)
    assert set(load.names()) == {"a", "b"}


# --- the agent ----------------------------------------------------------------

def test_agent_drain_stops_new_connections_open_ones_finish(weir, flagged):
    (a, b), aport = agent_servers(flagged, ["up", "up"])
    w, port, vip = start(weir, [a, b], [f"agent port {aport} interval 200ms timeout 200ms"],
                         proxy="tcp")
    held = HeldConns(port, 2)
    assert sorted(held.names) == ["s0", "s1"]
    with Load(port, threads=2) as load:
        load.wait_answers(20)
        mark = len(w.read_log())
        backend_ctl(b, "/agent/set?say=drain")
        wait_log(w, rs_log(b.addr) + r"agent: \w+ -> drain", mark, timeout=5)
        t = time.monotonic()
        load.wait_answers(60)
        assert held.ask() == held.names, "open connections stopped working"
        mark = len(w.read_log())
        t_undrain = time.monotonic()
        backend_ctl(b, "/agent/set?say=up")
        wait_log(w, rs_log(b.addr) + r"agent: drain -> up", mark, timeout=5)
        t_up = time.monotonic()
        load.wait_answers(60)
    held.close()
    assert not load.failures, load.failures[:5]
    during = load.names(t + 0.05, t_undrain)
    assert "s1" not in during and during["s0"] > 30, during
    assert load.names(since=t_up + 0.05)["s1"] > 10


def test_agent_weight_and_percentage_set_distribution(weir, flagged):
    (a, b), aport = agent_servers(flagged, ["up", "up"])
    w, port, vip = start(weir, [f"{a.addr} weight 10", f"{b.addr} weight 10"],
                         [f"agent port {aport} interval 200ms"], sched="wrr")
    mark = len(w.read_log())
    backend_ctl(b, "/agent/set?say=weight%2040")
    wait_log(w, rs_log(b.addr) + r"agent: .*weight \d+ -> 40", mark, timeout=5)
    with Load(port, threads=2) as load:
        load.wait_answers(300)
    assert 0.72 <= share(load.names(), "s1") <= 0.88, load.names()   # 40 / 50
    mark = len(w.read_log())
    backend_ctl(b, "/agent/set?say=up+50%25")
    wait_log(w, rs_log(b.addr) + r"agent: .*weight 40 -> 5\b", mark, timeout=5)
    with Load(port, threads=2) as load:
        load.wait_answers(300)
    assert 0.25 <= share(load.names(), "s1") <= 0.42, load.names()   # 5 / 15


def test_agent_down_and_maint_answers(weir, flagged):
    """`down` and `maint` take the server out with that state; `up` brings
    it back."""
    (a, b), aport = agent_servers(flagged, ["up", "up"])
    w, port, vip = start(weir, [a, b], [f"agent port {aport} interval 200ms"])
    for say, state in [("down", "down"), ("maint", "maint"), ("up", "up")]:
        mark = len(w.read_log())
        backend_ctl(b, f"/agent/set?say={say}")
        wait_log(w, rs_log(b.addr) + rf"agent: \w+ -> {say}", mark, timeout=5)
        with Load(port, threads=2) as load:
            load.wait_answers(30)
        expect = {"s0", "s1"} if say == "up" else {"s0"}
        assert set(load.names()) == expect, (say, load.names())
        assert not load.failures
        assert json_server(w, vip, b.addr)["state"] == state


def test_agent_unreadable_answer_changes_nothing_and_is_logged(weir, flagged):
    """docs/config.md: "An unreadable answer is logged and changes
    nothing"; the listing shows it as the agent's last word."""
    (a, b), aport = agent_servers(flagged, ["up", "drain"])
    w, port, vip = start(weir, [a, b], [f"agent port {aport} interval 200ms"])
    wait_log(w, rs_log(b.addr) + r"agent: \w+ -> drain", 0, timeout=5)
    backend_ctl(b, "/agent/set?say=sideways")
    wait_for(lambda: "sideways" in json_server(w, vip, b.addr)["health"]["agent"], 5,
             "the answer in the listing")
    assert "unreadable" in json_server(w, vip, b.addr)["health"]["agent"]
    assert json_server(w, vip, b.addr)["state"] == "drain"
    backend_ctl(b, "/agent/set?say=up")
    wait_log(w, rs_log(b.addr) + r"agent: drain -> up", 0, timeout=5)
    with Load(port, threads=2) as load:
        load.wait_answers(30)
    assert set(load.names()) == {"s0", "s1"}
    assert re.search(rs_log(b.addr) + r".*unreadable.*sideways", w.read_log()), w.read_log()


class AgentRecorder(LocalServer):
    """An agent written in Python: records what each check sends before
    it answers <reply> (it waits up to 0.3 s for a newline)."""

    def __init__(self, reply=b"up\n"):
        self.reply, self.heard = reply, []
        super().__init__()

    def handle(self, c):
        self.heard.append(self.read_until(c, b"\n"))
        c.sendall(self.reply)


@pytest.mark.parametrize("send", [r"hello\n", r'"hello\n"'])
def test_agent_send_text_reaches_agent(weir, backends, send):
    """`agent ... send TEXT`: the agent reads TEXT (`\n` a newline) first,
    written bare or as a quoted string."""
    a = backends("a")
    agent = AgentRecorder(b"weight 3\n")
    try:
        w, port, vip = start(weir, [a], [f"agent port {agent.port} interval 100ms send {send}"])
        wait_log(w, rs_log(a.addr) + r"agent: .*weight 1 -> 3", 0, timeout=5)
        assert agent.heard and agent.heard[0] == b"hello\n", agent.heard
    finally:
        agent.close()


def test_agent_unreachable_changes_nothing(weir, backends):
    """No agent listening: the agent is advisory, the server stays in."""
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [a, b], [f"agent port {free_port()} interval 100ms"])
    time.sleep(0.5)
    with Load(port, threads=2) as load:
        load.wait_answers(30)
    assert set(load.names()) == {"a", "b"} and not load.failures


# --- passive checks: outlier ejection ----------------------------------------

def test_http_5xx_in_a_row_eject_then_back_after_eject_time(weir, backends):
    """`outlier errors 3`: three 5xx in a row eject the server for `eject`;
    then it takes requests again (and, behaving, stays in)."""
    bs = [backends(f"b{i}") for i in range(3)]
    bad = bs[1]
    w, port, vip = start(weir, bs, ["outlier errors 3 eject 1500ms"])
    backend_ctl(bad, "/fail/set?code=500")
    mark = len(w.read_log())
    statuses = []
    for _ in range(30):     # one client, in order: rr sends every third to b1
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            statuses.append(int(s.makefile("rb").readline().split()[1]))
    m = wait_log(w, rs_log(bad.addr) + r"real server ejected for (\d+) ms after (\d+) failures",
                 mark, timeout=2)
    t_ejected = time.monotonic()
    assert (m.group(1), m.group(2)) == ("1500", "3"), m.group(0)
    assert statuses.count(500) == 3, statuses
    assert statuses[-15:] == [200] * 15, statuses
    backend_ctl(bad, "/fail/set?code=0")
    with Load(port, threads=2) as load:
        wait_log(w, rs_log(bad.addr) + "real server is back after its ejection", mark,
                 timeout=5)
        t_back = time.monotonic()
        load.wait_answers(60)
    assert t_back - t_ejected <= 1.5 + 0.5
    assert not load.failures
    assert "b1" not in load.names(until=t_back - 0.3)
    assert load.names(since=t_back + 0.05)["b1"] > 10


def test_max_ejected_caps_servers_out(weir, backends):
    """Three of four servers fail every request; `max_ejected 50%` lets
    only two be ejected: the third keeps its share (and its 500s)."""
    bs = [backends(f"b{i}") for i in range(4)]
    for b in bs[1:]:
        backend_ctl(b, "/fail/set?code=500")
    w, port, vip = start(weir, bs, ["outlier errors 2 eject 20s max_ejected 50%"])
    with Load(port, threads=2) as load:
        wait_for(lambda: len(re.findall(r"real server ejected", w.read_log())) >= 2,
                 timeout=5, what="two ejections")
        time.sleep(0.3)
        t = time.monotonic()
        load.wait_answers(60)
    ejected = set(re.findall(r"-> (\S+): real server ejected", w.read_log()))
    assert len(ejected) == 2, w.read_log()
    later = {n for tt, s, n in load.answers if tt > t}
    in_still = {b.name for b in bs[1:] if b.addr not in ejected}
    assert len(in_still) == 1
    assert any("500" in n for n in later), later         # the third still answers
    assert {n for n in later if "500" not in n} == {"b0"}, later
    assert json_server(w, vip, sorted(ejected)[0])["state"] == "ejected"


def test_tcp_failed_connects_eject_and_restart_comes_back(weir, backends):
    """TCP proxy: connects refused by a dead server eject it (clients never
    see it: the next server is tried); restarted, it is back after the
    ejection."""
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [a, b], ["outlier errors 2 eject 1s", "retries 2"],
                         proxy="tcp")
    mark = len(w.read_log())
    b.kill()
    with Load(port, threads=2) as load:
        wait_log(w, rs_log(b.addr) + r"real server ejected for 1000 ms after 2 failures",
                 mark, timeout=5)
        b.start()
        wait_log(w, rs_log(b.addr) + "real server is back after its ejection", mark,
                 timeout=5)
        t_back = time.monotonic()
        load.wait_answers(60)
    assert not load.failures, load.failures[:5]
    assert load.names(since=t_back + 0.05)["b"] > 10


# --- the listing --------------------------------------------------------------

def test_list_health_shows_states_checks_and_reasons(weir, backends):
    a, b, c = backends("a"), backends("b"), backends("c")
    w, port, vip = start(weir, [a, b, f"{c.addr} state maint"], [CHECK_HTTP])
    mark = len(w.read_log())
    b.kill()
    wait_log(w, rs_log(b.addr) + "real server is down", mark, timeout=DOWN_WITHIN + 5)
    wait_for(lambda: "HTTP 200" in json_server(w, vip, a.addr)["health"]["last"], 5,
             "a check of a")
    out = w.ctl("-L", "-n", "--health").stdout
    rows = {rip: next((l for l in out.splitlines() if rip in l), "") for rip in
            (a.addr, b.addr, c.addr)}
    assert re.search(r"\bup\b", rows[a.addr]) and "HTTP 200" in rows[a.addr], out
    assert re.search(r"\bdown\b", rows[b.addr]) and "refused" in rows[b.addr], out
    assert re.search(r"\bmaint\b", rows[c.addr]), out
    ja, jb, jc = (json_server(w, vip, x.addr) for x in (a, b, c))
    assert (ja["state"], jb["state"], jc["state"]) == ("up", "down", "maint")
    assert "HTTP 200" in ja["health"]["last"]
    assert isinstance(ja["health"]["latency_ms"], (int, float))
    assert 0 <= ja["health"]["latency_ms"] < TIMEOUT * 1000
    assert "refused" in jb["health"]["reason"] or "refused" in jb["health"]["last"], jb
    assert ja["weight"] == ja["effective_weight"] == 1


def test_effective_weight_ramps_in_listing(weir, backends):
    a, b = backends("a"), backends("b")
    w, port, vip = start(weir, [f"{a.addr} weight 100", f"{b.addr} weight 100"],
                         [CHECK_HTTP, "slow_start 2s"], sched="wrr")
    mark = len(w.read_log())
    b.kill()
    wait_log(w, rs_log(b.addr) + "real server is down", mark, timeout=DOWN_WITHIN + 5)
    b.start()
    wait_log(w, rs_log(b.addr) + "real server is up", mark, timeout=UP_WITHIN + 5)
    seen = []
    end = time.monotonic() + 3.0
    while time.monotonic() < end:
        s = json_server(w, vip, b.addr)
        seen.append(s["effective_weight"])
        assert s["weight"] == 100 and s["state"] == "up"
        time.sleep(0.2)
    assert seen[0] < 50, seen
    assert seen == sorted(seen), seen
    assert seen[-1] == 100, seen


# --- weirctl ----------------------------------------------------------------------

def test_weirctl_health_options_save_and_run(weir, backends):
    """-A/-E --check --agent --outlier --slow-start and -a/-e --check
    --state: -S prints them back, -R of that gives the same, the check runs."""
    a, b = backends("a"), backends("b")
    w = weir()
    port = free_port()
    vip = f"127.0.0.1:{port}"
    w.ctl("-A", "-t", vip, "-s", "wrr", "--proxy", "http",
          "--check", f"http path /health {TIMING}", "--agent", "port 9999 interval 2s",
          "--outlier", "errors 3 eject 5s", "--slow-start", "2s")
    w.ctl("-a", "-t", vip, "-r", a.addr, "-w", "2")
    w.ctl("-a", "-t", vip, "-r", b.addr, "--check", "tcp", "--state", "drain")
    saved = w.ctl("-S", "-n").stdout
    svc_line = next(l for l in saved.splitlines() if l.startswith("-A") and vip in l)
    assert re.search(r"--check[ =]\"?http\b.*path /health", svc_line), saved
    assert "interval 300ms" in svc_line and "fall 2" in svc_line, saved   # rise 2: default
    assert re.search(r"--agent[ =]\"?port 9999", svc_line), saved
    assert re.search(r"--outlier[ =]\"?errors 3", svc_line), saved
    assert re.search(r"--slow-start[ =](2s|2000ms)\b", svc_line), saved
    b_line = next(l for l in saved.splitlines() if l.startswith("-a") and b.addr in l)
    assert re.search(r"--check[ =]\"?tcp", b_line) and re.search(r"--state[ =]drain", b_line)
    # the check runs: /health failing on a takes it down
    mark = len(w.read_log())
    backend_ctl(a, "/health/set?code=503")
    wait_log(w, rs_log(a.addr) + "real server is down", mark, timeout=DOWN_WITHIN + 5)
    assert json_server(w, vip, b.addr)["state"] == "drain"
    # -R of -S restores the same rules
    w.ctl("-C")
    w.ctl("-R", stdin=saved)
    assert w.ctl("-S", "-n").stdout == saved
    w.ctl("-E", "-t", vip, "-s", "wrr", "--proxy", "http", "--check", "off")
    assert "--check" not in next(l for l in w.ctl("-S", "-n").stdout.splitlines()
                                 if l.startswith("-A"))


@pytest.mark.parametrize("args,msg", [
    (["--check", "bogus"], "bogus"),
    (["--check", "http interval 0"], "interval"),
    (["--agent", "interval 2s"], "port"),
    (["--outlier", "errors 0"], "errors"),
    (["--slow-start", "soon"], "soon"),
])
def test_weirctl_refuses_bad_health_options(weir, args, msg):
    w = weir()
    vip = f"127.0.0.1:{free_port()}"
    r = w.ctl("-A", "-t", vip, "--proxy", "tcp", *args, check=False)
    assert r.returncode != 0 and msg in r.stderr, (r.stdout, r.stderr)
    assert vip not in w.ctl("-L", "-n").stdout


# --- config errors ------------------------------------------------------------------

BAD_HEALTH = [
    ("check http interval 0;", "interval"),
    ("check bogus;", "bogus"),
    ("agent interval 2s;", "port"),
    ("outlier errors 0;", "errors"),
    ("check http expect 99;", "expect"),
    ("check http expect 300-200;", "expect"),
    ("check tcp rise 0;", "rise"),
    ("check http timeout 5s interval 1s;", "timeout"),
    ("check http frobnicate 3;", "frobnicate"),
    ("check http path;", "path"),
    ("agent port 70000;", "port"),
    ("agent port 99 send;", "send"),
    ("outlier errors 3 max_ejected 150%;", "max_ejected"),
    ("outlier errors 3 eject 0;", "eject"),
    ("slow_start soon;", "slow_start"),
    ("server 127.0.0.1:82 state sleepy;", "state"),
]


@pytest.mark.parametrize("line,reason", BAD_HEALTH)
def test_bad_health_config_names_file_line_reason(tmpdir_path, line, reason):
    path = f"{tmpdir_path}/c.conf"
    with open(path, "w") as f:
        f.write(f"service tcp 127.0.0.1:80 {{\n  proxy http;\n  {line}\n"
                f"  server 127.0.0.1:81;\n}}\n")
    r = subprocess.run([WEIR, "-t", "-c", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, (r.stdout, r.stderr)
    first = r.stderr.strip().splitlines()[0]
    assert first.startswith(f"{path}:3: ") and reason in first, first


def test_bad_check_in_server_block_names_its_line(tmpdir_path):
    path = f"{tmpdir_path}/c.conf"
    with open(path, "w") as f:
        f.write("service tcp 127.0.0.1:80 {\n  proxy tcp;\n  server 127.0.0.1:81 {\n"
                "    weight 2;\n    check tcp port 0;\n  }\n}\n")
    r = subprocess.run([WEIR, "-t", "-c", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and r.stderr.startswith(f"{path}:5: "), r.stderr


def test_good_health_config_is_valid(tmpdir_path):
    path = f"{tmpdir_path}/c.conf"
    with open(path, "w") as f:
        f.write("service tcp 127.0.0.1:80 {\n  proxy http;\n"
                f"  {CHECK_HTTP} method HEAD host example.org body ok jitter 5%;\n"
                "  agent port 9999 interval 500ms timeout 200ms send status;\n"
                "  outlier errors 5 eject 30s max_eject 5m max_ejected 50%;\n"
                "  slow_start 2s;\n"
                "  server 127.0.0.1:81 state maint;\n"
                "  server 127.0.0.1:82 { check tcp port 9100; }\n"
                "  server 127.0.0.1:83 { check off; }\n"
                "  pool api { check tcp; server 127.0.0.1:84 state drain; }\n"
                "}\n")
    r = subprocess.run([WEIR, "-t", "-c", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


# --- helpers --------------------------------------------------------------------------

class HeldConns:
    """<n> keep-alive HTTP/1.1 connections through a TCP proxy, each pinned
    to the server it landed on; ask() sends one more request on each."""

    def __init__(self, port, n):
        import http.client
        self.conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                      for _ in range(n)]
        self.names = self.ask()

    def ask(self):
        names = []
        for c in self.conns:
            c.request("GET", "/")
            r = c.getresponse()
            assert r.status == 200
            names.append(r.read().decode().strip())
        return names

    def close(self):
        for c in self.conns:
            c.close()
